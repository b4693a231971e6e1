"""Checks on user input before any query is built; each error names the query and the reason."""

from __future__ import annotations

import json
from collections.abc import Mapping

from lightretriever.errors import QueryError

# OpenSearch's default index.max_result_window and the k-NN plugin's k limit are both 10,000.
MAX_K = 10_000


def check_text(text: object) -> str:
    if not isinstance(text, str):
        raise QueryError(f"query {text!r}: must be a string, got {type(text).__name__}")
    if not text.strip():
        raise QueryError(f"query {text!r}: empty or whitespace-only query")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: neither the tokenizer nor OpenSearch takes it
        raise QueryError(f"query {text[:60]!r}: not valid UTF-8 (unpaired surrogate at {exc.start})") from None
    return text


def check_k(k: object, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        raise QueryError(f"{name}={k!r}: must be an integer between 1 and {MAX_K}")
    if not 1 <= k <= MAX_K:
        raise QueryError(f"{name}={k}: out of range, must be between 1 and {MAX_K}")
    return k


def check_filter(filter: object) -> None:
    """A filter must be a JSON object OpenSearch can read: no NaN or Infinity, valid UTF-8, not absurdly deep."""
    if filter is None:
        return
    if not isinstance(filter, Mapping):
        raise QueryError(f"filter must be an OpenSearch query clause (a JSON object), got {_preview(filter)}")
    try:
        json.dumps(filter, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except RecursionError:
        raise QueryError("filter is nested too deeply to send") from None
    except UnicodeEncodeError as exc:
        raise QueryError(f"filter is not valid UTF-8 (unpaired surrogate at {exc.start})") from None
    except (TypeError, ValueError) as exc:  # NaN/Infinity, or a value that is not JSON at all
        raise QueryError(f"filter is not valid JSON: {exc}") from None


def _preview(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
