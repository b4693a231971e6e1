"""`fusion train`: collect each training query's candidates from OpenSearch, fit, save into the bundle."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tqdm import tqdm

from lightretriever.bundle.manifest import LEARNED_FUSION_FILE
from lightretriever.errors import QueryError
from lightretriever.fuse.features import feature_names
from lightretriever.fuse.learn.dataset import QueryCandidates, build_training_set
from lightretriever.fuse.learn.trainer import DEFAULT_PARAMS, DEFAULT_ROUNDS, cross_validate, train_lambdarank
from lightretriever.fuse.registry import preferred_default
from lightretriever.rewrite.execute import execute

log = logging.getLogger(__name__)


@dataclass
class TrainSummary:
    queries: int
    used: int
    skipped: dict[str, str]  # query id -> why it could not be encoded or searched
    no_relevant_candidate: int
    candidates: int
    cv: dict[str, float] | None
    params: dict
    rounds: int
    manifest_entry: dict


def collect_candidates(retriever, queries: Mapping[str, str], progress: bool = True):
    """Run every query's sub-queries (no fusion) and keep each system's ranked hits."""
    examples, skipped = [], {}
    for qid, text in tqdm(queries.items(), desc="candidates", unit="q", disable=not progress, leave=False):
        try:
            query = retriever.rewrite(text, retriever.depth)
            hits = execute(retriever.client, retriever.index, query, retriever.strategy)
        except QueryError as exc:
            skipped[qid] = str(exc)
            log.warning("fusion training: query %s skipped: %s", qid, exc)
            continue
        examples.append(QueryCandidates(qid, hits, query.query_len, query.oov_share))
    return examples, skipped


def train_fusion(
    bundle,
    client,
    index: str,
    dataset_dir,
    split: str = "train",
    *,
    systems: Sequence[str] = ("dense", "sparse", "bm25"),
    depth: int = 100,
    params: Mapping | None = None,
    rounds: int = DEFAULT_ROUNDS,
    folds: int = 5,
    max_queries: int | None = None,
    save: bool = True,
    progress: bool = True,
) -> TrainSummary:
    """Train on `split` (never the test split) and, with save, write fusion/learned.txt + manifest entry."""
    from lightretriever.evaluate.dataset import load_dataset
    from lightretriever.retriever import Retriever

    if split == "test":
        raise ValueError(
            "fusion must not be trained on the test split; use train (or another held-out split)"
        )
    dataset = load_dataset(dataset_dir, split)
    queries = dict(list(dataset.queries.items())[:max_queries]) if max_queries else dataset.queries
    retriever = Retriever(client, index, bundle, systems=tuple(systems), depth=depth, fusion="rrf")
    examples, skipped = collect_candidates(retriever, queries, progress)
    names = feature_names(systems)
    train_set = build_training_set(examples, dataset.qrels, systems, depth)
    merged = {**DEFAULT_PARAMS, **(params or {})}
    cv = cross_validate(train_set, names, merged, rounds, folds) if folds > 1 else None
    booster = train_lambdarank(train_set, names, merged, rounds)
    entry = {"model_file": LEARNED_FUSION_FILE, "systems": list(systems), "features": names, "depth": depth}
    if save:
        bundle.add_file(LEARNED_FUSION_FILE, booster.model_to_string().encode("utf-8"))
        bundle.update_section("fusion.learned", entry)
        bundle.update_section("fusion.default", preferred_default(bundle.manifest["fusion"]))  # learned now
        log.info("saved learned fusion to %s/%s", bundle.path, LEARNED_FUSION_FILE)
    return TrainSummary(
        queries=len(queries),
        used=len(train_set.query_ids),
        skipped=skipped,
        no_relevant_candidate=train_set.dropped,
        candidates=int(train_set.features.shape[0]),
        cv=cv,
        params={k: v for k, v in merged.items()},
        rounds=rounds,
        manifest_entry=entry,
    )
