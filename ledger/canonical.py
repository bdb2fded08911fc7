"""The canonical form the hash chains hash: one JSON encoder (sorted keys, no spaces, UTF-8), SHA-256 over it,
and the journal's canonical bytes built fast from plain values, for posting and for `audit verify`.

`SealedEntry.canonical` and `Draft.content` (ledger/journal.py) say what an entry's canonical form and its
idempotency content hold; `canonical_bytes` and `content_bytes` here write the very same bytes without building
the dicts (tests/test_verify_stream.py and tests/test_posting_direct.py prove them equal for arbitrary values, and
pin hashes taken before they were built by hand).
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Hashable, Iterable, Mapping
from datetime import date, datetime
from typing import Protocol, TypeVar

# one encoder, configured once: json.dumps with options builds a new encoder per call (~30% of a hash)
CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(value: object) -> str:
    return hashlib.sha256(CANONICAL_JSON.encode(value).encode("utf-8")).hexdigest()


# --- the same canonical bytes, built fast -----------------------------------------------
# Posting hashes every entry twice (its content, for idempotency, and its place in the chain) and `audit verify`
# re-hashes every entry. Building the dicts above and encoding them costs many times the hashing, so both build
# the very same bytes from plain values with string formatting: the keys in sorted order, strings through the
# encoder's own escaper, numbers as it writes them; a value of any other type goes through the encoder itself.

K = TypeVar("K", bound=Hashable)
_escape = json.encoder.encode_basestring  # what CANONICAL_JSON (ensure_ascii=False) writes a str with


def _string(value: object) -> str:
    return _escape(value) if isinstance(value, str) else CANONICAL_JSON.encode(value)


def _json_int(value: object) -> str:
    if value is None:
        return "null"
    # a bool is an int whose repr is not JSON's
    return int.__repr__(value) if type(value) is int else CANONICAL_JSON.encode(value)  # type: ignore[arg-type]


def line_frames(accounts: Mapping[K, tuple[str, str]]) -> dict[K, tuple[str, str]]:
    """For each key, its account's (code, currency) as the canonical JSON of a line around its amount:
    (before, after), a line being before + str(amount) + after. Built once per account, not per line."""
    return {key: _frame(code, currency) for key, (code, currency) in accounts.items()}


def _frame(account: object, currency: object) -> tuple[str, str]:
    return f"[{_string(account)},", f",{_string(currency)}]"


def canonical_lines(lines: Iterable[tuple[K, int]], frames: Mapping[K, tuple[str, str]]) -> str:
    """The canonical JSON of an entry's lines, (account key, amount) each, as `SealedEntry.canonical` writes
    "lines"; `frames` from `line_frames`."""
    parts = []
    for account, amount in lines:
        before, after = frames[account]
        parts.append(f"{before}{_json_int(amount)}{after}")
    return f"[{','.join(parts)}]"


class _Line(Protocol):
    account: str
    amount: int
    currency: str


def plain_lines(lines: Iterable[_Line]) -> str:
    """The canonical JSON of lines (each with an account, amount and currency: a `Line` of ledger/journal.py), as
    the canonical forms write "lines"."""
    parts = []
    for line in lines:
        account, currency = line.account, line.currency
        plain = type(account) is str and type(currency) is str  # 1 == True: only plain strs share a frame
        frame = _FRAMES.get((account, currency)) if plain else None
        if frame is None:
            frame = _frame(account, currency)
            if plain:
                if len(_FRAMES) >= _MAX_FRAMES:
                    _FRAMES.clear()
                _FRAMES[account, currency] = frame
        parts.append(f"{frame[0]}{_json_int(line.amount)}{frame[1]}")
    return f"[{','.join(parts)}]"


# (account, currency) -> a line's JSON around its amount, as `line_frames` makes them: accounts recur from entry
# to entry, and escaping them is most of writing a line
_FRAMES: dict[tuple[str, str], tuple[str, str]] = {}
_MAX_FRAMES = 50_000


def _meta(meta: Mapping[str, object] | None) -> str:
    return CANONICAL_JSON.encode(dict(meta)) if meta else "{}"


def canonical_bytes(entry_id: int, prev_hash: str, idempotency_key: str, effective_date: date,
                    recorded_at: datetime, kind: str, memo: str, actor: str, phase: str, reverses: int | None,
                    completes: int | None, lines: str, meta: Mapping[str, object] | None,
                    principal: str = "") -> bytes:
    """The bytes `SealedEntry(...).canonical()` hashes, from plain values; `lines` from `canonical_lines`,
    `meta` as stored (None or empty: none)."""
    who = f'"principal":{_string(principal)},' if principal else ""
    text = (f'{{"actor":{_string(actor)},"completes":{_json_int(completes)},'
            f'"effective_date":{_escape(effective_date.isoformat())},"id":{_json_int(entry_id)},'
            f'"idempotency_key":{_string(idempotency_key)},"kind":{_string(kind)},"lines":{lines},'
            f'"memo":{_string(memo)},"meta":{_meta(meta)},'
            f'"phase":{_string(phase)},"prev_hash":{_string(prev_hash)},{who}'
            f'"recorded_at":{_escape(recorded_at.isoformat(timespec="microseconds"))},'
            f'"reverses":{_json_int(reverses)}}}')
    return text.encode("utf-8")


def content_bytes(lines: str, effective_date: date, kind: str, memo: str, phase: str, reverses: int | None,
                  completes: int | None, meta: Mapping[str, object] | None) -> bytes:
    """The bytes `Draft(...).content()` hashes, from plain values; `lines` from `plain_lines`."""
    text = (f'{{"completes":{_json_int(completes)},"effective_date":{_escape(effective_date.isoformat())},'
            f'"kind":{_string(kind)},"lines":{lines},"memo":{_string(memo)},"meta":{_meta(meta)},'
            f'"phase":{_string(phase)},"reverses":{_json_int(reverses)}}}')
    return text.encode("utf-8")


def history_bytes(seq: int, prev_hash: str, subject: str, key: str, op: str, values: Mapping[str, object],
                  actor: str, principal: str, recorded_at: datetime, reason: str) -> bytes:
    """The bytes `Change(...).canonical()` (ledger/history.py) hashes, from plain values: every tracked write
    hashes one, and `audit verify` every record again."""
    text = (f'{{"actor":{_string(actor)},"key":{_string(key)},"op":{_string(op)},"prev_hash":{_string(prev_hash)},'
            f'"principal":{_string(principal)},"reason":{_string(reason)},'
            f'"recorded_at":{_escape(recorded_at.isoformat(timespec="microseconds"))},"seq":{_json_int(seq)},'
            f'"subject":{_string(subject)},"values":{CANONICAL_JSON.encode(dict(values))}}}')
    return text.encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
