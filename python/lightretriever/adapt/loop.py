"""The adaptation loop: seeded, resumable (a checkpoint every few steps), with a tqdm bar. Needs torch."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lightretriever.adapt.student import LossWeights, TableStudent, batch_loss

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopConfig:
    epochs: int = 2
    batch_size: int = 64
    lr: float = 3e-3
    candidates: int = 64  # teacher's top documents per query for the score-KL / contrastive terms
    seed: int = 0
    checkpoint_every: int = 100  # steps
    loss: LossWeights = field(default_factory=LossWeights)


def teacher_candidates(teacher: np.ndarray, docs: np.ndarray, sources: np.ndarray, c: int,
                       chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """[n, C] the teacher's top-C document rows per query (exact, against the stored vectors), with the
    source document forced in (last slot) when absent; [n] the source's slot, −1 for none."""
    c = min(c, len(docs))
    cands = np.empty((len(teacher), c), dtype=np.int64)
    for start in range(0, len(teacher), chunk):
        scores = teacher[start : start + chunk] @ docs.T
        top = np.argpartition(-scores, c - 1, axis=1)[:, :c]
        order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1)
        cands[start : start + chunk] = np.take_along_axis(top, order, 1)
    positives = np.full(len(teacher), -1, dtype=np.int64)
    for i, src in enumerate(sources):
        if src < 0:
            continue
        hit = np.flatnonzero(cands[i] == src)
        if len(hit):
            positives[i] = hit[0]
        else:
            cands[i, -1] = src
            positives[i] = c - 1
    return cands, positives


def train_table(table: np.ndarray, query_ids: list[list[int]], teacher: np.ndarray, docs: np.ndarray,
                sources: np.ndarray, config: LoopConfig, state_dir: Path, progress: bool = True
                ) -> tuple[np.ndarray, list[dict]]:
    """Train the table rows on (query ids, teacher vector) pairs; returns (float32 table, per-epoch losses)."""
    torch.manual_seed(config.seed)
    student = TableStudent(table)
    optimizer = torch.optim.SparseAdam(list(student.parameters()), lr=config.lr)
    cands, positives = teacher_candidates(teacher, docs, sources, config.candidates)
    docs_t, teacher_t = torch.from_numpy(docs), torch.from_numpy(teacher)
    steps_per_epoch = (len(query_ids) + config.batch_size - 1) // config.batch_size
    total = steps_per_epoch * config.epochs
    ckpt = state_dir / "student.pt"
    step, history, sums = 0, [], {}
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        if state["config"] == asdict(config) and state["n_queries"] == len(query_ids):
            student.load_state_dict(state["student"])
            optimizer.load_state_dict(state["optimizer"])
            step, history, sums = state["step"], state["history"], state["sums"]
            log.info("resuming adaptation at step %d/%d from %s", step, total, ckpt)
        else:
            log.info("%s was written with other settings or queries: starting over", ckpt)
    def full_loss() -> dict[str, float]:
        """Mean loss over every query, no gradient: before training (epoch 0) and after."""
        sums_: dict[str, float] = {}
        with torch.no_grad():
            for start in range(0, len(query_ids), 512):
                rows = np.arange(start, min(start + 512, len(query_ids)))
                q = _forward(student, query_ids, rows)
                loss, parts = batch_loss(q, teacher_t[rows], docs_t, torch.from_numpy(cands[rows]),
                                         torch.from_numpy(positives[rows]), config.loss)
                for name, value in {"loss": float(loss), **parts}.items():
                    sums_[name] = sums_.get(name, 0.0) + value * len(rows)
        return {k: round(v / len(query_ids), 6) for k, v in sums_.items()}

    if step == 0:
        history = [{"epoch": 0, **full_loss()}]
    bar = tqdm(total=total, initial=step, desc="adapt", unit="step", disable=not progress)
    while step < total:
        epoch, within = divmod(step, steps_per_epoch)
        order = np.random.default_rng(config.seed + epoch).permutation(len(query_ids))
        batch = order[within * config.batch_size : (within + 1) * config.batch_size]
        student_q = _forward(student, query_ids, batch)
        b = torch.from_numpy(batch)
        loss, parts = batch_loss(student_q, teacher_t[b], docs_t, torch.from_numpy(cands[batch]),
                                 torch.from_numpy(positives[batch]), config.loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        for name, value in {"loss": float(loss.detach()), **parts}.items():
            sums[name] = sums.get(name, 0.0) + value
        bar.update(1)
        bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
        if step % steps_per_epoch == 0:
            done = step // steps_per_epoch
            n = steps_per_epoch
            history.append({"epoch": done, "train": {k: round(v / n, 6) for k, v in sums.items()}})
            sums = {}
        if step % config.checkpoint_every == 0 or step == total:
            state_dir.mkdir(parents=True, exist_ok=True)
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"config": asdict(config), "n_queries": len(query_ids), "step": step, "history": history, "sums": sums,
                        "student": student.state_dict(), "optimizer": optimizer.state_dict()}, tmp)
            tmp.replace(ckpt)
    bar.close()
    if not history or "final" not in history[-1]:
        history.append({"final": full_loss()})
    return student.table(), history


def _forward(student: TableStudent, query_ids: list[list[int]], rows: np.ndarray) -> torch.Tensor:
    flat = [i for b in rows for i in query_ids[b]]
    offsets = np.cumsum([0] + [len(query_ids[b]) for b in rows[:-1]])
    return student(torch.tensor(flat), torch.from_numpy(offsets))
