"""Dense pooling and sparse (vocabulary) pooling over last hidden states. Shared by encoding and training."""

from __future__ import annotations

from collections.abc import Callable

import torch


def dense_pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """[B, L, H] -> [B, H]. mean: over attended positions; cls: position 0; last: last attended position
    (inputs are right-padded, so that is position sum(mask) - 1)."""
    if pooling == "mean":
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "last":
        last = attention_mask.long().sum(dim=1) - 1
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    raise ValueError(f"unknown pooling {pooling!r} (mean|cls|last)")


def sparse_pool(
    hidden: torch.Tensor,
    term_mask: torch.Tensor,
    head: Callable[[torch.Tensor], torch.Tensor],
    chunk: int = 128,
) -> torch.Tensor:
    """[B, L, H] -> [B, V]: max over positions of log(1 + relu(head(h))), only where term_mask is 1.

    Positions are projected `chunk` at a time so [B, L, V] logits (GBs for 128k+ vocabularies) never
    exist at once. Weights are >= 0, so zeroing a masked position is the same as leaving it out.
    Differentiable (the trainer reuses it), computed in float32.
    """
    out = None
    for start in range(0, hidden.shape[1], chunk):
        logits = head(hidden[:, start : start + chunk]).float()
        weights = torch.log1p(torch.relu(logits)) * term_mask[:, start : start + chunk, None].float()
        best = weights.amax(dim=1)
        out = best if out is None else torch.maximum(out, best)
    return out
