"""Query token ids from the bundle's HF tokenizer, with a bounded cache of word -> ids in front of it.

A query is split into pieces that the tokenizer provably tokenises independently, and each piece's ids
come from an LRU cache filled by the tokenizer itself (a miss encodes the piece alone). The result is
the tokenizer's ids for the whole text. The split is only used for tokenizer configurations whose
pipeline is understood here, and only for texts it is proven for; everything else goes through the
full tokenizer unchanged:

- **WordPiece with BertNormalizer + BertPreTokenizer** (MiniLM, BERT): on printable ASCII (plus tab,
  newline, carriage return) the normaliser only lowercases and the pre-tokeniser splits on whitespace
  and isolates each punctuation character (every printable non-alphanumeric ASCII character is
  punctuation). WordPiece then works word by word, so the words are the pieces.
- **SentencePiece-style BPE** (Gemma): normaliser `Replace(" " -> "▁")`, no effective pre-tokeniser, so
  BPE runs over the whole text. A BPE symbol can only span the boundary before a run of "▁" through a
  merge `(a, b)` with `b` starting with "▁" and `a` not ending with it; the characters `a` ends with are
  listed at load (Gemma 3: only ">", from `">" + "▁</"`) and texts holding them take the full path.
  Elsewhere merges never cross those boundaries, so BPE over the text equals BPE over each piece
  (`" *[^ ]+"`). Texts holding "▁" itself take the full path too.

Added tokens (`[SEP]`, `<start_of_turn>`, ...) are matched by the tokenizer before normalisation; a
text holding the first character of any added token goes through the full tokenizer.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from itertools import chain

SPACE_MARK = "\u2581"  # SentencePiece's "▁"
DEFAULT_CACHE_WORDS = 1 << 16
# An added token that starts with a letter or digit cannot be ruled out by a character test; a few are
# checked as substrings, more disable the cache.
MAX_ALNUM_ADDED = 16


def _is_bert_wordpiece(cfg: dict) -> bool:
    norm, pre, model = cfg.get("normalizer") or {}, cfg.get("pre_tokenizer") or {}, cfg.get("model") or {}
    return (norm.get("type") == "BertNormalizer" and pre.get("type") == "BertPreTokenizer"
            and model.get("type") == "WordPiece")


def _is_spm_bpe(cfg: dict) -> bool:
    norm, pre, model = cfg.get("normalizer") or {}, cfg.get("pre_tokenizer"), cfg.get("model") or {}
    if norm != {"type": "Replace", "pattern": {"String": " "}, "content": SPACE_MARK}:
        return False
    # Split on " " sees the normalised text, which has no " " left: a no-op unless inverted.
    if pre is not None and not (pre.get("type") == "Split" and pre.get("pattern") == {"String": " "}
                                and not pre.get("invert")):
        return False
    return (model.get("type") == "BPE" and model.get("dropout") in (None, 0.0) and not model.get("ignore_merges")
            and not model.get("continuing_subword_prefix") and not model.get("end_of_word_suffix"))


def _merge_pairs(model: dict):
    for merge in model.get("merges") or []:
        yield tuple(merge) if isinstance(merge, list) else tuple(merge.split(" ", 1))


_BYTE_TOKEN = re.compile(r"<0x[0-9A-Fa-f]{2}>")


def _spm_unsafe_chars(model: dict) -> set[str] | None:
    """Last characters of left symbols of boundary-crossing merges; None when a byte token is one."""
    unsafe = set()
    for a, b in _merge_pairs(model):
        if b.startswith(SPACE_MARK) and not a.endswith(SPACE_MARK):
            if _BYTE_TOKEN.fullmatch(a):
                return None
            unsafe.add(a[-1])
    return unsafe


class QueryTokenizer:
    """`ids(text)` == `tokenizer.encode(text, add_special_tokens=False).ids`, cached per word when exact."""

    def __init__(self, tokenizer, cache_words: int = DEFAULT_CACHE_WORDS):
        self.tokenizer = tokenizer
        self.kind = "full"
        self._lower = False
        self._alnum_added: tuple[str, ...] = ()
        if tokenizer.padding is None and tokenizer.truncation is None:
            self._plan(json.loads(tokenizer.to_str()))
        self._piece_ids = lru_cache(maxsize=cache_words)(self._encode_piece)

    def _plan(self, cfg: dict) -> None:
        added = [t["content"] for t in cfg.get("added_tokens") or [] if t.get("content")]
        alnum = tuple(sorted({t for t in added if t[0].isalnum()}))
        if len(alnum) > MAX_ALNUM_ADDED:
            return
        triggers = {t[0] for t in added if not t[0].isalnum()}
        if _is_bert_wordpiece(cfg):
            self._lower = bool(cfg["normalizer"].get("lowercase"))
            bad = "[^\\t\\n\\r\\x20-\\x7e]"  # printable ASCII and tab/newline/CR only
            letters = "a-z0-9" if self._lower else "A-Za-z0-9"
            self._split = re.compile(f"[{letters}]+|[^{letters} \\t\\n\\r]").findall
            self.kind = "wordpiece"
        elif _is_spm_bpe(cfg):
            unsafe = _spm_unsafe_chars(cfg["model"])
            if unsafe is None:
                return
            triggers |= unsafe | {SPACE_MARK}
            bad = None
            self._split = re.compile(" *[^ ]+| +").findall
            self.kind = "spm-bpe"
        else:
            return
        alternatives = ([bad] if bad else []) + ([f"[{re.escape(''.join(sorted(triggers)))}]"] if triggers else [])
        self._bad = re.compile("|".join(alternatives)).search if alternatives else (lambda _text: None)
        self._alnum_added = alnum

    def _encode_piece(self, piece: str) -> tuple[int, ...]:
        return tuple(self.tokenizer.encode(piece, add_special_tokens=False).ids)

    def _full(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def ids(self, text: str) -> list[int]:
        if self.kind == "full" or self._bad(text) is not None:
            return self._full(text)
        if self._alnum_added and any(t in text or t in text.lower() for t in self._alnum_added):
            return self._full(text)
        if self._lower:
            text = text.lower()
        return list(chain.from_iterable(map(self._piece_ids, self._split(text))))

    def cache_info(self):
        return self._piece_ids.cache_info()
