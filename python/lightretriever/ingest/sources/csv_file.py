"""CSV source with configurable id/title/text/metadata columns.

Bytes are decoded with surrogateescape so that a row with invalid UTF-8 still parses and can be
dead-lettered with its exact bytes; validation rejects any value that carries escaped bytes.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from lightretriever.errors import LightRetrieverError
from lightretriever.ingest.records import FieldMap, RawRecord

CSV_FIELDS = FieldMap(id="id")


class CsvSource:
    def __init__(self, path: str | Path, fields: FieldMap = CSV_FIELDS, delimiter: str | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise LightRetrieverError(f"{self.path}: CSV source file not found")
        self.fields = fields
        self.delimiter = delimiter or ("\t" if self.path.suffix.lower() == ".tsv" else ",")
        self.name = f"csv:{self.path.resolve()}"
        csv.field_size_limit(sys.maxsize)  # size is judged by validation, with a clear reason

    def _open(self) -> io.TextIOWrapper:
        return open(self.path, "r", encoding="utf-8", errors="surrogateescape", newline="")

    def _row_bytes(self, row: list[str]) -> bytes:
        out = io.StringIO()
        csv.writer(out, delimiter=self.delimiter, lineterminator="").writerow(row)
        return out.getvalue().encode("utf-8", "surrogateescape")

    def records(self) -> Iterator[RawRecord]:
        with self._open() as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            header = next(reader, None) or []
            missing = [c for c in (self.fields.id, self.fields.text) if c not in header]
            if missing:
                raise LightRetrieverError(f"{self.path}: CSV header {header} lacks column(s) {missing}")
            row_number = 0
            while True:
                line = reader.line_num + 1  # physical line where the next row starts
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise LightRetrieverError(f"{self.path} line {line}: unreadable CSV ({exc})") from None
                row_number += 1
                problem = None
                if len(row) != len(header):
                    problem = f"row has {len(row)} fields, the header has {len(header)}"
                yield RawRecord(
                    row_number,
                    dict(zip(header, row)),
                    line=line,
                    problem=problem,
                    original=self._row_bytes(row),
                )

    def estimate_total(self) -> int | None:
        with self._open() as fh:
            return max(sum(1 for _ in csv.reader(fh, delimiter=self.delimiter)) - 1, 0)
