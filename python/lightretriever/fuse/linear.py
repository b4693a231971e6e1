"""Linear fusion: min-max normalise each system, then a weighted sum (paper default 0.7 dense / 0.3 sparse)."""

from __future__ import annotations

from collections.abc import Mapping

from lightretriever.fuse.hits import Ranked, SystemHits, candidates, minmax, sort_fused, validate_hits

DEFAULT_WEIGHTS = {"dense": 0.7, "sparse": 0.3}


def fuse_linear(hits: SystemHits, weights: Mapping[str, float] | None = None) -> Ranked:
    """Σ_s w_s · minmax_s(d) over systems with a weight; a missing doc contributes 0 for that system.

    Systems are summed in the order of `weights` so float sums match the Java plugin bit for bit.
    Candidates are the union over all systems in `hits`, even ones without a weight (they score 0 there).
    """
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    hits = validate_hits(hits)
    normalised = {system: minmax(hits[system]) for system in weights if system in hits}
    fused = {}
    for doc_id in candidates(hits):
        total = 0.0
        for system, weight in weights.items():
            if system in normalised:
                total += float(weight) * normalised[system].get(doc_id, 0.0)
        fused[doc_id] = total
    return sort_fused(fused)
