"""The three sub-queries of docs/design.md ("Sub-queries"), each as a plain dict.

`filter` is any OpenSearch query clause (term, range, bool, ...) and is applied inside every clause,
so each system's top-k is computed over the filtered documents only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

DEFAULT_TEXT_FIELDS = ("title", "text")

# OpenSearch refuses a query with more than indices.query.bool.max_clause_count (1024) leaf clauses. The BM25
# sub-query has one per analysed term and text field, and a term is at least one character, so its text is
# held to BM25_MAX_CLAUSES // fields characters; the rest of the 1024 covers a filter and, in the one-body
# "named" strategy, the sparse clauses of a 64-token query. docs/design.md, "Long queries".
BM25_MAX_CLAUSES = 900


def max_query_chars(text_fields: Sequence[str] = DEFAULT_TEXT_FIELDS) -> int:
    return BM25_MAX_CLAUSES // max(1, len(text_fields))


def dense_clause(
    vector: Sequence[float] | np.ndarray, k: int, filter: Mapping | None = None, field: str = "dense"
) -> dict:
    # tolist() gives the same Python floats as float(v) per element, in one C call (~30 µs less per query)
    values = vector.tolist() if isinstance(vector, np.ndarray) else [float(v) for v in vector]
    spec: dict = {"vector": values, "k": int(k)}
    if filter is not None:
        spec["filter"] = dict(filter)
    return {"knn": {field: spec}}


def sparse_clause(counts: Mapping[str, float], filter: Mapping | None = None, field: str = "sparse") -> dict:
    """One rank_feature clause per query token id, linear function, boost = the token's count.

    Clauses are ordered by token id (numeric) so the body is deterministic for a given query.
    """
    should = [
        {"rank_feature": {"field": f"{field}.{token_id}", "linear": {}, "boost": float(count)}}
        for token_id, count in sorted(counts.items(), key=lambda item: int(item[0]))
    ]
    body: dict = {"should": should, "minimum_should_match": 1}
    if filter is not None:
        body["filter"] = [dict(filter)]
    return {"bool": body}


def bm25_clause(
    text: str, filter: Mapping | None = None, fields: Sequence[str] = DEFAULT_TEXT_FIELDS
) -> dict:
    body: dict = {"must": [{"multi_match": {"query": text, "fields": list(fields)}}]}
    if filter is not None:
        body["filter"] = [dict(filter)]
    return {"bool": body}


ID_FIELD = "doc_id"  # keyword copy of _id (mappings/index.json), read from doc values


def search_body(query: Mapping, size: int) -> dict:
    """A request body returning ids and scores only: no _source, no exact hit count.

    Ids come from the `doc_id` doc values, not `_id`: reading `_id` decompresses each hit's stored-field
    block, which also holds the large _source (vector + sparse terms), and that fetch cost 3 ms of the
    node's 3.3 ms for a 100-hit sub-query (docs/sub-queries.md). Hits carry `fields.doc_id`.
    """
    return {
        "size": int(size),
        "query": dict(query),
        "_source": False,
        "stored_fields": "_none_",
        "docvalue_fields": [ID_FIELD],
        "track_total_hits": False,
    }
