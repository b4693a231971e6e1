"""JSONL source: one JSON object per line, read as bytes so invalid UTF-8 reaches validation intact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lightretriever.errors import LightRetrieverError
from lightretriever.ingest.records import FieldMap, RawRecord

JSONL_FIELDS = FieldMap(id="_id")


class JsonlSource:
    def __init__(self, path: str | Path, fields: FieldMap = JSONL_FIELDS):
        self.path = Path(path)
        if not self.path.is_file():
            raise LightRetrieverError(f"{self.path}: JSONL source file not found")
        self.fields = fields
        self.name = f"jsonl:{self.path.resolve()}"

    def records(self) -> Iterator[RawRecord]:
        with open(self.path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                yield RawRecord(number, line.rstrip(b"\r\n"))

    def estimate_total(self) -> int | None:
        with open(self.path, "rb") as fh:
            return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
