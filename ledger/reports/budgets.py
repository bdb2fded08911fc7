"""Budget and pool views, computed from postings (not from the maintained balances alone).

`stream_figures` and `pool_figures` give, for many budgets or pools at once, the sums by
entry kind that the reconciliation compares with the maintained balances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, bindparam, func, select

from ledger import chart
from ledger.chart import EntryKind
from ledger.domain import Stream
from ledger.models import account_balances, accounts, budget_components, budgets, journal_entries, people, postings
from ledger.rules.risk_share import share
from ledger.storage import reads
from ledger.storage.engine import reading
from ledger.storage.lookup import PoolInfo, person_id, pool_codes, pool_in


@dataclass(frozen=True, slots=True)
class StreamFigures:
    """One stream of one budget, from postings; `balance` and `held` are the maintained ones."""

    person: str
    fy: int
    stream: Stream
    available_account: str
    spent_account: str
    allocated: int = 0
    spent: int = 0  # spend entries out of the available account
    recovered: int = 0
    other: int = 0  # postings of any other kind: should be none
    spent_balance: int = 0  # the spent account's maintained balance
    balance: int = 0  # the available account's maintained balance (held included)
    held: int = 0

    @property
    def available(self) -> int:
        return self.balance - self.held


_AVAIL, _SPENT = accounts.alias("avail"), accounts.alias("spent")
_AVAIL_BALANCE, _SPENT_BALANCE = account_balances.alias("ab"), account_balances.alias("sb")
# Built once, not per call: for one person the SQL takes a fraction of a millisecond, and building
# the statement (four aliases and their columns) took longer than running it.
_COMPONENTS = (
    select(people.c.ref, budgets.c.fy, budget_components.c.stream, budget_components.c.available_account_id,
           _AVAIL.c.code.label("avail_code"), _SPENT.c.code.label("spent_code"),
           _AVAIL_BALANCE.c.balance, _AVAIL_BALANCE.c.pending_credits,
           _SPENT_BALANCE.c.balance.label("spent_balance"))
    .join(budgets, budgets.c.id == budget_components.c.budget_id)
    .join(people, people.c.id == budgets.c.person_id)
    .join(_AVAIL, _AVAIL.c.id == budget_components.c.available_account_id)
    .join(_SPENT, _SPENT.c.id == budget_components.c.spent_account_id)
    .join(_AVAIL_BALANCE, _AVAIL_BALANCE.c.account_id == _AVAIL.c.id)
    .join(_SPENT_BALANCE, _SPENT_BALANCE.c.account_id == _SPENT.c.id)
    .order_by(people.c.ref, budgets.c.fy, budget_components.c.id)
)
# Grouped by entry kind first: SQLite then reads postings in table order. Grouped by account first,
# it walks ix_postings_account and fetches each posting's row out of order, ~2.5x slower at 400k
# postings (bench/bench_budgets.py). PostgreSQL hashes either way.
_SUMS_BY_KIND = (
    select(postings.c.account_id, journal_entries.c.kind, func.sum(postings.c.amount))
    .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
    .where(postings.c.pending.is_(False))
    .group_by(journal_entries.c.kind, postings.c.account_id)
)
_SUMS_BY_KIND_OF = _SUMS_BY_KIND.where(postings.c.account_id.in_(bindparam("accounts", expanding=True)))


def stream_figures(conn: Connection, person: str | None = None, fy: int | None = None) -> list[StreamFigures]:
    components = _COMPONENTS
    if person:
        components = components.where(people.c.ref == person)
    if fy is not None:
        components = components.where(budgets.c.fy == fy)
    rows = conn.execute(components).all()
    sums = _sums_by_kind(conn, [r.available_account_id for r in rows], scoped=bool(person))
    out = []
    for r in rows:
        by_kind = sums.get(r.available_account_id, {})
        out.append(StreamFigures(
            r.ref, r.fy, Stream(r.stream), r.avail_code, r.spent_code,
            allocated=by_kind.pop(EntryKind.ALLOCATION, 0),
            spent=-by_kind.pop(EntryKind.SPEND, 0) - by_kind.pop(EntryKind.PAYMENT, 0),
            recovered=-by_kind.pop(EntryKind.RECOVERY, 0),
            other=sum(by_kind.values()),
            spent_balance=r.spent_balance,
            balance=r.balance,
            held=r.pending_credits,
        ))
    return out


def _sums_by_kind(conn: Connection, account_ids: list[int], scoped: bool) -> dict[int, dict[str, int]]:
    """account id -> entry kind -> sum of posted amounts. One GROUP BY over all postings unless scoped."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    wanted = set(account_ids)
    if scoped:
        results: Iterable = (conn.execute(_SUMS_BY_KIND_OF, {"accounts": list(part)})
                             for part in reads.chunks(account_ids))
    else:
        results = [conn.execute(_SUMS_BY_KIND)]
    for result in results:
        for account_id, kind, total in result:
            if account_id in wanted:
                out[account_id][kind] = int(total)
    return out


