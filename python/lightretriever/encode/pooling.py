"""Dense pooling and sparse (vocabulary) pooling over last hidden states. Shared by encoding and training."""

from __future__ import annotations

from bisect import bisect_right
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


def sparse_pool_terms(
    hidden: torch.Tensor,
    term_mask: torch.Tensor,
    head: Callable[[torch.Tensor], torch.Tensor],
    chunk_rows: int = 2048,
) -> torch.Tensor:
    """Inference twin of `sparse_pool`, same [B, V] result for a fraction of the work.

    - Only text positions are projected (no padding, prompt or special positions): `hidden[term_mask]`,
      `chunk_rows` positions per vocabulary matmul.
    - The max is taken over the raw logits and log(1+relu(.)) applied once per document: that function is
      non-decreasing, so max_p f(x_p) = f(max_p x_p), and the [positions, V] log/relu/mask passes (as long as
      the matmul itself on CPU) disappear. A document without text positions gets f(-inf) = 0, as before.
    The matmul sees other shapes than `sparse_pool`'s, so values may differ in the last float32 bit.
    """
    mask = term_mask.bool()
    rows = hidden[mask]  # [N, H]: document 0's text positions, then document 1's, ...
    ends = mask.sum(dim=1).cumsum(0).tolist()
    starts = [0] + ends[:-1]
    best: torch.Tensor | None = None
    for lo in range(0, rows.shape[0], chunk_rows):
        hi = min(lo + chunk_rows, rows.shape[0])
        logits = head(rows[lo:hi]).float()
        if best is None:
            best = torch.full((hidden.shape[0], logits.shape[1]), float("-inf"), device=logits.device)
        doc = bisect_right(ends, lo)  # the first document with a position at or after lo
        while doc < len(ends) and starts[doc] < hi:
            a, b = max(starts[doc], lo), min(ends[doc], hi)
            if a < b:
                torch.maximum(best[doc], logits[a - lo : b - lo].amax(dim=0), out=best[doc])
            doc += 1
    if best is None:  # no text position in the whole batch
        vocab = head(hidden[:, :1]).shape[-1]
        return torch.zeros((hidden.shape[0], vocab), device=hidden.device)
    return torch.log1p(torch.relu(best))
