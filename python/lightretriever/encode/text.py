"""The one rule for turning a document record into the text the document encoder sees."""

from __future__ import annotations


def document_text(title: str | None, text: str | None) -> str:
    """Title and body joined by a single space; either may be missing or blank."""
    parts = [p.strip() for p in (title, text) if p and p.strip()]
    return " ".join(parts)
