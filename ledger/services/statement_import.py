"""Bank statements: import with duplicate detection, and the statements held.

Nothing here posts to the journal: a statement records what the bank says. Matching its lines to
payments, and what is left unmatched, is ledger/services/statement_matching.py.

The bank account is named by a paying account's code (its ledger account is bank:<code>) or
by a ledger account code; it must be an asset account in the statement's currency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import PurePath

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from ledger.calendar import utc_now
from ledger.errors import ConcurrentUpdate, IdempotencyConflict, InvalidInput, UnknownAccount
from ledger.formats.bank_statements import MAX_PROBLEMS, Statement, StatementLine, changes
from ledger.models import accounts
from ledger.models.bank import bank_matches, bank_statement_lines, bank_statements
from ledger.models.payments import paying_accounts
from ledger.money import format_amount
from ledger.storage.engine import reading

Progress = Callable[[int, int], None] | None

CHUNK = 500  # keys per IN (...) query and rows per insert
DESCRIPTION_LENGTH = bank_statement_lines.c.description.type.length
REFERENCE_LENGTH = bank_statement_lines.c.reference.type.length


@dataclass(frozen=True, slots=True)
class BankAccount:
    id: int
    code: str  # ledger account code
    currency: str


def bank_account(conn: Connection, name: str) -> BankAccount:
    """A paying account code (e.g. `dp`) or a ledger account code (e.g. `bank:dp`), as a ledger asset account."""
    row = conn.execute(
        select(accounts.c.id, accounts.c.code, accounts.c.currency, accounts.c.type)
        .join(paying_accounts, paying_accounts.c.account_id == accounts.c.id).where(paying_accounts.c.code == name)
    ).first() or conn.execute(select(accounts.c.id, accounts.c.code, accounts.c.currency, accounts.c.type)
                              .where(accounts.c.code == name)).first()
    if row is None:
        raise UnknownAccount(f"no paying account or ledger account {name!r}; see `ipb account list`", account=name)
    if row.type != "asset":
        raise InvalidInput(f"account {row.code} is {row.type}; a bank statement belongs to an asset account",
                           account=row.code)
    return BankAccount(row.id, row.code, row.currency)


# --- import --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Duplicate:
    line: StatementLine
    existing_id: int  # the stored line it duplicates


@dataclass(frozen=True, slots=True)
class EarlierImport:
    """The same file (the same bytes), imported before into another bank account."""

    statement_id: int
    account: str
    imported_at: datetime  # UTC
    imported_by: str


@dataclass(frozen=True)
class Imported:
    account: str
    source: str
    sha256: str
    format: str
    start: date | None
    end: date | None
    new: tuple[StatementLine, ...]
    duplicates: tuple[Duplicate, ...]
    dry_run: bool
    statement_id: int | None = None  # None for a dry run, or when nothing was new
    same_file_as: int | None = None  # an earlier statement of exactly this file, for this account
    other_accounts: tuple[EarlierImport, ...] = ()  # this exact file imported into other accounts


def import_statement(engine: Engine, statement: Statement, account: str, *, actor: str, dry_run: bool = False,
                     on_progress: Progress = None) -> Imported:
    """Store a statement's new lines; lines already held for the account are reported as duplicates.

    A line whose key is held with a different date, amount, description or reference is refused
    (IdempotencyConflict), and so is the whole file. A dry run reads only. Lines are stored in one
    transaction: all of the new ones, or none.
    """
    if dry_run:
        with reading(engine) as conn, conn.begin():
            return _import_in(conn, statement, account, actor=actor, dry_run=True, on_progress=on_progress)
    try:
        with engine.begin() as conn:
            return _import_in(conn, statement, account, actor=actor, dry_run=False, on_progress=on_progress)
    except IntegrityError as exc:
        raise ConcurrentUpdate(f"another import of account {account} stored some of these lines at the same time; "
                               "run the import again to skip them as duplicates", account=account) from exc


@dataclass(frozen=True, slots=True)
class _Held:
    """A line already stored for the account, as stored, and the statement it came in."""

    id: int
    statement_id: int
    source: str
    line: StatementLine


def _import_in(conn: Connection, statement: Statement, account: str, *, actor: str, dry_run: bool,
               on_progress: Progress) -> Imported:
    bank = bank_account(conn, account)
    if statement.currency != bank.currency:
        raise InvalidInput(f"{statement.source} is in {statement.currency} but {bank.code} is in {bank.currency}",
                           account=bank.code)
    same_file = conn.execute(select(bank_statements.c.id).where(
        bank_statements.c.account_id == bank.id, bank_statements.c.file_sha256 == statement.sha256)).scalar()
    total = len(statement.lines) * (1 if dry_run else 2)
    held = _held(conn, bank, [line.key for line in statement.lines], on_progress, total)
    _refuse_changed(statement, held)
    new = tuple(line for line in statement.lines if line.key not in held)
    duplicates = tuple(Duplicate(line, held[line.key].id) for line in statement.lines if line.key in held)
    result = Imported(bank.code, statement.source, statement.sha256, statement.format, statement.start,
                      statement.end, new, duplicates, dry_run, None, same_file,
                      _other_accounts(conn, bank, statement.sha256))
    if dry_run or not new:
        return result
    statement_id = _store(conn, bank, statement, new, len(duplicates), actor, on_progress, total)
    return replace(result, statement_id=statement_id)


def _held(conn: Connection, bank: BankAccount, keys: list[str], on_progress: Progress,
          total: int) -> dict[str, _Held]:
    """The lines stored for the account under any of `keys`: key -> the line as stored."""
    lines, statements = bank_statement_lines, bank_statements
    held: dict[str, _Held] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        for row in conn.execute(
                select(lines.c.id, lines.c.statement_id, statements.c.source_name, lines.c.file_line,
                       lines.c.posted_on, lines.c.amount, lines.c.description, lines.c.reference, lines.c.bank_id,
                       lines.c.dedupe_key)
                .join(statements, statements.c.id == lines.c.statement_id)
                .where(lines.c.account_id == bank.id, lines.c.dedupe_key.in_(chunk))):
            held[row.dedupe_key] = _Held(row.id, row.statement_id, row.source_name, StatementLine(
                row.file_line, row.posted_on, row.amount, row.description, row.reference, row.bank_id,
                row.dedupe_key))
        if on_progress:
            on_progress(start + len(chunk), total)
    return held


def _as_stored(line: StatementLine) -> StatementLine:
    """The line as the table holds it: description and reference cut to the columns' lengths."""
    return replace(line, description=line.description[:DESCRIPTION_LENGTH],
                   reference=line.reference[:REFERENCE_LENGTH])


