from __future__ import annotations

import math

import pytest
import torch

from lightretriever.train.loss import flops, flops_weight, info_nce


def test_info_nce_is_cross_entropy_over_scaled_scores():
    scores = torch.tensor([[0.9, 0.1, 0.3], [0.2, 0.8, 0.7]])
    got = info_nce(scores, 0.02)
    logits = scores / 0.02
    want = -(torch.log_softmax(logits, 1)[0, 0] + torch.log_softmax(logits, 1)[1, 1]) / 2
    assert got.item() == pytest.approx(want.item(), rel=1e-6)


def test_false_negatives_are_removed():
    scores = torch.tensor([[0.5, 0.9, 0.1]])  # column 1 is another positive of query 0
    masked = info_nce(scores, 1.0, torch.tensor([[False, True, False]]))
    assert masked.item() == pytest.approx(-math.log(math.exp(0.5) / (math.exp(0.5) + math.exp(0.1))), rel=1e-6)
    assert info_nce(scores, 1.0).item() > masked.item()


def test_flops_and_quadratic_warmup():
    sparse = torch.tensor([[1.0, 0.0, 2.0], [3.0, 0.0, 0.0]])
    assert flops(sparse).item() == pytest.approx(2.0**2 + 0 + 1.0**2)
    assert flops_weight(0, 1e-3, 10) == 0.0
    assert flops_weight(5, 1e-3, 10) == pytest.approx(2.5e-4)
    assert flops_weight(10, 1e-3, 10) == flops_weight(99, 1e-3, 10) == pytest.approx(1e-3)
