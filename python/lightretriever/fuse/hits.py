"""The shared input of every fusion algorithm, and the per-system statistics they derive from it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

# system name -> ranked hits [(doc_id, score)], best first, as OpenSearch returned them.
SystemHits = Mapping[str, Sequence[tuple[str, float]]]
Ranked = list[tuple[str, float]]


def validate_hits(hits: SystemHits) -> dict[str, list[tuple[str, float]]]:
    """Copy `hits` to plain lists, checking ids are strings, scores finite and ids unique per system."""
    clean: dict[str, list[tuple[str, float]]] = {}
    for system, ranked in hits.items():
        seen: set[str] = set()
        rows: list[tuple[str, float]] = []
        for position, (doc_id, score) in enumerate(ranked, start=1):
            if not isinstance(doc_id, str):
                raise TypeError(f"system {system!r} hit {position}: doc_id must be a string, got {doc_id!r}")
            score = float(score)
            if not math.isfinite(score):
                raise ValueError(f"system {system!r} hit {position} ({doc_id}): score is not finite")
            if doc_id in seen:
                raise ValueError(f"system {system!r} hit {position}: duplicate doc_id {doc_id!r}")
            seen.add(doc_id)
            rows.append((doc_id, score))
        clean[system] = rows
    return clean


def candidates(hits: SystemHits) -> list[str]:
    """The union of all systems' doc ids, sorted ascending (a stable order for features and ties)."""
    return sorted({doc_id for ranked in hits.values() for doc_id, _ in ranked})


def minmax(ranked: Sequence[tuple[str, float]]) -> dict[str, float]:
    """(x - min) / (max - min) per doc; 1.0 for every hit when all scores are equal."""
    if not ranked:
        return {}
    scores = [score for _, score in ranked]
    lo, hi = min(scores), max(scores)
    if hi == lo:
        return {doc_id: 1.0 for doc_id, _ in ranked}
    span = hi - lo
    return {doc_id: (score - lo) / span for doc_id, score in ranked}


def moments(scores: Sequence[float]) -> tuple[float, float]:
    """(mean, population std), both with exactly rounded sums (math.fsum) so every caller agrees."""
    mean = math.fsum(scores) / len(scores)
    return mean, math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / len(scores))


def ranks(ranked: Sequence[tuple[str, float]]) -> dict[str, int]:
    """1-based rank of each doc in the order the system returned it."""
    return {doc_id: position for position, (doc_id, _) in enumerate(ranked, start=1)}


def sort_fused(scores: Mapping[str, float]) -> Ranked:
    """Fused score descending, ties by doc_id ascending (string order), as design.md fixes."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
