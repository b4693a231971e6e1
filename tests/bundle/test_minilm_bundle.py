"""The cached zero-shot MiniLM bundle: real model, real table (slow: builds once, then cached)."""

from __future__ import annotations

import numpy as np
import pytest

from lightretriever.bundle import Bundle
from lightretriever.encode.query import LightQueryEncoder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm_encoder(minilm_bundle):
    from lightretriever.encode.document import DocumentEncoder

    return DocumentEncoder.from_bundle(Bundle.load(minilm_bundle), device="cpu")


def test_bundle_manifest_describes_minilm(minilm_bundle):
    bundle = Bundle.load(minilm_bundle)
    m = bundle.manifest
    assert m["backbone"]["kind"] == "encoder" and m["pooling"] == "mean"
    assert bundle.table.shape == (30522, 384) and bundle.dense_dim == 384
    assert m["sparse"]["head"] == "tied-embeddings"  # all-MiniLM-L6-v2 ships no MLM head
    assert m["query"]["unk_id"] == 100 and {0, 101, 102, 103} <= set(m["query"]["exclude_ids"])
    assert m["lowercase"] is True


def test_one_token_light_query_equals_full_encoder(minilm_bundle, minilm_encoder):
    light = LightQueryEncoder.from_bundle(Bundle.load(minilm_bundle))
    words = ["protein", "cancer", "brain", "vaccine", "the", "running"]
    full = minilm_encoder.encode_queries(words)
    for word, vec in zip(words, full):
        enc = light.encode_query(word)
        assert enc.n_tokens == 1, word
        np.testing.assert_allclose(enc.dense, vec, atol=2e-3, err_msg=word)  # table is float16


def test_documents_batch_equals_single_and_is_deterministic(minilm_encoder):
    texts = ["Microglia are the immune cells of the brain.",
             "BRCA1 mutations raise breast cancer risk in carriers, a large cohort study finds.",
             "short"]
    batch = minilm_encoder.encode_documents(texts)
    again = minilm_encoder.encode_documents(texts)
    for i, text in enumerate(texts):
        single = minilm_encoder.encode_documents([text])[0]
        np.testing.assert_allclose(batch[i].dense, single.dense, atol=1e-5)
        assert batch[i].sparse.keys() == single.sparse.keys()
        for key, weight in single.sparse.items():
            assert batch[i].sparse[key] == pytest.approx(weight, abs=1e-4)
        np.testing.assert_array_equal(batch[i].dense, again[i].dense)
        assert batch[i].sparse == again[i].sparse


def test_document_vectors_and_sparse_weights(minilm_bundle, minilm_encoder):
    bundle = Bundle.load(minilm_bundle)
    special = set(bundle.manifest["query"]["exclude_ids"])
    docs = minilm_encoder.encode_documents(["Microglia are the immune cells of the central nervous system."] * 1
                                           + ["word " * 600])
    first, long_doc = docs
    assert first.dense.dtype == np.float32 and first.dense.shape == (384,)
    assert np.linalg.norm(first.dense) == pytest.approx(1.0, abs=1e-5)
    assert 0 < len(first.sparse) <= 256  # prune_top_k
    assert all(w > 0 for w in first.sparse.values())
    assert not special & {int(k) for k in first.sparse}
    # the document's own terms carry weight (tied-embedding head)
    own = bundle.tokenizer.encode("microglia immune", add_special_tokens=False).ids
    assert all(str(i) in first.sparse for i in own)
    assert long_doc.truncated and long_doc.n_tokens == 256 - 2 and not first.truncated


def test_document_prompt_positions_are_masked(minilm_bundle):
    """A term that appears only in the document prompt must not get weight from the prompt positions."""
    from lightretriever.encode.document import DocumentEncoder, EncoderSettings

    bundle = Bundle.load(minilm_bundle)
    base = DocumentEncoder.from_bundle(bundle, device="cpu")
    settings = EncoderSettings(**{**base.settings.__dict__, "prompts": {"query": "", "document": "zebra zebra"},
                                  "prune_top_k": None})
    prompted = DocumentEncoder(base.backbone, settings)
    zebra = str(bundle.tokenizer.token_to_id("zebra"))
    with_prompt = prompted.encode_documents(["protein folding"])[0].sparse
    with_word = DocumentEncoder(base.backbone, EncoderSettings(**{**settings.__dict__, "prompts": {
        "query": "", "document": ""}})).encode_documents(["zebra zebra protein folding"])[0].sparse
    assert with_word[zebra] > with_prompt.get(zebra, 0.0) + 0.5
