"""Pseudo-queries from a corpus and from a query log (no node)."""

from __future__ import annotations

import json

import pytest

from lightretriever.adapt import pseudo
from lightretriever.adapt.corpus import IndexCorpus

CORPUS = IndexCorpus(
    "idx", ["a", "b"], ["Boundary layer transition", ""],
    ["The flow separates early. Heat transfer rises sharply at the wall. Short.",
     "Retrieval systems rank documents by their relevance to the query text."],
    None,
)


def test_corpus_pseudo_queries_are_seeded_and_keep_their_source():
    first = pseudo.from_corpus(CORPUS, ("title", "sentence", "span"), per_doc=1, seed=3)
    assert first == pseudo.from_corpus(CORPUS, ("title", "sentence", "span"), per_doc=1, seed=3)
    assert {q.kind for q in first} == {"title", "sentence", "span"}
    assert [q for q in first if q.kind == "title"] == [pseudo.PseudoQuery("Boundary layer transition", "title", 0)]
    for q in first:  # every sentence/span is cut from its own document
        assert q.text in (CORPUS.titles[q.source] + " " + CORPUS.texts[q.source])
    assert all(len(q.text.split()) >= 3 for q in first)
    with pytest.raises(ValueError, match="unknown pseudo-query kind"):
        pseudo.from_corpus(CORPUS, ("paragraph",))


def test_query_log_bad_lines_go_to_dead_letters(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"text": "heat transfer"}\n{"query": "flat plate"}\nnot json\n{"text": ""}\n[1]\n\n')
    dead = tmp_path / "dl.jsonl"
    queries = pseudo.from_log(log, dead)
    assert [(q.text, q.kind, q.source) for q in queries] == [("heat transfer", "log", -1), ("flat plate", "log", -1)]
    letters = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [d["line"] for d in letters] == [3, 4, 5]
    assert all(d["reason"] and d["source"] == str(log) for d in letters)
