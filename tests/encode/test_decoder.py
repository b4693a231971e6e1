"""Decoder path with a tiny random Llama: last-token pooling, LM-head sparse, packed token table, peft adapter."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lightretriever.bundle import Bundle
from lightretriever.encode.backbone import load_backbone
from lightretriever.encode.document import DocumentEncoder
from lightretriever.encode.query import LightQueryEncoder
from lightretriever.encode.table import build_token_table
from lightretriever.errors import BundleError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tiny_llama_dir):
    return load_backbone(str(tiny_llama_dir), device="cpu")


def test_backbone_detects_decoder(tiny):
    assert tiny.kind == "decoder" and tiny.pooling == "last" and tiny.head_name == "lm-head"
    assert tiny.prefix_ids == [tiny.tokenizer.bos_token_id] and tiny.suffix_ids == [tiny.tokenizer.eos_token_id]


def test_tiny_decoder_bundle_one_token_query_equals_full_encoder(tiny_decoder_bundle):
    bundle = Bundle.load(tiny_decoder_bundle)
    m = bundle.manifest
    assert m["backbone"]["kind"] == "decoder" and m["pooling"] == "last" and m["sparse"]["head"] == "lm-head"
    assert m["prompts"]["query"] == "query: " and bundle.table.shape == (30522, 32)
    full = DocumentEncoder.from_bundle(bundle, device="cpu")
    light = LightQueryEncoder.from_bundle(bundle)
    words = ["protein", "cell", "brain"]
    for word, vec in zip(words, full.encode_queries(words)):
        np.testing.assert_allclose(light.encode_query(word).dense, vec, atol=3e-3, err_msg=word)


def test_packed_block_diagonal_table_equals_plain(tiny):
    ids = [0, 5, 101, 2000, 2054, 7592, 30521]
    plain = build_token_table(tiny, "query: ", ids=ids, block_diagonal=False, progress=False)
    packed = build_token_table(tiny, "query: ", ids=ids, block_diagonal=True, batch_size=3, progress=False)
    np.testing.assert_allclose(packed.astype(np.float32), plain.astype(np.float32), atol=2e-3)
    assert np.abs(plain.astype(np.float32)).max() > 0.1  # rows are real vectors, not zeros


def test_packed_table_with_mean_pooling_equals_plain(tiny_llama_dir):
    mean_bb = load_backbone(str(tiny_llama_dir), device="cpu", pooling="mean")
    ids = [7, 2054, 7592]
    plain = build_token_table(mean_bb, "query: ", ids=ids, block_diagonal=False, progress=False)
    packed = build_token_table(mean_bb, "query: ", ids=ids, block_diagonal=True, progress=False)
    np.testing.assert_allclose(packed.astype(np.float32), plain.astype(np.float32), atol=2e-3)


def test_decoder_documents_sparse_from_lm_head(tiny):
    enc = DocumentEncoder.from_backbone(tiny, document_prompt="passage: ", prune_top_k=50)
    texts = ["protein folding in cells", "the brain and the immune system"]
    docs = enc.encode_documents(texts)
    special = set(tiny.special_ids())
    for doc, text in zip(docs, texts):
        assert np.linalg.norm(doc.dense) == pytest.approx(1.0, abs=1e-5)
        assert 0 < len(doc.sparse) <= 50 and all(w > 0 for w in doc.sparse.values())
        assert not special & {int(k) for k in doc.sparse}
    # the max over positions of log1p(relu(lm_head(h))) computed directly from the model
    ids = tiny.tokenizer(texts[0], add_special_tokens=False)["input_ids"]
    prompt = tiny.tokenizer("passage: ", add_special_tokens=False)["input_ids"]
    seq = torch.tensor([tiny.prefix_ids + prompt + ids + tiny.suffix_ids])
    with torch.no_grad():
        logits = tiny.model(seq).logits[0, 1 + len(prompt): 1 + len(prompt) + len(ids)]
    expected = torch.log1p(torch.relu(logits)).amax(dim=0)
    for key, weight in docs[0].sparse.items():
        assert weight == pytest.approx(float(expected[int(key)]), abs=1e-4)
    top = torch.topk(expected, 5).indices.tolist()
    assert all(str(i) in docs[0].sparse for i in top if i not in special)


# ---- peft adapter in the layout of the authors' released checkpoints -----------------------------------


@pytest.fixture(scope="module")
def adapter_dir(tiny_llama_dir, tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir))
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                                            "gate_proj", "up_proj", "down_proj"])
    peft_model = get_peft_model(base, config)
    torch.manual_seed(1)
    with torch.no_grad():  # lora_B starts at zero: make the adapter actually change the model
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    out = tmp_path_factory.mktemp("adapter")
    peft_model.save_pretrained(str(out))
    seq = torch.tensor([[101, 2054, 7592, 102]])
    with torch.no_grad():
        expected = peft_model(seq, output_hidden_states=True).hidden_states[-1]
    return out, seq, expected


def test_adapter_dir_alone_loads_base_from_adapter_config(adapter_dir, tiny_llama_dir, tiny):
    path, seq, expected = adapter_dir
    assert json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_llama_dir)
    bb = load_backbone(str(path), device="cpu")
    assert bb.source.adapter == str(path) and bb.kind == "decoder"
    with torch.no_grad():
        got = bb.hidden_states(seq, torch.ones_like(seq))
        base = tiny.hidden_states(seq, torch.ones_like(seq))
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    assert (got - base).abs().max() > 1e-2  # the adapter really was applied


def test_explicit_base_plus_adapter_and_bundle(adapter_dir, tiny_llama_dir, tmp_path):
    from lightretriever.bundle.build import build_bundle

    path, seq, expected = adapter_dir
    bb = load_backbone(str(tiny_llama_dir), adapter=str(path), device="cpu")
    with torch.no_grad():
        torch.testing.assert_close(bb.hidden_states(seq, torch.ones_like(seq)), expected, atol=1e-4, rtol=1e-4)
    bundle = build_bundle(str(tiny_llama_dir), tmp_path / "b", adapter=str(path), device="cpu", progress=False,
                          batch_size=4096)
    assert bundle.manifest["backbone"]["adapter"] == str(path)
    full = DocumentEncoder.from_bundle(bundle, device="cpu")  # reloads base + adapter from the manifest
    light = LightQueryEncoder.from_bundle(bundle)
    np.testing.assert_allclose(light.encode_query("protein").dense, full.encode_queries(["protein"])[0], atol=3e-3)


def test_not_an_adapter_is_refused(tiny_llama_dir, tmp_path):
    with pytest.raises(BundleError, match="not a peft adapter directory"):
        load_backbone(str(tiny_llama_dir), adapter=str(tmp_path), device="cpu")


def test_pipelined_batches_equal_one_batch(tiny_decoder_bundle):
    """DocumentEncoder._run queues batch n+1 before finishing batch n: results match one single batch."""
    bundle = Bundle.load(tiny_decoder_bundle)
    texts = ["protein folding in cells", "a", "gene expression of tumor growth receptors in mice", "cell cycle",
             "the receptor", "mouse model of cancer with many more words than the others here"]
    whole = DocumentEncoder.from_bundle(bundle, device="cpu", batch_size=64).encode_documents(texts)
    piecewise = DocumentEncoder.from_bundle(bundle, device="cpu", batch_size=2).encode_documents(texts)
    for a, b in zip(whole, piecewise):
        np.testing.assert_allclose(a.dense, b.dense, atol=1e-5)
        assert a.sparse.keys() == b.sparse.keys() and a.n_tokens == b.n_tokens
        np.testing.assert_allclose([a.sparse[k] for k in a.sparse], [b.sparse[k] for k in a.sparse], atol=1e-5)
