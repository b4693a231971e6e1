"""The three heads of the recipe on ONE shared backbone (`encode.backbone.Backbone`), trained jointly.

- full dense query:  the backbone on prefix + prompt + query + suffix (`encode.inputs.frame`), pooled and
                     L2-normalised: the baseline system, and what `DocumentEncoder.encode_queries` computes;
- light dense query: per-token blocks in one forward pass (train.light), averaged: what the token table
                     gives at query time;
- documents:         dense = pooled + normalised; sparse = max over text positions of log(1+relu(logits))
                     (train.sparse_head: same values as encode.pooling.sparse_pool, cheaper gradient).
Light sparse query = counts of the kept query ids: it has no parameters, so only the documents learn.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lightretriever.encode.backbone import Backbone
from lightretriever.encode.inputs import frame
from lightretriever.encode.pooling import dense_pool
from lightretriever.encode.text import document_text
from lightretriever.train.light import build_light_batch, light_dense
from lightretriever.train.pairs import Doc
from lightretriever.train.sparse_head import document_sparse, linear_head_weight


class ThreeHeadModel(nn.Module):
    def __init__(self, backbone: Backbone, *, query_prompt: str = "", document_prompt: str = "",
                 max_query_len: int | None = None, max_doc_len: int | None = None,
                 normalize_rows: bool = False):
        super().__init__()
        self.net = backbone.model  # registered: its parameters (body and, when separate, head) are trained
        self.bb = backbone
        tok = backbone.tokenizer
        self.query_prompt, self.document_prompt = query_prompt, document_prompt
        self.query_prompt_ids = tok(query_prompt, add_special_tokens=False)["input_ids"] if query_prompt else []
        self.doc_prompt_ids = tok(document_prompt, add_special_tokens=False)["input_ids"] if document_prompt else []
        self.max_query_len = max_query_len or backbone.max_length["query"]
        self.max_doc_len = max_doc_len or backbone.max_length["document"]
        self.exclude_ids = frozenset(backbone.special_ids()) | (
            {tok.unk_token_id} if tok.unk_token_id is not None else set())
        self.normalize_rows = normalize_rows
        self.vocab_size = int(max(tok.get_vocab().values()) + 1)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def _frame(self, texts: list[str], prompt_ids: list[int], max_len: int):
        ids = self.bb.tokenizer(texts, add_special_tokens=False)["input_ids"]
        return frame(ids, self.bb.prefix_ids, prompt_ids, self.bb.suffix_ids, max_len, self.bb.pad_id, self.device)

    # ---- the three heads ------------------------------------------------------------------------

    def full_query(self, queries: list[str]) -> torch.Tensor:
        b = self._frame(queries, self.query_prompt_ids, self.max_query_len)
        hidden = self.bb.hidden_states(b.input_ids, b.attention_mask)
        return nn.functional.normalize(dense_pool(hidden, b.attention_mask, self.bb.pooling).float(), dim=-1)

    def query_token_ids(self, queries: list[str]) -> list[list[int]]:
        """Kept ids per query exactly as the light query encoder keeps them (design.md)."""
        ids = self.bb.tokenizer(queries, add_special_tokens=False)["input_ids"]
        return [[i for i in row[: self.max_query_len] if i not in self.exclude_ids] for row in ids]

    def light_query(self, token_ids: list[list[int]]) -> torch.Tensor:
        lb = build_light_batch(token_ids, self.bb.prefix_ids + self.query_prompt_ids, self.bb.suffix_ids,
                               pad_id=self.bb.pad_id, pooling=self.bb.pooling,
                               shared_prefix=self.bb.kind == "decoder").to(self.device)
        dtype = torch.get_autocast_dtype(self.device.type) if torch.is_autocast_enabled(self.device.type) \
            else next(self.net.parameters()).dtype
        hidden = self.bb.hidden_states(lb.input_ids, lb.additive_mask(dtype), lb.position_ids)
        return light_dense(hidden, lb, normalize_rows=self.normalize_rows)

    def query_counts(self, token_ids: list[list[int]]) -> torch.Tensor:
        counts = torch.zeros(len(token_ids), self.vocab_size, device=self.device)
        for row, ids in enumerate(token_ids):
            counts[row].index_add_(0, torch.tensor(ids, device=self.device), torch.ones(len(ids), device=self.device))
        return counts

    def documents(self, docs: list[Doc]) -> tuple[torch.Tensor, torch.Tensor]:
        """(dense [n, D] normalised, sparse [n, V] >= 0) for documents."""
        b = self._frame([document_text(d.title, d.text) for d in docs], self.doc_prompt_ids, self.max_doc_len)
        hidden = self.bb.hidden_states(b.input_ids, b.attention_mask)
        dense = nn.functional.normalize(dense_pool(hidden, b.attention_mask, self.bb.pooling).float(), dim=-1)
        return dense, document_sparse(hidden, b.term_mask, self.bb.sparse_head, linear_head_weight(self.bb))

    # ---- inference helpers (hard-negative mining with the current model) -----------------------

    @torch.no_grad()
    def encode_documents_dense(self, docs: list[Doc], batch_size: int = 32) -> np.ndarray:
        was = self.training
        self.eval()
        out = []
        for i in range(0, len(docs), batch_size):
            b = self._frame([document_text(d.title, d.text) for d in docs[i:i + batch_size]], self.doc_prompt_ids,
                            self.max_doc_len)
            pooled = dense_pool(self.bb.hidden_states(b.input_ids, b.attention_mask), b.attention_mask, self.bb.pooling)
            out.append(nn.functional.normalize(pooled.float(), dim=-1).cpu())
        self.train(was)
        return torch.cat(out).numpy()

    @torch.no_grad()
    def encode_queries_dense(self, queries: list[str], batch_size: int = 32) -> np.ndarray:
        was = self.training
        self.eval()
        out = [self.full_query(queries[i:i + batch_size]).cpu() for i in range(0, len(queries), batch_size)]
        self.train(was)
        return torch.cat(out).numpy()


LORA_DEFAULTS = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": "all-linear"}


def load_trainable(spec: str, *, lora: bool | None = None, device: str | torch.device | None = None,
                   gguf_file: str | None = None, **model_kwargs) -> ThreeHeadModel:
    """Backbone from `encode.backbone.load_backbone` in float32 (bf16 comes from autocast), ready to train.

    lora=None picks the paper's split: full fine-tuning for encoders (MiniLM), LoRA r=16 / alpha=32 on
    all linear layers (peft) for decoders.
    """
    from lightretriever.encode.backbone import load_backbone, resolve_device

    bb = load_backbone(spec, gguf_file=gguf_file, device=resolve_device(device), dtype=torch.float32)
    if lora is None:
        lora = bb.kind == "decoder"
    if lora:
        from peft import LoraConfig, get_peft_model

        # peft injects the adapters into bb.model's modules in place, so bb.encoder runs them too.
        bb.model = get_peft_model(bb.model, LoraConfig(**LORA_DEFAULTS))
    model = ThreeHeadModel(bb, **model_kwargs)
    model.lora = bool(lora)
    model.spec = spec
    model.gguf_file = gguf_file
    return model
