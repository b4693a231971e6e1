"""Send the sub-queries to OpenSearch in one round trip and return each system's ranked hits.

Two strategies (measured in docs/notes/search-rewrite.md):
- `run_msearch`: one `_msearch` with a body per system; each system gets its exact top-`depth`.
- `run_named`: one bool query with named clauses and `include_named_queries_score`; cheaper on the
  wire, but the hits are the top of the SUMMED score, so a system's own top-k can be cut off.
"""

from __future__ import annotations

from opensearchpy.exceptions import NotFoundError, TransportError

from lightretriever.errors import QueryError
from lightretriever.fuse.hits import Ranked
from lightretriever.rewrite.rewriter import RewrittenQuery

MSEARCH = "msearch"
NAMED = "named"
STRATEGIES = (MSEARCH, NAMED)


def response_hits(response: dict) -> Ranked:
    return [(hit["_id"], float(hit["_score"])) for hit in response["hits"]["hits"]]


def _raise_for(index: str, error: dict | str, status: int | None = None) -> None:
    kind = error.get("type", "") if isinstance(error, dict) else ""
    reason = error.get("reason", error) if isinstance(error, dict) else error
    if kind == "index_not_found_exception" or status == 404:
        raise QueryError(f"index {index!r} does not exist")
    root = error.get("root_cause", [{}])[0].get("reason") if isinstance(error, dict) else None
    raise QueryError(f"index {index!r}: OpenSearch rejected the query: {root or reason}")


def run_msearch(client, index: str, query: RewrittenQuery) -> dict[str, Ranked]:
    try:
        response = client.msearch(body=query.msearch(index))
    except NotFoundError:
        raise QueryError(f"index {index!r} does not exist") from None
    except TransportError as exc:
        _raise_for(index, exc.info.get("error", str(exc)) if isinstance(exc.info, dict) else str(exc))
    results: dict[str, Ranked] = {}
    for system, item in zip(query.clauses, response["responses"]):
        if "error" in item:
            _raise_for(index, item["error"], item.get("status"))
        results[system] = response_hits(item)
    return results


def run_named(client, index: str, query: RewrittenQuery, size: int | None = None) -> dict[str, Ranked]:
    """Per system: the returned docs its clause matched, by that clause's score, cut at `depth`."""
    try:
        response = client.search(
            index=index, body=query.named_body(size), params={"include_named_queries_score": "true"}
        )
    except NotFoundError:
        raise QueryError(f"index {index!r} does not exist") from None
    except TransportError as exc:
        _raise_for(index, exc.info.get("error", str(exc)) if isinstance(exc.info, dict) else str(exc))
    per_system: dict[str, list[tuple[str, float]]] = {system: [] for system in query.clauses}
    for hit in response["hits"]["hits"]:
        for system, score in (hit.get("matched_queries") or {}).items():
            per_system[system].append((hit["_id"], float(score)))
    return {
        system: sorted(rows, key=lambda row: (-row[1], row[0]))[: query.depth]
        for system, rows in per_system.items()
    }


def execute(client, index: str, query: RewrittenQuery, strategy: str = MSEARCH) -> dict[str, Ranked]:
    if strategy == MSEARCH:
        return run_msearch(client, index, query)
    if strategy == NAMED:
        return run_named(client, index, query)
    raise ValueError(f"unknown strategy {strategy!r}; choose {' or '.join(STRATEGIES)}")
