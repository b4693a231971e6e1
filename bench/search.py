"""Throughput and latency of search systems under concurrent clients, side by side in one run.

    nice python bench/search.py --bundle DIR --index scifact-minilm-zeroshot \
        --dataset /work/shared/data/scifact --systems hybrid-linear,full-dense --clients 4

Every system runs the same queries against the same node with N client threads sharing one
opensearch-py client; full-dense encodes queries with the full backbone on CPU (the baseline),
the light systems with the token table. Prints and optionally writes a Markdown table.

Extra systems (e.g. the OpenSearch plugin's server-side fusion) join through the registry in
`lightretriever.evaluate.systems`: `register_system(name, factory)`; `--register module:function`
imports a module and calls `function(register_system)` before the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import multiprocessing
import os
import queue
import sys
import threading
import time
from pathlib import Path

import numpy as np

from lightretriever.evaluate.dataset import load_dataset
from lightretriever.evaluate.report import machine
from lightretriever.evaluate.runner import server_encode_totals
from lightretriever.evaluate.systems import EvalContext, build_system, register_system


def timed_search(system, text: str, k: int) -> tuple[float, tuple[float | None, float | None]] | None:
    """(latency, (encode wall, encode CPU)) of one query; None when it failed (counted, not fatal: the bench
    measures the queries that ran). Encode times are None for systems that encode in the node."""
    started = time.perf_counter()
    try:
        result = system.search(text, k)
    except Exception:  # noqa: BLE001
        return None
    return time.perf_counter() - started, (result.encode_seconds, result.encode_cpu_seconds)


def run_concurrent(system, texts: list[str], clients: int, k: int, rounds: int) -> dict:
    """`clients` threads pull queries from one queue until it is empty; returns latency stats."""
    work: queue.Queue[str] = queue.Queue()
    for _ in range(rounds):
        for text in texts:
            work.put(text)
    latencies: list[float] = []
    encodes: list[tuple[float, float | None]] = []
    errors = 0
    lock = threading.Lock()

    def client_loop() -> None:
        nonlocal errors
        while True:
            try:
                text = work.get_nowait()
            except queue.Empty:
                return
            timed = timed_search(system, text, k)
            with lock:
                if timed is None:
                    errors += 1
                else:
                    latencies.append(timed[0])
                    encodes.append(timed[1])

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    server_before = server_encode_totals(system)
    wall_start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall_start
    server = None if server_before is None else server_encode_totals(system) - server_before
    return _stats(latencies, encodes, errors, wall, server)


def _client_process(setup: dict, texts: list[str], k: int, counter, barrier, out) -> None:
    """One client process: its own connection, bundle and system; then queries pulled by a shared counter."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _register(setup["register"])
    system = _build(setup["system"], _context(setup["url"], setup["index"], setup["bundle"], setup["depth"],
                                              setup["device"]))
    if "torch" in sys.modules:  # N processes share the cores: one torch thread each, as threads would
        sys.modules["torch"].set_num_threads(setup["torch_threads"])
    for text in texts[:10]:
        system.search(text, k)
    latencies, encodes, errors = [], [], 0
    barrier.wait()
    server_before = server_encode_totals(system)  # the node's counters (plugin): the earliest is kept
    while True:
        with counter.get_lock():
            i = counter.value
            counter.value += 1
        if i >= len(texts):
            break
        timed = timed_search(system, texts[i], k)
        if timed is None:
            errors += 1
        else:
            latencies.append(timed[0])
            encodes.append(timed[1])
    out.put((latencies, encodes, errors, server_before, server_encode_totals(system)))


def run_processes(setup: dict, texts: list[str], clients: int, k: int, rounds: int) -> dict:
    """`clients` separate processes (spawned, so no shared connection or GIL), timed between a barrier
    that all pass after their warm-up and the last process's finish."""
    ctx = multiprocessing.get_context("spawn")
    counter, barrier, out = ctx.Value("l", 0), ctx.Barrier(clients + 1), ctx.Queue()
    procs = [ctx.Process(target=_client_process, args=(setup, texts * rounds, k, counter, barrier, out))
             for _ in range(clients)]
    for proc in procs:
        proc.start()
    barrier.wait()
    wall_start = time.perf_counter()
    parts = [out.get() for _ in procs]
    wall = time.perf_counter() - wall_start
    for proc in procs:
        proc.join()
    latencies = [x for part in parts for x in part[0]]
    encodes = [x for part in parts for x in part[1]]
    server = None
    if parts[0][3] is not None:  # counters are monotonic: earliest "before" to latest "after" spans the run
        server = max((p[4] for p in parts), key=lambda t: t.count) - min((p[3] for p in parts), key=lambda t: t.count)
    return _stats(latencies, encodes, sum(part[2] for part in parts), wall, server)


def _stats(latencies: list[float], encodes: list[tuple[float | None, float | None]], errors: int, wall: float,
           server=None) -> dict:
    """Encode share = encoder time / end-to-end latency, summed over queries: in wall time (which also
    counts waiting for a core while encoding) and in the encoding thread's CPU time. For systems that
    encode in the node, `server` holds the node's counters over the run (plugin.stats.EncodeTotals)."""
    lat = np.array(latencies) * 1000.0
    if server is not None and server.count:
        walls = [server.wall_seconds / server.count] * server.count
        cpus = [] if server.cpu_seconds is None else [server.cpu_seconds / server.count] * server.count
    else:
        walls = [w for w, _ in encodes if w is not None]
        cpus = [c for _, c in encodes if c is not None]
    return {
        "queries": len(latencies),
        "errors": errors,
        "qps": len(latencies) / wall,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "mean_ms": float(lat.mean()),
        "encode_mean_ms": 1000.0 * float(np.mean(walls)) if walls else None,
        "encode_share": float(np.sum(walls) / np.sum(latencies)) if walls else None,
        "encode_cpu_mean_ms": 1000.0 * float(np.mean(cpus)) if cpus else None,
        "encode_cpu_share": float(np.sum(cpus) / np.sum(latencies)) if cpus else None,
    }


