"""The `lightretriever` query clause, run by the plugin inside the node (encoding and fusion server-side)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opensearchpy.exceptions import TransportError

from lightretriever.errors import QueryError
from lightretriever.fuse.registry import NAMES as FUSIONS
from lightretriever.plugin.errors import query_error
from lightretriever.rewrite.dsl import search_body
from lightretriever.rewrite.execute import SEARCH_FIELDS, response_hits


def lightretriever_clause(
    text: str,
    model: str,
    k: int = 100,
    fusion: str | None = None,
    filter: Mapping | None = None,
    *,
    dense_field: str = "dense",
    sparse_field: str = "sparse",
    text_fields: Sequence[str] = ("title", "text"),
    systems: Sequence[str] | None = None,
) -> dict[str, Any]:
    """`{"lightretriever": {...}}` as docs/design.md fixes it; `k` is the per-system depth.

    `systems` (an extension) adds sub-queries to those the fusion needs; by default linear runs its
    weighted systems, learned its model's systems and rrf all three, as the Python evaluation does.
    """
    if not isinstance(text, str) or not text.strip():
        raise QueryError(f"query {text!r}: empty query")
    if fusion is not None and fusion not in FUSIONS:
        raise QueryError(f"query {text!r}: unknown fusion {fusion!r}; choose {', '.join(FUSIONS)}")
    spec: dict[str, Any] = {
        "query": text,
        "model": model,
        "k": int(k),
        "dense_field": dense_field,
        "sparse_field": sparse_field,
        "text_fields": list(text_fields),
    }
    if fusion is not None:
        spec["fusion"] = fusion
    if filter is not None:
        spec["filter"] = dict(filter)
    if systems is not None:
        spec["systems"] = list(systems)
    return {"lightretriever": spec}


def request_body(
    text: str,
    model: str,
    k: int = 100,
    size: int = 10,
    fusion: str | None = None,
    filter: Mapping | None = None,
    **clause_options,
) -> dict[str, Any]:
    """The `_search` body of a plugin query (`search` sends it; asyncio clients send it themselves)."""
    if size < 1 or size > 10_000:
        raise QueryError(f"query {text!r}: size must be between 1 and 10000, got {size}")
    return search_body(lightretriever_clause(text, model, k, fusion, filter, **clause_options), size)


def search(
    client,
    index: str,
    model: str,
    text: str,
    k: int = 100,
    size: int = 10,
    fusion: str | None = None,
    filter: Mapping | None = None,
    **clause_options,
) -> list[tuple[str, float]]:
    """Fused hits `[(doc_id, score)]`, best first, at most `size`; errors as QueryError with the node's reason."""
    body = request_body(text, model, k, size, fusion, filter, **clause_options)
    try:
        response = client.search(index=index, body=body, params={"filter_path": SEARCH_FIELDS})
    except TransportError as exc:
        raise query_error(exc, f"plugin query {text[:60]!r} on index {index!r} with model {model!r}") from None
    return response_hits(response)
