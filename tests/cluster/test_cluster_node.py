"""The local 3-node cluster: one green cluster of three processes, each with its own ports, data and
plugins; a default index gets 3 primaries and 1 replica, allocated across the nodes (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest
import requests
from opensearchpy import helpers

from lightretriever.cli import main as cli_main
from lightretriever.client import get_client
from lightretriever.mappings import create_index

from .conftest import CLUSTER_NODES

pytestmark = [pytest.mark.node, pytest.mark.cluster]


def test_three_processes_form_one_green_cluster(local_cluster, cluster_client, capsys):
    status = local_cluster.status()
    assert status["running"] and status["nodes_running"] == CLUSTER_NODES
    members = {m["name"]: m for m in status["nodes"]}
    assert len({m["pid"] for m in members.values()}) == CLUSTER_NODES
    assert len({m["port"] for m in members.values()} | {m["transport_port"] for m in members.values()}) == 2 * CLUSTER_NODES

    health = cluster_client.cluster.health(params={"wait_for_status": "green", "timeout": "120s"}, request_timeout=150)
    assert health["status"] == "green"
    assert health["number_of_nodes"] == health["number_of_data_nodes"] == CLUSTER_NODES

    info = cluster_client.nodes.info(metric="plugins,settings,http")["nodes"].values()
    assert {n["name"] for n in info} == set(members)
    data_paths = set()
    for node in info:
        member = members[node["name"]]
        assert node["http"]["publish_address"].endswith(f":{member['port']}")
        assert {"opensearch-knn"} <= {p["name"] for p in node["plugins"]}  # installed once, loaded by each
        data_paths.add(str(node["settings"]["path"]["data"]))
        # every member answers on its own URL, for the same cluster
        root = requests.get(member["url"], timeout=30).json()
        assert root["name"] == node["name"] and root["cluster_name"] == "lightretriever"
    assert len(data_paths) == CLUSTER_NODES

    assert cli_main(["node", "status", "--home", str(local_cluster.home)]) == 0
    out = capsys.readouterr().out
    assert out.count('"running": true') == CLUSTER_NODES + 1 and '"nodes_running": 3' in out


def test_default_index_is_three_primaries_one_replica_on_distinct_nodes(local_cluster, cluster_client, cluster_index):
    index = cluster_index()
    assert create_index(cluster_client, index, 8) is True
    settings = cluster_client.indices.get_settings(index=index)[index]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("3", "1")
    health = cluster_client.cluster.health(
        index=index, params={"wait_for_status": "green", "timeout": "120s"}, request_timeout=150
    )
    assert health["status"] == "green" and health["active_shards"] == 6 and health["unassigned_shards"] == 0

    shards = cluster_client.cat.shards(index=index, format="json")
    assert len(shards) == 6 and {s["state"] for s in shards} == {"STARTED"}
    by_shard: dict[str, dict[str, str]] = {}
    for s in shards:
        by_shard.setdefault(s["shard"], {})[s["prirep"]] = s["node"]
    assert sorted(by_shard) == ["0", "1", "2"]
    assert all(copies["p"] != copies["r"] for copies in by_shard.values())  # a copy survives any one node
    assert len({copies["p"] for copies in by_shard.values()}) == CLUSTER_NODES  # one primary per node

    rng = np.random.default_rng(3)
    docs = []
    for i in range(60):
        v = rng.standard_normal(8)
        docs.append({"_index": index, "_id": f"c{i}", "_source": {
            "doc_id": f"c{i}", "text": f"cluster document {i}", "dense": (v / np.linalg.norm(v)).tolist(),
            "sparse": {str(100 + i % 5): 1.0}}})
    helpers.bulk(cluster_client, docs, refresh=True)
    stats = cluster_client.indices.stats(index=index, level="shards")["indices"][index]["shards"]
    assert all(copy["docs"]["count"] > 0 for copies in stats.values() for copy in copies)  # spread over shards
    query = {"query": {"knn": {"dense": {"vector": docs[7]["_source"]["dense"], "k": 5}}}, "size": 5}
    answers = []
    for member in local_cluster.status()["nodes"]:  # any member coordinates the same answer
        client = get_client(member["url"])
        assert client.count(index=index)["count"] == 60
        answers.append([h["_id"] for h in client.search(index=index, body=query)["hits"]["hits"]])
    assert answers[0][0] == "c7" and all(a == answers[0] for a in answers)
