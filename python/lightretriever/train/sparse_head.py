"""Document sparse vectors for training: max over text positions of log(1+relu(logits)), cheaply.

log1p∘relu is monotone, so max-then-log1p(relu) gives exactly the values of `encode.pooling.sparse_pool`.
For a linear head (logits = h @ W^T, e.g. MiniLM's tied embeddings) the max also has a cheap gradient: only
the winning position of each (document, term) receives one. `MaxLinearLogits` uses that: the backward pass
costs B·V·H instead of the B·L·V·H of differentiating the full [B, L, V] logits, and nothing [B, L, V] is
kept for autograd. Other heads (MLM transform, soft-capped LM heads) take the generic path.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

NEG = torch.finfo(torch.float32).min


class MaxLinearLogits(torch.autograd.Function):
    """max over masked positions of hidden @ weight.T -> [B, V]; gradient routed to each argmax position."""

    @staticmethod
    def forward(ctx, hidden, weight, term_mask, chunk: int):
        dtype = torch.promote_types(hidden.dtype, torch.float32)  # float32 at least (bf16 under autocast)
        h, w = hidden.to(dtype), weight.to(dtype)
        mask = term_mask.bool()
        best = torch.full((h.shape[0], w.shape[0]), NEG, dtype=dtype, device=h.device)
        arg = torch.zeros((h.shape[0], w.shape[0]), dtype=torch.long, device=h.device)
        for start in range(0, h.shape[1], chunk):
            logits = h[:, start:start + chunk] @ w.T  # [B, c, V]
            logits.masked_fill_(~mask[:, start:start + chunk, None], NEG)
            val, idx = logits.max(dim=1)
            better = val > best
            best = torch.where(better, val, best)
            arg = torch.where(better, idx + start, arg)
        ctx.save_for_backward(hidden, weight, arg)
        return best

    @staticmethod
    def backward(ctx, grad):
        hidden, weight, arg = ctx.saved_tensors
        dtype = torch.promote_types(hidden.dtype, torch.float32)
        w = weight.to(dtype)
        grad = grad.to(dtype)
        grad_h = torch.zeros(hidden.shape, dtype=dtype, device=hidden.device)
        grad_w = torch.zeros_like(w) if ctx.needs_input_grad[1] else None
        for b in range(hidden.shape[0]):
            g = grad[b].unsqueeze(1)  # [V, 1]
            grad_h[b].index_add_(0, arg[b], g * w)
            if grad_w is not None:
                grad_w += g * hidden[b].to(dtype)[arg[b]]
        return grad_h.to(hidden.dtype), (grad_w.to(weight.dtype) if grad_w is not None else None), None, None


def linear_head_weight(backbone) -> torch.Tensor | None:
    """The vocabulary matrix when the sparse head is a plain h @ W^T, else None (generic path)."""
    if backbone.head_name == "tied-embeddings":
        return backbone.model.get_input_embeddings().weight
    return None


def document_sparse(hidden: torch.Tensor, term_mask: torch.Tensor, head: Callable,
                    weight: torch.Tensor | None = None, chunk: int = 64) -> torch.Tensor:
    """[B, L, H] -> [B, V] sparse weights (>= 0), differentiable."""
    if weight is not None:
        return torch.log1p(torch.relu(MaxLinearLogits.apply(hidden, weight, term_mask, chunk)))
    best = None
    mask = term_mask.bool()
    for start in range(0, hidden.shape[1], chunk):  # running max keeps one [B, chunk, V] block alive
        logits = head(hidden[:, start:start + chunk]).float()
        logits = logits.masked_fill(~mask[:, start:start + chunk, None], NEG).amax(dim=1)
        best = logits if best is None else torch.maximum(best, logits)
    return torch.log1p(torch.relu(best))
