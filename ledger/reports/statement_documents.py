"""The person's and the pool's statements as Documents (ledger/reports/render.py renders them in every format).

Each audience gets its own words. The person (or their representative): money in and out with a running
balance, what is left of each plan line, their own contributions, a burn-down chart; plain words, no signed
debits and credits. The section 75 partners: the agreement and both partners named, contributions, spend by
funding stream, the risk share, month by month, and a block for each of them to sign. Auditors keep the
stream summary and the pool's accounts, signed as posted, in the same documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ledger.calendar import Period, financial_year
from ledger.domain import Stream
from ledger.money import format_amount
from ledger.reports import charts, render
from ledger.reports.person_detail import BudgetTransactions, BurnDown, ContributionsDue, PlanLineLeft
from ledger.reports.render import Chart, Document, Table
from ledger.reports.statements import PERSON_COLUMNS, POOL_COLUMNS, PersonStatement, PoolStatement

LIMIT_PERIODS = {"week": "week", "4-weeks": "4 weeks", "month": "month", "year": "year"}


def _period(period: Period) -> str:
    return f"{period.label} ({period.start} to {period.end})"


def _year(fy: int) -> str:
    return financial_year(fy).label


def _stream(text: str) -> str:
    return Stream(text).title if text in set(Stream) else text


# --- the person's statement ---------------------------------------------------------


def person_document(s: PersonStatement) -> Document:
    tables = (_streams(s), *(_money(t, s.period.start) for t in s.transactions), _plan_lines(s.plan_lines),
              *((_contributions(s.contributions),) if s.contributions else ()))
    return Document(
        "person-statement", f"Budget statement for {s.person}",
        (("person", s.person), ("period", _period(s.period)),
         ("money in and out", "shown for each budget year as a whole, all funding streams together"),
         ("chain head", s.head.token)),
        tables, s.head, _person_notes(s), all(line.balanced for line in s.lines),
        charts=tuple(_burn_down_chart(b) for b in s.burn_downs),
    )


def _streams(s: PersonStatement) -> Table:
    """The auditors' summary: each stream's available budget, signed movements by kind."""
    columns = ("budget", "stream", "opening", *PERSON_COLUMNS, "closing")
    rows = tuple((_year(line.fy), str(line.stream), line.opening, *(getattr(line, c) for c in PERSON_COLUMNS),
                  line.closing) for line in s.lines)
    footer = ("total", "", s.total("opening"), *(s.total(c) for c in PERSON_COLUMNS), s.total("closing"))
    return Table("Funding streams", columns, frozenset(columns[2:]), rows, footer, across=True)


def _money(t: BudgetTransactions, start: date) -> Table:
    columns = ("date", "paid to or received from", "reference", "money in", "money out", "balance")
    rows = ((max(start, financial_year(t.fy).start).isoformat(), "balance brought forward", "", None, None,
             t.opening),
            *((x.on.isoformat(), x.payee, x.reference, x.money_in or None, x.money_out or None, x.balance)
              for x in t.transactions))
    return Table(f"Money in and out, budget {_year(t.fy)} (all funding streams together)", columns,
                 frozenset(columns[3:]), rows, ("total", "", "", t.money_in, t.money_out, t.closing))


def _plan_lines(lines: Sequence[PlanLineLeft]) -> Table:
    columns = ("budget", "line", "what for", "plan for the year", "limit", "limit per", "spent", "booked",
               "left to spend")
    rows = tuple((_year(x.fy), x.line, x.category, x.cap, x.limit, LIMIT_PERIODS.get(x.limit_period, x.limit_period),
                  x.spent, x.booked, x.left) for x in lines)
    footer = ("total", "", "", sum(x.cap for x in lines), None, "", sum(x.spent for x in lines),
              sum(x.booked for x in lines), sum(x.left for x in lines)) if lines else None
    return Table("What is left of your plan", columns, frozenset({"plan for the year", "limit", "spent", "booked",
                                                                  "left to spend"}), rows, footer)


def _contributions(c: ContributionsDue) -> Table:
    columns = ("up to", "weekly contribution", "due", "paid", "still owed")
    return Table("Your contributions", columns, frozenset(columns[1:]),
                 ((c.as_of.isoformat(), c.weekly, c.due, c.paid, c.owed),))


def _person_notes(s: PersonStatement) -> tuple[str, ...]:
    notes = ["Money in: allocations from the funders (and your own assessed contribution). Money out: care "
             "paid for, direct payments made to you, and money returned to the funders. Balance: what is left "
             "in the budget after each one.",
             "What is left of your plan: the plan for the year is what each line of the plan in force plans to "
             "cost over the whole budget year; left to spend is that less what has been spent. Booked is care "
             "arranged and set aside, not yet paid." if s.plan_lines else
             "No care and support plan is recorded for the budget years shown.",
             "Funding streams (for auditors): signed movements of each stream's available budget, opening + "
             "movements = closing. Holds (care booked, not yet posted) reduce what is available but are not "
             "movements. spend: logged against the plan; payments: paid by payment runs, net of returned "
             "payments and direct payment surpluses paid back; contributions: the person's own assessed "
             "contribution."]
    if s.contributions is None:
        notes.append("Your direct payment is not paid net of a contribution, so nothing falls due from you to pay "
                     "into it.")
    else:
        notes.append("Your contributions: every 4 weeks you pay 4 weeks of your assessed contribution into your "
                     "direct payment account; what you paid settles the oldest amount due first.")
    others = sorted({k for line in s.lines for k in line.other_kinds})
    if others:
        notes.append(f"'other' holds entries of kinds {', '.join(others)}.")
    return tuple(notes)


def _burn_down_chart(b: BurnDown) -> Chart:
    series = [("Allocated (to date)", b.allocated), ("Planned (to date)", b.planned), ("Spent (to date)", b.spent)]
    if not any(b.planned):
        del series[1]
    upto = "" if b.through == financial_year(b.fy).end else f" (allocated and spent to {b.through})"
    return charts.line_chart(f"Budget {_year(b.fy)}: allocated, planned and spent, month by month{upto}",
                             b.months, series)


# --- the pool's statement -----------------------------------------------------------


def pool_document(p: PoolStatement) -> Document:
    name = p.partner_names.get
    partners = "; ".join(f"{x.partner} ({name(x.partner, x.partner)})" for x in p.partners)
    return Document(
        "pool-statement", f"Pool statement {p.pool}: {p.name}",
        (("agreement", f"{p.name} ({p.pool}), a section 75 pooled budget for {_year(p.fy)}"), ("partners", partners),
         ("pool", p.pool), ("host", f"{p.host} ({name(p.host, p.host)})"), ("financial year", _year(p.fy)),
         ("risk share", f"{p.risk_share} ({p.share_reason})"), ("closed on", str(p.closed_on or "open")),
         ("period", _period(p.period)), ("chain head", p.head.token)),
        (_pool_contributions(p), _stream_spend(p), *_pool_accounts(p), *((_pool_months(p),) if p.months else ())),
        p.head, _pool_notes(p), p.balanced, charts=_pool_charts(p),
        signoff=("Prepared by (host)", *(f"Approved for {name(x.partner, x.partner)}" for x in p.partners)),
    )


def _share(bp: int | None) -> str:
    return "" if bp is None else f"{bp // 100}.{bp % 100:02d}%"


def _pool_contributions(p: PoolStatement) -> Table:
    columns = ("partner", "name", "agreed share", "received in period", "received to period end")
    rows = tuple((x.partner, p.partner_names.get(x.partner, ""), _share(x.fixed_share_bp), x.contributions_in,
                  x.contributions_closing) for x in p.partners)
    return Table("Contributions by partner", columns, frozenset(columns[3:]), rows,
                 ("total", "", "", sum(x.contributions_in for x in p.partners),
                  sum(x.contributions_closing for x in p.partners)))


def _stream_spend(p: PoolStatement) -> Table:
    columns = ("stream", "allocated to budgets", "recovered", "net")
    rows = tuple((_stream(x.stream), x.allocated, x.recovered, x.net) for x in p.streams)
    return Table("Spend by funding stream", columns, frozenset(columns[1:]), rows,
                 ("total", sum(x.allocated for x in p.streams), sum(x.recovered for x in p.streams),
                  sum(x.net for x in p.streams)) if rows else None)


def _pool_accounts(p: PoolStatement) -> tuple[Table, Table]:
    """The auditors' tables: the pool's unallocated account and each partner's equity, signed as before."""
    u = p.unallocated
    pool_cols = ("account", "opening", *POOL_COLUMNS, "closing")
    pool_row = (u.account, u.opening, *(getattr(u, c) for c in POOL_COLUMNS), u.closing)
    partner_cols = ("partner", "fixed share", "contributions opening", "contributions in period",
                    "contributions closing", "risk share opening", "risk share in period", "risk share closing",
                    "equity closing", "share of net allocations")
    rows = tuple((x.partner, _share(x.fixed_share_bp), x.contributions_opening, x.contributions_in,
                  x.contributions_closing, x.risk_share_opening, x.risk_share_movement, x.risk_share_closing,
                  x.equity_closing, x.share_of_net_allocations) for x in p.partners)
    footer = ("total", "", *(sum(r[i] for r in rows) for i in range(2, len(partner_cols))))
    return (Table("Pool (unallocated)", pool_cols, frozenset(pool_cols[1:]), (pool_row,)),
            Table("Risk share and equity by partner", partner_cols, frozenset(partner_cols[2:]), rows, footer,
                  across=True))


