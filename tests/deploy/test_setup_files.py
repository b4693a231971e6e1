"""docker-compose.yml, .ci/run and the pipelines scripts: structure and syntax (no Docker engine needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fixtures.resources import require

REPO = Path(__file__).resolve().parents[2]


def test_compose_file_runs_opensearch_350_without_security():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    node = compose["services"]["opensearch"]
    assert node["image"] == "opensearchproject/opensearch:3.5.0"
    env = node["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["DISABLE_SECURITY_PLUGIN"] == "true" and env["DISABLE_INSTALL_DEMO_CONFIG"] == "true"
    assert "_cluster/health" in " ".join(node["healthcheck"]["test"])
    volume = node["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]  # a named volume, not a bind mount
    assert compose["services"]["dashboards"]["profiles"] == ["dashboards"]


def test_compose_plugin_service_builds_the_project_plugin_into_the_same_node():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    base, plugin = compose["services"]["opensearch"], compose["services"]["opensearch-plugin"]
    assert plugin["environment"] == base["environment"] and plugin["ports"] == base["ports"]
    dockerfile = (REPO / plugin["build"]["context"] / plugin["build"]["dockerfile"]).read_text()
    assert dockerfile.startswith("#") and "FROM opensearchproject/opensearch:3.5.0" in dockerfile
    assert "opensearch-plugin install --batch" in dockerfile


def _compose_cli() -> list[str] | None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], check=False, capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_compose_config_accepts_the_file():
    cli = _compose_cli()
    require("docker", cli is not None, "neither `docker compose` nor `docker-compose` is installed")
    for profile in ([], ["--profile", "dashboards"], ["--profile", "plugin"]):
        proc = subprocess.run(
            [*cli, *profile, "config", "-q"], check=False, cwd=REPO, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("script", [".ci/run", "pipelines/bootstrap.sh", "pipelines/quickstart.sh"])
def test_shell_scripts_parse(script):
    proc = subprocess.run(["bash", "-n", str(REPO / script)], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
