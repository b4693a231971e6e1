"""Job logic with the in-memory doubles: ordering, dead letters, checkpoints, resume and shards."""

from __future__ import annotations

import json

import pytest

from lightretriever.ingest import checkpoint as ckpt
from lightretriever.ingest.job import IngestJob, JobConfig
from lightretriever.ingest.shard import Shard
from lightretriever.ingest.sources import open_source

from .fakes import FakeClient, FakeEncoder
from .malformed import MAX_RECORD_BYTES, build_file


def make_job(tmp_path, source_path, client, encoder, **config):
    config.setdefault("index", "docs")
    config.setdefault("state_dir", tmp_path / "state")
    config.setdefault("progress", False)
    config.setdefault("max_record_bytes", MAX_RECORD_BYTES)
    return IngestJob(client, open_source(str(source_path)), encoder, JobConfig(**config),
                     dense_dim=8, bundle_checksum="fake", schema_check=lambda doc: None)


def dead_letters(job):
    return [json.loads(line) for line in job.dead_letter_path.read_text().splitlines()]


def test_job_indexes_valid_and_dead_letters_the_rest(tmp_path):
    path = tmp_path / "in.jsonl"
    valid_ids, expected = build_file(path)
    client = FakeClient("docs", reject={"ok3": (400, "mapper_parsing_exception")})
    job = make_job(tmp_path, path, client, FakeEncoder(), batch_size=4)
    summary = job.run()
    assert set(client.docs["docs"]) == set(valid_ids) - {"ok3"}
    rows = dead_letters(job)
    assert {r["line"]: r["reason"] for r in rows if r["doc_id"] != "ok3"}.keys() == expected.keys()
    for row in rows:
        if row["doc_id"] == "ok3":
            assert "mapper_parsing_exception" in row["reason"]
        else:
            assert expected[row["line"]][1] in row["reason"]
    assert [r["line"] for r in rows] == sorted(r["line"] for r in rows)
    c = summary.counts
    assert (c.read, c.indexed, c.rejected) == (len(valid_ids) + len(expected), len(valid_ids) - 1, len(expected) + 1)
    body = client.docs["docs"]["ok0"]
    assert set(body) == {"doc_id", "title", "text", "metadata", "dense", "sparse"}
    assert len(body["dense"]) == 8 and all(float(v) > 0 for v in body["sparse"].values())
    saved = ckpt.load(job.checkpoint_path)
    assert saved.done and saved.position == len(valid_ids) + len(expected)
    # A finished job is not redone.
    requests = client.requests
    again = make_job(tmp_path, path, client, FakeEncoder()).run()
    assert again.already_done and client.requests == requests and again.counts == summary.counts


def test_encoder_failure_isolated_to_its_document(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps({"_id": f"d{i}", "text": "poison" if i == 2 else f"text {i}"})
                              for i in range(5)) + "\n")
    client = FakeClient("docs")
    job = make_job(tmp_path, path, client, FakeEncoder(fail_on="poison"), batch_size=10)
    job.run()
    assert sorted(client.docs["docs"]) == ["d0", "d1", "d3", "d4"]
    [row] = dead_letters(job)
    assert row["doc_id"] == "d2" and "encoding failed" in row["reason"]


def test_resume_skips_acknowledged_positions_and_refuses_other_bundle(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps({"_id": f"d{i}", "text": f"text {i}"}) for i in range(20)) + "\n")
    client = FakeClient("docs")
    state = ckpt.Checkpoint(identity={}, position=12)
    job = make_job(tmp_path, path, client, FakeEncoder(), batch_size=3)
    state.identity = job._identity("docs")
    state.counts.read = state.counts.indexed = state.counts.created = 12
    ckpt.save(job.checkpoint_path, state)
    job.dead_letter_path.parent.mkdir(parents=True, exist_ok=True)
    job.dead_letter_path.write_text("")
    encoder = FakeEncoder()
    summary = make_job(tmp_path, path, client, encoder, batch_size=3).run()
    assert sorted(client.docs["docs"]) == sorted(f"d{i}" for i in range(12, 20))
    assert encoder.texts == [f"text {i}" for i in range(12, 20)]
    assert (summary.counts.read, summary.counts.indexed, summary.resumed_from) == (20, 20, 12)
    other = IngestJob(client, open_source(str(path)), FakeEncoder(),
                      JobConfig(index="docs", state_dir=tmp_path / "state", progress=False),
                      dense_dim=8, bundle_checksum="another-bundle")
    with pytest.raises(ckpt.CheckpointError, match="bundle: checkpoint has 'fake', this run has 'another-bundle'"):
        other.run()


