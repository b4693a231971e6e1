"""bench/search.py runs end to end in each client mode against the real node (a smoke test: numbers are
the benchmark's business, not a test's). A synthetic bundle and a 20-document index keep it to seconds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from opensearchpy import helpers

from lightretriever.mappings import create_index

pytestmark = pytest.mark.node

REPO = Path(__file__).resolve().parents[2]
WORDS = ["cancer", "protein", "cell", "gene", "mouse", "tumor", "growth", "receptor"]
MINILM_IDS = [4456, 5250, 3526, 4962, 8000, 13656, 3930, 10769]  # the words above, in MiniLM's vocabulary


@pytest.fixture
def bench_setup(os_client, unique_index, synthetic_bundle, tmp_path):
    index = unique_index()
    create_index(os_client, index, 8)
    rng = np.random.default_rng(1)
    actions = []
    for i in range(20):
        vector = rng.standard_normal(8).astype(np.float32)
        actions.append({"_index": index, "_id": f"d{i}", "_source": {
            "doc_id": f"d{i}", "title": f"doc {i}", "text": " ".join(rng.choice(WORDS, 6)),
            "dense": (vector / np.linalg.norm(vector)).tolist(),
            "sparse": {str(t): float(rng.random() + 0.1) for t in rng.choice(MINILM_IDS, 3)}}})
    helpers.bulk(os_client, actions, refresh=True)
    data = tmp_path / "beir"
    (data / "qrels").mkdir(parents=True)
    queries = [" ".join(rng.choice(WORDS, 3)) for _ in range(12)]
    (data / "queries.jsonl").write_text("".join(json.dumps({"_id": f"q{i}", "text": q}) + "\n" for i, q in enumerate(queries)))
    (data / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i}\t1\n" for i in range(12)))
    (data / "corpus.jsonl").write_text("".join(json.dumps({"_id": f"d{i}", "title": "", "text": ""}) + "\n" for i in range(20)))
    return index, data


@pytest.mark.parametrize("mode", [[], ["--processes"], ["--asyncio"]], ids=["threads", "processes", "asyncio"])
def test_bench_search_runs_in_every_client_mode(bench_setup, synthetic_bundle, opensearch_url, tmp_path, mode):
    index, data = bench_setup
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "search.py"), "--bundle", str(synthetic_bundle), "--index", index,
         "--dataset", str(data), "--systems", "hybrid-rrf,bm25", "--baseline", "bm25", "--clients", "2",
         "--opensearch", opensearch_url, "--out", str(out), *mode],
        check=False, capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.with_suffix(".json").read_text())["results"]
    assert set(results) == {"hybrid-rrf", "bm25"}
    for name, row in results.items():
        assert row["queries"] == 12 and row["errors"] == 0 and row["qps"] > 0, (name, row)
    assert 0 < results["hybrid-rrf"]["encode_share"] < 1  # the light encoder ran and was timed
    assert "| hybrid-rrf |" in out.with_suffix(".md").read_text()
