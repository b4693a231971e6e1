#!/usr/bin/env python
"""Learned fusion without labels (issue 12, route 1): LightGBM trained on pseudo-queries cut from the index's
own documents, the source document as the one relevant hit; evaluated on a TRAIN split's judged queries
through OpenSearch, against rrf (the label-free default) and the learned fusion trained on that split's labels.

The risk is BM25's bias: a query cut from a document's own words finds that document by its words, so the
ranker learns to trust BM25. Two guards are measured: `no-bm25` trains on dense and sparse features only;
`spans` uses random 3-10-word spans instead of titles and sentences (less of the document's exact phrasing).

    python bench/pseudo_fusion.py --bundle B --index scifact --dataset DATA/scifact --split train
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np


def pseudo_split(corpus, root: Path, kinds, count: int, seed: int) -> None:
    """A BEIR directory whose split "pseudo" is `count` pseudo-queries, each judged relevant to its source."""
    from lightretriever.adapt import pseudo

    queries = [q for q in pseudo.from_corpus(corpus, kinds, per_doc=2, seed=seed) if q.text.strip()]
    keep = np.random.default_rng(seed).choice(len(queries), min(count, len(queries)), replace=False)
    (root / "qrels").mkdir(parents=True)
    with open(root / "queries.jsonl", "w") as qf, open(root / "qrels" / "pseudo.tsv", "w") as rf:
        rf.write("query-id\tcorpus-id\tscore\n")
        for n, i in enumerate(sorted(keep)):
            q = queries[i]
            qf.write(json.dumps({"_id": f"p{n}", "text": q.text}) + "\n")
            rf.write(f"p{n}\t{corpus.ids[q.source]}\t1\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--split", default="train")
    ap.add_argument("--pseudo", type=int, default=1000, help="pseudo-queries to train on")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--opensearch")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.split == "test":
        raise SystemExit("evaluate on a train split; never choose on test")

    from lightretriever.adapt.corpus import read_index
    from lightretriever.bundle import Bundle
    from lightretriever.client import get_client
    from lightretriever.evaluate.dataset import load_dataset
    from lightretriever.evaluate.runner import run_system
    from lightretriever.evaluate.systems import EvalContext, build_system
    from lightretriever.fuse.learn.pipeline import train_fusion

    client = get_client(args.opensearch)
    corpus = read_index(client, args.index, with_dense=False, progress=False)
    dataset = load_dataset(args.dataset, args.split)
    work = Path(tempfile.mkdtemp(prefix="pseudo-fusion-"))
    rows = []

    def evaluate(label: str, bundle, system: str) -> None:
        _, result = run_system(build_system(system, EvalContext(client=client, index=args.index, bundle=bundle)),
                               dataset, k=100, progress=False)
        rows.append({"variant": label, "system": system, "fusion": result.fusion,
                     "nDCG@10": round(result.metrics["nDCG@10"], 4), "R@100": round(result.metrics["R@100"], 4)})
        print(f"| {label} | {result.fusion} | {rows[-1]['nDCG@10']:.4f} | {rows[-1]['R@100']:.4f} |", flush=True)

    try:
        source = Bundle.load(args.bundle)
        print(f"# {args.index}: {len(corpus)} documents; evaluated on {dataset.name}/{args.split} "
              f"({len(dataset.queries)} judged queries); {args.pseudo} pseudo-queries, seed {args.seed}")
        print("| variant | fusion | nDCG@10 | R@100 |\n|---|---|---|---|")
        evaluate("rrf (label-free default)", source, "hybrid-rrf")
        variants = [("pseudo titles+sentences, all features", ("title", "sentence"), ("dense", "sparse", "bm25")),
                    ("pseudo titles+sentences, no-bm25 guard", ("title", "sentence"), ("dense", "sparse")),
                    ("pseudo spans, all features", ("span",), ("dense", "sparse", "bm25"))]
        for n, (label, kinds, systems) in enumerate(variants):
            root = work / f"beir{n}"
            pseudo_split(corpus, root, kinds, args.pseudo, args.seed)
            copy = work / f"bundle{n}"
            shutil.copytree(source.path, copy)
            bundle = Bundle.load(copy)
            bundle.update_section("fusion.learned", None)
            train_fusion(bundle, client, args.index, root, "pseudo", systems=systems, progress=False)
            evaluate(label, Bundle.load(copy), "hybrid-learned")
        labelled = work / "labelled"
        shutil.copytree(source.path, labelled)
        bundle = Bundle.load(labelled)
        bundle.update_section("fusion.learned", None)
        train_fusion(bundle, client, args.index, args.dataset, args.split, progress=False)
        evaluate(f"learned on {args.split} labels (in-sample, upper bound)", Bundle.load(labelled), "hybrid-learned")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"index": args.index, "split": args.split, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
