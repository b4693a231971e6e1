"""Inputs hardened (issue 15), against the real node with real MiniLM encoding and the plugin installed:
title-only documents are indexed and found by every system; a 5,000-word query is cut once, the same way for
every sub-query, returns results from every system, and says so, in Python and in the plugin."""

from __future__ import annotations

import json
import random

import pytest
from opensearchpy.exceptions import RequestError

from lightretriever.bundle import Bundle
from lightretriever.encode.document import DocumentEncoder
from lightretriever.ingest.job import JobConfig
from lightretriever.ingest.setup import build_job
from lightretriever.plugin import delete_model, search_result, upload_bundle
from lightretriever.retriever import Retriever
from lightretriever.rewrite.dsl import bm25_clause, search_body

pytestmark = [pytest.mark.node, pytest.mark.slow]

CORPUS_DOCS = 64  # enough neighbours for top-10 searches and a >1024-term essay; each costs a MiniLM encode
TITLE_ONLY = 4  # SciFact documents after the first CORPUS_DOCS, indexed with their title and no body


@pytest.fixture(scope="module")
def inputs_index(plugin_node, minilm_bundle, scifact_dir, tmp_path_factory):
    """SciFact's first documents, title-only records (missing, null and blank body) and an empty record,
    ingested by the real job; the bundle uploaded to the plugin."""
    with open(scifact_dir / "corpus.jsonl", encoding="utf-8") as fh:
        records = [json.loads(line) for _, line in zip(range(CORPUS_DOCS + TITLE_ONLY), fh)]
    title_only = records[CORPUS_DOCS:]
    bodies = [{}, {"text": None}, {"text": " \n "}, {"text": "", "metadata": {"body": "kept elsewhere"}}]
    lines = records[:CORPUS_DOCS] + [
        {"_id": r["_id"], "title": r["title"], **body} for r, body in zip(title_only, bodies)
    ] + [{"_id": "empty", "title": " ", "text": ""}]
    tmp = tmp_path_factory.mktemp("inputs")
    source = tmp / "corpus.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    index = "test-inputs-i15"
    plugin_node.indices.delete(index=index, ignore_unavailable=True)
    encoder = DocumentEncoder.from_bundle(Bundle.load(minilm_bundle))
    job = build_job(plugin_node, str(source), JobConfig(index=index, state_dir=tmp / "state", progress=False),
                    bundle_dir=minilm_bundle, encoder=encoder)
    summary = job.run()
    model = upload_bundle(plugin_node, minilm_bundle, "test-inputs-minilm", force=True)["name"]
    yield {"index": index, "summary": summary, "job": job, "title_only": title_only, "records": records,
           "model": model, "bundle": Bundle.load(minilm_bundle)}
    plugin_node.indices.delete(index=index, ignore_unavailable=True)
    delete_model(plugin_node, model)


def test_title_only_documents_are_indexed_and_the_empty_one_is_dead_lettered(plugin_node, inputs_index):
    summary = inputs_index["summary"]
    assert (summary.counts.read, summary.counts.indexed, summary.counts.rejected) == (
        CORPUS_DOCS + TITLE_ONLY + 1, CORPUS_DOCS + TITLE_ONLY, 1)
    dead = [json.loads(line) for line in inputs_index["job"].dead_letter_path.read_text().splitlines()]
    assert [d["doc_id"] for d in dead] == ["empty"] and "empty title and text" in dead[0]["reason"]
    for record in inputs_index["title_only"]:
        source = plugin_node.get(index=inputs_index["index"], id=record["_id"])["_source"]
        assert source["title"] == record["title"] and not source["text"].strip()
        assert len(source["dense"]) == 384 and source["sparse"]


