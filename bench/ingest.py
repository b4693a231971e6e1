"""Ingest throughput on a BEIR corpus: encoder alone vs the end-to-end job, and precomputed vectors.

    nice python bench/ingest.py --bundle DIR [--dataset ../shared/data/scifact] [--limit N] [--opensearch URL]

Three measurements in one run, same documents, same batches, same machine:
  1. encoder alone: `encode_documents` over the job's batches (no OpenSearch);
  2. end to end: `IngestJob` (read, validate, encode, bulk write, checkpoint) into a fresh index,
     the model loaded beforehand so both exclude load time; overhead = (2)/(1) - 1.
     (1) and (2) alternate over --rounds slices of the corpus so background load hits both alike;
  3. precomputed: the vectors from (1) written to a temp JSONL (`--copies` times with new ids),
     ingested with `--precomputed`: bound by OpenSearch and the writer, not the model.
The bench indices are deleted at the end unless --keep.
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

from lightretriever.evaluate.dataset import default_data_dir
from lightretriever.ingest.encoding import dense_list, join_text, sparse_dict
from lightretriever.ingest.job import IngestJob, JobConfig
from lightretriever.ingest.setup import bundle_checksum
from lightretriever.ingest.sources import open_source
from lightretriever.ingest.validate import Limits, Validator


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def connect(url: str | None):
    from lightretriever.client import get_client

    return get_client(url, timeout=120)  # as the CLI does: no gzip on loopback


def sample_file(dataset: Path, limit: int | None, tmp: Path) -> Path:
    corpus = dataset / "corpus.jsonl"
    if not limit:
        return corpus
    path = tmp / "sample.jsonl"
    with open(corpus, "rb") as src, open(path, "wb") as dst:
        for number, line in enumerate(src):
            if number >= limit:
                break
            dst.write(line)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--dataset", default=default_data_dir() / "scifact", type=Path,
                        help="BEIR dataset (default $LIGHTRETRIEVER_DATA/scifact, else ../shared/data/scifact)")
    parser.add_argument("--limit", type=int, help="first N documents only")
    parser.add_argument("--opensearch", metavar="URL", help="default: $LIGHTRETRIEVER_OPENSEARCH_URL, else the local node")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device")
    parser.add_argument("--rounds", type=int, default=4, help="alternating encoder/end-to-end slices")
    parser.add_argument("--copies", type=int, default=4, help="copies of the corpus for the precomputed run")
    parser.add_argument("--keep", action="store_true", help="keep the bench indices")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from lightretriever.bundle import Bundle
    from lightretriever.encode.document import DocumentEncoder

    client = connect(args.opensearch)
    bundle = Bundle.load(args.bundle)
    t0 = time.perf_counter()
    encoder = DocumentEncoder.from_bundle(bundle, device=args.device)
    load_s = time.perf_counter() - t0
    stamp = time.strftime("%Y%m%d%H%M%S")
    indices = {"e2e": f"bench-ingest-e2e-{stamp}", "pre": f"bench-ingest-pre-{stamp}"}
    results: dict = {"machine": f"{cpu_model()}, {os.cpu_count()} cores", "device": str(encoder.backbone.device),
                     "bundle": str(args.bundle), "dataset": str(args.dataset), "model_load_s": round(load_s, 2)}

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        source_path = sample_file(args.dataset, args.limit, tmp)

        source = open_source(f"jsonl:{source_path}")
        validator = Validator(source.fields, Limits(), schema_check=None)
        docs = [validator(raw) for raw in source.records()]
        results["docs"] = len(docs)
        # 1 and 2 alternate over `rounds` slices (A B, B A, ...) so that load from other processes on a
        # shared machine falls on both sides alike.
        size = -(-len(docs) // args.rounds)
        encoded: list = []
        encode_s = e2e_s = write_s = 0.0
        indexed = 0
        for r in range(args.rounds):
            part = docs[r * size : (r + 1) * size]
            if not part:
                break
            part_path = tmp / f"part{r}.jsonl"
            part_path.write_text("".join(
                json.dumps({"_id": d.doc_id, "title": d.title, "text": d.text}) + "\n" for d in part))

            def encoder_alone(part=part):
                out = []
                t0 = time.perf_counter()
                for i in range(0, len(part), args.batch_size):
                    out.extend(encoder.encode_documents([join_text(d) for d in part[i : i + args.batch_size]]))
                return time.perf_counter() - t0, out

            def end_to_end(r=r, part_path=part_path):
                config = JobConfig(index=indices["e2e"], batch_size=args.batch_size, state_dir=tmp / f"state{r}",
                                   progress=False)
                job = IngestJob(client, open_source(f"jsonl:{part_path}"), encoder, config,
                                dense_dim=bundle.dense_dim, bundle_checksum=bundle_checksum(args.bundle))
                return job.run()

            if r % 2 == 0:
                a_s, out = encoder_alone()
                summary = end_to_end()
            else:
                summary = end_to_end()
                a_s, out = encoder_alone()
            encoded.extend(out)
            encode_s += a_s
            e2e_s += summary.elapsed_s
            write_s += summary.write_s
            indexed += summary.counts.indexed
            print(f"round {r}: {len(part)} docs, encoder alone {a_s:.1f} s, end to end {summary.elapsed_s:.1f} s",
                  flush=True)
        client.indices.refresh(index=indices["e2e"])
        count = int(client.count(index=indices["e2e"])["count"])
        results["encoder_alone"] = {"seconds": round(encode_s, 2), "docs_per_s": round(len(docs) / encode_s, 2)}
        results["end_to_end"] = {"seconds": round(e2e_s, 2), "docs_per_s": round(indexed / e2e_s, 2),
                                 "bulk_seconds_overlapped": round(write_s, 2), "indexed": indexed,
                                 "index_count": count}
        overhead = e2e_s / encode_s - 1
        results["indexing_overhead_vs_encoder"] = round(overhead, 4)
        print(f"encoder alone: {len(docs)} docs in {encode_s:.1f} s = {len(docs) / encode_s:.2f} docs/s", flush=True)
        print(f"end to end: {indexed} docs in {e2e_s:.1f} s = {indexed / e2e_s:.2f} docs/s "
              f"(overhead over encoder alone: {overhead * 100:+.1f}%)", flush=True)

        # 3. precomputed vectors.
        pre_path = tmp / "precomputed.jsonl"
        with open(pre_path, "w", encoding="utf-8") as fh:
            for copy in range(args.copies):
                fh.writelines(json.dumps({"_id": f"{doc.doc_id}-c{copy}", "title": doc.title, "text": doc.text,
                                         "dense": dense_list(enc.dense), "sparse": sparse_dict(enc.sparse)}) + "\n" for doc, enc in zip(docs, encoded))
        config = JobConfig(index=indices["pre"], batch_size=500, state_dir=tmp / "state-pre", progress=False)
        pre = IngestJob(client, open_source(f"jsonl:{pre_path}"), None, config,
                        dense_dim=bundle.dense_dim, bundle_checksum=f"precomputed:{bundle.dense_dim}").run()
        results["precomputed"] = {"docs": pre.counts.indexed, "seconds": round(pre.elapsed_s, 2),
                                  "docs_per_s": round(pre.docs_per_s, 2), "index_count": pre.index_count}
        print(f"precomputed: {pre.counts.indexed} docs in {pre.elapsed_s:.1f} s = {pre.docs_per_s:.1f} docs/s", flush=True)

    if not args.keep:
        for name in indices.values():
            client.indices.delete(index=name, ignore_unavailable=True)
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
