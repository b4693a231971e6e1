"""Unit-test doubles: a deterministic encoder and a small in-memory stand-in for the OpenSearch calls a job
makes. They test the job's own logic (ordering, checkpoints, dead letters); the real node tests prove it works."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np


@dataclass
class FakeEncoding:
    dense: np.ndarray
    sparse: dict[str, float]
    n_tokens: int
    truncated: bool


class FakeEncoder:
    """dense: a unit vector seeded by the text hash; sparse: word-hash ids with counts; truncated past max_words."""

    def __init__(self, dim: int = 8, max_words: int = 50, fail_on: str | None = None):
        self.dim = dim
        self.max_words = max_words
        self.fail_on = fail_on
        self.calls = 0
        self.texts: list[str] = []

    def encode_documents(self, texts):
        self.calls += 1
        out = []
        for text in texts:
            if self.fail_on and self.fail_on in text:
                raise ValueError(f"cannot encode text containing {self.fail_on!r}")
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            v = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
            words = text.split()
            sparse: dict[str, float] = {}
            for w in words[: self.max_words]:
                key = str(int.from_bytes(hashlib.md5(w.encode()).digest()[:2], "little"))
                sparse[key] = sparse.get(key, 0.0) + 1.0
            out.append(FakeEncoding(v / np.linalg.norm(v), sparse, min(len(words), self.max_words),
                                    len(words) > self.max_words))
            self.texts.append(text)
        return out


class _Indices:
    def __init__(self, store):
        self.store = store

    def exists(self, index):
        return index in self.store.docs

    def get_mapping(self, index):
        return {index: {"mappings": {"properties": {"dense": {"type": "knn_vector", "dimension": self.store.dim}}}}}

    def refresh(self, index):
        return {}


class FakeClient:
    """bulk/count/indices.exists|get_mapping|refresh only; `reject` maps doc id -> (status, error type)."""

    def __init__(self, index: str, dim: int = 8, reject: dict | None = None):
        self.dim = dim
        self.docs: dict[str, dict] = {index: {}}
        self.reject = reject or {}
        self.requests = 0
        self.indices = _Indices(self)

    def bulk(self, body, index):
        self.requests += 1
        lines = body.decode("utf-8").splitlines()
        items = []
        for header, source in zip(lines[::2], lines[1::2]):
            meta = json.loads(header)["index"]
            doc_id = meta["_id"]
            if doc_id in self.reject:
                status, kind = self.reject[doc_id]
                items.append({"index": {"_id": doc_id, "status": status, "error": {"type": kind, "reason": "x"}}})
                continue
            store = self.docs[meta["_index"]]
            result = "updated" if doc_id in store else "created"
            store[doc_id] = json.loads(source)
            items.append({"index": {"_id": doc_id, "status": 201 if result == "created" else 200, "result": result}})
        return {"errors": False, "items": items}

    def count(self, index):
        return {"count": len(self.docs[index])}
