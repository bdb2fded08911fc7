"""A stateful test of the posting service: random sequences of operations against a fresh ledger.

The machine opens accounts, posts balanced entries (one at a time and in batches, with and
without idempotency keys), replays keys with the same and with other content, places holds
and posts them (in full or in part) or voids them, reverses entries, and tries operations
that must be refused. It keeps its own small model of the books (balances and holds per
account, in pence, held debits and credits counted posting by posting) and predicts each
outcome from the model alone: accepted, replayed, or refused with which error.

After every step it checks the books with independent SQL (tests.ledger_state), the
ledger's own audit (ledger.reports.verify) and the model against the stored figures.
Every refusal and every replay is also checked to have written nothing at all.

It found that a hold debiting and crediting the same account stored its held figures
netted while the postings (and verify) count them side by side; the writer now refuses
such a hold (InvalidInput) before anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from ledger.errors import (
    AccountExists,
    AlreadyReversed,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    LedgerError,
    NotReversible,
    UnbalancedEntry,
    UnknownAccount,
    UnknownEntry,
)
from ledger.journal import AccountType, Draft, Line, Phase, SealedEntry
from ledger.models import ledger_head
from ledger.reports.verify import verify
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_account
from ledger.storage import reads
from tests import support
from tests.ledger_state import assert_books_hold, snapshot

OPENED = date(2025, 4, 1)
DATES = [date(2025, 4, 10), date(2025, 5, 10), date(2025, 6, 10)]
ACTOR = "machine"
TYPES = [AccountType.ASSET, AccountType.LIABILITY, AccountType.EQUITY, AccountType.INCOME, AccountType.EXPENSE]
DEBIT_NORMAL = {AccountType.ASSET, AccountType.EXPENSE}


# --- the model ----------------------------------------------------------------------------


@dataclass
class ModelAccount:
    type: AccountType
    non_negative: bool
    balance: int = 0  # posted, debit-positive
    held_debits: int = 0  # sum of the debit postings of open holds
    held_credits: int = 0  # sum of the credit postings (as a positive number) of open holds

    @property
    def available(self) -> int:
        if self.type in DEBIT_NORMAL:
            return self.balance - self.held_credits
        return -self.balance - self.held_debits


@dataclass
class ModelEntry:
    id: int
    phase: Phase
    lines: tuple[Line, ...]
    key: str
    reverses: int | None = None
    completes: int | None = None
    draft: Draft | None = None  # for plain posts: what was asked, to replay it
    sealed: SealedEntry | None = None  # what the ledger returned
    reversed_by: int | None = None
    resolved_by: int | None = None


def hold_size(lines: tuple[Line, ...]) -> int:
    return sum(line.amount for line in lines if line.amount > 0)


Moved = tuple[date, Phase, tuple[Line, ...]]  # an entry as the limits by day see it


class Refused(Exception):
    """The model's prediction that an operation is refused with `error`."""

    def __init__(self, error: type[LedgerError]) -> None:
        super().__init__(error.__name__)
        self.error = error


