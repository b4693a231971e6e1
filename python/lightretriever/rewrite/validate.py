"""Checks on user input before any query is built; each error names the query and the reason."""

from __future__ import annotations

from lightretriever.errors import QueryError

# OpenSearch's default index.max_result_window and the k-NN plugin's k limit are both 10,000.
MAX_K = 10_000


def check_text(text: object) -> str:
    if not isinstance(text, str):
        raise QueryError(f"query {text!r}: must be a string, got {type(text).__name__}")
    if not text.strip():
        raise QueryError(f"query {text!r}: empty or whitespace-only query")
    return text


def check_k(k: object, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        raise QueryError(f"{name}={k!r}: must be an integer between 1 and {MAX_K}")
    if not 1 <= k <= MAX_K:
        raise QueryError(f"{name}={k}: out of range, must be between 1 and {MAX_K}")
    return k
