"""Job checkpoint: progress that survives kill -9 (written by lightretriever.files.atomic_write).

It records the last source position whose records are all acknowledged by OpenSearch (or
dead-lettered), the running counts, the dead-letter file size at that point, and what the job
was run with (source, shard, bundle checksum, index) so that a rerun with different inputs
refuses to resume instead of mixing two jobs in one index.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lightretriever.errors import LightRetrieverError
from lightretriever.files import atomic_write

FORMAT = 1


class CheckpointError(LightRetrieverError):
    """A checkpoint is unreadable or belongs to a different job."""


@dataclass
class Counts:
    read: int = 0
    indexed: int = 0
    rejected: int = 0
    retried: int = 0
    truncated: int = 0
    passages: int = 0
    created: int = 0  # distinct new documents (bulk result "created"); used to verify the index count

    def add(self, other: Counts) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


@dataclass
class Checkpoint:
    identity: dict[str, Any]
    position: int = 0
    dead_letter_size: int = 0
    counts: Counts = field(default_factory=Counts)
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "identity": self.identity,
            "position": self.position,
            "dead_letter_size": self.dead_letter_size,
            "counts": asdict(self.counts),
            "done": self.done,
        }


def save(path: str | os.PathLike, checkpoint: Checkpoint) -> None:
    atomic_write(path, json.dumps(checkpoint.to_json(), indent=1, sort_keys=True))


def load(path: str | os.PathLike) -> Checkpoint | None:
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown format {data.get('format')!r}")
        return Checkpoint(
            identity=data["identity"],
            position=int(data["position"]),
            dead_letter_size=int(data["dead_letter_size"]),
            counts=Counts(**data["counts"]),
            done=bool(data["done"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint ({exc}); delete it or pass --restart") from None


def check_identity(path: str | os.PathLike, saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Refuse to resume a checkpoint written by a job with other inputs, naming what differs."""
    diffs = [
        f"{key}: checkpoint has {saved.get(key)!r}, this run has {current.get(key)!r}"
        for key in sorted(set(saved) | set(current))
        if saved.get(key) != current.get(key)
    ]
    if diffs:
        raise CheckpointError(
            f"{path}: refusing to resume a different job ({'; '.join(diffs)}); "
            "use the original arguments, another --checkpoint, or --restart to start over"
        )
