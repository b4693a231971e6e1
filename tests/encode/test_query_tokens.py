"""The cached query tokenizer gives the HF tokenizer's ids exactly: on every query of SciFact, Cranfield and
CISI, under property tests with arbitrary unicode, for WordPiece (MiniLM), SentencePiece BPE (Gemma 3) and the
byte-level BPE test tokenizers (which take the full path)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from fixtures.data import shared_data_dir
from lightretriever.encode.query_tokens import QueryTokenizer

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "tokenizers"
COLLECTIONS = ("scifact", "cranfield", "cisi")


def load(path: Path) -> Tokenizer:
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return tok


def hf_ids(tok: Tokenizer, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False).ids


@pytest.fixture(scope="module")
def minilm() -> Tokenizer:
    from lightretriever.encode.source import resolve_source

    return load(Path(resolve_source("minilm").model_dir) / "tokenizer.json")


@pytest.fixture(scope="module")
def gemma() -> Tokenizer:
    from lightretriever.encode.source import gguf_converted, resolve_source

    return load(Path(gguf_converted(resolve_source("gemma3-270m"))) / "tokenizer.json")


@pytest.fixture(scope="module")
def all_queries() -> list[str]:
    root = shared_data_dir()
    queries = []
    for name in COLLECTIONS:
        path = root / name / "queries.jsonl"
        if not path.is_file():
            pytest.fail(f"{path} missing: the exactness check needs every query of {', '.join(COLLECTIONS)}")
        with open(path, encoding="utf-8") as fh:
            queries += [json.loads(line)["text"] for line in fh if line.strip()]
    return queries


def assert_exact_on(tok: Tokenizer, queries: list[str], kind: str) -> None:
    cached = QueryTokenizer(tok)
    assert cached.kind == kind
    infos = []
    for _ in range(2):  # cold, then warm cache
        for q in queries:
            assert cached.ids(q) == hf_ids(tok, q), q
        infos.append(cached.cache_info())
    cold, warm = infos
    assert cold.misses > 0 and warm.misses == cold.misses  # the warm pass never needs the tokenizer for a piece
    assert warm.full_path - cold.full_path < len(queries) // 10  # ... and the cache serves 90% of the queries


def test_minilm_exact_on_every_query(minilm, all_queries):
    assert len(all_queries) == 1109 + 225 + 112
    assert_exact_on(minilm, all_queries, "wordpiece")


@pytest.mark.slow
@pytest.mark.llm
def test_gemma_exact_on_every_query(gemma, all_queries):
    assert_exact_on(gemma, all_queries, "spm-bpe")


# Characters that stress each rule: spaces and their runs, "▁", the Gemma crossing-merge ">", added-token
# starts ("[", "<", "\n", "\t"), control characters BERT's normaliser drops, accents, CJK, emoji.
TRICKY = st.sampled_from(list(" ▁>[<]\n\t\r\x0b\x0c\x00\x1f\x7f\ufffd.,'#-_!~é́ßİΣ中あ😀\u00a0\u2003") +
                         ["[SEP]", "[MASK]", "<unk>", "<start_of_turn>", "</b>", "##", "  ", "a>", "> b"])
WORDS = st.sampled_from(["protein", "Protein", "folding", "the", "of", "cell", "vitamin", "d", "x", "123", "4.5",
                         "covid-19", "aßc", "naïve", "helicobacter", "unaffable", "o'neil", "e.g."])
TEXTS = st.one_of(
    st.text(max_size=40),  # arbitrary unicode
    st.lists(st.one_of(WORDS, TRICKY, st.text(max_size=3)), max_size=16).map("".join),
    st.lists(st.one_of(WORDS, TRICKY), max_size=12).map(" ".join),
)
QUERY_TOKENIZERS: dict[str, QueryTokenizer] = {}  # one cache per tokenizer across examples, as in use


def cached_for(name: str, tok: Tokenizer) -> QueryTokenizer:
    if name not in QUERY_TOKENIZERS:
        QUERY_TOKENIZERS[name] = QueryTokenizer(tok)
    return QUERY_TOKENIZERS[name]


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(text=TEXTS)
def test_minilm_property(minilm, text):
    assert cached_for("minilm", minilm).ids(text) == hf_ids(minilm, text)


@pytest.mark.slow
@pytest.mark.llm
@PROPERTY
@given(text=TEXTS)
def test_gemma_property(gemma, text):
    assert cached_for("gemma", gemma).ids(text) == hf_ids(gemma, text)


KINDS = {"minilm.json": "wordpiece", "spm_bpe.json": "spm-bpe", "bpe_bytelevel.json": "full",
         "bpe_prefix_space.json": "full", "bpe_split.json": "full"}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_vector_tokenizers_property(name):
    tok = load(VECTORS / name)
    cached = QueryTokenizer(tok)
    assert cached.kind == KINDS[name]

    @PROPERTY
    @given(text=TEXTS)
    def check(text):
        assert cached.ids(text) == hf_ids(tok, text)

    check()


def test_padding_or_truncation_in_the_file_means_the_full_path():
    tok = Tokenizer.from_file(str(VECTORS / "minilm.json"))  # this file keeps padding and truncation
    assert tok.padding is not None and QueryTokenizer(tok).kind == "full"
    assert QueryTokenizer(tok).ids("protein folding") == hf_ids(tok, "protein folding")


def spm_with_crossing_merge(tmp_path: Path) -> Tokenizer:
    """A tiny SentencePiece-style BPE whose merges build "x▁y": BPE over "x y" is one token, over the pieces
    "x" and " y" two."""
    vocab = {"<unk>": 0, "x": 1, "y": 2, "▁": 3, "▁y": 4, "x▁y": 5, "a": 6, "▁a": 7}
    merges = [["▁", "y"], ["x", "▁y"], ["▁", "a"]]
    spec = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
        "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious",
                          "invert": False},
        "post_processor": None, "decoder": None,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return load(path)


def test_a_merge_across_a_space_sends_its_texts_to_the_full_path(tmp_path):
    tok = spm_with_crossing_merge(tmp_path)
    assert hf_ids(tok, "x y") == [5]  # the split would give [1, 4]
    cached = QueryTokenizer(tok)
    assert cached.kind == "spm-bpe"
    assert cached.ids("x y") == [5] and cached.cache_info().misses == 0  # "x" is unsafe: full path
    assert cached.ids("y a y") == hf_ids(tok, "y a y") and cached.cache_info().misses > 0  # no "x": cached


def wordpiece_with_added(tmp_path: Path, content: str) -> Tokenizer:
    """The MiniLM tokenizer with one more added token (at the end of the vocabulary)."""
    spec = json.loads((VECTORS / "minilm.json").read_text(encoding="utf-8"))
    spec["padding"] = spec["truncation"] = None
    spec["added_tokens"].append({"id": len(spec["model"]["vocab"]), "special": False, "content": content,
                                 "single_word": False, "lstrip": False, "rstrip": False, "normalized": False})
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return load(path)


def test_white_space_starting_an_added_token_is_checked_on_the_whole_text(tmp_path):
    # The WordPiece pieces are white-space-separated chunks, so the per-piece check cannot see a tab that
    # starts an added token: such texts take the full path.
    tok = wordpiece_with_added(tmp_path, "\tcell")
    cached = QueryTokenizer(tok)
    assert cached.kind == "wordpiece"
    for text in ("protein\tcell folding", "protein cell", "protein \tcell", "a\tcellb"):
        assert cached.ids(text) == hf_ids(tok, text), text
    assert hf_ids(tok, "protein\tcell") != hf_ids(tok, "protein cell")  # the added token matters


def test_a_space_starting_an_added_token_disables_the_wordpiece_cache(tmp_path):
    tok = wordpiece_with_added(tmp_path, " cell")
    cached = QueryTokenizer(tok)
    assert cached.kind == "full"
    assert cached.ids("protein cell") == hf_ids(tok, "protein cell")


def test_a_new_chunk_is_put_together_from_cached_words(minilm):
    cached = QueryTokenizer(minilm)
    assert cached.ids("protein folding") == hf_ids(minilm, "protein folding")
    misses = cached.cache_info().misses
    # new chunks, old words: no tokenizer call
    for text in ("protein-folding", "(protein)", "folding, protein."):
        assert cached.ids(text) == hf_ids(minilm, text), text
    assert cached.cache_info().misses == misses + 5  # the new words: "-", "(", ")", ",", "."
    ids, keys = cached.tokens("folding, protein.")  # cached: the sparse keys come with the ids
    assert keys == [str(i) for i in ids]


def test_the_cache_stays_bounded_and_exact(minilm, all_queries):
    cached = QueryTokenizer(minilm, cache_words=64)
    for q in all_queries[:300]:
        assert cached.ids(q) == hf_ids(minilm, q), q
        assert cached.cache_info().currsize <= 64
    assert cached.cache_info().misses > 64  # it did evict and refill
