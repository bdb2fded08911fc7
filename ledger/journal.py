"""The double-entry core, pure: what an entry is, whether it may post, and its hash.

Nothing here touches the database. The service layer loads the accounts an entry names
into `AccountState` values, asks `check_entry` for the balance changes, and writes them.

Sign convention: a posting amount is signed minor units, debit positive, credit negative.
Assets and expenses are debit-normal; liabilities, equity and income are credit-normal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from ledger.canonical import canonical_bytes, content_bytes, plain_lines, sha256_hex
from ledger.errors import (
    AccountClosed,
    ClosedPeriod,
    CurrencyMismatch,
    InsufficientFunds,
    InvalidInput,
    UnbalancedEntry,
    UnknownAccount,
)
from ledger.money import format_amount

GENESIS_HASH = "0" * 64


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def normal_sign(self) -> int:
        """+1 if the account's natural balance is a debit, -1 if a credit."""
        return 1 if self in (AccountType.ASSET, AccountType.EXPENSE) else -1


class Phase(StrEnum):
    POSTED = "posted"  # moves balances
    PENDING = "pending"  # a hold: reserves funds, moves nothing until posted
    VOID = "void"  # releases a hold; has no postings


@dataclass(frozen=True, slots=True)
class Line:
    """One posting of a draft entry: account code and signed minor units."""

    account: str
    amount: int
    currency: str = "GBP"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise InvalidInput(f"amount for {self.account} must be whole pence, got {self.amount!r}")
        if self.amount == 0:
            raise InvalidInput(f"posting to {self.account} has a zero amount", account=self.account)


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry as requested, before it has an id, a time or a place in the chain."""

    lines: tuple[Line, ...]
    effective_date: date
    kind: str = "manual"
    memo: str = ""
    phase: Phase = Phase.POSTED
    reverses: int | None = None
    completes: int | None = None
    meta: Mapping[str, str] = field(default_factory=dict)

    def content(self) -> dict[str, object]:
        """What idempotency compares: everything the caller asked for, nothing the ledger added."""
        return {
            "lines": [[line.account, line.amount, line.currency] for line in self.lines],
            "effective_date": self.effective_date.isoformat(),
            "kind": self.kind,
            "memo": self.memo,
            "phase": str(self.phase),
            "reverses": self.reverses,
            "completes": self.completes,
            "meta": dict(sorted(self.meta.items())),
        }

    def content_hash(self, lines_json: str | None = None) -> str:
        """SHA-256 of `content()` as canonical JSON, its bytes built without the dict (ledger/canonical.py);
        `lines_json` is `plain_lines(self.lines)` if the caller has it already (the chain hash needs it too)."""
        return sha256_hex(content_bytes(plain_lines(self.lines) if lines_json is None else lines_json,
                                        self.effective_date, self.kind, self.memo, str(self.phase), self.reverses,
                                        self.completes, self.meta))


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the posting rules need to know of one account."""

    code: str
    type: AccountType
    currency: str
    non_negative: bool
    is_open: bool
    balance: int = 0  # posted, signed debit-positive
    pending_debits: int = 0  # held, >= 0
    pending_credits: int = 0  # held, >= 0

    @property
    def normal_balance(self) -> int:
        return self.type.normal_sign * self.balance

    @property
    def held(self) -> int:
        """Pending amounts that would reduce the natural balance."""
        return self.pending_credits if self.type.normal_sign > 0 else self.pending_debits

    @property
    def available(self) -> int:
        return self.normal_balance - self.held

    def moved(self, posted: int = 0, pending: int = 0, released: int = 0) -> AccountState:
        """The state after `posted` moves the balance, `pending` is reserved and `released` un-reserved."""
        # the constructor, not dataclasses.replace: this runs for every account of every entry posted
        debits, credits = self.pending_debits, self.pending_credits
        if pending or released:
            debits += max(pending, 0) - max(released, 0)
            credits += max(-pending, 0) - max(-released, 0)
        return AccountState(
            self.code, self.type, self.currency, self.non_negative, self.is_open, self.balance + posted, debits, credits
        )


@dataclass(frozen=True, slots=True)
class Change:
    """What one entry does to one account."""

    account: str
    posted: int = 0
    pending: int = 0
    released: int = 0


@dataclass(frozen=True, slots=True)
class ClosedRange:
    start: date
    end: date
    label: str