def budget_view(engine: Engine, person: str, fy: int | None = None) -> list[StreamFigures]:
    """A person's streams (all years, or `fy`'s); a person nobody registered is refused, not an empty budget."""
    with reading(engine) as conn, conn.begin():
        person_id(conn, person)
        return stream_figures(conn, person, fy)


# --- pools -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerFigures:
    partner: str
    contributed: int
    risk_share: int  # credit: paid towards an overspend; debit (negative): underspend returned/carried
    share_of_allocations: int  # memorandum: allocations out shared in proportion to contributions


@dataclass(frozen=True, slots=True)
class PoolFigures:
    pool: PoolInfo
    unallocated: int  # maintained balance
    allocated_out: int  # allocation postings out of the pool, less reductions
    recovered_in: int
    partner_equity: int  # sum of partner accounts' maintained balances
    other: int  # postings on the unallocated account of unexpected kinds
    partners: list[PartnerFigures] = field(default_factory=list)
    person_side_allocated: int = 0  # the same allocations (less reductions), summed from the people's side


POOL_KINDS = {EntryKind.CONTRIBUTION, EntryKind.POOL_YEAR_END}


def pool_figures(conn: Connection, pool: str | None = None) -> list[PoolFigures]:
    out = []
    for code in [pool] if pool else pool_codes(conn):
        info = pool_in(conn, code)
        unallocated = chart.pool_unallocated(code)
        states = reads.account_rows(conn, [unallocated, *chart.pool_partner_accounts(code, info.partners)])
        unallocated_id = states[unallocated].id
        by_kind = _sums_by_kind(conn, [unallocated_id], scoped=True).get(unallocated_id, {})
        allocated_out = -by_kind.pop(EntryKind.ALLOCATION, 0)
        recovered_in = by_kind.pop(EntryKind.RECOVERY, 0)
        other = sum(v for k, v in by_kind.items() if k not in POOL_KINDS)
        contributions = {p: states[chart.pool_contributions(code, p)].state.normal_balance for p in info.partners}
        risk = {p: states[chart.pool_risk_share(code, p)].state.normal_balance for p in info.partners}
        net_out = allocated_out - recovered_in
        memo = share(net_out, info.risk_share, contributions, info.fixed_shares) if any(contributions.values()) \
            else None
        partners = [PartnerFigures(p, contributions[p], risk[p], memo.parts[p] if memo else 0) for p in info.partners]
        out.append(PoolFigures(
            info, states[unallocated].state.normal_balance, allocated_out, recovered_in,
            sum(contributions.values()) + sum(risk.values()), other, partners,
            _person_side_allocated(conn, unallocated_id),
        ))
    return out


def _person_side_allocated(conn: Connection, unallocated_id: int) -> int:
    """Net allocations into people's budgets whose other side is this pool, summed over the budget accounts.

    Allocations only: a recovery entry may return one stream's money to several sources at once, so
    its budget-side posting is not the pool's alone.
    """
    pool_side = postings.alias("pool_side")
    person_side = postings.alias("person_side")
    total = conn.execute(
        select(func.coalesce(func.sum(person_side.c.amount), 0))
        .select_from(pool_side)
        .join(person_side, (person_side.c.entry_id == pool_side.c.entry_id)
              & (person_side.c.account_id != pool_side.c.account_id))
        .join(budget_components, budget_components.c.available_account_id == person_side.c.account_id)
        .join(journal_entries, journal_entries.c.id == pool_side.c.entry_id)
        .where(pool_side.c.account_id == unallocated_id, journal_entries.c.kind == EntryKind.ALLOCATION,
               pool_side.c.pending.is_(False))
    ).scalar_one()
    return int(total)


def pool_view(engine: Engine, pool: str) -> PoolFigures:
    with reading(engine) as conn, conn.begin():
        return pool_figures(conn, pool)[0]
