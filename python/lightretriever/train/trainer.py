"""The training loop: seeded, resumable, gradient accumulation, tqdm with the loss, CUDA + bf16 when present.

Determinism: the data order of epoch e is a shuffle seeded by (seed, e), the negatives of step s are drawn
with a generator seeded by (seed, s), and the torch/numpy/python RNG states travel in the checkpoint, so a
resumed run continues exactly where the interrupted one stopped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lightretriever.errors import LightRetrieverError
from lightretriever.train import recipe
from lightretriever.train.loss import DENSE_TEMPERATURE, SPARSE_TEMPERATURE, flops, flops_weight, info_nce
from lightretriever.train.model import ThreeHeadModel
from lightretriever.train.pairs import Doc, Example, sample_negatives

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
LOG_FILE = "train_log.jsonl"


@dataclass
class TrainConfig:
    out_dir: Path
    epochs: float = recipe.EPOCHS
    max_steps: int | None = None        # optimizer steps; overrides epochs when set
    batch_size: int = 16                # queries per micro-batch (in-batch negatives are shared within it)
    grad_accum: int = 1                 # micro-batches per optimizer step
    negatives: int = 1                  # hard negatives per query per step
    lr: float = recipe.LEARNING_RATE
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    weights: dict = field(default_factory=lambda: dict(recipe.LOSS_WEIGHTS))
    flops_doc: float = recipe.FLOPS_DOC            # FLOPS weight on document sparse vectors (after warm-up)
    flops_warmup_ratio: float = 0.3     # share of the steps over which the FLOPS weight grows quadratically
    seed: int = 42
    checkpoint_every: int = 20          # optimizer steps
    device: str | None = None           # default: cuda when available
    bf16: bool | None = None            # default: on for CUDA with bf16 support
    progress: bool = True

    def to_json(self) -> dict:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        return d


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(cfg: TrainConfig) -> tuple[torch.device, bool]:
    device = torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    bf16 = cfg.bf16
    if bf16 is None:
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    return device, bool(bf16)


def _autocast(device: torch.device, bf16: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def step_losses(model: ThreeHeadModel, batch: list[Example], negatives: list[list[Doc]], cfg: TrainConfig,
                step: int, total_steps: int) -> dict[str, torch.Tensor]:
    """All loss terms for one micro-batch. Documents: positives (column i = query i), then negatives."""
    docs = [ex.positive for ex in batch] + [d for negs in negatives for d in negs]
    doc_dense, doc_sparse = model.documents(docs)
    token_ids = model.query_token_ids([ex.query for ex in batch])
    false_neg = torch.tensor([[j != i and d.doc_id in (ex.positive_ids | {ex.positive.doc_id})
                               for j, d in enumerate(docs)] for i, ex in enumerate(batch)], device=doc_dense.device)
    out = {}
    if cfg.weights.get("full", 0):
        out["full"] = info_nce(model.full_query([ex.query for ex in batch]) @ doc_dense.T, DENSE_TEMPERATURE, false_neg)
    if cfg.weights.get("light", 0):
        out["light"] = info_nce(model.light_query(token_ids) @ doc_dense.T, DENSE_TEMPERATURE, false_neg)
    if cfg.weights.get("sparse", 0):
        out["sparse"] = info_nce(model.query_counts(token_ids) @ doc_sparse.T, SPARSE_TEMPERATURE, false_neg)
    warm = max(1, int(cfg.flops_warmup_ratio * total_steps))
    out["flops"] = flops(doc_sparse)
    lam = flops_weight(step, cfg.flops_doc, warm)
    out["loss"] = sum(cfg.weights[k] * v for k, v in out.items() if k in cfg.weights) + lam * out["flops"]
    return out


def usable_examples(model: ThreeHeadModel, examples: list[Example]) -> list[Example]:
    """Drop (with a warning naming them) queries with no token the light encoder keeps."""
    kept_ids = model.query_token_ids([ex.query for ex in examples])
    good = [ex for ex, ids in zip(examples, kept_ids) if ids]
    dropped = [ex.query_id for ex, ids in zip(examples, kept_ids) if not ids]
    if dropped:
        log.warning("skipping %d queries with no known tokens: %s", len(dropped), ", ".join(dropped[:10]))
    if not good:
        raise LightRetrieverError("no usable training examples (every query lacks known tokens)")
    return good


class Trainer:
    def __init__(self, model: ThreeHeadModel, examples: list[Example], cfg: TrainConfig,
                 negative_pool: list[Doc] | None = None):
        self.cfg = cfg
        self.device, self.bf16 = pick_device(cfg)
        seed_everything(cfg.seed)
        self.model = model.to(self.device)
        self.examples = usable_examples(model, examples)
        self.pool = negative_pool or []
        per_epoch = math.ceil(len(self.examples) / cfg.batch_size)
        self.micro_per_epoch = per_epoch
        self.total_steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * per_epoch / cfg.grad_accum))
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        from transformers import get_linear_schedule_with_warmup

        self.scheduler = get_linear_schedule_with_warmup(
            self.optimizer, int(cfg.warmup_ratio * self.total_steps), self.total_steps)
        self.step = 0
        cfg.out_dir = Path(cfg.out_dir)
        cfg.out_dir.mkdir(parents=True, exist_ok=True)

    # ---- data order -----------------------------------------------------------------------------

    def _micro_batch(self, index: int) -> tuple[list[Example], list[list[Doc]]]:
        epoch, pos = divmod(index, self.micro_per_epoch)
        order = list(range(len(self.examples)))
        random.Random(f"{self.cfg.seed}-epoch-{epoch}").shuffle(order)
        chosen = [self.examples[i] for i in order[pos * self.cfg.batch_size:(pos + 1) * self.cfg.batch_size]]
        rng = random.Random(f"{self.cfg.seed}-micro-{index}")
        negs = [sample_negatives(ex, self.pool, self.cfg.negatives, rng) for ex in chosen]
        return chosen, negs

    # ---- checkpoints ----------------------------------------------------------------------------

    def save_checkpoint(self) -> Path:
        path = self.cfg.out_dir / CHECKPOINT
        state = {
            "step": self.step,
            "model": {k: v for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
            "config": self.cfg.to_json(),
        }
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)  # a kill during the write leaves the previous checkpoint intact
        return path

    def load_checkpoint(self) -> bool:
        path = self.cfg.out_dir / CHECKPOINT
        if not path.exists():
            return False
        state = torch.load(path, map_location=self.device, weights_only=False)
        saved = state["config"]
        for key in ("seed", "batch_size", "grad_accum", "negatives"):
            if saved[key] != getattr(self.cfg, key):
                raise LightRetrieverError(
                    f"{path}: checkpoint was made with {key}={saved[key]!r}, this run has {getattr(self.cfg, key)!r}; "
                    "use the same settings or a fresh --out directory")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        random.setstate(state["rng"]["python"])
        np.random.set_state(state["rng"]["numpy"])
        torch.set_rng_state(state["rng"]["torch"].cpu())
        if state["rng"]["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self.step = int(state["step"])
        log.info("resumed from %s at step %d", path, self.step)
        return True

    # ---- loop -----------------------------------------------------------------------------------

    def train(self, resume: bool = True) -> list[dict]:
        if resume:
            self.load_checkpoint()
        self.model.train()
        records = []
        bar = tqdm(total=self.total_steps, initial=self.step, desc="train", disable=not self.cfg.progress,
                   dynamic_ncols=True)
        log_file = (self.cfg.out_dir / LOG_FILE).open("a", encoding="utf-8")
        try:
            while self.step < self.total_steps:
                t0 = time.perf_counter()
                self.optimizer.zero_grad(set_to_none=True)
                parts: dict[str, float] = {}
                for k in range(self.cfg.grad_accum):
                    batch, negs = self._micro_batch(self.step * self.cfg.grad_accum + k)
                    with _autocast(self.device, self.bf16):
                        losses = step_losses(self.model, batch, negs, self.cfg, self.step, self.total_steps)
                    (losses["loss"] / self.cfg.grad_accum).backward()
                    for name, value in losses.items():
                        parts[name] = parts.get(name, 0.0) + float(value.detach()) / self.cfg.grad_accum
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.max_grad_norm)
                self.optimizer.step()
                self.scheduler.step()
                self.step += 1
                rec = {"step": self.step, **{k: round(v, 5) for k, v in parts.items()},
                       "lr": self.scheduler.get_last_lr()[0], "seconds": round(time.perf_counter() - t0, 3)}
                records.append(rec)
                log_file.write(json.dumps(rec) + "\n")
                log_file.flush()
                bar.set_postfix(loss=f"{parts['loss']:.3f}", full=f"{parts.get('full', 0):.2f}",
                                light=f"{parts.get('light', 0):.2f}", sparse=f"{parts.get('sparse', 0):.2f}")
                bar.update(1)
                if self.step % self.cfg.checkpoint_every == 0 or self.step == self.total_steps:
                    self.save_checkpoint()
        finally:
            bar.close()
            log_file.close()
        return records

    @torch.no_grad()
    def evaluate_loss(self, examples: list[Example], negatives: list[list[Doc]]) -> dict[str, float]:
        """Loss terms on a fixed batch in eval mode (no dropout): comparable before and after training."""
        was = self.model.training
        self.model.eval()
        with _autocast(self.device, self.bf16):
            out = step_losses(self.model, examples, negatives, self.cfg, self.total_steps, self.total_steps)
        self.model.train(was)
        return {k: float(v) for k, v in out.items()}
