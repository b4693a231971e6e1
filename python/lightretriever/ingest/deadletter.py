"""Dead-letter JSONL: one line per rejected record, holding enough to find and replay it.

Line format: {"source", "line", "doc_id", "reason", and either "record" (the raw text or object)
or "record_base64" (raw bytes that are not valid UTF-8)}. The file is appended in source order and
truncated back to the checkpointed size on resume, so a resumed job never writes a line twice.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from lightretriever.ingest.records import Rejection


def dead_letter_line(source: str, rejection: Rejection) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "source": source,
        "line": rejection.line if rejection.line is not None else rejection.position,
        "position": rejection.position,
        "doc_id": rejection.doc_id,
        "reason": rejection.reason,
    }
    raw = rejection.raw
    if isinstance(raw, (bytes, bytearray)):
        try:
            entry["record"] = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            entry["record_base64"] = base64.b64encode(bytes(raw)).decode("ascii")
    else:
        entry["record"] = raw
    return entry


class DeadLetterFile:
    """Append-only writer; `size()` after `sync()` is what a checkpoint records."""

    def __init__(self, path: str | os.PathLike, source: str, resume_size: int | None = None):
        self.path = Path(path)
        self.source = source
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.count = 0
        if resume_size is None:
            self._fh = open(self.path, "wb")  # noqa: SIM115 - kept open for the whole job
        else:
            self._fh = open(self.path, "ab")  # noqa: SIM115
            # Lines written after the last checkpoint belong to records that will be read again.
            self._fh.truncate(min(resume_size, self.path.stat().st_size))
            self._fh.seek(0, os.SEEK_END)

    def write(self, rejection: Rejection) -> None:
        entry = dead_letter_line(self.source, rejection)
        # ensure_ascii keeps lone surrogates (valid JSON escapes, invalid UTF-8) writable.
        self._fh.write(json.dumps(entry, ensure_ascii=True, default=repr).encode("ascii") + b"\n")
        self.count += 1

    def sync(self) -> int:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        return self._fh.tell()

    def close(self) -> None:
        if not self._fh.closed:
            self.sync()
            self._fh.close()
