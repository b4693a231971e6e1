"""Train the LambdaRank fusion model with LightGBM; deterministic so a retrain gives the same file."""

from __future__ import annotations

from collections.abc import Mapping

import lightgbm as lgb
import numpy as np

from lightretriever.fuse.learn.dataset import TrainingSet

# Small trees and strong leaf minimums: SciFact train has ~800 queries with ~1 relevant doc each,
# so the model must not memorise individual queries.
DEFAULT_PARAMS = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "lambdarank_truncation_level": 20,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 0,
    "verbose": -1,
}
DEFAULT_ROUNDS = 150  # 5-fold CV on SciFact train peaked at round 141 (docs/runs/search-results.md)


def train_lambdarank(
    train: TrainingSet,
    feature_names: list[str],
    params: Mapping | None = None,
    num_rounds: int = DEFAULT_ROUNDS,
) -> lgb.Booster:
    merged = {**DEFAULT_PARAMS, **(params or {})}
    data = lgb.Dataset(train.features, train.labels, group=train.groups, feature_name=feature_names)
    return lgb.train(merged, data, num_boost_round=num_rounds)


def cross_validate(
    train: TrainingSet,
    feature_names: list[str],
    params: Mapping | None = None,
    num_rounds: int = DEFAULT_ROUNDS,
    folds: int = 5,
) -> dict[str, float]:
    """Query-grouped k-fold CV on the training split only: the first metric's mean (`ndcg@10` by
    default; whatever `params` sets otherwise) at the last round, and its best round."""
    merged = {**DEFAULT_PARAMS, **(params or {})}
    data = lgb.Dataset(train.features, train.labels, group=train.groups, feature_name=feature_names)
    result = lgb.cv(merged, data, num_boost_round=num_rounds, nfold=folds, stratified=False, seed=0)
    key = next(k for k in result if k.startswith("valid ") and k.endswith("-mean"))  # e.g. "valid ndcg@10-mean"
    metric, curve = key[len("valid ") : -len("-mean")], result[key]
    best = int(np.argmax(curve))  # every LightGBM ranking metric is higher-is-better
    return {metric: float(curve[-1]), "best_round": best + 1, f"best_{metric}": float(curve[best])}
