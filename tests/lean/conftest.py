"""Query-time tests (issue 15): they need only the base install (`pip install lightretriever`), no torch, and
.ci/run runs them a second time in a fresh venv that has nothing else. A bundle is written here without any
model: the real MiniLM tokenizer (tests/vectors), a random token table, the test vectors' LightGBM model."""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
HEAVY = ("torch", "transformers", "peft", "gguf", "accelerate", "ir_measures", "matplotlib")
CLI = [sys.executable, "-c", "import sys; from lightretriever.cli import main; sys.exit(main())"]

DOCS = {
    "volcano": "Magma rises through the crust and erupts as lava from a volcano",
    "bees": "Honey bees collect nectar from flowers and store honey in the hive",
    "jet": "A turbofan jet engine compresses air burns kerosene and produces thrust",
    "coral": "Coral reefs grow in warm shallow tropical seas",
    "bread": "Sourdough bread rises with wild yeast and lactic bacteria",
    "chess": "The Sicilian defence is a sharp chess opening for black",
    "glacier": "Glaciers carve valleys as ice flows slowly downhill",
    "violin": "A violin has four strings tuned in fifths and is played with a bow",
}


def write_lean_bundle(path: Path, dim: int = 16, seed: int = 0) -> Path:
    from tokenizers import Tokenizer

    from lightretriever.bundle import TABLE_FILE, TOKENIZER_FILE, Bundle
    from lightretriever.bundle.bundle import write_table
    from lightretriever.bundle.manifest import FORMAT_VERSION, default_fusion

    (path / "tokenizer").mkdir(parents=True)
    (path / "fusion").mkdir()
    shutil.copy(VECTORS / "tokenizers" / "minilm.json", path / TOKENIZER_FILE)
    shutil.copy(VECTORS / "fusion" / "learned.txt", path / "fusion" / "learned.txt")
    tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
    vocab = tokenizer.get_vocab_size()
    table = np.random.default_rng(seed).standard_normal((vocab, dim)).astype(np.float16)
    write_table(path / TABLE_FILE, table)
    fusion = default_fusion()
    fusion["learned"] = json.loads((VECTORS / "fusion.json").read_text())["learned"]
    manifest = {
        "format_version": FORMAT_VERSION,
        "backbone": {"name": "lean-test", "revision": None, "kind": "encoder", "gguf_file": None, "adapter": None},
        "pooling": "mean",
        "prompts": {"query": "", "document": ""},
        "dense_dim": dim,
        "vocab_size": vocab,
        "normalize": True,
        "lowercase": True,
        "max_length": {"document": 256, "query": 64},
        "sparse": {"head": "tied-embeddings", "prune_top_k": 256, "prune_min_weight": 0.0},
        "query": {"unk_id": 100, "exclude_ids": [0, 100, 101, 102, 103]},
        "fusion": fusion,
        "files": {TOKENIZER_FILE: "", TABLE_FILE: "", fusion["learned"]["model_file"]: ""},
    }
    Bundle(path, manifest, tokenizer, table).save_manifest()
    return path


@pytest.fixture(scope="module")
def lean_bundle(tmp_path_factory) -> Path:
    return write_lean_bundle(tmp_path_factory.mktemp("lean") / "bundle")


@pytest.fixture(scope="module")
def lean_index(lean_bundle, os_client, tmp_path_factory):
    """DOCS ingested by `lightretriever ingest --precomputed` (no model): each document's vectors are what the
    light encoder makes of its own text, so a document's text finds that document first in every system."""
    import subprocess

    from lightretriever.bundle import Bundle
    from lightretriever.encode.query import LightQueryEncoder

    encoder = LightQueryEncoder.from_bundle(Bundle.load(lean_bundle))
    root = tmp_path_factory.mktemp("lean-docs")
    with open(root / "docs.jsonl", "w") as fh:
        for doc_id, text in DOCS.items():
            encoding = encoder.encode_query(text)
            fh.write(json.dumps({"_id": doc_id, "text": text, "dense": encoding.dense.tolist(),
                                 "sparse": encoding.sparse}) + "\n")
    index = f"test-lean-{uuid.uuid4().hex[:8]}"
    run = subprocess.run(
        [*CLI, "ingest", "--precomputed", "--bundle", str(lean_bundle), "--index", index,
         "--source", f"jsonl:{root / 'docs.jsonl'}", "--state-dir", str(root / "state"), "--no-progress"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stderr
    os_client.indices.refresh(index=index)
    yield index
    os_client.indices.delete(index=index, ignore_unavailable=True)
