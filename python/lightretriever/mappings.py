"""Index body and JSON Schemas from the repository's mappings/ directory."""

from __future__ import annotations

import copy
import json
import os
import sysconfig
from functools import cache
from pathlib import Path
from typing import Any

from lightretriever.errors import MappingError, RecordError

DENSE_FIELD = "dense"
META_KEY = "lightretriever"  # mapping _meta section
ENCODER_META = "document_encoder"  # its key: lightretriever.bundle.identity.document_encoder_id
# its key: the precisions the document encoder ran in (["float32"], ["bfloat16"], ...). Not part of the
# identity: the same weights in bfloat16 give encodings within rounding of float32's (docs/results.md)
DTYPES_META = "document_dtypes"


def mappings_dir() -> Path:
    """$LIGHTRETRIEVER_MAPPINGS, else <repo>/mappings (run from a clone or an editable install), else the
    copy a wheel installs under <prefix>/share/lightretriever/mappings (pyproject's data-files)."""
    if os.environ.get("LIGHTRETRIEVER_MAPPINGS"):
        candidates = [Path(os.environ["LIGHTRETRIEVER_MAPPINGS"])]
    else:
        candidates = [
            Path(__file__).resolve().parents[2] / "mappings",
            Path(sysconfig.get_path("data")) / "share" / "lightretriever" / "mappings",
        ]
    for path in candidates:
        if (path / "index.json").is_file():
            return path
    raise MappingError(
        f"no mappings directory with index.json in {', '.join(map(str, candidates))}; set LIGHTRETRIEVER_MAPPINGS"
    )


@cache
def _load(name: str) -> dict:
    path = mappings_dir() / name
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MappingError(f"cannot read {path}: {exc}") from exc


def index_body(
    dense_dim: int, *, m: int = 16, ef_construction: int = 128, shards: int = 1, replicas: int = 0
) -> dict[str, Any]:
    """mappings/index.json with the model's dimension and the HNSW / shard parameters filled in."""
    if not isinstance(dense_dim, int) or isinstance(dense_dim, bool) or not 1 <= dense_dim <= 16000:
        raise MappingError(f"dense dimension must be an integer in 1..16000, got {dense_dim!r}")
    for name, value, low in (("m", m, 2), ("ef_construction", ef_construction, 2), ("shards", shards, 1)):
        if not isinstance(value, int) or value < low:
            raise MappingError(f"{name} must be an integer >= {low}, got {value!r}")
    if not isinstance(replicas, int) or replicas < 0:
        raise MappingError(f"replicas must be an integer >= 0, got {replicas!r}")
    body = copy.deepcopy(_load("index.json"))
    body["settings"]["index"].update(number_of_shards=shards, number_of_replicas=replicas)
    dense = body["mappings"]["properties"][DENSE_FIELD]
    dense["dimension"] = dense_dim
    dense["method"]["parameters"].update(m=m, ef_construction=ef_construction)
    return body


def dense_dimension(client: Any, name: str) -> dict[str, int | None]:
    """{concrete index: dimension of its `dense` knn_vector (None when it has none)} for an index or alias."""
    found = {}
    for index, body in client.indices.get_mapping(index=name).items():
        dense = body.get("mappings", {}).get("properties", {}).get(DENSE_FIELD, {})
        found[index] = int(dense["dimension"]) if dense.get("type") == "knn_vector" else None
    return found


def cluster_layout(client: Any) -> dict[str, int]:
    """Shards and replicas of a new index on this cluster: one primary per data node (every node shares the
    indexing and search work) and, when there is another node to hold it, one replica (an index survives the
    loss of any one node). A single node keeps mappings/index.json's 1 shard and 0 replicas."""
    data_nodes = int(client.cluster.health()["number_of_data_nodes"])
    if data_nodes <= 1:
        return {"shards": 1, "replicas": 0}
    return {"shards": data_nodes, "replicas": 1}


def create_index(client: Any, name: str, dense_dim: int, *, encoder_id: str | None = None,
                 dtype: str | None = None, **params: Any) -> bool:
    """Create `name` from mappings/ (True), or accept an existing one whose dimension matches (False).

    `shards`/`replicas` not given come from the cluster's size (cluster_layout). `encoder_id`
    (lightretriever.bundle.identity) and the encoder's precision `dtype` are recorded in the mapping's
    `_meta`; an existing index or alias that records another encoder id, or has another dimension, or no
    knn_vector `dense`, raises MappingError (another precision does not: see record_document_dtype).
    """
    from opensearchpy.exceptions import RequestError

    if not client.indices.exists(index=name):
        layout = {} if {"shards", "replicas"} <= params.keys() else cluster_layout(client)
        body = index_body(dense_dim, **{**layout, **params})
        meta = {ENCODER_META: encoder_id} if encoder_id else {}
        if dtype:
            meta[DTYPES_META] = [dtype]
        if meta:
            body["mappings"]["_meta"] = {META_KEY: meta}
        try:
            client.indices.create(index=name, body=body)
            return True
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":  # else: created concurrently, check it
                raise MappingError(f"OpenSearch refused to create index {name!r}: {exc.info}") from exc
    for index, dim in dense_dimension(client, name).items():
        if dim is None:
            raise MappingError(f"index {index!r} exists but has no knn_vector field {DENSE_FIELD!r}")
        if dim != dense_dim:
            raise MappingError(
                f"index {index!r} has dense dimension {dim}, but the model produces {dense_dim}: "
                "use another index name or re-create the index for this model"
            )
    if encoder_id:
        check_document_encoder(client, name, encoder_id)
    if dtype:
        record_document_dtype(client, name, dtype)
    return False


