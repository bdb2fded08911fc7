"""Refusals the ledger gives. Each carries a one-line reason and the numbers behind it.

A refusal is raised before anything is written, or inside the transaction that is then
rolled back, so a refused operation never leaves a trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class LedgerError(Exception):
    """Base of every refusal. `code` is stable for scripts; `details` holds the numbers."""

    code = "ledger_error"

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "reason": self.reason, **self.details}


@contextmanager
def refused_as(what: str, **details: Any) -> Iterator[None]:
    """A refusal inside this block is said of `what` (one item of a batch, a line of a file): the same kind of
    refusal, its reason after "`what`: ", `details` added to its numbers."""
    try:
        yield
    except LedgerError as exc:
        raise type(exc)(f"{what}: {exc.reason}", **{**exc.details, **details}) from None


class InvalidInput(LedgerError):
    code = "invalid_input"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class UnknownAccount(LedgerError):
    code = "unknown_account"


class AccountExists(LedgerError):
    code = "account_exists"


class AccountClosed(LedgerError):
    code = "account_closed"


class CurrencyMismatch(LedgerError):
    code = "currency_mismatch"


class UnbalancedEntry(LedgerError):
    code = "unbalanced_entry"


class InsufficientFunds(LedgerError):
    code = "insufficient_funds"


class IdempotencyConflict(LedgerError):
    code = "idempotency_conflict"


class UnknownEntry(LedgerError):
    code = "unknown_entry"


class AlreadyReversed(LedgerError):
    code = "already_reversed"


class NotReversible(LedgerError):
    code = "not_reversible"


class HoldNotPending(LedgerError):
    code = "hold_not_pending"


class ClosedPeriod(LedgerError):
    code = "closed_period"


class ConcurrentUpdate(LedgerError):
    code = "concurrent_update"


class UnknownParty(LedgerError):
    """No such funder, person, pool or budget."""

    code = "unknown_party"


class NotAllowed(LedgerError):
    """The domain's rules forbid it (e.g. a stream this funder cannot fund, a closed pool)."""

    code = "not_allowed"


class Forbidden(LedgerError):
    """The acting user's role does not allow this (or the user is unknown or inactive)."""

    code = "forbidden"


class Unavailable(LedgerError):
    """The database, its driver, or a file the command needs cannot be used; the reason says what to do."""

    code = "unavailable"


class NoLedger(Unavailable):
    """No ledger where the command looked (a missing SQLite file, an empty database), or one at another schema."""

    code = "no_ledger"
