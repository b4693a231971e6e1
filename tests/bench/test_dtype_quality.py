"""bench/dtype_quality.py: the issue-14 rule (no system loses more than 0.005 nDCG@10) on eval JSON pairs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "dtype_quality.py"


def eval_json(path: Path, index: str, ndcg: dict[str, float], dataset: str = "tiny") -> Path:
    body = {"dataset": dataset, "split": "test", "qrels_file": "q.tsv", "index": index, "bundle": "/b/minilm",
            "systems": [{"name": name, "queries": 3, "metrics": {"nDCG@10": value, "R@100": 0.5}}
                        for name, value in ndcg.items()]}
    path.write_text(json.dumps(body))
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def test_within_the_rule_passes_and_a_larger_loss_fails(tmp_path):
    base = eval_json(tmp_path / "a.json", "x", {"bm25": 0.40, "light-dense": 0.30})
    close = eval_json(tmp_path / "b.json", "x-bf16", {"bm25": 0.40, "light-dense": 0.2951})
    far = eval_json(tmp_path / "c.json", "x-bf16", {"bm25": 0.40, "light-dense": 0.2949})
    ok = run("--pair", str(base), str(close), "--out", str(tmp_path / "ok"))
    assert ok.returncode == 0 and "PASS" in ok.stdout
    assert json.loads((tmp_path / "ok.json").read_text())["passed"] is True
    bad = run("--pair", str(base), str(close), "--pair", str(base), str(far))
    assert bad.returncode == 1 and "FAIL" in bad.stdout and "| light-dense | 0.3000 | 0.2949 | -0.0051 |" in bad.stdout


def test_runs_of_different_collections_are_refused(tmp_path):
    base = eval_json(tmp_path / "a.json", "x", {"bm25": 0.4})
    other = eval_json(tmp_path / "b.json", "y", {"bm25": 0.4}, dataset="other")
    result = run("--pair", str(base), str(other))
    assert result.returncode != 0 and "not the same evaluation: dataset" in result.stderr
