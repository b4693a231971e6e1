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
from lightretriever.encode.pooling import dense_pool, sparse_pool_terms
from lightretriever.errors import BundleError, QueryError, RecordError

if TYPE_CHECKING:
    from lightretriever.bundle import Bundle


# Logits are projected a few positions at a time: positions x vocab stays near this many floats
# (256 MB), e.g. 256 text positions per matmul over Gemma's 262k vocabulary, 2,198 over MiniLM's 30k.
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
    def from_bundle(cls, bundle: Bundle, device: str | None = None, batch_size: int = 32,
                    dtype: str | torch.dtype | None = None) -> DocumentEncoder:
        """`dtype` None: float32 on CPU, half precision on a GPU (backbone.default_dtype), so encodings compare
        exactly. "bfloat16" on a CPU with AVX512-BF16/AMX is about 3x faster and changes them slightly; ingest
        uses it there by default (backbone.ingest_dtype)."""
        m = bundle.manifest
        bb = m["backbone"]
        name, adapter = bundle.backbone_source()
        backbone = load_backbone(
            name, gguf_file=bb.get("gguf_file"), adapter=adapter, device=device,
            pooling=m["pooling"], sparse_head=m["sparse"]["head"],
            dtype=getattr(torch, dtype) if isinstance(dtype, str) else dtype,
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
        """Batches in length order. One batch deep of software pipelining: batch n+1 is framed and queued on the
        device before batch n's results are turned into Python objects, so on a GPU the host work (pruned dicts)
        overlaps the next forward pass instead of leaving the GPU idle. On a CPU it only reorders work."""
        bb = self.backbone
        ids = bb.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))  # similar lengths together: less padding
        pending = None
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = frame([ids[i] for i in idx], bb.prefix_ids, self._prompt_ids[role], bb.suffix_ids,
                          self.settings.max_length[role], bb.pad_id, bb.device)
            launched = (idx, batch, self._device_stage(batch, with_sparse))
            if pending is not None:
                yield self._host_stage(*pending)
            pending = launched
        if pending is not None:
            yield self._host_stage(*pending)

    def _device_stage(self, batch, with_sparse: bool):
        """Forward pass, pooling and top-k on the device; results start copying to the host (non-blocking)."""
        bb = self.backbone
        with torch.inference_mode():
            hidden = bb.hidden_states(batch.input_ids, batch.attention_mask)
            dense = dense_pool(hidden, batch.attention_mask, bb.pooling).float()
            if self.settings.normalize:
                dense = torch.nn.functional.normalize(dense, dim=-1)
            tensors = [dense]
            if with_sparse:
                tensors += self._sparse_topk(hidden, batch.term_mask)
        return to_host(tensors)

    def _host_stage(self, idx, batch, staged):
        tensors, ready = staged
        if ready is not None:
            ready.synchronize()
        dense, *sparse = [t.numpy() for t in tensors]
        return idx, dense, (self._sparse_dicts(*sparse) if sparse else None), batch

    def _sparse_topk(self, hidden: torch.Tensor, term_mask: torch.Tensor) -> list[torch.Tensor]:
        rows = max(1, SPARSE_CHUNK_ELEMENTS // self._head_vocab)
        return self._prune(sparse_pool_terms(hidden, term_mask, self.backbone.sparse_head, chunk_rows=rows))

    def _prune(self, weights: torch.Tensor) -> list[torch.Tensor]:
        """[B, V] weights -> (values, ids) on the device: special ids dropped, min weight, top-k."""
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
        return [values, indices]

    @staticmethod
    def _sparse_dicts(values: np.ndarray, indices: np.ndarray) -> list[dict[str, float]]:
        result = []
        for vals, ids in zip(values, indices):
            keep = vals > 0
            result.append({str(int(i)): float(v) for i, v in zip(ids[keep], vals[keep])})
        return result


def to_host(tensors: list[torch.Tensor]) -> tuple[list[torch.Tensor], torch.cuda.Event | None]:
    """Copies to the host. From a GPU: into pinned memory, without blocking, plus an event to wait on."""
    if not tensors or tensors[0].device.type != "cuda":
        return [t.cpu() for t in tensors], None
    host = [torch.empty(t.shape, dtype=t.dtype, pin_memory=True) for t in tensors]
    for dst, src in zip(host, tensors):
        dst.copy_(src, non_blocking=True)
    ready = torch.cuda.Event()
    ready.record()
    return host, ready
