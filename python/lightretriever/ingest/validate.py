"""Turn a raw record into a `Document`, or raise RecordError with the reason it is rejected.

Checks, in order: size, blank line, UTF-8, JSON syntax, object shape, id, title/text/metadata
types, empty title and text, nesting depth, unencodable strings (lone surrogates), the index document JSON Schema from
`mappings/`, and (with --precomputed) the vectors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lightretriever.errors import RecordError
from lightretriever.ingest.records import Document, FieldMap, RawRecord

MAX_ID_BYTES = 512  # OpenSearch rejects longer _id values
# Far above real records (OpenSearch maps at most 20 object levels) and far below Python's recursion limit,
# which a deeper record would hit in json and in the schema check.
MAX_NESTING = 100


@dataclass(frozen=True)
class Limits:
    max_record_bytes: int = 1_000_000
    precomputed: bool = False
    dense_dim: int | None = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _type_name(value: Any) -> str:
    """JSON type with its article: "an object", "a number"."""
    name = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def decode(raw: RawRecord, limits: Limits) -> dict[str, Any]:
    """Bytes -> JSON object (sources that already yield mappings pass through)."""
    if raw.problem:
        raise RecordError(raw.problem)
    data = raw.data
    if isinstance(data, dict):
        return data
    if len(data) > limits.max_record_bytes:
        raise RecordError(f"oversized: {len(data)} bytes > limit {limits.max_record_bytes}")
    if not data.strip():
        raise RecordError("blank line")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"invalid UTF-8 at byte {exc.start}: {exc.reason}") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise RecordError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise RecordError(f"nested deeper than {MAX_NESTING} levels") from None
    if not isinstance(value, dict):
        raise RecordError(f"record is {_type_name(value)}, expected an object")
    return value


def _nesting(value: Any) -> int:
    """The nesting depth of a parsed value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth <= MAX_NESTING:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def record_id(obj: dict[str, Any], fields: FieldMap) -> str | None:
    """The id if it is usable as a label for dead letters, whether or not it is valid."""
    value = obj.get(fields.id)
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return None


def _has_escaped_bytes(value: str) -> bool:
    try:
        value.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _optional_str(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{what} field {key!r} is {_type_name(value)}, expected a string")
    return value


def to_document(obj: dict[str, Any], raw: RawRecord, fields: FieldMap, limits: Limits) -> Document:
    if fields.id not in obj:
        raise RecordError(f"missing id field {fields.id!r}")
    id_value = obj[fields.id]
    if isinstance(id_value, bool) or not isinstance(id_value, (str, int)):
        raise RecordError(f"id field {fields.id!r} is {_type_name(id_value)}, expected a string")
    doc_id = str(id_value)
    if not doc_id.strip():
        raise RecordError(f"empty id in field {fields.id!r}")
    if not _has_escaped_bytes(doc_id) and len(doc_id.encode("utf-8")) > MAX_ID_BYTES:
        raise RecordError(f"id longer than {MAX_ID_BYTES} bytes (OpenSearch _id limit)")

    # Either field may be missing, null or blank (title-only records, bodies kept in metadata), not both.
    text = _optional_str(obj, fields.text, "text")
    title = _optional_str(obj, fields.title, "title")
    if not text.strip() and not title.strip():
        raise RecordError(
            f"empty title and text: title field {fields.title!r} and text field {fields.text!r} "
            "are both missing, null or blank"
        )

    metadata = obj.get("metadata")
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict):
        raise RecordError(f"metadata is {_type_name(metadata)}, expected an object")
    metadata = dict(metadata)
    for key in fields.metadata:
        if key in obj:
            metadata[key] = obj[key]

    doc = Document(doc_id=doc_id, title=title, text=text, metadata=metadata, position=raw.position)
    if limits.precomputed:
        doc.dense, doc.sparse = _precomputed(obj, limits)
    return doc


def _precomputed(obj: dict[str, Any], limits: Limits) -> tuple[list[float], dict[str, float]]:
    dense = obj.get("dense")
    ok = isinstance(dense, list) and not any(isinstance(x, bool) for x in dense)
    if ok:
        try:
            values = np.asarray(dense, dtype=np.float64)  # numpy: this runs once per document
            ok = values.ndim == 1 and bool(np.isfinite(values).all())
        except (TypeError, ValueError):
            ok = False
    if not ok:
        raise RecordError("--precomputed: field 'dense' must be an array of finite numbers")
    if limits.dense_dim is not None and len(dense) != limits.dense_dim:
        raise RecordError(f"--precomputed: 'dense' has {len(dense)} values, the index needs {limits.dense_dim}")
    sparse = obj.get("sparse")
    if not isinstance(sparse, dict):
        raise RecordError("--precomputed: field 'sparse' must be an object {token id: weight}")
    for key, weight in sparse.items():
        if not key.isdigit() or isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise RecordError(f"--precomputed: sparse entry {key!r}: {weight!r} (need decimal id -> weight > 0)")
    return dense, sparse


def _check_encodable(doc: Document) -> None:
    """Lone surrogates (from JSON escapes or CSV bytes that are not UTF-8) cannot be sent."""
    for what, value in (("id", doc.doc_id), ("title", doc.title), ("text", doc.text)):
        if _has_escaped_bytes(value):
            raise RecordError(f"{what} is not valid UTF-8 (unpaired surrogate or undecodable bytes)")
    try:
        json.dumps(doc.metadata, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RecordError("metadata is not valid UTF-8 (unpaired surrogate or undecodable bytes)") from None
    except (TypeError, ValueError) as exc:
        raise RecordError(f"metadata cannot be serialised: {exc}") from None


class Validator:
    """Callable: RawRecord -> Document; RecordError carries the reason."""

    def __init__(self, fields: FieldMap, limits: Limits, schema_check: Callable[[dict], None] | None = None):
        self.fields = fields
        self.limits = limits
        self.schema_check = schema_check if schema_check is not None else _default_schema_check()

    def __call__(self, raw: RawRecord, obj: dict[str, Any] | None = None) -> Document:
        if obj is None:
            obj = decode(raw, self.limits)
        if _nesting(obj) > MAX_NESTING:
            raise RecordError(f"nested deeper than {MAX_NESTING} levels")
        doc = to_document(obj, raw, self.fields, self.limits)
        _check_encodable(doc)
        if isinstance(raw.data, dict):  # bytes were size-checked before parsing
            size = len(json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
            if size > self.limits.max_record_bytes:
                raise RecordError(f"oversized: {size} bytes > limit {self.limits.max_record_bytes}")
        if self.schema_check is not None:
            self.schema_check(index_fields(doc))
        return doc


def index_fields(doc: Document) -> dict[str, Any]:
    """The text part of the index document (vectors are added after encoding)."""
    return {"doc_id": doc.doc_id, "title": doc.title, "text": doc.text, "metadata": doc.metadata}


def _default_schema_check() -> Callable[[dict], None] | None:
    """The JSON Schema check from `lightretriever.mappings`, with its errors as RecordError."""
    try:
        from lightretriever.mappings import validate_document
    except ImportError:
        return None

    def check(document: dict[str, Any]) -> None:
        try:
            validate_document(document)
        except RecordError:
            raise
        except Exception as exc:  # noqa: BLE001 - the schema module's own error type
            raise RecordError(f"schema: {exc}") from None

    return check
