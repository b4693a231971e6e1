"""Hard negatives: BM25 through OpenSearch, and optionally the current model's dense retrieval.

Only the queries of the examples passed in are sent, so mining on the train split never touches test
queries. Every relevant document of a query (`Example.positive_ids`) is dropped from its candidates.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import numpy as np
from opensearchpy import helpers

from lightretriever.errors import QueryError
from lightretriever.train.pairs import Doc, Example

log = logging.getLogger(__name__)

TEXT_INDEX_BODY = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 0},
    "mappings": {"properties": {"doc_id": {"type": "keyword"}, "title": {"type": "text"}, "text": {"type": "text"}}},
}


def ensure_text_index(client, index: str, corpus: dict[str, Doc]) -> None:
    """Create a BM25-only index of the corpus (title, text) when `index` does not exist yet."""
    if client.indices.exists(index=index):
        return
    client.indices.create(index=index, body=TEXT_INDEX_BODY)
    actions = ({"_index": index, "_id": d.doc_id, "_source": {"doc_id": d.doc_id, "title": d.title, "text": d.text}}
               for d in corpus.values())
    helpers.bulk(client, actions, chunk_size=500, refresh="wait_for")
    log.info("indexed %d documents into %s for BM25 mining", len(corpus), index)


def _by_query(examples: list[Example]) -> dict[str, list[Example]]:
    groups: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        groups[ex.query_id].append(ex)
    return groups


def mine_bm25(client, index: str, examples: list[Example], depth: int = 30,
              corpus: dict[str, Doc] | None = None, batch: int = 64) -> int:
    """Set each example's negatives to the top-`depth` BM25 hits of its query minus its positives.

    Returns the number of queries mined. Documents come from `corpus` when given, else from `_source`.
    """
    if not client.indices.exists(index=index):
        raise QueryError(f"BM25 mining index {index!r} does not exist")
    groups = _by_query(examples)
    qids = list(groups)
    for start in range(0, len(qids), batch):
        chunk = qids[start:start + batch]
        body = []
        for qid in chunk:
            positives = groups[qid][0].positive_ids | {ex.positive.doc_id for ex in groups[qid]}
            body.append({"index": index})
            body.append({
                "size": depth + len(positives), "_source": ["title", "text"],
                "query": {"multi_match": {"query": groups[qid][0].query, "fields": ["title", "text"]}},
            })
        responses = client.msearch(body=body)["responses"]
        for qid, resp in zip(chunk, responses):
            if "error" in resp:
                raise QueryError(f"BM25 mining failed for query {qid}: {resp['error']}")
            positives = groups[qid][0].positive_ids | {ex.positive.doc_id for ex in groups[qid]}
            negatives = []
            for hit in resp["hits"]["hits"]:
                if hit["_id"] in positives:
                    continue
                if corpus is not None and hit["_id"] in corpus:
                    negatives.append(corpus[hit["_id"]])
                else:
                    src = hit.get("_source", {})
                    negatives.append(Doc(hit["_id"], src.get("title", ""), src.get("text", "")))
            for ex in groups[qid]:
                ex.negatives = negatives[:depth]
    return len(qids)


def mine_dense(model, examples: list[Example], corpus: dict[str, Doc], depth: int = 30,
               batch_size: int = 32) -> int:
    """Replace negatives by the current model's top-`depth` full-dense hits (exact inner product)."""
    docs = list(corpus.values())
    doc_vecs = model.encode_documents_dense(docs, batch_size=batch_size)
    groups = _by_query(examples)
    qids = list(groups)
    q_vecs = model.encode_queries_dense([groups[q][0].query for q in qids], batch_size=batch_size)
    scores = q_vecs @ doc_vecs.T
    for row, qid in enumerate(qids):
        positives = groups[qid][0].positive_ids | {ex.positive.doc_id for ex in groups[qid]}
        order = np.argsort(-scores[row], kind="stable")
        negatives = [docs[i] for i in order[: depth + len(positives)] if docs[i].doc_id not in positives][:depth]
        for ex in groups[qid]:
            ex.negatives = negatives
    return len(qids)
