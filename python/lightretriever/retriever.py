"""`Retriever.search(text, k, filter=None)`: light encoding -> sub-queries -> OpenSearch -> fusion.
`AsyncRetriever` does the same for asyncio applications.

No torch anywhere on this path: the query encoder is a token-table lookup.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lightretriever.fuse.hits import Ranked
from lightretriever.fuse.registry import Fusion, build_fusion
from lightretriever.rewrite.execute import MSEARCH, execute, execute_async
from lightretriever.rewrite.rewriter import DEFAULT_DEPTH, QueryRewriter, RewrittenQuery
from lightretriever.rewrite.validate import check_k


@dataclass(frozen=True)
class Hit:
    doc_id: str
    score: float


@dataclass
class SearchResult:
    """The fused hits plus what produced them; iterating it iterates the hits."""

    hits: list[Hit]
    fusion: str | None  # algorithm used after any fallback; None for a single system
    systems: dict[str, Ranked]  # each system's own ranked hits, as OpenSearch returned them
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: encode(_cpu), rewrite, search, fuse, total
    truncated: bool = False  # the query was too long: every system searched the same prefix of it (design.md)

    def __iter__(self):
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, item):
        return self.hits[item]

    def ids(self) -> list[str]:
        return [hit.doc_id for hit in self.hits]


class Retriever:
    """Searches one index with one bundle. Thread-safe for concurrent `search` calls.

    `systems` None sends the sub-queries the default fusion reads (`Fusion.systems()`: linear its weighted
    systems, learned its model's, rrf all three), the same ones the evaluation and the plugin send.
    """

    def __init__(
        self,
        client,
        index: str,
        bundle=None,
        *,
        fusion: str | None = None,
        systems: Sequence[str] | None = None,
        depth: int = DEFAULT_DEPTH,
        strategy: str = MSEARCH,
        rewriter: QueryRewriter | None = None,
    ):
        self.client = client
        self.index = index
        self.bundle = bundle
        self._fusions: dict[str | None, Fusion] = {}
        self.default_fusion = fusion
        self.systems = tuple(self.fusion(fusion).systems() if systems is None else systems)
        self.depth = check_k(depth, "depth")
        self.strategy = strategy
        needs_encoder = "dense" in self.systems or "sparse" in self.systems
        if rewriter is None:
            rewriter = QueryRewriter.from_bundle(bundle) if needs_encoder else QueryRewriter(None)
        self.rewriter = rewriter
        if len(self.systems) > 1:
            self.fusion(fusion)  # load (and validate) the model now, not on the first query

    @classmethod
    def open(cls, bundle_path: str | Path, index: str, client=None, **kwargs) -> Retriever:
        from lightretriever.bundle import Bundle
        from lightretriever.bundle.identity import check_index
        from lightretriever.client import get_client

        client, bundle = client or get_client(), Bundle.load(bundle_path)
        check_index(client, index, bundle)  # an index written by another document encoder is refused
        return cls(client, index, bundle, **kwargs)

    def fusion(self, name: str | None = None) -> Fusion:
        name = name or self.default_fusion
        if name not in self._fusions:
            manifest = self.bundle.manifest if self.bundle is not None else {}
            path = self.bundle.path if self.bundle is not None else None
            self._fusions[name] = build_fusion(name, manifest.get("fusion"), path)
        return self._fusions[name]

    def rewrite(self, text: str, k: int = 10, filter: Mapping | None = None) -> RewrittenQuery:
        k = check_k(k)
        return self.rewriter.rewrite(text, depth=max(k, self.depth), filter=filter, systems=self.systems)

    def search(
        self, text: str, k: int = 10, filter: Mapping | None = None, fusion: str | None = None
    ) -> SearchResult:
        started = time.perf_counter()
        query = self.rewrite(text, k, filter)
        sent = time.perf_counter()
        per_system = execute(self.client, self.index, query, self.strategy)
        return self.finish(query, per_system, k, fusion, (started, sent, time.perf_counter()))

    def finish(
        self,
        query: RewrittenQuery,
        per_system: dict[str, Ranked],
        k: int,
        fusion: str | None,
        times: tuple[float, float, float],
    ) -> SearchResult:
        """Fuse the systems' hits into the result; `times` = perf_counter at start, send and receipt."""
        started, sent, received = times
        if len(per_system) == 1:
            (ranked,) = per_system.values()
            used = None
        else:
            method = self.fusion(fusion)
            ranked = method(per_system, query.query_len, query.oov_share)
            used = method.name
        done = time.perf_counter()
        return SearchResult(
            hits=[Hit(doc_id, score) for doc_id, score in ranked[:k]],
            fusion=used,
            systems=per_system,
            warnings=list(query.warnings),
            truncated=query.truncated,
            timings={
                "encode": query.encode_seconds,
                "encode_cpu": query.encode_cpu_seconds,
                "rewrite": sent - started,
                "search": received - sent,
                "fuse": done - received,
                "total": done - started,
            },
        )


class AsyncRetriever:
    """`await AsyncRetriever.search(...)` for asyncio applications: the Retriever's rewrite and fusion, its
    requests sent through opensearch-py's AsyncOpenSearch (`lightretriever.client.get_async_client`).
    Many searches may be in flight at once on one event loop.

    `open` checks, as `Retriever.open` does, that the index was written by the bundle's document encoder; the
    check needs a request, so it runs on the first search (once; a refused index fails every search with
    the MappingError)."""

    def __init__(self, client, index: str, bundle=None, **kwargs):
        self.client = client
        self.retriever = Retriever(None, index, bundle, **kwargs)  # rewrite and fuse only; it never sends
        self._unchecked_bundle = None  # set by `open`: the identity check its first search awaits
        self._check_lock = asyncio.Lock()

    @classmethod
    def sharing(cls, retriever: Retriever, client) -> AsyncRetriever:
        """The same rewriter, fusion models and settings as `retriever` (nothing loaded again)."""
        shared = cls.__new__(cls)
        shared.client, shared.retriever = client, retriever
        shared._unchecked_bundle, shared._check_lock = None, asyncio.Lock()
        return shared

    @classmethod
    def open(cls, bundle_path: str | Path, index: str, client=None, **kwargs) -> AsyncRetriever:
        from lightretriever.bundle import Bundle
        from lightretriever.client import get_async_client

        bundle = Bundle.load(bundle_path)
        opened = cls(client or get_async_client(), index, bundle, **kwargs)
        opened._unchecked_bundle = bundle
        return opened

    async def check_index(self) -> None:
        """MappingError when `open`'s index was written by another document encoder than the bundle's
        (a no-op once it passed, and for a retriever built directly, as `Retriever(...)` is)."""
        if self._unchecked_bundle is None:
            return
        async with self._check_lock:
            if self._unchecked_bundle is not None:
                from lightretriever.bundle.identity import check_index_async

                await check_index_async(self.client, self.retriever.index, self._unchecked_bundle)
                self._unchecked_bundle = None

    async def search(
        self, text: str, k: int = 10, filter: Mapping | None = None, fusion: str | None = None
    ) -> SearchResult:
        await self.check_index()
        started = time.perf_counter()
        query = self.retriever.rewrite(text, k, filter)
        sent = time.perf_counter()
        per_system = await execute_async(self.client, self.retriever.index, query, self.retriever.strategy)
        return self.retriever.finish(query, per_system, k, fusion, (started, sent, time.perf_counter()))

    async def close(self) -> None:
        await self.client.close()
