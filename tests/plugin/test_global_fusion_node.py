"""Global fusion: on a multi-shard index the plugin returns what the Python retriever returns (real node).

The synthetic index has 3 shards and more documents than the per-system depth, so each shard's own top k
differs from the index's: per-shard fusion (`"scope": "shard"`, the old path) is visibly different, global
fusion (the default) must equal Python's. SciFact parity on 1 and 3 shards: test_scifact_parity_node.py.
"""

from __future__ import annotations

import json
import shutil
from itertools import combinations

import pytest
from opensearchpy.exceptions import TransportError

from lightretriever.bundle import Bundle
from lightretriever.plugin import delete_model, upload_bundle
from lightretriever.plugin.parity import compare
from lightretriever.plugin.query import request_body
from lightretriever.retriever import Retriever

from .synthetic import WORD_IDS, WORDS, index_synthetic

pytestmark = pytest.mark.node

QUERIES = [" ".join(pair) for pair in combinations(WORDS, 2)] + WORDS  # 36 queries
DEPTH = 12  # >= the 10 hits compared (the Python retriever searches max(k, depth))


@pytest.fixture(scope="module")
def sharded(plugin_node, tmp_path_factory):
    """A 3-shard index of 90 docs; the synthetic bundle, and a copy carrying the shared learned model."""
    import uuid

    from tests.fixtures.bundle import add_learned_fusion, write_synthetic_bundle

    root = tmp_path_factory.mktemp("global")
    plain = write_synthetic_bundle(root / "plain")
    learned = add_learned_fusion(shutil.copytree(plain, root / "learned"))
    tag = uuid.uuid4().hex[:8]
    index = f"test-global-fusion-{tag}"
    index_synthetic(plugin_node, index, 8, docs=90, seed=3, shards=3)
    models = {"plain": upload_bundle(plugin_node, plain, f"test-global-{tag}", force=True)["name"],
              "learned": upload_bundle(plugin_node, learned, f"test-global-learned-{tag}", force=True)["name"]}
    yield {"index": index, "bundles": {"plain": Bundle.load(plain), "learned": Bundle.load(learned)}, "models": models}
    plugin_node.indices.delete(index=index, ignore_unavailable=True)
    for model in models.values():
        delete_model(plugin_node, model)


@pytest.mark.parametrize("fusion", ["linear", "rrf", "learned"])
def test_three_shards_equal_python_top10_and_scores(plugin_node, sharded, fusion):
    which = "learned" if fusion == "learned" else "plain"
    bundle, model = sharded["bundles"][which], sharded["models"][which]
    assert plugin_node.indices.get_settings(index=sharded["index"])[sharded["index"]]["settings"]["index"]["number_of_shards"] == "3"
    report = compare(plugin_node, sharded["index"], bundle, model, QUERIES, fusion, depth=DEPTH, tolerance=1e-5)
    assert report.share == 1.0, f"{report.share:.3f} agreement; first misses:\n" + "\n".join(report.misses)
    # the old per-shard path is not the same thing on 3 shards: the test can tell them apart
    per_shard = compare(plugin_node, sharded["index"], bundle, model, QUERIES, fusion, depth=DEPTH, tolerance=1e-5, scope="shard")
    assert per_shard.share < 1.0


def _search(client, index, body, **params):
    return client.search(index=index, body=body, params=params)


def test_pagination_explain_and_system_scores(plugin_node, sharded):
    index, model, bundle = sharded["index"], sharded["models"]["plain"], sharded["bundles"]["plain"]
    text = "tumor growth"
    depth = 20  # the Python retriever searches max(k, depth): the same depth on both sides for 15 hits
    retriever = Retriever(plugin_node, index, bundle, fusion="rrf", depth=depth)
    python = retriever.search(text, 15)
    body = request_body(text, model, depth, 5, "rrf")
    pages = []
    for start in (0, 5, 10):
        page = _search(plugin_node, index, dict(body, **{"from": start}), explain="true")["hits"]["hits"]
        pages.extend(page)
    ids = [h["fields"]["doc_id"][0] for h in pages]
    assert ids == [h.doc_id for h in python.hits[:15]]
    for doc_id, hit in zip(ids, pages):
        given = hit["fields"]["lightretriever"][0]
        # each system's own score for the document, as the Python side saw it in that system's top list
        expected = {s: score for s, ranked in python.systems.items() for d, score in ranked if d == doc_id}
        assert given.keys() == expected.keys() and all(abs(given[s] - expected[s]) < 1e-6 for s in given), (given, expected)
        explanation = json.dumps(hit["_explanation"])
        assert "lightretriever fused score" in explanation and "scope=index" in explanation
        assert all(f"{s} score, rank" in explanation for s in given)


