"""Query token ids from the bundle's HF tokenizer, with a bounded cache of piece -> ids in front of it.

A query is split into pieces that the tokenizer provably tokenises independently, and each piece's ids
come from a cache filled by the tokenizer itself (a miss encodes the piece alone). The result is the
tokenizer's ids for the whole text. The split is only used for tokenizer configurations whose pipeline
is understood here, and only for texts it is proven for; everything else goes through the full
tokenizer unchanged:

- **WordPiece with BertNormalizer + BertPreTokenizer** (MiniLM, BERT): on printable ASCII (plus tab,
  newline, carriage return) the normaliser only lowercases, and the pre-tokeniser splits on that white
  space and isolates each punctuation character inside the chunks. WordPiece then works word by word, so
  each white-space-separated chunk (`str.split`, the same white space here) tokenises alone exactly as
  within the text: the chunks are the pieces.
- **SentencePiece-style BPE** (Gemma): normaliser `Replace(" " -> "▁")`, no effective pre-tokeniser, so
  BPE runs over the whole text. A BPE symbol can only span the boundary before a run of "▁" through a
  merge `(a, b)` with `b` starting with "▁" and `a` not ending with it; the characters `a` ends with are
  listed at load (Gemma 3: only ">", from `">" + "▁</"`) and texts holding them take the full path.
  Elsewhere merges never cross those boundaries, so BPE over the text equals BPE over each piece
  (`" *[^ ]+"`). Texts holding "▁" itself take the full path too.

Added tokens (`[SEP]`, `<start_of_turn>`, ...) are matched by the tokenizer before normalisation; a
text holding the first character of any added token goes through the full tokenizer. That character
test runs once per new piece, before it is cached (the pieces cover every character that is not white
space, and WordPiece's white-space starts are tested on the whole text), so a cached piece is known safe.
"""

from __future__ import annotations

import json
import re
from itertools import chain, islice
from typing import NamedTuple

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


Entry = tuple[tuple[int, ...], tuple[str, ...]]  # a piece's ids and their decimal strings


class CacheInfo(NamedTuple):
    misses: int  # pieces tokenised alone (then cached)
    full_path: int  # texts tokenised whole (not covered by a split, or holding an unsafe character)
    maxsize: int
    currsize: int


