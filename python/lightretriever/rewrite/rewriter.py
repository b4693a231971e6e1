"""Text -> light query encoding -> one request body per system (dense, sparse, bm25).

`to_dsl` serialises the bodies once with json, for applications in other languages that send
them to OpenSearch themselves: as an `_msearch` payload (the default, see docs/sub-queries.md)
or as one bool query with named clauses for `include_named_queries_score`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lightretriever.encode.query import cut_query
from lightretriever.rewrite.dsl import (
    DEFAULT_TEXT_FIELDS,
    bm25_clause,
    dense_clause,
    max_query_chars,
    search_body,
    sparse_clause,
)
from lightretriever.rewrite.validate import check_filter, check_k, check_text

if TYPE_CHECKING:
    from lightretriever.bundle import Bundle
    from lightretriever.encode.query import LightQueryEncoder, QueryEncoding

log = logging.getLogger(__name__)

SYSTEMS = ("dense", "sparse", "bm25")
DEFAULT_DEPTH = 100


@dataclass
class RewrittenQuery:
    text: str  # as the caller gave it
    depth: int
    filter: Mapping | None
    clauses: dict[str, dict]  # system -> query clause, in SYSTEMS order
    encoding: QueryEncoding | None = None
    warnings: list[str] = field(default_factory=list)
    encode_seconds: float = 0.0  # time in the light query encoder alone (the "model" cost of a query)
    encode_cpu_seconds: float = 0.0  # the same span in this thread's CPU time (no waiting for a core)
    searched_text: str | None = None  # what every sub-query searches: `text`, or its prefix when too long

    @property
    def truncated(self) -> bool:
        """The query was too long and every sub-query searched a prefix of it (docs/design.md, "Long queries")."""
        return self.searched_text is not None and self.searched_text != self.text

    @property
    def query_len(self) -> float:
        return float(self.encoding.n_tokens) if self.encoding else 0.0

    @property
    def oov_share(self) -> float:
        return float(self.encoding.oov_share) if self.encoding else 0.0

    def bodies(self) -> dict[str, dict]:
        """One search body per system, each asking for its own top `depth`."""
        return {system: search_body(clause, self.depth) for system, clause in self.clauses.items()}

    def msearch(self, index: str) -> list[dict]:
        """The `_msearch` payload: header and body per system, in `clauses` order."""
        lines: list[dict] = []
        for body in self.bodies().values():
            lines += [{"index": index}, body]
        return lines

    def named_body(self, size: int | None = None) -> dict:
        """One bool query, each clause named by its system, for `include_named_queries_score=true`.

        A bool of should clauses ranks by the SUM of raw scores, so the `size` hits it returns are
        not each system's own top-k; see docs/sub-queries.md for why msearch is the default.
        """
        should = [_named(system, clause) for system, clause in self.clauses.items()]
        size = len(self.clauses) * self.depth if size is None else size
        return search_body({"bool": {"should": should, "minimum_should_match": 1}}, size)


def _named(system: str, clause: dict) -> dict:
    ((kind, spec),) = clause.items()
    if kind == "knn":  # the k-NN clause takes _name inside the field object
        ((field_name, inner),) = spec.items()
        return {"knn": {field_name: {**inner, "_name": system}}}
    return {kind: {**spec, "_name": system}}


class QueryRewriter:
    """Builds the sub-queries of design.md from text; holds no connection, so it is cheap and pure."""

    def __init__(
        self,
        encoder: LightQueryEncoder | None,
        *,
        dense_field: str = "dense",
        sparse_field: str = "sparse",
        text_fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
    ):
        self.encoder = encoder
        self.dense_field = dense_field
        self.sparse_field = sparse_field
        self.text_fields = tuple(text_fields)

    @classmethod
    def from_bundle(cls, bundle: Bundle, **kwargs) -> QueryRewriter:
        from lightretriever.encode.query import LightQueryEncoder

        return cls(LightQueryEncoder.from_bundle(bundle), **kwargs)

    def rewrite(
        self,
        text: str,
        depth: int = DEFAULT_DEPTH,
        filter: Mapping | None = None,
        systems: Sequence[str] = SYSTEMS,
    ) -> RewrittenQuery:
        check_text(text)
        check_k(depth, "depth")
        unknown = [s for s in systems if s not in SYSTEMS]
        if unknown or not systems:
            raise ValueError(f"systems {list(systems)}: choose from {', '.join(SYSTEMS)}")
        check_filter(filter)
        query = RewrittenQuery(text=text, depth=depth, filter=filter, clauses={})
        light = "dense" in systems or "sparse" in systems
        if light and self.encoder is None:
            raise ValueError("dense and sparse sub-queries need a light query encoder (a bundle)")
        started, started_cpu = time.perf_counter(), time.thread_time()
        max_chars = max_query_chars(self.text_fields)
        if self.encoder is not None:  # the same cut for every sub-query, BM25 included
            searched, ids = self.encoder.cut(text, max_chars)
        else:
            searched, ids = cut_query(text, None, 0, max_chars)
        query.searched_text = searched
        if light:
            query.encoding = self.encoder.encode_query(searched, ids)
            query.encode_seconds = time.perf_counter() - started
            query.encode_cpu_seconds = time.thread_time() - started_cpu
        if query.truncated:
            limit = f"{self.encoder.max_length} tokens or " if self.encoder is not None else ""
            message = (
                f"query {_preview(text)}: longer than {limit}{max_chars} characters; every sub-query "
                f"searched its first {len(searched)} characters"
            )
            log.warning(message)
            query.warnings.append(message)
        for system in SYSTEMS:  # fixed order, whatever order the caller listed them in
            if system not in systems:
                continue
            if system == "dense":
                clause = dense_clause(query.encoding.dense, depth, filter, self.dense_field)
            elif system == "sparse":
                clause = sparse_clause(query.encoding.sparse, filter, self.sparse_field)
            else:
                clause = bm25_clause(searched, filter, self.text_fields)
            query.clauses[system] = clause
        return query


def _preview(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def to_dsl(
    text: str,
    rewriter: QueryRewriter,
    *,
    index: str = "<index>",
    depth: int = DEFAULT_DEPTH,
    filter: Mapping | None = None,
    systems: Sequence[str] = SYSTEMS,
    form: str = "msearch",
    indent: int | None = None,
) -> str:
    """The request as JSON text, serialised once by json (the query text is never spliced in).

    form="msearch": NDJSON lines for `POST /_msearch` (header, body per system), ending in a newline.
    form="named": one body for `POST /<index>/_search?include_named_queries_score=true`.
    form="bodies": a JSON object {system: body}, for clients that send the searches one by one.
    """
    query = rewriter.rewrite(text, depth=depth, filter=filter, systems=systems)
    if form == "msearch":
        return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in query.msearch(index))
    if form == "named":
        return json.dumps(query.named_body(), ensure_ascii=False, indent=indent)
    if form == "bodies":
        return json.dumps(query.bodies(), ensure_ascii=False, indent=indent)
    raise ValueError(f"unknown DSL form {form!r}; choose msearch, named or bodies")