def check_entry(
    draft: Draft,
    accounts: Mapping[str, AccountState],
    closed: Sequence[ClosedRange] = (),
    released: Sequence[Line] = (),
    later: Mapping[str, Mapping[date, int]] | None = None,
    released_on: date | None = None,
) -> list[Change]:
    """Decide whether `draft` may post and return what it does to each account.

    `released` are the pending lines of a hold that this draft posts or voids; they stop
    counting as held. `later` gives, for the non-negative accounts that have any, the movements of
    their available balance by day (`available_movement`) dated after some day no later than the
    entry's; `released_on` is the date of the hold released. Raises a LedgerError naming the numbers
    if any rule refuses.
    """
    if closed:
        _check_period(draft.effective_date, closed)
    if draft.phase is not Phase.VOID and not draft.lines:
        raise UnbalancedEntry("an entry needs at least two postings", postings=0)
    _check_lines(draft.lines, accounts)
    _check_zero_sum(draft.lines)
    if draft.phase is Phase.PENDING and len({line.currency for line in draft.lines}) > 1:
        raise InvalidInput("a hold must be in one currency", currencies=sorted({line.currency for line in draft.lines}))
    changes = _changes(draft, released)
    _check_limits(changes, accounts)
    if later:
        _check_dated_limits(changes, accounts, later, draft.effective_date, released_on)
    return changes


def _check_period(effective: date, closed: Sequence[ClosedRange]) -> None:
    for period in closed:
        if period.start <= effective <= period.end:
            raise ClosedPeriod(
                f"effective date {effective} falls in closed period {period.label} "
                f"({period.start} to {period.end}); post the correction into an open period",
                effective_date=effective.isoformat(),
                period=period.label,
            )


def _check_lines(lines: Iterable[Line], accounts: Mapping[str, AccountState]) -> None:
    for line in lines:
        account = accounts.get(line.account)
        if account is None:
            raise UnknownAccount(f"no account {line.account!r}; open it first", account=line.account)
        if not account.is_open:
            raise AccountClosed(f"account {line.account} is closed", account=line.account)
        if account.currency != line.currency:
            raise CurrencyMismatch(
                f"account {line.account} is in {account.currency}, the posting is in {line.currency}",
                account=line.account,
                account_currency=account.currency,
                posting_currency=line.currency,
            )


def _check_zero_sum(lines: Sequence[Line]) -> None:
    if lines:  # the usual entry, in one currency, that balances: one pass, nothing built
        currency, total = lines[0].currency, 0
        for line in lines:
            if line.currency != currency:
                break
            total += line.amount
        else:
            if total == 0:
                return
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.currency] += line.amount
    for currency, total in sorted(totals.items()):
        if total != 0:
            side = "debits exceed credits" if total > 0 else "credits exceed debits"
            raise UnbalancedEntry(
                f"entry does not balance in {currency}: {side} by {format_amount(abs(total), currency)}",
                currency=currency,
                difference=total,
            )


def _changes(draft: Draft, released: Sequence[Line]) -> list[Change]:
    """Per account, in order of first mention: [posted, pending, released] sums."""
    moves: dict[str, list[int]] = {}
    column = 1 if draft.phase is Phase.PENDING else 0
    for line in draft.lines:
        moves.setdefault(line.account, [0, 0, 0])[column] += line.amount
    for line in released:
        moves.setdefault(line.account, [0, 0, 0])[2] += line.amount
    return [Change(code, posted, pending, freed) for code, (posted, pending, freed) in moves.items()]


def _check_limits(changes: Iterable[Change], accounts: Mapping[str, AccountState]) -> None:
    """No non-negative account may end below zero (unless the entry raises it): its balance after every entry."""
    for change in changes:
        before = accounts[change.account]
        if not before.non_negative:
            continue
        after = before.moved(change.posted, change.pending, change.released)
        if after.available < 0 and after.available < before.available:
            requested = before.available - after.available
            raise InsufficientFunds(
                f"account {before.code} would go below zero: requested "
                f"{format_amount(requested, before.currency)}, available "
                f"{format_amount(before.available, before.currency)} "
                f"(balance {format_amount(before.normal_balance, before.currency)}, held "
                f"{format_amount(before.held, before.currency)}), limit 0.00",
                account=before.code,
                requested=requested,
                available=before.available,
                balance=before.normal_balance,
                held=before.held,
                limit=0,
            )


# --- limits by date -----------------------------------------------------------------
# What an account has available on a day is its posted balance from postings dated up to that day, less
# the open holds dated up to that day. A non-negative account must not be below zero on ANY day: a spend
# dated in April cannot be paid out of an allocation dated in June, and a reduction back-dated to April
# must not take a later day below zero. `_check_limits` covers the last day (the stored totals); for an
# entry dated before some of the account's movements, the days from its date on are checked one by one.


def dated_effect(before: AccountState, change: Change) -> tuple[int, int]:
    """(moved, freed): how much `change` moves the account's available balance from the entry's own date on,
    and how much releasing a hold frees from that hold's date on."""
    freed = before.moved(released=change.released).available - before.available if change.released else 0
    return before.moved(change.posted, change.pending, change.released).available - before.available - freed, freed


