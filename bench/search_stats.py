"""bench/search.py's numbers: latency, QPS, encode share and CPU use of one run, and the Markdown table."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from lightretriever.evaluate.runner import server_encode_totals


def stats(latencies: list[float], encodes: list[tuple[float | None, float | None]], errors: int, wall: float,
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


def node_cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of the node process (all its threads), from /proc; None when unknown."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RunMeter:
    """Wall time, this process's CPU, the node's CPU and the node's encoding counters (plugin systems) over
    one run whose clients live in this process (threads, asyncio tasks). Start it just before the clients."""

    def __init__(self, system, node_pid: int | None):
        self.system, self.node_pid = system, node_pid
        self.server_before = server_encode_totals(system)
        self.node_start = node_cpu_seconds(node_pid)
        self.cpu_start = time.process_time()
        self.wall_start = time.perf_counter()

    def stats(self, latencies: list[float], encodes: list[tuple[float | None, float | None]], errors: int) -> dict:
        wall = time.perf_counter() - self.wall_start
        client_cpu = time.process_time() - self.cpu_start
        node_now = node_cpu_seconds(self.node_pid)
        node_cpu = None if node_now is None or self.node_start is None else node_now - self.node_start
        server = None if self.server_before is None else server_encode_totals(self.system) - self.server_before
        return stats(latencies, encodes, errors, wall, server, (client_cpu, node_cpu))
