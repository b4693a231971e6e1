"""The plugin's model registry: PUT | GET | DELETE _plugins/lightretriever/models/{name} (docs/design.md).

A bundle larger than INLINE_LIMIT (a Gemma 3 270M table is ~335 MB, more than a node's http.max_content_length)
is sent in chunks (POST .../_chunk), then committed by a PUT that names the upload; the node verifies every
file's sha256 against the manifest on the assembled bytes before it publishes the model.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

from opensearchpy.exceptions import NotFoundError, TransportError

from lightretriever.bundle import MANIFEST_FILE, Bundle
from lightretriever.plugin.errors import bundle_error

MODELS_PATH = "/_plugins/lightretriever/models/"
CHUNK_BYTES = 16 << 20  # raw bytes per chunk request (~21 MB of base64)
INLINE_LIMIT = 48 << 20  # larger bundles go in chunks (base64 adds a third; nodes refuse bodies over 100 MB by default)


def model_name_for(bundle_dir: str | Path) -> str:
    """A registry name that changes whenever any bundle file changes: 'lr-' + hash of the file checksums."""
    manifest = json.loads((Path(bundle_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))
    digest = hashlib.sha256(json.dumps(manifest.get("files", {}), sort_keys=True).encode()).hexdigest()
    return f"lr-{digest[:16]}"


def bundle_payload(bundle_dir: str | Path) -> dict[str, Any]:
    """PUT body: the manifest and every file it lists, base64. Bundle.load verifies checksums first."""
    bundle = Bundle.load(bundle_dir)
    files = {rel: base64.b64encode((bundle.path / rel).read_bytes()).decode("ascii") for rel in bundle.manifest["files"]}
    return {"manifest": bundle.manifest, "files": files}


def get_model(client, name: str) -> dict[str, Any] | None:
    """The stored descriptor (manifest + file checksums), or None when no such model."""
    try:
        return client.transport.perform_request("GET", MODELS_PATH + name)
    except NotFoundError:
        return None
    except TransportError as exc:
        raise bundle_error(exc, f"model {name!r}") from None


def upload_bundle(client, bundle_dir: str | Path, name: str | None = None, *, force: bool = False,
                  chunk_bytes: int | None = None) -> dict[str, Any]:
    """Upload a bundle under `name` (default: model_name_for(bundle_dir)); skipped when the node already
    holds the same files (same sha256s) unless `force`. Returns the node's answer or the stored descriptor.
    `chunk_bytes` forces a chunked upload with chunks of that size; by default only bundles over INLINE_LIMIT go in chunks."""
    name = name or model_name_for(bundle_dir)
    bundle = Bundle.load(bundle_dir)  # verifies the checksums
    if not force:
        stored = get_model(client, name)
        if stored is not None and {k: v.get("sha256") for k, v in stored.get("files", {}).items()} == bundle.manifest["files"]:
            return {"name": name, "skipped": True, **stored}
    total = sum((bundle.path / rel).stat().st_size for rel in bundle.manifest["files"])
    try:
        if chunk_bytes is None and total <= INLINE_LIMIT:
            # the table of a MiniLM bundle is ~31 MB of base64: allow the node time to verify and store it
            return client.transport.perform_request("PUT", MODELS_PATH + name, body=bundle_payload(bundle_dir),
                                                    params={"request_timeout": 300})
        return _upload_in_chunks(client, bundle, name, chunk_bytes or CHUNK_BYTES)
    except TransportError as exc:
        raise bundle_error(exc, f"uploading {bundle_dir} as model {name!r}") from None


def _upload_in_chunks(client, bundle: Bundle, name: str, chunk_bytes: int) -> dict[str, Any]:
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes}")
    upload = uuid.uuid4().hex
    counts: dict[str, int] = {}
    for rel in bundle.manifest["files"]:
        seq = 0
        with open(bundle.path / rel, "rb") as fh:
            while True:
                data = fh.read(chunk_bytes)
                client.transport.perform_request("POST", f"{MODELS_PATH}{name}/_chunk", params={"request_timeout": 300}, body={
                    "upload": upload, "path": rel, "seq": seq, "data": base64.b64encode(data).decode("ascii")})
                seq += 1
                if len(data) < chunk_bytes:
                    break
        counts[rel] = seq
    body = {"manifest": bundle.manifest, "upload": upload, "chunks": counts}
    return client.transport.perform_request("PUT", MODELS_PATH + name, body=body, params={"request_timeout": 600})


def delete_model(client, name: str) -> bool:
    """True when the model existed and was removed."""
    try:
        client.transport.perform_request("DELETE", MODELS_PATH + name)
        return True
    except NotFoundError:
        return False
    except TransportError as exc:
        raise bundle_error(exc, f"deleting model {name!r}") from None
