"""Load, verify and update a model bundle directory. numpy/tokenizers only: no torch at query time."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
from tokenizers import Tokenizer

from lightretriever.bundle.manifest import (
    MANIFEST_FILE,
    SPARSE_WEIGHTS_TENSOR,
    TABLE_FILE,
    TABLE_TENSOR,
    TOKENIZER_FILE,
    validate_manifest,
)
from lightretriever.errors import BundleError
from lightretriever.files import atomic_write


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tokenizer_vocab_size(tokenizer: Tokenizer) -> int:
    """Rows the table needs: highest token id + 1 (ids need not be dense in added tokens)."""
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    return max(vocab.values()) + 1


def _relative(path: str) -> str:
    rel = Path(path)
    if rel.is_absolute() or ".." in rel.parts:
        raise BundleError(f"bundle file path must be relative and inside the bundle: {path!r}")
    return rel.as_posix()


class Bundle:
    """A verified bundle: `manifest` (dict), `tokenizer` (tokenizers.Tokenizer), `table` (float16 [V, D]),
    `sparse_weights` (float32 [V] when manifest query.sparse_weights names a weighting, else None)."""

    def __init__(self, path: Path, manifest: dict[str, Any], tokenizer: Tokenizer, table: np.ndarray,
                 sparse_weights: np.ndarray | None = None):
        self.path = path
        self.manifest = manifest
        self.tokenizer = tokenizer
        self.table = table
        self.sparse_weights = sparse_weights

    @property
    def dense_dim(self) -> int:
        return int(self.manifest["dense_dim"])

    @property
    def vocab_size(self) -> int:
        return int(self.manifest["vocab_size"])

    # ---- loading -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike) -> Bundle:
        """Read and verify a bundle; BundleError names the file and the reason for any mismatch."""
        root = Path(path)
        if not root.is_dir():
            raise BundleError(f"{root}: not a bundle directory")
        manifest = read_manifest(root)
        verify_checksums(root, manifest)
        tokenizer = _load_tokenizer(root / TOKENIZER_FILE)
        table, sparse_weights = _load_table(root / TABLE_FILE, manifest)
        _verify_shapes(root, manifest, tokenizer, table)
        return cls(root, manifest, tokenizer, table, sparse_weights)

    def backbone_source(self) -> tuple[str, str | None]:
        """(backbone name, adapter) from the manifest; a relative path that exists inside the bundle (a
        trained bundle's `backbone/`) is resolved against it, anything else (hub id, alias) is kept."""
        bb = self.manifest["backbone"]

        def inside(value: str | None) -> str | None:
            if value and not Path(value).is_absolute() and (self.path / value).exists():
                return str(self.path / value)
            return value

        return inside(bb["name"]), inside(bb.get("adapter"))

    # ---- updating (fusion model, trained tables) -----------------------------------------------

    def add_file(self, relpath: str, data: bytes | str | os.PathLike) -> str:
        """Write `data` (bytes, or the path of a file to copy) at `relpath`; record its checksum. Returns it."""
        rel = _relative(relpath)
        if isinstance(data, (bytes, bytearray)):
            content = bytes(data)
        else:
            content = Path(data).read_bytes()
        atomic_write(self.path / rel, content)
        self.manifest["files"][rel] = hashlib.sha256(content).hexdigest()
        self.save_manifest()
        return self.manifest["files"][rel]

    def remove_file(self, relpath: str) -> None:
        rel = _relative(relpath)
        if rel in (TOKENIZER_FILE, TABLE_FILE):
            raise BundleError(f"{self.path}: {rel} is required and cannot be removed")
        (self.path / rel).unlink(missing_ok=True)
        self.manifest["files"].pop(rel, None)
        self.save_manifest()

    def update_section(self, section: str, value: Any) -> None:
        """Set a manifest section (dotted path, e.g. "fusion.learned"), recompute checksums, save."""
        keys = section.split(".")
        manifest = copy.deepcopy(self.manifest)
        node = manifest
        for key in keys[:-1]:
            if not isinstance(node.get(key), dict):
                raise BundleError(f"{self.path}: manifest has no section {'.'.join(keys[:-1])!r}")
            node = node[key]
        node[keys[-1]] = copy.deepcopy(value)
        self.manifest = manifest
        self.save_manifest()

    def save_manifest(self) -> None:
        """Recompute every listed checksum from disk, validate, and write manifest.json atomically."""
        for rel in list(self.manifest["files"]):
            file = self.path / rel
            if not file.is_file():
                raise BundleError(f"{self.path}: manifest lists {rel} but the file is missing")
            self.manifest["files"][rel] = sha256_file(file)
        validate_manifest(self.manifest, str(self.path / MANIFEST_FILE))
        text = json.dumps(self.manifest, indent=2, sort_keys=False) + "\n"
        atomic_write(self.path / MANIFEST_FILE, text.encode("utf-8"))


def read_manifest(root: Path) -> dict[str, Any]:
    file = root / MANIFEST_FILE
    if not file.is_file():
        raise BundleError(f"{file}: missing (not a model bundle)")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{file}: not valid JSON: {exc}") from None
    validate_manifest(manifest, str(file))
    return manifest


def verify_checksums(root: Path, manifest: dict[str, Any]) -> None:
    for rel, expected in manifest["files"].items():
        file = root / _relative(rel)
        if not file.is_file():
            raise BundleError(f"{file}: listed in the manifest but missing")
        actual = sha256_file(file)
        if actual != expected:
            raise BundleError(f"{file}: checksum mismatch (manifest {expected[:12]}…, file {actual[:12]}…)")


def write_table(path: Path, table: np.ndarray, sparse_weights: np.ndarray | None = None) -> None:
    tensors = {TABLE_TENSOR: np.ascontiguousarray(table, dtype=np.float16)}
    if sparse_weights is not None:
        tensors[SPARSE_WEIGHTS_TENSOR] = np.ascontiguousarray(sparse_weights, dtype=np.float32)
    save_file(tensors, str(path))


def _load_tokenizer(file: Path) -> Tokenizer:
    try:
        tokenizer = Tokenizer.from_file(str(file))
    except Exception as exc:  # noqa: BLE001 - tokenizers raises a bare Exception on malformed JSON
        raise BundleError(f"{file}: cannot be read as a tokenizers tokenizer: {exc}") from None
    tokenizer.no_padding()  # query ids must be the raw ids (design.md), whatever the file says
    tokenizer.no_truncation()
    return tokenizer


def _load_table(file: Path, manifest: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        tensors = load_file(str(file))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BundleError(f"{file}: not a readable safetensors file: {exc}") from None
    if TABLE_TENSOR not in tensors:
        raise BundleError(f"{file}: no tensor named {TABLE_TENSOR!r} (found {sorted(tensors)})")
    weighting = manifest["query"].get("sparse_weights")
    if weighting is None:
        return tensors[TABLE_TENSOR], None
    weights = tensors.get(SPARSE_WEIGHTS_TENSOR)
    rows = manifest["vocab_size"]
    if weights is None or weights.dtype != np.float32 or weights.shape != (rows,):
        found = "none" if weights is None else f"{weights.dtype} {list(weights.shape)}"
        raise BundleError(f"{file}: manifest query.sparse_weights is {weighting!r}, so the file needs a float32 "
                          f"tensor {SPARSE_WEIGHTS_TENSOR!r} of shape [{rows}] (found {found})")
    if not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise BundleError(f"{file}: {SPARSE_WEIGHTS_TENSOR!r} holds negative, NaN or infinite weights")
    return tensors[TABLE_TENSOR], weights


def _verify_shapes(root: Path, manifest: dict[str, Any], tokenizer: Tokenizer, table: np.ndarray) -> None:
    table_file = root / TABLE_FILE
    if table.dtype != np.float16:
        raise BundleError(f"{table_file}: table dtype is {table.dtype}, expected float16")
    if table.ndim != 2:
        raise BundleError(f"{table_file}: table must be 2-D [vocab_size, dense_dim], got shape {table.shape}")
    rows, dim = table.shape
    if dim != manifest["dense_dim"]:
        raise BundleError(f"{table_file}: table has {dim} columns but manifest dense_dim is {manifest['dense_dim']}")
    if rows != manifest["vocab_size"]:
        raise BundleError(f"{table_file}: table has {rows} rows but manifest vocab_size is {manifest['vocab_size']}")
    tok_vocab = tokenizer_vocab_size(tokenizer)
    if tok_vocab != rows:
        raise BundleError(
            f"{root / TOKENIZER_FILE}: tokenizer vocabulary has {tok_vocab} ids but the table has {rows} rows"
        )
    query = manifest["query"]
    bad = [i for i in [query["unk_id"], *query["exclude_ids"]] if i is not None and i >= rows]
    if bad:
        raise BundleError(f"{root / MANIFEST_FILE}: query ids {bad} are outside the vocabulary ({rows})")
    if not np.isfinite(table).all():
        raise BundleError(f"{table_file}: table contains NaN or infinite values")
