"""The records that move through an ingest job, from raw source items to index documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldMap:
    """Which source fields hold the id, title, text and metadata (JSONL, CSV and index sources).

    `metadata` lists extra top-level fields copied into `metadata`; a source object field named
    `metadata` is always taken as is.
    """

    id: str = "_id"
    title: str = "title"
    text: str = "text"
    metadata: tuple[str, ...] = ()


@dataclass
class RawRecord:
    """One item as read from a source, before any parsing.

    `position` is 1-based and deterministic for a given source (line number for JSONL, data row for
    CSV, sort order for an index); checkpoints and sharding are expressed in it. `data` is the raw
    bytes of a line, or an already decoded mapping (CSV row, OpenSearch hit).
    """

    position: int
    data: bytes | dict[str, Any]
    line: int | None = None  # physical line number where it differs from position (CSV)
    problem: str | None = None  # a defect the source already found (e.g. CSV field count)
    original: bytes | None = None  # exact bytes for the dead letter when `data` is a mapping


@dataclass
class Document:
    """A validated record: what the encoder sees and what is written (minus vectors)."""

    doc_id: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    position: int = 0
    # Precomputed vectors carried by the record (`--precomputed`), else None.
    dense: list[float] | None = None
    sparse: dict[str, float] | None = None
    raw: Any = field(default=None, repr=False)  # the source record, for dead letters after encoding/bulk


@dataclass
class Rejection:
    """A record that will not be indexed, with everything needed to find and replay it."""

    position: int
    reason: str
    raw: bytes | dict[str, Any] | str | None
    doc_id: str | None = None
    line: int | None = None
