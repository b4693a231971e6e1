"""Identity of a bundle's DOCUMENT encoder: what an index's vectors were written by.

Adapting the query side (table post-processing, `lightretriever adapt`) leaves it unchanged, so an adapted
bundle still matches the index it was adapted on; a bundle whose backbone, pooling, document prompt or
sparse head differ gets another id, and search/eval/adapt refuse an index that records a different one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

DOCUMENT_ENCODER_KEY = "document_encoder"


def document_encoder_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest settings that change document vectors (everything else is query side or fusion)."""
    return {
        "backbone": {k: manifest["backbone"].get(k) for k in ("name", "revision", "kind", "gguf_file", "adapter")},
        "pooling": manifest["pooling"],
        "document_prompt": manifest["prompts"]["document"],
        "normalize": manifest["normalize"],
        "max_length": manifest["max_length"]["document"],
        "sparse": manifest["sparse"],
        "dense_dim": manifest["dense_dim"],
        "vocab_size": manifest["vocab_size"],
    }


def document_encoder_id(bundle) -> str:
    """The id the manifest records (adapted bundles carry their source's), else computed from the spec plus
    the bytes of any backbone weights kept inside the bundle (a trained bundle's `backbone/`)."""
    recorded = (bundle.manifest.get(DOCUMENT_ENCODER_KEY) or {}).get("id")
    if recorded:
        return str(recorded)
    digest = hashlib.sha256(json.dumps(document_encoder_spec(bundle.manifest), sort_keys=True).encode())
    for value in (bundle.manifest["backbone"].get("name"), bundle.manifest["backbone"].get("adapter")):
        if value and not Path(value).is_absolute() and (bundle.path / value).exists():
            _hash_tree(digest, bundle.path / value)
    return digest.hexdigest()


def _hash_tree(digest, root: Path) -> None:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for file in files:
        digest.update(file.relative_to(root.parent).as_posix().encode())
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)


def check_index(client, index: str, bundle) -> None:
    """Refuse (MappingError) an index written by another document encoder than `bundle`'s; log a warning
    for an index that records none (ingested before ids were recorded: it cannot be checked)."""
    from lightretriever.mappings import check_document_encoder

    _warn_unchecked(check_document_encoder(client, index, document_encoder_id(bundle)), bundle)


async def check_index_async(client, index: str, bundle) -> None:
    """`check_index` through opensearch-py's AsyncOpenSearch."""
    from lightretriever.mappings import judge_document_encoders, recorded_document_encoders_async

    recorded = await recorded_document_encoders_async(client, index)
    _warn_unchecked(judge_document_encoders(recorded, document_encoder_id(bundle)), bundle)


def _warn_unchecked(unchecked: list[str], bundle) -> None:
    import logging

    if unchecked:
        logging.getLogger(__name__).warning(
            "index %s records no document encoder (ingested before ids were recorded): cannot check that %s "
            "wrote its vectors", ", ".join(unchecked), bundle.path,
        )
