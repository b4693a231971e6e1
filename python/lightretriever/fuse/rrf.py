"""Reciprocal rank fusion: Σ_s 1 / (k + rank_s(d)), rank 1-based, k = 60 by default."""

from __future__ import annotations

from lightretriever.fuse.hits import Ranked, SystemHits, candidates, ranks, sort_fused, validate_hits

DEFAULT_K = 60


def fuse_rrf(hits: SystemHits, k: float = DEFAULT_K) -> Ranked:
    """Sums over systems in the order of `hits`; a doc a system did not return contributes 0 there."""
    if k < 0:
        raise ValueError(f"rrf k must be >= 0, got {k}")
    hits = validate_hits(hits)
    system_ranks = [ranks(ranked) for ranked in hits.values()]
    fused = {}
    for doc_id in candidates(hits):
        total = 0.0
        for by_doc in system_ranks:
            rank = by_doc.get(doc_id)
            if rank is not None:
                total += 1.0 / (k + rank)
        fused[doc_id] = total
    return sort_fused(fused)
