"""Bank statement lines matched to payments, and what is left unmatched.

Nothing here posts to the journal. A match links a statement line (imported by
ledger/services/statement_import.py) to the payments it shows (one, or a whole run paid as one
bulk debit). When a line is the return of a failed payment, the reversal is the payments service's
to post: the match result lists those payments so the caller can have them reversed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine, and_, insert, select
from sqlalchemy.exc import IntegrityError

from ledger.bacs_calendar import ProcessingDays
from ledger.calendar import utc_now
from ledger.config import MAX_TOLERANCE_DAYS
from ledger.errors import ConcurrentUpdate, InvalidInput, LedgerError
from ledger.formats.bank_holidays import processing_days
from ledger.models import accounts
from ledger.models.bank import bank_match_payments, bank_matches, bank_statement_lines
from ledger.models.payments import paying_accounts, payment_runs, payments
from ledger.rules import matching
from ledger.rules.matching import BankLine, Expected, Matching, NearMiss
from ledger.services.statement_import import CHUNK, BankAccount, Progress, bank_account
from ledger.storage.engine import reading

RETURN_DAYS = 15  # processing days (three weeks) a returned payment may come back after the pay date, + tolerance
RUNS_ON_BANK = ("submitted", "settled")  # runs whose payments have gone to the bank
OUT_STATUSES = ("held", "settled", "returned")  # sent to the bank and not voided ("failed" never left)
RETURN_STATUSES = ("settled", "returned")  # "returned": known to come back; "settled": may, by reference only


# --- matching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineView:
    id: int
    account: str
    statement_id: int
    posted_on: date
    amount: int
    description: str
    reference: str
    bank_id: str | None


@dataclass(frozen=True, slots=True)
class PaymentView:
    id: int
    run_id: int
    account: str
    pay_date: date
    amount: int  # pence, positive
    reference: str
    payee: str
    status: str
    direction: str  # out, or return (expected back)


@dataclass(frozen=True)
class Matched:
    """The outcome of a matching run: what matched (and why) and what is left."""

    matches: tuple[matching.Match, ...]
    lines: dict[int, LineView]
    payments: dict[tuple[int, str], PaymentView]
    unmatched_lines: tuple[int, ...]
    unmatched_payments: tuple[tuple[int, str], ...]
    returns_to_post: tuple[int, ...]  # settled payments whose return is now on the statement: not yet reversed
    tolerance_days: int
    dry_run: bool
    rule_version: str = matching.RULE_VERSION
    match_ids: dict[int, int] = field(default_factory=dict)  # line id -> stored match id


def match_statements(engine: Engine, *, actor: str, account: str | None = None, tolerance_days: int = 3,
                     dry_run: bool = False, on_progress: Progress = None,
                     days: ProcessingDays | None = None) -> Matched:
    """Match every unmatched statement line to the unmatched payments of the same bank account.

    `tolerance_days` counts Bacs processing days (`days`, default the calendar in force). A dry run reads
    only and reports what would match. Otherwise the matches are stored in one transaction; the database
    refuses a line or a payment matched twice.
    """
    _check_tolerance(tolerance_days)
    days = days or processing_days()
    if dry_run:
        with reading(engine) as conn, conn.begin():
            return _match_in(conn, actor, account, tolerance_days, days, True, on_progress)
    try:
        with engine.begin() as conn:
            return _match_in(conn, actor, account, tolerance_days, days, False, on_progress)
    except IntegrityError as exc:
        raise ConcurrentUpdate("another matching run stored some of these matches at the same time; "
                               "run it again") from exc


def _check_tolerance(tolerance_days: int) -> None:
    if not 0 <= tolerance_days <= MAX_TOLERANCE_DAYS:
        raise InvalidInput(f"--tolerance-days must be between 0 and {MAX_TOLERANCE_DAYS} processing days, "
                           f"got {tolerance_days}")


def _by_account(lines: dict[int, LineView], open_payments: dict[tuple[int, str], PaymentView]
                ) -> dict[str, tuple[list[BankLine], list[Expected]]]:
    """The lines and the expected payments of each bank account, as the matching rules take them."""
    by_account: dict[str, tuple[list[BankLine], list[Expected]]] = {}
    for x in lines.values():
        by_account.setdefault(x.account, ([], []))[0].append(
            BankLine(x.id, x.posted_on, x.amount, x.reference, x.description))
    for p in open_payments.values():
        sign = -1 if p.direction == "out" else 1
        by_account.setdefault(p.account, ([], []))[1].append(Expected(
            p.id, p.direction, p.pay_date, sign * p.amount, p.reference,  # type: ignore[arg-type]
            f"RUN-{p.run_id}" if p.direction == "out" else None, RETURN_DAYS if p.direction == "return" else 0,
            reference_only=p.direction == "return" and p.status == "settled"))
    return by_account


def _match_in(conn: Connection, actor: str, account: str | None, tolerance_days: int, days: ProcessingDays,
              dry_run: bool, on_progress: Progress) -> Matched:
    banks = [bank_account(conn, account)] if account else None
    lines = _open_lines(conn, banks)
    open_payments = _open_payments(conn, banks)
    by_account = _by_account(lines, open_payments)
    results: list[Matching] = []
    grand_total = max(1, sum(len(b) * 3 for b, _ in by_account.values()))
    done = 0
    for code in sorted(by_account):
        bank_lines, wanted = by_account[code]
        base = done

        def step(n: int, _t: int, base: int = base) -> None:
            if on_progress:
                on_progress(base + n, grand_total)

        results.append(matching.match(bank_lines, wanted, days=days, tolerance_days=tolerance_days,
                                      on_progress=step))
        done += len(bank_lines) * 3
    found = tuple(sorted((m for r in results for m in r.matches), key=lambda m: m.line))
    returns = tuple(sorted(pid for m in found for pid, d in m.expected
                           if d == "return" and open_payments[(pid, d)].status == "settled"))
    result = Matched(found, lines, open_payments,
                     tuple(sorted(i for r in results for i in r.unmatched_lines)),
                     tuple(sorted(k for r in results for k in r.unmatched_expected
                                  if _expected_back(open_payments[k]))),
                     returns, tolerance_days, dry_run)
    if dry_run or not found:
        return result
    now = utc_now()
    rows = [dict(line_id=m.line, rule=m.rule, reason=m.reason[:500], rule_version=matching.RULE_VERSION,
                 tolerance_days=tolerance_days, matched_by=actor, matched_at=now) for m in found]
    if conn.dialect.insert_executemany_returning:  # one statement for every match (each line is matched once)
        result.match_ids.update(tuple(r) for r in conn.execute(_INSERT_MATCHES, rows))
    else:
        for row in rows:
            result.match_ids.update(tuple(r) for r in conn.execute(_INSERT_MATCHES, row))
    paid = [{"match_id": result.match_ids[m.line], "payment_id": pid, "line_id": m.line, "direction": d,
             "amount": open_payments[(pid, d)].amount} for m in found for pid, d in m.expected]
    if paid:
        conn.execute(insert(bank_match_payments), paid)
    return result


_INSERT_MATCHES = insert(bank_matches).returning(bank_matches.c.line_id, bank_matches.c.id)


def _open_lines(conn: Connection, banks: Sequence[BankAccount] | None) -> dict[int, LineView]:
    query = (
        select(bank_statement_lines.c.id, accounts.c.code, bank_statement_lines.c.statement_id,
               bank_statement_lines.c.posted_on, bank_statement_lines.c.amount, bank_statement_lines.c.description,
               bank_statement_lines.c.reference, bank_statement_lines.c.bank_id)
        .join(accounts, accounts.c.id == bank_statement_lines.c.account_id)
        .outerjoin(bank_matches, bank_matches.c.line_id == bank_statement_lines.c.id)
        .where(bank_matches.c.id.is_(None))
        .order_by(bank_statement_lines.c.posted_on, bank_statement_lines.c.id)
    )
    if banks is not None:
        query = query.where(bank_statement_lines.c.account_id.in_([a.id for a in banks]))
    return {row[0]: LineView(*row) for row in conn.execute(query)}


def _open_payments(conn: Connection, banks: Sequence[BankAccount] | None) -> dict[tuple[int, str], PaymentView]:
    """Payments sent to the bank and not yet seen going out; failed ones not yet seen coming back."""
    out: dict[tuple[int, str], PaymentView] = {}
    for direction, statuses in (("out", OUT_STATUSES), ("return", RETURN_STATUSES)):
        query = (
            select(payments.c.id, payments.c.run_id, accounts.c.code, payment_runs.c.pay_date, payments.c.amount,
                   payments.c.reference, payments.c.payee, payments.c.status)
            .join(payment_runs, payment_runs.c.id == payments.c.run_id)
            .join(paying_accounts, paying_accounts.c.id == payment_runs.c.paying_account_id)
            .join(accounts, accounts.c.id == paying_accounts.c.account_id)
            .outerjoin(bank_match_payments, and_(bank_match_payments.c.payment_id == payments.c.id,
                                                 bank_match_payments.c.direction == direction))
            .where(bank_match_payments.c.match_id.is_(None), payment_runs.c.status.in_(RUNS_ON_BANK),
                   payments.c.status.in_(statuses))
            .order_by(payments.c.id)
        )
        if banks is not None:
            query = query.where(accounts.c.id.in_([a.id for a in banks]))
        for row in conn.execute(query):
            out[(row[0], direction)] = PaymentView(*row, direction)
    return out


@dataclass(frozen=True, slots=True)
class ReturnPosted:
    payment: int
    line: int
    posted: bool
    problem: str = ""  # why not: for the officer to post it with the payments commands


def post_returns(engine: Engine, *, actor: str, account: str | None = None) -> list[ReturnPosted]:
    """Have the payments service reverse each settled payment whose return is matched on a statement.

    Each reversal is the payments service's own transaction (idempotent under its key), so a
    refusal of one (e.g. a closed period) is reported and leaves the others and the match as they are.
    """
    todo = returns_to_post(engine, account)
    try:
        from ledger.services.payment_settlement import return_payment
    except ImportError:  # the payments service is not there: report them for an officer to post
        return [ReturnPosted(pid, line.id, False, "no payments service to post the return") for pid, line in todo]
    done = []
    for pid, line in todo:
        try:
            return_payment(engine, pid, on=line.posted_on, actor=actor,
                           reason=f"returned by the bank: statement line {line.id} {line.description}".strip())
            done.append(ReturnPosted(pid, line.id, True))
        except LedgerError as exc:
            done.append(ReturnPosted(pid, line.id, False, exc.reason))
    return done


def returns_to_post(engine: Engine, account: str | None = None) -> list[tuple[int, LineView]]:
    """Matched returns whose payment is still settled: the reversal is yet to be posted."""
    with reading(engine) as conn, conn.begin():
        query = (
            select(payments.c.id, bank_statement_lines.c.id, accounts.c.code, bank_statement_lines.c.statement_id,
                   bank_statement_lines.c.posted_on, bank_statement_lines.c.amount, bank_statement_lines.c.description,
                   bank_statement_lines.c.reference, bank_statement_lines.c.bank_id)
            .join(bank_match_payments, bank_match_payments.c.payment_id == payments.c.id)
            .join(bank_statement_lines, bank_statement_lines.c.id == bank_match_payments.c.line_id)
            .join(accounts, accounts.c.id == bank_statement_lines.c.account_id)
            .where(bank_match_payments.c.direction == "return", payments.c.status == "settled")
            .order_by(payments.c.id)
        )
        if account:
            query = query.where(accounts.c.id == bank_account(conn, account).id)
        return [(row[0], LineView(*row[1:])) for row in conn.execute(query)]


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unmatched:
    lines: tuple[LineView, ...]
    payments: tuple[PaymentView, ...]
    near: dict[int, NearMiss] = field(default_factory=dict)  # line id -> the payment it nearly matches, and why
    tolerance_days: int = 3  # processing days the near misses were judged by


def unmatched(engine: Engine, account: str | None = None, *, tolerance_days: int = 3,
              days: ProcessingDays | None = None) -> Unmatched:
    """Statement lines not matched to any payment, and payments sent but not yet seen on a statement; each
    line that nearly matches a payment says which and why not, judged by `tolerance_days` processing days."""
    _check_tolerance(tolerance_days)
    days = days or processing_days()
    with reading(engine) as conn, conn.begin():
        banks = [bank_account(conn, account)] if account else None
        lines = _open_lines(conn, banks)
        open_payments = _open_payments(conn, banks)
    near = {m.line: m for bank_lines, wanted in _by_account(lines, open_payments).values()
            for m in matching.near_misses(bank_lines, wanted, days=days, tolerance_days=tolerance_days)}
    return Unmatched(tuple(lines.values()), tuple(sorted(
        (p for p in open_payments.values() if _expected_back(p)), key=lambda p: (p.pay_date, p.id, p.direction))),
        near, tolerance_days)


def _expected_back(p: PaymentView) -> bool:
    """A settled payment may come back, but is not expected to: not listed as missing from a statement."""
    return not (p.direction == "return" and p.status == "settled")


def matches_of(engine: Engine, line_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """Stored matches: line id -> [(payment id, direction)]."""
    ids = list(line_ids)
    out: dict[int, list[tuple[int, str]]] = {}
    with reading(engine) as conn, conn.begin():
        for start in range(0, len(ids), CHUNK):
            for line, payment, direction in conn.execute(
                    select(bank_match_payments.c.line_id, bank_match_payments.c.payment_id,
                           bank_match_payments.c.direction)
                    .where(bank_match_payments.c.line_id.in_(ids[start:start + CHUNK]))
                    .order_by(bank_match_payments.c.line_id, bank_match_payments.c.payment_id)):
                out.setdefault(line, []).append((payment, direction))
    return out
