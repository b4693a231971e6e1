"""Validation: every malformed kind is rejected with its reason; valid records become Documents."""

from __future__ import annotations

import pytest

from lightretriever.errors import RecordError
from lightretriever.ingest.records import FieldMap, RawRecord
from lightretriever.ingest.sources.beir import BEIR_FIELDS
from lightretriever.ingest.validate import Limits, Validator

from .malformed import MALFORMED, MAX_RECORD_BYTES, VALID


@pytest.fixture
def validator():
    return Validator(BEIR_FIELDS, Limits(max_record_bytes=MAX_RECORD_BYTES), schema_check=None)


def test_at_least_twenty_kinds():
    assert len(MALFORMED) >= 20
    assert len({raw for _, raw, _ in MALFORMED}) == len(MALFORMED)


@pytest.mark.parametrize("label,raw,reason", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_rejected_with_reason(validator, label, raw, reason):
    with pytest.raises(RecordError) as info:
        validator(RawRecord(7, raw))
    assert reason in str(info.value)


def test_valid_record_becomes_document(validator):
    import json

    doc = validator(RawRecord(3, json.dumps({**VALID[0], "metadata": {"year": 2020}}).encode()))
    assert (doc.doc_id, doc.title, doc.position, doc.metadata) == ("ok0", "Title 0", 3, {"year": 2020})


def test_integer_id_and_metadata_fields():
    validator = Validator(FieldMap(id="id", metadata=("year",)), Limits(), schema_check=None)
    doc = validator(RawRecord(1, b'{"id": 17, "text": "t", "year": 1999}'))
    assert doc.doc_id == "17" and doc.metadata == {"year": 1999} and doc.title == ""


def test_precomputed_vectors_checked():
    validator = Validator(BEIR_FIELDS, Limits(precomputed=True, dense_dim=3), schema_check=None)
    ok = validator(RawRecord(1, b'{"_id": "a", "text": "t", "dense": [0.1, 0.2, 0.3], "sparse": {"7": 1.5}}'))
    assert ok.dense == [0.1, 0.2, 0.3] and ok.sparse == {"7": 1.5}
    for bad, reason in [
        (b'{"_id": "a", "text": "t", "dense": [0.1, 0.2], "sparse": {}}', "has 2 values"),
        (b'{"_id": "a", "text": "t", "dense": [0.1, 0.2, 0.3], "sparse": {"x": 1}}', "sparse entry 'x'"),
        (b'{"_id": "a", "text": "t", "dense": [0.1, 0.2, 0.3], "sparse": {"7": 0}}', "sparse entry '7'"),
        (b'{"_id": "a", "text": "t", "sparse": {}}', "'dense' must be"),
        (b'{"_id": "a", "text": "t", "dense": [0.1, true, 0.3], "sparse": {}}', "'dense' must be"),
        (b'{"_id": "a", "text": "t", "dense": [0.1, "x", 0.3], "sparse": {}}', "'dense' must be"),
        (b'{"_id": "a", "text": "t", "dense": [0.1, [0.2], 0.3], "sparse": {}}', "'dense' must be"),
    ]:
        with pytest.raises(RecordError, match=reason):
            validator(RawRecord(1, bad))


def test_schema_check_errors_become_record_errors():
    def schema(document):
        if "forbidden" in document["text"]:
            raise ValueError("text matches a forbidden pattern")

    validator = Validator(BEIR_FIELDS, Limits(), schema_check=schema)
    assert validator(RawRecord(1, b'{"_id": "a", "text": "fine"}')).doc_id == "a"
    with pytest.raises(ValueError):  # a custom check is called as is
        validator(RawRecord(2, b'{"_id": "b", "text": "forbidden"}'))


@pytest.mark.parametrize(
    "record",
    [
        {"_id": "t1", "title": "Only a title"},
        {"_id": "t2", "title": "Title, null body", "text": None},
        {"_id": "t3", "title": "Title, blank body", "text": " \n"},
        {"_id": "t4", "title": "Title, body in metadata", "metadata": {"body": "kept elsewhere"}},
        {"_id": "t5", "title": "", "text": "Only a body"},
    ],
)
def test_title_or_text_is_enough(record):
    import json

    validator = Validator(BEIR_FIELDS, Limits())  # with the JSON Schema of mappings/
    doc = validator(RawRecord(1, json.dumps(record).encode()))
    assert doc.doc_id == record["_id"] and (doc.title.strip() or doc.text.strip())
    assert doc.title == record.get("title") and doc.text == (record.get("text") or "")


def test_schema_wants_a_title_or_a_text():
    from lightretriever.mappings import validate_document

    validate_document({"doc_id": "a", "title": "T", "text": ""})
    validate_document({"doc_id": "a", "text": "body"})
    for bad in ({"doc_id": "a", "title": " ", "text": "\t"}, {"doc_id": "a", "title": None, "text": ""}):
        with pytest.raises(RecordError, match="document 'a'"):
            validate_document(bad)
