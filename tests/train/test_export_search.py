"""The bundle exported after a tiny training run loads, carries the TRAINED table, ingests and searches."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from lightretriever.bundle import Bundle
from lightretriever.encode.query import LightQueryEncoder
from lightretriever.train.export import export_bundle
from lightretriever.train.model import load_trainable
from lightretriever.train.trainer import TrainConfig, Trainer

from .test_training import TOPICS, make_examples


@pytest.fixture(scope="module")
def trained(tiny_bert_dir, tmp_path_factory):
    """(model, bundle path) after 8 steps on the hand-made pairs."""
    out = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    model = load_trainable(str(tiny_bert_dir), device="cpu", max_doc_len=32)
    examples, docs = make_examples()
    Trainer(model, examples, TrainConfig(out_dir=out, max_steps=8, batch_size=6, lr=3e-3, progress=False),
            negative_pool=docs).train()
    bundle = export_bundle(model, out / "model", out / "bundle", prune_top_k=64, progress=False)
    return model, bundle.path


def test_bundle_table_is_the_trained_light_encoder(trained, tiny_bert_dir):
    model, path = trained
    bundle = Bundle.load(path)
    assert bundle.manifest["backbone"]["name"] == "backbone" and bundle.dense_dim == 32
    assert (path / "backbone" / "config.json").is_file()
    encoder = LightQueryEncoder.from_bundle(bundle)
    model.eval()
    queries = [ex.query for ex in make_examples()[0]]
    with torch.no_grad():
        trained_light = model.light_query(model.query_token_ids(queries)).numpy()
    looked_up = np.stack([encoder.encode_query(q).dense for q in queries])
    np.testing.assert_allclose(looked_up, trained_light, atol=2e-3)
    # and it is not the untrained table
    untrained = load_trainable(str(tiny_bert_dir), device="cpu")
    untrained.eval()
    with torch.no_grad():
        before = untrained.light_query(untrained.query_token_ids(queries)).numpy()
    assert np.abs(before - looked_up).max() > 0.05


def test_exported_bundle_carries_its_weights_and_moves(trained, tmp_path):
    """The trained weights travel inside the bundle: a moved copy encodes documents exactly as before."""
    import shutil

    from lightretriever.encode.document import DocumentEncoder

    _, path = trained
    moved = tmp_path / "elsewhere" / "bundle"
    shutil.copytree(path, moved)
    texts = ["apple orchards", "banana plantations in spring"]
    here = DocumentEncoder.from_bundle(Bundle.load(path), device="cpu").encode_queries(texts)
    there_bundle = Bundle.load(moved)
    assert there_bundle.backbone_source()[0] == str(moved / "backbone")
    there = DocumentEncoder.from_bundle(there_bundle, device="cpu").encode_queries(texts)
    np.testing.assert_array_equal(np.asarray(here), np.asarray(there))


@pytest.mark.node
def test_exported_bundle_ingests_and_searches(trained, os_client, unique_index, tmp_path):
    from lightretriever.ingest.job import JobConfig
    from lightretriever.ingest.setup import build_job
    from lightretriever.retriever import Retriever

    _, path = trained
    _, docs = make_examples()
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps({"_id": d.doc_id, "title": d.title, "text": d.text}) + "\n" for d in docs))
    index = unique_index("train-export")
    job = build_job(os_client, str(source), JobConfig(index=index, state_dir=tmp_path / "state", progress=False),
                    bundle_dir=path, device="cpu")
    summary = job.run()
    os_client.indices.refresh(index=index)
    assert os_client.count(index=index)["count"] == len(docs), summary
    retriever = Retriever(os_client, index, Bundle.load(path), systems=("dense", "sparse", "bm25"))
    result = retriever.search(TOPICS[0], k=5, fusion="linear")
    assert result.hits and {h.doc_id for h in result.hits} <= {d.doc_id for d in docs}
    assert {"dense", "sparse"} <= set(result.systems) and result.systems["dense"]
    # the dense system ranks exactly by the light query · stored document vectors
    light = LightQueryEncoder.from_bundle(Bundle.load(path)).encode_query(TOPICS[0]).dense
    vectors = {h["_id"]: np.array(h["_source"]["dense"]) for h in
               os_client.search(index=index, body={"size": 100, "query": {"match_all": {}}})["hits"]["hits"]}
    best = max(vectors, key=lambda d: float(vectors[d] @ light))
    assert next(iter(result.systems["dense"]))[0] == best


@pytest.mark.node
def test_cli_train_mines_bm25_and_exports(tiny_bert_dir, opensearch_url, os_client, unique_index, tmp_path):
    """`lightretriever train` end to end on JSONL pairs: BM25 mining from an index, 2 steps, export."""
    _, docs = make_examples()
    index = unique_index("train-mine")
    for d in docs:
        os_client.index(index=index, id=d.doc_id, body={"doc_id": d.doc_id, "title": d.title, "text": d.text})
    os_client.indices.refresh(index=index)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"query": ex.query, "positive": {"_id": ex.positive.doc_id,
                     "title": ex.positive.title, "text": ex.positive.text}}) + "\n" for ex in make_examples()[0])
                     + "not json\n")
    out = tmp_path / "run"
    cli = "import sys; from lightretriever.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", cli, "train", "--backbone", str(tiny_bert_dir), "--pairs", str(pairs),
           "--mine", "bm25", "--mine-index", index, "--max-steps", "2", "--batch-size", "4", "--max-doc-len", "32",
           "--out", str(out), "--export-bundle", str(tmp_path / "bundle"), "--no-progress",
           "--opensearch", opensearch_url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert summary["steps"] == 2 and summary["examples"] == len(TOPICS)
    Bundle.load(summary["bundle"])
    dead = [json.loads(line) for line in (out / "dead-letters.jsonl").read_text().splitlines()]
    assert len(dead) == 1 and "not valid JSON" in dead[0]["reason"]


def test_lora_decoder_export_carries_the_adapter(tiny_llama_dir, tmp_path):
    """LoRA run on a decoder: the bundle names base + adapter, and its table is the trained light encoder."""
    torch.manual_seed(0)
    model = load_trainable(str(tiny_llama_dir), device="cpu", max_doc_len=32)
    assert model.lora and model.bb.kind == "decoder"
    examples, docs = make_examples()
    Trainer(model, examples, TrainConfig(out_dir=tmp_path, max_steps=3, batch_size=6, lr=1e-2, progress=False),
            negative_pool=docs).train()
    bundle = Bundle.load(export_bundle(model, tmp_path / "adapter", tmp_path / "bundle", progress=False).path)
    assert bundle.manifest["backbone"]["adapter"] == "backbone"
    assert (bundle.path / "backbone" / "adapter_config.json").is_file()
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    model.eval()
    queries = [ex.query for ex in examples]
    with torch.no_grad():
        trained_light = model.light_query(model.query_token_ids(queries)).numpy()
    encoder = LightQueryEncoder.from_bundle(bundle)
    np.testing.assert_allclose(np.stack([encoder.encode_query(q).dense for q in queries]), trained_light, atol=3e-3)
