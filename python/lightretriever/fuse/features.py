"""Per-candidate features for the learned fusion, in the exact order design.md fixes.

For each system s of `systems`: s_score, s_rank, s_minmax, s_z, s_present; then query_len, oov_share.
Missing from s: score 0.0, rank depth+1, minmax 0.0, z 0.0, present 0.0. All float64.
Both training (`fuse.learn`) and applying (`fuse.learned`) call this one function.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lightretriever.fuse.hits import SystemHits, candidates, minmax, ranks, validate_hits, zscore

PER_SYSTEM = ("score", "rank", "minmax", "z", "present")
PER_QUERY = ("query_len", "oov_share")


def feature_names(systems: Sequence[str]) -> list[str]:
    return [f"{system}_{name}" for system in systems for name in PER_SYSTEM] + list(PER_QUERY)


def candidate_features(
    hits: SystemHits,
    systems: Sequence[str],
    depth: int,
    query_len: float,
    oov_share: float,
) -> tuple[list[str], np.ndarray]:
    """Return (doc_ids, X) with one row per candidate (union of all systems, doc_id ascending).

    A system listed in `systems` but absent from `hits` counts as having returned nothing.
    """
    hits = validate_hits(hits)
    doc_ids = candidates(hits)
    columns: list[np.ndarray] = []
    for system in systems:
        ranked = hits.get(system, [])
        raw = dict(ranked)
        rank = ranks(ranked)
        mm = minmax(ranked)
        z = zscore(ranked)
        columns.append(np.array([raw.get(d, 0.0) for d in doc_ids], dtype=np.float64))
        columns.append(np.array([rank.get(d, depth + 1) for d in doc_ids], dtype=np.float64))
        columns.append(np.array([mm.get(d, 0.0) for d in doc_ids], dtype=np.float64))
        columns.append(np.array([z.get(d, 0.0) for d in doc_ids], dtype=np.float64))
        columns.append(np.array([1.0 if d in raw else 0.0 for d in doc_ids], dtype=np.float64))
    n = len(doc_ids)
    columns.append(np.full(n, float(query_len), dtype=np.float64))
    columns.append(np.full(n, float(oov_share), dtype=np.float64))
    features = np.column_stack(columns) if n else np.zeros((0, len(columns)), dtype=np.float64)
    return doc_ids, features
