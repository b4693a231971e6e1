"""The rewriter's DSL for known inputs, filters on every clause, and the bad-query errors."""

import json

import pytest

from lightretriever.errors import QueryError
from lightretriever.rewrite import MAX_K, QueryRewriter, to_dsl
from lightretriever.rewrite.dsl import max_query_chars

FILTER = {"term": {"metadata.lang": "en"}}


def test_known_query_gives_the_design_sub_queries(tiny_rewriter):
    query = tiny_rewriter.rewrite("Apple banana apple", depth=5)
    # mean of rows 2, 3, 2 = [2/3, 1/3, 0, 0], then L2-normalised
    dense = [2 / 5**0.5, 1 / 5**0.5, 0.0, 0.0]
    assert query.clauses == {
        "dense": {"knn": {"dense": {"vector": pytest.approx(dense, rel=1e-6), "k": 5}}},
        "sparse": {
            "bool": {
                "should": [
                    {"rank_feature": {"field": "sparse.2", "linear": {}, "boost": 2.0}},
                    {"rank_feature": {"field": "sparse.3", "linear": {}, "boost": 1.0}},
                ],
                "minimum_should_match": 1,
            }
        },
        "bm25": {
            "bool": {"must": [{"multi_match": {"query": "Apple banana apple", "fields": ["title", "text"]}}]}
        },
    }
    assert (query.query_len, query.oov_share) == (3.0, 0.0)
    assert query.bodies()["sparse"] == {
        "size": 5, "query": query.clauses["sparse"], "_source": False,
        "stored_fields": "_none_", "docvalue_fields": ["doc_id"], "track_total_hits": False,
    }  # fmt: skip


def test_filter_passes_to_every_clause(tiny_rewriter):
    query = tiny_rewriter.rewrite("cherry date", depth=3, filter=FILTER)
    assert query.clauses["dense"]["knn"]["dense"]["filter"] == FILTER
    assert query.clauses["sparse"]["bool"]["filter"] == [FILTER]
    assert query.clauses["bm25"]["bool"]["filter"] == [FILTER]
    named = query.named_body()
    should = named["query"]["bool"]["should"]
    assert [should[0]["knn"]["dense"]["_name"], should[1]["bool"]["_name"], should[2]["bool"]["_name"]] == [
        "dense", "sparse", "bm25",
    ]  # fmt: skip
    assert named["size"] == 9


def test_query_text_is_never_spliced_into_json(tiny_rewriter):
    nasty = 'apple "}}, {"match_all": {}} \\ \n ünïcode'
    lines = to_dsl(nasty, tiny_rewriter, index="docs", depth=4).splitlines()
    assert len(lines) == 6
    parsed = [json.loads(line) for line in lines]
    assert parsed[0] == {"index": "docs"}
    assert parsed[5]["query"]["bool"]["must"][0]["multi_match"]["query"] == nasty
    assert list(parsed[5]["query"]) == ["bool"] and list(parsed[5]["query"]["bool"]) == ["must"]


def test_dsl_forms_and_system_subsets(tiny_rewriter):
    bodies = json.loads(to_dsl("banana", tiny_rewriter, form="bodies", systems=["bm25", "dense"]))
    assert list(bodies) == ["dense", "bm25"]  # always design order
    named = json.loads(to_dsl("banana", tiny_rewriter, form="named"))
    assert named["query"]["bool"]["minimum_should_match"] == 1
    with pytest.raises(ValueError, match="unknown DSL form"):
        to_dsl("banana", tiny_rewriter, form="yaml")
    with pytest.raises(ValueError, match="choose from"):
        tiny_rewriter.rewrite("banana", systems=["splade"])


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_queries_are_rejected(tiny_rewriter, text):
    with pytest.raises(QueryError, match="empty"):
        tiny_rewriter.rewrite(text)


def test_all_unknown_tokens_are_rejected(tiny_rewriter):
    with pytest.raises(QueryError, match="no known tokens"):
        tiny_rewriter.rewrite("zebra quokka")


def test_bm25_alone_needs_no_encoder_and_accepts_unknown_words(tiny_rewriter):
    query = tiny_rewriter.rewrite("zebra quokka", systems=["bm25"])
    assert query.encoding is None and list(query.clauses) == ["bm25"]


def test_partly_unknown_query_reports_its_oov_share(tiny_rewriter):
    query = tiny_rewriter.rewrite("apple zebra quokka date")
    assert query.oov_share == 0.5
    assert query.clauses["sparse"]["bool"]["should"][1]["rank_feature"]["field"] == "sparse.5"


def test_long_query_is_truncated_with_a_warning(tiny_rewriter, caplog):
    text = " ".join(["apple"] * 8 + ["banana"] * 4)
    with caplog.at_level("WARNING"):
        query = tiny_rewriter.rewrite(text)
    assert query.truncated and query.query_len == 8
    assert query.clauses["sparse"]["bool"]["should"] == [
        {"rank_feature": {"field": "sparse.2", "linear": {}, "boost": 8.0}}
    ]
    assert any("longer than 8 tokens" in w for w in query.warnings) and "longer than 8 tokens" in caplog.text
    # every sub-query searches the same prefix: BM25 too
    assert query.searched_text == " ".join(["apple"] * 8)
    assert query.clauses["bm25"]["bool"]["must"][0]["multi_match"]["query"] == query.searched_text


def test_long_query_is_cut_at_a_word_boundary(tiny_rewriter):
    # 8 tokens end inside "apple,banana,cherry" (5 tokens): the cut goes back to the start of that word
    query = tiny_rewriter.rewrite("apple banana " * 3 + "apple,banana,cherry date")
    assert query.truncated and query.searched_text == "apple banana apple banana apple banana"
    assert not tiny_rewriter.rewrite("apple banana").truncated


def test_bm25_alone_is_cut_by_characters(tiny_rewriter):
    text = "word " * 2000
    query = QueryRewriter(None).rewrite(text, systems=["bm25"])
    bm25_text = query.clauses["bm25"]["bool"]["must"][0]["multi_match"]["query"]
    assert query.truncated and bm25_text == query.searched_text and len(bm25_text) <= max_query_chars()
    assert bm25_text.endswith("word") and not bm25_text.endswith(" ")


@pytest.mark.parametrize("depth", [0, -3, MAX_K + 1, 2.5, "10", True])
def test_depth_out_of_range_is_rejected(tiny_rewriter, depth):
    with pytest.raises(QueryError, match="depth"):
        tiny_rewriter.rewrite("apple", depth=depth)


def test_filter_must_be_a_clause(tiny_rewriter):
    with pytest.raises(QueryError, match="filter"):
        tiny_rewriter.rewrite("apple", filter="metadata.lang:en")
