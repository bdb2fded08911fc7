"""Keeping evidence files: under the server's evidence directory, named by their SHA-256 (the name the spend
record's evidence reference gives), written whole or not at all. What is taken is ledger/formats/evidence.py's."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ledger.formats.evidence import EvidenceFile


def keep(directory: Path, evidence: EvidenceFile, data: bytes) -> Path:
    """Store `data` as `directory/<sha256>.<ext>` unless already there (the same receipt is kept once)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / evidence.name
    if target.exists():
        return target
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o640)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
