"""`ipb report ...`: statements auditors can check.

Every report is computed from postings in one read transaction and carries the hash-chain
head it was produced at; `ipb audit verify --at ENTRY:HASH` later proves it unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger import calendar
from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, parse_date, parse_fy, progress, refusals, requires, settings
from ledger.cli.options import BeginOption, EndOption, format_of, one_of, period_of, period_option
from ledger.cli.output import console, emit_json, out, say
from ledger.errors import InvalidInput
from ledger.reports import books, reconcile, render, statements
from ledger.reports.arrears import contribution_arrears
from ledger.reports.payment_runs import payment_runs_report
from ledger.reports.pdf import to_pdf
from ledger.reports.plans import plan_report
from ledger.roles import Permission
from ledger.storage import identity

app = typer.Typer(
    help=summary("report") + " Every figure is computed from postings. Each report names its issuer (organisation "
         "in the configuration file: ipb config show), who produced it and when.\n\n"
         "Examples:\n\n"
         "  ipb report statement P0001 --period 2025/26\n\n"
         "  ipb report pool bcf-2025 --out pool.html        # the format from the file's extension\n\n"
         "  ipb report trial-balance -p 2025Q2 -o tb.csv    # April to June 2025\n\n"
         "  ipb report ledger -b 2025-04-01 -e 2025-07-01   # the end is left out, as in hledger\n\n"
         "Then, any time later: ipb audit verify --at ENTRY:HASH (printed on the report).",
    no_args_is_help=True,
    add_completion=False,
)
PeriodOption = period_option("this financial year")
PoolPeriodOption = period_option("the pool's financial year")
FORMATS = (*render.FORMATS, "pdf")
FormatOption = Annotated[str | None, typer.Option(
    "--format", "-O", click_type=one_of(FORMATS, "format"), show_default=False,
    help="table (on screen), csv, json (amounts in pence; --json is the same), html, or pdf (with --out). "
         "Default: from the --out file's extension, else table.")]
OutOption = Annotated[Path | None, typer.Option(
    "--out", "-o", metavar="FILE", show_default=False,
    help="Write to this file instead of the screen, in the format its extension names: .txt (table), .csv, .json, "
         ".html or .pdf")]
PrefixOption = Annotated[str | None, typer.Option(
    "--account", help="Only accounts whose code starts with this, e.g. person:P0001 or pool:", show_default=False)]


def _stamp() -> render.Stamp:
    """Who issues the report (the configured organisation), who produced it and when. The producer is whoever
    authenticated (ledger/storage/identity.py), and the ipb user they acted as when that is someone else."""
    actor = settings.who
    with settings.engine.connect() as conn:
        principal = identity.principal_of(conn, actor)
    by = principal if principal == actor or principal.endswith(f" as {actor}") else f"{principal} as {actor}"
    return render.Stamp(settings.organisation, by, calendar.utc_now())


def _pdf(doc: render.Document, out_file: Path) -> bytes:
    """The PDF, with a progress bar on a terminal's stderr: a year's general ledger is hundreds of pages."""
    with progress() as bar:
        task = bar.add_task(f"writing {out_file.name}", total=None)
        return to_pdf(doc, lambda done, total: bar.update(task, completed=done, total=total))


def _format(fmt: str | None, out_file: Path | None, as_json: bool) -> str:
    # --json prints JSON: the report itself, or, with --out, the note of what was written where
    if fmt is None:
        fmt = "table" if out_file is None else format_of(out_file, FORMATS)
    fmt = "json" if as_json and out_file is None else fmt
    if fmt == "pdf" and out_file is None:
        raise InvalidInput("a PDF goes to a file: add --out, e.g. --out statement.pdf")
    return fmt


def _emit(report: Any, fmt: str | None, out_file: Path | None, as_json: bool) -> None:
    fmt = _format(fmt, out_file, as_json)
    stamp = _stamp()
    if out_file is None:
        text = render.render(report, fmt, out, stamp=stamp)
        if text is not None:
            print(text, end="")
    else:
        if fmt == "table":
            with out_file.open("w", encoding="utf-8") as handle:
                render.render(report, fmt, console(file=handle, width=200), stamp=stamp)
        elif fmt == "pdf":
            out_file.write_bytes(_pdf(render.document(report, stamp), out_file))
        else:
            out_file.write_text(render.render(report, fmt, stamp=stamp) or "", encoding="utf-8")
        _written(out_file, fmt, report.head, as_json)
    if not render.document(report).ok:
        raise typer.Exit(1)


def _written(out_file: Path, fmt: str, head: Any, as_json: bool) -> None:
    message = {"written": str(out_file), "format": fmt, "head": head.token, "verify": render.verify_command(head)}
    if as_json:
        emit_json(message)
    else:
        say(f"wrote {out_file} ({fmt}); produced at chain head {head.token}")


@app.command("statement")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def statement(
    person: Annotated[str, typer.Argument(help="The person's reference, e.g. P0001")],
    period: PeriodOption = None,
    begin: BeginOption = None,
    end: EndOption = None,
    fy: Annotated[str | None, typer.Option("--fy", help="Only this budget year, e.g. 2025/26",
                                           show_default=False)] = None,
    fmt: FormatOption = None,
    out_file: OutOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A person's budget statement: money in and out with a running balance and who was paid or
    paid in (each budget year as a whole), what is left of each plan line, the person's own
    contributions due and paid, a burn-down chart (HTML, PDF) and, for auditors, each funding
    stream: opening, allocations, spend, payments, recoveries, contributions, other, closing.
    Opening + movements = closing on every line.

    Brokers may run it only for people assigned to them. Kinds of entry without a column of
    their own are shown under "other" and named in the notes, so nothing is left out.

    Example: ipb report statement P0001 --period 2025/26 --format pdf --out p0001.pdf
    """
    report = statements.person_statement(settings.engine, person, period_of(period, begin, end),
                                         parse_fy(fy) if fy else None)
    _emit(report, fmt, out_file, as_json)


