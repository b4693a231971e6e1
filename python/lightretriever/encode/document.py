"""Full-model encoding: documents at ingest (dense + sparse) and the full query encoder (dense baseline).

Dense = the backbone's pooling, L2-normalised. Sparse = max over text positions of log(1+relu(logits)),
special/padding/prompt positions masked, special ids dropped, then pruned (top-k and/or min weight).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from lightretriever.encode.backbone import Backbone, load_backbone
from lightretriever.encode.inputs import frame
from lightretriever.encode.pooling import dense_pool, sparse_pool
from lightretriever.errors import BundleError, QueryError, RecordError

if TYPE_CHECKING:
    from lightretriever.bundle import Bundle


# Logits are projected a few positions at a time: batch x chunk x vocab stays near this many floats
# (256 MB), e.g. 8 positions per chunk for a batch of 32 over Gemma's 262k vocabulary.
SPARSE_CHUNK_ELEMENTS = 1 << 26


@dataclass
class DocumentEncoding:
    dense: np.ndarray  # float32 [dense_dim], L2-normalised
    sparse: dict[str, float]  # token id (decimal string) -> weight > 0
    n_tokens: int  # text tokens the model saw (after truncation)
    truncated: bool


@dataclass
class EncoderSettings:
    prompts: dict[str, str]
    max_length: dict[str, int]
    prune_top_k: int | None = 256
    prune_min_weight: float = 0.0
    normalize: bool = True
    vocab_size: int | None = None  # sparse ids >= this are dropped (model vocab padding)
    exclude_ids: Sequence[int] = ()


class DocumentEncoder:
    def __init__(self, backbone: Backbone, settings: EncoderSettings, batch_size: int = 32):
        self.backbone = backbone
        self.settings = settings
        self.batch_size = batch_size
        tok = backbone.tokenizer
        self._prompt_ids = {
            role: tok(text, add_special_tokens=False)["input_ids"] if text else []
            for role, text in settings.prompts.items()
        }
        vocab = settings.vocab_size or len(tok)
        self._drop = torch.tensor(sorted(set(settings.exclude_ids) | set(backbone.special_ids())), dtype=torch.long)
        self._vocab_size = vocab
        self._head_vocab = backbone.model.get_input_embeddings().weight.shape[0]

    @classmethod
    def from_backbone(cls, backbone: Backbone, *, query_prompt: str = "", document_prompt: str = "",
                      prune_top_k: int | None = 256, prune_min_weight: float = 0.0,
                      max_length: dict[str, int] | None = None, batch_size: int = 32) -> DocumentEncoder:
        settings = EncoderSettings(
            prompts={"query": query_prompt, "document": document_prompt},
            max_length=dict(max_length or backbone.max_length),
            prune_top_k=prune_top_k,
            prune_min_weight=prune_min_weight,
        )
        return cls(backbone, settings, batch_size)

    @classmethod
    def from_bundle(cls, bundle: Bundle, device: str | None = None, batch_size: int = 32) -> DocumentEncoder:
        m = bundle.manifest
        bb = m["backbone"]
        name, adapter = bundle.backbone_source()
        backbone = load_backbone(
            name, gguf_file=bb.get("gguf_file"), adapter=adapter, device=device,
            pooling=m["pooling"], sparse_head=m["sparse"]["head"],
        )
        if bb.get("revision") and backbone.source.revision != bb["revision"]:
            raise BundleError(
                f"{bundle.path}: backbone {bb['name']} is revision {backbone.source.revision}, but the bundle "
                f"was built from {bb['revision']} (its token table would not match the documents)"
            )
        if backbone.hidden_size != m["dense_dim"]:
            raise BundleError(f"{bundle.path}: backbone hidden size {backbone.hidden_size} != dense_dim {m['dense_dim']}")
        settings = EncoderSettings(
            prompts=dict(m["prompts"]),
            max_length=dict(m["max_length"]),
            prune_top_k=m["sparse"]["prune_top_k"],
            prune_min_weight=m["sparse"]["prune_min_weight"],
            normalize=m["normalize"],
            vocab_size=m["vocab_size"],
            exclude_ids=m["query"]["exclude_ids"],
        )
        return cls(backbone, settings, batch_size)

    # ---- public API -------------------------------------------------------------------------------

    def encode_documents(self, texts: Sequence[str]) -> list[DocumentEncoding]:
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise RecordError(f"document #{i}: empty title and text (nothing to encode)")
        out: list[DocumentEncoding | None] = [None] * len(texts)
        for idx, dense, sparse, batch in self._run(texts, "document", with_sparse=True):
            for row, i in enumerate(idx):
                out[i] = DocumentEncoding(dense[row], sparse[row], batch.n_tokens[row], batch.truncated[row])
        return out  # type: ignore[return-value]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The FULL query encoder (runs the model): the full-dense baseline the light encoder approximates."""
        dim = self.backbone.hidden_size
        result = np.zeros((len(texts), dim), dtype=np.float32)
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise QueryError(f"query #{i} {text!r}: empty query")
        for idx, dense, _, _ in self._run(texts, "query", with_sparse=False):
            result[idx] = dense
        return result

    # ---- internals --------------------------------------------------------------------------------

    def _run(self, texts: Sequence[str], role: str, with_sparse: bool):
        bb = self.backbone
        ids = bb.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))  # similar lengths together: less padding
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = frame([ids[i] for i in idx], bb.prefix_ids, self._prompt_ids[role], bb.suffix_ids,
                          self.settings.max_length[role], bb.pad_id, bb.device)
            with torch.inference_mode():
                hidden = bb.hidden_states(batch.input_ids, batch.attention_mask)
                dense = dense_pool(hidden, batch.attention_mask, bb.pooling).float()
                if self.settings.normalize:
                    dense = torch.nn.functional.normalize(dense, dim=-1)
                sparse = self._sparse(hidden, batch.term_mask) if with_sparse else None
            yield idx, dense.cpu().numpy(), sparse, batch

    def _sparse(self, hidden: torch.Tensor, term_mask: torch.Tensor) -> list[dict[str, float]]:
        chunk = max(1, SPARSE_CHUNK_ELEMENTS // (hidden.shape[0] * self._head_vocab))
        weights = sparse_pool(hidden, term_mask, self.backbone.sparse_head, chunk=chunk)
        weights = weights[:, : self._vocab_size]
        drop = self._drop[self._drop < weights.shape[1]].to(weights.device)
        weights[:, drop] = 0.0
        if self.settings.prune_min_weight > 0:
            weights[weights < self.settings.prune_min_weight] = 0.0
        k = self.settings.prune_top_k
        if k and k < weights.shape[1]:
            values, indices = torch.topk(weights, k, dim=1)
        else:
            values, indices = weights, torch.arange(weights.shape[1], device=weights.device).expand_as(weights)
        values, indices = values.cpu().numpy(), indices.cpu().numpy()
        result = []
        for vals, ids in zip(values, indices):
            keep = vals > 0
            result.append({str(int(i)): float(v) for i, v in zip(ids[keep], vals[keep])})
        return result
