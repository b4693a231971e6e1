"""Throughput and latency of search systems under concurrent clients, side by side in one run.

    nice python bench/search.py --bundle DIR --index scifact-minilm-zeroshot \
        --dataset /work/shared/data/scifact --systems hybrid-linear,full-dense --clients 4

Every system runs the same queries against the same node with N client threads sharing one
opensearch-py client; full-dense encodes queries with the full backbone on CPU (the baseline),
the light systems with the token table. Prints and optionally writes a Markdown table.

`--node-cpus 0 --client-cpus 1` gives the node and the clients a core each, as an application server and
a search node on separate machines would have; on shared cores an encoding also waits for the node's
threads, and that wait counts in its wall time.

Extra systems (e.g. the OpenSearch plugin's server-side fusion) join through the registry in
`lightretriever.evaluate.systems`: `register_system(name, factory)`; `--register module:function`
imports a module and calls `function(register_system)` before the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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


def run_concurrent(system, texts: list[str], clients: int, k: int, rounds: int, node_pid: int | None = None) -> dict:
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
    cpu_start = (time.process_time(), _node_cpu_seconds(node_pid))
    wall_start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall_start
    cpu = _cpu_used(cpu_start, time.process_time(), node_pid)
    server = None if server_before is None else server_encode_totals(system) - server_before
    return _stats(latencies, encodes, errors, wall, server, cpu)


def run_asyncio(system, texts: list[str], clients: int, k: int, rounds: int, url: str | None,
                node_pid: int | None = None) -> dict:
    """`clients` asyncio tasks in one process share one AsyncOpenSearch client, as the requests in flight of
    an asyncio application server do. The Python rewriter's systems search through AsyncRetriever;
    full-dense runs its model in a thread pool (torch releases the GIL), as such a server would."""
    from lightretriever.client import get_async_client

    async def main() -> dict:
        client = get_async_client(url)
        try:
            search = _async_search(system, client, k, clients)
            for text in texts[:10]:  # warm-up: connection pool, caches
                await search(text)
            work: asyncio.Queue[str] = asyncio.Queue()
            for _ in range(rounds):
                for text in texts:
                    work.put_nowait(text)
            latencies: list[float] = []
            encodes: list[tuple[float, float | None]] = []
            errors = 0

            async def client_loop() -> None:
                nonlocal errors
                while not work.empty():
                    text = work.get_nowait()
                    started = time.perf_counter()
                    try:
                        encode = await search(text)
                    except Exception:  # noqa: BLE001 - counted, as in the other modes
                        errors += 1
                        continue
                    latencies.append(time.perf_counter() - started)
                    encodes.append(encode)

            server_before = server_encode_totals(system)
            cpu_start = (time.process_time(), _node_cpu_seconds(node_pid))
            wall_start = time.perf_counter()
            await asyncio.gather(*(client_loop() for _ in range(clients)))
            wall = time.perf_counter() - wall_start
            cpu = _cpu_used(cpu_start, time.process_time(), node_pid)
            server = None if server_before is None else server_encode_totals(system) - server_before
            return _stats(latencies, encodes, errors, wall, server, cpu)
        finally:
            await client.close()

    return asyncio.run(main())


def _async_search(system, client, k: int, clients: int):
    """An async `search(text) -> (encode wall, encode CPU)` for `system` over the async client."""
    from concurrent.futures import ThreadPoolExecutor

    from lightretriever.evaluate.systems import FullDenseSystem
    from lightretriever.retriever import AsyncRetriever
    from lightretriever.rewrite.dsl import dense_clause, search_body
    from lightretriever.rewrite.execute import SEARCH_FIELDS

    sync = getattr(system, "retriever", None)
    if sync is not None:
        retriever = AsyncRetriever(client, sync.index, sync.bundle, systems=sync.systems, fusion=sync.default_fusion,
                                   depth=sync.depth, strategy=sync.strategy, rewriter=sync.rewriter)

        async def search(text: str) -> tuple[float, float | None]:
            result = await retriever.search(text, k)
            return result.timings["encode"], result.timings["encode_cpu"]

        return search
    if isinstance(system, FullDenseSystem):
        pool = ThreadPoolExecutor(max_workers=clients)
        depth = max(k, system.context.depth)

        def encode(text: str) -> tuple[np.ndarray, float]:
            started = time.perf_counter()
            vector = np.asarray(system.encoder.encode_queries([text]), dtype=np.float32)[0]
            return vector, time.perf_counter() - started

        async def search(text: str) -> tuple[float, float | None]:
            vector, seconds = await asyncio.get_running_loop().run_in_executor(pool, encode, text)
            body = search_body(dense_clause(vector, depth), depth)
            await client.search(index=system.context.index, body=body, params={"filter_path": SEARCH_FIELDS})
            return seconds, None

        return search
    if callable(getattr(system, "encode_totals", None)):  # the plugin's systems: text in, fused hits out
        from lightretriever.plugin.query import lightretriever_clause

        depth = max(k, system.context.depth)

        async def search(text: str) -> tuple[float | None, float | None]:
            body = search_body(lightretriever_clause(text, system.model, depth, system.fusion), k)
            await client.search(index=system.context.index, body=body, params={"filter_path": SEARCH_FIELDS})
            return None, None  # encoded in the node: see the node's counters

        return search
    raise SystemExit(f"--asyncio runs the Python rewriter's systems, the plugin's and full-dense, not {system.name}")


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
    cpu_start = time.process_time()
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
    cpu = time.process_time() - cpu_start
    out.put((latencies, encodes, errors, server_before, server_encode_totals(system), cpu))


def run_processes(setup: dict, texts: list[str], clients: int, k: int, rounds: int, node_pid: int | None = None) -> dict:
    """`clients` separate processes (spawned, so no shared connection or GIL), timed between a barrier
    that all pass after their warm-up and the last process's finish."""
    ctx = multiprocessing.get_context("spawn")
    counter, barrier, out = ctx.Value("l", 0), ctx.Barrier(clients + 1), ctx.Queue()
    procs = [ctx.Process(target=_client_process, args=(setup, texts * rounds, k, counter, barrier, out))
             for _ in range(clients)]
    for proc in procs:
        proc.start()
    barrier.wait()
    node_start = _node_cpu_seconds(node_pid)
    wall_start = time.perf_counter()
    parts = [out.get() for _ in procs]
    wall = time.perf_counter() - wall_start
    node_cpu = None if node_start is None else _node_cpu_seconds(node_pid) - node_start
    for proc in procs:
        proc.join()
    latencies = [x for part in parts for x in part[0]]
    encodes = [x for part in parts for x in part[1]]
    server = None
    if parts[0][3] is not None:  # counters are monotonic: earliest "before" to latest "after" spans the run
        server = max((p[4] for p in parts), key=lambda t: t.count) - min((p[3] for p in parts), key=lambda t: t.count)
    return _stats(latencies, encodes, sum(part[2] for part in parts), wall, server,
                  (sum(part[5] for part in parts), node_cpu))