def markdown(results: dict[str, dict], baseline: str | None) -> str:
    lines = [
        "| system | QPS | p50 ms | p99 ms | mean ms | encode mean ms | encode share | encode CPU ms "
        "| encode CPU share | QPS vs " + (baseline or "-") + " |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = results.get(baseline, {}).get("qps") if baseline else None
    for name, r in results.items():
        ratio = f"{r['qps'] / base:.2f}x" if base else "-"
        lines.append(
            f"| {name} | {r['qps']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['mean_ms']:.1f} "
            f"| {_cell(r, 'encode_mean_ms', '.3f')} | {_cell(r, 'encode_share', '.2%')} | {_cell(r, 'encode_cpu_mean_ms', '.3f')} "
            f"| {_cell(r, 'encode_cpu_share', '.2%')} | {ratio} |"
        )
    return "\n".join(lines)


def _cell(result: dict, key: str, spec: str) -> str:
    return "–" if result.get(key) is None else format(result[key], spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--dataset", required=True, help="BEIR dataset dir; its split's queries are the load")
    parser.add_argument("--split", default="test")
    parser.add_argument(
        "--systems",
        default="hybrid-linear,hybrid-learned,light-dense,bm25,full-dense",
        help="comma-separated; `name@named` sends the sub-queries as one named-query bool",
    )
    parser.add_argument("--baseline", default="full-dense", help="system the QPS ratio is taken against")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--processes",
        action="store_true",
        help="each client is its own process (as app-server workers are) instead of a thread of one "
        "process; thread clients also measure the GIL they share",
    )
    parser.add_argument("--queries", type=int, default=300, help="first N queries of the split")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the queries per system")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the whole system list N times, interleaved (A B A B), to expose drift",
    )
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--device", default="cpu", help="full-dense query encoder device (default cpu)")
    parser.add_argument("--opensearch", metavar="URL", help="OpenSearch URL (default: the local node)")
    parser.add_argument(
        "--register",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="call FUNCTION(register_system) from MODULE to add systems (e.g. the plugin)",
    )
    parser.add_argument("--out", help="write the Markdown table and JSON here (stem; .md/.json added)")
    args = parser.parse_args(argv)

    _register(args.register)
    process_torch_threads = max(1, (os.cpu_count() or 1) // args.clients)  # --processes: N share the cores
    texts = list(load_dataset(args.dataset, args.split).queries.values())[: args.queries]
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    systems = {}
    if not args.processes:  # process clients build their own (connection, bundle, model)
        context = _context(args.opensearch, args.index, args.bundle, args.depth, args.device)
        systems = {name: _build(name, context) for name in names}

    results: dict[str, dict] = {}
    for repeat in range(1, args.repeat + 1):
        for name in names:
            key = name if repeat == 1 else f"{name} (run {repeat})"
            if args.processes:
                setup = {"system": name, "bundle": args.bundle, "index": args.index, "url": args.opensearch,
                         "depth": args.depth, "device": args.device, "register": args.register,
                         "torch_threads": process_torch_threads}
                results[key] = run_processes(setup, texts, args.clients, args.k, args.rounds)
            else:
                system = systems[name]
                for text in texts[:10]:  # warm-up: JIT, caches, connection pool
                    system.search(text, args.k)
                results[key] = run_concurrent(system, texts, args.clients, args.k, args.rounds)
            print(f"{key}: {json.dumps({k: v if v is None else round(v, 4) for k, v in results[key].items()})}", file=sys.stderr)

    header = (
        f"{len(texts)} queries x {args.rounds} round(s) from {Path(args.dataset).name}/{args.split}, "
        f"{args.clients} concurrent client {'processes' if args.processes else 'threads'}, k={args.k}, "
        f"depth={args.depth}, index `{args.index}`; full-dense encoder on {args.device}; torch threads "
        f"{process_torch_threads if args.processes else _torch_threads()} per "
        f"{'process' if args.processes else 'run'}; machine: {machine()}"
    )
    table = markdown(results, args.baseline if args.baseline in results else None)
    print(header + "\n\n" + table)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(header + "\n\n" + table + "\n", encoding="utf-8")
        out.with_suffix(".json").write_text(
            json.dumps({"setup": header, "argv": sys.argv, "results": results}, indent=2) + "\n",
            encoding="utf-8",
        )
    return 0


def _build(spec: str, context: EvalContext):
    """`name` or `name@strategy` (msearch | named): the same system with another way of sending sub-queries."""
    name, _, strategy = spec.partition("@")
    if strategy:
        context = dataclasses.replace(context, strategy=strategy)
    return build_system(name, context)


def _register(specs: list[str]) -> None:
    """--register MODULE:FUNCTION: call FUNCTION(register_system) to add systems (e.g. the plugin's)."""
    for spec in specs:
        module, _, function = spec.partition(":")
        getattr(importlib.import_module(module), function or "register_bench_systems")(register_system)


def _context(url: str | None, index: str, bundle: str, depth: int, device: str) -> EvalContext:
    from lightretriever.bundle import Bundle
    from lightretriever.client import get_client

    return EvalContext(get_client(url), index, Bundle.load(bundle), depth=depth, device=device)


def _torch_threads() -> str:
    if "torch" not in sys.modules:
        return "n/a"
    return str(sys.modules["torch"].get_num_threads())


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
