"""The canonical form the hash chains hash: one JSON encoder (sorted keys, no spaces, UTF-8), SHA-256 over it,
and the journal's canonical entry bytes built fast from plain values for `audit verify`.

`SealedEntry.canonical` (ledger/journal.py) says what an entry's canonical form holds; `canonical_bytes` here
writes the very same bytes without building the entry (tests/test_verify_stream.py proves them equal).
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Hashable, Iterable, Mapping
from datetime import date, datetime
from typing import TypeVar

# one encoder, configured once: json.dumps with options builds a new encoder per call (~30% of a hash)
CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(value: object) -> str:
    return hashlib.sha256(CANONICAL_JSON.encode(value).encode("utf-8")).hexdigest()


# --- the same canonical bytes, built fast -----------------------------------------------
# `audit verify` re-hashes every entry. Building a SealedEntry, its Lines and the dict above per entry costs
# many times the hashing, so the walk builds the very same bytes from plain values with string formatting:
# the keys in sorted order, strings through the encoder's own escaper, numbers as it writes them.
# tests/test_verify_stream.py proves the bytes equal SealedEntry.canonical's for arbitrary entries.

K = TypeVar("K", bound=Hashable)
_string = json.encoder.encode_basestring  # what CANONICAL_JSON (ensure_ascii=False) writes a str with


def _json_int(value: int | None) -> str:
    return "null" if value is None else int.__repr__(value)


def line_frames(accounts: Mapping[K, tuple[str, str]]) -> dict[K, tuple[str, str]]:
    """For each key, its account's (code, currency) as the canonical JSON of a line around its amount:
    (before, after), a line being before + str(amount) + after. Built once per account, not per line."""
    return {key: (f"[{_string(code)},", f",{_string(currency)}]") for key, (code, currency) in accounts.items()}


def canonical_lines(lines: Iterable[tuple[K, int]], frames: Mapping[K, tuple[str, str]]) -> str:
    """The canonical JSON of an entry's lines, (account key, amount) each, as `SealedEntry.canonical` writes
    "lines"; `frames` from `line_frames`."""
    parts = []
    for account, amount in lines:
        before, after = frames[account]
        parts.append(f"{before}{int.__repr__(amount)}{after}")
    return f"[{','.join(parts)}]"


def canonical_bytes(entry_id: int, prev_hash: str, idempotency_key: str, effective_date: date,
                    recorded_at: datetime, kind: str, memo: str, actor: str, phase: str, reverses: int | None,
                    completes: int | None, lines: str, meta: Mapping[str, object] | None,
                    principal: str = "") -> bytes:
    """The bytes `SealedEntry(...).canonical()` hashes, from plain values; `lines` from `canonical_lines`,
    `meta` as stored (None or empty: none)."""
    who = f'"principal":{_string(principal)},' if principal else ""
    text = (f'{{"actor":{_string(actor)},"completes":{_json_int(completes)},'
            f'"effective_date":{_string(effective_date.isoformat())},"id":{_json_int(entry_id)},'
            f'"idempotency_key":{_string(idempotency_key)},"kind":{_string(kind)},"lines":{lines},'
            f'"memo":{_string(memo)},"meta":{CANONICAL_JSON.encode(dict(meta)) if meta else "{}"},'
            f'"phase":{_string(phase)},"prev_hash":{_string(prev_hash)},{who}'
            f'"recorded_at":{_string(recorded_at.isoformat(timespec="microseconds"))},'
            f'"reverses":{_json_int(reverses)}}}')
    return text.encode("utf-8")
