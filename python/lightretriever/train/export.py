"""Export: trained weights -> a Hugging Face directory (or a peft adapter) -> a bundle.

The bundle is written by `lightretriever.bundle.build.build_bundle`, the same code as `lightretriever bundle
build`: the token table is computed from the TRAINED query encoder by `encode.table.build_token_table`.
The trained weights (full fine-tune: the model; LoRA: the adapter) are then copied into the bundle's
`backbone/` and the manifest names them relative to the bundle, so the bundle can be moved or shipped to
the machines that ingest. Ingest (document encoder) and search use it unchanged.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from lightretriever.bundle import Bundle
from lightretriever.train.model import ThreeHeadModel

log = logging.getLogger(__name__)

BACKBONE_DIR = "backbone"  # inside the bundle; not in manifest["files"], so the plugin upload skips it

# sentence-transformers files that carry pooling and max_seq_length: load_backbone reads them back.
ST_FILES = ("modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling")


def save_model(model: ThreeHeadModel, out: Path) -> Path:
    """Write the trained backbone (full fine-tune: HF dir; LoRA: adapter dir) and return its path."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model.net.save_pretrained(str(out))
    if not getattr(model, "lora", False):
        model.bb.tokenizer.save_pretrained(str(out))
        st_dir = model.bb.source.st_dir
        for name in ST_FILES if st_dir else ():
            src = Path(st_dir) / name
            if src.is_dir():
                shutil.copytree(src, out / name)
            elif src.is_file():
                shutil.copy2(src, out / name)
    return out


def export_bundle(model: ThreeHeadModel, model_dir: Path, bundle_dir: Path, *, query_prompt: str = "",
                  document_prompt: str = "", prune_top_k: int | None = 256, max_doc_len: int | None = None,
                  device: str | None = None, progress: bool = True) -> Bundle:
    """Save the model to `model_dir`, then build a bundle from it at `bundle_dir` (overwritten)."""
    from lightretriever.bundle.build import build_bundle

    saved = save_model(model, model_dir)
    max_length = dict(model.bb.max_length)
    if max_doc_len:
        max_length["document"] = max_doc_len
    if getattr(model, "lora", False):
        backbone, adapter, gguf = model.spec, str(saved.resolve()), model.gguf_file
    else:
        backbone, adapter, gguf = str(saved.resolve()), None, None
    log.info("building bundle %s from %s", bundle_dir, backbone if adapter is None else f"{backbone} + {adapter}")
    bundle = build_bundle(backbone, bundle_dir, query_prompt=query_prompt, document_prompt=document_prompt,
                          prune_top_k=prune_top_k, adapter=adapter, gguf_file=gguf, device=device,
                          max_length=max_length, overwrite=True, progress=progress)
    shutil.copytree(saved, bundle.path / BACKBONE_DIR)
    bundle.manifest["backbone"]["adapter" if adapter else "name"] = BACKBONE_DIR
    bundle.save_manifest()
    return bundle
