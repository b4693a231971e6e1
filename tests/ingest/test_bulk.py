"""Bulk writer logic against a scripted client (unit test; the real node is exercised in test_job_node)."""

from __future__ import annotations

import json

import pytest
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import TransportError

from lightretriever.ingest.bulk import Action, BulkError, BulkWriter


class ScriptedClient:
    """Answers each bulk call from a script: an exception, or a status per document (None = 201)."""

    def __init__(self, script):
        self.script = list(script)
        self.calls: list[list[str]] = []

    def bulk(self, body, index):
        lines = body.decode().splitlines()
        ids = [json.loads(line)["index"]["_id"] for line in lines[::2]]
        self.calls.append(ids)
        step = self.script.pop(0) if self.script else {}
        if isinstance(step, Exception):
            raise step
        items = []
        for doc_id in ids:
            status = step.get(doc_id, 201)
            item = {"_id": doc_id, "status": status}
            if status < 300:
                item["result"] = "created" if status == 201 else "updated"
            else:
                item["error"] = {"type": "mapper_parsing_exception", "reason": f"bad {doc_id}"}
            items.append({"index": item})
        return {"errors": any(i["index"]["status"] >= 300 for i in items), "items": items}


def actions(n):
    return [Action(f"d{i}", i + 1, json.dumps({"text": "x" * 50}).encode()) for i in range(n)]


def writer(client, **kw):
    sleeps = []
    w = BulkWriter(client, "idx", sleep=sleeps.append, initial_backoff=0.5, **kw)
    return w, sleeps


def test_requests_bounded_by_docs_and_bytes():
    client = ScriptedClient([])
    w, _ = writer(client, max_docs=4, max_bytes=10_000)
    assert w.write(actions(10)).written == 10
    assert [len(c) for c in client.calls] == [4, 4, 2]
    client = ScriptedClient([])
    w, _ = writer(client, max_docs=100, max_bytes=250)  # ~110 bytes per document
    w.write(actions(5))
    assert [len(c) for c in client.calls] == [2, 2, 1]


def test_whole_request_429_5xx_and_connection_errors_retried_with_backoff():
    client = ScriptedClient([TransportError(429, "too_many_requests", {}), TransportError(503, "unavailable", {}),
                             OSConnectionError("N/A", "refused", None)])
    w, sleeps = writer(client)
    result = w.write(actions(3))
    assert result.written == 3 and result.created == 3 and result.retried == 9
    assert sleeps == [0.5, 1.0, 2.0] and len(client.calls) == 4


def test_item_level_429_retried_then_mapping_error_dead_lettered():
    client = ScriptedClient([{"d1": 429, "d2": 400}, {"d1": 201}])
    w, sleeps = writer(client)
    result = w.write(actions(3))
    assert result.written == 2 and result.retried == 1 and sleeps == [0.5]
    assert client.calls[1] == ["d1"]
    [(action, reason)] = result.failures
    assert action.doc_id == "d2" and "status 400" in reason and "mapper_parsing_exception" in reason


def test_item_retries_exhausted_become_failures():
    client = ScriptedClient([{"d0": 503}] * 5)
    w, _ = writer(client, max_retries=2)
    result = w.write(actions(1))
    assert result.written == 0 and "gave up after 2 retries" in result.failures[0][1]


def test_request_errors_exhausted_or_not_retryable_stop_the_job():
    w, _ = writer(ScriptedClient([TransportError(502, "bad gateway", {})] * 9), max_retries=3)
    with pytest.raises(BulkError, match="rerun the same command to resume"):
        w.write(actions(1))
    w, sleeps = writer(ScriptedClient([TransportError(400, "illegal_argument", {})]))
    with pytest.raises(BulkError, match="refused"):
        w.write(actions(1))
    assert sleeps == []


def test_updated_counted_apart_from_created():
    result = writer(ScriptedClient([{"d0": 200}]))[0].write(actions(2))
    assert (result.created, result.updated) == (1, 1)