def _available_by_day(state: AccountState, moves: Mapping[date, int], on: date,
                      also: date | None = None) -> list[tuple[date, int]]:
    """(day, available at the end of it) for `on` and each later day the account moves (and `also`), latest
    first. `moves` are the account's movements dated after some day <= `on`; `state` holds its totals."""
    days = {t for t in moves if t > on}
    if also is not None and also > on:
        days.add(also)
    out = []
    running = state.available
    for day in sorted(days, reverse=True):
        out.append((day, running))
        running -= moves.get(day, 0)
    out.append((on, running))
    return out


def spendable(state: AccountState, moves: Mapping[date, int], on: date) -> int:
    """The most that may leave the account on `on` without it being below zero on that day or any later one."""
    return min(available for _, available in _available_by_day(state, moves, on))


def available_movement(account_type: AccountType, posted: int, pending_debits: int, pending_credits: int) -> int:
    """How postings of one account on one day move its available balance: `posted` (signed, debit positive)
    moves it, and of open holds only the side that reduces it counts (as `AccountState.held` does)."""
    held = pending_credits if account_type.normal_sign > 0 else pending_debits
    return account_type.normal_sign * posted - held


def _check_dated_limits(changes: Iterable[Change], accounts: Mapping[str, AccountState],
                        later: Mapping[str, Mapping[date, int]], on: date, released_on: date | None) -> None:
    for change in changes:
        before = accounts[change.account]
        moves = later.get(change.account)
        if not before.non_negative or not moves:
            continue
        moved, freed = dated_effect(before, change)
        freed_on = max(released_on or on, on)
        for day, had in _available_by_day(before, moves, on, freed_on):
            change_on_day = moved + (freed if day >= freed_on else 0)
            if change_on_day < 0 and had + change_on_day < 0:
                raise InsufficientFunds(
                    f"account {before.code} would go below zero on {day}: requested "
                    f"{format_amount(-change_on_day, before.currency)}, available on {day} "
                    f"{format_amount(had, before.currency)}, limit 0.00",
                    account=before.code,
                    on=day.isoformat(),
                    requested=-change_on_day,
                    available=had,
                    limit=0,
                )


def apply_changes(
    accounts: Mapping[str, AccountState], changes: Iterable[Change]
) -> dict[str, AccountState]:
    """New states of the accounts `changes` touch."""
    return {
        c.account: accounts[c.account].moved(c.posted, c.pending, c.released) for c in changes
    }


def check_hold_sides(lines: Sequence[Line]) -> None:
    """Refuse a hold that debits and credits one account. Stored held figures are kept per side and
    audited from the postings side by side, but a Change nets one account's lines, so such a hold
    would store figures that differ from its postings (and fail `audit verify`)."""
    debited = {line.account for line in lines if line.amount > 0}
    both = sorted(debited & {line.account for line in lines if line.amount < 0})
    if both:
        raise InvalidInput(f"a hold cannot debit and credit the same account: {', '.join(both)}", accounts=both)


# --- the hash chain ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealedEntry:
    """An entry as the chain sees it: everything that is stored and must never change."""

    id: int
    prev_hash: str
    idempotency_key: str
    effective_date: date
    recorded_at: datetime
    kind: str
    memo: str
    actor: str
    phase: Phase
    reverses: int | None
    completes: int | None
    lines: tuple[Line, ...]
    meta: Mapping[str, str] = field(default_factory=dict)
    principal: str = ""  # who authenticated (ledger/storage/identity.py); "" on entries before it was kept

    def canonical(self) -> dict[str, object]:
        # an entry made before principals were kept hashes as it always did; one that has a principal
        # hashes it too, so it cannot be changed unseen
        extra: dict[str, object] = {"principal": self.principal} if self.principal else {}
        return extra | {
            "id": self.id,
            "prev_hash": self.prev_hash,
            "idempotency_key": self.idempotency_key,
            "effective_date": self.effective_date.isoformat(),
            "recorded_at": self.recorded_at.isoformat(timespec="microseconds"),
            "kind": self.kind,
            "memo": self.memo,
            "actor": self.actor,
            "phase": str(self.phase),
            "reverses": self.reverses,
            "completes": self.completes,
            "lines": [[line.account, line.amount, line.currency] for line in self.lines],
            "meta": dict(sorted(self.meta.items())),
        }

    @property
    def hash(self) -> str:
        return self.chain_hash()

    def chain_hash(self, lines_json: str | None = None) -> str:
        """SHA-256 of `canonical()` as canonical JSON, its bytes built without the dict (ledger/canonical.py);
        `lines_json` is `plain_lines(self.lines)` if the caller has it already."""
        return sha256_hex(canonical_bytes(
            self.id, self.prev_hash, self.idempotency_key, self.effective_date, self.recorded_at, self.kind,
            self.memo, self.actor, str(self.phase), self.reverses, self.completes,
            plain_lines(self.lines) if lines_json is None else lines_json, self.meta, self.principal))
