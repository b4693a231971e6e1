"""The index from mappings/ on the real node: knn, rank_feature scoring, and refusals."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from opensearchpy import helpers
from opensearchpy.exceptions import RequestError

from lightretriever.errors import MappingError, RecordError
from lightretriever.mappings import create_index, dense_dimension, validate_document

pytestmark = pytest.mark.node

DIM = 8


def lucene_innerproduct_score(dot: float) -> float:
    """The k-NN plugin's reported score for the lucene innerproduct space."""
    return dot + 1.0 if dot >= 0 else 1.0 / (1.0 - dot)


def rank_feature_stored(value: float) -> float:
    """What Lucene's FeatureField keeps of a value: the top 16 bits of the float (9 significant bits)."""
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    return struct.unpack("<f", struct.pack("<I", (bits >> 15) << 15))[0]


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def corpus(os_client, unique_index):
    """40 documents with random unit vectors and random positive sparse weights over 12 token ids."""
    rng = np.random.default_rng(7)
    name = unique_index()
    assert create_index(os_client, name, DIM) is True
    vectors = _unit(rng.normal(size=(40, DIM)))
    sparse = []
    actions = []
    for i, vector in enumerate(vectors):
        ids = rng.choice(12, size=rng.integers(1, 6), replace=False)
        weights = {str(1000 + int(t)): float(rng.uniform(0.05, 3.0)) for t in ids}
        sparse.append(weights)
        doc = {
            "doc_id": f"d{i:02d}",
            "title": f"title {i}",
            "text": f"document number {i}",
            "dense": vector.tolist(),
            "sparse": weights,
            "metadata": {"group": i % 3},
        }
        validate_document(doc)
        actions.append({"_index": name, "_id": doc["doc_id"], "_source": doc})
    ok, errors = helpers.bulk(os_client, actions, refresh="wait_for")
    assert ok == 40 and not errors
    return name, vectors, sparse


def test_index_created_from_mappings(os_client, corpus):
    name, _, _ = corpus
    props = os_client.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    assert props["dense"]["type"] == "knn_vector" and props["dense"]["dimension"] == DIM
    assert props["dense"]["method"]["engine"] == "lucene"
    assert props["dense"]["method"]["space_type"] == "innerproduct"
    assert props["sparse"]["type"] == "rank_features"
    assert props["title"]["type"] == props["text"]["type"] == "text"
    assert props["doc_id"]["type"] == "keyword"
    settings = os_client.indices.get_settings(index=name)[name]["settings"]["index"]
    assert settings["knn"] == "true" and settings["number_of_shards"] == "1"
    assert os_client.count(index=name)["count"] == 40
    assert dense_dimension(os_client, name) == {name: DIM}


def test_knn_returns_exact_inner_product_neighbours(os_client, corpus):
    name, vectors, _ = corpus
    query = _unit(np.random.default_rng(11).normal(size=(1, DIM)))[0]
    dots = vectors @ query
    expected = [f"d{i:02d}" for i in np.argsort(-dots)[:10]]
    resp = os_client.search(
        index=name, body={"size": 10, "query": {"knn": {"dense": {"vector": query.tolist(), "k": 10}}}}
    )
    hits = resp["hits"]["hits"]
    assert [h["_id"] for h in hits] == expected
    for hit in hits:
        dot = float(dots[int(hit["_id"][1:])])
        assert hit["_score"] == pytest.approx(lucene_innerproduct_score(dot), rel=1e-5)


def test_rank_feature_query_scores_sparse_dot_product(os_client, corpus):
    name, _, sparse = corpus
    query = {"1001": 2.0, "1004": 1.0, "1007": 3.0, "1010": 1.0}  # token id -> count, as the light encoder
    clauses = [
        {"rank_feature": {"field": f"sparse.{tid}", "linear": {}, "boost": count}}
        for tid, count in query.items()
    ]
    resp = os_client.search(
        index=name, body={"size": 40, "query": {"bool": {"should": clauses, "minimum_should_match": 1}}}
    )
    hits = {h["_id"]: h["_score"] for h in resp["hits"]["hits"]}
    expected = {}
    for i, weights in enumerate(sparse):
        shared = [t for t in query if t in weights]
        if shared:
            exact = sum(query[t] * weights[t] for t in shared)
            stored = sum(query[t] * rank_feature_stored(weights[t]) for t in shared)
            expected[f"d{i:02d}"] = (exact, stored)
    assert set(hits) == set(expected) and len(hits) >= 5
    for doc_id, (exact, stored) in expected.items():
        # within the field's stored precision (9 significant bits: relative error < 2^-8) ...
        assert abs(hits[doc_id] - exact) <= exact * 2**-8
        # ... and exactly the dot product of the stored values (float32 sum)
        assert hits[doc_id] == pytest.approx(stored, rel=1e-6)


def test_dimension_mismatch_is_refused(os_client, corpus):
    name, _, _ = corpus
    assert create_index(os_client, name, DIM) is False  # same dimension: reused
    with pytest.raises(MappingError, match=rf"{name}.*dimension {DIM}.*produces 16"):
        create_index(os_client, name, 16)
    with pytest.raises(RequestError) as info:  # a vector of the wrong length is refused by the node itself
        os_client.index(index=name, id="bad", body={"doc_id": "bad", "text": "x", "dense": [0.1] * 16})
    assert "dimension" in str(info.value.info).lower()


def test_negative_sparse_weight_is_refused(os_client, corpus):
    name, _, _ = corpus
    doc = {"doc_id": "neg", "text": "x", "sparse": {"1001": -0.5}}
    with pytest.raises(RecordError, match=r"'neg'.*sparse/1001.*-0.5"):
        validate_document(doc)
    with pytest.raises(RequestError) as info:  # and by the node, should anything skip validation
        os_client.index(index=name, id="neg", body=doc)
    assert "sparse" in str(info.value.info)
    assert os_client.count(index=name)["count"] == 40


def test_unknown_field_is_refused(os_client, corpus):
    name, _, _ = corpus
    with pytest.raises(RequestError, match="strict_dynamic_mapping_exception"):
        os_client.index(index=name, id="x", body={"doc_id": "x", "text": "x", "tags": ["a"]})
