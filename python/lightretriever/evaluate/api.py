"""`evaluate_dataset`: one call that evaluates a BEIR dataset already ingested into an index."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from lightretriever.evaluate.dataset import load_dataset
from lightretriever.evaluate.hnsw import hnsw_recall
from lightretriever.evaluate.report import EvalReport
from lightretriever.evaluate.runner import run_system
from lightretriever.evaluate.systems import ALL_SYSTEMS, EvalContext, build_system
from lightretriever.rewrite.execute import MSEARCH

log = logging.getLogger(__name__)


def evaluate_dataset(
    dataset_dir: str | Path,
    bundle,
    index: str,
    client=None,
    *,
    split: str = "test",
    qrels_file: str | Path | None = None,
    systems: Sequence[str] = ALL_SYSTEMS,
    k: int = 100,
    depth: int = 100,
    strategy: str = MSEARCH,
    max_queries: int | None = None,
    hnsw: bool = True,
    train_split: str | None = None,
    out_dir: str | Path | None = None,
    out_stem: str | None = None,
    progress: bool = True,
) -> EvalReport:
    """Run `systems` over the split's judged queries through OpenSearch and return the report.

    `bundle` is a Bundle or a bundle path. With `out_dir`, writes <dataset>-<split>.{json,md,png}.
    With `train_split` (e.g. "train") and no learned fusion in the bundle yet, first trains it on that
    split and saves it into the bundle. `report.to_markdown()` is the quality and latency table.
    """
    from lightretriever.bundle import Bundle

    if not isinstance(bundle, Bundle):
        bundle = Bundle.load(bundle)
    if client is None:
        from lightretriever.client import get_client

        client = get_client()
    from lightretriever.bundle.identity import check_index

    check_index(client, index, bundle)
    if (
        train_split
        and "hybrid-learned" in systems
        and not (bundle.manifest.get("fusion") or {}).get("learned")
    ):
        from lightretriever.fuse.learn.pipeline import train_fusion

        log.info("no learned fusion in %s: training it on %s/%s first", bundle.path, dataset_dir, train_split)
        train_fusion(bundle, client, index, dataset_dir, train_split, depth=depth, progress=progress)
    dataset = load_dataset(dataset_dir, split, qrels_file)
    if max_queries:
        dataset.queries = dict(list(dataset.queries.items())[:max_queries])
        dataset.qrels = {q: dataset.qrels[q] for q in dataset.queries}
    context = EvalContext(client=client, index=index, bundle=bundle, depth=depth, strategy=strategy)
    results = []
    for name in systems:
        system = build_system(name, context)
        log.info("evaluating %s on %s/%s (%d queries)", name, dataset.name, split, len(dataset.queries))
        _, result = run_system(system, dataset, k=k, progress=progress)
        if hnsw and name in ("light-dense", "full-dense"):
            vectors = _query_vectors(system, name, dataset.queries.values())
            result.hnsw_recall_at_10 = hnsw_recall(client, index, vectors, k=10, depth=depth)
        results.append(result)
    report = EvalReport(
        dataset=dataset.name,
        split=split,
        qrels_file=str(dataset.qrels_file),
        index=index,
        bundle=str(bundle.path),
        systems=results,
    )
    report.notes.append(
        f"k={k} hits per query, per-system depth {depth}, sub-queries via {strategy}; "
        "HNSW R@10 = approximate top-10 (k-NN asked for depth) vs exact knn_score script over all docs"
    )
    fallback = [r.name for r in results if r.name == "hybrid-learned" and r.fusion != "learned"]
    if fallback:
        report.notes.append("hybrid-learned fell back to rrf: the bundle has no trained fusion model")
    if out_dir:
        for kind, path in report.write(out_dir, out_stem).items():
            log.info("wrote %s %s", kind, path)
    return report


def _query_vectors(system, name: str, texts) -> list:
    from lightretriever.errors import QueryError

    vectors = []
    for text in texts:
        try:
            if name == "full-dense":
                vectors.append(system.encode(text))
            else:
                vectors.append(system.retriever.rewriter.encoder.encode_query(text).dense)
        except QueryError:
            continue
    return vectors
