"""The light dense training path (one packed forward pass per query) equals the token-table lookup."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lightretriever.encode.table import build_token_table
from lightretriever.train.light import build_light_batch
from lightretriever.train.model import load_trainable

QUERIES = ["Mice lacking the p53 gene develop tumours early.", "what is BRCA1?", "the the the cell cell",
           "0-dimensional biomaterials show inductive properties"]


def table_lookup(table: np.ndarray, ids: list[int]) -> np.ndarray:
    """design.md: mean of float32(table[kept]), L2-normalised."""
    v = table[ids].astype(np.float32).mean(axis=0)
    return v / np.linalg.norm(v)


def check_equal_to_table(model, atol16: float) -> None:
    model.eval()
    kept = model.query_token_ids(QUERIES)
    assert all(kept)
    vocab = sorted({i for row in kept for i in row})
    with torch.no_grad():
        light = model.light_query(kept).cpu().numpy()
        rows32 = build_token_table(model.bb, model.query_prompt, ids=vocab, progress=False)  # float16 as in the bundle
    table = np.zeros((model.vocab_size, rows32.shape[1]), dtype=np.float16)
    table[vocab] = rows32
    for q, ids, vec in zip(QUERIES, kept, light):
        expected = table_lookup(table, ids)
        np.testing.assert_allclose(vec, expected, atol=atol16, err_msg=q)
    # and exactly (float32) against one forward pass per token, no packing
    with torch.no_grad():
        for ids, vec in zip(kept, light):
            per_token = []
            for t in ids:
                x = torch.tensor([model.bb.prefix_ids + model.query_prompt_ids + [t] + model.bb.suffix_ids])
                h = model.bb.hidden_states(x, torch.ones_like(x))
                from lightretriever.encode.pooling import dense_pool

                per_token.append(dense_pool(h, torch.ones_like(x), model.bb.pooling)[0])
            mean = torch.nn.functional.normalize(torch.stack(per_token).mean(0), dim=0).numpy()
            np.testing.assert_allclose(vec, mean, atol=1e-5)


def test_light_path_equals_table_encoder(tiny_bert_dir):
    model = load_trainable(str(tiny_bert_dir), device="cpu")
    assert model.bb.kind == "encoder" and model.bb.pooling == "mean"
    check_equal_to_table(model, atol16=2e-3)


def test_light_path_equals_table_encoder_with_prompt(tiny_bert_dir):
    model = load_trainable(str(tiny_bert_dir), device="cpu", query_prompt="query:")
    assert model.query_prompt_ids
    check_equal_to_table(model, atol16=2e-3)


def test_light_path_equals_table_decoder_shared_prefix(tiny_llama_dir):
    model = load_trainable(str(tiny_llama_dir), device="cpu", lora=False, query_prompt="query: ")
    assert model.bb.kind == "decoder" and model.bb.pooling == "last"
    check_equal_to_table(model, atol16=2e-3)


def test_light_path_matches_table_through_lora(tiny_llama_dir):
    """LoRA adapters are active in the packed pass exactly as in the table builder."""
    model = load_trainable(str(tiny_llama_dir), device="cpu", lora=True)
    with torch.no_grad():  # make the adapters non-zero so the test can tell
        for name, p in model.net.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2)
    check_equal_to_table(model, atol16=2e-3)


@pytest.mark.slow
def test_light_path_equals_minilm_bundle_table(minilm_bundle):
    """Against the real zero-shot MiniLM bundle built by `lightretriever bundle build`."""
    from lightretriever.bundle import Bundle
    from lightretriever.encode.query import LightQueryEncoder

    bundle = Bundle.load(minilm_bundle)
    encoder = LightQueryEncoder.from_bundle(bundle)
    model = load_trainable("minilm", device="cpu")
    model.eval()
    kept = model.query_token_ids(QUERIES)
    with torch.no_grad():
        light = model.light_query(kept).numpy()
    for q, ids, vec in zip(QUERIES, kept, light):
        enc = encoder.encode_query(q)
        assert [int(i) for i in ids] == [int(i) for i in enc.ids if int(i) not in set(bundle.manifest["query"]["exclude_ids"])]
        np.testing.assert_allclose(vec, enc.dense, atol=2e-3, err_msg=q)


def test_block_layout_encoder_and_decoder():
    enc = build_light_batch([[7, 8], [9]], [1], [2], pad_id=0, pooling="mean", shared_prefix=False)
    assert enc.input_ids.tolist() == [[1, 7, 2, 1, 8, 2], [1, 9, 2, 0, 0, 0]]
    assert enc.position_ids.tolist()[0] == [0, 1, 2, 0, 1, 2]
    assert enc.allowed[0, 0].tolist() == [True, True, True, False, False, False]  # block 1 is blind to block 2
    dec = build_light_batch([[7, 8]], [1, 5], [2], pad_id=0, pooling="last", shared_prefix=True)
    assert dec.input_ids.tolist() == [[1, 5, 7, 2, 8, 2]]
    assert dec.position_ids.tolist() == [[0, 1, 2, 3, 2, 3]]  # each block continues after the shared prefix
    assert dec.allowed[0, 4].tolist() == [True, True, False, False, True, False]
    assert dec.pool_weights[0, 1].tolist() == [0, 0, 0, 0, 0, 1.0]
    with pytest.raises(ValueError, match="at least one kept token"):
        build_light_batch([[]], [1], [2], pad_id=0, pooling="mean", shared_prefix=False)
