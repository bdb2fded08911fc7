"""Renderers for the statements: Rich on screen, CSV, JSON and HTML. Nothing here queries.

A report (a frozen dataclass from ledger/reports/statements.py, books.py, reconcile.py ...) becomes a `Document`: a
title, facts (period, person, the chain head ...) and tables whose money columns hold pence.
Each format renders a Document; JSON renders the report itself, amounts in pence.
Every format prints the chain head and the command that proves the figures unchanged.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from ledger.calendar import Period
from ledger.money import decimal_text, format_amount
from ledger.reports.arrears import BUCKETS, Aging, ArrearsReport
from ledger.reports.books import GeneralLedger, TrialBalanceReport
from ledger.reports.plans import PlanReport
from ledger.reports.reconcile import ReconciliationReport
from ledger.reports.statements import PERSON_COLUMNS, POOL_COLUMNS, PersonStatement, PoolStatement
from ledger.storage.reads import ChainHead

FORMATS = ("table", "csv", "json", "html")


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: tuple[str, ...]
    money: frozenset[str]  # names of the columns that hold pence
    rows: tuple[tuple[Any, ...], ...]
    footer: tuple[Any, ...] | None = None  # totals, same columns
    across: bool = False  # on screen, one column per row (a statement's classic layout: movements down)
    grouped: bool = False  # on a narrow screen, a table per value of the first column (the general ledger)


@dataclass(frozen=True, slots=True)
class Chart:
    """A picture of a report's figures: a standalone <svg> element (no script, no external reference), drawn by
    ledger/reports/charts.py, inlined in HTML and drawn in PDF; `summary` says the same in words."""

    title: str
    svg: str
    summary: str


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who issued a statement, who produced it and when: printed on every page."""

    issuer: str  # the organisation, from the configuration file's `organisation`
    produced_by: str  # whoever authenticated, never a parameter
    produced_at: datetime


@dataclass(frozen=True, slots=True)
class Document:
    kind: str
    title: str
    facts: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]
    head: ChainHead
    notes: tuple[str, ...] = ()
    ok: bool = True  # False: the report found a problem (shown, and the CLI exits 1)
    charts: tuple[Chart, ...] = ()
    stamp: Stamp | None = None


def verify_command(head: ChainHead) -> str:
    return f"ipb audit verify --at {head.token}"


def _period(period: Period) -> str:
    return f"{period.label} ({period.start} to {period.end})"


# --- reports to documents -----------------------------------------------------------


def document(report: Any) -> Document:
    for kind, build in _BUILDERS:
        if isinstance(report, kind):
            return build(report)
    raise TypeError(f"no renderer for {type(report).__name__}")


def _person(s: PersonStatement) -> Document:
    columns = ("budget", "stream", "opening", *PERSON_COLUMNS, "closing")
    rows = tuple((f"{line.fy}/{(line.fy + 1) % 100:02d}", str(line.stream), line.opening,
                  *(getattr(line, c) for c in PERSON_COLUMNS), line.closing) for line in s.lines)
    footer = ("total", "", s.total("opening"), *(s.total(c) for c in PERSON_COLUMNS), s.total("closing"))
    others = sorted({k for line in s.lines for k in line.other_kinds})
    notes = ["Signed movements of each stream's available budget: opening + movements = closing.",
             "Holds (planned care not yet posted) reduce what is available but are not movements.",
             "spend: logged against the plan; payments: paid by payment runs, net of returned payments and "
             "direct payment surpluses paid back; contributions: the person's own assessed contribution."]
    if others:
        notes.append(f"'other' holds entries of kinds {', '.join(others)}.")
    return Document(
        "person-statement", f"Budget statement for {s.person}",
        (("person", s.person), ("period", _period(s.period)), ("chain head", s.head.token)),
        (Table("Funding streams", columns, frozenset(columns[2:]), rows, footer, across=True),),
        s.head, tuple(notes), all(line.balanced for line in s.lines),
    )


