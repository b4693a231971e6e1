#!/usr/bin/env python
"""One GPU session's checks: CUDA paths of the token table, the full query encoders and training.

The GPU machine reaches no model hub and gets no large files, so the models are the real architectures
(MiniLM's and Gemma 3 270M's config.json and tokenizer) with random weights: latency and memory do not
depend on the weight values, quality is not measured here.

    python bench/gpu_check.py --minilm CONFIG_DIR --gemma CONFIG_DIR --data BEIR_DIR --out results.json

CONFIG_DIR holds config.json + tokenizer files (no weights). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]


def random_weights(config_dir: Path, out: Path, decoder: bool) -> Path:
    """Copy the config and tokenizer files, then save randomly initialised weights beside them."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    shutil.copytree(config_dir, out)
    config = AutoConfig.from_pretrained(out)
    torch.manual_seed(0)
    cls = AutoModelForCausalLM if decoder else AutoModel  # MiniLM ships no MLM head: body only
    cls.from_config(config, dtype=torch.bfloat16 if decoder else torch.float32).save_pretrained(out)
    return out


def test_queries(data: Path) -> list[str]:
    ids = {line.split("\t")[0] for line in (data / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    rows = [json.loads(line) for line in (data / "queries.jsonl").read_text().splitlines()]
    return [r["text"] for r in rows if r["_id"] in ids]


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def per_query_us(fn, queries: list[str], warmup: int = 10) -> dict:
    for q in queries[:warmup]:
        fn(q)
    times = []
    for q in queries:
        start = time.perf_counter_ns()
        fn(q)
        sync()
        times.append((time.perf_counter_ns() - start) / 1e3)
    times.sort()
    return {"p50_us": round(statistics.median(times), 1), "p99_us": round(times[int(0.99 * (len(times) - 1))], 1),
            "qps_1_client": round(1e6 / statistics.mean(times), 1)}


def check_backbone(name: str, model_dir: Path, out: Path, queries: list[str], device: str) -> dict:
    import torch

    from lightretriever.bundle import Bundle
    from lightretriever.bundle.build import build_bundle
    from lightretriever.encode.backbone import load_backbone
    from lightretriever.encode.document import DocumentEncoder
    from lightretriever.encode.query import LightQueryEncoder

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    backbone = load_backbone(str(model_dir), device=device)
    loaded = time.perf_counter() - start
    del backbone
    start = time.perf_counter()  # includes one more load, of `loaded` seconds
    build_bundle(str(model_dir), out / f"{name}-bundle", device=device, progress=False)
    sync()
    built = time.perf_counter() - start
    bundle = Bundle.load(out / f"{name}-bundle")
    light = LightQueryEncoder.from_bundle(bundle)
    full = DocumentEncoder.from_bundle(bundle, device=device)
    light_t = per_query_us(light.encode_query, queries)
    full_t = per_query_us(lambda q: full.encode_queries([q]), queries)
    docs = [q * 8 for q in queries[:256]]
    sync()
    start = time.perf_counter()
    full.encode_documents(docs)
    sync()
    doc_rate = len(docs) / (time.perf_counter() - start)
    return {
        "vocab_size": bundle.vocab_size, "dense_dim": bundle.dense_dim,
        "load_s": round(loaded, 1), "bundle_build_s": round(built, 1),
        "light_query_cpu": light_t, "full_query_gpu": full_t,
        "speedup_p50": round(full_t["p50_us"] / light_t["p50_us"], 1),
        "documents_per_s_gpu": round(doc_rate, 1),
        "peak_gpu_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minilm", type=Path, required=True)
    ap.add_argument("--gemma", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True, help="BEIR scifact dir")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--train-steps", type=int, default=12)
    ap.add_argument("--device", default="cuda", help="cpu only for a smoke test with tiny configs")
    ap.add_argument("--limit", type=int, help="first N queries only (smoke test)")
    args = ap.parse_args()

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device")
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    result: dict = {"device": name, "torch": torch.__version__}
    queries = test_queries(args.data)[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        minilm = random_weights(args.minilm, tmp / "minilm", decoder=False)
        gemma = random_weights(args.gemma, tmp / "gemma", decoder=True)
        for name, path in (("minilm", minilm), ("gemma3-270m", gemma)):
            try:
                result[name] = check_backbone(name, path, tmp, queries, args.device)
            except Exception as exc:  # noqa: BLE001 -- one backbone failing must not lose the other numbers
                result[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps({name: result[name]}), flush=True)
        step = subprocess.run(
            [sys.executable, str(REPO / "bench" / "train_gpu_step.py"), "--backbone", str(gemma),
             "--dataset", str(args.data), "--steps", str(args.train_steps), "--batch-size", "8", "--device", args.device],
            check=False, capture_output=True, text=True, timeout=400)
        try:
            result["train_step_gemma3_270m_lora"] = json.loads(step.stdout[step.stdout.index("{"):])
        except ValueError:
            result["train_step_gemma3_270m_lora"] = {"error": step.stderr[-2000:]}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
