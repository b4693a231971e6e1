"""HNSW recall@10: the approximate k-NN top-10 against exact brute force, both computed by OpenSearch.

Exact scores come from the k-NN plugin's `knn_score` script (every document, no graph), so the
comparison uses the same index, vectors and space as the approximate search.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lightretriever.rewrite.dsl import dense_clause, search_body
from lightretriever.rewrite.execute import response_hits


def exact_body(vector: np.ndarray, size: int, field: str = "dense", space: str = "innerproduct") -> dict:
    script = {
        "source": "knn_score",
        "lang": "knn",
        "params": {"field": field, "query_value": [float(v) for v in vector], "space_type": space},
    }
    return search_body({"script_score": {"query": {"match_all": {}}, "script": script}}, size)


def hnsw_recall(
    client, index: str, vectors: Sequence[np.ndarray], k: int = 10, depth: int = 100, field: str = "dense"
) -> float:
    """Mean |approx top-k ∩ exact top-k| / k, with the approximate query asking for `depth` neighbours
    (as the systems do) and keeping its first k."""
    if not vectors:
        return float("nan")
    overlaps = []
    for vector in vectors:
        approx = response_hits(
            client.search(index=index, body=search_body(dense_clause(vector, depth, None, field), k))
        )
        exact = response_hits(client.search(index=index, body=exact_body(vector, k, field)))
        overlaps.append(len({d for d, _ in approx[:k]} & {d for d, _ in exact[:k]}) / k)
    return float(np.mean(overlaps))