class QueryTokenizer:
    """`ids(text)` == `tokenizer.encode(text, add_special_tokens=False).ids`, cached per piece when exact."""

    def __init__(self, tokenizer, cache_words: int = DEFAULT_CACHE_WORDS):
        self.tokenizer = tokenizer
        self.kind = "full"
        self._words = None  # WordPiece chunk -> its words
        self._unsafe = None  # piece -> match when the piece must not be cached (added-token starts, ...)
        self._lower = False
        self._alnum_added: tuple[str, ...] = ()
        self._cache: dict[str, Entry] = {}
        self._cache_words = max(2, int(cache_words))
        self._full_path = 0  # counted off the hot path only: a hit costs no bookkeeping
        self._misses = 0
        if tokenizer.padding is None and tokenizer.truncation is None:
            self._plan(json.loads(tokenizer.to_str()))

    def _plan(self, cfg: dict) -> None:
        added = [t["content"] for t in cfg.get("added_tokens") or [] if t.get("content")]
        alnum = tuple(sorted({t for t in added if t[0].isalnum()}))
        if len(alnum) > MAX_ALNUM_ADDED:
            return
        triggers = {t[0] for t in added if not t[0].isalnum()}
        if _is_bert_wordpiece(cfg):
            # The pieces are white-space-separated chunks, so white space that starts an added token is
            # never seen by the per-piece check: " " gives up; tab, newline and CR join the text check.
            if " " in triggers:
                return
            spaces = "".join(sorted({"\t", "\n", "\r"} - triggers))
            triggers -= {"\t", "\n", "\r"}
            self._lower = bool(cfg["normalizer"].get("lowercase"))
            # On printable ASCII (plus the allowed tab/newline/CR) the normaliser only lowercases, and the
            # only white space is " \t\n\r", where str.split and the pre-tokeniser agree. The pre-tokeniser
            # splits punctuation off inside each chunk, so each chunk tokenises alone as within the text.
            self._control = re.compile(f"[^{re.escape(spaces)}\\x20-\\x7e]").search
            # the words of a chunk: runs of letters and digits, and each other character (all punctuation
            # to BERT in printable ASCII)
            letters = "a-z0-9" if self._lower else "A-Za-z0-9"
            self._words = re.compile(f"[{letters}]+|[^{letters}]").findall
            self.kind = "wordpiece"
        elif _is_spm_bpe(cfg):
            unsafe = _spm_unsafe_chars(cfg["model"])
            if unsafe is None:
                return
            triggers |= unsafe | {SPACE_MARK}
            self._spm_split = re.compile(" *[^ ]+| +").findall
            self.kind = "spm-bpe"
        else:
            return
        if triggers:
            self._unsafe = re.compile(f"[{re.escape(''.join(sorted(triggers)))}]").search
        self._alnum_added = alnum

    def _has_alnum_added(self, text: str) -> bool:
        return any(t in text or t in text.lower() for t in self._alnum_added)

    def _full(self, text: str) -> list[int]:
        self._full_path += 1
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def ids(self, text: str) -> list[int]:
        return self.tokens(text)[0]

    def pieces(self, text: str) -> list[str] | None:
        """The pieces of `text`, or None when it must go through the tokenizer whole."""
        kind = self.kind
        if kind == "wordpiece":
            if (not text.isascii() or (not text.isprintable() and self._control(text) is not None)
                    or (self._alnum_added and self._has_alnum_added(text))):
                return None
            return text.lower().split() if self._lower else text.split()
        if kind == "spm-bpe" and not (self._alnum_added and self._has_alnum_added(text)):
            return self._spm_split(text)
        return None

    def tokens(self, text: str) -> tuple[list[int], list[str] | None]:
        """The ids of `text`, and their decimal strings (the sparse field's feature names, cached with the
        ids; None when the text took the full path)."""
        pieces = self.pieces(text)
        if pieces is None:
            return self._full(text), None
        ids: list[int] = []
        keys: list[str] = []
        cache = self._cache
        try:  # the common case: every piece cached (a subscript: the interpreter's fast path for a dict)
            for piece in pieces:
                piece_ids, piece_keys = cache[piece]
                ids += piece_ids
                keys += piece_keys
        except KeyError:
            return self._fill(text, pieces)
        return ids, keys

    def _fill(self, text: str, pieces: list[str]) -> tuple[list[int], list[str] | None]:
        """Some piece is not cached: check each new piece, get its ids, cache it."""
        cache, unsafe = self._cache, self._unsafe
        if unsafe is not None and any(unsafe(p) is not None for p in pieces if p not in cache):
            return self._full(text), None
        ids: list[int] = []
        keys: list[str] = []
        for piece in pieces:
            got = cache.get(piece)
            if got is None:
                got = self._new_piece(piece)
            ids += got[0]
            keys += got[1]
        return ids, keys

    def _new_piece(self, piece: str) -> Entry:
        """Ids of an uncached (safe) piece, now cached. A WordPiece chunk of several words is put together
        from its words, which are pieces too (the old split), so the tokenizer only sees new words."""
        words = self._words(piece) if self._words is not None else None
        if words is not None and len(words) > 1:
            ids = tuple(chain.from_iterable((self._cache.get(w) or self._new_piece(w))[0] for w in words))
        else:
            ids = tuple(self.tokenizer.encode(piece, add_special_tokens=False).ids)
            self._misses += 1
        got = (ids, tuple(map(str, ids)))
        cache = self._cache
        if len(cache) >= self._cache_words:  # FIFO: the older half goes
            for old in list(islice(cache, len(cache) // 2)):
                cache.pop(old, None)  # another thread may have dropped it
        cache[piece] = got
        return got

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self._misses, self._full_path, self._cache_words, len(self._cache))
