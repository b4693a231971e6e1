"""Learned fusion: apply a LightGBM LambdaRank model (trained by `fuse.learn`) to candidate features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb

from lightretriever.errors import BundleError
from lightretriever.fuse.features import candidate_features, feature_names
from lightretriever.fuse.hits import Ranked, SystemHits, sort_fused


@dataclass(frozen=True)
class LearnedModel:
    """A LightGBM booster plus the manifest entry (`fusion.learned`) that says how to build its input."""

    booster: lgb.Booster
    systems: tuple[str, ...]
    depth: int

    @classmethod
    def from_text(cls, model_text: str, systems: Sequence[str], depth: int) -> LearnedModel:
        booster = lgb.Booster(model_str=model_text)
        expected = len(feature_names(systems))
        if booster.num_feature() != expected:
            raise BundleError(
                f"learned fusion model has {booster.num_feature()} features, manifest systems "
                f"{list(systems)} need {expected}"
            )
        return cls(booster=booster, systems=tuple(systems), depth=int(depth))

    @classmethod
    def from_manifest(cls, bundle_dir: str | Path, entry: dict) -> LearnedModel:
        """`entry` is manifest["fusion"]["learned"]; its model_file is relative to the bundle dir."""
        path = Path(bundle_dir) / entry["model_file"]
        if not path.is_file():
            raise BundleError(f"{path}: learned fusion model file named in the manifest is missing")
        names = feature_names(entry["systems"])
        if list(entry.get("features", names)) != names:
            raise BundleError(f"{path}: manifest feature list {entry.get('features')} != expected {names}")
        return cls.from_text(path.read_text(encoding="utf-8"), entry["systems"], entry["depth"])


def fuse_learned(hits: SystemHits, model: LearnedModel, query_len: float, oov_share: float) -> Ranked:
    """Raw LightGBM score per candidate; sorted descending, ties by doc_id ascending."""
    doc_ids, features = candidate_features(hits, model.systems, model.depth, query_len, oov_share)
    if not doc_ids:
        return []
    scores = model.booster.predict(features, raw_score=True, num_threads=1)
    return sort_fused({doc_id: float(score) for doc_id, score in zip(doc_ids, scores)})
