"""Listings of what users type into other commands: the people the ledger serves, and its entries, filtered."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, Select, case, func, select

from ledger import chart
from ledger.calendar import Period, financial_year
from ledger.errors import UnknownAccount
from ledger.models import accounts, broker_assignments, budgets, journal_entries, people, person_names, postings, users
from ledger.roles import Role, sees_identity
from ledger.storage import lookup
from ledger.storage.engine import reading
from ledger.storage.reads import chunks

# --- people --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonListed:
    ref: str
    nhs_number: str | None  # 10 digits; None when none is held, or the viewer may not see it
    name: str | None  # the display name, kept apart from the ledger; None likewise
    budget_years: tuple[str, ...]  # the financial years the person has a budget for, e.g. 2025/26
    brokers: tuple[str, ...]  # the brokers assigned to the person


@dataclass(frozen=True, slots=True)
class PeopleListing:
    people: tuple[PersonListed, ...]
    identities: bool  # whether NHS numbers and names were read: only for roles that may see them


def people_listing(engine: Engine, role: Role, assigned: frozenset[str] | None = None) -> PeopleListing:
    """Every person by reference (only `assigned` ones when given: a broker's), with the NHS number and name
    when `role` may see who a person is (ledger.roles.sees_identity), their budget years and brokers."""
    identities = sees_identity(role)
    query = (select(people.c.id, people.c.ref, people.c.nhs_number, person_names.c.display_name)
             .outerjoin(person_names, person_names.c.person_id == people.c.id).order_by(people.c.ref))
    with reading(engine) as conn, conn.begin():
        if assigned is None:
            rows = conn.execute(query).all()
        else:
            rows = sorted((r for part in chunks(sorted(assigned))
                           for r in conn.execute(query.where(people.c.ref.in_(part)))), key=lambda r: r.ref)
        ids = None if assigned is None else [r.id for r in rows]
        years = _by_person(conn, select(budgets.c.person_id, budgets.c.fy), budgets.c.person_id, ids)
        brokers = _by_person(conn, select(broker_assignments.c.person_id, users.c.name)
                             .join(users, users.c.id == broker_assignments.c.user_id),
                             broker_assignments.c.person_id, ids)
    listed = tuple(PersonListed(
        r.ref, r.nhs_number if identities else None, r.display_name if identities else None,
        tuple(financial_year(fy).label for fy in sorted(years.get(r.id, ()))), tuple(sorted(brokers.get(r.id, ()))),
    ) for r in rows)
    return PeopleListing(listed, identities)


def _by_person(conn: Connection, query: Select, person_id, ids: Sequence[int] | None) -> dict[int, list]:  # type: ignore[no-untyped-def]
    """person id -> the second column of `query`'s rows, for the people `ids` (None: everyone)."""
    found: dict[int, list] = defaultdict(list)
    parts: Iterable[Select] = [query] if ids is None else (query.where(person_id.in_(part)) for part in chunks(ids))
    for part in parts:
        for person, value in conn.execute(part):
            found[person].append(value)
    return found


# --- entries -------------------------------------------------------------------------------

NEWEST = 50  # what `ipb entry list` shows unless told


@dataclass(frozen=True, slots=True)
class EntryFilter:
    person: str | None = None  # entries moving any of the person's accounts
    account: str | None = None  # entries moving an account whose code is this or starts with it
    kind: str | None = None
    period: Period | None = None  # by effective date
    limit: int | None = NEWEST  # the newest this many; None: all


@dataclass(frozen=True, slots=True)
class EntryListed:
    id: int
    date: date
    kind: str
    phase: str
    memo: str
    amount: int  # what the entry moves: the sum of its debits, in pence
    lines: int
    actor: str
    reverses: int | None
    completes: int | None


@dataclass(frozen=True, slots=True)
class EntryListing:
    entries: tuple[EntryListed, ...]  # newest first
    more: bool  # more entries match than the limit let through


def entry_listing(engine: Engine, wanted: EntryFilter) -> EntryListing:
    """The entries matching every filter given, newest (highest id) first; an unknown person, or an account
    prefix no account has, is refused in one line."""
    entry = journal_entries.c
    query = (select(entry.id, entry.effective_date, entry.kind, entry.phase, entry.memo, entry.actor,
                    entry.reverses_id, entry.completes_id).order_by(entry.id.desc()))
    if wanted.kind is not None:
        query = query.where(entry.kind == wanted.kind)
    if wanted.period is not None:
        query = query.where(entry.effective_date.between(wanted.period.start, wanted.period.end))
    if wanted.limit is not None:
        query = query.limit(wanted.limit + 1)
    with reading(engine) as conn, conn.begin():
        if wanted.person is not None:
            lookup.person_id(conn, wanted.person)
            query = query.where(entry.id.in_(_moving(chart.person_accounts(wanted.person))))
        if wanted.account is not None:
            _some_account(conn, wanted.account)
            query = query.where(entry.id.in_(_moving(wanted.account)))
        rows = conn.execute(query).all()
        more = wanted.limit is not None and len(rows) > wanted.limit
        rows = rows[:wanted.limit] if more else rows
        sums = _sums(conn, [r.id for r in rows])
    return EntryListing(tuple(
        EntryListed(r.id, r.effective_date, r.kind, r.phase, r.memo, *sums.get(r.id, (0, 0)), r.actor,
                    r.reverses_id, r.completes_id) for r in rows), more)


def _moving(prefix: str) -> Select:
    """The ids of entries with a posting on an account whose code starts with `prefix`."""
    return (select(postings.c.entry_id).join(accounts, accounts.c.id == postings.c.account_id)
            .where(accounts.c.code.startswith(prefix, autoescape=True)))


def _some_account(conn: Connection, prefix: str) -> None:
    found = conn.execute(select(accounts.c.id).where(accounts.c.code.startswith(prefix, autoescape=True)).limit(1))
    if found.first() is None:
        raise UnknownAccount(f"no account code is or starts with {prefix!r}; `ipb account list` lists them",
                             account=prefix)


def _sums(conn: Connection, entry_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """entry id -> (the sum of its debits, its number of postings)."""
    out: dict[int, tuple[int, int]] = {}
    debits = func.sum(case((postings.c.amount > 0, postings.c.amount), else_=0))
    for part in chunks(list(entry_ids)):
        query = (select(postings.c.entry_id, debits, func.count()).where(postings.c.entry_id.in_(part))
                 .group_by(postings.c.entry_id))
        out.update((entry_id, (int(total or 0), int(count))) for entry_id, total, count in conn.execute(query))
    return out
