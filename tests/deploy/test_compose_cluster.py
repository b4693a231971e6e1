"""docker-compose.cluster.yml: the three-node layout of `node start --nodes 3` (no Docker engine needed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from .test_setup_files import _compose_cli

REPO = Path(__file__).resolve().parents[2]
FILE = "docker-compose.cluster.yml"


def test_three_nodes_discover_each_other_with_their_own_data_and_ports():
    compose = yaml.safe_load((REPO / FILE).read_text())
    single = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["opensearch-plugin"]
    services = compose["services"]
    assert len(services) == 3
    names = sorted(s["environment"]["node.name"] for s in services.values())
    assert names == sorted(services) == [f"lightretriever-node-{i}" for i in (1, 2, 3)]
    ports, volumes = set(), set()
    for service in services.values():
        env = service["environment"]
        assert "discovery.type" not in env
        assert sorted(env["discovery.seed_hosts"].split(",")) == names
        assert sorted(env["cluster.initial_cluster_manager_nodes"].split(",")) == names
        assert env["cluster.name"] == "lightretriever" and env["DISABLE_SECURITY_PLUGIN"] == "true"
        assert "-Xmx${OPENSEARCH_HEAP:-512m}" in env["OPENSEARCH_JAVA_OPTS"]
        assert service["build"] == single["build"] and service["image"] == single["image"]  # k-NN + the plugin
        ports.add(service["ports"][0].rsplit(":", 1)[0])
        volumes.add(service["volumes"][0].split(":")[0])
    assert len(ports) == 3 and len(volumes) == 3 and volumes <= set(compose["volumes"])


def test_compose_config_accepts_the_cluster_file():
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    proc = subprocess.run([*cli, "-f", FILE, "config", "-q"], check=False, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
