"""Read a BEIR-layout dataset directory: queries.jsonl and qrels/<split>.tsv."""

from __future__ import annotations

import csv
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from lightretriever.errors import LightRetrieverError
from lightretriever.jsonl import nonblank_lines

log = logging.getLogger(__name__)


def default_data_dir() -> Path:
    """Where the BEIR collections are: $LIGHTRETRIEVER_DATA, else ../shared/data beside the clone one runs in
    (the current directory's parent, so it holds in a wheel install too)."""
    return Path(os.environ.get("LIGHTRETRIEVER_DATA") or Path.cwd().parent / "shared" / "data")


@dataclass
class Dataset:
    name: str
    path: Path
    split: str
    qrels_file: Path
    queries: dict[str, str]  # only the queries judged in this split, in file order
    qrels: dict[str, dict[str, int]]


def read_qrels(file: Path) -> dict[str, dict[str, int]]:
    if not file.is_file():
        raise LightRetrieverError(f"{file}: qrels file not found")
    qrels: dict[str, dict[str, int]] = {}
    with open(file, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != ["query-id", "corpus-id", "score"]:
            raise LightRetrieverError(f"{file}: expected a header 'query-id<TAB>corpus-id<TAB>score'")
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                qid, doc_id, score = row[0], row[1], int(row[2])
            except (IndexError, ValueError):
                raise LightRetrieverError(f"{file}:{line_no}: bad qrels row {row!r}") from None
            qrels.setdefault(qid, {})[doc_id] = score
    return qrels


def read_queries(file: Path) -> dict[str, str]:
    if not file.is_file():
        raise LightRetrieverError(f"{file}: queries file not found")
    queries: dict[str, str] = {}
    for line_no, line in nonblank_lines(file):
        try:
            record = json.loads(line)
            queries[str(record["_id"])] = record["text"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise LightRetrieverError(f"{file}:{line_no}: not a query record with _id and text") from None
    return queries


def qrels_path(path: Path, split: str) -> Path:
    """`<split>.tsv`, or `<split>_binary.tsv` when the graded file holds negative codes (Cranfield's -1)."""
    graded = path / "qrels" / f"{split}.tsv"
    binary = path / "qrels" / f"{split}_binary.tsv"
    if (
        binary.is_file()
        and graded.is_file()
        and any(score < 0 for docs in read_qrels(graded).values() for score in docs.values())
    ):
        log.info("%s has negative relevance codes; using %s", graded, binary.name)
        return binary
    return graded


def load_dataset(path: str | Path, split: str = "test", qrels_file: str | Path | None = None) -> Dataset:
    path = Path(path)
    if not path.is_dir():
        raise LightRetrieverError(f"{path}: dataset directory not found")
    file = Path(qrels_file) if qrels_file else qrels_path(path, split)
    qrels = read_qrels(file)
    all_queries = read_queries(path / "queries.jsonl")
    missing = [qid for qid in qrels if qid not in all_queries]
    if missing:
        raise LightRetrieverError(
            f"{file}: {len(missing)} judged query ids not in queries.jsonl, e.g. {missing[:3]}"
        )
    queries = {qid: text for qid, text in all_queries.items() if qid in qrels}
    return Dataset(path.name, path, split, file, queries, qrels)
