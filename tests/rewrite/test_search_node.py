"""Rewriting, execution and fusion against the real node, on a handful of hand-made documents.

The tiny 4-dim token table of conftest.py gives each word one axis, so the expected rankings
can be worked out by hand.
"""

import pytest

from lightretriever.errors import QueryError
from lightretriever.evaluate.hnsw import hnsw_recall
from lightretriever.fuse import fuse_linear, fuse_rrf
from lightretriever.retriever import Retriever
from lightretriever.rewrite.execute import run_msearch, run_named

pytestmark = pytest.mark.node

S = 2**-0.5  # the unit diagonal of two axes, as in conftest's DOCS

def test_msearch_returns_each_systems_own_ranking(os_client, tiny_index, tiny_rewriter):
    query = tiny_rewriter.rewrite("apple apple banana", depth=5)
    hits = run_msearch(os_client, tiny_index, query)
    assert list(hits) == ["dense", "sparse", "bm25"]
    # dense query = normalised [2, 1, 0, 0]: d2 (0.949) > d1 (0.894) > d3 (0.447) > d4 = d5 (0)
    assert [d for d, _ in hits["dense"]][:3] == ["d2", "d1", "d3"]
    # sparse = Σ count * weight: d1 2*2=4, d2 2*1+1*1=3, d3 1*3=3; no others match
    sparse = dict(hits["sparse"])
    assert set(sparse) == {"d1", "d2", "d3"}
    assert sparse["d1"] == pytest.approx(4.0, rel=0.01)
    assert sparse["d2"] == pytest.approx(3.0, rel=0.01)
    assert sparse["d3"] == pytest.approx(3.0, rel=0.01)
    assert {d for d, _ in hits["bm25"]} == {"d1", "d2", "d3"}


def test_filter_applies_to_every_system(os_client, tiny_index, tiny_rewriter):
    query = tiny_rewriter.rewrite("apple banana cherry", depth=5, filter={"term": {"metadata.lang": "de"}})
    hits = run_msearch(os_client, tiny_index, query)
    for system, ranked in hits.items():
        assert ranked, system
        assert {d for d, _ in ranked} <= {"d3", "d5"}, system


def test_named_queries_give_the_same_per_system_scores(os_client, tiny_index, tiny_rewriter):
    query = tiny_rewriter.rewrite("apple banana", depth=5)
    msearch = run_msearch(os_client, tiny_index, query)
    named = run_named(os_client, tiny_index, query)
    for system in ("dense", "sparse", "bm25"):
        expected = dict(msearch[system])
        got = dict(named[system])
        assert set(got) <= set(expected), system
        for doc_id, score in got.items():
            assert score == pytest.approx(expected[doc_id], rel=1e-4), (system, doc_id)


def test_retriever_fuses_what_opensearch_returned(os_client, tiny_index, tiny_rewriter):
    linear = Retriever(os_client, tiny_index, None, rewriter=tiny_rewriter, fusion="linear", depth=5)
    result = linear.search("banana date", k=3)
    expected = fuse_linear(result.systems)[:3]
    assert [(h.doc_id, h.score) for h in result.hits] == expected
    assert result.fusion == "linear" and len(result) == 3
    assert list(result.systems) == ["dense", "sparse"]  # linear reads no bm25, so it is not sent
    assert result.timings["total"] >= result.timings["search"] > 0
    rrf = linear.search("banana date", k=5, fusion="rrf")
    assert [(h.doc_id, h.score) for h in rrf.hits] == fuse_rrf(rrf.systems)[:5]


def test_missing_index_is_a_clear_error(os_client, tiny_rewriter):
    retriever = Retriever(os_client, "no-such-index-lightretriever", None, rewriter=tiny_rewriter, depth=5)
    with pytest.raises(QueryError, match="'no-such-index-lightretriever' does not exist"):
        retriever.search("apple")
    with pytest.raises(QueryError, match="does not exist"):
        run_named(os_client, "no-such-index-lightretriever", tiny_rewriter.rewrite("apple", depth=5))


def test_k_out_of_range_is_a_clear_error(os_client, tiny_index, tiny_rewriter):
    retriever = Retriever(os_client, tiny_index, None, rewriter=tiny_rewriter, depth=5)
    for k in (0, 10_001):
        with pytest.raises(QueryError, match="out of range"):
            retriever.search("apple", k=k)


def test_hnsw_recall_is_exact_on_a_tiny_index(os_client, tiny_index):
    vectors = [[1.0, 0.0, 0.0, 0.0], [0.0, S, S, 0.0], [0.5, 0.5, 0.5, 0.5]]
    assert hnsw_recall(os_client, tiny_index, vectors, k=2, depth=5) == 1.0


def test_ids_come_from_doc_values_and_match_the_opensearch_id(os_client, tiny_index, tiny_rewriter):
    """The sub-queries skip the stored-field fetch: ids are read from `doc_id` doc values (design.md)."""
    query = tiny_rewriter.rewrite("apple banana cherry date", depth=5)
    for system, body in query.bodies().items():
        raw = os_client.search(index=tiny_index, body=body)["hits"]["hits"]
        assert raw and all("_id" not in hit and "_source" not in hit for hit in raw), system
        plain = {key: value for key, value in body.items() if key not in ("stored_fields", "docvalue_fields")}
        by_id = os_client.search(index=tiny_index, body=plain)["hits"]["hits"]
        assert [hit["fields"]["doc_id"][0] for hit in raw] == [hit["_id"] for hit in by_id], system
        assert [hit["_score"] for hit in raw] == [hit["_score"] for hit in by_id], system


def test_hit_without_any_id_is_a_clear_error():
    from lightretriever.rewrite.execute import response_hits

    assert response_hits({}) == []  # filter_path drops "hits" when a search matches nothing
    with pytest.raises(QueryError, match="neither a 'doc_id' doc value nor an _id"):
        response_hits({"hits": {"hits": [{"_index": "x", "_score": 1.0}]}})
