"""Unpack the OpenSearch distribution into the cache and install plugins into it."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from lightretriever.errors import NodeError

log = logging.getLogger(__name__)

# Modules the k-NN plugin extends or needs (its descriptor: extended.plugins=lang-painless,transport-grpc;
# mapper-extras holds rank_features). The integ-test zip 3.5.0 ships all three.
REQUIRED_MODULES = ("lang-painless", "mapper-extras", "transport-grpc")
PLUGIN_RECORD = "lightretriever-plugins.json"
# Modules set aside for the Java runtime in use live here, outside modules/, so OpenSearch does not load them.
DISABLED_MODULES_DIR = "modules-disabled"


def unpack(zip_path: Path, dest_parent: Path) -> Path:
    """Unpack the distribution zip once; returns its top directory (e.g. .../opensearch-3.5.0)."""
    with zipfile.ZipFile(zip_path) as zf:
        top = zf.namelist()[0].split("/")[0]
        target = dest_parent / top
        if (target / "bin" / "opensearch").is_file():
            return target
        dest_parent.mkdir(parents=True, exist_ok=True)
        log.info("unpacking %s into %s ...", zip_path.name, dest_parent)
        tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest_parent))
        try:
            for info in zf.infolist():
                zf.extract(info, tmp)
                mode = info.external_attr >> 16  # zipfile drops Unix modes; bin/ scripts need +x
                if mode & 0o777:
                    os.chmod(tmp / info.filename, mode & 0o777)
            (tmp / top).rename(target)  # atomic: a half-unpacked tree is never mistaken for a good one
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def check_modules(dist: Path) -> None:
    """Refuse a distribution that lacks the modules k-NN needs (fallback assembly is not needed for 3.5.0)."""
    missing = [m for m in REQUIRED_MODULES if not (dist / "modules" / m).is_dir()]
    if missing:
        raise NodeError(
            f"{dist} lacks the modules {', '.join(missing)} that k-NN needs; this distribution cannot run "
            "the index. Use the org.opensearch.distribution.integ-test-zip:opensearch:3.5.0 zip, which "
            "ships them."
        )
    log.debug("distribution has the required modules: %s", ", ".join(REQUIRED_MODULES))


def set_module_enabled(dist: Path, name: str, enabled: bool) -> bool:
    """Move a module between modules/ and modules-disabled/; True when it moved."""
    on, off = dist / "modules" / name, dist / DISABLED_MODULES_DIR / name
    source, target = (off, on) if enabled else (on, off)
    if not source.is_dir():
        return False
    if target.exists():
        raise NodeError(f"module {name} is in both {on} and {off}; remove the stale copy")
    target.parent.mkdir(exist_ok=True)
    source.rename(target)
    return True


def disabled_modules(dist: Path) -> list[str]:
    off = dist / DISABLED_MODULES_DIR
    return sorted(p.name for p in off.iterdir() if p.is_dir()) if off.is_dir() else []


def plugin_name(zip_path: Path) -> str:
    """`name=` from the plugin-descriptor.properties inside a plugin zip."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            entry = next(n for n in zf.namelist() if n.endswith("plugin-descriptor.properties"))
            text = zf.read(entry).decode("utf-8", "replace")
    except (OSError, zipfile.BadZipFile, StopIteration) as exc:
        raise NodeError(
            f"{zip_path} is not an OpenSearch plugin zip: {exc or 'no plugin-descriptor'}"
        ) from exc
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "name" and value.strip():
            return value.strip()
    raise NodeError(f"{zip_path}: plugin-descriptor.properties has no name=")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def installed_plugins(dist: Path) -> dict[str, str]:
    """{plugin name: sha256 of the zip it was installed from}."""
    record = dist / PLUGIN_RECORD
    return json.loads(record.read_text()) if record.is_file() else {}


def needs_install(dist: Path, zip_path: Path) -> bool:
    """True when the zip's plugin is not installed or was installed from a zip with another sha256."""
    if not zip_path.is_file():
        raise NodeError(f"plugin zip {zip_path} does not exist")
    name = plugin_name(zip_path)
    present = (dist / "plugins" / name).is_dir()
    return not present or installed_plugins(dist).get(name) != sha256(zip_path)


def install_plugin(dist: Path, zip_path: Path, java_home: Path) -> bool:
    """Install (or reinstall when the zip changed) a plugin; True when the plugins on disk changed."""
    zip_path = zip_path.resolve()
    if not needs_install(dist, zip_path):
        return False
    name, digest = plugin_name(zip_path), sha256(zip_path)
    record = installed_plugins(dist)
    present = (dist / "plugins" / name).is_dir()
    env = {**os.environ, "OPENSEARCH_JAVA_HOME": str(java_home)}
    tool = str(dist / "bin" / "opensearch-plugin")
    if present:
        log.info("plugin %s changed (sha256 %s), reinstalling", name, digest[:12])
        _run([tool, "remove", name], env, f"removing plugin {name}")
    log.info("installing plugin %s from %s", name, zip_path)
    _run([tool, "install", "--batch", zip_path.as_uri()], env, f"installing plugin {name} from {zip_path}")
    record[name] = digest
    (dist / PLUGIN_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True))
    return True


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
        raise NodeError(f"{what} failed (exit {proc.returncode}): {tail}")
