"""Reading the JSON or YAML documents that configure the emulator (seed fixtures, fault rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import yaml

from graphlang.errors import BadRequest

YAML_MEDIA_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})


def parse_document(raw: bytes, *, yaml_syntax: bool, what: str) -> Any:
    """The document in ``raw``; YAML when ``yaml_syntax`` (a superset of JSON), else strict JSON."""
    if not raw.strip():
        raise BadRequest(f"The {what} is empty.")
    try:
        if yaml_syntax:
            return yaml.safe_load(raw)
        return orjson.loads(raw)
    except (yaml.YAMLError, orjson.JSONDecodeError) as exc:
        syntax = "YAML" if yaml_syntax else "JSON"
        raise BadRequest(f"The {what} is not valid {syntax}: {exc}") from exc


def read_document(path: Path, what: str) -> Any:
    """A document from a file: JSON when it is named ``*.json``, YAML otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadRequest(f"The {what} '{path}' cannot be read: {exc.strerror}.") from exc
    return parse_document(raw, yaml_syntax=path.suffix.lower() != ".json", what=f"{what} '{path}'")
