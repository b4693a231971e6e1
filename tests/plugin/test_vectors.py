"""The Python library reproduces every shared test vector (tests/vectors/) that the Java plugin asserts.

If one of these fails, the Python side changed behaviour: rerun tests/vectors/generate.py only if the
change is intended, then `mvn test` in opensearch_plugin/ must pass again on the new vectors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from lightretriever.encode.query import LightQueryEncoder, cut_query
from lightretriever.errors import QueryError
from lightretriever.fuse.features import candidate_features, feature_names
from lightretriever.fuse.learned import LearnedModel, fuse_learned
from lightretriever.fuse.linear import fuse_linear
from lightretriever.fuse.registry import NAMES, default_config
from lightretriever.fuse.rrf import fuse_rrf

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def load(name: str):
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def tokenizer(rel: str) -> Tokenizer:
    tok = Tokenizer.from_file(str(VECTORS / rel))
    tok.no_padding()
    tok.no_truncation()
    return tok


def test_vector_files_are_small_and_complete():
    for rel in ("tokenization.json", "encoding.json", "fusion.json", "truncation.json", "fusion/learned.txt"):
        assert (VECTORS / rel).is_file(), rel
    too_big = [p.name for p in VECTORS.rglob("*") if p.is_file() and p.stat().st_size > 1_000_000]
    assert too_big == []


@pytest.mark.parametrize("name", sorted(load("tokenization.json")))
def test_tokenization_vectors(name):
    spec = load("tokenization.json")[name]
    tok = tokenizer(spec["file"])
    assert len(spec["cases"]) >= 40
    for case in spec["cases"]:
        assert tok.encode(case["text"], add_special_tokens=False).ids == case["ids"], case["text"]


@pytest.mark.parametrize("name", sorted(load("encoding.json")))
def test_encoding_vectors(name):
    spec = load("encoding.json")[name]
    tensors = load_file(str(VECTORS / spec["table"]))
    table = tensors["table"]
    assert table.dtype == np.float16
    weights = tensors[spec["sparse_weights"]] if spec["sparse_weights"] else None
    encoder = LightQueryEncoder(tokenizer(spec["tokenizer"]), table, spec["max_length"], spec["unk_id"],
                                spec["exclude_ids"], sparse_weights=weights)
    errors = 0
    for case in spec["cases"]:
        if "error" in case:
            with pytest.raises(QueryError) as info:
                encoder.encode_query(case["text"])
            assert str(info.value) == case["error"]
            errors += 1
            continue
        enc = encoder.encode_query(case["text"])
        assert enc.ids == case["ids"]
        assert enc.sparse == case["sparse"]
        if weights is not None:  # count × the float32 weight, computed in double
            counts = {str(i): enc.ids.count(i) for i in enc.ids if i not in encoder.exclude_ids}
            assert enc.sparse == {t: c * float(weights[int(t)]) for t, c in counts.items()}
            assert any(v != int(v) for v in enc.sparse.values())
        assert (enc.n_tokens, enc.n_unknown, enc.truncated) == (case["n_tokens"], case["n_unknown"], case["truncated"])
        assert enc.oov_share == case["oov_share"]
        assert enc.dense.dtype == np.float32
        assert [float(x) for x in enc.dense] == case["dense"]  # exact: same library, same table
    assert errors >= 2  # empty and whitespace-only queries are covered


@pytest.mark.parametrize("name", sorted(load("truncation.json")))
def test_truncation_vectors(name):
    spec = load("truncation.json")[name]
    tok = tokenizer(spec["tokenizer"])

    def tokenize(text):
        return tok.encode(text, add_special_tokens=False).ids

    for case in spec["cases"]:
        cut, ids = cut_query(case["text"], tokenize, spec["max_tokens"], spec["max_chars"])
        assert (cut, cut != case["text"]) == (case["cut"], case["truncated"]), case["text"][:40]
        assert len(cut) <= spec["max_chars"] and len(tokenize(cut)) <= spec["max_tokens"]
        assert ids == (None if case["truncated"] else tokenize(case["text"]))
    assert sum(case["truncated"] for case in spec["cases"]) >= 10


def test_fusion_names_and_defaults_are_the_registrys():
    """The Java plugin's fusion.Fusions is checked against these same two entries (FusionVectorsTest)."""
    spec = load("fusion.json")
    assert spec["names"] == list(NAMES)
    assert spec["defaults"] == default_config()


def test_fusion_vectors():
    spec = load("fusion.json")
    learned = spec["learned"]
    assert learned["features"] == feature_names(learned["systems"])
    model = LearnedModel.from_text((VECTORS / learned["model_file"]).read_text(encoding="utf-8"), learned["systems"], learned["depth"])
    assert len(spec["cases"]) >= 10
    for case in spec["cases"]:
        hits = {s: [(d, float(x)) for d, x in ranked] for s, ranked in case["hits"].items()}
        expect = {name: [tuple(pair) for pair in case[name]] for name in NAMES}
        assert fuse_linear(hits, spec["defaults"]["linear"]["weights"]) == expect["linear"], case["name"]
        assert fuse_rrf(hits, k=spec["defaults"]["rrf"]["k"]) == expect["rrf"], case["name"]
        assert fuse_learned(hits, model, case["query_len"], case["oov_share"]) == expect["learned"], case["name"]
        doc_ids, rows = candidate_features(hits, learned["systems"], learned["depth"], case["query_len"], case["oov_share"])
        assert doc_ids == case["features"]["doc_ids"]
        assert rows.tolist() == case["features"]["rows"]
