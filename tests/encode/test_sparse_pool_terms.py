"""Ingest's sparse pooling (text positions only, max before log1p∘relu) equals `sparse_pool`, the definition."""

from __future__ import annotations

import torch

from lightretriever.encode.pooling import sparse_pool, sparse_pool_terms


def batch(seed: int, b: int = 5, length: int = 23, hidden: int = 16, vocab: int = 97):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(b, length, hidden, generator=g)
    weight = torch.randn(vocab, hidden, generator=g)
    mask = torch.zeros(b, length, dtype=torch.long)
    for i, (start, n) in enumerate([(1, 20), (1, 3), (2, 0), (1, 21), (3, 1)][:b]):  # row 2: no text position
        mask[i, start:start + n] = 1
    return h, mask, weight


def test_equals_sparse_pool_for_any_chunking():
    for seed in range(3):
        h, mask, weight = batch(seed)
        head = lambda x, w=weight: x @ w.T
        expected = sparse_pool(h, mask, head, chunk=4)
        assert (expected[2] == 0).all() and (expected > 0).any()
        for rows in (1, 2, 7, 1000):
            torch.testing.assert_close(sparse_pool_terms(h, mask, head, chunk_rows=rows), expected)  # float32 rounding of the matmul


def test_non_linear_head_and_empty_batch():
    h, mask, weight = batch(7)
    head = lambda x: torch.tanh(x @ weight.T / 3) * 3  # a soft-capped head (Gemma)
    torch.testing.assert_close(sparse_pool_terms(h, mask, head, chunk_rows=5), sparse_pool(h, mask, head))
    empty = torch.zeros_like(mask)
    out = sparse_pool_terms(h, empty, head)
    assert out.shape == (5, 97) and (out == 0).all()
