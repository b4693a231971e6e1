"""bench/search.py's client modes: threads of one process, separate processes, asyncio tasks of one process.

Each runs one system over the queries with N concurrent clients and returns search_stats.stats().
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import importlib
import multiprocessing
import os
import queue
import sys
import threading
import time

from search_stats import RunMeter, node_cpu_seconds, stats

from lightretriever.evaluate.runner import server_encode_totals
from lightretriever.evaluate.systems import EvalContext, build_system, register_system

# After set-up every mode calls gc.freeze(), as long-running servers do after start-up: with torch loaded
# (full-dense) a full collection walks ~450k objects and stalls every client for ~240 ms, which showed up as
# a 274-284 ms p99 in one asyncio pass of run 4; without torch it walks ~60k objects in ~18 ms.


def timed_search(system, text: str, k: int) -> tuple[float, tuple[float | None, float | None]] | None:
    """(latency, (encode wall, encode CPU)) of one query; None when it failed (counted, not fatal: the bench
    measures the queries that ran). Encode times are None for systems that encode in the node."""
    started = time.perf_counter()
    try:
        result = system.search(text, k)
    except Exception:  # noqa: BLE001
        return None
    return time.perf_counter() - started, (result.encode_seconds, result.encode_cpu_seconds)


def _filled(work, texts: list[str], rounds: int):
    """`work` (a queue.Queue or an asyncio.Queue) holding every text `rounds` times, in order."""
    for _ in range(rounds):
        for text in texts:
            work.put_nowait(text)
    return work


def run_threads(system, texts: list[str], clients: int, k: int, rounds: int, node_pid: int | None = None) -> dict:
    """`clients` threads pull queries from one queue until it is empty; returns latency stats."""
    work: queue.Queue[str] = _filled(queue.Queue(), texts, rounds)
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
    meter = RunMeter(system, node_pid)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return meter.stats(latencies, encodes, errors)


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
            work: asyncio.Queue[str] = _filled(asyncio.Queue(), texts, rounds)
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

            meter = RunMeter(system, node_pid)
            await asyncio.gather(*(client_loop() for _ in range(clients)))
            return meter.stats(latencies, encodes, errors)
        finally:
            await client.close()

    return asyncio.run(main())


def _async_search(system, client, k: int, clients: int):
    """An async `search(text) -> (encode wall, encode CPU)` for `system` over the async client; each system
    builds its request exactly as its blocking `search` does."""
    from concurrent.futures import ThreadPoolExecutor

    from lightretriever.evaluate.systems import FullDenseSystem
    from lightretriever.retriever import AsyncRetriever
    from lightretriever.rewrite.execute import SEARCH_FIELDS

    sync = getattr(system, "retriever", None)
    if sync is not None:
        retriever = AsyncRetriever.sharing(sync, client)

        async def search(text: str) -> tuple[float, float | None]:
            result = await retriever.search(text, k)
            return result.timings["encode"], result.timings["encode_cpu"]

        return search
    if isinstance(system, FullDenseSystem):
        pool = ThreadPoolExecutor(max_workers=clients)

        async def search(text: str) -> tuple[float, float | None]:
            body, seconds = await asyncio.get_running_loop().run_in_executor(pool, system.request, text, k)
            await client.search(index=system.context.index, body=body, params={"filter_path": SEARCH_FIELDS})
            return seconds, None

        return search
    if callable(getattr(system, "request_body", None)):  # the plugin's systems: text in, fused hits out

        async def search(text: str) -> tuple[float | None, float | None]:
            body = system.request_body(text, k)
            await client.search(index=system.context.index, body=body, params={"filter_path": SEARCH_FIELDS})
            return None, None  # encoded in the node: see the node's counters

        return search
    raise SystemExit(f"--asyncio runs the Python rewriter's systems, the plugin's and full-dense, not {system.name}")


def _client_process(setup: dict, texts: list[str], k: int, counter, barrier, out) -> None:
    """One client process: its own connection, bundle and system; then queries pulled by a shared counter."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    register(setup["register"])
    system = build(setup["system"], eval_context(setup["url"], setup["index"], setup["bundle"], setup["depth"],
                                              setup["device"]))
    if "torch" in sys.modules:  # N processes share the cores: one torch thread each, as threads would
        sys.modules["torch"].set_num_threads(setup["torch_threads"])
    for text in texts[:10]:
        system.search(text, k)
    gc.freeze()  # as the parent does in the other modes (see the top of this file)
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
    node_start = node_cpu_seconds(node_pid)
    wall_start = time.perf_counter()
    parts = [out.get() for _ in procs]
    wall = time.perf_counter() - wall_start
    node_cpu = None if node_start is None else node_cpu_seconds(node_pid) - node_start
    for proc in procs:
        proc.join()
    latencies = [x for part in parts for x in part[0]]
    encodes = [x for part in parts for x in part[1]]
    server = None
    if parts[0][3] is not None:  # counters are monotonic: earliest "before" to latest "after" spans the run
        server = max((p[4] for p in parts), key=lambda t: t.count) - min((p[3] for p in parts), key=lambda t: t.count)
    return stats(latencies, encodes, sum(part[2] for part in parts), wall, server,
                  (sum(part[5] for part in parts), node_cpu))


def build(spec: str, context: EvalContext):
    """`name` or `name@strategy` (msearch | named): the same system with another way of sending sub-queries."""
    name, _, strategy = spec.partition("@")
    if strategy:
        context = dataclasses.replace(context, strategy=strategy)
    return build_system(name, context)


def register(specs: list[str]) -> None:
    """--register MODULE:FUNCTION: call FUNCTION(register_system) to add systems (e.g. the plugin's)."""
    for spec in specs:
        module, _, function = spec.partition(":")
        getattr(importlib.import_module(module), function or "register_bench_systems")(register_system)


def eval_context(url: str | None, index: str, bundle: str, depth: int, device: str) -> EvalContext:
    from lightretriever.bundle import Bundle
    from lightretriever.client import get_client

    return EvalContext(get_client(url), index, Bundle.load(bundle), depth=depth, device=device)
