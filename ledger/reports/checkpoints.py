"""Checking signed checkpoints: each signature, and that both chains still pass through each signed head.

A checkpoint says that at its time the journal's head was entry N with hash H (and the history's was
record M with hash G), signed with a key the database never held. The chains are walked by `audit
verify` first; if they hold, entry N's stored hash is its true hash, so it must equal H. A ledger that
ends before N lost entries; one whose entry N hashes otherwise was rewritten from N or before.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, func, select

from ledger.formats.checkpoints import SignedCheckpoint, key_id, signature_ok
from ledger.models import journal_entries
from ledger.models.trust import history


def check_checkpoints(conn: Connection, log: Sequence[SignedCheckpoint], key: Ed25519PublicKey, *,
                      journal_ok: bool, history_ok: bool) -> list[str]:
    """One line per checkpoint that fails, naming its line in the log, when it was taken and by whom."""
    problems = []
    for signed in log:
        cp = signed.checkpoint
        name = f"checkpoint at line {signed.line} ({cp.at:%Y-%m-%d %H:%M:%S} UTC, by {cp.signer})"
        if cp.key_id != key_id(key):
            problems.append(f"{name} was signed with key {cp.key_id}, not the public key given ({key_id(key)})")
        elif not signature_ok(signed, key):
            problems.append(f"{name}: its signature does not verify (the line was altered or forged)")
        elif journal_ok and history_ok:
            problems += _heads(conn, name, cp.entry, cp.entry_hash, journal_entries.c.id, journal_entries.c.hash,
                               ("entry", "entries"))
            problems += _heads(conn, name, cp.history, cp.history_hash, history.c.seq, history.c.hash,
                               ("history record", "history records"))
    return problems


def anchor(conn: Connection, signed: SignedCheckpoint, key: Ed25519PublicKey) -> tuple[int, str] | None:
    """Where `audit verify --since-checkpoint` may start walking: (the entry the checkpoint signed, that entry's
    prev_hash), if the signature verifies with `key` and the entry still has the signed hash. Re-hashing that
    entry then proves it, and so its link back, is as signed. None if not (then the whole chain is walked)."""
    cp = signed.checkpoint
    if cp.entry == 0 or cp.key_id != key_id(key) or not signature_ok(signed, key):
        return None
    row = conn.execute(select(journal_entries.c.prev_hash, journal_entries.c.hash)
                       .where(journal_entries.c.id == cp.entry)).first()
    if row is None or row.hash != cp.entry_hash:
        return None
    return cp.entry, row.prev_hash


def _heads(conn: Connection, name: str, position: int, signed_hash: str, id_column, hash_column,  # type: ignore[no-untyped-def]
           what: tuple[str, str]) -> list[str]:
    if position == 0:
        return []
    last = conn.execute(select(func.coalesce(func.max(id_column), 0))).scalar_one()
    if last < position:
        return [f"{name} signed {what[0]} {position}, but the ledger ends at {what[0]} {last}: {what[1]} were "
                "deleted"]
    stored = conn.execute(select(hash_column).where(id_column == position)).scalar_one()
    if stored != signed_hash:
        return [f"{name} signed {what[0]} {position} with hash {signed_hash[:16]}…, but it now hashes to "
                f"{stored[:16]}…: the chain was rewritten at or before it"]
    return []
