"""Funders and people: who pays, and who the budgets are for."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from ledger import chart
from ledger.domain import FunderKind
from ledger.errors import AccountExists, InvalidInput
from ledger.identifiers import code, nhs_number
from ledger.journal import AccountType
from ledger.models import funders, people, person_names
from ledger.services.accounts import AccountSpec, ensure_in
from ledger.storage import lookup, reads
from ledger.storage.engine import reading
from ledger.storage.lookup import FunderRow, funder_row


def add_funder(engine: Engine, funder: str, name: str, kind: FunderKind) -> FunderRow:
    """Register a funder. Direct allocations draw on its `funder:<code>:funding` account."""
    code(funder, "funder code")
    with engine.begin() as conn:
        if conn.execute(select(funders.c.id).where(funders.c.code == funder)).first():
            raise AccountExists(f"funder {funder} already exists", funder=funder)
        account = chart.funding(funder)
        ids = ensure_in(conn, [AccountSpec(account, AccountType.EQUITY, chart.LEDGER_START, name=f"{name} funding")])
        funder_id = conn.execute(
            insert(funders).values(code=funder, name=name, kind=str(kind), funding_account_id=ids[account])
        ).inserted_primary_key[0]
    return FunderRow(funder_id, funder, name, kind, account)


def list_funders(engine: Engine) -> list[FunderRow]:
    with reading(engine) as conn:
        return [funder_row(r) for r in conn.execute(select(funders).order_by(funders.c.code)).all()]


def register_person(engine: Engine, ref: str, nhs: str | None = None, display_name: str | None = None) -> int:
    """Register a person by pseudonymous reference; the NHS number must pass its Modulus 11 check."""
    code(ref, "person reference")
    digits = nhs_number(nhs) if nhs else None
    with engine.begin() as conn:
        try:
            person_id = conn.execute(insert(people).values(ref=ref, nhs_number=digits)).inserted_primary_key[0]
        except IntegrityError:
            raise InvalidInput(f"person {ref} or NHS number {nhs} is already registered", person=ref) from None
        if display_name:
            conn.execute(insert(person_names).values(person_id=person_id, display_name=display_name))
    return person_id


@dataclass(frozen=True, slots=True)
class NewPerson:
    ref: str
    nhs: str | None = None
    display_name: str | None = None


def register_people(engine: Engine, persons: Sequence[NewPerson]) -> dict[str, int]:
    """Register many people in one transaction, all or none; reference -> person id.

    The bulk form of `register_person`, with the same checks: one INSERT per table, not per person.
    """
    rows = [{"ref": code(p.ref, "person reference"), "nhs_number": nhs_number(p.nhs) if p.nhs else None}
            for p in persons]
    for key, what in (("ref", "person"), ("nhs_number", "NHS number")):
        twice = sorted(v for v, n in Counter(r[key] for r in rows if r[key]).items() if n > 1)
        if twice:
            raise InvalidInput(f"{what} {twice[0]} appears twice in the list", **{key: twice[0]})
    with engine.begin() as conn:
        for column, what in ((people.c.ref, "person"), (people.c.nhs_number, "NHS number")):
            values = sorted({r[column.key] for r in rows if r[column.key]})
            for part in reads.chunks(values):
                taken = conn.execute(select(column).where(column.in_(part)).order_by(column)).scalars().first()
                if taken is not None:
                    raise InvalidInput(f"{what} {taken} is already registered", **{column.key: taken})
        if not rows:
            return {}
        try:
            conn.execute(insert(people), rows)
        except IntegrityError:  # registered concurrently
            raise InvalidInput("some of these people are already registered") from None
        ids: dict[str, int] = {}
        for part in reads.chunks([r["ref"] for r in rows]):
            ids.update({ref: person_id for ref, person_id in
                        conn.execute(select(people.c.ref, people.c.id).where(people.c.ref.in_(part)))})
        names = [{"person_id": ids[p.ref], "display_name": p.display_name} for p in persons if p.display_name]
        if names:
            conn.execute(insert(person_names), names)
    return ids


def erase_name(engine: Engine, ref: str) -> bool:
    """Erase a person's display name. Entries are untouched: they only ever knew the reference."""
    with engine.begin() as conn:
        person_id = lookup.person_id(conn, ref)
        return conn.execute(delete(person_names).where(person_names.c.person_id == person_id)).rowcount > 0
