"""`run_training`: examples -> hard negatives -> three-head model -> training loop -> optional bundle.

The library entry point behind `lightretriever train`; every step is also usable on its own.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from lightretriever.errors import LightRetrieverError
from lightretriever.train import mining
from lightretriever.train.pairs import Doc, Example, beir_examples, jsonl_examples, read_corpus
from lightretriever.train.trainer import TrainConfig, Trainer

log = logging.getLogger(__name__)


@dataclass
class TrainJob:
    backbone: str
    config: TrainConfig
    dataset: Path | None = None          # BEIR dir
    split: str = "train"
    pairs: Path | None = None            # JSONL examples (instead of a BEIR split)
    mine: list[str] = field(default_factory=lambda: ["bm25"])  # bm25 | dense (in order; dense replaces)
    mine_depth: int = 30
    mine_index: str | None = None        # BM25 index of the corpus (created from the BEIR corpus if absent)
    client: object | None = None         # opensearch-py client for BM25 mining
    lora: bool | None = None
    gguf_file: str | None = None
    query_prompt: str = ""
    document_prompt: str = ""
    max_query_len: int | None = None
    max_doc_len: int | None = None
    resume: bool = True
    export_bundle: Path | None = None
    prune_top_k: int | None = 256
    limit: int | None = None             # first N examples (smoke runs)


def load_examples(job: TrainJob) -> tuple[list[Example], dict[str, Doc]]:
    if job.pairs:
        examples = jsonl_examples(job.pairs, Path(job.config.out_dir) / "dead-letters.jsonl")
        corpus = {ex.positive.doc_id: ex.positive for ex in examples}
        return examples, corpus
    if job.dataset is None:
        raise LightRetrieverError("give --dataset (BEIR dir) or --pairs (JSONL)")
    if job.split == "test":
        raise LightRetrieverError("refusing to train on the 'test' split: evaluation queries would leak")
    corpus = read_corpus(job.dataset)
    return beir_examples(job.dataset, job.split, corpus), corpus


NEGATIVES_FILE = "negatives.json"


def mine_negatives(job: TrainJob, examples: list[Example], corpus: dict[str, Doc], model) -> None:
    """Mine (or, when resuming, reload the run's saved) negatives; saved as {query_id: [doc ids]}."""
    saved = Path(job.config.out_dir) / NEGATIVES_FILE
    if job.resume and saved.exists() and job.dataset is not None:
        ids = json.loads(saved.read_text())
        for ex in examples:
            ex.negatives = [corpus[d] for d in ids.get(ex.query_id, []) if d in corpus]
        log.info("reusing the negatives mined for this run: %s", saved)
        return
    for method in job.mine:
        start = time.perf_counter()
        if method == "bm25":
            if job.client is None:
                raise LightRetrieverError("BM25 mining needs an OpenSearch connection (--opensearch or the local node)")
            index = job.mine_index or f"lightretriever-train-bm25-{Path(job.dataset or job.pairs).name.lower()}"
            if job.dataset is not None:
                mining.ensure_text_index(job.client, index, corpus)
            n = mining.mine_bm25(job.client, index, examples, job.mine_depth, corpus if job.dataset else None)
        elif method == "dense":
            n = mining.mine_dense(model, examples, corpus, job.mine_depth)
        elif method == "none":
            continue
        else:
            raise LightRetrieverError(f"unknown mining method {method!r} (bm25, dense or none)")
        log.info("mined %s negatives for %d queries in %.1fs", method, n, time.perf_counter() - start)
    if job.dataset is not None:
        saved.write_text(json.dumps({ex.query_id: [d.doc_id for d in ex.negatives] for ex in examples}))


def run_training(job: TrainJob) -> dict:
    from lightretriever.train.model import load_trainable

    out = Path(job.config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    examples, corpus = load_examples(job)
    if job.limit:
        examples = examples[: job.limit]
    model = load_trainable(job.backbone, lora=job.lora, device=job.config.device, gguf_file=job.gguf_file,
                           query_prompt=job.query_prompt, document_prompt=job.document_prompt,
                           max_query_len=job.max_query_len, max_doc_len=job.max_doc_len)
    mine_negatives(job, examples, corpus, model)
    trainer = Trainer(model, examples, job.config, negative_pool=list(corpus.values()))
    t_train = time.perf_counter()
    records = trainer.train(resume=job.resume)
    summary = {
        "backbone": job.backbone, "lora": model.lora, "examples": len(trainer.examples),
        "steps": trainer.step, "device": str(trainer.device), "bf16": trainer.bf16,
        "train_seconds": round(time.perf_counter() - t_train, 1),
        "first_loss": records[0]["loss"] if records else None, "last_loss": records[-1]["loss"] if records else None,
    }
    if job.export_bundle:
        from lightretriever.train.export import export_bundle

        t_export = time.perf_counter()
        bundle = export_bundle(model, out / "model", Path(job.export_bundle), query_prompt=job.query_prompt,
                               document_prompt=job.document_prompt, prune_top_k=job.prune_top_k,
                               progress=job.config.progress)
        summary["bundle"] = str(bundle.path)
        summary["export_seconds"] = round(time.perf_counter() - t_export, 1)
    summary["total_seconds"] = round(time.perf_counter() - t0, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
