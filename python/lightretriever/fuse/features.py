"""Per-candidate features for the learned fusion, in the exact order design.md fixes.

For each system s of `systems`: s_score, s_rank, s_minmax, s_z, s_present; then query_len, oov_share.
Missing from s: score 0.0, rank depth+1, minmax 0.0, z 0.0, present 0.0. All float64.
Both training (`fuse.learn`) and applying (`fuse.learned`) call this one function.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lightretriever.fuse.hits import SystemHits, candidates, moments, validate_hits

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
    Runs per query on the search path, so columns are filled by array indexing rather than per-doc
    dict lookups; min-max and z use the same float64 operations as `fuse.hits` (and the Java plugin).
    """
    hits = validate_hits(hits)
    doc_ids = candidates(hits)
    n = len(doc_ids)
    position = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    features = np.zeros((n, len(systems) * len(PER_SYSTEM) + len(PER_QUERY)), dtype=np.float64)
    for s, system in enumerate(systems):
        score, rank, mm, z, present = (features[:, s * len(PER_SYSTEM) + j] for j in range(len(PER_SYSTEM)))
        rank[:] = depth + 1
        ranked = hits.get(system, [])
        if not ranked:
            continue
        rows = np.fromiter((position[doc_id] for doc_id, _ in ranked), dtype=np.intp, count=len(ranked))
        values = [value for _, value in ranked]
        scores = np.array(values, dtype=np.float64)
        score[rows] = scores
        rank[rows] = np.arange(1, len(ranked) + 1, dtype=np.float64)
        present[rows] = 1.0
        lo, hi = min(values), max(values)
        mm[rows] = 1.0 if hi == lo else (scores - lo) / (hi - lo)
        mean, std = moments(values)
        z[rows] = 0.0 if std == 0.0 else (scores - mean) / std
    features[:, -2] = float(query_len)
    features[:, -1] = float(oov_share)
    return doc_ids, features
