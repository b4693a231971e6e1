"""The end-of-job summary: counts and throughput, printed and returned to callers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lightretriever.ingest.checkpoint import Counts


@dataclass
class Summary:
    index: str
    counts: Counts
    dead_letter: Path
    elapsed_s: float = 0.0
    encode_s: float = 0.0
    write_s: float = 0.0
    docs_this_run: int = 0
    resumed_from: int = 0  # source position the run started after (0: from the beginning)
    already_done: bool = False
    alias: str | None = None
    index_count: int | None = None
    old_indices: list[str] = field(default_factory=list)
    batch_failures: int = 0  # encoder batches that failed whole and were redone one document at a time

    @property
    def docs_per_s(self) -> float:
        return self.docs_this_run / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def encode_docs_per_s(self) -> float:
        return self.docs_this_run / self.encode_s if self.encode_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["dead_letter"] = str(self.dead_letter)
        data["docs_per_s"] = round(self.docs_per_s, 2)
        data["encode_docs_per_s"] = round(self.encode_docs_per_s, 2)
        return data

    def lines(self) -> list[str]:
        c = self.counts
        if self.already_done:
            head = f"ingest into {self.index}: already complete (checkpoint); nothing to do, --restart to redo"
        elif self.resumed_from:
            head = f"ingest into {self.index} (resumed after position {self.resumed_from})"
        else:
            head = f"ingest into {self.index}"
        counts = (
            f"  read {c.read}, indexed {c.indexed}, rejected {c.rejected}, retried {c.retried}"
            f" (truncated {c.truncated}, passages {c.passages})"
        )
        out = [head, counts]
        if not self.already_done:
            encoding = f"encoding {self.encode_s:.1f} s"
            if self.encode_s > 0:
                encoding += f" ({self.encode_docs_per_s:.1f} docs/s)"
            out.append(
                f"  throughput: {self.docs_per_s:.1f} docs/s end to end ({self.docs_this_run} docs in "
                f"{self.elapsed_s:.1f} s); {encoding}, bulk writes {self.write_s:.1f} s (overlapped with encoding)"
            )
        if self.batch_failures:
            out.append(f"  encoder batches that failed and were retried one document at a time: "
                       f"{self.batch_failures} (see the log for their errors)")
        if self.index_count is not None:
            out.append(f"  index {self.index} holds {self.index_count} documents")
        if self.alias:
            was = f" (was {', '.join(self.old_indices)})" if self.old_indices else ""
            out.append(f"  alias {self.alias} -> {self.index}{was}")
        if c.rejected:
            out.append(f"  dead letters: {self.dead_letter} ({c.rejected} rejected)")
        return out
