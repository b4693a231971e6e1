"""The plugin on the 3-node cluster (issue 13): global fusion over 3 primaries + 1 replica equals the Python
retriever whichever node coordinates; a model PUT or DELETE through one node is what every node's next query
uses; the stats endpoint sums the nodes. Needs the cluster fixtures of tests/cluster/conftest.py.

The indices use segment replication: with document replication each copy of a shard builds its own HNSW graph
and segments, so two requests (the Python client's, the plugin's) that the cluster routes to different copies
can differ, whoever sends them. With segment replication the copies are the same files.
"""

from __future__ import annotations

import json

import pytest
from opensearchpy.exceptions import RequestError
from tests.fixtures.bundle import write_synthetic_bundle
from tests.plugin.synthetic import WORDS, index_synthetic

from lightretriever.bundle import Bundle
from lightretriever.client import get_client
from lightretriever.plugin import delete_model, search, upload_bundle
from lightretriever.plugin.parity import compare
from lightretriever.retriever import Retriever

pytestmark = [pytest.mark.node, pytest.mark.cluster]

QUERIES = [f"{a} {b}" for a in WORDS for b in WORDS if a < b]
DEPTH = 12
CLUSTER_NODES = 3  # tests/cluster/conftest.py (issue 13's cluster helper) starts and checks them
SAME_COPIES = {"replication.type": "SEGMENT"}


@pytest.fixture
def members(local_cluster, cluster_client):
    """One client per node (each coordinates the requests sent to it); the plugin must be on every node."""
    for node in cluster_client.nodes.info(metric="plugins")["nodes"].values():
        assert "lightretriever" in {p["name"] for p in node["plugins"]}, f"node {node['name']} has no lightretriever plugin"
    urls = [m["url"] for m in local_cluster.status()["nodes"]]
    assert len(urls) == CLUSTER_NODES
    return [get_client(url, timeout=120) for url in urls]


def _python(client, index, bundle_dir, text, fusion="linear"):
    retriever = Retriever(client, index, Bundle.load(bundle_dir), systems=("dense", "sparse"), fusion=fusion, depth=DEPTH)
    return [(h.doc_id, h.score) for h in retriever.search(text, 10)]


def test_global_fusion_on_3_primaries_1_replica_equals_python_from_every_node(members, cluster_index, tmp_path):
    index = cluster_index()
    index_synthetic(members[0], index, 8, docs=90, seed=3, shards=3, replicas=1, **SAME_COPIES)
    members[0].cluster.health(index=index, params={"wait_for_status": "green", "timeout": "120s"}, request_timeout=150)
    members[0].indices.forcemerge(index=index, max_num_segments=1)
    members[0].indices.refresh(index=index)
    bundle = write_synthetic_bundle(tmp_path / "bundle")
    model = upload_bundle(members[0], bundle, f"{index}-model")["name"]
    try:
        for client in members:  # each node coordinates in turn
            for fusion in ("linear", "rrf"):
                report = compare(client, index, Bundle.load(bundle), model, QUERIES, fusion, depth=DEPTH, tolerance=1e-5)
                assert report.share == 1.0, f"{fusion}: {report.share:.3f}\n" + "\n".join(report.misses)
    finally:
        delete_model(members[0], model)


def test_put_and_delete_through_one_node_are_seen_by_every_node(members, cluster_index, tmp_path):
    index = cluster_index()
    index_synthetic(members[0], index, 8, docs=40, seed=5, shards=3, replicas=1, **SAME_COPIES)
    members[0].cluster.health(index=index, params={"wait_for_status": "green", "timeout": "120s"}, request_timeout=150)
    first, second = write_synthetic_bundle(tmp_path / "a", seed=1), write_synthetic_bundle(tmp_path / "b", seed=2)
    model, text = f"{index}-model", "cancer tumor growth"
    try:
        upload_bundle(members[0], first, model)
        for client in members[1:]:  # every other node loads and caches the first version
            got = search(client, index, model, text, k=DEPTH, fusion="linear")
            assert [d for d, _ in got] == [d for d, _ in _python(client, index, first, text)]
        upload_bundle(members[0], second, model)  # same name, new files, through node 0
        for client in members[1:]:
            got = search(client, index, model, text, k=DEPTH, fusion="linear")
            assert [d for d, _ in got] == [d for d, _ in _python(client, index, second, text)]
        stats = members[2].transport.perform_request("GET", "/_plugins/lightretriever/stats")
        assert stats["_nodes"] == {"total": CLUSTER_NODES, "successful": CLUSTER_NODES, "failed": 0}
        assert len(stats["nodes"]) == CLUSTER_NODES
        assert stats["query_encoding"]["count"] == sum(n["query_encoding"]["count"] for n in stats["nodes"].values())
        assert delete_model(members[0], model)
        for client in members[1:]:
            with pytest.raises(RequestError) as info:
                client.search(index=index, body={"query": {"lightretriever": {"query": text, "model": model}}})
            assert "unknown lightretriever model" in json.dumps(info.value.info)
    finally:
        delete_model(members[0], model)
