"""Renderers for the statements: Rich on screen, CSV, JSON and HTML. Nothing here queries.

A report (a frozen dataclass from ledger/reports/statements.py, books.py, reconcile.py ...) becomes a `Document`: a
title, facts (period, person, the chain head ...) and tables whose money columns hold pence.
Each format renders a Document; JSON renders the report itself, amounts in pence.
Every format prints the chain head and the command that proves the figures unchanged.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from ledger.calendar import Period
from ledger.money import decimal_text, format_amount
from ledger.reports.arrears import BUCKETS, Aging, ArrearsReport
from ledger.reports.books import GeneralLedger, TrialBalanceReport
from ledger.reports.plans import PlanReport
from ledger.reports.reconcile import ReconciliationReport
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
    signoff: tuple[str, ...] = ()  # the roles that sign it (e.g. "prepared by", "approved by"): a block each


def verify_command(head: ChainHead) -> str:
    return f"ipb audit verify --at {head.token}"


_FIELD_NAME = re.compile(r"[a-z]+(?:[ _][a-z]+)*")


def header_text(name: str) -> str:
    """A column's name as a header in words (HTML and PDF): `year_end` -> "Year end", `debit balances` ->
    "Debit balances". Anything else (a reference such as P0001 or s117, "0-30 days") stays as it is."""
    if not _FIELD_NAME.fullmatch(name):
        return name
    words = name.replace("_", " ")
    return words[0].upper() + words[1:]


def produced_text(stamp: Stamp) -> str:
    """`produced by NAME on YYYY-MM-DD at HH:MM UTC`: the stamp's who and when, in every format."""
    return f"produced by {stamp.produced_by} on {_utc(stamp.produced_at).replace(' ', ' at ', 1)}"


def _utc(at: datetime) -> str:
    """`YYYY-MM-DD HH:MM UTC`; a naive time is UTC already (ledger.calendar.utc_now)."""
    return f"{at if at.tzinfo is None else at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _period(period: Period) -> str:
    return f"{period.label} ({period.start} to {period.end})"


# --- reports to documents -----------------------------------------------------------


def document(report: Any, stamp: Stamp | None = None) -> Document:
    """The report as a Document; with `stamp`, stamped with who issued and produced it, and when."""
    for kind, build in _BUILDERS:
        if isinstance(report, kind):
            doc = build(report)
            return doc if stamp is None else dataclasses.replace(doc, stamp=stamp)
    raise TypeError(f"no renderer for {type(report).__name__}")


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
    from ledger.reports.ledger_out import ledger_rows

    return ledger_document(g.period, g.head, len(g.accounts),
                           tuple(ledger_rows(g.period, ((a, a.postings) for a in g.accounts))))


def ledger_document(period: Period, head: ChainHead, accounts: int, rows: tuple[tuple[Any, ...], ...]) -> Document:
    """The general ledger of `accounts` accounts; ledger/reports/ledger_out.py writes its rows as they are read."""
    columns = ("account", "date", "entry", "kind", "memo", "amount", "balance")
    return Document(
        "general-ledger", "General ledger",
        (("period", _period(period)), ("accounts", str(accounts)), ("chain head", head.token)),
        (Table("Postings", columns, frozenset({"amount", "balance"}), rows, grouped=True),),
        head, ("Signed debit positive; balance is the running balance of the account.",),
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
    from ledger.reports.charts import bar_chart

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
        charts=(bar_chart(f"Arrears by age at {r.as_of.isoformat()}", BUCKETS,
                          [("owed", total.buckets)] if r.lines else []),),
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
    (TrialBalanceReport, _trial), (GeneralLedger, _ledger),
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
    stamp = () if doc.stamp is None else (("issued by", doc.stamp.issuer), ("produced by", doc.stamp.produced_by),
                                          ("produced at", _utc(doc.stamp.produced_at)))
    for label, value in (("report", doc.title), *stamp, *doc.facts, ("verify", verify_command(doc.head))):
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
    """A standalone HTML page, every piece of text escaped (ledger/reports/html_page.py)."""
    from ledger.reports.html_page import page

    return page(doc)


def to_rich(doc: Document, console: Any) -> None:
    """Print the document on a Rich console through the one table printer (ledger/reports/screen.py): nothing
    cut at any width, plain text when piped. Every string goes in as Text, so names, memos and codes are
    printed as they are on any console: never read as markup (`[bold]`) or emoji codes (`:family:`)."""
    from rich.text import Text

    from ledger.reports import screen

    rich_top(doc, console)
    for table in doc.tables:
        if not table.rows:
            console.print(Text(f"{table.title}: none"))
            continue
        for grid in _grids(table, console):
            screen.show(console, grid)
    rich_bottom(doc, console)


def rich_top(doc: Document, console: Any) -> None:
    """What to_rich prints above the tables: the stamp, the title and the facts."""
    from ledger.reports import screen

    if doc.stamp is not None:
        screen.title(console, doc.stamp.issuer, "bold")
    screen.title(console, doc.title, "bold")
    if doc.stamp is not None:
        screen.title(console, produced_text(doc.stamp), "")
    screen.pairs(console, doc.facts)


def rich_bottom(doc: Document, console: Any) -> None:
    """What to_rich prints below the tables: the notes, a problem if found, and the command that proves it."""
    from rich.text import Text

    from ledger.reports import screen

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


def to_plain(report: Any, stamp: Stamp | None = None) -> Any:
    """The report as JSON-ready data: dataclasses to objects, amounts in pence, dates ISO; with `stamp`, a
    top-level "produced" object (issuer, by, at)."""
    value = _plain(report)
    if dataclasses.is_dataclass(report) and hasattr(report, "head"):
        value = {"report": document(report).kind, **value, "verify": verify_command(report.head)}
        for name in ("ok", "balanced"):
            if hasattr(type(report), name):
                value[name] = getattr(report, name)
        if stamp is not None:
            value["produced"] = {"issuer": stamp.issuer, "by": stamp.produced_by,
                                 "at": stamp.produced_at.isoformat(timespec="seconds")}
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


def render(report: Any, fmt: str, console: Any = None, stamp: Stamp | None = None) -> str | None:
    """Text of the report in `fmt` (csv, json, html), or None after printing a table to `console`; with `stamp`,
    saying who issued and produced it, and when."""
    import json

    if fmt == "json":
        return json.dumps(to_plain(report, stamp), indent=2, ensure_ascii=False) + "\n"
    doc = document(report, stamp)
    if fmt == "csv":
        return to_csv(doc)
    if fmt == "html":
        return to_html(doc)
    if fmt == "table":
        to_rich(doc, console)
        return None
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
