"""Node configuration files: one node's in the unpacked distribution, a cluster member's in its own directory."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from lightretriever.errors import NodeError

CLUSTER_NAME = "lightretriever"
SINGLE_NODE_NAME = f"{CLUSTER_NAME}-node"
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
    config_dir: Path | None = None,
    node_name: str = SINGLE_NODE_NAME,
    peers: dict[str, int] | None = None,
) -> None:
    """opensearch.yml for a node on loopback (dev mode: no production bootstrap checks) and its heap.

    Without `peers` the node is a cluster of its own (discovery.type single-node) and writes dist/config, as
    it always did. With `peers` ({member name: transport port}, itself included) it is one member of a
    loopback cluster whose config lives in `config_dir` (OPENSEARCH_PATH_CONF), a copy of dist/config.
    """
    config_dir = config_dir or dist / "config"
    if peers:
        seeds = ", ".join(f'"127.0.0.1:{port}"' for port in peers.values())
        names = ", ".join(f'"{name}"' for name in peers)
        # initial_cluster_manager_nodes only matters for the first election; on later starts the cluster
        # state in path.data wins and the setting is ignored.
        discovery = f"discovery.seed_hosts: [{seeds}]\ncluster.initial_cluster_manager_nodes: [{names}]\n"
    else:
        discovery = "discovery.type: single-node\n"
    yml = f"""# Written by lightretriever.node; rewritten on every start.
cluster.name: {CLUSTER_NAME}
node.name: {node_name}
{discovery}network.host: 127.0.0.1
http.port: {http_port}
transport.port: {transport_port}
path.data: {data}
path.logs: {logs}
# A developer laptop's disk is often above the 85/90/95 % watermarks; never go read-only because of it.
cluster.routing.allocation.disk.threshold_enabled: false
"""
    (config_dir / "opensearch.yml").write_text(yml)
    _adapt_jvm_options(config_dir / "jvm.options", logs=logs, data=data, vector_module=vector_module)
    heap = check_heap(heap)
    options = config_dir / "jvm.options.d" / "lightretriever-heap.options"
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