def test_a_shard_failure_fails_the_search_instead_of_fusing_less(plugin_node, sharded, unique_index):
    """A second index whose `sparse.<id>` fields are keywords: its shard fails the sparse sub-search."""
    broken = unique_index()
    plugin_node.indices.create(index=broken, body={
        "settings": {"index": {"knn": True, "number_of_shards": 1, "number_of_replicas": 0}},
        "mappings": {"properties": {
            "dense": {"type": "knn_vector", "dimension": 8, "method": {"name": "hnsw", "engine": "lucene", "space_type": "innerproduct"}},
            "sparse": {"properties": {str(t): {"type": "keyword"} for t in WORD_IDS}}, "doc_id": {"type": "keyword"}}}})
    body = request_body("tumor growth", sharded["models"]["plain"], DEPTH, 10, "linear")
    with pytest.raises(TransportError) as info:
        _search(plugin_node, f"{sharded['index']},{broken}", body)
    reason = json.dumps(info.value.info)
    assert "the [sparse] sub-search failed" in reason and broken in reason, reason
    # a plain search over the same two indices would answer from the healthy shards, with _shards.failed = 1
    partial = _search(plugin_node, f"{sharded['index']},{broken}",
                      {"query": {"rank_feature": {"field": "sparse.4456"}}})
    assert partial["_shards"]["failed"] == 1


def test_the_search_timeout_applies_to_the_sub_searches(plugin_node, sharded):
    body = dict(request_body("tumor growth", sharded["models"]["plain"], DEPTH, 10, "linear"), timeout="1nanos")
    with pytest.raises(TransportError) as info:
        _search(plugin_node, sharded["index"], body)
    assert info.value.status_code == 504 and "timeout" in json.dumps(info.value.info)


def test_per_shard_evaluation_of_a_multi_shard_index_is_refused(plugin_node, sharded):
    """_explain/{id} evaluates the clause on one shard: global fusion cannot run there, so it says so."""
    clause = request_body("tumor growth", sharded["models"]["plain"], DEPTH, 10, "linear")["query"]
    with pytest.raises(TransportError) as info:
        plugin_node.explain(index=sharded["index"], id="d1", body={"query": clause})
    assert "global fusion runs on the coordinating node" in json.dumps(info.value.info)


def test_cancelling_the_search_cancels_its_sub_searches(plugin_node, synthetic_bundle, unique_index):
    """The sub-searches run as child tasks of the search; a slow script filter keeps them running long enough."""
    import threading
    import time

    index = unique_index()
    index_synthetic(plugin_node, index, 8, docs=600, seed=1, shards=2)
    model = upload_bundle(plugin_node, synthetic_bundle, unique_index(), force=True)["name"]
    slow = {"script": {"script": {"source": "long x = 0; for (int i = 0; i < 900000; ++i) { x += i; } return x > -1;"}}}
    body = request_body("cancer tumor growth", model, 20, 10, "rrf", filter=slow)
    outcome: dict = {}

    def run():
        started = time.monotonic()
        try:
            outcome["response"] = plugin_node.search(index=index, body=body, params={"request_timeout": 120})
        except TransportError as exc:
            outcome["error"] = json.dumps(exc.info)
        outcome["seconds"] = time.monotonic() - started

    try:
        thread = threading.Thread(target=run)
        thread.start()
        search_task = child = None
        deadline = time.monotonic() + 30
        while child is None and time.monotonic() < deadline and thread.is_alive():
            tasks = plugin_node.tasks.list(params={"actions": "indices:data/read/*", "detailed": "true"})
            running = {tid: t for node in tasks["nodes"].values() for tid, t in node["tasks"].items()}
            for tid, task in running.items():
                parent = running.get(task.get("parent_task_id", ""))
                if task["action"] == "indices:data/read/msearch" and parent and parent["action"] == "indices:data/read/search":
                    search_task, child = task["parent_task_id"], tid
            time.sleep(0.05)
        assert child is not None, f"no _msearch ran as a child of the search (it took {outcome.get('seconds', -1):.1f} s)"
        plugin_node.tasks.cancel(task_id=search_task)
        thread.join(60)
        assert "error" in outcome and "cancel" in outcome["error"].lower(), outcome
        remaining = plugin_node.tasks.list(params={"actions": "indices:data/read/*"})
        assert all(child not in node["tasks"] for node in remaining["nodes"].values())
    finally:
        delete_model(plugin_node, model)
