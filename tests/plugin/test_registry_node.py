"""Model registry REST and bad input, against the real node with the plugin (synthetic bundles: no torch)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from opensearchpy.exceptions import NotFoundError, RequestError

from lightretriever.bundle import Bundle
from lightretriever.errors import BundleError, QueryError
from lightretriever.evaluate.dataset import Dataset
from lightretriever.evaluate.runner import run_system
from lightretriever.evaluate.systems import EvalContext
from lightretriever.plugin import MODELS_PATH, bundle_payload, delete_model, get_model, search, upload_bundle
from lightretriever.plugin.bench import PluginSystem
from lightretriever.plugin.stats import encode_totals
from lightretriever.retriever import Retriever

from .synthetic import index_synthetic

pytestmark = pytest.mark.node


def _index(client, name: str, dim: int, docs: int = 20, seed: int = 0) -> None:
    index_synthetic(client, name, dim, docs, seed)


def test_put_get_delete_roundtrip(plugin_node, synthetic_bundle, unique_index):
    name = unique_index()  # a fresh, unique name; reused as the model name
    assert get_model(plugin_node, name) is None
    stored = upload_bundle(plugin_node, synthetic_bundle, name)
    assert stored["acknowledged"] is True and stored["dense_dim"] == 8
    described = get_model(plugin_node, name)
    manifest = json.loads((synthetic_bundle / "manifest.json").read_text())
    assert described["manifest"] == manifest
    assert {k: v["sha256"] for k, v in described["files"].items()} == manifest["files"]
    assert upload_bundle(plugin_node, synthetic_bundle, name).get("skipped") is True  # same files: not re-sent
    assert delete_model(plugin_node, name) is True
    assert get_model(plugin_node, name) is None
    assert delete_model(plugin_node, name) is False


def test_put_rejects_bad_bundles_with_400(plugin_node, synthetic_bundle, unique_index):
    name = unique_index()
    payload = bundle_payload(synthetic_bundle)
    corrupt = dict(payload, files=dict(payload["files"]))
    corrupt["files"]["token_table.safetensors"] = base64.b64encode(b"not a table").decode()
    with pytest.raises(RequestError) as info:
        plugin_node.transport.perform_request("PUT", MODELS_PATH + name, body=corrupt)
    assert info.value.status_code == 400 and "token_table.safetensors has sha256" in json.dumps(info.value.info)
    missing = dict(payload, files={"tokenizer/tokenizer.json": payload["files"]["tokenizer/tokenizer.json"]})
    with pytest.raises(RequestError) as info:
        plugin_node.transport.perform_request("PUT", MODELS_PATH + name, body=missing)
    assert "token_table.safetensors listed in the manifest is missing" in json.dumps(info.value.info)
    with pytest.raises(RequestError) as info:
        plugin_node.transport.perform_request("PUT", MODELS_PATH + name, body={"manifest": {}})
    assert info.value.status_code == 400
    with pytest.raises(NotFoundError):
        plugin_node.transport.perform_request("GET", MODELS_PATH + name)


def test_bad_queries_get_400_with_a_reason(plugin_node, synthetic_bundle, unique_index):
    model = unique_index()
    upload_bundle(plugin_node, synthetic_bundle, model)
    try:
        index8, index16 = unique_index(), unique_index()
        _index(plugin_node, index8, 8)
        _index(plugin_node, index16, 16)

        def status_and_reason(clause) -> tuple[int, str]:
            with pytest.raises(RequestError) as info:
                plugin_node.search(index=index8 if clause.get("dim") != 16 else index16,
                                   body={"query": {"lightretriever": clause["q"]}})
            return info.value.status_code, json.dumps(info.value.info)

        status, reason = status_and_reason({"q": {"query": "cancer", "model": "no-such-model"}})
        assert status == 400 and "unknown lightretriever model [no-such-model]" in reason
        status, reason = status_and_reason({"q": {"query": "   ", "model": model}})
        assert status == 400 and "query text is empty" in reason
        status, reason = status_and_reason({"q": {"query": "cancer", "model": model}, "dim": 16})
        assert status == 400 and "has dimension 8 but field [dense]" in reason and "has dimension 16" in reason
        status, reason = status_and_reason({"q": {"query": "[CLS] [SEP]", "model": model}})
        assert status == 400 and "query has no known tokens" in reason
        status, reason = status_and_reason({"q": {"query": "cancer", "model": model, "fusion": "magic"}})
        assert status == 400 and "unknown fusion [magic]" in reason
        status, reason = status_and_reason({"q": {"query": "cancer", "model": model, "k": 0}})
        assert status == 400 and "k must be between 1 and" in reason
        # the Python client turns these into QueryError naming the query and the node's reason
        with pytest.raises(QueryError, match="unknown lightretriever model"):
            search(plugin_node, index8, "no-such-model", "cancer")
    finally:
        delete_model(plugin_node, model)


def test_filter_applies_to_every_system(plugin_node, synthetic_bundle, unique_index):
    model = unique_index()
    upload_bundle(plugin_node, synthetic_bundle, model)
    try:
        index = unique_index()
        _index(plugin_node, index, 8, docs=40)
        hits = search(plugin_node, index, model, "cancer tumor growth", k=40, size=40, fusion="rrf",
                      filter={"term": {"metadata.group": "a"}})
        assert hits, "the filtered query found nothing"
        assert all(int(doc_id[1:]) % 2 == 1 for doc_id, _ in hits)  # group a = odd ids only
        unfiltered = search(plugin_node, index, model, "cancer tumor growth", k=40, size=40, fusion="rrf")
        assert any(int(doc_id[1:]) % 2 == 0 for doc_id, _ in unfiltered)
        scores = [s for _, s in unfiltered]
        assert scores == sorted(scores, reverse=True)
    finally:
        delete_model(plugin_node, model)


def test_upload_of_a_missing_bundle_is_a_bundle_error(plugin_node, tmp_path):
    with pytest.raises(BundleError):
        upload_bundle(plugin_node, tmp_path / "nope", "x")


def test_encode_stats_count_the_node_encodings(plugin_node, synthetic_bundle, unique_index):
    """GET _plugins/lightretriever/stats: one encoding per query on a one-shard index, failures not counted."""
    model = unique_index()
    upload_bundle(plugin_node, synthetic_bundle, model)
    try:
        index = unique_index()
        _index(plugin_node, index, 8)
        before = encode_totals(plugin_node)
        for text in ("cancer", "protein cell growth", "tumor receptor"):
            assert search(plugin_node, index, model, text, k=5)
        with pytest.raises(QueryError):
            search(plugin_node, index, model, "[CLS] [SEP]")  # no known tokens: refused inside the encoder
        delta = encode_totals(plugin_node) - before
        assert delta.count == 3
        assert 0 < delta.wall_seconds < 1.0
        assert delta.cpu_seconds is None or 0 < delta.cpu_seconds <= delta.wall_seconds + 1e-3
    finally:
        delete_model(plugin_node, model)


def test_eval_takes_the_plugin_encode_share_from_the_node(plugin_node, synthetic_bundle, unique_index, tmp_path):
    """run_system has no per-query encode time for the plugin; its encode share comes from the node's counters."""
    index = unique_index()
    _index(plugin_node, index, 8)
    context = EvalContext(plugin_node, index, Bundle.load(synthetic_bundle), depth=20)
    system = PluginSystem("plugin-rrf", context, "rrf")
    try:
        queries = {f"q{i}": text for i, text in enumerate(["cancer cell", "gene mouse", "tumor growth", "protein"])}
        dataset = Dataset("tiny", tmp_path, "test", tmp_path / "qrels.tsv", queries, {q: {"d1": 1} for q in queries})
        before = encode_totals(plugin_node)
        run, result = run_system(system, dataset, k=10, warmup=1, progress=False)
        spent = (encode_totals(plugin_node) - before).wall_seconds
        assert len(run) == 4 and not result.errors
        total_latency = len(run) / result.qps
        assert 0 < result.encode_share < 1
        # the node's time over the 4 timed queries: part of what it spent since `before` (which adds the warm-up)
        assert 0 < result.encode_share * total_latency <= spent * (1 + 1e-6)
    finally:
        delete_model(plugin_node, system.model)


