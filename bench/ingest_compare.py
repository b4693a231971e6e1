#!/usr/bin/env python
"""CPU ingest speed-up in one run: today's encoder path against the current one (and opt-in bfloat16).

    nice python bench/ingest_compare.py --bundle DIR --dataset /work/shared/data/scifact --limit 500

Variants, each a full `IngestJob` (read, validate, encode, bulk write, checkpoint) into its own index:
  - `before`: the sparse head as it was before issue 14: every position of the padded batch projected, then
    log1p(relu) and the mask over [batch, positions, vocab], then the max (`encode.pooling.sparse_pool`);
  - `now`: the default path: text positions only, max before log1p(relu) (`sparse_pool_terms`);
  - `bf16` (opt-in, `--dtype bfloat16`): the model in bfloat16 (AVX512-BF16/AMX CPUs); changes encodings.
A variant may carry `@N` (e.g. `now@1`): torch runs it with N threads (thread settings, same encodings).
The corpus slice is cut into --rounds parts; every round runs each variant on its part, in rotating order, so
background load on a shared machine falls on all alike. At the end the indexed documents of `before` and `now`
are compared field by field (dense, sparse), and `bf16`'s drift from `now` is reported (dense cosine, sparse
top-k overlap). Prints a markdown table; --json writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

from lightretriever.bundle import Bundle
from lightretriever.encode.document import SPARSE_CHUNK_ELEMENTS, DocumentEncoder
from lightretriever.encode.pooling import sparse_pool
from lightretriever.ingest.job import IngestJob, JobConfig
from lightretriever.ingest.setup import bundle_checksum
from lightretriever.ingest.sources import open_source


class BeforeEncoder(DocumentEncoder):
    """The sparse head exactly as ingest ran it before issue 14 (kept here only to measure against)."""

    def _sparse_topk(self, hidden, term_mask):
        chunk = max(1, SPARSE_CHUNK_ELEMENTS // (hidden.shape[0] * self._head_vocab))
        weights = sparse_pool(hidden, term_mask, self.backbone.sparse_head, chunk=chunk)
        return self._prune(weights)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def fetch(client, index: str, ids: list[str]) -> dict[str, dict]:
    docs = client.mget(index=index, body={"ids": ids}, params={"_source_includes": "dense,sparse"})["docs"]
    return {d["_id"]: d["_source"] for d in docs if d.get("found")}


def drift(a: dict[str, dict], b: dict[str, dict], k: int = 64) -> dict:
    """How far b's encodings are from a's: identical count, dense cosine, overlap of the top-k sparse terms."""
    same = cos = overlap = 0.0
    for key, x in a.items():
        y = b[key]
        same += x == y
        u, v = np.asarray(x["dense"]), np.asarray(y["dense"])
        cos += float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
        top = lambda s: {t for t, _ in sorted(s.items(), key=lambda kv: -kv[1])[:k]}
        overlap += len(top(x["sparse"]) & top(y["sparse"])) / max(1, min(k, len(x["sparse"])))
    n = len(a)
    return {"docs": n, "identical": int(same), "dense_cosine_mean": cos / n, f"sparse_top{k}_overlap": overlap / n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--dataset", default="/work/shared/data/scifact", type=Path)
    parser.add_argument("--limit", type=int, default=500, help="first N documents (default 500)")
    parser.add_argument("--variants", default="before,now,bf16")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64, help="documents per encoder call (CLI default)")
    parser.add_argument("--encoder-batch-size", type=int, default=32, help="model batch (CLI default)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--opensearch", metavar="URL")
    parser.add_argument("--index-prefix", default="bench-ingest-compare")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from lightretriever.client import get_client

    client = get_client(args.opensearch, timeout=120)
    bundle = Bundle.load(args.bundle)
    variants = args.variants.split(",")
    encoders = {}
    default_threads = torch.get_num_threads()
    threads = {v: int(v.split("@")[1]) if "@" in v else default_threads for v in variants}
    now = DocumentEncoder.from_bundle(bundle, device="cpu", batch_size=args.encoder_batch_size)
    bf16 = None
    for v in variants:
        kind = v.split("@")[0]
        if kind == "now":
            encoders[v] = now
        elif kind == "before":
            encoders[v] = BeforeEncoder(now.backbone, now.settings, args.encoder_batch_size)
        elif kind == "bf16":
            bf16 = bf16 or DocumentEncoder.from_bundle(bundle, device="cpu", batch_size=args.encoder_batch_size,
                                                       dtype="bfloat16")
            encoders[v] = bf16
        else:
            parser.error(f"unknown variant {v!r} (before, now, bf16, with an optional @threads)")
    stamp = time.strftime("%Y%m%d%H%M%S")
    indices = {v: f"{args.index_prefix}-{v.replace('@', '-t')}-{stamp}" for v in variants}
    seconds = dict.fromkeys(variants, 0.0)
    indexed = dict.fromkeys(variants, 0)
    encode_s = dict.fromkeys(variants, 0.0)
    with open(args.dataset / "corpus.jsonl", encoding="utf-8") as fh:
        lines = [line for _, line in zip(range(args.limit), fh)]
    ids = [json.loads(line)["_id"] for line in lines]
    size = -(-len(lines) // args.rounds)
    load = [os.getloadavg()[0]]
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            for r in range(args.rounds):
                part = lines[r * size : (r + 1) * size]
                if not part:
                    break
                path = tmp / f"part{r}.jsonl"
                path.write_text("".join(part), encoding="utf-8")
                order = variants[r % len(variants):] + variants[: r % len(variants)]
                for v in order:
                    torch.set_num_threads(threads[v])
                    config = JobConfig(index=indices[v], batch_size=args.batch_size, state_dir=tmp / f"state-{v}-{r}",
                                       progress=False)
                    job = IngestJob(client, open_source(f"jsonl:{path}"), encoders[v], config,
                                    dense_dim=bundle.dense_dim, bundle_checksum=bundle_checksum(args.bundle))
                    summary = job.run()
                    seconds[v] += summary.elapsed_s
                    encode_s[v] += summary.encode_s
                    indexed[v] += summary.counts.indexed
                    print(f"round {r} {v}: {summary.counts.indexed} docs in {summary.elapsed_s:.1f} s", flush=True)
                load.append(os.getloadavg()[0])
        rows = {v: {"docs": indexed[v], "seconds": round(seconds[v], 2), "docs_per_s": indexed[v] / seconds[v],
                    "encode_seconds": round(encode_s[v], 2)} for v in variants}
        for v, row in rows.items():
            row["torch_threads"] = threads[v]
        base = rows.get("before")
        for row in rows.values():
            row["speedup_vs_before"] = row["docs_per_s"] / base["docs_per_s"] if base else None
        checks = {}
        reference = next((v for v in variants if v.split("@")[0] == "now"), None)
        if reference:
            sample = fetch(client, indices[reference], ids)
            for v in variants:
                if v != reference:
                    checks[f"{v} vs {reference}"] = drift(sample, fetch(client, indices[v], ids))
    finally:
        if not args.keep:
            for name in indices.values():
                client.indices.delete(index=name, ignore_unavailable=True)

    machine = (f"{cpu_model()}, {os.cpu_count()} cores visible, torch threads {default_threads} unless a "
               f"variant says @N; "
               f"1-min load average {min(load):.1f}-{max(load):.1f} during the run (shared machine)")
    print(f"\n{len(lines)} documents of {args.dataset.name}, {args.rounds} rounds, job batch {args.batch_size}, "
          f"model batch {args.encoder_batch_size}. Machine: {machine}\n")
    print("| variant | torch threads | docs | end to end s | docs/s | encoder s | speed-up vs before |")
    print("|---|---|---|---|---|---|---|")
    for v, row in rows.items():
        sp = f"{row['speedup_vs_before']:.2f}x" if row["speedup_vs_before"] else "-"
        print(f"| {v} | {row['torch_threads']} | {row['docs']} | {row['seconds']:.1f} | {row['docs_per_s']:.2f} | "
              f"{row['encode_seconds']:.1f} | {sp} |")
    for name, c in checks.items():
        print(f"{name}: {c['identical']}/{c['docs']} documents identical (dense and sparse); dense cosine mean "
              f"{c['dense_cosine_mean']:.6f}; sparse top-64 overlap {c['sparse_top64_overlap']:.4f}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "docs": len(lines), "dataset": str(args.dataset),
                                         "rows": rows, "checks": checks}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
