"""Table post-processing folded into the bundle's table equals applying it at query time (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

from lightretriever.adapt.postprocess import CorpusStats, PostProcessSpec, fit_transform
from lightretriever.bundle import Bundle
from lightretriever.encode.query import LightQueryEncoder

CORPUS = [
    "Microglia drive neurodegeneration in mouse models of Alzheimer disease.",
    "Vitamin D supplementation and bone fracture risk in the elderly.",
    "The boundary layer over a flat plate at high Mach number.",
    "Information retrieval systems rank documents by relevance to a query.",
] * 3
QUERIES = ["microglia and alzheimer", "bone fracture vitamin", "flat plate boundary layer mach",
           "ranking documents for a query", "the the of and"]


@pytest.mark.parametrize("spec", [
    PostProcessSpec("table", 0, "none"),
    PostProcessSpec("table", 2, "idf"),
    PostProcessSpec("frequency", 3, "sif"),
    PostProcessSpec("none", 0, "idf"),
])
def test_folded_table_equals_query_time_postprocessing(synthetic_bundle, spec):
    bundle = Bundle.load(synthetic_bundle)
    table = (bundle.table + np.float16(2.0)).astype(np.float16)  # a common direction, as real tables have
    exclude = set(bundle.manifest["query"]["exclude_ids"]) | {bundle.manifest["query"]["unk_id"]}
    stats = CorpusStats.from_texts(bundle.tokenizer, CORPUS, bundle.vocab_size)
    transform = fit_transform(table, exclude, spec, stats)
    folded = LightQueryEncoder(bundle.tokenizer, transform.fold(table), 16, 100, exclude)
    original = LightQueryEncoder(bundle.tokenizer, table, 16, 100, exclude)
    for text in QUERIES:
        ids = [i for i in bundle.tokenizer.encode(text, add_special_tokens=False).ids if i not in exclude]
        # query time: weighted sum of centred, projected original rows, normalised
        expected = transform.rows(table, ids).sum(axis=0)
        expected /= np.linalg.norm(expected)
        got = folded.encode_query(text)
        assert got.dense.dtype == np.float32
        np.testing.assert_allclose(got.dense, expected, atol=2e-3)  # the folded table is float16
        assert got.sparse == original.encode_query(text).sparse  # the sparse query is untouched
    if spec.center != "none" or spec.remove_directions:
        assert not np.allclose(folded.encode_query(QUERIES[0]).dense, original.encode_query(QUERIES[0]).dense,
                               atol=1e-2)


def test_idf_weights_follow_document_frequency(synthetic_bundle):
    bundle = Bundle.load(synthetic_bundle)
    stats = CorpusStats.from_texts(bundle.tokenizer, ["alpha beta", "alpha gamma", "alpha"], bundle.vocab_size)
    transform = fit_transform(bundle.table, [0, 100, 101, 102, 103], PostProcessSpec("none", 0, "idf"), stats)
    alpha, gamma, unseen = (bundle.tokenizer.token_to_id(t) for t in ("alpha", "gamma", "zebra"))
    assert transform.weights[alpha] < transform.weights[gamma] < transform.weights[unseen]
    assert transform.weights[alpha] == pytest.approx(np.log1p((3 - 3 + 0.5) / (3 + 0.5)))


def test_weights_need_corpus_statistics(synthetic_bundle):
    bundle = Bundle.load(synthetic_bundle)
    with pytest.raises(ValueError, match="corpus statistics"):
        fit_transform(bundle.table, [], PostProcessSpec("table", 0, "idf"), None)
