"""`ipb reconcile`: do the pooled totals, the budgets and the balances all agree, to the penny?

Checks, each computed from postings and compared with the maintained balances:
  pool     partner contributions and risk shares = unallocated + allocations out - recoveries in;
           the pool's allocations out = the same allocations summed on the people's side;
           nothing but contributions, allocations, recoveries and the year end touches the pool
  person   per stream: allocated = spent + recovered + available + held; the spent account holds
           exactly the stream's spend; nothing of another kind touches the budget
  ledger   every stored balance = the sum of its postings
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from ledger import chart
from ledger.reports.budgets import PoolFigures, StreamFigures, pool_figures, stream_figures
from ledger.reports.verify import balance_mismatches
from ledger.storage.engine import reading
from ledger.storage.reads import ChainHead, chain_head


@dataclass(frozen=True, slots=True)
class Difference:
    scope: str  # "pool", "person" or "ledger"
    subject: str  # the pool code, "person fy stream", or an account
    check: str
    expected: int
    actual: int
    accounts: tuple[str, ...]

    @property
    def amount(self) -> int:
        return self.actual - self.expected


@dataclass(frozen=True, slots=True)
class Reconciliation:
    pools: int
    streams: int
    accounts_checked: bool
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def reconcile(
    engine: Engine, *, pool: str | None = None, person: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Reconciliation:
    """Reconcile one pool, one person, or (neither given) everything."""
    with reading(engine) as conn, conn.begin():
        return reconcile_in(conn, pool=pool, person=person, progress=progress)


def reconcile_in(
    conn: Connection, *, pool: str | None = None, person: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Reconciliation:
    """The checks, read on `conn`: `reconcile` and the reconciliation report both run them."""
    everything = pool is None and person is None
    pools = pool_figures(conn, pool) if pool or everything else []
    if progress:
        progress("pools")
    streams = stream_figures(conn, person) if person or everything else []
    if progress:
        progress("budgets")
    ledger = balance_mismatches(conn) if everything else []
    differences = [d for p in pools for d in pool_differences(p)]
    differences += [d for s in streams for d in stream_differences(s)]
    differences += [
        Difference("ledger", m.account, f"stored {m.field} = sum of postings", m.recomputed, m.stored, (m.account,))
        for m in ledger
    ]
    return Reconciliation(len(pools), len(streams), everything, differences)


def pool_differences(p: PoolFigures) -> list[Difference]:
    code = p.pool.code
    unallocated = chart.pool_unallocated(code)
    partners = tuple(chart.pool_partner_accounts(code, [x.partner for x in p.partners]))
    checks = [
        ("partner contributions + risk share = unallocated + allocated out - recovered in",
         p.partner_equity, p.unallocated + p.allocated_out - p.recovered_in, (unallocated, *partners)),
        ("allocations out of the pool = allocations into budgets", p.allocated_out,
         p.person_side_allocated, (unallocated,)),
        ("no postings of other kinds on the pool", 0, p.other, (unallocated,)),
    ]
    return [Difference("pool", code, check, expected, actual, accounts)
            for check, expected, actual, accounts in checks if expected != actual]


def stream_differences(s: StreamFigures) -> list[Difference]:
    subject = f"{s.person} {s.fy} {s.stream}"
    both = (s.available_account, s.spent_account)
    checks = [
        ("allocated = spent + recovered + available + held", s.allocated,
         s.spent + s.recovered + s.available + s.held + s.other, both),
        ("spent account = spend out of the stream", s.spent, s.spent_balance, both),
        ("no postings of other kinds on the budget", 0, s.other, (s.available_account,)),
    ]
    return [Difference("person", subject, check, expected, actual, accounts)
            for check, expected, actual, accounts in checks if expected != actual]


# --- the report -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    head: ChainHead
    scope: str
    pools: int
    streams: int
    accounts_checked: bool
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def reconciliation_report(engine: Engine, *, pool: str | None = None, person: str | None = None
                          ) -> ReconciliationReport:
    """`ipb reconcile`'s checks, read in one transaction with the chain head, for the renderers."""
    with reading(engine) as conn, conn.begin():
        head = chain_head(conn)
        found = reconcile_in(conn, pool=pool, person=person)
    scope = f"pool {pool}" if pool else f"person {person}" if person else "everything"
    return ReconciliationReport(head, scope, found.pools, found.streams, found.accounts_checked,
                                tuple(found.differences))
