"""Evaluation pieces that need no node: dataset reading, metrics, reports."""

import json
import math

import pytest

from lightretriever.errors import LightRetrieverError
from lightretriever.evaluate.dataset import load_dataset, read_qrels
from lightretriever.evaluate.metrics import aggregate, per_query
from lightretriever.evaluate.report import EvalReport
from lightretriever.evaluate.runner import SystemResult, run_system
from lightretriever.evaluate.systems import SystemRun


def test_metrics_on_a_hand_made_run():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1, "c": 1}, "q3": {"z": 1}}
    run = {"q1": [("a", 9.0), ("x", 1.0)], "q2": [("x", 3.0), ("c", 2.0)]}  # q3 failed: no run
    values = per_query(run, qrels)
    assert values["MRR@10"] == {"q1": 1.0, "q2": 0.5, "q3": 0.0}
    assert values["R@100"] == {"q1": 1.0, "q2": 0.5, "q3": 0.0}
    # q2: one hit at rank 2 -> DCG 1/log2(3); ideal 1 + 1/log2(3)
    assert values["nDCG@10"]["q2"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert aggregate(run, qrels)["MRR@10"] == pytest.approx(0.5)


def test_metrics_follow_list_order_not_scores():
    # fused lists are already sorted; a caller's score scale must not reorder them
    assert per_query({"q": [("x", 1.0), ("a", 1.0)]}, {"q": {"a": 1}})["MRR@10"]["q"] == 0.5


def test_cranfield_negative_codes_switch_to_the_binary_qrels(data_dir):
    dataset = load_dataset(data_dir / "cranfield", "test")
    assert dataset.qrels_file.name == "test_binary.tsv"
    assert all(r > 0 for docs in dataset.qrels.values() for r in docs.values())
    scifact = load_dataset(data_dir / "scifact", "test")
    assert scifact.qrels_file.name == "test.tsv" and len(scifact.queries) == 300


def test_bad_dataset_files_name_the_file_and_line(tmp_path):
    with pytest.raises(LightRetrieverError, match="not found"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\tx\n")
    with pytest.raises(LightRetrieverError, match=r"test.tsv:2: bad qrels row"):
        read_qrels(tmp_path / "qrels" / "test.tsv")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "x"}\n{"id": 2}\n')
    with pytest.raises(LightRetrieverError, match=r"queries.jsonl:2"):
        load_dataset(tmp_path)


class ScriptedSystem:
    """Answers from a table; raises for one query, as a system does on an all-unknown query."""

    name = "scripted"

    def search(self, text, k, filter=None):
        from lightretriever.errors import QueryError

        if text == "bad":
            raise QueryError("query 'bad': query has no known tokens")
        return SystemRun([(text, 1.0)], encode_seconds=0.0)


def test_runner_records_failed_queries_and_scores_them_zero(tmp_path):
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\tgood\t1\n2\tbad\t1\n")
    (tmp_path / "queries.jsonl").write_text('{"_id": "1", "text": "good"}\n{"_id": "2", "text": "bad"}\n')
    run, result = run_system(ScriptedSystem(), load_dataset(tmp_path), k=10, warmup=2, progress=False)
    assert list(run) == ["1"]
    assert result.errors == {"2": "query 'bad': query has no known tokens"}
    assert result.metrics["MRR@10"] == 0.5 and result.queries == 2


def test_report_writes_json_markdown_and_png(tmp_path):
    def result(name, metrics, latency, qps, encode_share, **extra):
        keys = (("nDCG@10", "R@100", "MRR@10"), ("p50", "p99", "mean"))
        return SystemResult(name, dict(zip(keys[0], metrics)), dict(zip(keys[1], latency)), qps=qps,
                            encode_share=encode_share, queries=300, **extra)

    results = [
        result("bm25", (0.66, 0.9, 0.62), (4.0, 9.0, 5.0), 200.0, 0.0),
        result("hybrid-learned", (0.7, 0.95, 0.66), (9.0, 20.0, 10.0), 100.0, 0.01, fusion="linear"),
    ]
    report = EvalReport("scifact", "test", "qrels/test.tsv", "idx", "bundle", results)
    paths = report.write(tmp_path)
    assert json.loads(paths["json"].read_text())["systems"][1]["metrics"]["nDCG@10"] == 0.7
    table = paths["markdown"].read_text()
    assert "| bm25 | 0.6600 | 0.9000 | 0.6200 | 4.0 | 9.0 | 200.0 | 0.0% | – | 0 |" in table
    assert "hybrid-learned (as linear)" in table  # a fallback is never hidden
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_regression_files_catch_a_drop_of_one_hundredth(tmp_path):
    """Every file under bench/regressions/ parses; a 0.01 nDCG@10 drop fails, noise within tolerance does not."""
    from pathlib import Path

    from lightretriever.evaluate import regression

    files = sorted((Path(__file__).resolve().parents[2] / "bench" / "regressions").glob("*.yaml"))
    assert files, "no regression files"
    for path in files:
        spec = regression.load(path)
        assert float(spec.get("tolerance", regression.DEFAULT_TOLERANCE)) < 0.01, path.name
        assert spec["commands"], path.name
        assert spec["expected"] or spec.get("pending"), f"{path.name}: no expected figures and no `pending` note"
        same = {name: dict(values) for name, values in spec["expected"].items()}
        assert regression.compare(spec, same) == [], path.name
        for name, values in spec["expected"].items():
            assert set(values) == set(regression.METRICS), (path.name, name)
    spec = {"tolerance": 0.005, "expected": {"bm25": {"nDCG@10": 0.8722, "R@100": 0.9375}}}
    assert regression.compare(spec, {"bm25": {"nDCG@10": 0.8682, "R@100": 0.9375}}) == []
    assert regression.compare(spec, {"bm25": {"nDCG@10": 0.8622, "R@100": 0.9375}}) == [
        "bm25 nDCG@10 dropped: 0.8622 vs expected 0.8722 (tolerance 0.005)"
    ]
    assert regression.compare(spec, {"other": {"nDCG@10": 1.0, "R@100": 1.0}}) == [
        "bm25: expected but not measured",
        "other: measured but has no expected figures",
    ]
    path = tmp_path / "x.yaml"
    path.write_text("collection: x\npending: to measure\nexpected:\n  bm25: {nDCG@10: 0.1, R@100: 0.2}\n")
    regression.update(path, {"bm25": {"nDCG@10": 0.5, "R@100": 0.6}}, "test machine")
    again = regression.load(path)
    assert again["collection"] == "x" and again["expected"]["bm25"]["nDCG@10"] == 0.5
    assert "pending" not in again and again["measured"]["machine"] == "test machine"
