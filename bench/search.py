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
import contextlib
import gc
import json
import os
import sys
from pathlib import Path

from search_clients import build, eval_context, register, run_asyncio, run_processes, run_threads
from search_stats import markdown

from lightretriever.evaluate.dataset import load_dataset
from lightretriever.evaluate.report import machine


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
    register(args.register)
    cores = len(client_cpus) if client_cpus else (os.cpu_count() or 1)
    process_torch_threads = max(1, cores // args.clients)  # --processes: N share the cores
    texts = list(load_dataset(args.dataset, args.split).queries.values())[: args.queries]
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    node_pid = None if args.opensearch else _local_node_pid()  # for the node's CPU use
    systems = {}
    if not args.processes:  # process clients build their own (connection, bundle, model)
        context = eval_context(args.opensearch, args.index, args.bundle, args.depth, args.device)
        systems = {name: build(name, context) for name in names}
        gc.freeze()  # set-up objects out of the collector's view (why: the top of search_clients.py)

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
                results[key] = run_threads(system, texts, args.clients, args.k, args.rounds, node_pid)
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


def _torch_threads() -> str:
    if "torch" not in sys.modules:
        return "n/a"
    return str(sys.modules["torch"].get_num_threads())


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
