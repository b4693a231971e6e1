"""Dead-letter file, checkpoint and shard split: the pieces that make a job resumable and exact."""

from __future__ import annotations

import base64
import json

import pytest

from lightretriever.errors import LightRetrieverError
from lightretriever.ingest import checkpoint as ckpt
from lightretriever.ingest.deadletter import DeadLetterFile
from lightretriever.ingest.records import Rejection
from lightretriever.ingest.shard import Shard


def test_dead_letter_keeps_raw_record_and_bytes(tmp_path):
    path = tmp_path / "dl.jsonl"
    dl = DeadLetterFile(path, "jsonl:/x")
    dl.write(Rejection(3, "empty text", b'{"_id": "a", "text": ""}', doc_id="a"))
    dl.write(Rejection(5, "invalid UTF-8", b"\xff\xfe{"))
    dl.write(Rejection(9, "row has 2 fields", {"id": "z", "text": "\udcff"}, line=11))
    dl.close()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0] == {"source": "jsonl:/x", "line": 3, "position": 3, "doc_id": "a", "reason": "empty text",
                       "record": '{"_id": "a", "text": ""}'}
    assert base64.b64decode(rows[1]["record_base64"]) == b"\xff\xfe{" and "record" not in rows[1]
    assert rows[2]["line"] == 11 and rows[2]["record"]["id"] == "z"


def test_dead_letter_resume_truncates_unacknowledged_lines(tmp_path):
    path = tmp_path / "dl.jsonl"
    dl = DeadLetterFile(path, "s")
    dl.write(Rejection(1, "a", b"x"))
    acked = dl.sync()
    dl.write(Rejection(2, "b", b"y"))  # written after the last checkpoint, then the job died
    dl.close()
    resumed = DeadLetterFile(path, "s", resume_size=acked)
    resumed.write(Rejection(2, "b", b"y"))
    resumed.close()
    assert [json.loads(line)["position"] for line in path.read_text().splitlines()] == [1, 2]


def test_checkpoint_roundtrip_and_atomic(tmp_path):
    path = tmp_path / "state" / "job.checkpoint.json"
    state = ckpt.Checkpoint(identity={"index": "i", "bundle": "abc"}, position=64, dead_letter_size=10)
    state.counts.indexed = 60
    ckpt.save(path, state)
    loaded = ckpt.load(path)
    assert loaded.position == 64 and loaded.counts.indexed == 60 and loaded.identity == state.identity
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left behind


def test_checkpoint_refuses_other_job(tmp_path):
    path = tmp_path / "c.json"
    with pytest.raises(ckpt.CheckpointError, match=r"bundle: checkpoint has 'abc', this run has 'def'"):
        ckpt.check_identity(path, {"index": "i", "bundle": "abc"}, {"index": "i", "bundle": "def"})
    with pytest.raises(ckpt.CheckpointError, match="index"):
        ckpt.check_identity(path, {"index": "i", "bundle": "abc"}, {"index": "j", "bundle": "abc"})
    ckpt.check_identity(path, {"index": "i"}, {"index": "i"})


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("{not json")
    with pytest.raises(ckpt.CheckpointError, match="unreadable checkpoint"):
        ckpt.load(path)


def test_shards_partition_positions():
    shards = [Shard.parse(f"{i}/3") for i in range(3)]
    for position in range(1, 100):
        assert sum(s.owns(position) for s in shards) == 1
    assert [p for p in range(1, 8) if shards[1].owns(p)] == [2, 5]
    for bad in ["3/3", "1", "a/b", "0/0", "-1/2"]:
        with pytest.raises(LightRetrieverError, match="--shard"):
            Shard.parse(bad)