def _refuse_changed(statement: Statement, held: dict[str, _Held]) -> None:
    """Refuse the file if any line's key is held with different content: the bank changed a line it sent."""
    changed = [(line, held[line.key], diff) for line in statement.lines
               if line.key in held and (diff := changes(held[line.key].line, _as_stored(line)))]
    if not changed:
        return
    line, first, diff = changed[0]
    what = f"bank transaction id {line.bank_id!r}" if line.bank_id else "the same line"
    before = _shown({field: pair[0] for field, pair in diff.items()}, statement.currency)
    after = _shown({field: pair[1] for field, pair in diff.items()}, statement.currency)
    more = f" (and {len(changed) - 1} more changed line{'s' if len(changed) > 2 else ''})" if len(changed) > 1 else ""
    raise IdempotencyConflict(
        f"{statement.source}: line {line.line}: {what} was first seen in statement {first.statement_id} "
        f"({PurePath(first.source).name}, line {first.line.line}) with {before}; now {after}{more}; "
        "nothing imported: ask the bank which is right",
        file=statement.source, line=line.line, bank_id=line.bank_id, statement=first.statement_id,
        first_file=first.source, first_line=first.line.line,
        changes={f: {"held": old, "now": now} for f, (old, now) in diff.items()},
        changed=[{"line": x.line, "bank_id": x.bank_id, "statement": h.statement_id, "first_line": h.line.line,
                  "fields": sorted(d)} for x, h, d in changed[:MAX_PROBLEMS]],
        changed_count=len(changed))


