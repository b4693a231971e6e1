"""A SciFact sub-corpus encoded once per bundle and cached on disk, then bulk-indexed for the parity test.

The sub-corpus is every document judged in qrels/test.tsv plus the first FIRST_DOCS of corpus.jsonl (about
1,100 documents): plugin-vs-Python parity does not depend on corpus size, and encoding all 5,183 documents
costs CI tens of minutes on 2 cores. Cache: ~/.cache/lightretriever/encoded/scifact-<key>/ (override
LIGHTRETRIEVER_ENCODED_CACHE), key = hash of the bundle's checksums and settings and of the subset rule;
dense.npy (float32 [N, D]) + docs.jsonl (id, title, text, sparse).
Run directly (`python tests/plugin/corpus.py BUNDLE SCIFACT_DIR`) to warm the cache outside pytest.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np


def cache_root() -> Path:
    default = Path.home() / ".cache" / "lightretriever" / "encoded"
    return Path(os.environ.get("LIGHTRETRIEVER_ENCODED_CACHE", default))


FIRST_DOCS = 700


def bundle_key(bundle_dir: Path, subset: str) -> str:
    manifest = json.loads((Path(bundle_dir) / "manifest.json").read_text(encoding="utf-8"))
    keep = {k: manifest.get(k) for k in ("files", "max_length", "sparse", "prompts", "pooling", "backbone")}
    return hashlib.sha256((json.dumps(keep, sort_keys=True) + subset).encode()).hexdigest()[:16]


def sub_corpus(dataset_dir: Path, first: int = FIRST_DOCS, judged_split: str = "test") -> list[dict]:
    """Documents judged in `judged_split` plus the first `first` documents, in corpus order."""
    judged = set()
    with open(dataset_dir / "qrels" / f"{judged_split}.tsv", encoding="utf-8") as fh:
        next(fh)
        judged = {line.split("\t")[1] for line in fh if line.strip()}
    records = []
    with open(dataset_dir / "corpus.jsonl", encoding="utf-8") as fh:
        for position, line in enumerate(fh):
            if line.strip():
                record = json.loads(line)
                if position < first or str(record["_id"]) in judged:
                    records.append(record)
    return records


def encoded_corpus(bundle_dir: Path, dataset_dir: Path, first: int = FIRST_DOCS, name: str = "scifact") -> Path:
    """Directory with dense.npy and docs.jsonl for the sub-corpus, encoded with the bundle (cached)."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    out = root / f"{name}-{bundle_key(bundle_dir, f'first={first};judged=test')}"
    with open(root / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "done").is_file():
            _encode(bundle_dir, sub_corpus(dataset_dir, first), out)
    return out


def _encode(bundle_dir: Path, records: list[dict], out: Path) -> None:
    from tqdm import tqdm

    from lightretriever.bundle import Bundle
    from lightretriever.encode.document import DocumentEncoder
    from lightretriever.encode.text import document_text

    encoder = DocumentEncoder.from_bundle(Bundle.load(bundle_dir), batch_size=32)
    out.mkdir(parents=True, exist_ok=True)
    dense = []
    with open(out / "docs.jsonl", "w", encoding="utf-8") as fh:
        for start in tqdm(range(0, len(records), 256), desc=f"encoding {out.name}", unit="x256 docs"):
            batch = records[start : start + 256]
            encodings = encoder.encode_documents([document_text(r.get("title"), r.get("text")) for r in batch])
            for record, enc in zip(batch, encodings):
                dense.append(np.asarray(enc.dense, dtype=np.float32))
                row = {"id": str(record["_id"]), "title": record.get("title", ""), "text": record.get("text", ""), "sparse": enc.sparse}
                fh.write(json.dumps(row) + "\n")
    np.save(out / "dense.npy", np.stack(dense))
    (out / "done").write_text("ok\n")


def index_corpus(client, index: str, encoded: Path, dense_dim: int, shards: int = 1) -> int:
    """Create `index` (design.md mapping, `shards` primaries) and bulk-load the encoded corpus; returns the doc count."""
    from opensearchpy import helpers

    try:
        from lightretriever.mappings import create_index
    except ModuleNotFoundError:
        create_index = None
    if create_index is not None:
        create_index(client, index, dense_dim, shards=shards)
    else:  # the foundation's mappings module is not there yet: the same fields, inline
        client.indices.create(index=index, body={
            "settings": {"index": {"knn": True, "number_of_shards": shards, "number_of_replicas": 0}},
            "mappings": {"properties": {
                "dense": {"type": "knn_vector", "dimension": dense_dim,
                          "method": {"name": "hnsw", "engine": "lucene", "space_type": "innerproduct"}},
                "sparse": {"type": "rank_features"}, "title": {"type": "text"}, "text": {"type": "text"},
                "doc_id": {"type": "keyword"}, "metadata": {"type": "object"}}}})
    dense = np.load(encoded / "dense.npy")

    def actions():
        with open(encoded / "docs.jsonl", encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                row = json.loads(line)
                yield {"_index": index, "_id": row["id"], "_source": {
                    "doc_id": row["id"], "title": row["title"], "text": row["text"],
                    "dense": dense[i].tolist(), "sparse": row["sparse"]}}

    ok, errors = helpers.bulk(client, actions(), chunk_size=200, raise_on_error=False, request_timeout=300)
    if errors:
        raise RuntimeError(f"bulk indexing {index}: {len(errors)} errors, first: {errors[0]}")
    client.indices.refresh(index=index)
    client.indices.forcemerge(index=index, max_num_segments=1, request_timeout=600)  # one segment: exact-equal HNSW runs
    return ok


if __name__ == "__main__":
    print(encoded_corpus(Path(sys.argv[1]), Path(sys.argv[2])))