def test_shards_split_the_corpus_exactly(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps({"_id": f"d{i}", "text": f"text {i}"}) for i in range(31)) + "\n")
    client = FakeClient("docs")
    seen = []
    for i in range(3):
        job = make_job(tmp_path, path, client, FakeEncoder(), shard=Shard(i, 3), batch_size=4)
        summary = job.run()
        seen.append(summary.counts.indexed)
        assert job.checkpoint_path.name == f"docs.shard{i}of3.checkpoint.json"
    assert seen == [11, 10, 10] and len(client.docs["docs"]) == 31


def test_alias_with_shards_refused(tmp_path):
    from lightretriever.errors import LightRetrieverError

    path = tmp_path / "in.jsonl"
    path.write_text('{"_id": "a", "text": "t"}\n')
    with pytest.raises(LightRetrieverError, match="--alias needs the whole corpus"):
        make_job(tmp_path, path, FakeClient("docs"), FakeEncoder(), index=None, alias="live", shard=Shard(0, 2))


class _FreshIndices:
    def __init__(self, client):
        self.client = client

    def exists(self, index):
        return self.client.made

    def create(self, index, body):
        self.client.made = True

    def get_mapping(self, index):
        return {index: {"mappings": {"properties": {"dense": {"type": "knn_vector", "dimension": 8}}}}}

    def refresh(self, index):
        return {}


class FailoverClient(FakeClient):
    """A fresh index on a cluster that loses a node mid-way: OpenSearch retries some shard writes on the
    promoted replica, which already holds them, and answers "updated" for documents written once."""

    def __init__(self, retried_ids):
        super().__init__("docs")
        self.made = False
        self.indices = _FreshIndices(self)
        self.cluster = type("Cluster", (), {"health": staticmethod(lambda: {"number_of_data_nodes": 3})})()
        self.retried_ids = set(retried_ids)

    def bulk(self, body, index):
        response = super().bulk(body, index)
        for item in response["items"]:
            if item["index"]["_id"] in self.retried_ids:
                item["index"].update(status=200, result="updated")
        return response


def test_fresh_index_counts_distinct_ids_created_whatever_a_failover_answered(tmp_path):
    path = tmp_path / "in.jsonl"
    ids = [f"d{i}" for i in range(30)] + ["d3"]  # d3 twice in the source: one document
    path.write_text("\n".join(json.dumps({"_id": i, "text": f"text {i}"}) for i in ids) + "\n")
    client = FailoverClient(retried_ids={"d7", "d8", "d21"})
    summary = make_job(tmp_path, path, client, FakeEncoder(), batch_size=4, bulk_docs=8).run()
    assert summary.counts.indexed == 31 and summary.counts.created == 30 == len(client.docs["docs"])


def test_existing_index_keeps_updated_apart(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps({"_id": f"d{i}", "text": f"text {i}"}) for i in range(10)) + "\n")
    client = FakeClient("docs")  # the index exists: its documents may predate the job
    client.docs["docs"]["d4"] = {}
    summary = make_job(tmp_path, path, client, FakeEncoder()).run()
    assert (summary.counts.created, summary.counts.indexed) == (9, 10)
class FailsInBatches(FakeEncoder):
    """Encodes one text at a time but refuses a batch, as a CUDA out-of-memory error would."""

    def encode_documents(self, texts):
        if len(texts) > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super().encode_documents(texts)


def test_a_failed_batch_whose_retries_succeed_is_logged_and_counted(tmp_path, caplog):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps({"_id": f"d{i}", "text": f"text {i}"}) for i in range(7)) + "\n")
    client = FakeClient("docs")
    with caplog.at_level("WARNING", logger="lightretriever.ingest.encoding"):
        summary = make_job(tmp_path, path, client, FailsInBatches(), batch_size=3).run()
    assert sorted(client.docs["docs"]) == [f"d{i}" for i in range(7)] and summary.counts.rejected == 0
    assert summary.batch_failures == 2  # batches of 3 and 3 failed; the last one holds a single document
    failures = [r.getMessage() for r in caplog.records if "CUDA out of memory" in r.getMessage()]
    assert len(failures) == 2 and "batch of 3 documents" in failures[0]
    assert any("retried one document at a time: 2" in line for line in summary.lines())
    assert summary.to_json()["batch_failures"] == 2
