"""The `lightretriever` query clause, run by the plugin inside the node (encoding and fusion server-side)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opensearchpy.exceptions import TransportError

from lightretriever.errors import QueryError
from lightretriever.fuse.registry import NAMES as FUSIONS
from lightretriever.plugin.errors import query_error
from lightretriever.rewrite.dsl import search_body
from lightretriever.rewrite.execute import SEARCH_FIELDS, response_hits

SCOPES = ("index", "shard")
# The plugin names this query on every hit when the text was too long and each system searched the same
# prefix of it (docs/design.md, "Long queries"); it comes back in the hits' matched_queries.
TRUNCATED = "lightretriever_truncated"
PLUGIN_SEARCH_FIELDS = SEARCH_FIELDS + ",hits.hits.matched_queries"


@dataclass
class PluginResult:
    hits: list[tuple[str, float]]  # (doc_id, fused score), best first
    truncated: bool  # the node searched a prefix of a too-long query text


def truncated(response: Mapping) -> bool:
    """Whether a plugin `_search` response says its query text was cut (any hit carries the flag)."""
    for hit in response.get("hits", {}).get("hits", []):
        if TRUNCATED in (hit.get("matched_queries") or ()):
            return True
    return False


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
    scope: str | None = None,
) -> dict[str, Any]:
    """`{"lightretriever": {...}}` as docs/design.md fixes it; `k` is the per-system depth.

    `systems` (an extension) adds sub-queries to those the fusion needs; by default linear runs its
    weighted systems, learned its model's systems and rrf all three, as the Python evaluation does.
    `scope`: "index" (the node's default) fuses each system's top k over all shards, as Python does;
    "shard" fuses per shard (the old path: equal only on a one-shard index).
    """
    if not isinstance(text, str) or not text.strip():
        raise QueryError(f"query {text!r}: empty query")
    if fusion is not None and fusion not in FUSIONS:
        raise QueryError(f"query {text!r}: unknown fusion {fusion!r}; choose {', '.join(FUSIONS)}")
    if scope is not None and scope not in SCOPES:
        raise QueryError(f"query {text!r}: unknown scope {scope!r}; choose {', '.join(SCOPES)}")
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
    if scope is not None:
        spec["scope"] = scope
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


def search(client, index: str, model: str, text: str, *args, **kwargs) -> list[tuple[str, float]]:
    """Fused hits `[(doc_id, score)]`, best first, at most `size`; errors as QueryError with the node's reason.
    The arguments after `text` are request_body's (k, size, fusion, filter, clause options)."""
    return search_result(client, index, model, text, *args, **kwargs).hits


def search_result(client, index: str, model: str, text: str, *args, **kwargs) -> PluginResult:
    """`search`, plus whether the node cut the query text."""
    body = request_body(text, model, *args, **kwargs)
    try:
        response = client.search(index=index, body=body, params={"filter_path": PLUGIN_SEARCH_FIELDS})
    except TransportError as exc:
        raise query_error(exc, f"plugin query {text[:60]!r} on index {index!r} with model {model!r}") from None
    return PluginResult(response_hits(response), truncated(response))
