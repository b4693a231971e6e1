"""Multi-node parts that need no running node: member layout, ports, config, the index layout rule, CLI."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from lightretriever.cli import main as cli_main
from lightretriever.errors import NodeError
from lightretriever.mappings import cluster_layout, create_index
from lightretriever.node import LocalNode, cluster, settings


def test_members_have_their_own_directories(tmp_path):
    members = cluster.members(tmp_path, 3)
    assert [m.name for m in members] == [f"lightretriever-node-{i}" for i in (1, 2, 3)]
    assert len({m.dir for m in members}) == 3
    for m in members:
        assert m.pid_file.parent == m.config_dir.parent == m.data_dir.parent == m.logs_dir.parent == m.dir
    for bad in (0, 10, True, "3"):
        with pytest.raises(NodeError, match="--nodes must be an integer in 1..9"):
            cluster.check_count(bad)


def _fake_dist(root: Path) -> Path:
    dist = root / "opensearch-3.5.0"
    (dist / "config" / "opensearch-knn").mkdir(parents=True)
    (dist / "config" / "opensearch-knn" / "plugin.conf").write_text("x")
    (dist / "config" / "jvm.options").write_text("-XX:HeapDumpPath=data\n-XX:ErrorFile=logs/hs_err_pid%p.log\n")
    (dist / "config" / "opensearch.yml").write_text("discovery.type: single-node\n")
    (dist / "config" / "opensearch.keystore").write_text("single node's keystore")
    return dist


def test_member_config_is_a_copy_with_peers(tmp_path):
    dist = _fake_dist(tmp_path)
    member = cluster.members(tmp_path, 3)[1]
    member.prepare(dist)
    assert (member.config_dir / "opensearch-knn" / "plugin.conf").read_text() == "x"  # plugins' config copied
    assert not (member.config_dir / "opensearch.keystore").exists()  # each node creates its own
    peers = {"lightretriever-node-1": 9301, "lightretriever-node-2": 9302, "lightretriever-node-3": 9303}
    settings.write_config(
        dist, http_port=9202, transport_port=9302, data=member.data_dir, logs=member.logs_dir, heap="512m",
        config_dir=member.config_dir, node_name=member.name, peers=peers,
    )
    yml = (member.config_dir / "opensearch.yml").read_text()
    assert "node.name: lightretriever-node-2" in yml
    assert 'discovery.seed_hosts: ["127.0.0.1:9301", "127.0.0.1:9302", "127.0.0.1:9303"]' in yml
    assert (
        'cluster.initial_cluster_manager_nodes: ["lightretriever-node-1", "lightretriever-node-2", '
        '"lightretriever-node-3"]'
    ) in yml
    assert "single-node" not in yml and f"path.data: {member.data_dir}" in yml
    assert f"HeapDumpPath={member.data_dir}" in (member.config_dir / "jvm.options").read_text()
    assert (member.config_dir / "jvm.options.d" / "lightretriever-heap.options").read_text() == "-Xms512m\n-Xmx512m\n"
    assert member.configured_ports() == {"port": 9202, "transport_port": 9302}
    # the distribution's own config (the single node's) is untouched
    assert (dist / "config" / "opensearch.yml").read_text() == "discovery.type: single-node\n"
    assert "HeapDumpPath=data" in (dist / "config" / "jvm.options").read_text()


def test_ports_kept_for_running_members_and_distinct(tmp_path):
    names = [m.name for m in cluster.members(tmp_path, 3)]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        recorded = {
            names[0]: {"port": taken, "transport_port": 1},  # alive: kept as they are, even though bound
            names[1]: {"port": taken, "transport_port": taken},  # stopped, its old ports taken since: new ones
        }
        ports = cluster.assign_ports(names, recorded, alive={names[0]})
        assert ports[names[0]] == (taken, 1)
        assert taken not in ports[names[1]] and taken not in ports[names[2]]
        every = [p for pair in ports.values() for p in pair]
        assert len(set(every)) == 6
        with pytest.raises(NodeError, match=rf"port {taken} .*--port {taken - 1} \+ 1"):
            cluster.assign_ports(names, {}, alive=set(), first_port=taken - 1)
    free = settings.free_port()
    again = cluster.assign_ports(names, {names[2]: {"port": free, "transport_port": free + 1}}, alive=set())
    assert again[names[2]][0] == free  # a stopped member gets its last port back when it is free


class _Cluster:
    def __init__(self, data_nodes):
        self.data_nodes = data_nodes

    def health(self):
        return {"number_of_data_nodes": self.data_nodes}


class _Indices:
    def __init__(self):
        self.created = {}

    def exists(self, index):
        return index in self.created

    def create(self, index, body):
        self.created[index] = body

    def get_mapping(self, index):
        return {index: {"mappings": self.created[index]["mappings"]}}


class _Client:
    def __init__(self, data_nodes):
        self.cluster = _Cluster(data_nodes)
        self.indices = _Indices()


@pytest.mark.parametrize("data_nodes, shards, replicas", [(1, 1, 0), (2, 2, 1), (3, 3, 1)])
def test_index_layout_follows_the_cluster(data_nodes, shards, replicas):
    client = _Client(data_nodes)
    assert cluster_layout(client) == {"shards": shards, "replicas": replicas}
    assert create_index(client, "docs", 8) is True
    settings_ = client.indices.created["docs"]["settings"]["index"]
    assert (settings_["number_of_shards"], settings_["number_of_replicas"]) == (shards, replicas)
    create_index(client, "pinned", 8, shards=1, replicas=0)  # explicit values win
    assert client.indices.created["pinned"]["settings"]["index"]["number_of_shards"] == 1


def test_cli_passes_nodes(monkeypatch, tmp_path, capsys):
    seen = {}

    def fake_start(self):
        seen.update(nodes=self.nodes, heap=self.heap, timeout=self.startup_timeout)
        nodes = [{"name": f"n{i}", "url": f"http://127.0.0.1:{9200 + i}", "pid": i, "transport_port": 1} for i in (1, 2, 3)]
        return {"url": nodes[0]["url"], "nodes": nodes, "reused": True, "pid": 1}

    monkeypatch.setattr(LocalNode, "start", fake_start)
    assert cli_main(["node", "start", "--home", str(tmp_path), "--nodes", "3", "--heap", "512m"]) == 0
    assert seen == {"nodes": 3, "heap": "512m", "timeout": 180.0}
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "http://127.0.0.1:9201" and "3-node cluster already running" in out[0]
    assert cli_main(["node", "start", "--home", str(tmp_path), "--nodes", "0"]) != 0
    assert "--nodes must be an integer in 1..9, got 0" in capsys.readouterr().err


def test_stopped_home_reports_not_running(tmp_path):
    node = LocalNode(tmp_path)
    node._write_state({
        "dist": str(tmp_path / "dist"), "url": "http://127.0.0.1:1", "pid": None,
        "nodes": [{"name": m.name, "home": str(m.dir), "pid": None, "url": "http://127.0.0.1:1"}
                  for m in cluster.members(tmp_path, 3)],
    })
    status = node.status()
    assert status["running"] is False and status["nodes_running"] == 0 and status["health"] is None
    assert node.stop() is False


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("exception, retried", [
    ("org.opensearch.http.BindHttpException: Failed to bind to 127.0.0.1:9201", True),
    ("org.opensearch.transport.BindTransportException: Failed to bind to 127.0.0.1:9301", True),
    ("java.lang.IllegalStateException: failed to obtain node locks", False),
])
def test_a_member_that_lost_its_port_is_started_again_others_fail(tmp_path, exception, retried):
    member = cluster.members(tmp_path, 3)[1]
    member.logs_dir.mkdir(parents=True)
    member.log_file.write_text("earlier start: uncaught exception in thread [main]\n")  # before the offset
    offset = member.log_file.stat().st_size
    with member.log_file.open("a") as fh:
        fh.write(f"[ERROR][o.o.b.Bootstrap] Exception\n{exception}\n[ERROR] uncaught exception in thread [main]\n")
    node = LocalNode(tmp_path, nodes=3)
    launched = {member: (_dead_pid(), offset)}
    ports = {member.name: (settings.free_port(), settings.free_port())}
    if retried:
        assert node._await_members(launched, ports, time.monotonic()) == [member]
    else:
        with pytest.raises(NodeError, match=r"(?s)lightretriever-node-2 .* exited during start-up.*node locks"):
            node._await_members(launched, ports, time.monotonic())
