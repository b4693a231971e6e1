"""Ingest test fixtures: one MiniLM document encoder per session (model load is the slow part)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def minilm_encoder(minilm_bundle):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from lightretriever.bundle import Bundle
    from lightretriever.encode.document import DocumentEncoder

    return DocumentEncoder.from_bundle(Bundle.load(minilm_bundle))


@pytest.fixture
def scifact_sample(scifact_dir, tmp_path):
    """Write the first n SciFact documents (in a temp dir, never the repo); returns (path, records)."""

    def make(n: int, name: str = "sample.jsonl") -> tuple[Path, list[dict]]:
        records = []
        with open(scifact_dir / "corpus.jsonl", encoding="utf-8") as fh:
            for line in fh:
                records.append(json.loads(line))
                if len(records) == n:
                    break
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return path, records

    return make
