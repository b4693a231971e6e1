"""Run one system over a dataset's queries, one at a time, timing each query end to end."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from lightretriever.errors import AccessError, LightRetrieverError
from lightretriever.evaluate.dataset import Dataset
from lightretriever.evaluate.metrics import aggregate
from lightretriever.evaluate.systems import System
from lightretriever.fuse.hits import Ranked

log = logging.getLogger(__name__)


@dataclass
class SystemResult:
    name: str
    metrics: dict[str, float]
    latency_ms: dict[str, float]  # p50, p99, mean over the measured queries
    qps: float  # sequential, one client: queries / summed latency
    encode_share: float  # share of the latency spent encoding the query text
    queries: int
    errors: dict[str, str] = field(default_factory=dict)  # query id -> reason (the query scores 0)
    fusion: str | None = None
    hnsw_recall_at_10: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def run_system(system: System, dataset: Dataset, k: int = 100, warmup: int = 5, progress: bool = True):
    """Returns (run {query id: ranked hits}, SystemResult). A failing query is recorded, not fatal."""
    items = list(dataset.queries.items())
    for _, text in items[:warmup]:  # JIT, caches and connections; not timed
        try:
            system.search(text, k)
        except AccessError:  # TLS trust or credentials: every query would fail the same way
            raise
        except LightRetrieverError:
            pass
    run: dict[str, Ranked] = {}
    latencies, encodes, errors, fusions = [], [], {}, set()
    server_before = server_encode_totals(system)
    for qid, text in tqdm(items, desc=system.name, unit="q", disable=not progress, leave=False):
        started = time.perf_counter()
        try:
            result = system.search(text, k)
        except AccessError:
            raise
        except LightRetrieverError as exc:
            errors[qid] = str(exc)
            log.warning("%s: query %s skipped: %s", system.name, qid, exc)
            continue
        latencies.append(time.perf_counter() - started)
        encodes.append(result.encode_seconds)
        run[qid] = result.ranked
        fusions.add(result.fusion)
    lat = np.array(latencies) * 1000.0 if latencies else np.array([np.nan])
    total = float(np.sum(latencies)) if latencies else float("nan")
    if server_before is not None:  # encoded in the node: its counters over the run replace per-query times
        encodes = [(server_encode_totals(system) - server_before).wall_seconds]
    return run, SystemResult(
        name=system.name,
        metrics=aggregate(run, dataset.qrels),
        latency_ms={
            "p50": float(np.percentile(lat, 50)),
            "p99": float(np.percentile(lat, 99)),
            "mean": float(np.mean(lat)),
        },
        qps=len(latencies) / total if latencies and total > 0 else float("nan"),
        encode_share=float(np.sum(encodes)) / total if latencies and total > 0 else float("nan"),
        queries=len(items),
        errors=errors,
        fusion=next(iter(fusions)) if len(fusions) == 1 else None,
    )


def server_encode_totals(system: System):
    """The node's encoding counters for systems that encode server-side (the plugin's), else None."""
    totals = getattr(system, "encode_totals", None)
    return totals() if callable(totals) else None
