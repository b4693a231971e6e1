"""Fusion algorithms by name, configured from the bundle manifest's `fusion` section."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from lightretriever.fuse.hits import Ranked, SystemHits
from lightretriever.fuse.linear import DEFAULT_WEIGHTS, fuse_linear
from lightretriever.fuse.rrf import DEFAULT_K, fuse_rrf

log = logging.getLogger(__name__)

NAMES = ("linear", "rrf", "learned")
DEFAULT_CONFIG = {
    "default": "rrf",  # as bundle.manifest.DEFAULT_FUSION: the label-free default (docs/results.md, issue 12)
    "linear": {"weights": dict(DEFAULT_WEIGHTS)},
    "rrf": {"k": DEFAULT_K},
    "learned": None,
}


@dataclass(frozen=True)
class Fusion:
    """A ready-to-call fusion. `name` is the algorithm actually used (after any fallback)."""

    name: str
    requested: str
    apply: Callable[[SystemHits, float, float], Ranked]

    def __call__(self, hits: SystemHits, query_len: float = 0.0, oov_share: float = 0.0) -> Ranked:
        return self.apply(hits, query_len, oov_share)


def build_fusion(
    name: str | None = None,
    config: Mapping | None = None,
    bundle_dir: str | Path | None = None,
) -> Fusion:
    """`config` is manifest["fusion"] (defaults when None); `name` None means config["default"].

    `learned` without a trained model (config["learned"] null) falls back to `linear` with a warning.
    """
    config = {**DEFAULT_CONFIG, **(config or {})}
    requested = name or config.get("default") or "linear"
    if requested not in NAMES:
        raise ValueError(f"unknown fusion {requested!r}; choose one of {', '.join(NAMES)}")
    if requested == "learned":
        entry = config.get("learned")
        if entry and bundle_dir is not None:
            from lightretriever.fuse.learned import LearnedModel, fuse_learned

            model = LearnedModel.from_manifest(bundle_dir, entry)
            return Fusion("learned", requested, lambda hits, ql, oov: fuse_learned(hits, model, ql, oov))
        log.warning(
            "fusion 'learned' requested but the bundle has no trained model; falling back to 'linear'"
        )
    if requested == "rrf":
        k = (config.get("rrf") or {}).get("k", DEFAULT_K)
        return Fusion("rrf", requested, _ignore_query(partial(fuse_rrf, k=k)))
    weights = (config.get("linear") or {}).get("weights", DEFAULT_WEIGHTS)
    return Fusion("linear", requested, _ignore_query(partial(fuse_linear, weights=dict(weights))))


def _ignore_query(fn: Callable[[SystemHits], Ranked]) -> Callable[[SystemHits, float, float], Ranked]:
    return lambda hits, query_len, oov_share: fn(hits)