def _shown(values: dict[str, object], currency: str) -> str:
    """`amount -845.50, description 'RENT'`: fields as a person reads them."""

    def one(value: object) -> str:
        return format_amount(value, currency) if isinstance(value, int) else \
            repr(value) if isinstance(value, str) else str(value)

    return ", ".join(f"{field} {one(value)}" for field, value in values.items())


def _other_accounts(conn: Connection, bank: BankAccount, sha256: str) -> tuple[EarlierImport, ...]:
    rows = conn.execute(
        select(bank_statements.c.id, accounts.c.code, bank_statements.c.imported_at, bank_statements.c.imported_by)
        .join(accounts, accounts.c.id == bank_statements.c.account_id)
        .where(bank_statements.c.file_sha256 == sha256, bank_statements.c.account_id != bank.id)
        .order_by(bank_statements.c.id))
    return tuple(EarlierImport(*row) for row in rows)


def _store(conn: Connection, bank: BankAccount, statement: Statement, new: tuple[StatementLine, ...],
           duplicates: int, actor: str, on_progress: Progress, total: int) -> int:
    """Insert the statement and its new lines; its id."""
    assert statement.start is not None and statement.end is not None  # there are lines
    statement_id = conn.execute(insert(bank_statements).values(
        account_id=bank.id, source_name=statement.source[-255:], file_sha256=statement.sha256,
        format=statement.format, period_start=statement.start, period_end=statement.end, line_count=len(new),
        duplicate_count=duplicates, imported_by=actor, imported_at=utc_now(),
    ).returning(bank_statements.c.id)).scalar_one()
    rows = [{"statement_id": statement_id, "account_id": bank.id, "file_line": line.line,
             "posted_on": line.posted_on, "amount": line.amount, "currency": statement.currency,
             "description": line.description, "reference": line.reference, "bank_id": line.bank_id,
             "dedupe_key": line.key} for line in map(_as_stored, new)]
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(bank_statement_lines), rows[start:start + CHUNK])
        if on_progress:
            on_progress(len(statement.lines) + start + len(rows[start:start + CHUNK]), total)
    return statement_id


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementView:
    id: int
    account: str
    source: str
    format: str
    period_start: date
    period_end: date
    lines: int
    duplicates: int
    matched: int
    imported_by: str
    imported_at: datetime


def list_statements(engine: Engine, account: str | None = None) -> list[StatementView]:
    with reading(engine) as conn, conn.begin():
        matched = (select(bank_statement_lines.c.statement_id, func.count(bank_matches.c.id).label("n"))
                   .join(bank_matches, bank_matches.c.line_id == bank_statement_lines.c.id)
                   .group_by(bank_statement_lines.c.statement_id).subquery())
        query = (
            select(bank_statements.c.id, accounts.c.code, bank_statements.c.source_name, bank_statements.c.format,
                   bank_statements.c.period_start, bank_statements.c.period_end, bank_statements.c.line_count,
                   bank_statements.c.duplicate_count, func.coalesce(matched.c.n, 0), bank_statements.c.imported_by,
                   bank_statements.c.imported_at)
            .join(accounts, accounts.c.id == bank_statements.c.account_id)
            .outerjoin(matched, matched.c.statement_id == bank_statements.c.id)
            .order_by(bank_statements.c.id)
        )
        if account:
            query = query.where(accounts.c.id == bank_account(conn, account).id)
        return [StatementView(*row) for row in conn.execute(query)]
