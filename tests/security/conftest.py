"""The secured front (issue 15): `lightretriever node start --secure` puts nginx (TLS with a throw-away CA,
basic auth) in front of the node under test; the tests reach the node only through it, with the real client."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CLI = [sys.executable, "-c", "import sys; from lightretriever.cli import main; sys.exit(main())"]
CONNECTION_ENV = ("URL", "USER", "PASSWORD", "CA_CERTS", "GZIP")

DOCS = [
    ("d1", "Volcanic eruptions", "Magma rises through the crust and erupts as lava from volcanoes."),
    ("d2", "Honey bees", "Bees collect nectar from flowers and make honey in the hive."),
    ("d3", "Jet engines", "A turbofan jet engine compresses air, burns fuel and produces thrust."),
    ("d4", "Coral reefs", "Coral reefs are built by colonies of tiny animals in warm shallow seas."),
    ("d5", "Sourdough bread", "Sourdough is leavened by wild yeast and lactic acid bacteria."),
    ("d6", "Chess openings", "The Sicilian Defence is a popular chess opening for black."),
]
QUERIES = {"q1": ("lava and magma from volcanoes", "d1"), "q2": ("how do bees make honey", "d2"),
           "q3": ("turbofan engine thrust", "d3")}


@dataclass
class SecureFront:
    url: str  # https://127.0.0.1:<port>
    user: str
    password: str
    ca_certs: str
    dir: Path  # <node home>/secure: nginx's config, logs, certificates
    node_logs: Path

    @property
    def token(self) -> str:
        """The Authorization header's value, which must not leak either."""
        return base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment of a client process: the password travels here, not on the command line."""
        env = {k: v for k, v in os.environ.items() if k not in {f"LIGHTRETRIEVER_OPENSEARCH_{n}" for n in CONNECTION_ENV}}
        env["LIGHTRETRIEVER_OPENSEARCH_PASSWORD"] = self.password
        env.update(overrides)
        return env

    def args(self, ca_certs: str | None = None) -> list[str]:
        return ["--opensearch", self.url, "--user", self.user, "--ca-certs", ca_certs or self.ca_certs]

    def requests_logged(self) -> int:
        path = self.dir / "access.log"
        return len(path.read_text().splitlines()) if path.is_file() else 0


def run_cli(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def node_home(os_client) -> Path:
    """The home of the node under test, from its own settings (path.home = <home>/opensearch-<version>)."""
    nodes = os_client.nodes.info(node_id="_local", metric="settings")["nodes"]
    home = Path(next(iter(nodes.values()))["settings"]["path"]["home"]).parent
    if not (home / "node.json").is_file():
        pytest.fail(f"the node under test was not started by `lightretriever node start` (no {home}/node.json): "
                    "the secured front needs its home")
    return home


@pytest.fixture(scope="session")
def secure_front(os_client) -> SecureFront:
    """`lightretriever node start --secure` on the running node's home; the proxy is stopped afterwards."""
    from lightretriever.node.secure import SecureProxy

    home = node_home(os_client)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIGHTRETRIEVER_OPENSEARCH_")}
    started = run_cli(["node", "start", "--secure", "--home", str(home)], env, timeout=300)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip().splitlines()[-1]
    assert url.startswith("https://127.0.0.1:"), started.stdout
    settings = dict(
        line.split("=", 1) for line in (home / "secure" / "credentials.env").read_text().splitlines() if "=" in line
    )
    password = settings["LIGHTRETRIEVER_OPENSEARCH_PASSWORD"]
    assert password not in started.stdout + started.stderr
    master = int((home / "secure" / "nginx.pid").read_text())
    for pid in (master, *children(master)):  # what `ps` shows of the processes `node start --secure` left running
        assert password not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    yield SecureFront(url, settings["LIGHTRETRIEVER_OPENSEARCH_USER"], settings["LIGHTRETRIEVER_OPENSEARCH_PASSWORD"],
                      settings["LIGHTRETRIEVER_OPENSEARCH_CA_CERTS"], home / "secure", home / "node" / "logs")
    SecureProxy(home).stop()


def children(pid: int) -> list[int]:
    """Pids whose parent is `pid` (field 4 of /proc/<pid>/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
