"""Project config file (lightretriever.json), checked against mappings/config.schema.json."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lightretriever.errors import MappingError

DEFAULT_NAME = "lightretriever.json"


def config_path(path: str | Path | None = None) -> Path | None:
    """Explicit path, else $LIGHTRETRIEVER_CONFIG, else ./lightretriever.json when it exists."""
    if path or os.environ.get("LIGHTRETRIEVER_CONFIG"):
        return Path(path or os.environ["LIGHTRETRIEVER_CONFIG"])
    return Path(DEFAULT_NAME) if Path(DEFAULT_NAME).is_file() else None


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The validated config, or {} when there is none; a bad file raises MappingError naming it."""
    from lightretriever.mappings import validate_config

    found = config_path(path)
    if found is None:
        return {}
    try:
        config = json.loads(found.read_text())
    except FileNotFoundError as exc:
        raise MappingError(f"config file {found} does not exist") from exc
    except ValueError as exc:
        raise MappingError(f"config file {found} is not valid JSON: {exc}") from exc
    validate_config(config, str(found))
    return config
