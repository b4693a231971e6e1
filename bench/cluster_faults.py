"""Faults on the local multi-node cluster: kill -9 of one data node during an ingest, and during search load.

    python bench/cluster_faults.py --home HOME [--docs 3000] [--dim 64] [--clients 4] [--json OUT]

The cluster under HOME (`lightretriever node start --home HOME --nodes 3 --heap 512m`; started here when it is
not running) is needed, not just a URL: a member is killed by its pid and brought back with
`LocalNode(HOME).start()`, which restarts only the dead member, on its old ports.

1. ingest: a precomputed-vector JSONL (--docs synthetic documents, so no model runs) is ingested by the
   IngestJob into a fresh index (the cluster's layout: one primary per node, one replica). Once a fifth of it
   is written, the member holding a primary (never the one the job talks to) is killed with SIGKILL, restarted
   after --down-s, and the cluster waited green. Checks: the job finishes, the index holds exactly the
   source's ids (count and every id), nothing was dead-lettered.
2. search: a clean index of the same documents; --clients threads send the Python path's per-system
   sub-queries (`_msearch`, dense kNN + sparse rank_features + BM25, top --depth each) to the first member in
   a loop; a member holding primaries is killed, restarted, the cluster waited green. Figures: requests,
   errors (a failed request, or an answer with `_shards.failed` > 0: partial answers count as errors),
   the longest time one client went without an answer, time from the kill to green. Check: every answer
   served after green equals (ids, scores within 1e-5) the one served before the kill.

Prints one JSON report; exit status 1 when a check fails. The indices are deleted at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import signal
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from opensearchpy import helpers

from lightretriever.client import get_client
from lightretriever.ingest.job import JobConfig
from lightretriever.ingest.setup import build_job
from lightretriever.mappings import create_index
from lightretriever.node import LocalNode
from lightretriever.node.local import pid_alive
from lightretriever.rewrite.dsl import bm25_clause, dense_clause, sparse_clause
from lightretriever.rewrite.execute import hit_id
from lightretriever.rewrite.rewriter import RewrittenQuery

WORDS = [f"w{i}" for i in range(400)]
SCORE_TOLERANCE = 1e-5


# ---- data -----------------------------------------------------------------------------------------------
def synthetic_docs(n: int, dim: int, seed: int = 7) -> list[dict]:
    """Unit dense vectors, a few sparse token weights, a short text: valid precomputed records."""
    rng = np.random.default_rng(seed)
    docs = []
    for i in range(n):
        vector = rng.standard_normal(dim)
        tokens = rng.choice(2000, size=6, replace=False)
        words = rng.zipf(1.3, size=int(rng.integers(5, 40))) % len(WORDS)  # varied lengths: fewer BM25 ties
        docs.append({
            "_id": f"d{i:06d}",
            "title": f"document {i}",
            "text": " ".join(WORDS[w] for w in words),
            "dense": (vector / np.linalg.norm(vector)).round(6).tolist(),
            "sparse": {str(int(t)): round(float(rng.random()) + 0.1, 4) for t in tokens},
        })
    return docs


def synthetic_queries(docs: list[dict], count: int, depth: int, seed: int = 11) -> list[RewrittenQuery]:
    """Queries near random documents: the doc's vector plus noise, three of its tokens, four of its words."""
    rng = np.random.default_rng(seed)
    queries = []
    for doc in rng.choice(docs, size=count, replace=False):
        vector = np.asarray(doc["dense"]) + 0.3 * rng.standard_normal(len(doc["dense"]))
        vector /= np.linalg.norm(vector)
        tokens = list(doc["sparse"])[:3]
        text = " ".join(doc["text"].split()[:4])
        clauses = {
            "dense": dense_clause(vector, depth),
            "sparse": sparse_clause({t: 1.0 for t in tokens}),
            "bm25": bm25_clause(text),
        }
        queries.append(RewrittenQuery(text=text, depth=depth, filter=None, clauses=clauses))
    return queries


# ---- cluster ----------------------------------------------------------------------------------------------
def primary_holder(client, index: str, spare: str) -> str:
    """A member holding a primary of `index`, other than `spare` (the member the clients talk to)."""
    shards = client.cat.shards(index=index, format="json")
    holders = sorted({s["node"] for s in shards if s["prirep"] == "p" and s["node"] and s["node"] != spare})
    if not holders:
        raise SystemExit(f"no primary of {index} outside {spare}: {shards}")
    return holders[0]


def kill(node: LocalNode, name: str) -> float:
    """SIGKILL the member `name`; returns the monotonic time of the kill."""
    member = next(m for m in node.status()["nodes"] if m["name"] == name)
    pid = member["pid"]
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    while pid_alive(pid):
        time.sleep(0.05)
    return killed


def wait_green(client, seconds: int, index: str | None = None, nodes: int | None = None) -> None:
    """Wait until `index` (else every index) is green with no shard initializing or relocating (and `nodes`
    nodes joined); fails after `seconds`."""
    params = {
        "wait_for_status": "green", "wait_for_no_relocating_shards": "true",
        "wait_for_no_initializing_shards": "true", "timeout": f"{seconds}s",
    }
    if nodes:
        params["wait_for_nodes"] = str(nodes)
    health = client.cluster.health(index=index, params=params, request_timeout=seconds + 30)
    if health.get("timed_out") or health["status"] != "green":
        raise SystemExit(f"cluster not green after {seconds}s: {health}")


