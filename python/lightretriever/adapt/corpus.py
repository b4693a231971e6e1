"""The ingested corpus as adaptation sees it: stored title/text and dense vectors, read from the index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lightretriever.errors import LightRetrieverError
from lightretriever.mappings import DENSE_FIELD


@dataclass
class IndexCorpus:
    index: str
    ids: list[str]
    titles: list[str]
    texts: list[str]
    dense: np.ndarray | None  # float32 [n, dim], the stored (L2-normalised) document vectors

    def __len__(self) -> int:
        return len(self.ids)

    def full_texts(self) -> list[str]:
        return [f"{t} {x}".strip() for t, x in zip(self.titles, self.texts, strict=True)]


def read_index(client, index: str, *, with_dense: bool = True, progress: bool = True) -> IndexCorpus:
    """Every document of `index` (passages count as documents), in doc_id order.

    Pages with search_after on `doc_id`, not a scroll: on k-NN 3.5.0.0, reading a derived-source vector
    (`dense`) through a scroll context leaves the index's segment input closed afterwards
    ("already_closed_exception" on every later read of `dense`)."""
    fields = ["title", "text"] + ([DENSE_FIELD] if with_dense else [])
    rows = []
    after = None
    bar = tqdm(desc=f"read {index}", unit="doc", disable=not progress)
    while True:
        body = {"size": 500, "query": {"match_all": {}}, "sort": [{"doc_id": "asc"}], "_source": fields,
                "track_total_hits": False}
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=index, body=body)["hits"]["hits"]
        for hit in hits:
            src = hit.get("_source") or {}
            rows.append((hit["_id"], src.get("title") or "", src.get("text") or "", src.get(DENSE_FIELD)))
        bar.update(len(hits))
        if len(hits) < 500:
            break
        after = hits[-1]["sort"]
    bar.close()
    if not rows:
        raise LightRetrieverError(f"index {index!r} holds no documents: nothing to adapt to")
    dense = None
    if with_dense:
        missing = [r[0] for r in rows if r[3] is None]
        if missing:
            raise LightRetrieverError(f"index {index!r}: {len(missing)} documents have no stored {DENSE_FIELD!r} "
                                      f"vector (e.g. {missing[0]!r}); adapt needs them")
        dense = np.asarray([r[3] for r in rows], dtype=np.float32)
    return IndexCorpus(index, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], dense)


def index_identity(client, index: str) -> dict:
    """What a cached copy of `index` must match: its name, document count, and per concrete index its uuid
    (new on every re-creation) and the document encoder its `_meta` records. A corpus re-ingested under the
    same name, with as many documents (e.g. once more with a trained bundle), is then read again instead of
    adapting the new table to the old document vectors."""
    from lightretriever.mappings import recorded_document_encoders

    settings = client.indices.get_settings(index=index, name="index.uuid")
    encoders = recorded_document_encoders(client, index)
    return {"index": index, "count": int(client.count(index=index)["count"]),
            "indices": {name: {"uuid": body["settings"]["index"]["uuid"], "document_encoder": encoders.get(name)}
                        for name, body in sorted(settings.items())}}


def read_index_cached(client, index: str, cache: Path, *, with_dense: bool = True,
                      progress: bool = True) -> IndexCorpus:
    """read_index, kept in `cache` (.npz) so a resumed or repeated run reads the index once; reused only while
    `index_identity` is unchanged."""
    import json

    identity = index_identity(client, index)
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        meta = json.loads(str(data["meta"]))
        if meta == identity and (not with_dense or "dense" in data):
            ids, titles, texts = ([str(x) for x in data[key]] for key in ("ids", "titles", "texts"))
            return IndexCorpus(index, ids, titles, texts,
                               data.get("dense"))
    corpus = read_index(client, index, with_dense=with_dense, progress=progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"ids": np.asarray(corpus.ids), "titles": np.asarray(corpus.titles), "texts": np.asarray(corpus.texts),
              "meta": np.asarray(json.dumps(identity))}
    if corpus.dense is not None:
        arrays["dense"] = corpus.dense
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(cache)
    return corpus
