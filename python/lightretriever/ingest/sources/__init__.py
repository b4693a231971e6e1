"""Where records come from. Each source yields `RawRecord`s with a deterministic 1-based position.

`open_source(spec, ...)` picks one from a spec: `beir:DIR`, `jsonl:FILE`, `csv:FILE`, `index:NAME`,
or a bare path (a directory is BEIR, `.csv` is CSV, anything else JSONL).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from lightretriever.errors import LightRetrieverError
from lightretriever.ingest.records import FieldMap, RawRecord


class Source(Protocol):
    name: str  # shown in dead letters and stored in the checkpoint identity
    fields: FieldMap

    def records(self) -> Iterator[RawRecord]: ...

    def estimate_total(self) -> int | None: ...


KINDS = ("beir", "jsonl", "csv", "index")


def parse_spec(spec: str) -> tuple[str, str]:
    kind, sep, rest = spec.partition(":")
    if sep and kind in KINDS:
        return kind, rest
    path = Path(spec)
    if path.is_dir():
        return "beir", spec
    if path.suffix.lower() in (".csv", ".tsv"):
        return "csv", spec
    return "jsonl", spec


DEFAULT_FIELDS = {
    "beir": FieldMap(id="_id"),
    "jsonl": FieldMap(id="_id"),
    "csv": FieldMap(id="id"),
    "index": FieldMap(id="doc_id"),
}


def open_source(
    spec: str,
    fields: FieldMap | dict[str, Any] | None = None,
    client: Any = None,
    csv_delimiter: str | None = None,
) -> Source:
    """`fields`: a full FieldMap, or overrides (e.g. {"id": "docno"}) of the source kind's defaults."""
    kind, target = parse_spec(spec)
    if not isinstance(fields, FieldMap):
        fields = replace(DEFAULT_FIELDS[kind], **(fields or {}))
    if kind == "beir":
        from lightretriever.ingest.sources.beir import BeirSource

        return BeirSource(target, fields)
    if kind == "jsonl":
        from lightretriever.ingest.sources.jsonl import JsonlSource

        return JsonlSource(target, fields)
    if kind == "csv":
        from lightretriever.ingest.sources.csv_file import CsvSource

        return CsvSource(target, fields, delimiter=csv_delimiter)
    if client is None:
        raise LightRetrieverError(f"source {spec!r}: an OpenSearch connection is needed to read an index")
    from lightretriever.ingest.sources.index import IndexSource

    return IndexSource(client, target, fields)
