"""Training's document sparse vectors equal `encode.pooling.sparse_pool` (what ingest writes), with the
cheap argmax gradient checked against autograd through the full logits."""

from __future__ import annotations

import torch

from lightretriever.encode.pooling import sparse_pool
from lightretriever.train.sparse_head import MaxLinearLogits, document_sparse


def _inputs(dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(3, 9, 6, generator=g, dtype=dtype)
    weight = torch.randn(40, 6, generator=g, dtype=dtype)
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[0, 0] = mask[0, -1] = 0  # [CLS], [SEP]
    mask[1, 5:] = 0               # padding
    return hidden, weight, mask


def test_values_and_gradients_equal_sparse_pool():
    hidden, weight, mask = _inputs()
    h1, w1 = hidden.clone().requires_grad_(), weight.clone().requires_grad_()
    h2, w2 = hidden.clone().requires_grad_(), weight.clone().requires_grad_()
    fast = document_sparse(h1, mask, lambda h: h @ w1.T, weight=w1, chunk=4)
    ref = sparse_pool(h2, mask, lambda h: h @ w2.T, chunk=4)
    torch.testing.assert_close(fast, ref)
    probe = torch.linspace(-1, 2, 40)
    (fast * probe).sum().backward()
    (ref * probe).sum().backward()
    torch.testing.assert_close(h1.grad, h2.grad)
    torch.testing.assert_close(w1.grad, w2.grad)
    assert (fast >= 0).all() and (fast == 0).any()


def test_generic_head_path_equals_sparse_pool():
    hidden, _weight, mask = _inputs()
    head = torch.nn.Sequential(torch.nn.Linear(6, 6), torch.nn.GELU(), torch.nn.Linear(6, 40))
    torch.testing.assert_close(document_sparse(hidden, mask, head, chunk=4), sparse_pool(hidden, mask, head))


def test_masked_positions_never_contribute():
    hidden, weight, mask = _inputs()
    hidden[1, 5:] = 100.0  # huge activations on padding must be ignored
    out = document_sparse(hidden, mask, lambda h: h @ weight.T, weight=weight)
    torch.testing.assert_close(out[1], sparse_pool(hidden[1:2, :5], mask[1:2, :5], lambda h: h @ weight.T)[0])


def test_gradcheck_double():
    hidden, weight, mask = _inputs(torch.float64)
    assert torch.autograd.gradcheck(lambda h, w: MaxLinearLogits.apply(h, w, mask, 4),
                                    (hidden.requires_grad_(), weight.requires_grad_()))
