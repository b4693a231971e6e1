"""Ingestion against the real node with real MiniLM encoding (marks: node, slow)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.data import write_precomputed_jsonl
from lightretriever.ingest import alias as alias_ops
from lightretriever.ingest import checkpoint as ckpt
from lightretriever.ingest.job import JobConfig
from lightretriever.ingest.setup import build_job

from .malformed import MALFORMED, MAX_RECORD_BYTES, build_file

pytestmark = [pytest.mark.node]  # and each model-loading test is also marked slow

CLI = [sys.executable, "-c", "import sys; from lightretriever.cli import main; sys.exit(main())"]


def job_for(client, source, encoder, bundle, tmp_path, **config):
    config.setdefault("state_dir", tmp_path / "state")
    config.setdefault("progress", False)
    return build_job(client, str(source), JobConfig(**config), bundle_dir=bundle, encoder=encoder)


def all_ids(client, index) -> list[str]:
    client.indices.refresh(index=index)
    body = {"size": 0, "aggs": {"ids": {"terms": {"field": "doc_id", "size": 10000}}}}
    buckets = client.search(index=index, body=body)["aggregations"]["ids"]["buckets"]
    assert all(b["doc_count"] == 1 for b in buckets), "duplicate doc_id in the index"
    return sorted(b["key"] for b in buckets)


@pytest.mark.slow
def test_scifact_sample_indexed_with_vectors(os_client, unique_index, minilm_bundle, minilm_encoder,
                                            scifact_sample, tmp_path):
    from lightretriever.bundle import Bundle
    from lightretriever.encode.text import document_text

    path, records = scifact_sample(64)  # two encoder batches; 45 of them are longer than the bundle's 256 tokens
    index = unique_index()
    summary = job_for(os_client, path, minilm_encoder, minilm_bundle, tmp_path, index=index).run()
    assert summary.counts.read == summary.counts.indexed == summary.index_count == 64
    assert summary.counts.rejected == 0
    assert all_ids(os_client, index) == sorted(r["_id"] for r in records)

    # Truncation is counted: texts longer than max_length minus [CLS]/[SEP].
    bundle = Bundle.load(minilm_bundle)
    tok = bundle.tokenizer
    tok.no_truncation()
    room = bundle.manifest["max_length"]["document"] - 2
    long_texts = sum(
        len(tok.encode(document_text(r["title"], r["text"]), add_special_tokens=False).ids) > room for r in records
    )
    assert long_texts > 0 and summary.counts.truncated == long_texts

    # The stored vectors work: a document's own dense vector finds it first; its top term finds it.
    doc = os_client.get(index=index, id=records[7]["_id"])["_source"]
    assert len(doc["dense"]) == 384 and doc["doc_id"] == records[7]["_id"]
    knn = {"size": 1, "query": {"knn": {"dense": {"vector": doc["dense"], "k": 5}}}}
    assert os_client.search(index=index, body=knn)["hits"]["hits"][0]["_id"] == records[7]["_id"]
    term = max(doc["sparse"], key=doc["sparse"].get)
    hits = os_client.search(index=index, body={"size": 200, "query": {"rank_feature": {"field": f"sparse.{term}"}}})
    assert records[7]["_id"] in [h["_id"] for h in hits["hits"]["hits"]]


@pytest.mark.slow
def test_kill9_midway_then_resume_is_exact(opensearch_url, os_client, unique_index, minilm_bundle,
                                          scifact_sample, tmp_path):
    path, records = scifact_sample(96)
    # A few bad lines too: their dead letters must also appear exactly once after the resume.
    lines = path.read_bytes().splitlines()
    bad = [b"not json", b'{"_id": "x1"}', b'{"_id": "", "text": "t"}', b"[1]", b'{"_id": "x2", "text": " "}']
    for offset, raw in zip((5, 30, 55, 80, 99), bad):
        lines.insert(offset, raw)
    bad_lines = [number for number, line in enumerate(lines, start=1) if line in bad]
    path.write_bytes(b"\n".join(lines) + b"\n")
    index = unique_index()
    state = tmp_path / "state"
    cmd = [*CLI, "ingest", "--bundle", str(minilm_bundle), "--source", str(path), "--index", index,
           "--opensearch", opensearch_url, "--state-dir", str(state), "--batch-size", "16", "--bulk-docs", "16",
           "--no-progress"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    checkpoint_file = state / f"{index}.checkpoint.json"
    deadline = time.monotonic() + 600
    killed_at = None
    while time.monotonic() < deadline and proc.poll() is None:
        saved = ckpt.load(checkpoint_file) if checkpoint_file.exists() else None
        if saved is not None and saved.position >= 32:
            proc.send_signal(signal.SIGKILL)
            killed_at = saved.position
            break
        time.sleep(0.05)
    proc.wait()
    assert killed_at is not None, proc.stdout.read().decode()
    assert proc.returncode == -signal.SIGKILL
    saved = ckpt.load(checkpoint_file)
    assert not saved.done and saved.position < len(lines)

    rerun = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed after position" in rerun.stderr
    assert all_ids(os_client, index) == sorted(r["_id"] for r in records)
    assert os_client.count(index=index)["count"] == 96
    dead = [json.loads(line) for line in (state / f"{index}.deadletter.jsonl").read_text().splitlines()]
    assert [d["line"] for d in dead] == bad_lines
    final = ckpt.load(checkpoint_file)
    assert final.done and (final.counts.read, final.counts.indexed, final.counts.rejected) == (101, 96, 5)


@pytest.mark.slow
def test_malformed_lines_dead_lettered_valid_indexed(os_client, unique_index, minilm_bundle, minilm_encoder,
                                                     tmp_path):
    path = tmp_path / "mixed.jsonl"
    valid_ids, expected = build_file(path)
    index = unique_index()
    job = job_for(os_client, path, minilm_encoder, minilm_bundle, tmp_path, index=index,
                  max_record_bytes=MAX_RECORD_BYTES)
    summary = job.run()
    assert all_ids(os_client, index) == sorted(valid_ids)
    dead = [json.loads(line) for line in job.dead_letter_path.read_text().splitlines()]
    assert len(dead) == len(MALFORMED) == summary.counts.rejected
    for entry in dead:
        label, reason = expected[entry["line"]]
        assert reason in entry["reason"], (label, entry)
        assert "record" in entry or "record_base64" in entry
    assert summary.counts.read == len(valid_ids) + len(MALFORMED)


@pytest.mark.slow
def test_mapping_conflict_goes_to_dead_letters(os_client, unique_index, minilm_bundle, minilm_encoder, tmp_path):
    from lightretriever.mappings import create_index

    index = unique_index()
    create_index(os_client, index, 384)
    os_client.indices.put_mapping(index=index, body={"properties": {"metadata": {"properties": {
        "year": {"type": "integer"}}}}})
    path = tmp_path / "years.jsonl"
    rows = [{"_id": f"y{i}", "text": f"paper {i} on gene expression", "metadata": {"year": 2000 + i}} for i in range(6)]
    rows[3]["metadata"]["year"] = "the year of the dragon"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    job = job_for(os_client, path, minilm_encoder, minilm_bundle, tmp_path, index=index)
    summary = job.run()
    assert all_ids(os_client, index) == ["y0", "y1", "y2", "y4", "y5"]
    [entry] = [json.loads(line) for line in job.dead_letter_path.read_text().splitlines()]
    assert entry["doc_id"] == "y3" and entry["line"] == 4
    assert "status 400" in entry["reason"] and "parsing_exception" in entry["reason"]
    assert json.loads(entry["record"])["metadata"]["year"] == "the year of the dragon"
    assert (summary.counts.indexed, summary.counts.rejected) == (5, 1)


@pytest.fixture
def alias_name(os_client, unique_index):
    name = unique_index()
    yield name
    os_client.indices.delete(index=f"{name}-v*", ignore_unavailable=True, expand_wildcards="all")


@pytest.mark.slow
def test_alias_swap_and_reencode_from_index(os_client, alias_name, minilm_bundle, minilm_encoder,
                                            scifact_sample, tmp_path):
    path, records = scifact_sample(12)
    first = job_for(os_client, path, minilm_encoder, minilm_bundle, tmp_path, alias=alias_name).run()
    assert first.index == f"{alias_name}-v1" and first.index_count == 12
    assert alias_ops.alias_targets(os_client, alias_name) == [f"{alias_name}-v1"]

    # Re-encode what the alias serves into v2. While it runs, the alias still points at v1.
    seen_during: list[list[str]] = []

    class Watching:
        def encode_documents(self, texts):
            seen_during.append(alias_ops.alias_targets(os_client, alias_name))
            return minilm_encoder.encode_documents(texts)

    second = job_for(os_client, f"index:{alias_name}", Watching(), minilm_bundle, tmp_path, alias=alias_name).run()
    assert seen_during and all(t == [f"{alias_name}-v1"] for t in seen_during)
    assert second.index == f"{alias_name}-v2" and second.old_indices == [f"{alias_name}-v1"]
    assert alias_ops.alias_targets(os_client, alias_name) == [f"{alias_name}-v2"]
    assert os_client.indices.exists(index=f"{alias_name}-v1")  # kept until --delete-old
    assert all_ids(os_client, f"{alias_name}-v2") == sorted(r["_id"] for r in records)

    # A count that does not verify leaves the alias where it is.
    with pytest.raises(alias_ops.AliasError, match="alias not moved"):
        alias_ops.verify_count(os_client, f"{alias_name}-v2", 13)

    third = job_for(os_client, path, minilm_encoder, minilm_bundle, tmp_path, alias=alias_name,
                    delete_old=True).run()
    assert third.index == f"{alias_name}-v3"
    assert alias_ops.alias_targets(os_client, alias_name) == [f"{alias_name}-v3"]
    assert not os_client.indices.exists(index=f"{alias_name}-v2")


@pytest.mark.slow
def test_split_passages_keep_parent(os_client, unique_index, minilm_bundle, minilm_encoder, scifact_sample,
                                    tmp_path):
    path, records = scifact_sample(8)
    index = unique_index()
    job = build_job(os_client, str(path), JobConfig(index=index, state_dir=tmp_path / "s", progress=False),
                    bundle_dir=minilm_bundle, encoder=minilm_encoder, split_passages=True)
    summary = job.run()
    assert summary.counts.truncated == 0 and summary.counts.passages > 0
    ids = all_ids(os_client, index)
    parents = {i.split("#")[0] for i in ids}
    assert parents == {r["_id"] for r in records}
    passage = next(i for i in ids if "#" in i)
    source = os_client.get(index=index, id=passage)["_source"]
    assert source["metadata"]["parent_id"] == passage.split("#")[0]


def test_sharded_workers_with_precomputed_vectors(opensearch_url, os_client, unique_index, tmp_path):
    """Three `--shard i/3` processes (pipelines/ingest_sharded.py) share one corpus: exact count, no duplicates."""
    path = write_precomputed_jsonl(tmp_path / "pre.jsonl", 90, seed=1)
    index = unique_index()
    state = tmp_path / "state"
    pipeline = Path(__file__).resolve().parents[2] / "pipelines" / "ingest_sharded.py"
    run = subprocess.run(
        [sys.executable, str(pipeline), "--workers", "3", "--", "--precomputed", "--dense-dim", "8",
         "--source", str(path), "--index", index, "--opensearch", opensearch_url, "--state-dir", str(state)],
        check=False, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert all_ids(os_client, index) == sorted(f"p{i}" for i in range(90))
    for i in range(3):
        saved = ckpt.load(state / f"{index}.shard{i}of3.checkpoint.json")
        assert saved.done and saved.counts.indexed == 30 and saved.counts.read == 30
