"""The learned fusion must beat linear where the right system depends on the query.

Synthetic task: for short queries only the sparse ranking finds the relevant doc, for long queries
only the dense ranking does. Any fixed linear weighting gets one half wrong; a model that sees
query_len can learn the switch.
"""

import json

import ir_measures
import numpy as np
import pytest
from ir_measures import nDCG

from lightretriever.fuse.features import feature_names
from lightretriever.fuse.learn import QueryCandidates, build_training_set, train_lambdarank
from lightretriever.fuse.learned import LearnedModel, fuse_learned
from lightretriever.fuse.linear import fuse_linear
from lightretriever.fuse.registry import build_fusion

SYSTEMS = ["dense", "sparse"]
DEPTH = 30


def synthetic_queries(n, seed):
    rng = np.random.default_rng(seed)
    examples, qrels = [], {}
    for q in range(n):
        qid = f"q{seed}-{q}"
        docs = [f"{qid}-d{i}" for i in range(DEPTH)]
        relevant = docs[int(rng.integers(DEPTH))]
        short = bool(rng.integers(2))
        hits = {}
        for system in SYSTEMS:
            scores = rng.normal(0.0, 1.0, DEPTH)
            informative = (system == "sparse") == short
            if informative:
                scores[docs.index(relevant)] = scores.max() + rng.uniform(0.1, 1.0)
            order = np.argsort(-scores)
            hits[system] = [(docs[i], float(scores[i])) for i in order]
        query_len = int(rng.integers(1, 4)) if short else int(rng.integers(8, 20))
        examples.append(QueryCandidates(qid, hits, query_len, 0.0))
        qrels[qid] = {relevant: 1}
    return examples, qrels


def mean_ndcg(runs, qrels):
    qrels_list = [ir_measures.Qrel(q, d, r) for q, docs in qrels.items() for d, r in docs.items()]
    run_list = [ir_measures.ScoredDoc(q, d, s) for q, ranked in runs.items() for d, s in ranked]
    return ir_measures.calc_aggregate([nDCG @ 10], qrels_list, run_list)[nDCG @ 10]


def test_learned_beats_every_linear_weighting_when_the_best_system_depends_on_query_length(tmp_path):
    train_examples, train_qrels = synthetic_queries(300, seed=1)
    test_examples, test_qrels = synthetic_queries(200, seed=2)
    names = feature_names(SYSTEMS)
    train = build_training_set(train_examples, train_qrels, SYSTEMS, DEPTH)
    booster = train_lambdarank(train, names, num_rounds=60)

    # round-trip through the bundle's on-disk form, as the query path loads it
    (tmp_path / "fusion").mkdir()
    (tmp_path / "fusion" / "learned.txt").write_text(booster.model_to_string())
    entry = {"model_file": "fusion/learned.txt", "systems": SYSTEMS, "features": names, "depth": DEPTH}
    model = LearnedModel.from_manifest(tmp_path, entry)

    learned = {e.query_id: fuse_learned(e.hits, model, e.query_len, e.oov_share) for e in test_examples}
    learned_ndcg = mean_ndcg(learned, test_qrels)
    best_linear = max(
        mean_ndcg(
            {e.query_id: fuse_linear(e.hits, {"dense": w, "sparse": 1 - w}) for e in test_examples},
            test_qrels,
        )
        for w in np.linspace(0, 1, 11)
    )
    assert learned_ndcg > 0.9
    assert learned_ndcg > best_linear + 0.2

    # the registry loads the same model from the manifest section
    fusion = build_fusion("learned", {"learned": json.loads(json.dumps(entry))}, tmp_path)
    example = test_examples[0]
    assert fusion.name == "learned"
    assert fusion(example.hits, example.query_len, 0.0) == learned[example.query_id]


def test_a_model_with_the_wrong_feature_count_is_refused(tmp_path):
    train_examples, train_qrels = synthetic_queries(40, seed=3)
    names = feature_names(SYSTEMS)
    booster = train_lambdarank(
        build_training_set(train_examples, train_qrels, SYSTEMS, DEPTH), names, num_rounds=3
    )
    from lightretriever.errors import BundleError

    with pytest.raises(BundleError, match="features"):
        LearnedModel.from_text(booster.model_to_string(), ["dense", "sparse", "bm25"], DEPTH)


def test_cross_validation_reports_the_metric_params_ask_for():
    """`--params '{"metric": "map", "eval_at": [5]}'` used to raise KeyError on "valid ndcg@10-mean"."""
    from lightretriever.fuse.learn import cross_validate

    examples, qrels = synthetic_queries(60, seed=3)
    train = build_training_set(examples, qrels, SYSTEMS, DEPTH)
    names = feature_names(SYSTEMS)
    default = cross_validate(train, names, num_rounds=5, folds=3)
    assert set(default) == {"ndcg@10", "best_round", "best_ndcg@10"}
    changed = cross_validate(train, names, {"metric": "map", "eval_at": [5]}, num_rounds=5, folds=3)
    assert set(changed) == {"map@5", "best_round", "best_map@5"} and 0 < changed["map@5"] <= 1
