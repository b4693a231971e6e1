#!/usr/bin/env python
"""Which table post-processing (and adapt settings) to default to: exact numpy scoring over an index's
stored document vectors, for several post-processing specs, with two kinds of evidence:

- corpus-only (no queries of the collection): pseudo-queries cut from the index's documents, scored by
  how well the light query vector agrees with the full query encoder's (cosine, top-10 overlap);
- a TRAIN split's judged queries when the dataset has one (--split train): nDCG@10. Never pass test.

    python bench/light_table_choices.py --bundle B --index scifact --dataset DATA/scifact --split train
    python bench/light_table_choices.py --bundle B --index cranfield          # corpus-only criterion
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--dataset", help="BEIR dir, for --split's judged queries")
    ap.add_argument("--split", default="train")
    ap.add_argument("--pseudo", type=int, default=400, help="pseudo-queries for the corpus-only criterion")
    ap.add_argument("--opensearch", default=None)
    ap.add_argument("--adapted", nargs="*", default=[], help="adapted bundles to score the same way")
    ap.add_argument("--pseudo-kinds", default="title,sentence", help="kinds of the held-out pseudo-queries "
                    "(span: never cut by adapt's defaults, so not seen in training)")
    ap.add_argument("--skip-specs", action="store_true", help="score only the zero-shot and --adapted tables")
    args = ap.parse_args()
    if args.split == "test":
        raise SystemExit("choose settings on a train split or corpus-only, never on test")

    from lightretriever.adapt import pseudo
    from lightretriever.adapt.corpus import read_index
    from lightretriever.adapt.postprocess import CorpusStats, PostProcessSpec, fit_transform
    from lightretriever.bundle import Bundle
    from lightretriever.client import get_client
    from lightretriever.encode.document import DocumentEncoder
    from lightretriever.encode.query import LightQueryEncoder

    bundle = Bundle.load(args.bundle)
    client = get_client(args.opensearch)
    corpus = read_index(client, args.index, progress=False)
    docs = corpus.dense
    stats = CorpusStats.from_texts(bundle.tokenizer, corpus.full_texts(), bundle.vocab_size)
    exclude = set(bundle.manifest["query"]["exclude_ids"]) | {bundle.manifest["query"]["unk_id"]}
    rng = np.random.default_rng(123)  # another seed than adapt's own pseudo-queries
    pq = pseudo.from_corpus(corpus, tuple(args.pseudo_kinds.split(",")), 1, seed=123)
    pq = [pq[i] for i in sorted(rng.choice(len(pq), min(args.pseudo, len(pq)), replace=False))]
    teacher_enc = DocumentEncoder.from_bundle(bundle)
    pq_teacher = np.asarray(teacher_enc.encode_queries([q.text for q in pq]), dtype=np.float32)
    judged = None
    if args.dataset:
        from lightretriever.evaluate.dataset import load_dataset

        ds = load_dataset(args.dataset, args.split)
        judged = ds
        jq_teacher = np.asarray(teacher_enc.encode_queries(list(ds.queries.values())), dtype=np.float32)

    def scores(encoder):
        out = {}
        light = np.stack([encoder.encode_query(q.text).dense for q in pq])
        out["pseudo_cos"] = float((light * pq_teacher).sum(1).mean())
        lt, tt = np.argsort(-(light @ docs.T), 1)[:, :10], np.argsort(-(pq_teacher @ docs.T), 1)[:, :10]
        out["pseudo_top10_overlap"] = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(lt, tt)]))
        # does the pseudo-query find the document it was cut from? (label-free, retrieval-shaped)
        out["pseudo_source_mrr@10"] = float(np.mean([1.0 / (list(a).index(q.source) + 1) if q.source in a else 0.0
                                                     for a, q in zip(lt, pq)]))
        if judged is not None:
            out[f"{args.split}_nDCG@10"] = ndcg(np.stack([encoder.encode_query(t).dense
                                                          for t in judged.queries.values()]))
        return out

    def ndcg(qv):
        import ir_measures
        from ir_measures import nDCG

        run = []
        for (qid, _), v in zip(judged.queries.items(), qv):
            s = docs @ v
            for j in np.argsort(-s)[:100]:
                run.append(ir_measures.ScoredDoc(qid, corpus.ids[j], float(s[j])))
        qrels = [ir_measures.Qrel(q, d, int(r)) for q, rel in judged.qrels.items() for d, r in rel.items()]
        return float(ir_measures.calc_aggregate([nDCG @ 10], qrels, run)[nDCG @ 10])

    rows = []
    if judged is not None:
        rows.append({"spec": "full-dense (teacher)", f"{args.split}_nDCG@10": ndcg(jq_teacher)})
    rows.append({"spec": "zero-shot table", **scores(LightQueryEncoder.from_bundle(bundle))})
    specs = [PostProcessSpec(c, k, w) for c in ("table", "frequency") for k in (0, 1, 2, 5) for w in
             ("none", "idf", "sif")]
    for spec in [] if args.skip_specs else specs:
        t = time.perf_counter()
        transform = fit_transform(bundle.table, exclude, spec, stats)
        enc = LightQueryEncoder(bundle.tokenizer, transform.fold(bundle.table),
                                bundle.manifest["max_length"]["query"], bundle.manifest["query"]["unk_id"], exclude)
        rows.append({"spec": f"center={spec.center} k={spec.remove_directions} w={spec.weights}",
                     **scores(enc), "fit_s": round(time.perf_counter() - t, 1)})
        print(json.dumps(rows[-1]), flush=True)
    for path in args.adapted:
        rows.append({"spec": f"adapted {path}", **scores(LightQueryEncoder.from_bundle(Bundle.load(path)))})
        print(json.dumps(rows[-1]), flush=True)
    keys = sorted({k for r in rows for k in r if k != "spec"})
    print("| spec | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
    for r in rows:
        print(f"| {r['spec']} | " + " | ".join(f"{r[k]:.4f}" if isinstance(r.get(k), float) else str(r.get(k, ""))
                                               for k in keys) + " |")


if __name__ == "__main__":
    main()
