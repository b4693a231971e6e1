#!/usr/bin/env python
"""Light query encoder, this tree against an older revision, alternating in one process (issue 14).

    python bench/light_encoder_ab.py --old 8c850a0            # the 300 SciFact test queries, MiniLM bundle

On a shared machine one encoder timed after the other measures the load as much as the code; here the two
take turns, pass by pass, in a shuffled order, on the same queries. Per pass: the CPU-time p50 of single
encodings (timers around each call, as bench/query_encoding.py does) and the mean CPU time per query of a
timer-free loop. Prints the median over passes of each, and the ratio new / old.
The old revision's encode/query.py and encode/query_tokens.py are loaded from git into a private module.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse
import importlib
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from query_encoding import DEFAULT_DATA, machine, minilm_bundle, test_queries

ROOT = Path(__file__).resolve().parents[1]


def old_encoder_class(rev: str, where: Path):
    """LightQueryEncoder as it was at `rev`, with its own query_tokens module (files written under `where`)."""
    for rel, name in (("query_tokens.py", "old_query_tokens"), ("query.py", "old_query")):
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:python/lightretriever/encode/{rel}"],
                              capture_output=True, text=True, check=True).stdout
        text = text.replace("from lightretriever.encode.query_tokens import", "from old_query_tokens import")
        (where / f"{name}.py").write_text(text, encoding="utf-8")
    sys.path.insert(0, str(where))
    return importlib.import_module("old_query").LightQueryEncoder


def one_pass(fn, queries: list[str]) -> tuple[float, float]:
    cpu_clock = time.thread_time_ns
    each = []
    for q in queries:
        start = cpu_clock()
        fn(q)
        each.append(cpu_clock() - start)
    start = cpu_clock()
    for q in queries:
        fn(q)
    loop = (cpu_clock() - start) / len(queries)
    return float(np.percentile(each, 50)) / 1e3, loop / 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="git revision of the older encoder")
    parser.add_argument("--bundle", help="MiniLM bundle dir (default: as bench/query_encoding.py)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--passes", type=int, default=30)
    args = parser.parse_args()

    from lightretriever.encode.query import LightQueryEncoder

    bundle = minilm_bundle(args.bundle)
    queries = test_queries(args.data)
    with tempfile.TemporaryDirectory(prefix="light-ab-") as where:  # needed only while importing
        old = old_encoder_class(args.old, Path(where))
    encoders = {"old": old.from_bundle(bundle), "new": LightQueryEncoder.from_bundle(bundle)}
    for q in queries:  # same answers (dense within the 1e-6 the shared vectors allow), and warm caches
        a, b = encoders["old"].encode_query(q), encoders["new"].encode_query(q)
        assert a.ids == b.ids and a.sparse == b.sparse, q
        assert np.abs(a.dense - b.dense).max() <= 1e-6, q
    rng = random.Random(0)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in encoders}
    for _ in range(args.passes):
        order = list(encoders)
        rng.shuffle(order)
        for name in order:
            results[name].append(one_pass(encoders[name].encode_query, queries))
    load = os.getloadavg()[0]
    print(f"Machine: {machine()}; load average {load:.1f} (1 min); {len(queries)} SciFact test queries, "
          f"{args.passes} alternating passes; old = {args.old}\n")
    print("| encoder | CPU-time p50 µs (median of passes) | CPU µs per query, timer-free loop (median) |")
    print("|---|---|---|")
    medians = {}
    for name, rows in results.items():
        rows_arr = np.array(rows)
        medians[name] = np.median(rows_arr, axis=0)
        print(f"| {name} | {medians[name][0]:.2f} | {medians[name][1]:.2f} |")
    ratio = medians["new"] / medians["old"]
    print(f"| new / old | {ratio[0]:.2f} | {ratio[1]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
