#!/usr/bin/env python
"""Per-token weights on the light sparse query (issue 12): plain token counts against count × IDF,
measured through OpenSearch with the production `Retriever` (light-sparse and the hybrids).

IDF is corpus-only, w_t = ln(1 + (N − df_t + 0.5)/(df_t + 0.5)) (`CorpusStats.idf`), with df_t counted two ways:
- idf-text: documents whose title + text holds token t under the bundle's tokenizer (the statistics the
  table post-processing uses);
- idf-sparse: documents whose indexed sparse vector holds feature t (the expansion terms, after pruning).

    python bench/sparse_weights.py --bundle B --index scifact --dataset DATA/scifact --split train
    python bench/sparse_weights.py --bundle B --index cranfield --dataset DATA/cranfield --split test \\
        --qrels DATA/cranfield/qrels/test_binary.tsv      # measured, not used to choose

Prints one Markdown table (nDCG@10, R@100 per system and weighting) and writes it as JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

WEIGHTINGS = ("counts", "idf-text", "idf-sparse")
SPARSE = "sparse"  # the rank_features field (mappings/index.json)


def sparse_df(client, index: str, vocab_size: int):
    """CorpusStats over the index's stored sparse vectors (feature present = the document holds the token)."""
    from lightretriever.adapt.postprocess import CorpusStats

    df = np.zeros(vocab_size, dtype=np.float64)
    documents, after = 0, None
    while True:
        body = {"size": 500, "query": {"match_all": {}}, "sort": [{"doc_id": "asc"}], "_source": [SPARSE],
                "track_total_hits": False}
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=index, body=body)["hits"]["hits"]
        for hit in hits:
            ids = [int(t) for t in (hit.get("_source") or {}).get(SPARSE, {})]
            df[[i for i in ids if 0 <= i < vocab_size]] += 1.0
        documents += len(hits)
        if len(hits) < 500:
            break
        after = hits[-1]["sort"]
    return CorpusStats(documents, df, df.copy())


def weigh(encoder, weights: np.ndarray) -> None:
    """Make `encoder.encode_query` return sparse = count × weight (the dense part is untouched)."""
    plain = encoder.encode_query

    def encode_query(text, ids=None):
        encoding = plain(text, ids)
        encoding.sparse = {t: c * float(weights[int(t)]) for t, c in encoding.sparse.items()}
        return encoding

    encoder.encode_query = encode_query


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True, nargs="+", help="one or more bundles (hybrids depend on the table)")
    ap.add_argument("--index", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--split", default="train")
    ap.add_argument("--qrels")
    ap.add_argument("--systems", default="light-sparse,hybrid-rrf,hybrid-linear")
    ap.add_argument("--weightings", default=",".join(WEIGHTINGS))
    ap.add_argument("--opensearch", default=None)
    ap.add_argument("--json")
    args = ap.parse_args()

    from lightretriever.adapt.corpus import read_index
    from lightretriever.adapt.postprocess import CorpusStats
    from lightretriever.bundle import Bundle
    from lightretriever.client import get_client
    from lightretriever.evaluate.dataset import load_dataset
    from lightretriever.evaluate.runner import run_system
    from lightretriever.evaluate.systems import EvalContext, build_system

    client = get_client(args.opensearch)
    dataset = load_dataset(args.dataset, args.split, args.qrels)
    bundles = [Bundle.load(b) for b in args.bundle]
    vocab = bundles[0].vocab_size
    started = time.perf_counter()
    corpus = read_index(client, args.index, with_dense=False, progress=False)
    weights = {
        "counts": None,
        "idf-text": CorpusStats.from_texts(bundles[0].tokenizer, corpus.full_texts(), vocab).idf(),
        "idf-sparse": sparse_df(client, args.index, vocab).idf(),
    }
    print(f"# {args.index}: {len(corpus)} documents, IDF from the index in {time.perf_counter() - started:.1f} s; "
          f"{dataset.name}/{args.split}: {len(dataset.queries)} judged queries ({dataset.qrels_file})")
    rows = []
    for bundle in bundles:
        for name in args.systems.split(","):
            if name == "light-sparse" and bundle is not bundles[0]:
                continue  # the sparse query does not read the table
            for weighting in args.weightings.split(","):
                system = build_system(name, EvalContext(client=client, index=args.index, bundle=bundle))
                if weights[weighting] is not None:
                    weigh(system.retriever.rewriter.encoder, weights[weighting])
                _, result = run_system(system, dataset, k=100, progress=False)
                rows.append({"bundle": str(bundle.path), "system": name, "weighting": weighting,
                             "nDCG@10": round(result.metrics["nDCG@10"], 4), "R@100": round(result.metrics["R@100"], 4),
                             "errors": len(result.errors)})
                print(f"| {bundle.path.name} | {name} | {weighting} | {rows[-1]['nDCG@10']:.4f} | "
                      f"{rows[-1]['R@100']:.4f} |", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"index": args.index, "dataset": args.dataset, "split": args.split, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
