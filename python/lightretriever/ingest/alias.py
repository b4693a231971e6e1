"""Zero-downtime re-encoding: write into `<alias>-v<N>`, verify its count, then move the alias atomically.

The previous index keeps serving until the alias moves, and stays afterwards unless asked to delete it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from lightretriever.errors import LightRetrieverError

log = logging.getLogger(__name__)


class AliasError(LightRetrieverError):
    """The alias cannot be created or moved (name clash, count mismatch)."""


def versioned_name(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


def next_version(client: Any, alias: str) -> str:
    """`<alias>-v<N>` with N one above the highest existing version."""
    if client.indices.exists(index=alias) and not client.indices.exists_alias(name=alias):
        raise AliasError(f"{alias!r} is a concrete index, not an alias; pick another alias name")
    pattern = re.compile(rf"^{re.escape(alias)}-v(\d+)$")
    existing = client.indices.get(index=f"{alias}-v*", expand_wildcards="all", ignore_unavailable=True)
    versions = [int(m.group(1)) for name in existing if (m := pattern.match(name))]
    return versioned_name(alias, max(versions, default=0) + 1)


def alias_targets(client: Any, alias: str) -> list[str]:
    if not client.indices.exists_alias(name=alias):
        return []
    return sorted(client.indices.get_alias(name=alias))


def verify_count(client: Any, index: str, expected: int) -> int:
    client.indices.refresh(index=index)
    count = int(client.count(index=index)["count"])
    if count != expected:
        raise AliasError(
            f"alias not moved: index {index!r} holds {count} documents but the job indexed {expected} distinct ids"
        )
    return count


def swap(client: Any, alias: str, index: str, delete_old: bool = False) -> list[str]:
    """Point `alias` at `index` only (one atomic request); returns the indices it left."""
    old = [name for name in alias_targets(client, alias) if name != index]
    actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": alias}} for name in old]
    actions.append({"add": {"index": index, "alias": alias}})
    client.indices.update_aliases(body={"actions": actions})
    for name in old:
        if delete_old:
            client.indices.delete(index=name)
            log.info("deleted old index %s", name)
        else:
            log.info("old index %s kept (delete it with --delete-old on the next run, or DELETE /%s)", name, name)
    return old
