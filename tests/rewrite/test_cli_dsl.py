"""`lightretriever dsl` with the real MiniLM bundle: the printed request is valid and complete."""

import json

import pytest

from lightretriever.cli import main

pytestmark = pytest.mark.slow


def test_dsl_prints_msearch_ndjson_with_a_filter_on_every_clause(minilm_bundle, capsys):
    code = main(
        [
            "dsl",
            'what is "hybrid" retrieval?',
            "--bundle",
            str(minilm_bundle),
            "--index",
            "docs",
            "--depth",
            "20",
            "--filter",
            '{"range": {"metadata.year": {"gte": 2020}}}',
        ]
    )
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0::2] == [{"index": "docs"}] * 3
    dense, sparse, bm25 = lines[1::2]
    vector = dense["query"]["knn"]["dense"]["vector"]
    assert len(vector) == 384 and abs(sum(v * v for v in vector) - 1.0) < 1e-4
    assert dense["query"]["knn"]["dense"]["filter"] == {"range": {"metadata.year": {"gte": 2020}}}
    fields = [c["rank_feature"]["field"] for c in sparse["query"]["bool"]["should"]]
    assert fields and all(f.startswith("sparse.") and f[7:].isdigit() for f in fields)
    assert sparse["query"]["bool"]["filter"] == [{"range": {"metadata.year": {"gte": 2020}}}]
    assert bm25["query"]["bool"]["must"][0]["multi_match"]["query"] == 'what is "hybrid" retrieval?'
    assert {body["size"] for body in (dense, sparse, bm25)} == {20}


def test_dsl_errors_are_one_clear_line(minilm_bundle, capsys):
    assert main(["dsl", "   ", "--bundle", str(minilm_bundle)]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["dsl", "x", "--bundle", str(minilm_bundle), "--filter", "{lang: en}"]) == 2
    assert "--filter" in capsys.readouterr().err
    assert main(["dsl", "x", "--bundle", str(minilm_bundle), "--depth", "0"]) == 2
    assert "out of range" in capsys.readouterr().err
