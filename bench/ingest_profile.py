#!/usr/bin/env python
"""Where document encoding spends its time, stage by stage, on the first N documents of a corpus.

    nice python bench/ingest_profile.py --bundle DIR [--dataset /work/shared/data/scifact] [--docs 64]

Stages: tokenisation, framing, forward pass, dense pooling, the sparse head as it was before issue 14
(`sparse_pool`: every position, log1p/relu/mask over [batch, positions, vocab]) and as it is now
(`sparse_pool_terms`), the bare vocabulary matmul over all positions, pruning to dicts, and the JSON index
bodies. One model batch at a time, as `DocumentEncoder` runs them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--dataset", type=Path, default=Path("/work/shared/data/scifact"))
    parser.add_argument("--docs", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--dtype")
    args = parser.parse_args()

    import torch

    from lightretriever.bundle import Bundle
    from lightretriever.encode.document import SPARSE_CHUNK_ELEMENTS, DocumentEncoder
    from lightretriever.encode.inputs import frame
    from lightretriever.encode.pooling import dense_pool, sparse_pool, sparse_pool_terms
    from lightretriever.encode.text import document_text
    from lightretriever.ingest.encoding import body_bytes
    from lightretriever.ingest.records import Document

    if args.threads:
        torch.set_num_threads(args.threads)
    enc = DocumentEncoder.from_bundle(Bundle.load(args.bundle), device="cpu", batch_size=args.batch_size,
                                      dtype=args.dtype)
    bb = enc.backbone
    with open(args.dataset / "corpus.jsonl", encoding="utf-8") as fh:
        records = [json.loads(line) for line in islice(fh, args.docs)]
    texts = [document_text(r.get("title"), r.get("text")) for r in records]
    seconds: dict[str, float] = {}

    @contextmanager
    def timed(stage):
        began = time.perf_counter()
        yield
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - began

    with timed("tokenise"):
        ids = bb.tokenizer(texts, add_special_tokens=False)["input_ids"]
    order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
    real = total = 0
    for start in range(0, len(order), args.batch_size):
        idx = order[start : start + args.batch_size]
        with timed("frame"):
            batch = frame([ids[i] for i in idx], bb.prefix_ids, enc._prompt_ids["document"], bb.suffix_ids,
                          enc.settings.max_length["document"], bb.pad_id, bb.device)
        real += int(batch.term_mask.sum())
        total += batch.term_mask.numel()
        with torch.inference_mode():
            with timed("forward"):
                hidden = bb.hidden_states(batch.input_ids, batch.attention_mask)
            with timed("dense pooling"):
                dense_pool(hidden, batch.attention_mask, bb.pooling)
            chunk = max(1, SPARSE_CHUNK_ELEMENTS // (hidden.shape[0] * enc._head_vocab))
            with timed("sparse head, before (sparse_pool)"):
                sparse_pool(hidden, batch.term_mask, bb.sparse_head, chunk=chunk)
            with timed("sparse head, now (sparse_pool_terms)"):
                weights = sparse_pool_terms(hidden, batch.term_mask, bb.sparse_head,
                                            chunk_rows=max(1, SPARSE_CHUNK_ELEMENTS // enc._head_vocab))
            with timed("  (the bare vocab matmul over all positions)"):
                for s in range(0, hidden.shape[1], chunk):
                    bb.sparse_head(hidden[:, s : s + chunk])
            with timed("prune + dicts"):
                enc._sparse_dicts(*[t.numpy() for t in enc._prune(weights)])
    encoded = enc.encode_documents(texts)
    with timed("JSON bodies"):
        for r, e in zip(records, encoded):
            body_bytes(Document(doc_id=r["_id"], title=r.get("title", ""), text=r["text"]), e.dense, e.sparse)
    load = os.getloadavg()[0]
    print(f"{len(texts)} documents, model batch {args.batch_size}, torch threads {torch.get_num_threads()}, "
          f"dtype {bb.dtype}, text positions {real / total:.0%} of the padded batches, load average {load:.1f}")
    print("| stage | seconds |\n|---|---|")
    for stage, value in seconds.items():
        print(f"| {stage} | {value:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
