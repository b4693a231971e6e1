"""Fusion on hand-made score lists: formulas, tie-breaking and candidate handling from design.md."""

import math

import pytest

from lightretriever.fuse import fuse_linear, fuse_rrf
from lightretriever.fuse.registry import build_fusion

HITS = {
    "dense": [("a", 0.9), ("b", 0.7), ("c", 0.5)],
    "sparse": [("c", 12.0), ("d", 6.0), ("a", 2.0)],
}


def test_linear_minmax_weighted_sum():
    fused = dict(fuse_linear(HITS, {"dense": 0.6, "sparse": 0.4}))
    # dense minmax: a=1, b=0.5, c=0; sparse minmax: c=1, d=0.4, a=0
    assert fused["a"] == pytest.approx(0.6)
    assert fused["b"] == pytest.approx(0.3)
    assert fused["c"] == pytest.approx(0.4)
    assert fused["d"] == pytest.approx(0.16)
    assert [d for d, _ in fuse_linear(HITS)] == ["a", "b", "c", "d"]  # defaults 0.7/0.3: b 0.35 > c 0.3


def test_linear_constant_scores_normalise_to_one_and_unweighted_systems_add_candidates():
    hits = {"dense": [("x", 3.0), ("y", 3.0)], "bm25": [("z", 9.0)]}
    fused = fuse_linear(hits, {"dense": 1.0})
    # x and y tie at 1.0 -> doc_id order; z only in an unweighted system scores 0 but stays a candidate
    assert fused == [("x", 1.0), ("y", 1.0), ("z", 0.0)]


def test_rrf_sums_reciprocal_ranks():
    fused = dict(fuse_rrf(HITS, k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["d"] == pytest.approx(1 / 62)
    order = [d for d, _ in fuse_rrf(HITS)]
    # a and c tie exactly (same two ranks), b and d tie: doc_id ascending breaks both ties
    assert order == ["a", "c", "b", "d"]


def test_rrf_k_changes_scores():
    assert dict(fuse_rrf({"s": [("a", 1.0)]}, k=0))["a"] == 1.0
    with pytest.raises(ValueError):
        fuse_rrf(HITS, k=-1)


def test_empty_and_one_sided_inputs():
    assert fuse_linear({"dense": [], "sparse": []}) == []
    assert fuse_rrf({}) == []
    assert fuse_linear({"sparse": [("q", 5.0), ("r", 1.0)]}) == [("q", 0.3), ("r", 0.0)]


@pytest.mark.parametrize(
    "bad, reason",
    [
        ({"dense": [("a", 1.0), ("a", 0.5)]}, "duplicate doc_id"),
        ({"dense": [("a", math.nan)]}, "not finite"),
        ({"dense": [(7, 1.0)]}, "must be a string"),
    ],
)
def test_bad_hits_are_rejected_with_the_reason(bad, reason):
    with pytest.raises((ValueError, TypeError), match=reason):
        fuse_rrf(bad)


def test_registry_defaults_and_learned_fallback(caplog):
    assert build_fusion().name == "rrf"  # the label-free default (docs/results.md, issue 12)
    assert build_fusion("rrf", {"rrf": {"k": 1}})(HITS)[0] == ("a", pytest.approx(1 / 2 + 1 / 4))
    with caplog.at_level("WARNING"):
        fusion = build_fusion("learned", {"learned": None})
    assert (fusion.name, fusion.requested) == ("rrf", "learned")  # the label-free default, never linear
    assert "falling back to 'rrf'" in caplog.text
    assert fusion(HITS) == fuse_rrf(HITS) and fusion.systems() == ("dense", "sparse", "bm25")
    with pytest.raises(ValueError, match="unknown fusion"):
        build_fusion("borda")


def test_each_fusion_names_the_sub_queries_it_reads():
    """As the Java Fusion.systems(): the CLI, the evaluation and the plugin send exactly these."""
    assert build_fusion("linear").systems() == ("dense", "sparse")
    assert build_fusion("rrf").systems() == ("dense", "sparse", "bm25")
    assert build_fusion("learned", {"learned": None}).systems() == ("dense", "sparse", "bm25")  # fallback
    weights = {"linear": {"weights": {"bm25": 0.5, "sparse": 1.0, "dense": 0.0}}}
    assert build_fusion("linear", weights).systems() == ("sparse", "bm25")


def test_cli_search_sends_what_the_fusion_reads():
    """`lightretriever search --fusion linear` used to send a BM25 sub-query that eval and the plugin skip."""
    from lightretriever.cli import build_parser
    from lightretriever.retriever import Retriever
    from lightretriever.rewrite import QueryRewriter

    args = build_parser().parse_args(["search", "q", "--bundle", "b", "--index", "i", "--fusion", "linear"])
    assert args.systems is None
    retriever = Retriever(None, "i", None, rewriter=QueryRewriter(None), fusion=args.fusion)
    assert retriever.systems == ("dense", "sparse")
    assert Retriever(None, "i", None, rewriter=QueryRewriter(None), fusion="rrf").systems == ("dense", "sparse", "bm25")
