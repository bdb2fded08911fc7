"""What the file formats share: reading a file, its UTF-8 text, a TOML/JSON document, and refusing what pydantic
refused."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import ValidationError

from ledger.errors import InvalidInput


def read_file(path: Path) -> bytes:
    """The file's bytes; a one-line refusal saying why it cannot be read (missing, a folder, no permission)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", file=str(path)) from None


def utf8_text(data: bytes, source: str) -> str:
    """`data` as UTF-8 text (a byte-order mark dropped); refused naming the line of the first byte that is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(f"{source}: line {line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8",
                           file=source, line=line) from None


def load_mapping(path: Path, raw: bytes | None = None) -> dict:
    """Read a TOML (or, by its .json suffix, JSON) file whose top level is a table (`raw`: its bytes, if the
    caller has read them already)."""
    text = utf8_text(read_file(path) if raw is None else raw, str(path))
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
