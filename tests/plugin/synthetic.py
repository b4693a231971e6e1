"""A small synthetic index for plugin tests (random unit vectors, MiniLM ids of a few words): no torch."""

from __future__ import annotations

import numpy as np
from opensearchpy import helpers

WORDS = ["cancer", "protein", "cell", "gene", "mouse", "tumor", "growth", "receptor"]
WORD_IDS = [4456, 5250, 3526, 4962, 8000, 13656, 3930, 10769]  # MiniLM ids of WORDS


def index_synthetic(client, name: str, dim: int, docs: int = 20, seed: int = 0, shards: int = 1, replicas: int = 0,
                    **settings) -> None:
    client.indices.create(index=name, body={
        "settings": {"index": {"knn": True, "number_of_shards": shards, "number_of_replicas": replicas, **settings}},
        "mappings": {"properties": {
            "dense": {"type": "knn_vector", "dimension": dim, "method": {"name": "hnsw", "engine": "lucene", "space_type": "innerproduct"}},
            "sparse": {"type": "rank_features"}, "title": {"type": "text"}, "text": {"type": "text"},
            "doc_id": {"type": "keyword"}, "metadata": {"properties": {"group": {"type": "keyword"}}}}}})
    rng = np.random.default_rng(seed)
    actions = []
    for i in range(docs):
        v = rng.standard_normal(dim).astype(np.float32)
        v /= np.linalg.norm(v)
        actions.append({"_index": name, "_id": f"d{i}", "_source": {
            "doc_id": f"d{i}", "title": f"doc {i}", "text": " ".join(rng.choice(WORDS, 6)), "dense": v.tolist(),
            "sparse": {str(t): float(rng.random() + 0.1) for t in rng.choice(WORD_IDS, 3)},
            "metadata": {"group": "a" if i % 2 else "b"}}})
    helpers.bulk(client, actions, refresh=True)
