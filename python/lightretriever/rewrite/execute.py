"""Send the sub-queries to OpenSearch in one round trip and return each system's ranked hits.

Two strategies (measured in docs/sub-queries.md):
- `run_msearch`: one `_msearch` with a body per system; each system gets its exact top-`depth`.
- `run_named`: one bool query with named clauses and `include_named_queries_score`; cheaper on the
  wire, but the hits are the top of the SUMMED score, so a system's own top-k can be cut off.
"""

from __future__ import annotations

from opensearchpy.exceptions import NotFoundError, TransportError

from lightretriever.client import access_error
from lightretriever.errors import QueryError
from lightretriever.fuse.hits import Ranked
from lightretriever.rewrite.dsl import ID_FIELD
from lightretriever.rewrite.rewriter import RewrittenQuery

MSEARCH = "msearch"
NAMED = "named"
STRATEGIES = (MSEARCH, NAMED)

# Responses trimmed to what fusion reads (ids and scores), which saves JSON work on the node and in the
# client. A search with no hits then comes back without "hits" at all.
SEARCH_FIELDS = "hits.hits._id,hits.hits._score,hits.hits.fields." + ID_FIELD
MSEARCH_FIELDS = ",".join(f"responses.{path}" for path in SEARCH_FIELDS.split(",")) + ",responses.error,responses.status"
NAMED_FIELDS = SEARCH_FIELDS + ",hits.hits.matched_queries"


def hit_id(hit: dict) -> str:
    """The document id of a hit: `fields.doc_id` for search_body's requests, else `_id`."""
    fields = hit.get("fields")
    if fields and fields.get(ID_FIELD):
        return fields[ID_FIELD][0]
    if "_id" in hit:
        return hit["_id"]
    raise QueryError(
        f"a hit from index {hit.get('_index', '?')!r} has neither a {ID_FIELD!r} doc value nor an _id; "
        f"documents must be indexed with {ID_FIELD} (docs/design.md, index fields)"
    )


def response_hits(response: dict) -> Ranked:
    return [(hit_id(hit), float(hit["_score"])) for hit in response.get("hits", {}).get("hits", [])]


def _raise_for(index: str, error: dict | str, status: int | None = None) -> None:
    kind = error.get("type", "") if isinstance(error, dict) else ""
    reason = error.get("reason", error) if isinstance(error, dict) else error
    if kind == "index_not_found_exception" or status == 404:
        raise QueryError(f"index {index!r} does not exist")
    root = error.get("root_cause", [{}])[0].get("reason") if isinstance(error, dict) else None
    raise QueryError(f"index {index!r}: OpenSearch rejected the query: {root or reason}")


def run_msearch(client, index: str, query: RewrittenQuery) -> dict[str, Ranked]:
    try:
        response = client.msearch(body=query.msearch(index), params={"filter_path": MSEARCH_FIELDS})
    except TransportError as exc:
        _raise_for_transport(index, exc)
    return _msearch_results(index, query, response)


def run_named(client, index: str, query: RewrittenQuery, size: int | None = None) -> dict[str, Ranked]:
    """Per system: the returned docs its clause matched, by that clause's score, cut at `depth`."""
    try:
        response = client.search(index=index, body=query.named_body(size), params=NAMED_PARAMS)
    except TransportError as exc:
        _raise_for_transport(index, exc)
    return _named_results(query, response)


def execute(client, index: str, query: RewrittenQuery, strategy: str = MSEARCH) -> dict[str, Ranked]:
    if strategy == MSEARCH:
        return run_msearch(client, index, query)
    if strategy == NAMED:
        return run_named(client, index, query)
    raise ValueError(f"unknown strategy {strategy!r}; choose {' or '.join(STRATEGIES)}")


async def execute_async(client, index: str, query: RewrittenQuery, strategy: str = MSEARCH) -> dict[str, Ranked]:
    """execute() with opensearch-py's AsyncOpenSearch: the same requests, errors and results."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose {' or '.join(STRATEGIES)}")
    try:
        if strategy == MSEARCH:
            response = await client.msearch(body=query.msearch(index), params={"filter_path": MSEARCH_FIELDS})
        else:
            response = await client.search(index=index, body=query.named_body(), params=NAMED_PARAMS)
    except TransportError as exc:
        _raise_for_transport(index, exc)
    if strategy == MSEARCH:
        return _msearch_results(index, query, response)
    return _named_results(query, response)


NAMED_PARAMS = {"include_named_queries_score": "true", "filter_path": NAMED_FIELDS}


def _raise_for_transport(index: str, exc: TransportError) -> None:
    denied = access_error(exc)  # TLS trust, 401, 403: not the query's fault
    if denied is not None:
        raise denied from None
    if isinstance(exc, NotFoundError):
        raise QueryError(f"index {index!r} does not exist") from None
    _raise_for(index, exc.info.get("error", str(exc)) if isinstance(exc.info, dict) else str(exc))


def _msearch_results(index: str, query: RewrittenQuery, response: dict) -> dict[str, Ranked]:
    results: dict[str, Ranked] = {}
    for system, item in zip(query.clauses, response["responses"], strict=True):
        if "error" in item:
            _raise_for(index, item["error"], item.get("status"))
        results[system] = response_hits(item)
    return results


def _named_results(query: RewrittenQuery, response: dict) -> dict[str, Ranked]:
    per_system: dict[str, list[tuple[str, float]]] = {system: [] for system in query.clauses}
    for hit in response.get("hits", {}).get("hits", []):
        for system, score in (hit.get("matched_queries") or {}).items():
            per_system[system].append((hit_id(hit), float(score)))
    return {
        system: sorted(rows, key=lambda row: (-row[1], row[0]))[: query.depth]
        for system, rows in per_system.items()
    }
