"""`--shard i/N`: a deterministic split of a source by record position, so N workers share a corpus."""

from __future__ import annotations

from dataclasses import dataclass

from lightretriever.errors import LightRetrieverError


@dataclass(frozen=True)
class Shard:
    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, spec: str) -> Shard:
        try:
            index_s, count_s = spec.split("/")
            index, count = int(index_s), int(count_s)
        except ValueError:
            raise LightRetrieverError(f"--shard {spec!r}: expected i/N, e.g. 0/4") from None
        if count < 1 or not 0 <= index < count:
            raise LightRetrieverError(f"--shard {spec!r}: need N >= 1 and 0 <= i < N")
        return cls(index, count)

    def owns(self, position: int) -> bool:
        # Position (line/row/sort order) is known before parsing, so even unparseable records
        # belong to exactly one shard and are dead-lettered exactly once.
        return (position - 1) % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