@app.command("arrears")
@refusals
@requires(Permission.VIEW_ALL)
def arrears(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date to age at (default today)",
                                              show_default=False)] = None,
    fmt: FormatOption = None,
    out_file: OutOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Contribution arrears, aged 0-30, 31-60, 61-90 and over 90 days: for each person paid net of
    their assessed contribution, what fell due, what they paid into their account, and what is owed.

    Example: ipb report arrears --as-of 2026-03-31 --format csv
    """
    _emit(contribution_arrears(settings.engine, parse_date(as_of)), fmt, out_file, as_json)


@app.command("payment-runs")
@refusals
@requires(Permission.VIEW_ALL)
def payment_runs(
    period: PeriodOption = None,
    begin: BeginOption = None,
    end: EndOption = None,
    paying_account: Annotated[str | None, typer.Option(
        "--from", help="Only runs from this paying account (see `ipb paying-account list`)",
        show_default=False)] = None,
    fmt: FormatOption = None,
    out_file: OutOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Payment runs by pay date: per run, what the bank paid, what came back, what failed and what is
    still to pay; with a chart of the total paid per run (in HTML and PDF).

    Example: ipb report payment-runs --period 2025/26 --out runs.html
    """
    _emit(payment_runs_report(settings.engine, period_of(period, begin, end), paying_account), fmt, out_file,
          as_json)


