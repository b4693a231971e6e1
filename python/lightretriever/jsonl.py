"""Reading hand-made JSONL files (BEIR queries and corpus, training pairs, a query log) line by line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def nonblank_lines(path: str | Path, errors: str = "strict") -> Iterator[tuple[int, str]]:
    """(1-based line number, line) for each line of the UTF-8 file that is not blank; `errors` as open()'s."""
    with open(path, encoding="utf-8", errors=errors) as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield number, line


def read_lenient(
    path: str | Path,
    parse: Callable[[str, int], T],
    dead_letters: Path,
    rejects: tuple[type[Exception], ...] = (ValueError,),
    errors: str = "strict",
) -> list[T]:
    """`parse(line, number)` of every non-blank line; a line whose parse raises one of `rejects` is appended to
    `dead_letters` as {"source", "line", "reason", "raw"} and the rest is read (a bad record never stops a job)."""
    out: list[T] = []
    bad = []
    for number, line in nonblank_lines(path, errors):
        try:
            out.append(parse(line, number))
        except rejects as exc:
            raw = line.rstrip("\n").encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            bad.append({"source": str(path), "line": number, "reason": str(exc), "raw": raw})
    if bad:
        dead_letters.parent.mkdir(parents=True, exist_ok=True)
        with open(dead_letters, "a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in bad)
    return out
