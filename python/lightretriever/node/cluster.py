"""Layout of a local multi-node cluster: its members' names, directories and ports (no processes here)."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from lightretriever.errors import NodeError
from lightretriever.node import settings

MAX_NODES = 9  # a developer machine; three is the case that matters (replicas on other nodes)


@dataclass(frozen=True)
class Member:
    """One OpenSearch process of a cluster home: home/node-<i>/{config,data,logs,opensearch.pid}."""

    name: str
    dir: Path

    @property
    def pid_file(self) -> Path:
        return self.dir / "opensearch.pid"

    @property
    def logs_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def config_dir(self) -> Path:
        return self.dir / "config"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / f"{settings.CLUSTER_NAME}.log"

    def configured_ports(self) -> dict[str, int]:
        """{"port", "transport_port"} from the opensearch.yml this member was started with (its running truth)."""
        try:
            yml = (self.config_dir / "opensearch.yml").read_text()
        except OSError:
            return {}
        found = {}
        for key, setting in (("port", "http.port"), ("transport_port", "transport.port")):
            match = re.search(rf"^{re.escape(setting)}:\s*(\d+)", yml, re.MULTILINE)
            if match:
                found[key] = int(match.group(1))
        return found

    def prepare(self, dist: Path) -> None:
        """Fresh copy of the distribution's config (plugins' config dirs included) for OPENSEARCH_PATH_CONF;
        the keystore OpenSearch created on an earlier start is kept."""
        for directory in (self.data_dir, self.logs_dir):
            directory.mkdir(parents=True, exist_ok=True)
        shutil.copytree(
            dist / "config",
            self.config_dir,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("opensearch.keystore", "opensearch.yml"),
        )


def check_count(nodes: int) -> int:
    if not isinstance(nodes, int) or isinstance(nodes, bool) or not 1 <= nodes <= MAX_NODES:
        raise NodeError(f"--nodes must be an integer in 1..{MAX_NODES}, got {nodes!r}")
    return nodes


def members(home: Path, nodes: int) -> list[Member]:
    return [Member(f"{settings.CLUSTER_NAME}-node-{i}", home / f"node-{i}") for i in range(1, nodes + 1)]


def assign_ports(
    names: list[str], recorded: dict[str, dict], alive: set[str], first_port: int | None = None
) -> dict[str, tuple[int, int]]:
    """{member: (http port, transport port)}. A running member keeps its ports; a stopped one gets its last
    ports back when free (so running peers' seed lists still name it), else --port + i, 9200 + i, or any
    free port. Transport ports are never fixed: they only have to be known to the peers at start."""
    taken: set[int] = set()
    ports: dict[str, tuple[int, int]] = {}

    def free(port: int | None) -> bool:
        return bool(port) and port not in taken and settings.port_free(port)

    def any_free() -> int:
        while True:
            port = settings.free_port()
            if port not in taken:
                return port

    for name in names:  # running members first: their ports are not negotiable
        if name in alive:
            ports[name] = (recorded[name]["port"], recorded[name]["transport_port"])
            taken.update(ports[name])
    for i, name in enumerate(names):
        if name in alive:
            continue
        last = recorded.get(name, {})
        if first_port:
            http = first_port + i
            if not free(http):
                raise NodeError(f"port {http} on 127.0.0.1 (--port {first_port} + {i}) is already in use")
        else:
            http = next(
                (p for p in (last.get("port"), settings.DEFAULT_HTTP_PORT + i) if free(p)), None
            ) or any_free()
        taken.add(http)
        transport = last.get("transport_port") if free(last.get("transport_port")) else any_free()
        taken.add(transport)
        ports[name] = (http, transport)
    return {name: ports[name] for name in names}