def _pool_months(p: PoolStatement) -> Table:
    m = p.months
    assert m is not None
    columns = ("month", *(f"{x.partner} contributions" for x in m.partners),
               *(f"{x.partner} share of spend" for x in m.partners), "net allocated", "spent from pooled budgets")
    rows = tuple((label, *(x.contributions[i] for x in m.partners), *(x.spend[i] for x in m.partners),
                  m.net_allocated[i], m.spent[i]) for i, label in enumerate(m.months))
    footer = ("total", *(sum(x.contributions) for x in m.partners), *(sum(x.spend) for x in m.partners),
              sum(m.net_allocated), sum(m.spent))
    return Table(f"Month by month, {_year(m.fy)}", columns, frozenset(columns[1:]), rows, footer)


def _pool_charts(p: PoolStatement) -> tuple[Chart, ...]:
    m = p.months
    if m is None:
        return ()
    name = p.partner_names.get
    return (charts.bar_chart(f"Contributions by partner, month by month, {_year(m.fy)}", m.months,
                             [(name(x.partner, x.partner), x.contributions) for x in m.partners]),
            charts.bar_chart(f"Spent from pooled budgets, by partner, month by month, {_year(m.fy)}",
                             m.months, [(name(x.partner, x.partner), x.spent) for x in m.partners], stacked=True))


def _pool_notes(p: PoolStatement) -> tuple[str, ...]:
    u = p.unallocated
    return (f"Partner equity {format_amount(p.partner_equity)} = unallocated {format_amount(u.closing)} + "
            f"net allocated to budgets {format_amount(p.net_allocated)}: "
            f"{'agrees' if p.balanced else 'DOES NOT AGREE'}.",
            f"Risk share {p.risk_share} ({p.share_reason}); an underspend is {p.year_end_rule}ed at year end.",
            "Contributions due under the agreement are not held in the ledger: the figures are what each partner "
            "has paid in.",
            "Spend is what the pool allocated to personal budgets, by funding stream, less what budgets returned "
            "to it. A partner's share of spend is its part of the net allocated under the risk-share rule, on its "
            "contributions to date; its months add up to its share of net allocations.",
            "Spent from pooled budgets: what the budgets the pool funded spent each month (net of returned "
            "payments), in the proportion of each budget stream the pool funded over the year; shared between "
            "the partners by the same rule.")


render.register(PersonStatement, person_document)
render.register(PoolStatement, pool_document)
