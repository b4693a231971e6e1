from __future__ import annotations

import json
import random

import pytest

from lightretriever.errors import RecordError
from lightretriever.train.pairs import Doc, Example, beir_examples, jsonl_examples, sample_negatives

BAD_LINES = {
    "not json": "not valid JSON",
    "[1, 2]": "must be a JSON object",
    '{"positive": "x"}': "'query' must be a non-empty string",
    '{"query": "  ", "positive": "x"}': "'query' must be a non-empty string",
    '{"query": "q"}': "missing 'positive'",
    '{"query": "q", "positive": 3}': "positive must be",
    '{"query": "q", "positive": {"title": "", "text": ""}}': "positive must be",
    '{"query": "q", "positive": "p", "negatives": "n"}': "'negatives' must be a list",
    '{"query": "q", "positive": "p", "negatives": [""]}': "negatives[0] must be",
}


def test_jsonl_bad_lines_go_to_dead_letters(tmp_path):
    src = tmp_path / "pairs.jsonl"
    good = [{"query": "what is p53", "positive": {"_id": "d1", "title": "p53", "text": "a tumour suppressor"},
             "negatives": ["an unrelated text"]},
            {"query": "q2", "positive": "plain text positive"}]
    lines = [json.dumps(good[0]), *BAD_LINES, json.dumps(good[1])]
    src.write_bytes(("\n".join(lines) + "\n").encode() + b'{"query": "\xff\xfe", "positive": 1}\n')
    dead = tmp_path / "dead.jsonl"
    examples = jsonl_examples(src, dead)
    assert [e.query for e in examples] == ["what is p53", "q2"]
    assert examples[0].positive == Doc("d1", "p53", "a tumour suppressor")
    assert examples[0].negatives[0].text == "an unrelated text"
    records = [json.loads(line) for line in dead.read_text().splitlines()]
    assert len(records) == len(BAD_LINES) + 1
    for rec, (raw, reason) in zip(records, BAD_LINES.items()):
        assert reason in rec["reason"] and rec["raw"] == raw and rec["source"] == str(src)
        assert rec["reason"].startswith(f"pairs.jsonl:{rec['line']}:")
    assert records[-1]["line"] == len(lines) + 1


@pytest.mark.slow
def test_beir_split_pairs(scifact_dir):
    examples = beir_examples(scifact_dir, "train")
    assert len(examples) == 919 and len({e.query_id for e in examples}) == 809
    multi = [e for e in examples if len(e.positive_ids) > 1]
    assert multi and all(e.positive.doc_id in e.positive_ids for e in examples)
    with pytest.raises(RecordError, match="no qrels for split 'nope'"):
        beir_examples(scifact_dir, "nope")


def test_sampled_negatives_never_positive():
    pool = [Doc(str(i), "", f"doc {i}") for i in range(10)]
    ex = Example("q", "query", pool[0], negatives=[pool[1], pool[2], pool[0]], positive_ids=frozenset({"0", "3"}))
    rng = random.Random(0)
    for _ in range(50):
        negs = sample_negatives(ex, pool, 4, rng)
        assert len(negs) == 4 and not {d.doc_id for d in negs} & {"0", "3"}
        assert {"1", "2"} <= {d.doc_id for d in negs}  # mined ones first
