"""What the file formats share: reading a TOML/JSON document, and refusing what pydantic refused."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import ValidationError

from ledger.errors import InvalidInput


def load_mapping(path: Path) -> dict:
    """Read a TOML (or, by its .json suffix, JSON) file whose top level is a table."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", file=str(path)) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: expected a table/object at the top level", file=str(path))
    return data


def invalid_document(path: Path | str, exc: ValidationError, *within: str) -> InvalidInput:
    """The first problem pydantic found, as a refusal naming the file and the field's dotted path.

    `within` names the section the model was given (e.g. "finances"), so the path is the file's own.
    """
    first = exc.errors()[0]
    where = ".".join(str(part) for part in (*within, *first["loc"])) or "(top level)"
    return InvalidInput(f"{path}: {where}: {first['msg']}", file=str(path), field=where)
