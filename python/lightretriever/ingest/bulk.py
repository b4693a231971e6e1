"""Bulk writer: bounded NDJSON requests, retries of 429/5xx with exponential backoff, per-item results.

`_id` is the document id, so sending a document twice (a resumed job replaying its last
unacknowledged request) overwrites it instead of duplicating it. Items that OpenSearch rejects
for a reason other than load (mapping conflicts, bad values) come back as failures for the
dead-letter file; the writer never drops one silently.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import TransportError

from lightretriever.client import access_error
from lightretriever.errors import LightRetrieverError

log = logging.getLogger(__name__)


class BulkError(LightRetrieverError):
    """OpenSearch kept refusing whole bulk requests; the job stops and can be resumed."""


@dataclass
class Action:
    doc_id: str
    position: int
    source: bytes  # the document JSON
    raw: Any = None  # what goes to the dead-letter file if OpenSearch rejects it


@dataclass
class BulkResult:
    written: int = 0
    created: int = 0
    updated: int = 0
    retried: int = 0
    failures: list[tuple[Action, str]] = field(default_factory=list)
    written_ids: list[str] = field(default_factory=list)  # ids written, in the order OpenSearch acked them


def _retryable(status: Any) -> bool:
    return isinstance(status, int) and (status == 429 or status >= 500)


def _item_reason(status: int, error: Any) -> str:
    if isinstance(error, dict):
        reason = f"{error.get('type')}: {error.get('reason')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict):
            reason += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    else:
        reason = str(error)
    return f"bulk item rejected with status {status}: {reason}"


@dataclass
class BulkWriter:
    client: Any
    index: str
    max_docs: int = 500
    max_bytes: int = 10 * 1024 * 1024
    max_retries: int = 8
    initial_backoff: float = 1.0
    max_backoff: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def _header(self, doc_id: str) -> bytes:
        return json.dumps({"index": {"_index": self.index, "_id": doc_id}}, ensure_ascii=False).encode("utf-8")

    def _chunks(self, actions: list[Action]) -> list[list[tuple[Action, bytes]]]:
        """Split into requests of at most max_docs documents and (a single document aside) max_bytes."""
        chunks: list[list[tuple[Action, bytes]]] = []
        current: list[tuple[Action, bytes]] = []
        size = 0
        for action in actions:
            lines = self._header(action.doc_id) + b"\n" + action.source + b"\n"
            if current and (len(current) >= self.max_docs or size + len(lines) > self.max_bytes):
                chunks.append(current)
                current, size = [], 0
            current.append((action, lines))
            size += len(lines)
        if current:
            chunks.append(current)
        return chunks

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff, self.initial_backoff * (2 ** (attempt - 1)))

    def _send(self, body: bytes) -> tuple[dict[str, Any], int]:
        """One bulk request; whole-request 429/5xx and connection errors are retried with backoff.

        Returns the response and how many times the request was re-sent."""
        attempt = 0
        while True:
            try:
                return self.client.bulk(body=body, index=self.index), attempt
            except (OSConnectionError, TransportError) as exc:
                denied = access_error(exc)  # TLS trust or credentials: retrying cannot help
                if denied is not None:
                    raise denied from None
                status = getattr(exc, "status_code", None)
                if not isinstance(exc, OSConnectionError) and not _retryable(status):
                    raise BulkError(f"bulk request to index {self.index!r} refused ({status}): {exc}") from None
                attempt += 1
                if attempt > self.max_retries:
                    raise BulkError(
                        f"bulk request to index {self.index!r} failed {attempt} times (last: {status} {exc}); "
                        "the checkpoint is intact, rerun the same command to resume"
                    ) from None
                delay = self._backoff(attempt)
                log.warning("bulk request failed (%s); retry %d in %.1fs", status, attempt, delay)
                self.sleep(delay)

    def write(self, actions: list[Action]) -> BulkResult:
        result = BulkResult()
        pending = actions
        attempt = 0
        while pending:
            retry: list[tuple[Action, str]] = []
            for chunk in self._chunks(pending):
                response, resent = self._send(b"".join(lines for _, lines in chunk))
                result.retried += resent * len(chunk)
                items = response.get("items", [])
                if len(items) != len(chunk):
                    raise BulkError(f"bulk response has {len(items)} items for {len(chunk)} documents")
                for (action, _), item in zip(chunk, items):
                    outcome = next(iter(item.values()))
                    status = outcome.get("status", 0)
                    if 200 <= status < 300:
                        result.written += 1
                        result.written_ids.append(action.doc_id)
                        if outcome.get("result") == "created":
                            result.created += 1
                        else:
                            result.updated += 1
                    elif _retryable(status):
                        retry.append((action, _item_reason(status, outcome.get("error"))))
                    else:
                        result.failures.append((action, _item_reason(status, outcome.get("error"))))
            if not retry:
                break
            attempt += 1
            if attempt > self.max_retries:
                result.failures.extend(
                    (action, f"gave up after {self.max_retries} retries: {reason}") for action, reason in retry
                )
                break
            result.retried += len(retry)
            self.sleep(self._backoff(attempt))
            pending = [action for action, _ in retry]
        return result
