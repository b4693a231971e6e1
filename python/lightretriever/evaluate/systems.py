"""Systems under evaluation, by name. Each turns query text into a ranked list via OpenSearch.

The registry is the hook for more systems: `register_system("plugin-learned", factory)` where
`factory(context) -> System` (e.g. the plugin engineer's `lightretriever.plugin.search`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from lightretriever.fuse.hits import Ranked
from lightretriever.fuse.registry import NAMES as FUSIONS
from lightretriever.retriever import Retriever
from lightretriever.rewrite.dsl import dense_clause, search_body
from lightretriever.rewrite.execute import MSEARCH, SEARCH_FIELDS, response_hits


@dataclass
class SystemRun:
    ranked: Ranked
    encode_seconds: float | None = 0.0  # time turning text into a query vector; None: done in the node
    fusion: str | None = None  # fusion actually applied, after any fallback
    encode_cpu_seconds: float | None = None  # light encoder's thread CPU time; None where not measured


class System(Protocol):
    name: str

    def search(self, text: str, k: int, filter: Mapping | None = None) -> SystemRun: ...


@dataclass
class EvalContext:
    client: object
    index: str
    bundle: object
    depth: int = 100
    strategy: str = MSEARCH
    device: str | None = None  # full-dense query encoder: None = CUDA when available, else CPU


class RetrieverSystem:
    """bm25, light-dense, light-sparse and the hybrids: the production `Retriever` path."""

    def __init__(self, name: str, retriever: Retriever):
        self.name = name
        self.retriever = retriever

    def search(self, text: str, k: int, filter: Mapping | None = None) -> SystemRun:
        result = self.retriever.search(text, k, filter)
        ranked = [(hit.doc_id, hit.score) for hit in result.hits]
        return SystemRun(ranked, result.timings["encode"], result.fusion, result.timings["encode_cpu"])


class FullDenseSystem:
    """The baseline LightRetriever replaces: the query goes through the full backbone (torch)."""

    name = "full-dense"

    def __init__(self, context: EvalContext):
        from lightretriever.encode.document import DocumentEncoder  # torch: loaded only for this system

        self.encoder = DocumentEncoder.from_bundle(context.bundle, device=context.device)
        self.context = context
        self.last_vectors: dict[str, np.ndarray] = {}  # text -> vector of the latest run, for HNSW recall

    def encode(self, text: str) -> np.ndarray:
        if text in self.last_vectors:
            return self.last_vectors[text]
        return np.asarray(self.encoder.encode_queries([text]), dtype=np.float32)[0]

    def request(self, text: str, k: int, filter: Mapping | None = None) -> tuple[dict, float]:
        """(search body, seconds spent encoding): the model runs here, the search is the caller's."""
        from lightretriever.rewrite.validate import check_k, check_text

        check_text(text)
        depth = max(check_k(k), self.context.depth)
        started = time.perf_counter()
        vector = np.asarray(self.encoder.encode_queries([text]), dtype=np.float32)[0]
        encoded = time.perf_counter() - started
        self.last_vectors[text] = vector
        return search_body(dense_clause(vector, depth, filter), depth), encoded

    def search(self, text: str, k: int, filter: Mapping | None = None) -> SystemRun:
        body, encoded = self.request(text, k, filter)
        response = self.context.client.search(
            index=self.context.index, body=body, params={"filter_path": SEARCH_FIELDS}
        )
        return SystemRun(response_hits(response)[:k], encoded)


def _retriever(name: str, systems: tuple[str, ...] | None, fusion: str | None = None):
    """`systems` None: the sub-queries the fusion reads (`Fusion.systems()`), as the plugin sends them."""

    def factory(context: EvalContext) -> System:
        retriever = Retriever(
            context.client,
            context.index,
            context.bundle,
            systems=systems,
            fusion=fusion,
            depth=context.depth,
            strategy=context.strategy,
        )
        return RetrieverSystem(name, retriever)

    return factory


SYSTEM_FACTORIES: dict[str, Callable[[EvalContext], System]] = {
    "bm25": _retriever("bm25", ("bm25",)),
    "full-dense": FullDenseSystem,
    "light-dense": _retriever("light-dense", ("dense",)),
    "light-sparse": _retriever("light-sparse", ("sparse",)),
    **{f"hybrid-{fusion}": _retriever(f"hybrid-{fusion}", None, fusion) for fusion in FUSIONS},
}
ALL_SYSTEMS = tuple(SYSTEM_FACTORIES)


def register_system(name: str, factory: Callable[[EvalContext], System]) -> None:
    """Add a system (e.g. the OpenSearch plugin's server-side fusion) to eval and bench."""
    SYSTEM_FACTORIES[name] = factory


def build_system(name: str, context: EvalContext) -> System:
    if name not in SYSTEM_FACTORIES:
        raise ValueError(f"unknown system {name!r}; choose from {', '.join(SYSTEM_FACTORIES)}")
    return SYSTEM_FACTORIES[name](context)
