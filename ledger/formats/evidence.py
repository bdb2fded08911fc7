"""Evidence files a broker uploads with spend (a receipt photo, an invoice PDF): which kinds are taken, known by
their first bytes (never by the name or the type the browser claims), how large, and the reference stored.

Pure: bytes in, a kind or a refusal out. Keeping the files is the web floor's (ledger/web/evidence.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ledger.errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024
# kind -> (file extension, its magic bytes)
KINDS = {"PDF": ("pdf", b"%PDF-"), "JPEG": ("jpg", b"\xff\xd8\xff"), "PNG": ("png", b"\x89PNG\r\n\x1a\n")}
MAX_REFERENCE = 100  # what the broker types (receipt number); the stored reference adds the file's hash


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    kind: str
    sha256: str
    size: int

    @property
    def name(self) -> str:
        """The file's name where it is kept: its content's hash, so the same receipt is kept once."""
        return f"{self.sha256}.{KINDS[self.kind][0]}"


def evidence_file(data: bytes) -> EvidenceFile:
    """The upload's kind and SHA-256; refused if empty, over MAX_BYTES, or not a PDF, JPEG or PNG."""
    if not data:
        raise InvalidInput("the evidence file is empty")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"the evidence file is {len(data):,} bytes; at most {MAX_BYTES:,} (5 MB) are taken",
                           size=len(data), maximum=MAX_BYTES)
    for kind, (_, magic) in KINDS.items():
        if data.startswith(magic):
            return EvidenceFile(kind, hashlib.sha256(data).hexdigest(), len(data))
    raise InvalidInput("the evidence file is not a PDF, JPEG or PNG (judged by its content, not its name)")


def evidence_reference(typed: str, file: EvidenceFile | None) -> str:
    """What spend_records.evidence keeps: the reference typed, and the kept file's name (its hash), if any."""
    typed = " ".join(typed.split())
    if len(typed) > MAX_REFERENCE:
        raise InvalidInput(f"the evidence reference has {len(typed)} characters; at most {MAX_REFERENCE}",
                           length=len(typed))
    if file is None:
        return typed
    return f"{typed}; file sha256:{file.name}" if typed else f"file sha256:{file.name}"
