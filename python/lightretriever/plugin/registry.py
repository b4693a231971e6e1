"""The plugin's model registry: PUT | GET | DELETE _plugins/lightretriever/models/{name} (docs/design.md)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from opensearchpy.exceptions import NotFoundError, TransportError

from lightretriever.bundle import MANIFEST_FILE, Bundle
from lightretriever.plugin.errors import bundle_error

MODELS_PATH = "/_plugins/lightretriever/models/"


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


def upload_bundle(client, bundle_dir: str | Path, name: str | None = None, *, force: bool = False) -> dict[str, Any]:
    """Upload a bundle under `name` (default: model_name_for(bundle_dir)); skipped when the node already
    holds the same files (same sha256s) unless `force`. Returns the node's answer or the stored descriptor."""
    name = name or model_name_for(bundle_dir)
    payload = bundle_payload(bundle_dir)
    if not force:
        stored = get_model(client, name)
        wanted = payload["manifest"]["files"]
        if stored is not None and {k: v.get("sha256") for k, v in stored.get("files", {}).items()} == wanted:
            return {"name": name, "skipped": True, **stored}
    try:
        # the table of a MiniLM bundle is ~31 MB of base64: allow the node time to verify and store it
        return client.transport.perform_request("PUT", MODELS_PATH + name, body=payload, params={"request_timeout": 300})
    except TransportError as exc:
        raise bundle_error(exc, f"uploading {bundle_dir} as model {name!r}") from None


def delete_model(client, name: str) -> bool:
    """True when the model existed and was removed."""
    try:
        client.transport.perform_request("DELETE", MODELS_PATH + name)
        return True
    except NotFoundError:
        return False
    except TransportError as exc:
        raise bundle_error(exc, f"deleting model {name!r}") from None
