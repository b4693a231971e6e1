"""Does the plugin return what the Python retriever returns? Top-k ids equal and scores within a tolerance.

Used by tests/plugin/ and by `lightretriever plugin parity` (run it on your own index after an upgrade).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lightretriever.plugin.query import search


@dataclass
class ParityReport:
    queries: int = 0
    agreeing: int = 0
    max_score_diff: float = 0.0  # over the queries whose ids agree
    misses: list[str] = field(default_factory=list)  # the first few disagreements, printable

    @property
    def share(self) -> float:
        return self.agreeing / self.queries if self.queries else 0.0


def compare(client, index: str, bundle, model: str, queries: Sequence[str], fusion: str = "linear", *,
            k: int = 10, depth: int = 100, tolerance: float = 1e-3, keep_misses: int = 5,
            scope: str | None = None) -> ParityReport:
    """Run every query through the Python Retriever and the plugin (same depth; both send the sub-queries
    the fusion reads, `Fusion.systems()`);
    `scope` is the plugin's ("index": global fusion, the node's default; "shard": per-shard fusion)."""
    from lightretriever.retriever import Retriever

    retriever = Retriever(client, index, bundle, fusion=fusion, depth=depth)
    report = ParityReport()
    for text in queries:
        python = [(hit.doc_id, hit.score) for hit in retriever.search(text, k)]
        plugin = search(client, index, model, text, k=depth, size=k, fusion=fusion, scope=scope)
        report.queries += 1
        same_ids = [d for d, _ in python] == [d for d, _ in plugin]
        diff = max((abs(a - b) for (_, a), (_, b) in zip(python, plugin)), default=0.0)
        if same_ids and diff <= tolerance:
            report.agreeing += 1
            report.max_score_diff = max(report.max_score_diff, diff)
        elif len(report.misses) < keep_misses:
            report.misses.append(f"{text!r}\n  python {python}\n  plugin {plugin}")
    return report
