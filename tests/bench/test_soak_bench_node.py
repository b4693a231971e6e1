"""bench/soak.py runs end to end against the real node in seconds (a smoke test: whether anything grows over
30 minutes is the benchmark's business, not a test's): mixed searches and bulks, windows recorded with the
node's heap after GC and the client's RSS, the scratch index deleted, the report written."""

from __future__ import annotations

import json
import subprocess
import sys

from .test_search_bench_node import REPO, bench_setup  # noqa: F401 - the same 20-document index and queries


def test_soak_runs_records_windows_and_cleans_up(bench_setup, synthetic_bundle, opensearch_url, os_client, tmp_path):  # noqa: F811
    index, data = bench_setup
    out = tmp_path / "soak"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "soak.py"), "--bundle", str(synthetic_bundle), "--index", index,
         "--dataset", str(data), "--minutes", "0.15", "--window", "2", "--clients", "4", "--ingest-share", "0.3",
         "--bulk-docs", "5", "--ingest-docs", "30", "--scratch-prefix", f"{index}-soak", "--opensearch", opensearch_url,
         "--out", str(out)],
        check=False, capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.with_suffix(".json").read_text())
    totals = report["totals"]
    assert totals["errors"] == 0 and totals["searches"] > 0 and totals["ingests"] > 0
    assert 0 < totals["scratch_index_docs_at_end"] <= 30  # ids wrap: the scratch index is bounded
    windows = report["windows"]
    assert len(windows) >= 4 and 8 <= windows[-1]["t_s"] <= 30  # stopped by itself at --minutes
    assert all(w["heap_after_gc_mb"] > 0 and w["heap_used_mb"] > 0 and w["client_rss_mb"] > 0 for w in windows)
    assert set(report["growth"]) == {"heap_after_gc_mb", "client_rss_mb", "search_p99_ms"}
    assert os_client.indices.get(index=f"{index}-soak-*") == {}  # the scratch index was deleted
    assert "| heap_after_gc_mb |" in out.with_suffix(".md").read_text()
