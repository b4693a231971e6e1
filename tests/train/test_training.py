"""A tiny training run (tiny random BERT, hand-made pairs) lowers every loss term; resuming is exact."""

from __future__ import annotations

import json
import random

import pytest
import torch

from lightretriever.errors import LightRetrieverError
from lightretriever.train.model import load_trainable
from lightretriever.train.pairs import Doc, Example
from lightretriever.train.trainer import CHECKPOINT, LOG_FILE, TrainConfig, Trainer

TOPICS = ["insulin diabetes glucose", "tumour cancer p53", "malaria mosquito parasite", "vaccine antibody virus",
          "neuron synapse brain", "bone fracture calcium", "heart cardiac artery", "lung asthma airway",
          "kidney renal dialysis", "liver hepatitis cirrhosis", "skin melanoma sun", "gene mutation dna"]


def make_examples() -> tuple[list[Example], list[Doc]]:
    rng = random.Random(0)
    docs, examples = [], []
    for i, topic in enumerate(TOPICS):
        words = topic.split()
        doc = Doc(f"d{i}", words[0], " ".join(words * 3) + " study results")
        docs.append(doc)
        q = " ".join(rng.sample(words, 2))
        examples.append(Example(f"q{i}", q, doc, positive_ids=frozenset({doc.doc_id})))
    for ex in examples:  # one "hard" negative: the next topic's document
        ex.negatives = [docs[(int(ex.query_id[1:]) + 1) % len(docs)]]
    return examples, docs


def make_trainer(tiny_bert_dir, out, **kw) -> Trainer:
    torch.manual_seed(0)
    model = load_trainable(str(tiny_bert_dir), device="cpu", max_doc_len=32)
    cfg = TrainConfig(out_dir=out, batch_size=6, negatives=1, lr=3e-3, warmup_ratio=0.0, flops_doc=1e-4,
                      checkpoint_every=5, progress=False, **kw)
    examples, docs = make_examples()
    return Trainer(model, examples, cfg, negative_pool=docs)


def test_tiny_run_lowers_the_loss(tiny_bert_dir, tmp_path):
    trainer = make_trainer(tiny_bert_dir, tmp_path, max_steps=30)
    examples, _ = make_examples()
    negs = [ex.negatives for ex in examples]
    before = trainer.evaluate_loss(examples, negs)
    records = trainer.train()
    after = trainer.evaluate_loss(examples, negs)
    for term in ("full", "light", "sparse", "loss"):
        assert after[term] < 0.7 * before[term], (term, before[term], after[term])
    assert len(records) == 30 and (tmp_path / CHECKPOINT).exists()
    logged = [json.loads(line) for line in (tmp_path / LOG_FILE).read_text().splitlines()]
    assert [r["step"] for r in logged] == list(range(1, 31))


def test_resume_continues_exactly(tiny_bert_dir, tmp_path):
    straight = make_trainer(tiny_bert_dir, tmp_path / "a", max_steps=10, grad_accum=2)
    straight.train()
    first = make_trainer(tiny_bert_dir, tmp_path / "b", max_steps=10, grad_accum=2)
    save = first.save_checkpoint

    def save_then_die():  # the process is killed right after the checkpoint of step 5
        save()
        raise KeyboardInterrupt

    first.save_checkpoint = save_then_die
    with pytest.raises(KeyboardInterrupt):
        first.train()
    assert first.step == 5
    resumed = make_trainer(tiny_bert_dir, tmp_path / "b", max_steps=10, grad_accum=2)
    assert resumed.load_checkpoint() and resumed.step == 5
    resumed.train(resume=False)
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


def test_resume_refuses_other_settings(tiny_bert_dir, tmp_path):
    make_trainer(tiny_bert_dir, tmp_path, max_steps=1).train()
    other = make_trainer(tiny_bert_dir, tmp_path, max_steps=1, grad_accum=3)
    with pytest.raises(LightRetrieverError, match="grad_accum=1"):
        other.load_checkpoint()