def test_chunked_upload_is_verified_at_the_end_and_serves_queries(plugin_node, synthetic_bundle, unique_index):
    """Small chunks stand in for a bundle larger than http.max_content_length (a Gemma 3 270M table: ~335 MB)."""
    model = unique_index()
    stored = upload_bundle(plugin_node, synthetic_bundle, model, chunk_bytes=64 << 10)
    try:
        assert stored["acknowledged"] is True
        table = get_model(plugin_node, model)["files"]["token_table.safetensors"]
        assert table["chunks"] == -(-table["size"] // (64 << 10)) > 1
        index = unique_index()
        _index(plugin_node, index, 8)
        assert search(plugin_node, index, model, "cancer cell", k=5)
        # a chunk that differs from what the manifest's sha256 describes: refused when the upload is committed
        payload = bundle_payload(synthetic_bundle)
        upload = "corrupt0123456789"
        for path, b64 in payload["files"].items():
            data = base64.b64decode(b64)
            if path == "token_table.safetensors":
                data = data[:-1] + bytes([data[-1] ^ 1])
            plugin_node.transport.perform_request("POST", f"{MODELS_PATH}{model}/_chunk", body={
                "upload": upload, "path": path, "seq": 0, "data": base64.b64encode(data).decode()})
        with pytest.raises(RequestError) as info:
            plugin_node.transport.perform_request("PUT", MODELS_PATH + model, body={
                "manifest": payload["manifest"], "upload": upload, "chunks": {p: 1 for p in payload["files"]}})
        assert "token_table.safetensors has sha256" in json.dumps(info.value.info)
        assert search(plugin_node, index, model, "cancer cell", k=5)  # the published version still serves
        # DELETE removes every chunk of the model, the refused upload's too (after answering: poll)
        assert delete_model(plugin_node, model)
        deadline = time.monotonic() + 30
        while _stored_docs(plugin_node, model) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _stored_docs(plugin_node, model) == 0
    finally:
        delete_model(plugin_node, model)


def _stored_docs(client, model: str) -> int:
    client.indices.refresh(index=".lightretriever-models")
    return client.count(index=".lightretriever-models", body={"query": {"term": {"model": model}}})["count"]


def test_stats_sum_the_nodes_with_a_per_node_breakdown(plugin_node, synthetic_bundle, unique_index):
    model = unique_index()
    upload_bundle(plugin_node, synthetic_bundle, model)
    try:
        stats = plugin_node.transport.perform_request("GET", "/_plugins/lightretriever/stats")
        assert stats["_nodes"]["failed"] == 0 and stats["_nodes"]["successful"] == len(stats["nodes"]) >= 1
        nodes = stats["nodes"].values()
        assert stats["query_encoding"]["count"] == sum(n["query_encoding"]["count"] for n in nodes)
        assert stats["query_encoding"]["wall_nanos"] == sum(n["query_encoding"]["wall_nanos"] for n in nodes)
        assert any(model in n["models_loaded"] for n in nodes)  # the node that stored it keeps it
        delete_model(plugin_node, model)
        after = plugin_node.transport.perform_request("GET", "/_plugins/lightretriever/stats")
        assert all(model not in n["models_loaded"] for n in after["nodes"].values())  # dropped on every node
    finally:
        delete_model(plugin_node, model)


def test_a_new_version_under_the_same_name_serves_the_next_query(plugin_node, tmp_path, unique_index):
    from tests.fixtures.bundle import write_synthetic_bundle

    model, index = unique_index(), unique_index()
    _index(plugin_node, index, 8, docs=40)
    first, second = write_synthetic_bundle(tmp_path / "a", seed=1), write_synthetic_bundle(tmp_path / "b", seed=2)
    try:
        upload_bundle(plugin_node, first, model)
        before = search(plugin_node, index, model, "cancer tumor growth", k=40, size=40, fusion="linear")
        upload_bundle(plugin_node, second, model)
        after = search(plugin_node, index, model, "cancer tumor growth", k=40, size=40, fusion="linear")
        python = Retriever(plugin_node, index, Bundle.load(second), systems=("dense", "sparse"), fusion="linear", depth=40)
        expected = [(h.doc_id, h.score) for h in python.search("cancer tumor growth", 40)]
        assert after != before
        assert [d for d, _ in after] == [d for d, _ in expected]
        assert all(abs(a - b) < 1e-5 for (_, a), (_, b) in zip(after, expected))
    finally:
        delete_model(plugin_node, model)
