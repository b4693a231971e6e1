"""Fusion algorithms by name, configured from the bundle manifest's `fusion` section.

The one list of fusion names and their defaults: the CLI choices, the manifest schema and defaults,
the evaluation's `hybrid-*` systems, the plugin client and the bench all derive from `NAMES` and
`default_config()`; the Java plugin's `fusion.Fusions` holds the same facts, checked against
tests/vectors/fusion.json.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from lightretriever.fuse.hits import Ranked, SystemHits
from lightretriever.fuse.linear import DEFAULT_WEIGHTS, fuse_linear
from lightretriever.fuse.rrf import DEFAULT_K, fuse_rrf
from lightretriever.rewrite.rewriter import SYSTEMS as ALL_SYSTEMS  # every sub-query, in summation order

log = logging.getLogger(__name__)

NAMES = ("linear", "rrf", "learned")
# rrf over dense, sparse and BM25: it holds up without labels and without a tuned table, where linear
# 0.7 dense / 0.3 sparse collapses with a zero-shot table (docs/results.md, issue 12). It is also what a
# `learned` request falls back to when the bundle holds no trained model.
DEFAULT_NAME = "rrf"


def preferred_default(config: Mapping | None) -> str:
    """The fusion a bundle defaults to: `learned` once it holds a trained model (trained on a train split's
    labels; measured above rrf on SciFact, Cranfield and CISI, bench/regressions/), else the label-free rrf.
    tests/fuse/test_default_fusion.py checks this choice against every measured collection."""
    return "learned" if (config or {}).get("learned") else DEFAULT_NAME


def default_config() -> dict[str, Any]:
    """The manifest's `fusion` section of a new bundle (a fresh copy: callers may edit it)."""
    return {
        "default": DEFAULT_NAME,
        "linear": {"weights": copy.deepcopy(DEFAULT_WEIGHTS)},
        "rrf": {"k": DEFAULT_K},
        "learned": None,
    }


@dataclass(frozen=True)
class Fusion:
    """A ready-to-call fusion. `name` is the algorithm actually used (after any fallback)."""

    name: str
    requested: str
    apply: Callable[[SystemHits, float, float], Ranked]
    needs: tuple[str, ...] = ALL_SYSTEMS

    def __call__(self, hits: SystemHits, query_len: float = 0.0, oov_share: float = 0.0) -> Ranked:
        return self.apply(hits, query_len, oov_share)

    def systems(self) -> tuple[str, ...]:
        """The sub-queries this fusion reads, as the Java `Fusion.systems()`: linear its weighted
        systems, learned its model's, rrf all (also when a learned request fell back to it), so Python,
        the evaluation and the plugin send the same sub-queries."""
        return self.needs


def build_fusion(
    name: str | None = None,
    config: Mapping | None = None,
    bundle_dir: str | Path | None = None,
) -> Fusion:
    """`config` is manifest["fusion"] (defaults when None); `name` None means config["default"].

    `learned` without a trained model (config["learned"] null) falls back to `rrf` (DEFAULT_NAME) with a warning.
    """
    config = {**default_config(), **(config or {})}
    requested = name or config.get("default") or DEFAULT_NAME
    if requested not in NAMES:
        raise ValueError(f"unknown fusion {requested!r}; choose one of {', '.join(NAMES)}")
    if requested == "learned":
        entry = config.get("learned")
        if entry and bundle_dir is not None:
            from lightretriever.fuse.learned import LearnedModel, fuse_learned

            model = LearnedModel.from_manifest(bundle_dir, entry)
            return Fusion(
                "learned",
                requested,
                lambda hits, ql, oov: fuse_learned(hits, model, ql, oov),
                _in_order(model.systems),
            )
        log.warning(
            "fusion 'learned' requested but the bundle has no trained model; falling back to '%s'", DEFAULT_NAME
        )
        algorithm = DEFAULT_NAME
    else:
        algorithm = requested
    if name is None and requested == "linear" and _untuned(config):
        log.warning("the bundle's default fusion is 'linear' with the untuned 0.7/0.3 weights, measured far below "
                    "rrf without labels (docs/results.md, issue 12); pass fusion='rrf' or set fusion.default")
    if algorithm == "rrf":
        k = (config.get("rrf") or {}).get("k", DEFAULT_K)
        return Fusion("rrf", requested, _ignore_query(partial(fuse_rrf, k=k)), ALL_SYSTEMS)
    weights = dict((config.get("linear") or {}).get("weights", DEFAULT_WEIGHTS))
    needs = _in_order(s for s, w in weights.items() if w)
    return Fusion("linear", requested, _ignore_query(partial(fuse_linear, weights=weights)), needs)


def _untuned(config: Mapping) -> bool:
    return dict((config.get("linear") or {}).get("weights", DEFAULT_WEIGHTS)) == dict(DEFAULT_WEIGHTS)


def _in_order(systems) -> tuple[str, ...]:
    wanted = set(systems)
    return tuple(s for s in ALL_SYSTEMS if s in wanted)


def _ignore_query(fn: Callable[[SystemHits], Ranked]) -> Callable[[SystemHits, float, float], Ranked]:
    return lambda hits, query_len, oov_share: fn(hits)