@pytest.mark.parametrize("system", ["dense", "sparse", "bm25"])
def test_title_only_documents_are_found_by_every_system(plugin_node, inputs_index, system):
    retriever = Retriever(plugin_node, inputs_index["index"], inputs_index["bundle"], systems=[system])
    for record in inputs_index["title_only"]:
        hits = retriever.search(record["title"], k=10).ids()
        assert record["_id"] in hits, (system, record["title"], hits)


def test_title_only_documents_are_found_by_the_plugin(plugin_node, inputs_index):
    for record in inputs_index["title_only"]:
        result = search_result(plugin_node, inputs_index["index"], inputs_index["model"], record["title"],
                               size=10, fusion="rrf")
        assert record["_id"] in [doc_id for doc_id, _ in result.hits] and not result.truncated


def essay(words: int, records: list[dict], seed: int = 15) -> str:
    """A pasted essay of `words` words: sentences of the corpus's own text, shuffled."""
    rng = random.Random(seed)
    pool = " ".join(r["text"] for r in records).split()
    return " ".join(rng.choice(pool) for _ in range(words))


def test_five_thousand_word_query_python_and_plugin(plugin_node, inputs_index):
    text = essay(5000, inputs_index["records"])
    index = inputs_index["index"]
    # the problem: the whole text as one BM25 query is refused by the node
    with pytest.raises(RequestError, match="too_many_(nested_)?clauses|maxClauseCount"):
        plugin_node.search(index=index, body=search_body(bm25_clause(text), 10))

    retriever = Retriever(plugin_node, index, inputs_index["bundle"], fusion="rrf")
    result = retriever.search(text, k=10)
    assert result.truncated and any("longer than" in w for w in result.warnings)
    assert len(result.hits) == 10
    assert {s: len(h) > 0 for s, h in result.systems.items()} == {"dense": True, "sparse": True, "bm25": True}
    query = retriever.rewrite(text, 10)
    assert text.startswith(query.searched_text) and len(query.searched_text) < len(text)
    assert query.clauses["bm25"]["bool"]["must"][0]["multi_match"]["query"] == query.searched_text
    assert query.encoding.n_tokens <= inputs_index["bundle"].manifest["max_length"]["query"]

    plugin = search_result(plugin_node, index, inputs_index["model"], text, k=100, size=10, fusion="rrf")
    assert plugin.truncated
    # rrf over all three systems: equal ids (and scores) mean the node cut the text as Python did
    assert [doc_id for doc_id, _ in plugin.hits] == result.ids()
    assert [score for _, score in plugin.hits] == pytest.approx([h.score for h in result.hits], abs=1e-3)
    # the per-shard path cuts the same text and flags it too (one shard: the same fusion as the global one)
    shard = search_result(plugin_node, index, inputs_index["model"], text, k=100, size=10, fusion="rrf", scope="shard")
    assert shard.truncated and shard.hits == plugin.hits
    for scope in ("index", "shard"):
        short = search_result(plugin_node, index, inputs_index["model"], "microglia", size=5, fusion="rrf", scope=scope)
        assert short.hits and not short.truncated


def test_cli_says_a_long_query_was_cut(plugin_node, opensearch_url, inputs_index, minilm_bundle, capsys):
    from lightretriever.cli import main

    text = essay(5000, inputs_index["records"])
    index = inputs_index["index"]
    assert main(["search", text, "--index", index, "--bundle", str(minilm_bundle), "--fusion", "rrf", "--json",
                 "--opensearch", opensearch_url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["truncated"] is True and len(out["hits"]) == 10 and all(out["systems"].values())
    assert main(["search", "microglia", "--index", index, "--bundle", str(minilm_bundle), "--json",
                 "--opensearch", opensearch_url]) == 0
    assert json.loads(capsys.readouterr().out)["truncated"] is False
    assert main(["plugin", "search", text, "--index", index, "--model", inputs_index["model"], "--fusion", "rrf",
                 "--opensearch", opensearch_url]) == 0
    captured = capsys.readouterr()
    assert "searched the same prefix" in captured.err and len(captured.out.splitlines()) == 10
