"""Gemma 3 270M from the installed GGUF (transformers gguf_file=): loads and encodes a small SciFact sample.

Loading dequantises the GGUF (~1 min on 2 cores), so the whole module shares one backbone.
"""

from __future__ import annotations

import json
from itertools import islice

import numpy as np
import pytest

from lightretriever.encode.text import document_text

pytestmark = [pytest.mark.slow, pytest.mark.llm]


@pytest.fixture(scope="module")
def gemma():
    from lightretriever.encode.backbone import load_backbone

    return load_backbone("gemma3-270m", device="cpu")


@pytest.fixture(scope="module")
def sample_docs(scifact_dir):
    with open(scifact_dir / "corpus.jsonl", encoding="utf-8") as fh:
        records = [json.loads(line) for line in islice(fh, 4)]
    return [document_text(r.get("title"), r.get("text")) for r in records]


def test_gemma_loads_as_decoder(gemma):
    assert gemma.kind == "decoder" and gemma.pooling == "last" and gemma.head_name == "lm-head"
    assert gemma.hidden_size == 640 and len(gemma.tokenizer) == 262144
    assert gemma.source.gguf_file == "gemma-3-270m-q4_k_m.gguf"
    assert gemma.prefix_ids == [gemma.tokenizer.bos_token_id] and gemma.suffix_ids == [gemma.tokenizer.eos_token_id]


def test_gemma_encodes_scifact_documents(gemma, sample_docs):
    from lightretriever.encode.document import DocumentEncoder

    enc = DocumentEncoder.from_backbone(gemma, prune_top_k=128, max_length={"document": 128, "query": 32},
                                        batch_size=2)
    docs = enc.encode_documents(sample_docs)
    special = set(gemma.special_ids())
    for doc, text in zip(docs, sample_docs):
        assert doc.dense.shape == (640,) and np.isfinite(doc.dense).all()
        assert np.linalg.norm(doc.dense) == pytest.approx(1.0, abs=1e-5)
        assert 0 < len(doc.sparse) <= 128 and all(w > 0 for w in doc.sparse.values())
        assert not special & {int(k) for k in doc.sparse}
        assert doc.truncated == (len(gemma.tokenizer(text, add_special_tokens=False)["input_ids"]) > 126)
    # the documents are not all encoded to the same point
    dense = np.stack([d.dense for d in docs])
    assert (dense @ dense.T)[np.triu_indices(len(docs), 1)].max() < 0.9999


def test_gemma_table_rows_match_full_query_encoder(gemma):
    from lightretriever.encode.document import DocumentEncoder
    from lightretriever.encode.table import build_token_table

    words = ["protein", "cancer"]
    ids = [gemma.tokenizer(w, add_special_tokens=False)["input_ids"] for w in words]
    assert all(len(i) == 1 for i in ids)
    flat = [i[0] for i in ids]
    plain = build_token_table(gemma, "query: ", ids=flat, block_diagonal=False, progress=False).astype(np.float32)
    packed = build_token_table(gemma, "query: ", ids=flat, block_diagonal=True, progress=False).astype(np.float32)
    full = DocumentEncoder.from_backbone(gemma, query_prompt="query: ").encode_queries(words)
    for row, vec, prow in zip(plain, full, packed):
        np.testing.assert_allclose(row / np.linalg.norm(row), vec, atol=2e-3)
        np.testing.assert_allclose(prow / np.linalg.norm(prow), vec, atol=2e-3)
