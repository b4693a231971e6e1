"""Pseudo-queries cut from the index's own documents, or read from a query log (no judgments either way).

Kinds: `title` (the document's title), `sentence` (whole sentences of its text, 4-40 words), `span` (a
random run of 3-10 words from its text). Each pseudo-query remembers its source document, the positive of
the contrastive loss; log queries have none.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from lightretriever.jsonl import read_lenient

KINDS = ("title", "sentence", "span")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class PseudoQuery:
    text: str
    kind: str  # title | sentence | span | log
    source: int  # row of the source document in the corpus; -1 for a log query


def from_corpus(corpus, kinds=("title", "sentence"), per_doc: int = 2, seed: int = 0) -> list[PseudoQuery]:
    """Up to `per_doc` sentences/spans per document plus its title; deterministic for a seed."""
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown pseudo-query kind {kind!r}; choose from {KINDS}")
    rng = random.Random(seed)
    out: list[PseudoQuery] = []
    for row, (title, text) in enumerate(zip(corpus.titles, corpus.texts, strict=True)):
        if "title" in kinds and len(title.split()) >= 2:
            out.append(PseudoQuery(title.strip(), "title", row))
        if "sentence" in kinds:
            sentences = [s.strip() for s in _SENTENCE_END.split(text) if 4 <= len(s.split()) <= 40]
            for s in rng.sample(sentences, min(per_doc, len(sentences))):
                out.append(PseudoQuery(s, "sentence", row))
        if "span" in kinds:
            words = text.split()
            for _ in range(per_doc if len(words) >= 6 else 0):
                n = rng.randint(3, min(10, len(words)))
                start = rng.randint(0, len(words) - n)
                out.append(PseudoQuery(" ".join(words[start : start + n]), "span", row))
    return out


def from_log(path: str | Path, dead_letters: Path) -> list[PseudoQuery]:
    """A JSONL query log: one object per line with a "text" (or "query") string. Bad lines go to
    `dead_letters` (one JSON object each: line number, reason, the raw line) and are skipped."""
    return read_lenient(path, _log_query, dead_letters)


def _log_query(line: str, number: int) -> PseudoQuery:
    record = json.loads(line)
    text = record.get("text", record.get("query")) if isinstance(record, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ValueError('no non-empty "text" or "query" string')
    return PseudoQuery(text.strip(), "log", -1)
