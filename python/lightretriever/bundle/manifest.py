"""The bundle manifest (docs/design.md, "Model bundle"): schema, defaults and validation."""

from __future__ import annotations

from typing import Any

import jsonschema

from lightretriever.errors import BundleError
from lightretriever.fuse.registry import NAMES as FUSION_NAMES
from lightretriever.fuse.registry import default_config

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
TOKENIZER_FILE = "tokenizer/tokenizer.json"
TABLE_FILE = "token_table.safetensors"
TABLE_TENSOR = "table"
# Per-token weights on the sparse query's counts (query.sparse_weights "idf"): float32 [vocab_size], a second
# tensor of the table file (docs/design.md, "Light query encoding").
SPARSE_WEIGHTS_TENSOR = "sparse_weights"
SPARSE_WEIGHTINGS = (None, "idf")
LEARNED_FUSION_FILE = "fusion/learned.txt"

_INT = {"type": "integer", "minimum": 0}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "format_version", "backbone", "pooling", "prompts", "dense_dim", "vocab_size", "normalize",
        "lowercase", "max_length", "sparse", "query", "fusion", "files",
    ],
    "properties": {
        "format_version": {"const": FORMAT_VERSION},
        "backbone": {
            "type": "object",
            "required": ["name", "revision", "kind"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "revision": {"type": ["string", "null"]},
                "kind": {"enum": ["encoder", "decoder"]},
                "gguf_file": {"type": ["string", "null"]},
                "adapter": {"type": ["string", "null"]},
            },
        },
        "pooling": {"enum": ["mean", "cls", "last"]},
        "prompts": {
            "type": "object",
            "required": ["query", "document"],
            "properties": {"query": {"type": "string"}, "document": {"type": "string"}},
        },
        "dense_dim": {"type": "integer", "minimum": 1},
        "vocab_size": {"type": "integer", "minimum": 1},
        "normalize": {"type": "boolean"},
        "lowercase": {"type": "boolean"},
        "max_length": {
            "type": "object",
            "required": ["document", "query"],
            "properties": {
                "document": {"type": "integer", "minimum": 1},
                "query": {"type": "integer", "minimum": 1},
            },
        },
        "sparse": {
            "type": "object",
            "required": ["head", "prune_top_k", "prune_min_weight"],
            "properties": {
                "head": {"enum": ["mlm", "tied-embeddings", "lm-head"]},
                "prune_top_k": {"type": ["integer", "null"], "minimum": 1},
                "prune_min_weight": {"type": "number", "minimum": 0},
            },
        },
        "query": {
            "type": "object",
            "required": ["unk_id", "exclude_ids"],
            "properties": {
                "unk_id": {"type": ["integer", "null"], "minimum": 0},
                "exclude_ids": {"type": "array", "items": _INT},
                "sparse_weights": {"enum": list(SPARSE_WEIGHTINGS)},
            },
        },
        "fusion": {
            "type": "object",
            "required": ["default"],
            "properties": {
                "default": {"enum": list(FUSION_NAMES)},
                "linear": {
                    "type": "object",
                    "properties": {"weights": {"type": "object", "additionalProperties": {"type": "number"}}},
                },
                "rrf": {"type": "object", "properties": {"k": {"type": "number", "exclusiveMinimum": 0}}},
                "learned": {
                    "type": ["object", "null"],
                    "required": ["model_file", "systems", "features", "depth"],
                    "properties": {
                        "model_file": {"type": "string"},
                        "systems": {"type": "array", "items": {"type": "string"}},
                        "features": {"type": "array", "items": {"type": "string"}},
                        "depth": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
        "files": {
            "type": "object",
            "required": [TOKENIZER_FILE, TABLE_FILE],
            "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
}

def default_fusion() -> dict[str, Any]:
    """A new bundle's `fusion` section: the registry's defaults, defined there once."""
    return default_config()


def validate_manifest(manifest: Any, source: str) -> None:
    """Raise BundleError naming `source` and the first schema violation."""
    if not isinstance(manifest, dict):
        raise BundleError(f"{source}: manifest must be a JSON object")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(f"{source}: unsupported format_version {version!r} (this version reads {FORMAT_VERSION})")
    try:
        jsonschema.validate(manifest, SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise BundleError(f"{source}: invalid manifest at {where}: {exc.message}") from None