class Model:
    def __init__(self) -> None:
        self.accounts: dict[str, ModelAccount] = {}
        self.entries: dict[int, ModelEntry] = {}
        self.keys: dict[str, int] = {}  # idempotency key -> entry id

    @property
    def next_id(self) -> int:
        return len(self.entries) + 1

    def effect(
        self, lines: tuple[Line, ...], phase: Phase, released: tuple[Line, ...], accounts: dict[str, ModelAccount],
        day: date | None = None, releasing: int | None = None, batch: tuple[Moved, ...] = (),
    ) -> dict[str, ModelAccount]:
        """New states of the accounts an entry touches, or Refused. Does not change `accounts`.

        With `day` (the entry's date) also the limits on every day: `releasing` is the hold it resolves,
        `batch` the entries of the same batch before it."""
        if phase is Phase.PENDING and {l.account for l in lines if l.amount > 0} & {
                l.account for l in lines if l.amount < 0}:
            raise Refused(InvalidInput)  # a hold may not debit and credit the same account
        for line in (*lines, *released):
            if line.account not in accounts:
                raise Refused(UnknownAccount)
        if phase is not Phase.VOID and sum(line.amount for line in lines) != 0:
            raise Refused(UnbalancedEntry)
        after = {
            code: ModelAccount(a.type, a.non_negative, a.balance, a.held_debits, a.held_credits)
            for code, a in accounts.items()
            if code in {line.account for line in (*lines, *released)}
        }
        for line in released:
            a = after[line.account]
            if line.amount > 0:
                a.held_debits -= line.amount
            else:
                a.held_credits += line.amount
        for line in lines:
            a = after[line.account]
            if phase is Phase.PENDING:
                if line.amount > 0:
                    a.held_debits += line.amount
                else:
                    a.held_credits -= line.amount
            else:
                a.balance += line.amount
        for code, a in after.items():
            if a.non_negative and a.available < 0 and a.available < accounts[code].available:
                raise Refused(InsufficientFunds)
        if day is not None:
            self.check_every_day(lines, phase, day, releasing, batch)
        return after

    def moves(self, batch: tuple[Moved, ...] = (), without: int | None = None) -> list[Moved]:
        """(date, phase, lines) of every posted entry and open hold (but hold `without`), then `batch`."""
        kept = [(e.sealed.effective_date, e.phase, e.lines) for e in self.entries.values()  # type: ignore[union-attr]
                if e.id != without
                and (e.phase is Phase.POSTED or (e.phase is Phase.PENDING and e.resolved_by is None))]
        return kept + list(batch)

    def available_on(self, moves: list[Moved], code: str, day: date) -> int:
        """What `code` had available at the end of `day`, recomputed from `moves` dated up to it: posted
        amounts, and open holds on the side that reduces the account."""
        sign = 1 if self.accounts[code].type in DEBIT_NORMAL else -1
        total = 0
        for when, phase, lines in moves:
            for line in lines:
                if when <= day and line.account == code and (phase is Phase.POSTED or sign * line.amount < 0):
                    total += sign * line.amount
        return total

    def check_every_day(self, lines: tuple[Line, ...], phase: Phase, day: date, releasing: int | None,
                        batch: tuple[Moved, ...]) -> None:
        """Refused if on some day a non-negative account would end below zero, and lower than it was."""
        before = self.moves(batch)
        after = self.moves(batch, without=releasing) + ([(day, phase, lines)] if lines else [])
        days = {when for when, _, _ in after} | {when for when, _, _ in before}
        for code in {line.account for line in lines} | {line.account for _, _, ls in before for line in ls}:
            if not self.accounts[code].non_negative:
                continue
            for when in days:
                now, then = self.available_on(after, code, when), self.available_on(before, code, when)
                if now < 0 and now < then:
                    raise Refused(InsufficientFunds)


