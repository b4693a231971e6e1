"""The light query encoder, the long-query cut and the DSL builder (rewrite/) on arbitrary input: a request
OpenSearch accepts (strict JSON, bounded size) or a QueryError/ValueError with the reason, never a crash."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer

from fixtures.properties import examples, json_values, nested, numbers, texts
from lightretriever.encode.query import WHITE_SPACE, LightQueryEncoder, cut_query
from lightretriever.errors import QueryError
from lightretriever.rewrite import QueryRewriter, to_dsl
from lightretriever.rewrite.dsl import (
    BM25_MAX_CLAUSES,
    bm25_clause,
    dense_clause,
    max_query_chars,
    sparse_clause,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
MAX_TOKENS = 16


def tokenizer(name: str) -> Tokenizer:
    tok = Tokenizer.from_file(str(VECTORS / "tokenizers" / f"{name}.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


# MiniLM's WordPiece and the byte-level and SentencePiece-style BPEs of the shared vectors
TOKENIZERS = {name: tokenizer(name) for name in ("minilm", "bpe_bytelevel", "spm_bpe")}
ENCODERS = {
    name: LightQueryEncoder(tok, np.random.default_rng(0).standard_normal((tok.get_vocab_size(), 4)).astype(np.float16),
                            MAX_TOKENS, tok.token_to_id("[UNK]"), [0, 100, 101, 102, 103] if name == "minilm" else [0])
    for name, tok in TOKENIZERS.items()
}
REWRITERS = {name: QueryRewriter(encoder) for name, encoder in ENCODERS.items()}


def strict_json(value) -> str:
    """What OpenSearch accepts: no NaN/Infinity, valid UTF-8."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")
    return text


@pytest.mark.parametrize("name", sorted(ENCODERS))
@examples(200)
@given(text=texts)
def test_encoder_gives_a_unit_vector_or_a_query_error(name, text):
    encoder = ENCODERS[name]
    try:
        enc = encoder.encode_query(text)
    except QueryError as exc:
        assert "query" in str(exc)
        return
    assert 0 < enc.n_tokens <= MAX_TOKENS and len(enc.ids) == enc.n_tokens
    assert enc.dense.dtype == np.float32 and np.isfinite(enc.dense).all()
    assert math.isclose(float(np.linalg.norm(enc.dense)), 1.0, rel_tol=1e-4) or not enc.dense.any()
    assert all(v >= 1.0 for v in enc.sparse.values()) and 0.0 <= enc.oov_share <= 1.0


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
@examples(200)
@given(text=texts, max_chars=st.integers(1, 600))
def test_cut_is_a_prefix_within_both_budgets(name, text, max_chars):
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return  # the tokenizer cannot take lone surrogates; the rewriter refuses them before (next test)
    tok = TOKENIZERS[name]

    def tokenize(t):
        return tok.encode(t, add_special_tokens=False).ids

    cut, ids = cut_query(text, tokenize, MAX_TOKENS, max_chars)
    assert text.startswith(cut) and (cut == text or not cut or cut[-1] not in WHITE_SPACE)
    assert len(cut) <= max_chars
    assert (ids is not None) == (cut == text)
    if cut != text:
        assert len(tokenize(cut)) <= MAX_TOKENS + 4  # a word boundary can only drop tokens; BPE merges may add a few
    assert cut_query(cut, tokenize, MAX_TOKENS, max_chars)[0] == cut  # cutting again changes nothing


filters = st.one_of(st.none(), json_values, st.dictionaries(st.sampled_from(["term", "range", "bool"]), json_values,
                                                            min_size=1, max_size=2))
depths = st.one_of(st.integers(-5, 20_000), numbers, st.booleans(), st.text(max_size=3), st.none())
systems = st.one_of(st.lists(st.sampled_from(["dense", "sparse", "bm25"]), min_size=1, max_size=3, unique=True),
                    st.lists(st.text(max_size=6), max_size=3))


@pytest.mark.parametrize("name", sorted(REWRITERS))
@examples(200)
@given(text=st.one_of(texts, json_values), depth=depths, filter=filters, systems=systems,
       form=st.sampled_from(["msearch", "named", "bodies"]))
def test_dsl_is_strict_json_within_limits_or_an_error(name, text, depth, filter, systems, form):
    rewriter = REWRITERS[name]
    try:
        payload = to_dsl(text, rewriter, index="docs", depth=depth, filter=filter, systems=systems, form=form)
    except (QueryError, ValueError) as exc:
        assert str(exc)
        return
    lines = payload.split("\n")[:-1] if form == "msearch" else [payload]  # NDJSON: only \n ends a line
    for line in lines:
        json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in the request"))
        line.encode("utf-8")
    query = rewriter.rewrite(text, depth=depth, filter=filter, systems=systems)
    assert 1 <= query.depth <= 10_000 and isinstance(query.depth, int)
    assert query.searched_text is not None and text.startswith(query.searched_text)
    assert len(query.searched_text) <= max_query_chars() and len(query.searched_text) * 2 <= BM25_MAX_CLAUSES
    if "sparse" in query.clauses:
        assert len(query.clauses["sparse"]["bool"]["should"]) <= MAX_TOKENS


@examples(100)
@given(vector=st.lists(numbers, max_size=8), counts=st.dictionaries(st.integers(0, 10**6).map(str), numbers, max_size=8),
       k=st.integers(-3, 20_000), filter=filters)
def test_clause_builders_take_numbers_as_they_come(vector, counts, k, filter):
    """The clause builders serialise what they are given; the rewriter is what validates (the property above)."""
    try:
        clauses = [dense_clause(vector, k, filter if isinstance(filter, dict) else None),
                   sparse_clause(counts, filter if isinstance(filter, dict) else None), bm25_clause("x")]
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. float() of a huge int
        assert str(exc)
        return
    assert all(isinstance(c, dict) for c in clauses)


def test_deep_filter_is_refused_with_a_reason():
    with pytest.raises(QueryError, match="filter"):
        REWRITERS["minilm"].rewrite("cancer", filter={"bool": {"filter": nested(5000, {"match_all": {}})}})
