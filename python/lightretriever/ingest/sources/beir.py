"""BEIR folder source: `corpus.jsonl` with `_id`, `title`, `text` (and optional `metadata`)."""

from __future__ import annotations

from pathlib import Path

from lightretriever.errors import LightRetrieverError
from lightretriever.ingest.records import FieldMap
from lightretriever.ingest.sources.jsonl import JsonlSource

BEIR_FIELDS = FieldMap(id="_id", title="title", text="text")


class BeirSource(JsonlSource):
    def __init__(self, folder: str | Path, fields: FieldMap = BEIR_FIELDS):
        corpus = Path(folder) / "corpus.jsonl"
        if not corpus.is_file():
            raise LightRetrieverError(f"{folder}: not a BEIR folder (no corpus.jsonl)")
        super().__init__(corpus, fields)
        self.name = f"beir:{Path(folder).resolve()}"
