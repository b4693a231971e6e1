"""bench/gpu_ingest.py (the GPU ingest measurement) runs its whole path on this CPU against the real node, with
the tiny decoder bundle, sharded like gpu_ingest.sh runs it; the CUDA run skips without a GPU."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.node

REPO = Path(__file__).resolve().parents[2]


def bench_module():
    spec = importlib.util.spec_from_file_location("gpu_ingest", REPO / "bench" / "gpu_ingest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def corpus(tmp_path) -> Path:
    words = ["cell", "protein", "gene", "tumor", "growth", "mouse", "receptor", "cancer"]
    rng = np.random.default_rng(0)
    with open(tmp_path / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for i in range(9):
            text = " ".join(rng.choice(words, int(rng.integers(3, 40))))
            fh.write(json.dumps({"_id": f"d{i}", "title": f"doc {i}", "text": text}) + "\n")
    return tmp_path


def run(tiny_decoder_bundle, corpus, index, device, **extra):
    args = ["--bundle", str(tiny_decoder_bundle), "--dataset", str(corpus), "--copies", "2", "--device", device,
            "--batch-size", "4", "--encoder-batch-size", "3", "--bulk-docs", "5", "--index", index]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return bench_module().main(args)


def test_cpu_path_sharded_into_one_index(tiny_decoder_bundle, corpus, os_client, unique_index):
    index = unique_index()
    first = run(tiny_decoder_bundle, corpus, index, "cpu", shard="0/2", target=1)
    second = run(tiny_decoder_bundle, corpus, index, "cpu", shard="1/2", skip_encoder_alone=True)
    assert first["corpus_docs"] == 18 and first["device"] == "cpu" and first["dtype"] == "float32"
    assert first["end_to_end"]["docs"] + second["end_to_end"]["docs"] == 18
    assert first["encoder_alone"]["docs"] == first["end_to_end"]["docs"] and "encoder_alone" not in second
    assert first["end_to_end"]["batch_failures"] == 0 and first["target_met"] in (True, False)
    os_client.indices.refresh(index=index)
    assert os_client.count(index=index)["count"] == 18
    hit = os_client.get(index=index, id="d3-c1")["_source"]
    assert np.isclose(np.linalg.norm(hit["dense"]), 1.0, atol=1e-5)
    assert hit["sparse"] and all(v > 0 for v in hit["sparse"].values())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_path(tiny_decoder_bundle, corpus, os_client, unique_index):
    index = unique_index()
    result = run(tiny_decoder_bundle, corpus, index, "cuda")
    assert result["device"].startswith("cuda") and result["end_to_end"]["docs"] == 18
