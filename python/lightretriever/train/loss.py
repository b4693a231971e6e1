"""InfoNCE over in-batch + hard negatives, and the FLOPS regulariser with quadratic warm-up.

Scores are [n_queries, n_docs] where documents are laid out as all positives first (query i's positive
at column i), then every query's hard negatives. Every other column is a negative for query i, except
documents that are also relevant to query i (`false_negatives` mask), which are removed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

DENSE_TEMPERATURE = 0.02   # cosine similarity
SPARSE_TEMPERATURE = 1.0   # dot product


def info_nce(scores: torch.Tensor, temperature: float, false_negatives: torch.Tensor | None = None) -> torch.Tensor:
    logits = scores.float() / temperature
    if false_negatives is not None:
        logits = logits.masked_fill(false_negatives, float("-inf"))
    target = torch.arange(scores.shape[0], device=scores.device)
    return F.cross_entropy(logits, target)


def flops(sparse: torch.Tensor) -> torch.Tensor:
    """FLOPS regulariser (Paria et al. 2020): sum over vocabulary of the squared mean activation."""
    return (sparse.abs().mean(dim=0) ** 2).sum()


def flops_weight(step: int, target: float, warmup_steps: int) -> float:
    """Quadratic warm-up: target * min(1, step / warmup)^2 (SPLADE's schedule)."""
    if warmup_steps <= 0:
        return target
    return target * min(1.0, step / warmup_steps) ** 2