def _pool(p: PoolStatement) -> Document:
    u = p.unallocated
    pool_cols = ("account", "opening", *POOL_COLUMNS, "closing")
    pool_row = (u.account, u.opening, *(getattr(u, c) for c in POOL_COLUMNS), u.closing)
    partner_cols = ("partner", "fixed share", "contributions opening", "contributions in period",
                    "contributions closing", "risk share opening", "risk share in period", "risk share closing",
                    "equity closing", "share of net allocations")
    rows = tuple((x.partner, "" if x.fixed_share_bp is None else f"{x.fixed_share_bp / 100:.2f}%",
                  x.contributions_opening, x.contributions_in, x.contributions_closing, x.risk_share_opening,
                  x.risk_share_movement, x.risk_share_closing, x.equity_closing, x.share_of_net_allocations)
                 for x in p.partners)
    footer = ("total", "", *(sum(r[i] for r in rows) for i in range(2, len(partner_cols))))
    notes = (f"Partner equity {format_amount(p.partner_equity)} = unallocated {format_amount(u.closing)} + "
             f"net allocated to budgets {format_amount(p.net_allocated)}: "
             f"{'agrees' if p.balanced else 'DOES NOT AGREE'}.",
             f"Risk share {p.risk_share} ({p.share_reason}); an underspend is {p.year_end_rule}ed at year end.",
             "Share of net allocations is a memorandum: what each partner's part of the spend is under the rule.")
    return Document(
        "pool-statement", f"Pool statement {p.pool}: {p.name}",
        (("pool", p.pool), ("host", p.host), ("financial year", f"{p.fy}/{(p.fy + 1) % 100:02d}"),
         ("closed on", str(p.closed_on or "open")), ("period", _period(p.period)), ("chain head", p.head.token)),
        (Table("Pool (unallocated)", pool_cols, frozenset(pool_cols[1:]), (pool_row,)),
         Table("Partners", partner_cols, frozenset(partner_cols[2:]), rows, footer, across=True)),
        p.head, notes, p.balanced,
    )


def _trial(t: TrialBalanceReport) -> Document:
    columns = ("account", "type", "currency", "opening", "debits", "credits", "closing")
    rows = tuple((x.account, x.type, x.currency, x.opening, x.debits, x.credits, x.closing) for x in t.lines)
    tables = [Table("Trial balance", columns, frozenset(columns[3:]), rows)]
    totals = t.totals()
    tables.append(Table("Totals", ("currency", "debit balances", "credit balances", "period debits",
                                   "period credits"),
                        frozenset({"debit balances", "credit balances", "period debits", "period credits"}),
                        tuple((c, v["debit_balances"], v["credit_balances"], v["debits"], v["credits"])
                              for c, v in sorted(totals.items()))))
    return Document(
        "trial-balance", "Trial balance",
        (("period", _period(t.period)), ("balanced", "yes" if t.balanced else "NO"), ("chain head", t.head.token)),
        tuple(tables), t.head, ("Signed debit positive: opening + debits - credits = closing.",), t.balanced,
    )


def _ledger(g: GeneralLedger) -> Document:
    columns = ("account", "date", "entry", "kind", "memo", "amount", "balance")
    rows: list[tuple[Any, ...]] = []
    for a in g.accounts:
        rows.append((a.account, g.period.start.isoformat(), "", "opening", "balance brought forward", None,
                     a.opening))
        rows += [(a.account, p.effective_date.isoformat(), p.entry, p.kind, p.memo, p.amount, p.balance)
                 for p in a.postings]
    return Document(
        "general-ledger", "General ledger",
        (("period", _period(g.period)), ("accounts", str(len(g.accounts))), ("chain head", g.head.token)),
        (Table("Postings", columns, frozenset({"amount", "balance"}), tuple(rows), grouped=True),),
        g.head, ("Signed debit positive; balance is the running balance of the account.",),
    )


def _reconciliation(r: ReconciliationReport) -> Document:
    columns = ("scope", "subject", "check", "expected", "actual", "difference", "accounts")
    rows = tuple((d.scope, d.subject, d.check, d.expected, d.actual, d.amount, " ".join(d.accounts))
                 for d in r.differences)
    return Document(
        "reconciliation", "Reconciliation",
        (("scope", r.scope), ("pools", str(r.pools)), ("budget streams", str(r.streams)),
         ("ledger balances checked", "yes" if r.accounts_checked else "no"),
         ("result", "agrees to the penny" if r.ok else f"{len(r.differences)} differences"),
         ("chain head", r.head.token)),
        (Table("Differences", columns, frozenset({"expected", "actual", "difference"}), rows),),
        r.head, ("Checks: see `ipb reconcile --help`.",), r.ok,
    )


def _arrears(r: ArrearsReport) -> Document:
    columns = ("person", "weekly contribution", "due", "paid", *BUCKETS, "arrears")
    money = frozenset(columns[1:])

    def row(name: str, weekly: int | None, a: Aging) -> tuple[Any, ...]:
        return (name, weekly, a.due, a.paid, *a.buckets, a.arrears)

    total = r.total
    return Document(
        "arrears", "Contribution arrears, aged",
        (("as of", r.as_of.isoformat()), ("people paid net of a contribution", str(len(r.lines))),
         ("in arrears", str(sum(1 for line in r.lines if line.aging.arrears))), ("chain head", r.head.token)),
        (Table("Arrears by person", columns, money,
               tuple(row(line.person, line.weekly_contribution, line.aging) for line in r.lines),
               row("total", None, total)),),
        r.head, ("Payments settle the oldest dues first; each unpaid due is aged by the days since it fell due.",),
    )


