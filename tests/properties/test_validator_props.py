"""The ingest validator on arbitrary records: a Document that can be sent, or a RecordError with a reason."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from fixtures.properties import any_char, examples, json_values, nasty_text, nested, numbers, texts
from lightretriever.errors import RecordError
from lightretriever.ingest.records import RawRecord
from lightretriever.ingest.sources.beir import BEIR_FIELDS
from lightretriever.ingest.validate import MAX_NESTING, Limits, Validator, index_fields

VALIDATOR = Validator(BEIR_FIELDS, Limits(max_record_bytes=20_000))  # with the JSON Schema of mappings/

ids = st.one_of(texts, st.integers(), numbers, st.none(), st.booleans(), json_values)
fields = st.one_of(texts, st.none(), numbers, json_values)
records = st.fixed_dictionaries(
    {},
    optional={"_id": ids, "title": fields, "text": fields, "metadata": st.one_of(json_values, st.dictionaries(
        st.text(any_char, max_size=6), json_values, max_size=4)), "dense": json_values, "sparse": json_values,
        "extra": json_values},
)


def check(outcome) -> None:
    """A Document must be one the index accepts: id, a non-blank title or text, strict UTF-8 JSON."""
    doc_id = outcome.doc_id
    assert doc_id.strip() and (outcome.title.strip() or outcome.text.strip())
    json.dumps(index_fields(outcome), ensure_ascii=False, allow_nan=False).encode("utf-8")
    assert len(doc_id.encode("utf-8")) <= 512


def run(raw: RawRecord):
    try:
        outcome = VALIDATOR(raw)
    except RecordError as exc:
        assert str(exc).strip()  # the reason, for the dead-letter file
        return None
    check(outcome)
    return outcome


@examples(300)
@given(records)
@example({"_id": "0", "title": "0", "extra": "\ud800"})  # found by the thorough profile: the size check crashed
def test_objects_become_documents_or_record_errors(record):
    run(RawRecord(1, record))  # sources that yield mappings (CSV, index)


@examples(300)
@given(records, st.booleans())
def test_json_lines_become_documents_or_record_errors(record, ascii_only):
    # NaN/Infinity constants and lone surrogates are written as json.dumps writes them
    line = json.dumps(record, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    run(RawRecord(1, line))


@examples(200)
@given(st.one_of(st.binary(max_size=300), nasty_text.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_arbitrary_bytes_are_rejected_or_valid(data):
    run(RawRecord(1, data))


@examples(30)
@given(st.integers(1, 5000))
def test_deep_and_huge_records_are_rejected_cleanly(depth):
    deep = ('{"_id": "d", "text": "t", "metadata": {"x": ' + "[" * depth + "]" * depth + "}}").encode()
    assert (run(RawRecord(1, deep)) is None) == (depth + 2 > MAX_NESTING)
    assert (run(RawRecord(1, {"_id": "d", "text": "t", "metadata": {"x": nested(depth)}})) is None) == (
        depth + 2 > MAX_NESTING)
    huge = json.dumps({"_id": "h", "text": "word " * (depth * 10)}).encode()
    assert (run(RawRecord(2, huge)) is None) == (len(huge) > 20_000)


def test_title_or_text_decides():
    assert run(RawRecord(1, {"_id": "a", "title": "t"})) is not None
    assert run(RawRecord(1, {"_id": "a", "title": "\u3000", "text": "\x85"})) is None