def recorded_document_encoders(client: Any, name: str) -> dict[str, str | None]:
    """{concrete index: the document-encoder id its mapping `_meta` records (None: written before ids were
    recorded, or by another tool)} for an index or alias; empty when there is none (the caller's own request
    then reports the missing index in its usual words)."""
    return _encoders_in(_mapping_meta(client, name))


async def recorded_document_encoders_async(client: Any, name: str) -> dict[str, str | None]:
    """`recorded_document_encoders` through opensearch-py's AsyncOpenSearch."""
    from opensearchpy.exceptions import NotFoundError

    try:
        return _encoders_in(_metas(await client.indices.get_mapping(index=name)))
    except NotFoundError:
        return {}


def _encoders_in(metas: dict[str, dict]) -> dict[str, str | None]:
    return {index: (meta.get(META_KEY) or {}).get(ENCODER_META) for index, meta in metas.items()}


def _mapping_meta(client: Any, name: str) -> dict[str, dict]:
    """{concrete index: its mapping's whole `_meta` ({} when none)} for an index or alias; {} when there is none."""
    from opensearchpy.exceptions import NotFoundError

    try:
        return _metas(client.indices.get_mapping(index=name))
    except NotFoundError:
        return {}


def _metas(mappings: dict) -> dict[str, dict]:
    return {index: body.get("mappings", {}).get("_meta") or {} for index, body in mappings.items()}


def recorded_document_dtypes(client: Any, name: str) -> dict[str, list[str] | None]:
    """{concrete index: the precisions its documents were encoded in (None: not recorded)}."""
    return {index: (meta.get(META_KEY) or {}).get(DTYPES_META) for index, meta in _mapping_meta(client, name).items()}


def record_document_dtype(client: Any, name: str, dtype: str) -> None:
    """Add `dtype` to the precisions an existing index records, warning when it mixes two.

    The same weights in another precision write encodings within rounding of the recorded ones, so this
    never refuses; the record says the index holds both. An index that records no precision (written before
    they were recorded) is left as it is: what its other documents were encoded in is unknown.
    """
    import logging

    for index, whole in _mapping_meta(client, name).items():
        meta = whole.get(META_KEY) or {}
        recorded = meta.get(DTYPES_META)
        if recorded is None or dtype in recorded:
            continue
        logging.getLogger(__name__).warning(
            "index %s holds documents encoded in %s; this job encodes in %s (same weights, encodings differ "
            "by rounding)", index, ", ".join(recorded), dtype,
        )
        # a mapping update replaces the whole _meta: keep every other key
        updated = {**whole, META_KEY: {**meta, DTYPES_META: sorted({*recorded, dtype})}}
        client.indices.put_mapping(index=index, body={"_meta": updated})


def check_document_encoder(client: Any, name: str, encoder_id: str) -> list[str]:
    """MappingError when an index behind `name` records a document encoder other than `encoder_id`.

    Returns the indices that record none (legacy): callers may warn, since their vectors cannot be checked.
    """
    return judge_document_encoders(recorded_document_encoders(client, name), encoder_id)


def judge_document_encoders(recorded: dict[str, str | None], encoder_id: str) -> list[str]:
    """`check_document_encoder` on ids already read ({index: recorded id or None})."""
    unchecked = []
    for index, found in recorded.items():
        if found is None:
            unchecked.append(index)
        elif found != encoder_id:
            raise MappingError(
                f"index {index!r} was written by document encoder {found[:12]}…, but the bundle's document "
                f"encoder is {encoder_id[:12]}…: its query side does not match these document vectors; use the "
                "bundle the index was ingested (or adapted) with, or re-ingest the corpus with this bundle"
            )
    return unchecked


@cache
def _validator(schema_file: str):
    from jsonschema import Draft202012Validator

    schema = _load(schema_file)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _first_error(schema_file: str, value: Any) -> str | None:
    errors = sorted(_validator(schema_file).iter_errors(value), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    error = errors[0]
    where = "/".join(str(p) for p in error.absolute_path) or "(document)"
    return f"{where}: {error.message}"


def validate_document(record: Any) -> None:
    """Raise RecordError naming the document and the first problem (mappings/document.schema.json)."""
    problem = _first_error("document.schema.json", record)
    if problem:
        doc_id = record.get("doc_id") if isinstance(record, dict) else None
        raise RecordError(f"document {doc_id!r}: {problem}" if doc_id else f"document: {problem}")

