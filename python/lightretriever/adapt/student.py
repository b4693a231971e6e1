"""Student: the token table itself, queried exactly as the light encoder does (mean of rows, normalised),
and the losses that pull it towards the teacher. Needs torch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LossWeights:
    vector: float = 1.0  # 1 − cos(student query, teacher query)
    score_kl: float = 1.0  # KL(teacher ‖ student) over candidate documents' stored vectors
    contrastive: float = 0.0  # InfoNCE, the pseudo-query's source document as the positive
    temperature: float = 0.05  # cosine scores / T before the softmaxes


class TableStudent(torch.nn.Module):
    def __init__(self, table: np.ndarray):
        super().__init__()
        self.rows = torch.nn.EmbeddingBag.from_pretrained(
            torch.from_numpy(table.astype(np.float32)), freeze=False, mode="mean", sparse=True
        )

    def forward(self, flat_ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.rows(flat_ids, offsets), dim=-1)

    def table(self) -> np.ndarray:
        return self.rows.weight.detach().cpu().numpy()


def batch_loss(student_q: torch.Tensor, teacher_q: torch.Tensor, docs: torch.Tensor, candidates: torch.Tensor,
               positives: torch.Tensor, weights: LossWeights) -> tuple[torch.Tensor, dict[str, float]]:
    """`docs` [n_docs, dim] stored vectors; `candidates` [B, C] document rows per query (the teacher's top C,
    and the source document when there is one); `positives` [B] the source row's position in candidates,
    −1 for none (log queries: no contrastive term)."""
    parts: dict[str, torch.Tensor] = {}
    if weights.vector:
        parts["vector"] = (1.0 - (student_q * teacher_q).sum(-1)).mean()
    cand = docs[candidates]  # [B, C, dim]
    s_scores = torch.einsum("bd,bcd->bc", student_q, cand) / weights.temperature
    if weights.score_kl:
        t_scores = torch.einsum("bd,bcd->bc", teacher_q, cand) / weights.temperature
        parts["score_kl"] = F.kl_div(F.log_softmax(s_scores, -1), F.log_softmax(t_scores, -1),
                                     log_target=True, reduction="batchmean")
    has_pos = positives >= 0
    if weights.contrastive and bool(has_pos.any()):
        parts["contrastive"] = F.cross_entropy(s_scores[has_pos], positives[has_pos])
    total = sum(getattr(weights, name) * value for name, value in parts.items())
    return total, {name: float(value.detach()) for name, value in parts.items()}