def recover(node: LocalNode, client, down_s: float) -> dict:
    """After `down_s`, restart the dead member and wait for green; seconds spent in each step."""
    time.sleep(down_s)
    began = time.monotonic()
    nodes = len(node.start()["nodes"])  # restarts only the member that is not running
    restarted = time.monotonic()
    wait_green(client, 600, nodes=nodes)
    return {"restart_s": round(restarted - began, 1), "green_after_restart_s": round(time.monotonic() - restarted, 1)}


@dataclass
class Fault:
    victim: str  # the member killed
    killed: float  # monotonic time of the kill
    green: float  # monotonic time the cluster was green again
    timings: dict  # recover()'s

    def report(self, index: str, docs: int) -> dict:
        """The fields both scenarios' reports start with."""
        return {"index": index, "docs": docs, "victim": self.victim, **self.timings,
                "kill_to_green_s": round(self.green - self.killed, 1)}


def kill_and_recover(node: LocalNode, client, index: str, down_s: float) -> Fault:
    """Kill a member holding a primary of `index` (never the first, which the clients talk to), restart it
    after `down_s` and wait for green."""
    victim = primary_holder(client, index, spare=node.status()["nodes"][0]["name"])
    killed = kill(node, victim)
    timings = recover(node, client, down_s)
    return Fault(victim, killed, time.monotonic(), timings)


# ---- scenario 1: ingest ------------------------------------------------------------------------------------
def ingest_scenario(node: LocalNode, client, docs: list[dict], dim: int, tmp: Path, down_s: float) -> dict:
    corpus = tmp / "precomputed.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))
    index = f"faults-ingest-{uuid.uuid4().hex[:8]}"
    config = JobConfig(index=index, state_dir=tmp / "state", progress=False, bulk_docs=50, batch_size=50)
    job = build_job(client, f"jsonl:{corpus}", config, precomputed=True, dense_dim=dim)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["summary"] = job.run()
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()

    began = time.monotonic()
    thread = threading.Thread(target=run, name="ingest")
    thread.start()
    while thread.is_alive() and getattr(getattr(job, "state", None), "counts", None) is None:
        time.sleep(0.05)
    while thread.is_alive() and job.state.counts.indexed < len(docs) // 5:
        time.sleep(0.05)
    if not thread.is_alive():
        raise SystemExit("the ingest finished before a node could be killed: raise --docs")
    indexed_at_kill = job.state.counts.indexed
    fault = kill_and_recover(node, client, index, down_s)
    thread.join()
    finished = outcome["ended"]
    try:
        if "error" in outcome:
            return {"index": index, "victim": fault.victim, "error": repr(outcome["error"]), "ok": False}
        summary = outcome["summary"]
        client.indices.refresh(index=index)
        ids = {hit["_id"] for hit in helpers.scan(client, index=index, query={"_source": False})}
        expected = {d["_id"] for d in docs}
        dead = job.dead_letter_path.read_text().splitlines() if job.dead_letter_path.is_file() else []
        report = {
            **fault.report(index, len(docs)),
            "indexed_at_kill": indexed_at_kill,
            "killed_at_s": round(fault.killed - began, 1),
            "job_s": round(finished - began, 1),
            "job_finished_after_green": bool(finished > fault.green),
            "count": int(client.count(index=index)["count"]),
            "missing": len(expected - ids),
            "unexpected": len(ids - expected),
            "dead_letters": len(dead),
            "created": summary.counts.created,
            "indexed": summary.counts.indexed,
            "retried": summary.counts.retried,
        }
        report["ok"] = (
            report["count"] == len(docs) and not report["missing"] and not report["unexpected"]
            and not dead and summary.counts.created == len(docs)
        )
        return report
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)


# ---- scenario 2: search ------------------------------------------------------------------------------------
def answer(client, index: str, query: RewrittenQuery) -> tuple:
    """Per system, (ids, scores); raises on an error or a partial answer (a shard failed)."""
    responses = client.msearch(body=query.msearch(index))["responses"]
    out = []
    for system, response in zip(query.clauses, responses):
        if "error" in response:
            raise RuntimeError(f"{system}: {response['error']}")
        failed = response.get("_shards", {}).get("failed", 0)
        if failed:
            raise RuntimeError(f"{system}: partial answer, {failed} shard(s) failed")
        hits = response["hits"]["hits"]
        out.append((tuple(hit_id(h) for h in hits), tuple(float(h["_score"]) for h in hits)))
    return tuple(out)


