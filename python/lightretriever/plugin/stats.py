"""GET _plugins/lightretriever/stats: the query-encoding counters since each node started, summed over the
cluster's nodes (the response also breaks them down per node, under `nodes`)."""

from __future__ import annotations

from dataclasses import dataclass

STATS_PATH = "/_plugins/lightretriever/stats"


@dataclass(frozen=True)
class EncodeTotals:
    count: int
    wall_seconds: float
    cpu_seconds: float | None  # None where the node's JVM cannot read thread CPU time

    def __sub__(self, before: EncodeTotals) -> EncodeTotals:
        cpu = None if self.cpu_seconds is None or before.cpu_seconds is None else self.cpu_seconds - before.cpu_seconds
        return EncodeTotals(self.count - before.count, self.wall_seconds - before.wall_seconds, cpu)


def encode_totals(client) -> EncodeTotals:
    """The cluster's counters: the sum over its nodes (global fusion encodes once per query, on the coordinating node)."""
    stats = client.transport.perform_request("GET", STATS_PATH)["query_encoding"]
    cpu = stats["cpu_nanos"]
    return EncodeTotals(int(stats["count"]), stats["wall_nanos"] / 1e9, None if cpu < 0 else cpu / 1e9)
