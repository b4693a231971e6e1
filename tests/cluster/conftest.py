"""Cluster fixtures: the local 3-node cluster (issue 13), next to the single node the other tests use.

`LIGHTRETRIEVER_CLUSTER_HOME` is the cluster's home (default: `<node home>-cluster`, beside the single node's),
started with 3 nodes of 512m when it is not running and never stopped here; `.ci/run` starts it before
these tests and stops it after. `LIGHTRETRIEVER_CLUSTER_URL` (what `node start --nodes 3` prints) is where
the tests connect; it must be a member of that cluster, since the fault tests kill and restart members.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

CLUSTER_NODES = 3
CLUSTER_HEAP = "512m"


def cluster_home() -> Path:
    from lightretriever.node import default_home

    home = os.environ.get("LIGHTRETRIEVER_CLUSTER_HOME")
    return Path(home) if home else default_home().with_name(default_home().name + "-cluster")


@pytest.fixture(scope="session")
def local_cluster():
    """The LocalNode handle of the running cluster (started if needed)."""
    from lightretriever.node import LocalNode

    node = LocalNode(cluster_home(), nodes=CLUSTER_NODES, heap=CLUSTER_HEAP)
    state = node.start()
    url = os.environ.get("LIGHTRETRIEVER_CLUSTER_URL")
    if url and url.rstrip("/") not in state["urls"]:
        pytest.fail(f"LIGHTRETRIEVER_CLUSTER_URL={url} is none of the cluster's members {state['urls']} "
                    f"(home {node.home}; set LIGHTRETRIEVER_CLUSTER_HOME to its home)")
    return node


@pytest.fixture(scope="session")
def cluster_url(local_cluster) -> str:
    return (os.environ.get("LIGHTRETRIEVER_CLUSTER_URL") or local_cluster.status()["url"]).rstrip("/")


@pytest.fixture(scope="session")
def cluster_client(cluster_url):
    from lightretriever.client import get_client

    client = get_client(cluster_url, timeout=120)
    health = client.cluster.health(params={"wait_for_nodes": str(CLUSTER_NODES), "wait_for_status": "yellow",
                                           "timeout": "120s"}, request_timeout=150)
    assert health["number_of_nodes"] == CLUSTER_NODES, health
    return client


@pytest.fixture
def cluster_index(cluster_client):
    """Factory: cluster_index() -> a fresh index name; every index it named is deleted afterwards."""
    names: list[str] = []

    def make() -> str:
        names.append(f"test-cluster-{uuid.uuid4().hex[:8]}")
        return names[-1]

    yield make
    for name in names:
        cluster_client.indices.delete(index=name, ignore_unavailable=True)