# --- the machine ----------------------------------------------------------------------------


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = support.databases().engine()
        self.model = Model()
        self.counter = 0

    def teardown(self) -> None:
        support.databases().drop(self.engine)

    # -- helpers

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def codes(self, non_negative: bool | None = None) -> list[str]:
        return sorted(c for c, a in self.model.accounts.items()
                      if non_negative is None or a.non_negative == non_negative)

    def draw_lines(self, data: st.DataObject, distinct: bool = False, most: int = 20_000) -> tuple[Line, ...]:
        """A balanced set of 2 to 4 postings over known accounts (an account may appear twice unless `distinct`)."""
        codes = self.codes()
        n = data.draw(st.integers(2, min(4, len(codes)) if distinct else 4), label="postings")
        debits = data.draw(st.lists(st.integers(1, most), min_size=1, max_size=n - 1), label="debits")
        c = n - len(debits)
        total = sum(debits)
        if total < c:
            debits[0] += c - total
            total = c
        cuts = sorted(data.draw(st.lists(st.integers(1, total - 1), min_size=c - 1, max_size=c - 1, unique=True),
                                label="cuts")) if c > 1 else []
        credits = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
        amounts = data.draw(st.permutations([*debits, *(-x for x in credits)]), label="order")
        accounts = data.draw(st.lists(st.sampled_from(codes), min_size=n, max_size=n, unique=distinct),
                             label="accounts")
        return tuple(Line(code, amount) for code, amount in zip(accounts, amounts))

    def draw_draft(self, data: st.DataObject, phase: Phase = Phase.POSTED, distinct: bool = False) -> Draft:
        return Draft(
            self.draw_lines(data, distinct),
            data.draw(st.sampled_from(DATES), label="date"),
            kind=data.draw(st.sampled_from(["manual", "allocation", "spend"]), label="kind"),
            memo=data.draw(st.sampled_from(["", "weekly", "invoice 7"]), label="memo"),
            phase=phase,
        )

    def refused(self, error: type[LedgerError], operation) -> LedgerError:  # type: ignore[no-untyped-def]
        """Run an operation that must be refused with `error`; check that it wrote nothing."""
        before = snapshot(self.engine)
        with pytest.raises(LedgerError) as raised:
            operation()
        assert type(raised.value) is error, f"expected {error.__name__}, got {raised.value!r}"
        assert snapshot(self.engine) == before, f"refused {error.__name__} but wrote something"
        return raised.value

    def replayed(self, operation, original: ModelEntry) -> None:  # type: ignore[no-untyped-def]
        """Run an operation that must replay `original`; check that it wrote nothing."""
        before = snapshot(self.engine)
        result = operation()
        assert snapshot(self.engine) == before, "a replay wrote something"
        assert result.replayed, f"expected a replay of entry {original.id}, got {result}"
        assert result.entry == original.sealed, f"replay returned {result.entry}, not {original.sealed}"

    def accepted(
        self,
        result: journal.Posted,
        lines: tuple[Line, ...],
        phase: Phase,
        key: str | None,
        released: tuple[Line, ...] = (),
        **fields,  # type: ignore[no-untyped-def]
    ) -> ModelEntry:
        """Record in the model a new entry the ledger has written, checking what it returned."""
        entry = result.entry
        assert not result.replayed
        assert entry.id == self.model.next_id, f"new entry got id {entry.id}, model expects {self.model.next_id}"
        assert (entry.phase, entry.lines, entry.actor) == (phase, lines, ACTOR), f"wrote {entry}, expected {lines}"
        if key is not None:
            assert entry.idempotency_key == key
        for name, value in fields.items():
            assert getattr(entry, name) == value, f"{name}: {getattr(entry, name)} != {value}"
        try:
            self.model.accounts.update(self.model.effect(lines, phase, released, self.model.accounts))
        except Refused as refusal:
            raise AssertionError(f"the ledger accepted entry {entry}, the model refuses it: {refusal}") from None
        recorded = ModelEntry(entry.id, phase, lines, entry.idempotency_key, sealed=entry, **fields)
        self.model.entries[entry.id] = recorded
        assert entry.idempotency_key not in self.model.keys
        self.model.keys[entry.idempotency_key] = entry.id
        return recorded

    def entries_where(self, test) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(i for i, e in self.model.entries.items() if test(e))

    # -- accounts

    @initialize()
    def open_starting_accounts(self) -> None:
        for code, type_, non_negative in (("source", AccountType.EQUITY, False), ("budget", AccountType.ASSET, True),
                                          ("owed", AccountType.LIABILITY, True), ("spend", AccountType.EXPENSE, False)):
            open_account(self.engine, AccountSpec(code, type_, OPENED, non_negative=non_negative))
            self.model.accounts[code] = ModelAccount(type_, non_negative)

    @precondition(lambda self: len(self.model.accounts) < 9)
    @rule(type_=st.sampled_from(TYPES), non_negative=st.booleans())
    def open_an_account(self, type_: AccountType, non_negative: bool) -> None:
        code = self.fresh(f"{type_}:")
        state = open_account(self.engine, AccountSpec(code, type_, OPENED, non_negative=non_negative))
        assert (state.code, state.type, state.non_negative, state.balance) == (code, type_, non_negative, 0)
        self.model.accounts[code] = ModelAccount(type_, non_negative)

    # -- posting

    def post(self, draft: Draft, key: str | None) -> None:
        """Post a draft the model has an opinion on: accepted, or refused with nothing written."""
        try:
            self.model.effect(draft.lines, draft.phase, (), self.model.accounts, day=draft.effective_date)
        except Refused as refusal:
            self.refused(refusal.error, lambda: journal.post(self.engine, draft, actor=ACTOR, key=key))
            return
        result = journal.post(self.engine, draft, actor=ACTOR, key=key)
        entry = self.accepted(result, draft.lines, draft.phase, key)
        entry.draft = draft

    @rule(data=st.data(), with_key=st.booleans())
    def post_an_entry(self, data: st.DataObject, with_key: bool) -> None:
        """Any balanced entry: accepted, or refused if it would take a non-negative account below zero."""
        self.post(self.draw_draft(data), self.fresh("k") if with_key else None)

    @rule(data=st.data(), amount=st.integers(1, 100_000))
    def fund_a_non_negative_account(self, data: st.DataObject, amount: int) -> None:
        """Move money into a non-negative account from an ordinary one."""
        target = data.draw(st.sampled_from(self.codes(non_negative=True)))
        source = data.draw(st.sampled_from(self.codes(non_negative=False)))
        sign = 1 if self.model.accounts[target].type in DEBIT_NORMAL else -1
        lines = (Line(target, sign * amount), Line(source, -sign * amount))
        self.post(Draft(lines, DATES[0], kind="allocation"), self.fresh("fund"))

    @precondition(lambda self: any(a.non_negative and a.available > 0 for a in self.model.accounts.values()))
    @rule(data=st.data(), hold=st.booleans(), exact=st.booleans(), with_key=st.booleans())
    def spend_from_a_non_negative_account(self, data: st.DataObject, hold: bool, exact: bool, with_key: bool) -> None:
        """Spend (or hold) up to what a non-negative account has available, to exactly zero at times."""
        code = data.draw(st.sampled_from(sorted(c for c, a in self.model.accounts.items()
                                                 if a.non_negative and a.available > 0)))
        account = self.model.accounts[code]
        amount = account.available if exact else data.draw(st.integers(1, account.available))
        others = [c for c in self.codes() if c != code]
        payees = data.draw(st.lists(st.sampled_from(others), min_size=1, max_size=min(2, amount), unique=True))
        sign = -1 if account.type in DEBIT_NORMAL else 1  # the side that reduces it
        first = data.draw(st.integers(1, amount - 1)) if len(payees) == 2 else amount
        parts = [first, amount - first][: len(payees)]
        lines = (Line(code, sign * amount), *(Line(payee, -sign * part) for payee, part in zip(payees, parts)))
        self.post(Draft(lines, DATES[1], kind="spend", phase=Phase.PENDING if hold else Phase.POSTED),
                  self.fresh("hold" if hold else "k") if with_key else None)

    @rule(data=st.data())
    def post_a_batch(self, data: st.DataObject) -> None:
        """post_many: several drafts, some keys repeated in the batch or already posted; all or nothing."""
        batch: list[tuple[Draft, str]] = []
        for _ in range(data.draw(st.integers(1, 4), label="batch size")):
            choice = data.draw(st.sampled_from(["new", "new", "repeat", "replay"]), label="choice")
            plain = self.entries_where(lambda e: e.draft is not None)
            if choice == "repeat" and batch:
                batch.append(data.draw(st.sampled_from(batch), label="repeat"))
            elif choice == "replay" and plain:
                original = self.model.entries[data.draw(st.sampled_from(plain), label="replay")]
                assert original.draft is not None
                batch.append((original.draft, original.key))
            else:
                batch.append((self.draw_draft(data), self.fresh("b")))
        # predict: a replay for keys already posted, sequential rules for the rest
        states = dict(self.model.accounts)
        earlier: tuple[Moved, ...] = ()  # the batch's new entries so far
        fresh: dict[str, int] = {}
        expected: list[tuple[str, object]] = []  # ("replay", entry) | ("new", draft) | ("repeat", index)
        refusal: type[LedgerError] | None = None
        for draft, key in batch:
            if key in fresh:
                expected.append(("repeat", fresh[key]))
            elif key in self.model.keys:
                expected.append(("replay", self.model.entries[self.model.keys[key]]))
            else:
                fresh[key] = len(expected)
                expected.append(("new", draft))
                if refusal is None:
                    try:
                        states.update(self.model.effect(draft.lines, draft.phase, (), states,
                                                        day=draft.effective_date, batch=earlier))
                        earlier += ((draft.effective_date, draft.phase, draft.lines),)
                    except Refused as r:
                        refusal = r.error
        if refusal is not None:
            self.refused(refusal, lambda: journal.post_many(self.engine, batch, actor=ACTOR))
            return
        before = len(self.model.entries)
        results = journal.post_many(self.engine, batch, actor=ACTOR)
        assert len(results) == len(batch)
        for (draft, key), (what, about), result in zip(batch, expected, results):
            if what == "replay":
                assert result.replayed and result.entry == about.sealed  # type: ignore[union-attr]
            elif what == "repeat":
                assert result.replayed and result.entry == results[about].entry  # type: ignore[index]
            else:
                self.accepted(result, draft.lines, draft.phase, key).draft = draft
        assert len(self.model.entries) == before + len(fresh)

    @rule(data=st.data(), with_key=st.booleans())
    def place_a_hold(self, data: st.DataObject, with_key: bool) -> None:
        """A random hold, mostly naming each account once (one debiting and crediting an account is refused)."""
        distinct = data.draw(st.integers(0, 4), label="distinct") > 0
        self.post(self.draw_draft(data, Phase.PENDING, distinct), self.fresh("hold") if with_key else None)

    # -- replays and conflicts

    @precondition(lambda self: any(e.draft is not None and not e.key.startswith("auto:")
                                   for e in self.model.entries.values()))
    @rule(data=st.data(), batch=st.booleans())
    def replay_a_key_with_the_same_content(self, data: st.DataObject, batch: bool) -> None:
        """Whatever has happened since (even if the entry could not post now), the original comes back."""
        ids = self.entries_where(lambda e: e.draft is not None and not e.key.startswith("auto:"))
        original = self.model.entries[data.draw(st.sampled_from(ids))]
        draft = original.draft
        if batch:
            self.replayed(lambda: journal.post_many(self.engine, [(draft, original.key)], actor=ACTOR)[0], original)
        else:
            self.replayed(lambda: journal.post(self.engine, draft, actor=ACTOR, key=original.key), original)

    @precondition(lambda self: self.model.keys)
    @rule(data=st.data(), what=st.sampled_from(["post", "post", "batch", "same-batch", "derived"]),
          change=st.sampled_from(["memo", "amount", "date", "phase"]))
    def reuse_a_key_with_other_content(self, data: st.DataObject, what: str, change: str) -> None:
        """A key already used (plain, hold, reversal, resolution) asked to do something else: a conflict."""
        if what == "same-batch":  # a key twice in one batch, with different content
            key = self.fresh("b")
            first = self.draw_draft(data)
            second = Draft(first.lines, first.effective_date, first.kind, first.memo + "!", first.phase)
            self.refused(IdempotencyConflict,
                         lambda: journal.post_many(self.engine, [(first, key), (second, key)], actor=ACTOR))
            return
        if what == "derived":  # reverse, post or void a hold under the key of a plain entry
            plain = self.model.entries[data.draw(st.sampled_from(self.entries_where(lambda e: e.draft is not None)
                                                                 or [1]))]
            target = data.draw(st.sampled_from(sorted(self.model.entries)))
            if self.model.entries[target].phase is Phase.PENDING and data.draw(st.booleans()):
                self.resolve(target, plain.key, None, data.draw(st.booleans()))
            else:
                self.reverse(target, plain.key)
            return
        key = data.draw(st.sampled_from(sorted(self.model.keys)))
        original = self.model.entries[self.model.keys[key]]
        draft = original.draft or Draft(self.draw_lines(data), DATES[0])
        if change == "memo":
            draft = Draft(draft.lines, draft.effective_date, draft.kind, draft.memo + " (again)", draft.phase)
        elif change == "amount":
            lines = (*draft.lines, Line(draft.lines[0].account, 1), Line(draft.lines[0].account, -1))
            draft = Draft(lines, draft.effective_date, draft.kind, draft.memo, draft.phase)
        elif change == "date":
            day = date(2025, 7, 1) if draft.effective_date != date(2025, 7, 1) else DATES[0]
            draft = Draft(draft.lines, day, draft.kind, draft.memo, draft.phase)
        else:
            other = Phase.PENDING if draft.phase is Phase.POSTED else Phase.POSTED
            draft = Draft(draft.lines, draft.effective_date, draft.kind, draft.memo, other)
        if what == "batch":
            extra = (self.draw_draft(data), self.fresh("b"))
            self.refused(IdempotencyConflict,
                         lambda: journal.post_many(self.engine, [extra, (draft, key)], actor=ACTOR))
        else:
            self.refused(IdempotencyConflict, lambda: journal.post(self.engine, draft, actor=ACTOR, key=key))

    # -- refusals

    @rule(data=st.data(), what=st.sampled_from(["overdraw", "overdraw", "unbalanced", "unknown account",
                                                "existing account"]))
    def try_something_refused(self, data: st.DataObject, what: str) -> None:
        if what == "overdraw":  # more than is available (holds included), by a posting or a hold
            code = data.draw(st.sampled_from(self.codes(non_negative=True)))
            other = data.draw(st.sampled_from(self.codes(non_negative=False)))
            account = self.model.accounts[code]
            assert account.available >= 0
            amount = account.available + data.draw(st.integers(1, 50_000))
            sign = -1 if account.type in DEBIT_NORMAL else 1  # the side that reduces it
            draft = Draft((Line(other, -sign * amount), Line(code, sign * amount)), DATES[1],
                          phase=data.draw(st.sampled_from([Phase.POSTED, Phase.PENDING])))
            error = self.refused(InsufficientFunds,
                                 lambda: journal.post(self.engine, draft, actor=ACTOR, key=self.fresh("k")))
            assert (error.details["account"], error.details["available"], error.details["requested"]) == (
                code, account.available, amount)
        elif what == "unbalanced":
            lines = self.draw_lines(data)
            off = data.draw(st.integers(-1000, 1000).filter(bool))
            draft = Draft((*lines, Line(data.draw(st.sampled_from(self.codes())), off)), DATES[0])
            error = self.refused(UnbalancedEntry,
                                 lambda: journal.post(self.engine, draft, actor=ACTOR, key=self.fresh("k")))
            assert error.details["difference"] == off
        elif what == "unknown account":
            lines = list(self.draw_lines(data, distinct=True))
            where = data.draw(st.integers(0, len(lines) - 1))
            lines[where] = Line("nowhere:" + lines[where].account, lines[where].amount)
            draft = Draft(tuple(lines), DATES[0], phase=data.draw(st.sampled_from([Phase.POSTED, Phase.PENDING])))
            self.refused(UnknownAccount, lambda: journal.post(self.engine, draft, actor=ACTOR, key=self.fresh("k")))
        else:
            code = data.draw(st.sampled_from(self.codes()))
            self.refused(AccountExists,
                         lambda: open_account(self.engine, AccountSpec(code, AccountType.ASSET, OPENED)))

    # -- holds

    def resolve(self, hold_id: int, key: str | None, amount: int | None, void: bool) -> None:
        """Post (in full or for `amount`) or void a hold, predicting the outcome from the model."""
        hold = self.model.entries.get(hold_id)
        effective = key or (f"hold-void:{hold_id}" if void else f"hold-post:{hold_id}")

        def call() -> journal.Posted:
            if void:
                return journal.void_hold(self.engine, hold_id, actor=ACTOR, effective_date=DATES[2], key=key)
            return journal.post_hold(self.engine, hold_id, actor=ACTOR, effective_date=DATES[2], amount=amount,
                                     key=key)

        if hold is None and not void:
            self.refused(UnknownEntry, call)
            return
        if effective in self.model.keys:
            earlier = self.model.entries[self.model.keys[effective]]
            if void:
                same = earlier.completes == hold_id and earlier.phase is Phase.VOID
            else:
                wanted = amount if amount is not None else hold_size(hold.lines)  # type: ignore[union-attr]
                same = earlier.completes == hold_id and earlier.phase is Phase.POSTED and \
                    hold_size(earlier.lines) == wanted
            if same:
                self.replayed(call, earlier)
            else:
                self.refused(IdempotencyConflict, call)
            return
        if hold is None:
            self.refused(UnknownEntry, call)
            return
        if hold.phase is not Phase.PENDING or hold.resolved_by is not None:
            self.refused(HoldNotPending, call)
            return
        total = hold_size(hold.lines)
        if amount is not None and not 0 < amount <= total:
            self.refused(InvalidInput, call)
            return
        lines: tuple[Line, ...] = () if void else hold.lines
        if amount is None or void:
            try:
                self.model.effect(lines, Phase.VOID if void else Phase.POSTED, hold.lines, self.model.accounts,
                                  day=DATES[2], releasing=hold_id)
            except Refused as refusal:
                self.refused(refusal.error, call)
                return
        # (posting part of a hold frees more than it spends, so it is never refused for funds)
        result = call()
        if amount is not None and not void:  # the split is the ledger's: check it is a fair one, then use it
            self.check_partial(hold.lines, result.entry.lines, amount)
            lines = result.entry.lines
        entry = self.accepted(result, lines, Phase.VOID if void else Phase.POSTED, effective, hold.lines,
                              completes=hold_id)
        hold.resolved_by = entry.id

    @staticmethod
    def check_partial(hold: tuple[Line, ...], posted: tuple[Line, ...], amount: int) -> None:
        """The posted part of a hold: in the hold's order, each leg's share is its exact share rounded up or
        down (a zero share left out), with the leg's sign; debits and credits each come to `amount`."""
        total = hold_size(hold)

        def fits(i: int, j: int) -> bool:
            if i == len(hold):
                return j == len(posted)
            leg, exact = hold[i], hold[i].amount * amount / total
            if j < len(posted) and posted[j].account == leg.account and abs(posted[j].amount - exact) < 1 \
                    and (posted[j].amount > 0) == (leg.amount > 0) and fits(i + 1, j + 1):
                return True
            return abs(exact) < 1 and fits(i + 1, j)

        assert fits(0, 0), f"{posted} is not a fair share of {amount} of hold {hold}"
        assert sum(l.amount for l in posted if l.amount > 0) == amount
        assert sum(l.amount for l in posted if l.amount < 0) == -amount

    def open_holds(self) -> list[int]:
        return self.entries_where(lambda e: e.phase is Phase.PENDING and e.resolved_by is None)

    @precondition(lambda self: self.open_holds())
    @rule(data=st.data(), void=st.booleans(), with_key=st.booleans())
    def post_or_void_an_open_hold(self, data: st.DataObject, void: bool, with_key: bool) -> None:
        """Post an open hold in full, or void it."""
        hold_id = data.draw(st.sampled_from(self.open_holds()))
        self.resolve(hold_id, self.fresh("r") if with_key else None, None, void)

    @precondition(lambda self: self.open_holds())
    @rule(data=st.data(), with_key=st.booleans())
    def post_part_of_an_open_hold(self, data: st.DataObject, with_key: bool) -> None:
        """Post part of an open hold, the rest released (now and then 0 or more than the hold: refused)."""
        hold_id = data.draw(st.sampled_from(self.open_holds()))
        total = hold_size(self.model.entries[hold_id].lines)
        valid = data.draw(st.integers(0, 4), label="valid") > 0
        amount = data.draw(st.integers(1, total) if valid else st.sampled_from([0, total + 1]), label="amount")
        self.resolve(hold_id, self.fresh("r") if with_key else None, amount, False)

    @precondition(lambda self: self.model.entries)
    @rule(data=st.data(), void=st.booleans(), what=st.sampled_from(["its own key", "new key", "default key",
                                                                    "not a hold"]))
    def resolve_what_cannot_be(self, data: st.DataObject, void: bool, what: str) -> None:
        """A resolved hold again: under its own key the same request is a replay and another a conflict;
        under a new key, refused. A posted entry, a void, or no entry at all: refused."""
        resolved = self.entries_where(lambda e: e.resolved_by is not None)
        if what == "not a hold" or not resolved:
            others = self.entries_where(lambda e: e.phase is not Phase.PENDING)
            entry_id = data.draw(st.sampled_from([*others, self.model.next_id + 5]))
            self.resolve(entry_id, self.fresh("r"), None, void)
            return
        hold_id = data.draw(st.sampled_from(resolved))
        resolution = self.model.entries[self.model.entries[hold_id].resolved_by]  # type: ignore[index]
        if data.draw(st.integers(0, 2), label="as before") > 0:  # mostly the same request as the first time
            void = resolution.phase is Phase.VOID
        amount = None if void or resolution.phase is Phase.VOID else hold_size(resolution.lines)
        if what == "new key":
            self.resolve(hold_id, self.fresh("r"), None, void)
        else:
            self.resolve(hold_id, resolution.key if what == "its own key" else None, amount, void)

    # -- reversals

    def reverse(self, entry_id: int, key: str | None) -> None:
        effective = key or f"reverse:{entry_id}"
        original = self.model.entries.get(entry_id)

        def call() -> journal.Posted:
            return journal.reverse(self.engine, entry_id, actor=ACTOR, effective_date=DATES[2], key=key)

        if effective in self.model.keys:
            earlier = self.model.entries[self.model.keys[effective]]
            if earlier.reverses == entry_id:
                self.replayed(call, earlier)
            else:
                self.refused(IdempotencyConflict, call)
            return
        if original is None:
            self.refused(UnknownEntry, call)
            return
        if original.phase is not Phase.POSTED:
            self.refused(NotReversible, call)
            return
        if original.reversed_by is not None:
            self.refused(AlreadyReversed, call)
            return
        lines = tuple(Line(line.account, -line.amount, line.currency) for line in original.lines)
        try:
            self.model.effect(lines, Phase.POSTED, (), self.model.accounts, day=DATES[2])
        except Refused as refusal:
            self.refused(refusal.error, call)
            return
        entry = self.accepted(call(), lines, Phase.POSTED, effective, reverses=entry_id)
        original.reversed_by = entry.id

    @precondition(lambda self: any(e.phase is Phase.POSTED and e.reversed_by is None
                                   for e in self.model.entries.values()))
    @rule(data=st.data(), with_key=st.booleans())
    def reverse_an_entry(self, data: st.DataObject, with_key: bool) -> None:
        """A posted entry not yet reversed (perhaps itself a reversal or a posted hold): reversed, unless
        the mirror image would take a non-negative account below zero."""
        entry_id = data.draw(st.sampled_from(self.entries_where(lambda e: e.phase is Phase.POSTED
                                                                and e.reversed_by is None)))
        self.reverse(entry_id, self.fresh("v") if with_key else None)

    @precondition(lambda self: self.model.entries)
    @rule(data=st.data(), what=st.sampled_from(["again, its key", "again, new key", "hold or void", "no entry"]))
    def reverse_what_cannot_be(self, data: st.DataObject, what: str) -> None:
        """Again under its own key: a replay; again under a new key, a hold, a void, no entry: refused."""
        before = len(self.model.entries)
        if what.startswith("again"):
            done = self.entries_where(lambda e: e.reversed_by is not None)
            if not done:
                return
            entry_id = data.draw(st.sampled_from(done))
            reversal = self.model.entries[self.model.entries[entry_id].reversed_by]  # type: ignore[index]
            self.reverse(entry_id, reversal.key if what == "again, its key" else self.fresh("v"))
        elif what == "hold or void":
            others = self.entries_where(lambda e: e.phase is not Phase.POSTED)
            if not others:
                return
            self.reverse(data.draw(st.sampled_from(others)), self.fresh("v") if data.draw(st.booleans()) else None)
        else:
            self.reverse(self.model.next_id + 5, None)
        assert len(self.model.entries) == before

    # -- after every step

    @invariant()
    def books_hold(self) -> None:
        found = assert_books_hold(self.engine)  # trial balance, stored = postings, non-negative, entries sum to 0
        report = verify(self.engine)
        assert report.ok, f"verify: {report}"
        assert report.entries == len(self.model.entries)
        assert set(found) == set(self.model.accounts)
        for code, account in self.model.accounts.items():
            f = found[code]
            assert (f.balance, f.pending_debits, f.pending_credits) == (
                account.balance, account.held_debits, account.held_credits), f"{code}: ledger {f}, model {account}"
            assert f.non_negative == account.non_negative
            if account.non_negative:
                assert account.available >= 0 and f.available == account.available
        with self.engine.connect() as conn:
            head = conn.execute(select(ledger_head.c.last_entry_id, ledger_head.c.last_hash)).one()
            last = self.model.entries.get(len(self.model.entries))
            assert head[0] == len(self.model.entries)
            if last is not None:  # the head is the last entry the ledger returned, stored as returned
                assert head[1] == last.sealed.hash  # type: ignore[union-attr]
                assert reads.load_entry(conn, last.id) == last.sealed


def test_ledger_machine(databases: support.FreshDatabases) -> None:
    """Random sequences of posting operations keep the books, and the model, right."""
    run_state_machine_as_test(LedgerMachine, settings=settings(max_examples=30, stateful_step_count=40))
