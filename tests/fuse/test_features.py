"""Feature rows for the learned fusion: order, missing values and normalisations from design.md."""

import numpy as np
import pytest

from lightretriever.fuse.features import candidate_features, feature_names


def test_feature_names_follow_the_contract_order():
    assert feature_names(["dense", "bm25"]) == [
        "dense_score", "dense_rank", "dense_minmax", "dense_z", "dense_present",
        "bm25_score", "bm25_rank", "bm25_minmax", "bm25_z", "bm25_present",
        "query_len", "oov_share",
    ]  # fmt: skip


def test_candidate_features_values_and_missing_defaults():
    hits = {"dense": [("b", 0.8), ("a", 0.4)], "sparse": [("c", 3.0)]}
    doc_ids, x = candidate_features(hits, ["dense", "sparse", "bm25"], depth=100, query_len=5, oov_share=0.2)
    assert doc_ids == ["a", "b", "c"]
    assert x.dtype == np.float64 and x.shape == (3, 17)
    a, b, c = x
    # dense: mean 0.6, population std 0.2
    assert a[:5].tolist() == pytest.approx([0.4, 2, 0.0, -1.0, 1.0])
    assert b[:5].tolist() == pytest.approx([0.8, 1, 1.0, 1.0, 1.0])
    assert c[:5].tolist() == [0.0, 101, 0.0, 0.0, 0.0]
    # sparse has one hit: minmax 1.0, std 0 -> z 0.0
    assert c[5:10].tolist() == [3.0, 1, 1.0, 0.0, 1.0]
    assert a[5:10].tolist() == [0.0, 101, 0.0, 0.0, 0.0]
    # bm25 returned nothing at all
    assert x[:, 10:15].tolist() == [[0.0, 101, 0.0, 0.0, 0.0]] * 3
    assert x[:, 15:].tolist() == [[5.0, 0.2]] * 3


def test_no_candidates_gives_an_empty_matrix_of_the_right_width():
    doc_ids, x = candidate_features({"dense": []}, ["dense"], 10, 1, 0.0)
    assert doc_ids == [] and x.shape == (0, 7)
