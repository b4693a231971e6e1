"""Existing OpenSearch index as a source (re-encoding into a new index).

Documents are read in `id field` order with search_after, so positions are deterministic and a
resumed or sharded job sees the same order as long as the source index is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lightretriever.errors import LightRetrieverError
from lightretriever.ingest.records import FieldMap, RawRecord

PAGE = 500
INDEX_FIELDS = FieldMap(id="doc_id")


class IndexSource:
    def __init__(self, client: Any, index: str, fields: FieldMap = INDEX_FIELDS, page_size: int = PAGE):
        self.client = client
        self.index = index
        self.fields = fields
        self.page_size = page_size
        self.name = f"index:{index}"
        if not client.indices.exists(index=index):
            raise LightRetrieverError(f"source index {index!r} does not exist")

    def _source_fields(self) -> list[str]:
        wanted = [self.fields.id, self.fields.title, self.fields.text, "metadata", *self.fields.metadata]
        return [f for f in dict.fromkeys(wanted) if f != "_id"]

    def records(self) -> Iterator[RawRecord]:
        sort = [{self.fields.id: "asc"}]
        after = None
        position = 0
        while True:
            body: dict[str, Any] = {
                "size": self.page_size,
                "sort": sort,
                "_source": self._source_fields(),
                "query": {"match_all": {}},
            }
            if after is not None:
                body["search_after"] = after
            hits = self.client.search(index=self.index, body=body)["hits"]["hits"]
            for hit in hits:
                position += 1
                record = dict(hit.get("_source") or {})
                if self.fields.id == "_id" or self.fields.id not in record:
                    record.setdefault(self.fields.id, hit["_id"])
                yield RawRecord(position, record)
            if len(hits) < self.page_size:
                return
            after = hits[-1]["sort"]

    def estimate_total(self) -> int | None:
        return int(self.client.count(index=self.index)["count"])
