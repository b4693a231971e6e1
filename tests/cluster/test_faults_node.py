"""Node faults on the local 3-node cluster (issue 13), through bench/cluster_faults.py at a small size:
kill -9 of a data node during an ingest, and during 4-client search load. The figures for
docs/benchmarks.md come from the same script at its default size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.node, pytest.mark.cluster]

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "cluster_faults.py"


def run_faults(local_cluster, tmp_path, scenario: str, *args: str) -> dict:
    out = tmp_path / "faults.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--home", str(local_cluster.home), "--only", scenario, "--json", str(out),
         "--docs", "1500", "--dim", "16", "--down-s", "2", "--settle-s", "3", *args],
        check=False, capture_output=True, text=True, timeout=900,
    )
    assert out.is_file(), run.stderr[-3000:]
    report = json.loads(out.read_text())[scenario]
    assert run.returncode == (0 if report["ok"] else 1)
    return report


def test_kill_a_data_node_during_ingest(local_cluster, tmp_path):
    report = run_faults(local_cluster, tmp_path, "ingest")
    assert report["victim"] != local_cluster.status()["nodes"][0]["name"]  # the job's node stays up
    assert 0 < report["indexed_at_kill"] < report["docs"]  # killed mid-ingest
    assert report["count"] == report["docs"] == report["created"]  # exact count; every id created once
    assert report["missing"] == report["unexpected"] == 0  # the index holds exactly the source's ids
    assert report["dead_letters"] == 0  # nothing valid dead-lettered
    assert report["ok"] is True
    assert local_cluster.status()["nodes_running"] == 3  # the killed member was restarted


def test_kill_a_node_during_search_load(local_cluster, tmp_path):
    report = run_faults(local_cluster, tmp_path, "search", "--clients", "4", "--queries", "30")
    assert report["answered_while_degraded"] > 0  # replicas kept answering while the node was down
    assert report["answered_after_green"] > 0
    assert report["after_green_unlike_baseline"] == 0  # no wrong answer once recovered
    assert report["ok"] is True
    assert local_cluster.status()["nodes_running"] == 3
