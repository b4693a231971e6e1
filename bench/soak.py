"""Soak: N clients mixing searches and ingest against the node for a fixed time, watching for anything that grows.

    nice python bench/soak.py --bundle DIR --index scifact --dataset /work/shared/data/scifact \
        --minutes 30 --clients 4 --out docs/runs/soak

Each client thread loops until the time is up: with probability --ingest-share it writes a bulk of --bulk-docs
documents (copied, vectors included, from the searched index) into a scratch index `<prefix>-<pid>`,
else it searches with the Python Retriever (hybrid, --fusion), or through the plugin when --plugin-model is
given (the two alternate). Ingest ids wrap at --ingest-docs, so the scratch index stays bounded (later bulks
overwrite, which also makes deletes and merges); it is deleted at the end. The run stops by itself at
--minutes, or early after --max-errors errors.

Every --window seconds it records, per window: operations and errors per kind, search p50/p99, the node's heap
after the last GC (the old and survivor pools' `last_gc_stats` from `_nodes/stats/jvm`), heap used, GC count
and segment count, and this process's RSS. The report compares the
last quarter of the windows with the second quarter (after warm-up) and says, per series, whether it grew.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lightretriever.bundle import Bundle
from lightretriever.client import get_client
from lightretriever.evaluate.dataset import load_dataset
from lightretriever.evaluate.report import machine
from lightretriever.ingest.bulk import Action, BulkWriter
from lightretriever.mappings import create_index
from lightretriever.plugin import search as plugin_search
from lightretriever.retriever import Retriever

# A series "grows" when its late median exceeds the post-warm-up median by more than this share (and by
# more than its own noise floor: GROWTH_FLOOR for the byte series).
GROWTH_SHARE = 0.20
GROWTH_FLOOR = {"heap_after_gc_mb": 16.0, "client_rss_mb": 16.0, "search_p99_ms": 5.0}


@dataclass
class Window:
    """Counters of the current window, filled by the clients under `lock`."""

    search_latencies: list[float] = field(default_factory=list)
    searches: int = 0
    ingests: int = 0
    ingested_docs: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)


class Soak:
    def __init__(self, args):
        self.args = args
        self.client = get_client(args.opensearch)
        self.bundle = Bundle.load(args.bundle)
        self.retriever = Retriever(self.client, args.index, self.bundle, fusion=args.fusion)
        self.queries = list(load_dataset(args.dataset, args.split).queries.values())
        self.scratch = f"{args.scratch_prefix}-{os.getpid()}"
        self.lock = threading.Lock()
        self.window = Window()
        self.total_errors = 0
        self.stop = threading.Event()
        self.source_docs = self._source_docs(args.ingest_docs)

    def _source_docs(self, n: int) -> list[dict]:
        """Up to n documents of the searched index, with their vectors, for the ingest clients to copy."""
        body = {"size": min(n, 10_000), "query": {"match_all": {}}, "_source": ["doc_id", "title", "text", "dense", "sparse"]}
        hits = self.client.search(index=self.args.index, body=body)["hits"]["hits"]
        if not hits:
            raise SystemExit(f"index {self.args.index!r} has no documents to copy")
        return [hit["_source"] for hit in hits]

    # ---- clients -------------------------------------------------------------------------------------

    def client_loop(self, seed: int) -> None:
        rng = random.Random(seed)
        writer = BulkWriter(self.client, self.scratch, max_retries=2, initial_backoff=0.5)
        use_plugin = False
        while not self.stop.is_set():
            try:
                if rng.random() < self.args.ingest_share:
                    written = self._ingest(writer, rng)
                    with self.lock:
                        self.window.ingests += 1
                        self.window.ingested_docs += written
                else:
                    text = rng.choice(self.queries)
                    started = time.perf_counter()
                    if self.args.plugin_model and use_plugin:
                        plugin_search(self.client, self.args.index, self.args.plugin_model, text, size=self.args.k)
                    else:
                        self.retriever.search(text, self.args.k)
                    use_plugin = not use_plugin
                    latency = time.perf_counter() - started
                    with self.lock:
                        self.window.searches += 1
                        self.window.search_latencies.append(latency)
            except Exception as exc:  # noqa: BLE001 - a soak counts every failure and carries on
                with self.lock:
                    self.window.errors += 1
                    self.total_errors += 1
                    if len(self.window.error_samples) < 3:
                        self.window.error_samples.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                    if self.total_errors >= self.args.max_errors:
                        self.stop.set()

    def _ingest(self, writer: BulkWriter, rng: random.Random) -> int:
        actions = []
        for _ in range(self.args.bulk_docs):
            slot = rng.randrange(self.args.ingest_docs)  # ids wrap: the scratch index stays bounded
            doc = dict(self.source_docs[slot % len(self.source_docs)], doc_id=f"soak-{slot}")
            actions.append(Action(doc["doc_id"], slot, json.dumps(doc).encode("utf-8")))
        result = writer.write(actions)
        if result.failures:
            raise RuntimeError(f"bulk: {len(result.failures)} documents refused, e.g. {result.failures[0]}")
        return result.written

    # ---- sampling ------------------------------------------------------------------------------------

    def node_sample(self) -> dict:
        stats = self.client.nodes.stats(node_id="_local", metric="jvm,indices", params={"filter_path": (
            "nodes.*.jvm.mem.heap_used_in_bytes,nodes.*.jvm.mem.pools.*.last_gc_stats.used_in_bytes,"
            "nodes.*.jvm.gc.collectors,nodes.*.indices.segments.count")})
        (node,) = stats["nodes"].values()
        pools = node["jvm"]["mem"]["pools"]
        after_gc = sum(pools.get(p, {}).get("last_gc_stats", {}).get("used_in_bytes", 0) for p in ("old", "survivor"))
        collectors = node["jvm"]["gc"]["collectors"]
        return {
            "heap_after_gc_mb": after_gc / 2**20,
            "heap_used_mb": node["jvm"]["mem"]["heap_used_in_bytes"] / 2**20,
            "gc_count": sum(c["collection_count"] for c in collectors.values()),
            "segments": node["indices"]["segments"]["count"],
        }

    def run(self) -> dict:
        create_index(self.client, self.scratch, self.bundle.dense_dim)
        threads = [threading.Thread(target=self.client_loop, args=(seed,), daemon=True) for seed in range(self.args.clients)]
        windows: list[dict] = []
        started = time.monotonic()
        deadline = started + 60.0 * self.args.minutes
        try:
            for thread in threads:
                thread.start()
            while not self.stop.is_set():
                remaining = deadline - time.monotonic()
                self.stop.wait(min(self.args.window, max(0.0, remaining)))
                if time.monotonic() >= deadline:
                    self.stop.set()
                with self.lock:
                    window, self.window = self.window, Window()
                windows.append(self._record(window, time.monotonic() - started))
                print(json.dumps(windows[-1]), file=sys.stderr)
            for thread in threads:
                thread.join(timeout=120)
        finally:
            self.stop.set()
            scratch_docs = self.client.count(index=self.scratch)["count"] if self.client.indices.exists(index=self.scratch) else 0
            self.client.indices.delete(index=self.scratch, ignore_unavailable=True)
        return self._report(windows, time.monotonic() - started, scratch_docs)

    def _record(self, window: Window, elapsed: float) -> dict:
        lat = np.array(window.search_latencies) * 1000.0
        row = {
            "t_s": round(elapsed, 1),
            "searches": window.searches,
            "ingests": window.ingests,
            "ingested_docs": window.ingested_docs,
            "errors": window.errors,
            "search_p50_ms": float(np.percentile(lat, 50)) if lat.size else None,
            "search_p99_ms": float(np.percentile(lat, 99)) if lat.size else None,
            "client_rss_mb": rss_mb(),
            **self.node_sample(),
        }
        if window.error_samples:
            row["error_samples"] = window.error_samples
        return row

    def _report(self, windows: list[dict], wall: float, scratch_docs: int) -> dict:
        growth = {name: trend([w[name] for w in windows], floor) for name, floor in GROWTH_FLOOR.items()}
        return {
            "setup": dict(vars(self.args)),
            "machine": machine(),
            "wall_s": round(wall, 1),
            "totals": {
                "searches": sum(w["searches"] for w in windows),
                "ingests": sum(w["ingests"] for w in windows),
                "ingested_docs": sum(w["ingested_docs"] for w in windows),
                "errors": sum(w["errors"] for w in windows),
                "scratch_index_docs_at_end": scratch_docs,
            },
            "growth": growth,
            "grows": sorted(name for name, g in growth.items() if g["grows"]),
            "windows": windows,
        }


def trend(values: list[float | None], floor: float) -> dict:
    """Median of the second quarter of the windows (after warm-up) against the last quarter's; it grows when
    the late one is GROWTH_SHARE and `floor` above the early one."""
    values = [v for v in values if v is not None]
    if len(values) < 4:
        return {"early": None, "late": None, "change": None, "grows": False, "windows": len(values)}
    quarter = len(values) // 4
    early = float(np.median(values[quarter : 2 * quarter]))
    late = float(np.median(values[-quarter:]))
    grows = late > early * (1 + GROWTH_SHARE) and late - early > floor
    return {"early": early, "late": late, "change": (late - early) / early if early else None,
            "grows": bool(grows), "windows": len(values)}


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def markdown(report: dict) -> str:
    t = report["totals"]
    lines = [
        (f"Soak: {report['setup']['clients']} clients, {report['wall_s']:.0f} s, {t['searches']} searches, "
        f"{t['ingests']} bulks ({t['ingested_docs']} docs), {t['errors']} errors; machine: {report['machine']}"),
        "",
        "| series | after warm-up (median, 2nd quarter) | end (median, last quarter) | change | grows |",
        "|---|---|---|---|---|",
    ]
    for name, g in report["growth"].items():
        if g["early"] is None:
            lines.append(f"| {name} | - | - | - | too few windows |")
            continue
        change = f"{100 * g['change']:+.1f}%" if g["change"] is not None else "-"
        lines.append(f"| {name} | {g['early']:.1f} | {g['late']:.1f} | {change} | {'YES' if g['grows'] else 'no'} |")
    lines += ["", ("| t s | searches | bulks | errors | p50 ms | p99 ms | node heap after GC MB | heap used MB "
              "| segments | client RSS MB |"), "|---|---|---|---|---|---|---|---|---|---|"]
    for w in report["windows"]:
        p50 = "-" if w["search_p50_ms"] is None else f"{w['search_p50_ms']:.1f}"
        p99 = "-" if w["search_p99_ms"] is None else f"{w['search_p99_ms']:.1f}"
        lines.append(f"| {w['t_s']:.0f} | {w['searches']} | {w['ingests']} | {w['errors']} | {p50} | {p99} "
                     f"| {w['heap_after_gc_mb']:.1f} | {w['heap_used_mb']:.1f} | {w['segments']} | {w['client_rss_mb']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--index", required=True, help="index searched (read only) and copied from for ingest")
    parser.add_argument("--dataset", required=True, help="BEIR dataset dir; its split's queries are the searches")
    parser.add_argument("--split", default="test")
    parser.add_argument("--minutes", type=float, default=30.0, help="run time (default 30); the run then stops")
    parser.add_argument("--window", type=float, default=60.0, help="seconds per recorded window (default 60)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--ingest-share", type=float, default=0.1, help="share of client operations that ingest")
    parser.add_argument("--bulk-docs", type=int, default=50)
    parser.add_argument("--ingest-docs", type=int, default=2000, help="distinct ids ingested (the scratch index bound)")
    parser.add_argument("--scratch-prefix", default="soak", help="the scratch index is PREFIX-<pid> (default soak)")
    parser.add_argument("--fusion", default="rrf")
    parser.add_argument("--plugin-model", help="also search through the plugin with this registered model")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--max-errors", type=int, default=100, help="stop early after this many errors")
    parser.add_argument("--opensearch", metavar="URL", help="OpenSearch URL (default: $LIGHTRETRIEVER_OPENSEARCH_URL)")
    parser.add_argument("--out", help="write the report here (stem; .md and .json added)")
    args = parser.parse_args(argv)
    report = Soak(args).run()
    text = markdown(report)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps({"argv": sys.argv, **report}, indent=2) + "\n", encoding="utf-8")
    return 0 if report["totals"]["errors"] == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
