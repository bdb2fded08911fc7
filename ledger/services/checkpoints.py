"""Taking a signed checkpoint: both chains' heads, signed with a key kept outside the database, appended to a
log kept outside it too, and recorded in the ledger.

Run by `ipb audit checkpoint`, and by payment-run approval and period close when a key is configured
(IPB_AUDIT_KEY and IPB_AUDIT_LOG). The heads are read under the writers' locks, so no entry or history
record can land between them while the checkpoint is taken.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, insert

from ledger.calendar import utc_now
from ledger.errors import InvalidInput
from ledger.formats.checkpoints import Checkpoint, SignedCheckpoint, key_id_of_private, sign, to_line
from ledger.models.trust import checkpoints
from ledger.storage import history as trail
from ledger.storage import posting
from ledger.storage.identity import principal_of


@dataclass(frozen=True, slots=True)
class AuditKey:
    """Where the signing key and the checkpoint log are."""

    key: Path
    log: Path

    @classmethod
    def configured(cls) -> AuditKey | None:
        """The key and log IPB_AUDIT_KEY and IPB_AUDIT_LOG name, if a key is configured."""
        key, log = os.environ.get("IPB_AUDIT_KEY"), os.environ.get("IPB_AUDIT_LOG")
        if not key:
            return None
        if not log:
            raise InvalidInput("IPB_AUDIT_KEY is set but IPB_AUDIT_LOG is not: name the checkpoint log too")
        return cls(Path(key), Path(log))


def take_checkpoint(engine: Engine, where: AuditKey, *, actor: str) -> SignedCheckpoint:
    """Sign the current heads, append the checkpoint to the log (flushed to disk), and record it."""
    try:
        private_pem = where.key.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the audit key {where.key}: {exc.strerror}") from None
    with engine.begin() as conn:
        entry, entry_hash = posting.lock_head(conn)
        seq, seq_hash = trail.lock_head(conn)
        checkpoint = Checkpoint(entry, entry_hash, seq, seq_hash, utc_now(), actor, key_id_of_private(private_pem))
        signed = sign(checkpoint, private_pem)
        _append(where.log, to_line(signed))
        conn.execute(insert(checkpoints).values(
            entry=checkpoint.entry, entry_hash=checkpoint.entry_hash, history=checkpoint.history,
            history_hash=checkpoint.history_hash, taken_at=checkpoint.at, signer=actor, key_id=checkpoint.key_id,
            signature=base64.b64encode(signed.signature).decode(), principal=principal_of(conn, actor)))
    return signed


def _append(log: Path, line: str) -> None:
    try:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise InvalidInput(f"cannot append to the checkpoint log {log}: {exc.strerror}") from None
