"""Single-node configuration files written into the unpacked distribution."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from lightretriever.errors import NodeError

CLUSTER_NAME = "lightretriever"
DEFAULT_HTTP_PORT = 9200


def port_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:port. SO_REUSEADDR as OpenSearch binds: connections of a node stopped a
    moment ago linger in TIME_WAIT and must not make its port look taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_heap(heap: str) -> str:
    if not re.fullmatch(r"\d+[kmgKMG]", heap):
        raise NodeError(f"heap {heap!r} is not a JVM size like 512m or 1g")
    return heap.lower()


def write_config(
    dist: Path,
    *,
    http_port: int,
    transport_port: int,
    data: Path,
    logs: Path,
    heap: str,
    vector_module: bool = True,
) -> None:
    """opensearch.yml for one node on loopback (dev mode: no production bootstrap checks) and the heap."""
    yml = f"""# Written by lightretriever.node; rewritten on every start.
cluster.name: {CLUSTER_NAME}
node.name: {CLUSTER_NAME}-node
discovery.type: single-node
network.host: 127.0.0.1
http.port: {http_port}
transport.port: {transport_port}
path.data: {data}
path.logs: {logs}
# A developer laptop's disk is often above the 85/90/95 % watermarks; never go read-only because of it.
cluster.routing.allocation.disk.threshold_enabled: false
"""
    (dist / "config" / "opensearch.yml").write_text(yml)
    _adapt_jvm_options(dist / "config" / "jvm.options", logs=logs, data=data, vector_module=vector_module)
    heap = check_heap(heap)
    options = dist / "config" / "jvm.options.d" / "lightretriever-heap.options"
    options.parent.mkdir(exist_ok=True)
    options.write_text(f"-Xms{heap}\n-Xmx{heap}\n")


DISABLED = "## lightretriever: this Java has no jdk.incubator.vector ## "


def _adapt_jvm_options(jvm_options: Path, *, logs: Path, data: Path, vector_module: bool) -> None:
    """The stock jvm.options writes GC logs, error files and heap dumps relative to the working directory:
    send them to the node's own directories. A trimmed Java runtime without jdk.incubator.vector cannot
    start with --add-modules for it: that line is disabled (Lucene then uses its scalar code)."""
    text = jvm_options.read_text()
    text = re.sub(
        r"(file=|ErrorFile=|-Xloggc:)[^:\s]*?(gc\.log|hs_err_pid%p\.log)", rf"\g<1>{logs}/\g<2>", text
    )
    text = re.sub(r"(HeapDumpPath=).*", rf"\g<1>{data}", text)
    lines = []
    for line in text.splitlines():
        bare = line.removeprefix(DISABLED)
        if "--add-modules=jdk.incubator.vector" in bare:
            line = bare if vector_module else DISABLED + bare
        lines.append(line)
    jvm_options.write_text("\n".join(lines) + "\n")