def same(a: tuple, b: tuple) -> bool:
    """Equal answers: per system the same scores (within SCORE_TOLERANCE) rank by rank, and the same ids
    for each run of tied scores. Copies of a shard order tied documents by their own Lucene doc ids, so
    tied hits may swap places, and a tie across the top-k cut may bring in another of the tied documents."""
    for (ids_a, sa), (ids_b, sb) in zip(a, b):
        if len(ids_a) != len(ids_b) or not np.allclose(sa, sb, rtol=0, atol=SCORE_TOLERANCE):
            return False
        start = 0
        for end in range(1, len(sa) + 1):
            if end == len(sa) or abs(sa[end] - sa[start]) > SCORE_TOLERANCE:
                cut = end == len(sa) and len(sa) > 0  # the last run may continue below the cut
                if not cut and set(ids_a[start:end]) != set(ids_b[start:end]):
                    return False
                start = end
    return True


def search_scenario(
    node: LocalNode, client, url: str, docs: list[dict], dim: int, *, clients: int, queries: int, depth: int,
    down_s: float, settle_s: float,
) -> dict:
    index = f"faults-search-{uuid.uuid4().hex[:8]}"
    create_index(client, index, dim)
    try:
        actions = ({"_index": index, "_id": d["_id"], "_source": {"doc_id": d["_id"], **{
            k: v for k, v in d.items() if k != "_id"}}} for d in docs)
        helpers.bulk(client, actions, chunk_size=500, request_timeout=120)
        client.indices.refresh(index=index)
        client.indices.forcemerge(index=index, max_num_segments=1, request_timeout=600)
        wait_green(client, 300, index)
        batch = synthetic_queries(docs, queries, depth)
        baseline = [answer(client, index, q) for q in batch]
        log: list[list[tuple[float, int, str | None, tuple | None]]] = [[] for _ in range(clients)]
        stop = threading.Event()

        def load(slot: int) -> None:
            own = get_client(url)
            i = slot
            while not stop.is_set():
                q = i % len(batch)
                try:
                    got, error = answer(own, index, batch[q]), None
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    got, error = None, f"{type(exc).__name__}: {exc}"[:300]
                log[slot].append((time.monotonic(), q, error, got))
                i += clients

        threads = [threading.Thread(target=load, args=(s,), name=f"search-{s}") for s in range(clients)]
        began = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(settle_s)
        fault = kill_and_recover(node, client, index, down_s)
        killed, green = fault.killed, fault.green
        time.sleep(settle_s)
        stop.set()
        for t in threads:
            t.join()
        ended = time.monotonic()
        events = [e for per in log for e in per]
        errors = [e for e in events if e[2] is not None]
        after = [e for e in events if e[0] > green and e[2] is None]
        during = [e for e in events if killed < e[0] <= green and e[2] is None]
        gaps = []
        for per in log:
            times = [began] + [t for t, _, error, _ in per if error is None] + [ended]
            gaps.append(max(b - a for a, b in itertools.pairwise(times)))
        report = {
            **fault.report(index, len(docs)),
            "clients": clients,
            "requests": len(events),
            "errors": len(errors),
            "first_errors": sorted({e[2] for e in errors})[:5],
            "answered_while_degraded": len(during),
            "degraded_answers_unlike_baseline": sum(not same(e[3], baseline[e[1]]) for e in during),
            "longest_gap_s": round(max(gaps), 2),
            "answered_after_green": len(after),
            "after_green_unlike_baseline": sum(not same(e[3], baseline[e[1]]) for e in after),
            "qps": round(len(events) / (ended - began), 1),
        }
        report["ok"] = bool(after) and report["after_green_unlike_baseline"] == 0 and bool(during)
        return report
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", required=True, help="home of the local cluster (lightretriever node --home)")
    parser.add_argument("--nodes", type=int, default=3, help="cluster size when it has to be started")
    parser.add_argument("--heap", default="512m", help="heap of each node when it has to be started")
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--depth", type=int, default=10, help="top-k of each system")
    parser.add_argument("--down-s", type=float, default=5.0, help="seconds the killed node stays down")
    parser.add_argument("--settle-s", type=float, default=5.0, help="load before the kill and after green")
    parser.add_argument("--only", choices=("ingest", "search"), help="run one scenario")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)

    node = LocalNode(args.home, nodes=args.nodes, heap=args.heap)
    url = node.start()["url"]
    client = get_client(url, timeout=120)  # the CLI's ingest timeout: above the bulk API's 1 min shard wait
    wait_green(client, 300)
    docs = synthetic_docs(args.docs, args.dim)
    report: dict = {
        "machine": f"{platform.node()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start",
        "cluster": {"home": str(node.home), "nodes": len(node.status()["nodes"]), "heap": node.status()["heap"]},
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
    }
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        if args.only in (None, "ingest"):
            report["ingest"] = ingest_scenario(node, client, docs, args.dim, Path(tmp), args.down_s)
            print(json.dumps({"ingest": report["ingest"]}), file=sys.stderr, flush=True)
        if args.only in (None, "search"):
            report["search"] = search_scenario(
                node, client, url, docs, args.dim, clients=args.clients, queries=args.queries, depth=args.depth,
                down_s=args.down_s, settle_s=args.settle_s,
            )
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if all(report[s]["ok"] for s in ("ingest", "search") if s in report) else 1


if __name__ == "__main__":
    sys.exit(main())
