"""The Python client's request bodies (no node): the clause of docs/design.md and the registry PUT body."""

from __future__ import annotations

import base64
import json

import pytest

from lightretriever.errors import QueryError
from lightretriever.plugin import bundle_payload, lightretriever_clause, model_name_for


def test_clause_follows_the_design():
    clause = lightretriever_clause("p53 cancer", "minilm", 100, "learned", {"term": {"metadata.lang": "en"}})
    assert clause == {"lightretriever": {
        "query": "p53 cancer", "model": "minilm", "k": 100, "fusion": "learned",
        "filter": {"term": {"metadata.lang": "en"}},
        "dense_field": "dense", "sparse_field": "sparse", "text_fields": ["title", "text"]}}
    assert "fusion" not in lightretriever_clause("x", "m")["lightretriever"]  # the bundle's default applies
    assert lightretriever_clause("x", "m", systems=["bm25"])["lightretriever"]["systems"] == ["bm25"]


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_text_is_refused_before_sending(text):
    with pytest.raises(QueryError, match="empty query"):
        lightretriever_clause(text, "m")


def test_unknown_fusion_is_refused():
    with pytest.raises(QueryError, match="unknown fusion 'max'"):
        lightretriever_clause("x", "m", fusion="max")


def test_payload_carries_every_listed_file(synthetic_bundle):
    payload = bundle_payload(synthetic_bundle)
    manifest = json.loads((synthetic_bundle / "manifest.json").read_text())
    assert payload["manifest"] == manifest
    assert set(payload["files"]) == set(manifest["files"])
    for rel, data in payload["files"].items():
        assert base64.b64decode(data) == (synthetic_bundle / rel).read_bytes()


def test_default_model_name_follows_the_files(synthetic_bundle):
    from lightretriever.bundle import Bundle

    name = model_name_for(synthetic_bundle)
    assert name.startswith("lr-") and name == model_name_for(synthetic_bundle)
    Bundle.load(synthetic_bundle).add_file("fusion/extra.txt", b"changed")
    assert model_name_for(synthetic_bundle) != name
