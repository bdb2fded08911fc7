"""Who the money is for and from: people, funders and pools, looked up as services and reports need them.

Every lookup of a person, funder or pool by its code lives here, so each refuses an unknown one
in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Integer, bindparam, func, literal_column, select

from ledger import chart
from ledger.domain import FunderKind, RiskShare, YearEnd
from ledger.errors import NotAllowed, UnknownParty
from ledger.models import funders, people, pool_partners, pools
from ledger.storage.driver import Query
from ledger.storage.reads import chunks


def unknown_person(ref: str) -> UnknownParty:
    return UnknownParty(f"no person {ref!r}; register them with `ipb person add`", person=ref)


# pg_advisory_xact_lock(space, person id): the space keeps ipb's person locks apart from any other use
_PERSON_LOCKS = 0x1B0
_INT4 = 2**31


def person_id(conn: Connection, ref: str, *, lock: bool = False) -> int:
    """The id of person `ref`. With `lock`, the person is locked until commit (PostgreSQL; on SQLite
    every write transaction already holds the database's write lock from BEGIN IMMEDIATE), which
    serialises checks made per person, such as a plan line's cap. An advisory lock, not a row lock:
    a broker's login may not update people, and SELECT ... FOR UPDATE would need it to."""
    found = _PERSON_ID.rows(conn, (ref,))
    if not found:
        raise unknown_person(ref)
    if lock and conn.dialect.name == "postgresql":
        _LOCK_PERSON.rows(conn, (int(found[0].id) % _INT4,))
    return int(found[0].id)


# built once: services look a person up in nearly every transaction
_PERSON_ID = Query(select(people.c.id).where(people.c.ref == bindparam("ref")), ("ref",))
_LOCK_PERSON = Query(select(func.pg_advisory_xact_lock(literal_column(str(_PERSON_LOCKS)),
                                                      bindparam("lock_id", type_=Integer)).label("locked")),
                     ("lock_id",))


def person_ids(conn: Connection, refs: Iterable[str]) -> dict[str, int]:
    """ref -> id for each of `refs`, refusing the first (in order) that is not registered."""
    wanted = sorted(set(refs))
    found: dict[str, int] = {}
    for part in chunks(wanted):
        found.update(conn.execute(select(people.c.ref, people.c.id).where(people.c.ref.in_(part))).all())
    missing = [ref for ref in wanted if ref not in found]
    if missing:
        raise unknown_person(missing[0])
    return found


# --- funders -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunderRow:
    id: int
    code: str
    name: str
    kind: FunderKind
    funding_account: str


def funder_row(row) -> FunderRow:  # type: ignore[no-untyped-def]
    return FunderRow(row.id, row.code, row.name, FunderKind(row.kind), chart.funding(row.code))


def funder_names(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    """code -> name for the funders among `codes` that exist, a chunk of codes per query."""
    names: dict[str, str] = {}
    for part in chunks(sorted(set(codes))):
        names.update(conn.execute(select(funders.c.code, funders.c.name).where(funders.c.code.in_(part))).all())
    return names


def funder_in(conn: Connection, funder: str) -> FunderRow:
    row = conn.execute(select(funders).where(funders.c.code == funder)).first()
    if row is None:
        raise UnknownParty(f"no funder {funder!r}; add it with `ipb funder add`", funder=funder)
    return funder_row(row)


# --- pools -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PoolInfo:
    id: int
    code: str
    name: str
    fy: int
    host: str
    risk_share: RiskShare
    year_end: YearEnd
    allow_overspend: bool
    closed_on: date | None
    partners: dict[str, int | None]  # partner funder code -> fixed share in basis points (or None)
    partner_kinds: dict[str, FunderKind]

    @property
    def fixed_shares(self) -> dict[str, int]:
        """Partner -> share in basis points, for the partners a fixed risk share names."""
        return {p: bp for p, bp in self.partners.items() if bp is not None}


def pool_codes(conn: Connection) -> list[str]:
    return list(conn.execute(select(pools.c.code).order_by(pools.c.fy, pools.c.code)).scalars())


def pool_in(conn: Connection, pool: str) -> PoolInfo:
    row = conn.execute(select(pools).where(pools.c.code == pool)).first()
    if row is None:
        raise UnknownParty(f"no pool {pool!r}", pool=pool)
    partners = conn.execute(
        select(funders.c.code, funders.c.kind, pool_partners.c.fixed_share_bp)
        .join(pool_partners, pool_partners.c.funder_id == funders.c.id)
        .where(pool_partners.c.pool_id == row.id)
        .order_by(funders.c.code)
    ).all()
    host = conn.execute(select(funders.c.code).where(funders.c.id == row.host_funder_id)).scalar_one()
    return PoolInfo(
        row.id, row.code, row.name, row.fy, host, RiskShare(row.risk_share), YearEnd(row.year_end),
        row.allow_overspend, row.closed_on,
        {p.code: p.fixed_share_bp for p in partners}, {p.code: FunderKind(p.kind) for p in partners},
    )


def open_pool_in(conn: Connection, pool: str) -> PoolInfo:
    """The pool, refused once it has closed its year: a closed pool's figures are final."""
    info = pool_in(conn, pool)
    if info.closed_on is not None:
        raise NotAllowed(f"pool {pool} closed its year on {info.closed_on}; use the next year's pool", pool=pool)
    return info
