#!/usr/bin/env python
"""Ingest at the accelerator's speed: encoder alone and end to end (encoder + bulk writer), docs/s.

    python bench/gpu_ingest.py --bundle /work/bundles/minilm --device cuda --copies 8 --target 3000
    bash bench/gpu_ingest.sh                    # MiniLM and Gemma 3 270M, one process per GPU (--shard i/N)

The corpus (SciFact by default, at its own document lengths) is repeated --copies times with new ids so the
run reaches steady state. The model is loaded and warmed up before the clock starts. Two figures:
  1. encoder alone: `encode_documents` over --batch-size calls (no OpenSearch);
  2. end to end: `IngestJob` (read, validate, encode, bulk write in its own thread, checkpoint) into a fresh
     index (deleted afterwards unless --keep).
With --shard i/N this process takes its deterministic share of the records (as `lightretriever ingest
--shard` does); gpu_ingest.sh starts one such process per GPU on one index and adds their counts.
The GPU path: half precision (bfloat16 for decoders), pinned non-blocking transfers, the next batch's forward
queued before the previous batch's host work (DocumentEncoder._run), bulk writes in the job's writer thread.
Prints one JSON object (also to --json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def corpus_copies(dataset: Path, copies: int, limit: int | None, out: Path) -> int:
    with open(dataset / "corpus.jsonl", encoding="utf-8") as fh:
        records = [json.loads(line) for _, line in zip(range(limit or 1 << 62), fh)]
    with open(out, "w", encoding="utf-8") as fh:
        for copy in range(copies):
            fh.writelines(json.dumps({"_id": f"{r['_id']}-c{copy}", "title": r.get("title", ""),
                                     "text": r.get("text", "")}) + "\n" for r in records)
    return copies * len(records)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--dataset", default="/work/shared/data/scifact", type=Path)
    parser.add_argument("--limit", type=int, help="first N documents of the corpus (before copying)")
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", help="default: half precision on a GPU, float32 on a CPU")
    parser.add_argument("--batch-size", type=int, default=2048, help="documents per encoder call (job batch)")
    parser.add_argument("--encoder-batch-size", type=int, default=256, help="model batch")
    parser.add_argument("--bulk-docs", type=int, default=2000)
    parser.add_argument("--shard", default="0/1")
    parser.add_argument("--index", help="default: a fresh bench-gpu-ingest-<stamp> index")
    parser.add_argument("--skip-encoder-alone", action="store_true")
    parser.add_argument("--opensearch", metavar="URL")
    parser.add_argument("--target", type=float, help="docs/s the end-to-end figure should reach")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    import torch

    from lightretriever.bundle import Bundle
    from lightretriever.client import get_client
    from lightretriever.encode.document import DocumentEncoder
    from lightretriever.ingest.job import IngestJob, JobConfig
    from lightretriever.ingest.setup import bundle_checksum
    from lightretriever.ingest.shard import Shard
    from lightretriever.ingest.sources import open_source

    client = get_client(args.opensearch, timeout=300)
    bundle = Bundle.load(args.bundle)
    shard = Shard.parse(args.shard)
    t0 = time.perf_counter()
    encoder = DocumentEncoder.from_bundle(bundle, device=args.device, batch_size=args.encoder_batch_size,
                                          dtype=args.dtype)
    result: dict = {"bundle": str(args.bundle), "backbone": bundle.manifest["backbone"]["name"],
                    "device": str(encoder.backbone.device), "dtype": str(encoder.backbone.dtype).removeprefix("torch."),
                    "gpu": torch.cuda.get_device_name(encoder.backbone.device) if encoder.backbone.device.type == "cuda"
                    else None, "shard": args.shard, "model_load_s": round(time.perf_counter() - t0, 1),
                    "batch_size": args.batch_size, "encoder_batch_size": args.encoder_batch_size}
    index = args.index or f"bench-gpu-ingest-{time.strftime('%Y%m%d%H%M%S')}"

    def sync():
        if encoder.backbone.device.type == "cuda":
            torch.cuda.synchronize(encoder.backbone.device)

    with tempfile.TemporaryDirectory() as tmpdir:
        path = Path(tmpdir) / "corpus.jsonl"
        total = corpus_copies(args.dataset, args.copies, args.limit, path)
        source = open_source(f"jsonl:{path}")
        texts = [join_text_of(raw) for raw in source.records() if shard.owns(raw.position)]
        encoder.encode_documents(texts[: min(len(texts), 2 * args.encoder_batch_size)])  # warm-up (kernels, caches)
        sync()
        if not args.skip_encoder_alone:
            began = time.perf_counter()
            for i in range(0, len(texts), args.batch_size):
                encoder.encode_documents(texts[i : i + args.batch_size])
            sync()
            seconds = time.perf_counter() - began
            result["encoder_alone"] = {"docs": len(texts), "seconds": round(seconds, 2),
                                       "docs_per_s": round(len(texts) / seconds, 1)}
        config = JobConfig(index=index, batch_size=args.batch_size, bulk_docs=args.bulk_docs, shard=shard,
                           state_dir=Path(tmpdir) / "state", progress=False)
        job = IngestJob(client, open_source(f"jsonl:{path}"), encoder, config, dense_dim=bundle.dense_dim,
                        bundle_checksum=bundle_checksum(args.bundle))
        summary = job.run()
        result["end_to_end"] = {"docs": summary.counts.indexed, "rejected": summary.counts.rejected,
                                "seconds": round(summary.elapsed_s, 2), "docs_per_s": round(summary.docs_per_s, 1),
                                "encode_seconds": round(summary.encode_s, 2),
                                "bulk_seconds_overlapped": round(summary.write_s, 2),
                                "batch_failures": summary.batch_failures}
        result["corpus_docs"] = total
    if not args.keep and args.shard == "0/1":
        client.indices.delete(index=index, ignore_unavailable=True)
    if args.target:
        result["target_docs_per_s"] = args.target
        result["target_met"] = result["end_to_end"]["docs_per_s"] >= args.target
    print(json.dumps(result, indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return result


def join_text_of(raw) -> str:
    """The text the job encodes for a record (encode.text.document_text)."""
    from lightretriever.encode.text import document_text

    record = json.loads(raw.data) if isinstance(raw.data, (str, bytes)) else raw.data
    return document_text(record.get("title"), record.get("text"))


if __name__ == "__main__":
    main()
    sys.exit(0)