def _plan(r: PlanReport) -> Document:
    view = r.view
    columns = ("line", "category", "planned", "committed", "actual", "flagged", "uncommitted",
               "status")
    rows = tuple((v.spec.code, v.spec.category, v.position.planned, v.position.committed, v.position.actual,
                  v.position.flagged, v.position.uncommitted, v.position.status) for v in view.lines)
    t = view.totals
    return Document(
        "plan", f"Plan vs actual for {view.current.person}",
        (("person", view.current.person), ("budget year", f"{view.current.fy}/{(view.current.fy + 1) % 100:02d}"),
         ("plan version", f"{view.current.version} of {view.versions}"),
         ("mode", str(view.mode.mode) if view.mode else "not set"), ("chain head", r.head.token)),
        (Table("Lines", columns, frozenset(columns[2:7]), rows,
               ("total", "", t.planned, t.committed, t.actual, t.flagged, t.uncommitted, t.status)),),
        r.head, ("Planned: pro rata by days over each version in force. Committed: holds and payments in flight. "
                 "Actual: logged spend and settled invoice payments.",),
    )


_BUILDERS: list[tuple[type, Callable[[Any], Document]]] = [
    (PersonStatement, _person), (PoolStatement, _pool), (TrialBalanceReport, _trial), (GeneralLedger, _ledger),
    (ReconciliationReport, _reconciliation), (ArrearsReport, _arrears), (PlanReport, _plan),
]


def register(kind: type, build: Callable[[Any], Document]) -> None:
    """Let a report defined elsewhere (plans, payments) render through the same formats."""
    _BUILDERS.append((kind, build))


# --- formats ------------------------------------------------------------------------


def cell_text(value: Any, money: bool, text: Callable[[int], str]) -> str:
    if value is None:
        return ""
    return text(value) if money and isinstance(value, int) else str(value)


def row_text(table: Table, row: tuple[Any, ...], text: Callable[[int], str]) -> list[str]:
    """A row's cells as text, amounts in the money columns written by `text`."""
    return [cell_text(value, column in table.money, text) for column, value in zip(table.columns, row)]


