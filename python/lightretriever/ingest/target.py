"""The index a job writes to: created from `mappings/` when missing, its dimension checked when it exists."""

from __future__ import annotations

from typing import Any

from lightretriever.errors import MappingError


def ensure_index(client: Any, index: str, dense_dim: int, resuming: bool, encoder_id: str | None = None,
                 dtype: str | None = None) -> bool:
    """Create `index` if needed (True when this call created it); MappingError on a dimension clash or an
    index that records another document encoder (`encoder_id`, recorded in a new index's `_meta` with the
    encoder's precision `dtype`)."""
    from lightretriever.mappings import create_index

    if resuming and not client.indices.exists(index=index):
        raise MappingError(
            f"the checkpoint says documents were written to {index!r}, but that index no longer exists; "
            "pass --restart to ingest from the beginning"
        )
    return create_index(client, index, dense_dim, encoder_id=encoder_id, dtype=dtype)
