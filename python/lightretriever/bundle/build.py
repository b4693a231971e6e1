"""Build a zero-shot bundle from a backbone: tokenizer files, token table, manifest. Needs torch."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from lightretriever.bundle.bundle import Bundle, tokenizer_vocab_size, write_table
from lightretriever.bundle.manifest import (
    FORMAT_VERSION,
    TABLE_FILE,
    TOKENIZER_FILE,
    default_fusion,
)
from lightretriever.errors import BundleError
from lightretriever.files import staged_dir

log = logging.getLogger(__name__)


def build_bundle(
    backbone: str,
    out: str | Path,
    *,
    query_prompt: str = "",
    document_prompt: str = "",
    prune_top_k: int | None = 256,
    prune_min_weight: float = 0.0,
    gguf_file: str | None = None,
    adapter: str | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    max_length: dict[str, int] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Bundle:
    """Encode every vocabulary id with `backbone` and write a verified bundle at `out`."""
    from lightretriever.encode.backbone import load_backbone
    from lightretriever.encode.table import build_token_table

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise BundleError(f"{out}: already exists and is not empty (use --overwrite)")
    bb = load_backbone(backbone, gguf_file=gguf_file, adapter=adapter, device=device)
    with staged_dir(out) as tmp:
        bb.tokenizer.save_pretrained(str(tmp / "tokenizer"))
        tok_file = tmp / TOKENIZER_FILE
        if not tok_file.is_file():
            raise BundleError(f"{backbone}: its tokenizer has no fast (tokenizer.json) form; cannot bundle it")
        _strip_runtime_settings(tok_file)
        tokenizer = Tokenizer.from_file(str(tok_file))
        vocab = tokenizer_vocab_size(tokenizer)
        log.info("encoding %d vocabulary ids with %s on %s", vocab, backbone, bb.device)
        table = build_token_table(bb, query_prompt, vocab_size=vocab, batch_size=batch_size, progress=progress)
        write_table(tmp / TABLE_FILE, table)
        manifest = make_manifest(bb, tok_file, vocab, query_prompt, document_prompt, prune_top_k,
                                 prune_min_weight, max_length)
        Bundle(tmp, manifest, tokenizer, table).save_manifest()
    return Bundle.load(out)


def make_manifest(bb, tok_file: Path, vocab: int, query_prompt: str, document_prompt: str,
                  prune_top_k: int | None, prune_min_weight: float,
                  max_length: dict[str, int] | None) -> dict[str, Any]:
    tok = bb.tokenizer
    unk = tok.unk_token_id
    exclude = sorted({i for i in bb.special_ids() if i < vocab} | ({unk} if unk is not None else set()))
    return {
        "format_version": FORMAT_VERSION,
        "backbone": {
            "name": bb.source.name if not Path(bb.source.name).exists() else str(Path(bb.source.name).resolve()),
            "revision": bb.source.revision,
            "kind": bb.kind,
            "gguf_file": bb.source.gguf_file,
            "adapter": bb.source.adapter,
        },
        "pooling": bb.pooling,
        "prompts": {"query": query_prompt, "document": document_prompt},
        "dense_dim": bb.hidden_size,
        "vocab_size": vocab,
        "normalize": True,
        "lowercase": tokenizer_lowercases(tok_file),
        "max_length": dict(max_length or bb.max_length),
        "sparse": {"head": bb.head_name, "prune_top_k": prune_top_k, "prune_min_weight": float(prune_min_weight)},
        "query": {"unk_id": unk, "exclude_ids": exclude},
        "fusion": default_fusion(),
        "files": {TOKENIZER_FILE: "", TABLE_FILE: ""},  # filled by save_manifest
    }


def tokenizer_lowercases(tok_file: Path) -> bool:
    """Whether tokenizer.json's normaliser lowercases (informational: the tokenizer itself applies it)."""
    normalizer = json.loads(tok_file.read_text(encoding="utf-8")).get("normalizer")

    def walk(node) -> bool:
        if not isinstance(node, dict):
            return False
        if node.get("type") == "Lowercase" or (node.get("type") == "BertNormalizer" and node.get("lowercase")):
            return True
        return any(walk(n) for n in node.get("normalizers", []) or [])

    return walk(normalizer)


def _strip_runtime_settings(tok_file: Path) -> None:
    """save_pretrained may store padding/truncation in tokenizer.json; light encoders (Python and Java)
    must see the raw token ids, so the bundle's copy has neither (truncation is max_length.query)."""
    data = json.loads(tok_file.read_text(encoding="utf-8"))
    if data.get("padding") is not None or data.get("truncation") is not None:
        data["padding"] = None
        data["truncation"] = None
        tok_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