@app.command("plan")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def plan(
    person: Annotated[str, typer.Argument(help="The person's reference, e.g. P0001")],
    fy: Annotated[str, typer.Option("--fy", help="Budget year, e.g. 2025/26")],
    fmt: FormatOption = None,
    out_file: OutOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Plan vs actual: per line of the care plan, planned, committed, actual (with flagged overspend)
    and what is left. Brokers may run it only for people assigned to them.

    Example: ipb report plan P0001 --fy 2025/26 --format html --out plan.html
    """
    _emit(plan_report(settings.engine, person, parse_fy(fy)), fmt, out_file, as_json)


@app.command("pool")
@refusals
@requires(Permission.VIEW_ALL)
def pool(
    code: Annotated[str, typer.Argument(help="Pool code, e.g. bcf-2025")],
    period: PoolPeriodOption = None,
    begin: BeginOption = None,
    end: EndOption = None,
    fmt: FormatOption = None,
    out_file: OutOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A section 75 pool statement for its partners: the agreement and both partners named, each
    partner's contributions, spend by funding stream, month by month (charted in HTML and PDF),
    the pool's money in, allocated out, recovered and the year end; per partner the risk share and
    its part of the net allocations under the rule; and a sign-off block for each partner.

    Example: ipb report pool bcf-2025 --format html --out pool.html
    """
    report = statements.pool_statement(settings.engine, code, period_of(period, begin, end, default=lambda: None))
    _emit(report, fmt, out_file, as_json)


@app.command("trial-balance")
@refusals
@requires(Permission.VIEW_ALL)
def trial_balance(
    period: PeriodOption = None,
    begin: BeginOption = None,
    end: EndOption = None,
    prefix: PrefixOption = None,
    fmt: FormatOption = None,
    out_file: OutOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Every account with a balance or a movement: opening, period debits and credits, closing;
    debit and credit totals per currency. Exit 1 if it does not balance.

    Example: ipb report trial-balance -p 2025Q2 -o tb.csv   # April to June 2025, as CSV
    """
    _emit(books.trial_balance_report(settings.engine, period_of(period, begin, end), prefix), fmt, out_file, as_json)


@app.command("ledger")
@refusals
@requires(Permission.VIEW_ALL)
def general_ledger(
    period: PeriodOption = None,
    begin: BeginOption = None,
    end: EndOption = None,
    prefix: PrefixOption = None,
    fmt: FormatOption = None,
    out_file: OutOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The general ledger: every posting of the period, account by account, with a running balance
    starting from the balance brought forward. Written as PDF, a progress bar shows on a terminal.
    CSV, JSON, HTML and text to a file or a pipe are written as the postings are read, so a year of
    a million postings takes no more memory than a month.

    Example: ipb report ledger -b 2025-04-01 -e 2025-05-01 --account pool:   # April 2025
    """
    chosen, fmt = period_of(period, begin, end), _format(fmt, out_file, as_json)
    if fmt == "pdf" or (fmt == "table" and out_file is None and out.is_terminal):  # laid out as a whole
        _emit(books.general_ledger(settings.engine, chosen, prefix), fmt, out_file, as_json)
        return
    from ledger.reports import ledger_out

    stamp = _stamp()
    with books.ledger_stream(settings.engine, chosen, prefix) as stream:
        if out_file is None:
            ledger_out.write(stream, fmt, sys.stdout, stamp, out)
        else:  # written beside it and renamed at the end: a read that fails half way leaves no half a ledger
            partial = out_file.with_name(f".{out_file.name}.partial")
            try:
                with partial.open("w", encoding="utf-8") as handle:
                    ledger_out.write(stream, fmt, handle, stamp, console(file=handle, width=200))
                partial.replace(out_file)
            finally:
                partial.unlink(missing_ok=True)
    if out_file is not None:
        _written(out_file, fmt, stream.head, as_json)


@app.command("reconciliation")
@refusals
@requires(Permission.VIEW_ALL)
def reconciliation(
    pool_code: Annotated[str | None, typer.Option("--pool", help="Only this pool", show_default=False)] = None,
    person: Annotated[str | None, typer.Option("--person", help="Only this person", show_default=False)] = None,
    fmt: FormatOption = None,
    out_file: OutOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Pools, budgets and balances agree to the penny (the checks of `ipb reconcile`), as a
    report with its chain head. Exit 1 if any difference is found.

    Example: ipb report reconciliation --pool bcf-2025
    """
    _emit(reconcile.reconciliation_report(settings.engine, pool=pool_code, person=person), fmt, out_file, as_json)
