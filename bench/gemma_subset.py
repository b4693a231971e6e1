#!/usr/bin/env python
"""Gemma 3 270M end to end on a 2-core CPU: a SciFact subset and a bundle whose table covers its queries.

    python bench/gemma_subset.py --queries 50 --docs 150 --work /tmp/gemma-subset --bundle-out DIR

On this machine neither the whole bundle nor the whole corpus fits in an afternoon: the table encodes all
262,144 vocabulary ids through the model (~2 h of CPU at ~20 GFLOP/s), and a document costs ~140 GFLOP
(the 262k-vocabulary sparse projection alone is ~86 GFLOP for 256 tokens). So this script writes:

- a BEIR directory under --work: the first --queries SciFact test queries (in qrels order), their qrels, and
  a corpus of every document judged for them plus the first documents of the corpus up to --docs in all;
- a bundle at --bundle-out in the normal format (manifest, tokenizer, a [262144, 640] table) whose table rows
  are encoded only for the token ids those queries use; every other row is zero. Light encodings of these
  queries are exactly what the full bundle would give; the bundle is NOT fit for other queries.

Then ingest, evaluate and measure throughput with the ordinary commands (printed at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def subset(dataset: Path, n_queries: int, n_docs: int, work: Path) -> tuple[list[str], int]:
    rows = (dataset / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    header, rows = rows[0], [r.split("\t") for r in rows[1:] if r.strip()]
    chosen: list[str] = []
    for qid, _doc, _score in rows:
        if qid not in chosen:
            chosen.append(qid)
    chosen = chosen[:n_queries]
    keep = [r for r in rows if r[0] in chosen]
    judged = {r[1] for r in keep}
    (work / "qrels").mkdir(parents=True, exist_ok=True)
    (work / "qrels" / "test.tsv").write_text("\n".join([header] + ["\t".join(r) for r in keep]) + "\n",
                                             encoding="utf-8")
    texts = {}
    with open(dataset / "queries.jsonl", encoding="utf-8") as src, open(work / "queries.jsonl", "w") as dst:
        for line in src:
            q = json.loads(line)
            if q["_id"] in chosen:
                dst.write(line)
                texts[q["_id"]] = q["text"]
    written = 0
    with open(dataset / "corpus.jsonl", encoding="utf-8") as src, open(work / "corpus.jsonl", "w") as dst:
        others = n_docs - len(judged)
        for line in src:
            doc_id = json.loads(line)["_id"]
            if doc_id in judged or others > 0:
                others -= doc_id not in judged
                dst.write(line)
                written += 1
    return [texts[q] for q in chosen], written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=Path("/work/shared/data/scifact"))
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--docs", type=int, default=150)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--bundle-out", type=Path, required=True)
    args = parser.parse_args()

    from tokenizers import Tokenizer

    from lightretriever.bundle import Bundle
    from lightretriever.bundle.build import _strip_runtime_settings, make_manifest
    from lightretriever.bundle.bundle import tokenizer_vocab_size, write_table
    from lightretriever.bundle.manifest import TABLE_FILE, TOKENIZER_FILE
    from lightretriever.encode.backbone import load_backbone
    from lightretriever.encode.table import build_token_table

    queries, n_docs = subset(args.dataset, args.queries, args.docs, args.work)
    print(f"subset: {len(queries)} queries, {n_docs} documents in {args.work}", flush=True)
    t0 = time.perf_counter()
    bb = load_backbone("gemma3-270m", device="cpu")
    print(f"Gemma 3 270M loaded in {time.perf_counter() - t0:.0f} s", flush=True)
    out = args.bundle_out
    if out.exists():
        shutil.rmtree(out)
    bb.tokenizer.save_pretrained(str(out / "tokenizer"))
    tok_file = out / TOKENIZER_FILE
    _strip_runtime_settings(tok_file)
    tokenizer = Tokenizer.from_file(str(tok_file))
    vocab = tokenizer_vocab_size(tokenizer)
    ids = sorted({i for q in queries for i in tokenizer.encode(q, add_special_tokens=False).ids})
    t0 = time.perf_counter()
    rows = build_token_table(bb, "", ids=ids, progress=False)
    seconds = time.perf_counter() - t0
    print(f"table rows: {len(ids)} ids in {seconds:.0f} s ({len(ids) / seconds:.1f} ids/s; the whole "
          f"{vocab}-row table would take ~{vocab / (len(ids) / seconds) / 3600:.1f} h here)", flush=True)
    import numpy as np

    table = np.zeros((vocab, bb.hidden_size), dtype=np.float16)
    table[ids] = rows
    write_table(out / TABLE_FILE, table)
    manifest = make_manifest(bb, tok_file, vocab, "", "", 256, 0.0, None)
    Bundle(out, manifest, tokenizer, table).save_manifest()
    Bundle.load(out)
    (args.work / "table-ids.json").write_text(json.dumps({"ids": ids, "seconds": seconds}))
    print(f"bundle: {out} (table rows for {len(ids)} query ids only)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
