"""Light query encoder (docs/design.md, "Light query encoding"): a token-table lookup, no model.

numpy + tokenizers only; never import torch or transformers here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import sqrt
from typing import TYPE_CHECKING

import numpy as np

from lightretriever.encode.query_tokens import QueryTokenizer
from lightretriever.errors import QueryError

if TYPE_CHECKING:
    from lightretriever.bundle import Bundle


@dataclass(slots=True)
class QueryEncoding:
    ids: list[int]
    dense: np.ndarray  # float32 [dense_dim], L2-normalised
    sparse: dict[str, float] = field(default_factory=dict)  # token id (decimal string) -> count (× its weight)
    n_tokens: int = 0
    n_unknown: int = 0
    truncated: bool = False
    oov_share: float = 0.0


# Widening float16 rows per query costs about as much as the rest of the lookup, so tables whose float32
# copy fits this budget are widened once at load (MiniLM 47 MB, Gemma 3 262k x 640: 671 MB); larger ones
# (Llama 3 8B: 2.1 GB) stay float16 in memory. Same values either way: design.md widens before the mean.
FLOAT32_TABLE_MAX_BYTES = 2**30
_add_rows = np.add.reduce


# Unicode's White_Space property (str.isspace would add U+001C..U+001F); the Java plugin uses the same set.
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


def cut_query(text: str, tokenize, max_tokens: int, max_chars: int) -> tuple[str, list[int] | None]:
    """docs/design.md "Long queries": the longest prefix of `text` with at most `max_chars` code points
    and at most `max_tokens` tokens, cut back to a word boundary (unless its first word alone is too long),
    trailing white space removed. Every sub-query searches this prefix.

    `tokenize(text) -> ids` (None: characters only). Returns (prefix, ids of the text when it was not cut).
    """
    if len(text) <= max_chars:
        if tokenize is None:
            return text, None
        ids = tokenize(text)
        if len(ids) <= max_tokens:
            return text, ids
    lo, hi = 0, min(len(text), max_chars)  # binary search: prefix(lo) fits; same steps as the Java plugin
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if tokenize is None or len(tokenize(text[:mid])) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    end = lo
    if end < len(text) and text[end] not in WHITE_SPACE:  # the cut falls inside a word: drop that word
        start = end
        while start > 0 and text[start - 1] not in WHITE_SPACE:
            start -= 1
        if any(c not in WHITE_SPACE for c in text[:start]):
            end = start
    while end > 0 and text[end - 1] in WHITE_SPACE:
        end -= 1
    return text[:end], None


class LightQueryEncoder:
    def __init__(self, tokenizer, table: np.ndarray, max_length: int, unk_id: int | None, exclude_ids,
                 float32_max_bytes: int = FLOAT32_TABLE_MAX_BYTES, sparse_weights: np.ndarray | None = None):
        self.tokenizer = tokenizer
        self.query_tokenizer = QueryTokenizer(tokenizer)  # the tokenizer's ids, cached per word where exact
        small = table.size * 4 <= float32_max_bytes
        self.table = table.astype(np.float32) if small and table.dtype != np.float32 else table
        self.max_length = int(max_length)
        self.unk_id = unk_id
        self.exclude_ids = frozenset(int(i) for i in exclude_ids)
        if unk_id is not None:
            self.exclude_ids |= {int(unk_id)}
        self._ids = self.query_tokenizer.ids
        self._tokens = self.query_tokenizer.tokens
        self._float32 = self.table.dtype == np.float32
        # float32 [vocab] or None (plain counts); a Python list: indexing it is ~3x cheaper than numpy's
        self.sparse_weights = None if sparse_weights is None else np.asarray(sparse_weights, np.float32).tolist()

    @classmethod
    def from_bundle(cls, bundle: Bundle, float32_max_bytes: int = FLOAT32_TABLE_MAX_BYTES) -> LightQueryEncoder:
        query = bundle.manifest["query"]
        return cls(
            bundle.tokenizer,
            bundle.table,
            bundle.manifest["max_length"]["query"],
            query["unk_id"],
            query["exclude_ids"],
            float32_max_bytes,
            bundle.sparse_weights,
        )

    def tokenize(self, text: str) -> list[int]:
        try:
            return self._ids(text)  # the word cache, exact to the HF tokenizer (query_tokens.py)
        except TypeError:  # `tokenizers` refuses str with lone surrogates
            raise QueryError(f"query {text[:60]!r}: not valid UTF-8 (unpaired surrogate)") from None

    def cut(self, text: str, max_chars: int) -> tuple[str, list[int] | None]:
        """`cut_query` with this encoder's tokenizer and `max_length.query`."""
        return cut_query(text, self.tokenize, self.max_length, max_chars)

    def encode_query(self, text: str, ids: list[int] | None = None) -> QueryEncoding:
        """`ids`: the tokenizer's ids of `text`, when the caller has them already (`cut`).

        A few µs per query, so every step is the cheapest exact one: see docs/benchmarks.md, issue 14."""
        if not isinstance(text, str) or not text or text.isspace():
            raise QueryError(f"query {text!r}: empty query")
        keys = None  # the ids' decimal strings, when the word cache had them
        if ids is None:
            try:
                ids, keys = self._tokens(text)
            except TypeError:
                return self.encode_query(text, self.tokenize(text))  # raises the QueryError
        n_tokens = len(ids)
        truncated = n_tokens > self.max_length
        if truncated:
            ids = ids[: self.max_length]
            n_tokens = self.max_length
            keys = None
        exclude = self.exclude_ids
        if exclude.isdisjoint(ids):  # the common case: no unknown or special id (unk_id is in exclude)
            kept, n_unknown = ids, 0
        else:
            kept, keys = [i for i in ids if i not in exclude], None
            n_unknown = ids.count(self.unk_id)  # 0 when unk_id is None
        if not kept:  # no id at all (a control character alone), or none kept
            raise QueryError(f"query {text!r}: query has no known tokens")
        rows = self.table.take(kept, 0)
        # add.reduce == sum(axis=0) for float32 rows, minus the dtype handling (about 1 µs a query)
        dense = _add_rows(rows, 0) if self._float32 else rows.sum(axis=0, dtype=np.float32)
        # The mean's division by len(kept) is left out: the normalisation cancels it (design.md); the Java
        # encoder leaves it out too. ‖dense‖ comes from float64 squares (exact for float32 values), as in Java:
        # a float32 dot sums in SIMD order and can land an ulp away. Dividing the float32 array by the Python
        # float divides by that float rounded to float32 (NEP 50), which is Java's (float) Math.sqrt(sq).
        wide = dense.astype(np.float64)
        norm = sqrt(wide.dot(wide))
        if norm > 0.0:
            dense /= norm
        weights = self.sparse_weights
        sparse: dict[str, float] = {}
        if weights is None:
            for key in map(str, kept) if keys is None else keys:  # `in` and subscripts beat a call to .get
                if key in sparse:
                    sparse[key] += 1.0
                else:
                    sparse[key] = 1.0
        else:  # count × the token's float32 weight, in double (the Java encoder computes the same product)
            counts: dict[int, int] = {}
            for i in kept:
                counts[i] = counts.get(i, 0) + 1
            sparse = {str(i): c * weights[i] for i, c in counts.items()}
        return QueryEncoding(ids, dense, sparse, n_tokens, n_unknown, truncated,
                             n_unknown / n_tokens if n_tokens else 0.0)

    def encode_queries(self, texts: list[str]) -> list[QueryEncoding]:
        return [self.encode_query(t) for t in texts]
