"""Payment runs over time: per run, what the bank paid, what came back, what failed and what is still to pay;
with a chart of the total paid per run by pay date. Read-only; `ipb run list` lists the same runs for the
officers who make them, this is the report with its chain head for those who check them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select

from ledger.calendar import Period
from ledger.domain import PaymentStatus
from ledger.errors import UnknownParty
from ledger.models.payments import paying_accounts, payment_runs, payments
from ledger.money import format_amount
from ledger.reports import render
from ledger.reports.charts import bar_chart
from ledger.storage.engine import reading
from ledger.storage.reads import ChainHead, chain_head

PAID = (PaymentStatus.SETTLED, PaymentStatus.RETURNED)  # the bank paid them (a returned one came back later)
UNPAID = (PaymentStatus.PENDING, PaymentStatus.HELD)  # not yet paid: the run is still in hand


@dataclass(frozen=True, slots=True)
class RunTotals:
    run: int
    paying_account: str
    pay_date: date
    status: str
    payments: int
    paid: int  # pence the bank paid out, returned ones included
    returned: int  # pence of those the payee's bank sent back
    failed: int  # pence the bank did not pay (or the run was cancelled)
    unpaid: int  # pence gathered or held, not yet paid


@dataclass(frozen=True, slots=True)
class PaymentRunsReport:
    period: Period
    paying_account: str | None  # only this paying account's runs; None: every one
    runs: tuple[RunTotals, ...]  # by pay date, then run number
    head: ChainHead


def payment_runs_report(engine: Engine, period: Period, paying_account: str | None = None) -> PaymentRunsReport:
    """Every run with a pay date in `period` (only those from `paying_account` when given), with its totals."""
    run, bank = payment_runs.c, paying_accounts.c
    query = (select(run.id, bank.code, run.pay_date, run.status).join(paying_accounts, bank.id == run.paying_account_id)
             .where(run.pay_date.between(period.start, period.end)).order_by(run.pay_date, run.id))
    with reading(engine) as conn, conn.begin():
        head = chain_head(conn)
        if paying_account is not None:
            if conn.execute(select(bank.id).where(bank.code == paying_account)).first() is None:
                raise UnknownParty(f"no paying account {paying_account!r}; `ipb paying-account list` lists them",
                                   code=paying_account)
            query = query.where(bank.code == paying_account)
        rows = conn.execute(query).all()
        sums: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
        if rows:
            totals = (select(payments.c.run_id, payments.c.status, func.count(), func.sum(payments.c.amount))
                      .join(payment_runs, run.id == payments.c.run_id)
                      .join(paying_accounts, bank.id == run.paying_account_id)
                      .where(run.pay_date.between(period.start, period.end))
                      .group_by(payments.c.run_id, payments.c.status))
            if paying_account is not None:
                totals = totals.where(bank.code == paying_account)
            for run_id, status, count, amount in conn.execute(totals):
                sums[run_id][status] = (int(count), int(amount or 0))
    return PaymentRunsReport(period, paying_account, tuple(_totals(r, sums[r.id]) for r in rows), head)


def _totals(row, by_status: dict[str, tuple[int, int]]) -> RunTotals:  # type: ignore[no-untyped-def]
    def amount(*statuses: str) -> int:
        return sum(by_status.get(s, (0, 0))[1] for s in statuses)

    return RunTotals(row.id, row.code, row.pay_date, row.status, sum(n for n, _ in by_status.values()),
                     amount(*PAID), amount(PaymentStatus.RETURNED), amount(PaymentStatus.FAILED), amount(*UNPAID))


# --- as a document ---------------------------------------------------------------------------

COLUMNS = ("run", "from", "pay date", "status", "payments", "paid", "returned", "failed", "not yet paid")


def document(r: PaymentRunsReport) -> render.Document:
    rows = tuple((x.run, x.paying_account, x.pay_date.isoformat(), x.status, x.payments, x.paid, x.returned,
                  x.failed, x.unpaid) for x in r.runs)
    footer = ("total", "", "", "", sum(x.payments for x in r.runs),
              *(sum(row[i] for row in rows) for i in range(5, len(COLUMNS))))
    paid = sum(x.paid for x in r.runs)
    facts = (("period", f"{r.period.label} ({r.period.start} to {r.period.end})"),
             ("paying account", r.paying_account or "every one"), ("runs", str(len(r.runs))),
             ("paid by the bank", format_amount(paid, symbol=True)), ("chain head", r.head.token))
    return render.Document(
        "payment-runs", "Payment runs", facts,
        (render.Table("Runs by pay date", COLUMNS, frozenset(COLUMNS[5:]), rows, footer),),
        r.head, ("Paid: what the bank paid out, including payments a payee's bank later returned (shown again "
                 "under returned). Failed: not paid by the bank, or the run was cancelled; a failed payment is "
                 "gathered again into a later run. Not yet paid: gathered or held in a run still in hand.",),
        charts=(paid_chart(r),),
    )


def paid_chart(r: PaymentRunsReport) -> render.Chart:
    """Total paid per pay date, a bar per date stacked by paying account (runs on one date added together)."""
    dates = sorted({x.pay_date for x in r.runs})
    banks = sorted({x.paying_account for x in r.runs})
    paid: dict[tuple[str, date], int] = defaultdict(int)
    for x in r.runs:
        paid[x.paying_account, x.pay_date] += x.paid
    return bar_chart("Paid per payment run, by pay date", [d.isoformat() for d in dates],
                     [(f"from {bank}", [paid[bank, d] for d in dates]) for bank in banks], stacked=True)


render.register(PaymentRunsReport, document)
