"""LocalNode start/status/stop on its own home and port, twice in a row; the shared node is left alone."""

from __future__ import annotations

import shutil

import pytest
import requests

from lightretriever.cli import main as cli_main
from lightretriever.node import LocalNode, default_home
from lightretriever.node.settings import free_port

pytestmark = pytest.mark.node


def test_start_status_stop_twice(tmp_path_factory, capsys):
    shared_before = LocalNode().status()  # the dev node other tests use (may or may not be running)
    home = tmp_path_factory.mktemp("node-home")
    assert home != default_home()
    port = free_port()
    node = LocalNode(home, port=port, heap="512m")
    try:
        pids = []
        for _ in range(2):
            state = node.start()
            assert state["reused"] is False and state["url"] == f"http://127.0.0.1:{port}"
            assert state["seconds_to_healthy"] > 0
            plugins = requests.get(
                f"{state['url']}/_cat/plugins?h=component,version", timeout=10
            ).text.split()
            assert plugins[plugins.index("opensearch-knn") + 1] == "3.5.0.0"

            again = node.start()  # idempotent: same process
            assert again["reused"] is True and again["pid"] == state["pid"]

            status = LocalNode(home).status()  # another handle finds it through the state file
            assert status["running"] is True and status["health"] in ("green", "yellow")
            assert status["pid"] == state["pid"]

            assert cli_main(["node", "status", "--home", str(home)]) == 0
            assert f'"url": "{state["url"]}"' in capsys.readouterr().out

            assert node.stop() is True
            assert node.status()["running"] is False
            assert node.stop() is False  # nothing left to stop
            with pytest.raises(requests.ConnectionError):
                requests.get(state["url"], timeout=5)
            assert cli_main(["node", "status", "--home", str(home)]) == 3
            pids.append(state["pid"])
        assert pids[0] != pids[1]
        assert "started" in node.logs(400)
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)  # ~400 MB unpacked distribution

    shared_after = LocalNode().status()
    assert (shared_after.get("pid"), shared_after["running"]) == (
        shared_before.get("pid"),
        shared_before["running"],
    )