def _stats(latencies: list[float], encodes: list[tuple[float | None, float | None]], errors: int, wall: float,
           server=None, cpu: tuple[float, float | None] = (float("nan"), None)) -> dict:
    """Encode share = encoder time / end-to-end latency, summed over queries: in wall time (which also
    counts waiting for a core while encoding) and in the encoding thread's CPU time. For systems that
    encode in the node, `server` holds the node's counters over the run (plugin.stats.EncodeTotals).
    `cpu` is (client CPU seconds, node CPU seconds or None) over the run: cores busy = seconds / wall."""
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
        "encode_p50_ms": 1000.0 * float(np.percentile(walls, 50)) if walls else None,
        "encode_p99_ms": 1000.0 * float(np.percentile(walls, 99)) if walls else None,
        "encode_share": float(np.sum(walls) / np.sum(latencies)) if walls else None,
        "encode_cpu_mean_ms": 1000.0 * float(np.mean(cpus)) if cpus else None,
        "encode_cpu_share": float(np.sum(cpus) / np.sum(latencies)) if cpus else None,
        "client_cores": cpu[0] / wall,
        "node_cores": None if cpu[1] is None else cpu[1] / wall,
    }


def markdown(results: dict[str, dict], baseline: str | None) -> str:
    lines = [
        "| system | QPS | p50 ms | p99 ms | mean ms | encode mean ms | encode share | encode CPU ms "
        "| encode CPU share | client cores | node cores | QPS vs " + (baseline or "-") + " |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = results.get(baseline, {}).get("qps") if baseline else None
    for name, r in results.items():
        ratio = f"{r['qps'] / base:.2f}x" if base else "-"
        lines.append(
            f"| {name} | {r['qps']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['mean_ms']:.1f} "
            f"| {_cell(r, 'encode_mean_ms', '.3f')} | {_cell(r, 'encode_share', '.2%')} | {_cell(r, 'encode_cpu_mean_ms', '.3f')} "
            f"| {_cell(r, 'encode_cpu_share', '.2%')} | {_cell(r, 'client_cores', '.2f')} "
            f"| {_cell(r, 'node_cores', '.2f')} | {ratio} |"
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
    parser.add_argument(
        "--asyncio",
        action="store_true",
        help="the clients are asyncio tasks of one process (AsyncRetriever), as in an asyncio app server",
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
    parser.add_argument(
        "--node-cpus",
        metavar="LIST",
        help="pin every thread of the local node to these CPUs (e.g. 0 or 0-3) for the run, restored after; "
        "with --client-cpus this keeps the clients off the node's cores, as on separate machines",
    )
    parser.add_argument("--client-cpus", metavar="LIST", help="pin the clients (and full-dense's torch) to these CPUs")
    parser.add_argument("--out", help="write the Markdown table and JSON here (stem; .md/.json added)")
    args = parser.parse_args(argv)
    if args.processes and args.asyncio:
        parser.error("choose one client mode: --processes or --asyncio")
    node_cpus, client_cpus = _cpu_list(args.node_cpus), _cpu_list(args.client_cpus)
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)  # spawned client processes inherit it
    with _node_pinned(node_cpus):
        return _run(args, node_cpus, client_cpus)


def _run(args, node_cpus: set[int] | None, client_cpus: set[int] | None) -> int:
    _register(args.register)
    cores = len(client_cpus) if client_cpus else (os.cpu_count() or 1)
    process_torch_threads = max(1, cores // args.clients)  # --processes: N share the cores
    texts = list(load_dataset(args.dataset, args.split).queries.values())[: args.queries]
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    node_pid = None if args.opensearch else _local_node_pid()  # for the node's CPU use
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
                results[key] = run_processes(setup, texts, args.clients, args.k, args.rounds, node_pid)
            elif args.asyncio:
                if "torch" in sys.modules:  # encodings in flight share the cores, as in process mode
                    sys.modules["torch"].set_num_threads(process_torch_threads)
                results[key] = run_asyncio(systems[name], texts, args.clients, args.k, args.rounds, args.opensearch,
                                           node_pid)
            else:
                system = systems[name]
                for text in texts[:10]:  # warm-up: JIT, caches, connection pool
                    system.search(text, args.k)
                results[key] = run_concurrent(system, texts, args.clients, args.k, args.rounds, node_pid)
            print(f"{key}: {json.dumps({k: v if v is None else round(v, 4) for k, v in results[key].items()})}", file=sys.stderr)

    header = (
        f"{len(texts)} queries x {args.rounds} round(s) from {Path(args.dataset).name}/{args.split}, "
        f"{args.clients} concurrent client {_mode(args)}, k={args.k}, "
        f"depth={args.depth}, index `{args.index}`; full-dense encoder on {args.device}; torch threads "
        f"{process_torch_threads if args.processes else _torch_threads()} per "
        f"{'process' if args.processes else 'encoding' if args.asyncio else 'run'}; machine: {machine()}"
        + (f"; node pinned to CPUs {sorted(node_cpus)}" if node_cpus else "")
        + (f"; clients pinned to CPUs {sorted(client_cpus)}" if client_cpus else "")
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


def _mode(args) -> str:
    return "processes" if args.processes else "asyncio tasks in one process" if args.asyncio else "threads"


def _node_cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of the node process (all its threads), from /proc; None when unknown."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_used(start: tuple[float, float | None], client_now: float, node_pid: int | None) -> tuple[float, float | None]:
    node_now = _node_cpu_seconds(node_pid)
    return client_now - start[0], None if node_now is None or start[1] is None else node_now - start[1]


def _cpu_list(spec: str | None) -> set[int] | None:
    """'0-3,8' -> {0, 1, 2, 3, 8}."""
    if not spec:
        return None
    cpus: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def _local_node_pid() -> int | None:
    from lightretriever.node import LocalNode

    status = LocalNode().status()
    return status.get("pid") if status.get("running") else None


@contextlib.contextmanager
def _node_pinned(cpus: set[int] | None):
    """Pin every thread of the running local node (LocalNode's state) to `cpus`; threads it starts later
    inherit that from their creator. The previous affinity is put back afterwards."""
    if not cpus:
        yield
        return
    pid = _local_node_pid()
    if not pid or not Path(f"/proc/{pid}/task").is_dir():
        raise SystemExit("--node-cpus: no running local node (lightretriever node start)")
    before = os.sched_getaffinity(pid)

    def pin(target: set[int]) -> None:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.sched_setaffinity(int(task.name), target)

    pin(cpus)
    try:
        yield
    finally:
        pin(before)


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
