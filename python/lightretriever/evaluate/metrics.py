"""Quality metrics with ir-measures. Every judged query counts: one a system failed on scores 0."""

from __future__ import annotations

from collections.abc import Mapping

import ir_measures
from ir_measures import RR, R, nDCG

from lightretriever.fuse.hits import Ranked

MEASURES = {"nDCG@10": nDCG @ 10, "R@100": R @ 100, "MRR@10": RR @ 10}


def per_query(
    run: Mapping[str, Ranked], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, dict[str, float]]:
    """{metric name: {query id: value}} for every judged query (0.0 where the run has no hits)."""
    qrels_rows = [ir_measures.Qrel(q, d, int(r)) for q, docs in qrels.items() for d, r in docs.items()]
    # ir-measures sorts by score; the rank position is what we return, so score by it to keep ties stable
    run_rows = [
        ir_measures.ScoredDoc(q, d, float(len(ranked) - i))
        for q, ranked in run.items()
        for i, (d, _) in enumerate(ranked)
    ]
    values = {name: {q: 0.0 for q in qrels} for name in MEASURES}
    by_measure = {measure: name for name, measure in MEASURES.items()}
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels_rows, run_rows):
        if metric.query_id in qrels:
            values[by_measure[metric.measure]][metric.query_id] = float(metric.value)
    return values


def aggregate(run: Mapping[str, Ranked], qrels: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    values = per_query(run, qrels)
    return {name: sum(v.values()) / len(v) if v else 0.0 for name, v in values.items()}