def to_csv(doc: Document) -> str:
    """One CSV: '#' comment lines with the facts and chain head, then a header and rows.

    With more than one table a first column `section` names the table. Amounts are plain
    decimals (1234.56), negative for credits/outflows as on screen; totals rows say 'total'.
    """
    buffer = io.StringIO()
    for label, value in (("report", doc.title), *doc.facts, ("verify", verify_command(doc.head))):
        buffer.write(f"# {label}: {value}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    many = len(doc.tables) > 1
    for index, table in enumerate(doc.tables):
        if many and index:
            buffer.write("\n")
        writer.writerow((["section"] if many else []) + list(table.columns))
        rows = list(table.rows) + ([table.footer] if table.footer else [])
        for row in rows:
            cells = row_text(table, row, lambda p: decimal_text(p, "GBP"))
            writer.writerow(([table.title] if many else []) + cells)
    return buffer.getvalue()


def to_html(doc: Document) -> str:
    """A standalone HTML page, every piece of text escaped."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{e(doc.title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#111}"
        "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:.25em .6em}"
        "th{background:#eee;text-align:left}td.money{text-align:right;font-variant-numeric:tabular-nums}"
        "tr.total td{font-weight:bold;border-top:2px solid #333}.bad{color:#b00;font-weight:bold}"
        "code{background:#f4f4f4;padding:.1em .3em}dt{font-weight:bold;float:left;clear:left;width:11em}"
        "dd{margin-left:12em}</style></head><body>",
        f"<h1>{e(doc.title)}</h1>", "<dl>",
        *(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in doc.facts), "</dl>",
    ]
    if not doc.ok:
        parts.append('<p class="bad">This report found a problem: see below.</p>')
    for table in doc.tables:
        parts.append(f"<h2>{e(table.title)}</h2>")
        if not table.rows:
            parts.append("<p>None.</p>")
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in table.columns)
                     + "</tr></thead><tbody>")
        rows = [(row, "") for row in table.rows] + ([(table.footer, ' class="total"')] if table.footer else [])
        for row, css in rows:
            cells = []
            for column, value in zip(table.columns, row):
                money = column in table.money
                text = cell_text(value, money, format_amount)
                cells.append(f'<td class="money">{e(text)}</td>' if money else f"<td>{e(text)}</td>")
            parts.append(f"<tr{css}>{''.join(cells)}</tr>")
        parts.append("</tbody></table>")
    parts += [f"<p>{e(note)}</p>" for note in doc.notes]
    parts.append(f"<p>Produced at chain head <code>{e(doc.head.token)}</code>. Prove these figures unchanged "
                 f"with <code>{e(verify_command(doc.head))}</code>.</p></body></html>")
    return "\n".join(parts) + "\n"


def to_rich(doc: Document, console: Any) -> None:
    """Print the document on a Rich console through the one table printer (ledger/reports/screen.py): nothing
    cut at any width, plain text when piped. Every string goes in as Text, so names, memos and codes are
    printed as they are on any console: never read as markup (`[bold]`) or emoji codes (`:family:`)."""
    from rich.text import Text

    from ledger.reports import screen

    screen.title(console, doc.title, "bold")
    screen.pairs(console, doc.facts)
    for table in doc.tables:
        if not table.rows:
            console.print(Text(f"{table.title}: none"))
            continue
        for grid in _grids(table, console):
            screen.show(console, grid)
    for note in doc.notes:
        screen.title(console, note, "")
    if not doc.ok:
        console.print(Text("this report found a problem", "bold red"))
    _verify_lines(console, doc.head)


def _grid(table: Table) -> Any:
    from ledger.reports.screen import Grid

    footer = () if table.footer is None else (tuple(row_text(table, table.footer, format_amount)),)
    return Grid(table.title, table.columns, tuple(c in table.money for c in table.columns),
                tuple(tuple(row_text(table, row, format_amount)) for row in table.rows), footer)


def _grids(table: Table, console: Any) -> list[Any]:
    """How a table prints on screen: turned on its side if it has that layout (and, on a terminal, it fits);
    split by its first column (the general ledger, account by account) if it is too wide for the terminal."""
    from ledger.reports.screen import fits

    if table.across:
        turned = _grid(_across(table))
        if not console.is_terminal or fits(turned, console.width):
            return [turned]
    whole = _grid(table)
    if not (table.grouped and console.is_terminal) or fits(whole, console.width):
        return [whole]
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for row in table.rows:
        groups.setdefault(str(row[0]), []).append(row[1:])
    last = len(groups) - 1
    return [_grid(Table(f"{table.title}: {key}", table.columns[1:], table.money, tuple(rows),
                        table.footer[1:] if table.footer and index == last else None))
            for index, (key, rows) in enumerate(groups.items())]


def _verify_lines(console: Any, head: ChainHead) -> None:
    """The command that proves the figures unchanged, never broken inside a word: on a narrow terminal it
    goes on lines of its own, the chain head after a shell line continuation, so it still pastes whole."""
    from rich.cells import cell_len
    from rich.text import Text

    lead, command = "prove these figures unchanged:", verify_command(head)
    lines = [f"{lead} {command}"]
    if console.is_terminal and cell_len(lines[0]) > console.width:
        lines = [lead, f"  {command}"] if cell_len(command) + 2 <= console.width else \
            [lead, f"  {command.removesuffix(head.token)}\\", f"    {head.token}"]
    for line in lines:
        console.print(Text(line), soft_wrap=True)


def _across(table: Table) -> Table:
    """Turn a table on its side: a column per row (named by its text cells), a row per money column."""
    rows = list(table.rows) + ([table.footer] if table.footer else [])
    texts = [i for i, c in enumerate(table.columns) if c not in table.money]
    heads = tuple("\n".join(str(row[i]) for i in texts if row[i] not in ("", None)) for row in rows)
    lines = tuple((column, *(row[i] for row in rows)) for i, column in enumerate(table.columns)
                  if column in table.money)
    extra = tuple((table.columns[i], *(row[i] for row in rows)) for i in texts if table.columns[i] not in
                  ("budget", "stream", "partner") and any(row[i] not in ("", None) for row in rows))
    return Table(table.title, ("", *heads), frozenset(heads), extra + lines)


def to_plain(report: Any) -> Any:
    """The report as JSON-ready data: dataclasses to objects, amounts in pence, dates ISO."""
    value = _plain(report)
    if dataclasses.is_dataclass(report) and hasattr(report, "head"):
        value = {"report": document(report).kind, **value, "verify": verify_command(report.head)}
        for name in ("ok", "balanced"):
            if hasattr(type(report), name):
                value[name] = getattr(report, name)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, ChainHead):
        return {"entry": value.entry, "hash": value.hash, "token": value.token}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("movements", "closing", "balanced", "equity_closing", "amount"):
            attr = getattr(type(value), name, None)
            if isinstance(attr, property):
                out[name] = _plain(getattr(value, name))
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [_plain(v) for v in value]
    return value


def render(report: Any, fmt: str, console: Any = None) -> str | None:
    """Text of the report in `fmt` (csv, json, html), or None after printing a table to `console`."""
    import json

    if fmt == "json":
        return json.dumps(to_plain(report), indent=2, ensure_ascii=False) + "\n"
    doc = document(report)
    if fmt == "csv":
        return to_csv(doc)
    if fmt == "html":
        return to_html(doc)
    if fmt == "table":
        to_rich(doc, console)
        return None
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
