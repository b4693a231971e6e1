"""Turn per-query candidate hits plus relevance judgments into a LambdaRank training set."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lightretriever.fuse.features import candidate_features
from lightretriever.fuse.hits import SystemHits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryCandidates:
    """What one query retrieved from each system, plus the query-level features."""

    query_id: str
    hits: SystemHits
    query_len: float
    oov_share: float


@dataclass(frozen=True)
class TrainingSet:
    features: np.ndarray  # [n_candidates, n_features] float64
    labels: np.ndarray  # [n_candidates] int, graded relevance (negative grades clipped to 0)
    groups: np.ndarray  # [n_queries] candidates per query, in row order
    query_ids: list[str]
    dropped: int  # queries left out because no judged-relevant doc was among their candidates


def build_training_set(
    examples: Iterable[QueryCandidates],
    qrels: Mapping[str, Mapping[str, int]],
    systems: Sequence[str],
    depth: int,
) -> TrainingSet:
    """Queries whose candidates hold no relevant doc give LambdaRank no gradient, so they are dropped."""
    rows, labels, groups, query_ids = [], [], [], []
    dropped = 0
    for example in examples:
        judged = qrels.get(example.query_id, {})
        doc_ids, features = candidate_features(
            example.hits, systems, depth, example.query_len, example.oov_share
        )
        grades = np.array([max(0, int(judged.get(d, 0))) for d in doc_ids], dtype=np.int32)
        if not len(doc_ids) or grades.max() == 0:
            dropped += 1
            continue
        rows.append(features)
        labels.append(grades)
        groups.append(len(doc_ids))
        query_ids.append(example.query_id)
    if not rows:
        raise ValueError("no training query has a judged-relevant document among its candidates")
    if dropped:
        log.info("fusion training: %d queries had no relevant candidate and were left out", dropped)
    return TrainingSet(
        features=np.vstack(rows),
        labels=np.concatenate(labels),
        groups=np.array(groups, dtype=np.int64),
        query_ids=query_ids,
        dropped=dropped,
    )
