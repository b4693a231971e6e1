"""Documents -> index bodies with `dense` and `sparse`, through any object with `encode_documents(texts)`.

The encoder returns one result per text with `dense` (sequence of floats), `sparse` ({token id:
weight}), `n_tokens` and `truncated`. With --precomputed the vectors come from the records.
A batch that fails is retried one document at a time so a single bad text is dead-lettered
instead of stopping the job; if every document fails the encoder itself is broken and the job stops.
The batch's own error is logged and counted (`Encoded.batch_failures`) even when every retry succeeds:
a CUDA out-of-memory error must not silently turn into slow per-document encoding.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from lightretriever.errors import LightRetrieverError
from lightretriever.ingest.records import Document, Rejection
from lightretriever.ingest.validate import index_fields

log = logging.getLogger(__name__)

# rank_features accepts positive normal float32 values only.
MIN_FEATURE = float(np.finfo(np.float32).tiny)


class Encoder(Protocol):
    def encode_documents(self, texts: Sequence[str]) -> Sequence[Any]: ...


@dataclass
class Encoded:
    bodies: list[tuple[Document, bytes]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    truncated: int = 0
    batch_failures: int = 0  # batches that failed as a whole and were retried one document at a time


def join_text(doc: Document) -> str:
    from lightretriever.encode.text import document_text

    return document_text(doc.title, doc.text)


def dense_list(dense: Any) -> list[float]:
    # 8 decimals keep float32 precision for unit vectors and halve the JSON size of full reprs.
    return np.round(np.asarray(dense, dtype=np.float64).reshape(-1), 8).tolist()


def sparse_dict(sparse: Any) -> dict[str, float]:
    items = sparse.items() if hasattr(sparse, "items") else sparse
    out = {}
    for key, weight in items:
        weight = float(weight)
        if weight >= MIN_FEATURE and math.isfinite(weight):
            out[str(int(key))] = weight
    return out


def body_bytes(doc: Document, dense: Any, sparse: Any) -> bytes:
    body = index_fields(doc)
    body["dense"] = dense_list(dense)
    body["sparse"] = sparse_dict(sparse)
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


class EncoderBroken(LightRetrieverError):
    """Every document of a batch failed to encode: the model, not the data, is at fault."""


def encode_batch(encoder: Encoder | None, docs: list[Document]) -> Encoded:
    out = Encoded()
    if encoder is None:  # --precomputed
        for doc in docs:
            out.bodies.append((doc, body_bytes(doc, doc.dense, doc.sparse)))
        return out
    texts = [join_text(doc) for doc in docs]
    try:
        results = list(encoder.encode_documents(texts))
        if len(results) != len(docs):
            raise LightRetrieverError(f"encoder returned {len(results)} results for {len(docs)} texts")
        pairs: list[tuple[Document, Any] | tuple[Document, Exception]] = list(zip(docs, results))
    except Exception as batch_exc:
        out.batch_failures = 1
        log.warning("encoding a batch of %d documents failed (%s: %s); retrying them one at a time",
                    len(docs), type(batch_exc).__name__, batch_exc)
        pairs = []
        for doc, text in zip(docs, texts):
            try:
                pairs.append((doc, encoder.encode_documents([text])[0]))
            except Exception as exc:  # noqa: BLE001 - recorded as this document's reason
                pairs.append((doc, exc))
        if all(isinstance(result, Exception) for _, result in pairs):
            raise EncoderBroken(f"encoder failed on every document of a batch: {batch_exc}") from batch_exc
    for doc, result in pairs:
        if isinstance(result, Exception):
            out.rejections.append(
                Rejection(doc.position, f"encoding failed: {result}", doc.raw, doc_id=doc.doc_id)
            )
            continue
        out.truncated += bool(getattr(result, "truncated", False))
        try:
            out.bodies.append((doc, body_bytes(doc, result.dense, result.sparse)))
        except (ValueError, TypeError) as exc:  # NaN/inf in a vector
            out.rejections.append(
                Rejection(doc.position, f"encoder output not indexable: {exc}", doc.raw, doc_id=doc.doc_id)
            )
    return out
