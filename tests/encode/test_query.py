"""Light query encoder against the design.md formula (synthetic table, real MiniLM tokenizer)."""

from __future__ import annotations

import numpy as np
import pytest

from lightretriever.bundle import Bundle
from lightretriever.encode.query import LightQueryEncoder
from lightretriever.errors import QueryError


@pytest.fixture()
def bundle(synthetic_bundle) -> Bundle:
    return Bundle.load(synthetic_bundle)


def test_dense_is_normalised_mean_of_rows_and_sparse_counts_ids(bundle):
    enc = LightQueryEncoder.from_bundle(bundle).encode_query("Protein protein FOLDING")
    ids = bundle.tokenizer.encode("protein protein folding", add_special_tokens=False).ids  # lowercased
    assert enc.ids == ids and enc.n_tokens == len(ids) and enc.n_unknown == 0 and not enc.truncated
    expected = bundle.table[ids].astype(np.float32).mean(axis=0)
    expected /= np.linalg.norm(expected)
    assert enc.dense.dtype == np.float32
    np.testing.assert_allclose(enc.dense, expected, rtol=1e-6, atol=1e-7)
    protein = str(bundle.tokenizer.token_to_id("protein"))
    assert enc.sparse[protein] == 2.0 and sum(enc.sparse.values()) == len(ids)


def test_unknown_and_special_ids_are_excluded(bundle):
    encoder = LightQueryEncoder.from_bundle(bundle)
    enc = encoder.encode_query("protein 😀 [SEP]")
    assert 100 in enc.ids and 102 in enc.ids  # [UNK], [SEP]
    assert enc.n_unknown == 1 and enc.oov_share == pytest.approx(1 / enc.n_tokens)
    assert set(enc.sparse) == {str(bundle.tokenizer.token_to_id("protein"))}
    only = encoder.encode_query("protein")
    np.testing.assert_allclose(enc.dense, only.dense)


def test_truncation_at_max_length_query(bundle):
    enc = LightQueryEncoder.from_bundle(bundle).encode_query(" ".join(["cell"] * 20))
    assert enc.truncated and enc.n_tokens == 16 and enc.sparse == {str(bundle.tokenizer.token_to_id("cell")): 16.0}


@pytest.mark.parametrize("text, reason", [("", "empty query"), ("   \n", "empty query"),
                                          ("😀 🙂", "no known tokens"), ("[CLS] [SEP]", "no known tokens")])
def test_bad_queries_raise_query_error_naming_the_query(bundle, text, reason):
    with pytest.raises(QueryError, match=reason):
        LightQueryEncoder.from_bundle(bundle).encode_query(text)


def test_batch_equals_single(bundle):
    encoder = LightQueryEncoder.from_bundle(bundle)
    texts = ["protein folding", "vitamin d and bone density", "cell"]
    for text, enc in zip(texts, encoder.encode_queries(texts)):
        one = encoder.encode_query(text)
        np.testing.assert_array_equal(enc.dense, one.dense)
        assert enc.sparse == one.sparse and enc.ids == one.ids


def test_float16_and_float32_tables_give_the_same_vectors(bundle):
    wide = LightQueryEncoder.from_bundle(bundle)
    narrow = LightQueryEncoder.from_bundle(bundle, float32_max_bytes=0)
    assert wide.table.dtype == np.float32 and narrow.table.dtype == np.float16
    for text in ["protein folding", "vitamin d and bone density"]:
        np.testing.assert_array_equal(wide.encode_query(text).dense, narrow.encode_query(text).dense)


def test_a_text_without_any_token_is_a_query_error(bundle):
    # "\x08" is dropped by the normaliser: no ids at all, which the no-excluded-id fast path must not pass
    with pytest.raises(QueryError, match="no known tokens"):
        LightQueryEncoder.from_bundle(bundle).encode_query("\x08")
