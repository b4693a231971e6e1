"""Twenty-plus kinds of malformed JSONL line, each with the reason the dead-letter file must give."""

from __future__ import annotations

import json

MAX_RECORD_BYTES = 4096


def _j(obj) -> bytes:
    return json.dumps(obj).encode("utf-8")


# (label, raw line without newline, substring expected in the dead-letter reason)
MALFORMED: list[tuple[str, bytes, str]] = [
    ("garbage", b"this is not json", "not valid JSON"),
    ("truncated json", b'{"_id": "t1", "text": "cut', "not valid JSON"),
    ("trailing comma", b'{"_id": "t2", "text": "x",}', "not valid JSON"),
    ("NaN constant", b'{"_id": "t3", "text": "x", "score": NaN}', "not valid JSON"),
    ("array", _j(["_id", "a1"]), "expected an object"),
    ("scalar", b"42", "expected an object"),
    ("blank line", b"   ", "blank line"),
    ("missing id", _j({"title": "t", "text": "no id here"}), "missing id"),
    ("null id", _j({"_id": None, "text": "x"}), "id field '_id' is a null"),
    ("object id", _j({"_id": {"a": 1}, "text": "x"}), "id field '_id' is an object"),
    ("boolean id", _j({"_id": True, "text": "x"}), "id field '_id' is a boolean"),
    ("empty id", _j({"_id": "", "text": "x"}), "empty id"),
    ("blank id", _j({"_id": "   ", "text": "x"}), "empty id"),
    ("id too long", _j({"_id": "x" * 600, "text": "x"}), "longer than 512 bytes"),
    ("missing text and title", _j({"_id": "m1", "metadata": {"body": "kept elsewhere"}}), "empty title and text"),
    ("null text, no title", _j({"_id": "m2", "text": None}), "empty title and text"),
    ("empty text and title", _j({"_id": "m3", "title": "", "text": ""}), "empty title and text"),
    ("whitespace text and title", _j({"_id": "m4", "title": "\u3000 ", "text": " \n\t "}), "empty title and text"),
    ("number text", _j({"_id": "m5", "text": 12345}), "text field 'text' is a number"),
    ("list text", _j({"_id": "m6", "text": ["a", "b"]}), "text field 'text' is an array"),
    ("number title", _j({"_id": "m7", "title": 3.5, "text": "x"}), "title field 'title' is a number"),
    ("string metadata", _j({"_id": "m8", "text": "x", "metadata": "year=2020"}), "metadata is a string"),
    ("invalid utf-8", b'{"_id": "u1", "text": "caf\xe9 au lait"}', "invalid UTF-8"),
    ("lone surrogate", b'{"_id": "u2", "text": "broken \\ud800 escape"}', "not valid UTF-8"),
    ("oversized", _j({"_id": "big", "text": "word " * MAX_RECORD_BYTES}), "oversized"),
]

VALID = [
    {"_id": f"ok{i}", "title": f"Title {i}", "text": f"Valid document number {i} about proteins and cells."}
    for i in range(12)
]


def build_file(path) -> tuple[list[str], dict[int, tuple[str, str]]]:
    """Write valid and malformed lines interleaved; returns valid ids and {line number: (label, reason)}."""
    lines: list[bytes] = []
    expected: dict[int, tuple[str, str]] = {}
    valid_iter = iter(VALID)
    for label, raw, reason in MALFORMED:
        doc = next(valid_iter, None)
        if doc is not None:
            lines.append(_j(doc))
        lines.append(raw)
        expected[len(lines)] = (label, reason)
    for doc in valid_iter:
        lines.append(_j(doc))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return [d["_id"] for d in VALID], expected
