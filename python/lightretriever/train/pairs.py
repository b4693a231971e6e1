"""Training examples: (query, positive document, optional negatives) from a BEIR split or a JSONL file.

A BEIR split gives one example per judged (query, document) pair with score > 0. A JSONL file holds one
example per line: {"query": str, "positive": str | {"title", "text"}, "negatives": [same as positive]}
(`query_id` / ids optional). A bad line never stops the job: it goes to the dead-letter file with the
file name, line number, reason and the raw line.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from lightretriever.errors import RecordError
from lightretriever.evaluate.dataset import read_qrels, read_queries  # the one BEIR reader
from lightretriever.jsonl import nonblank_lines, read_lenient


@dataclass(frozen=True)
class Doc:
    doc_id: str
    title: str
    text: str


@dataclass
class Example:
    query_id: str
    query: str
    positive: Doc
    negatives: list[Doc] = field(default_factory=list)  # mined candidates; a step samples from them
    positive_ids: frozenset[str] = frozenset()  # every relevant doc of the query: never a negative


def read_corpus(dataset: Path) -> dict[str, Doc]:
    corpus: dict[str, Doc] = {}
    path = Path(dataset) / "corpus.jsonl"
    for n, line in nonblank_lines(path):
        try:
            rec = json.loads(line)
            corpus[str(rec["_id"])] = Doc(str(rec["_id"]), rec.get("title") or "", rec.get("text") or "")
        except (ValueError, KeyError, TypeError) as exc:
            raise RecordError(f"{path}:{n}: not a corpus record ({exc})") from exc
    return corpus


def beir_examples(dataset: Path, split: str, corpus: dict[str, Doc] | None = None) -> list[Example]:
    """One example per relevant (query, doc) pair of `split`; ids missing from corpus/queries are errors."""
    qrels_file = Path(dataset) / "qrels" / f"{split}.tsv"
    if not qrels_file.exists():
        raise RecordError(f"{qrels_file}: no qrels for split {split!r}")
    corpus = read_corpus(dataset) if corpus is None else corpus
    queries = read_queries(Path(dataset) / "queries.jsonl")
    examples = []
    for qid, judged in read_qrels(qrels_file).items():
        if qid not in queries:
            raise RecordError(f"{dataset}: qrels {split} query {qid!r} not in queries.jsonl")
        positives = frozenset(d for d, s in judged.items() if s > 0)
        for did, score in sorted(judged.items()):
            if score <= 0:
                continue
            if did not in corpus:
                raise RecordError(f"{dataset}: qrels {split} doc {did!r} (query {qid}) not in corpus.jsonl")
            examples.append(Example(qid, queries[qid], corpus[did], positive_ids=positives))
    return examples


def _as_doc(value, where: str, label: str) -> Doc:
    if isinstance(value, str) and value.strip():
        return Doc(f"{where}:{label}", "", value)
    if (isinstance(value, dict) and isinstance(value.get("text", ""), str)
            and isinstance(value.get("title", ""), str) and (value.get("text") or value.get("title") or "").strip()):
        return Doc(str(value.get("_id", value.get("id", f"{where}:{label}"))), value.get("title", ""),
                       value.get("text", ""))
    raise RecordError(f"{where}: {label} must be a non-empty string or an object with title/text")


def parse_example(line: str, where: str) -> Example:
    try:
        rec = json.loads(line)
    except ValueError as exc:
        raise RecordError(f"{where}: not valid JSON ({exc.msg})") from exc
    if not isinstance(rec, dict):
        raise RecordError(f"{where}: a line must be a JSON object")
    query = rec.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RecordError(f"{where}: 'query' must be a non-empty string")
    if "positive" not in rec:
        raise RecordError(f"{where}: missing 'positive'")
    positive = _as_doc(rec["positive"], where, "positive")
    negs = rec.get("negatives", [])
    if not isinstance(negs, list):
        raise RecordError(f"{where}: 'negatives' must be a list")
    negatives = [_as_doc(v, where, f"negatives[{i}]") for i, v in enumerate(negs)]
    return Example(str(rec.get("query_id", where)), query, positive, negatives, frozenset({positive.doc_id}))


def jsonl_examples(path: Path, dead_letters: Path | None = None) -> list[Example]:
    """Read examples; each bad line goes to `dead_letters` (JSONL; default beside `path`) with its reason."""
    path = Path(path)
    target = Path(dead_letters) if dead_letters else path.with_suffix(".dead-letters.jsonl")
    return read_lenient(path, lambda line, n: parse_example(line, f"{path.name}:{n}"), target, (RecordError,),
                        errors="surrogateescape")


def sample_negatives(example: Example, pool: list[Doc], n: int, rng: random.Random) -> list[Doc]:
    """`n` negatives for one step: sampled from the example's mined ones, topped up at random from `pool`."""
    mined = [d for d in example.negatives if d.doc_id not in example.positive_ids]
    chosen = rng.sample(mined, min(n, len(mined)))
    tries = 0
    while len(chosen) < n and pool and tries < 100 * n:
        tries += 1
        cand = pool[rng.randrange(len(pool))]
        if cand.doc_id not in example.positive_ids and cand.doc_id != example.positive.doc_id:
            chosen.append(cand)
    return chosen
