"""`ipb run ...`: payment runs. A month's work: `gather` (the maker) collects what is due into a draft run;
a second officer `approve`s it, which holds the money in each budget; `file` writes the bank file;
`submit` records it went; `settle` posts what the bank paid (`--failed ID=reason` for those it did not).
Until it is submitted, `cancel` stops a run: its holds are voided and its payments gathered again later.
Every step can be run again after a crash: nothing is ever paid twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.bacs_calendar import Roll
from ledger.cli.app import summary
from ledger.cli.common import (
    DateOption,
    JsonFlag,
    PayingOption,
    checkpoint_if_configured,
    choice,
    parse_date,
    progress,
    refusals,
    requires,
    settings,
)
from ledger.cli.options import one_of
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, say
from ledger.errors import InvalidInput
from ledger.roles import Permission
from ledger.services import payment_runs, payment_settlement

app = typer.Typer(
    help=summary("run") + "\n\nExample: ipb run gather --from main --date 2025-05-06",
    no_args_is_help=True,
    add_completion=False,
)

RunArg = Annotated[int, typer.Argument(help="The run's number (see `ipb run list`)")]
PAYMENT_COLUMNS = (
    Column("id", lambda p: p.id),
    Column("payee", lambda p: p.payee),
    Column("person", lambda p: p.person),
    Column("amount", lambda p: p.amount, money=True),
    Column("reference", lambda p: p.reference),
    Column("status", lambda p: p.status),
    Column("hold", lambda p: p.hold_entry),
    Column("settled", lambda p: p.settlement_entry),
    Column("note", lambda p: p.failure_reason),
)
RUN_COLUMNS = (
    Column("run", lambda v: v.id),
    Column("from", lambda v: v.paying_account),
    Column("pay date", lambda v: v.pay_date),
    Column("status", lambda v: v.status),
    Column("maker", lambda v: v.maker),
    Column("checker", lambda v: v.checker),
    Column("payments", lambda v: len(v.payments)),
    Column("total", lambda v: v.total, money=True),
)


def run_json(view: payment_runs.RunView) -> dict[str, Any]:
    return {**asdict(view), "total": view.total}


def _print_run(view: payment_runs.RunView) -> None:
    listing(view.payments, PAYMENT_COLUMNS,
            title=f"Run {view.id} from {view.paying_account}, pay date {view.pay_date}: {view.status}")
    say(f"maker {view.maker}, checker {view.checker or '-'}; total {money(view.total)}; "
        + ", ".join(f"{s} {view.count(s)}" for s in ("pending", "held", "settled", "failed", "returned")
                    if view.count(s)))


def _show(view: payment_runs.RunView, as_json: bool) -> None:
    emit_json(run_json(view)) if as_json else _print_run(view)


def _with_bar(label: str, work: Callable[[Callable[[int, int], None]], payment_runs.RunView]) -> payment_runs.RunView:
    with progress() as bar:
        task = bar.add_task(label, total=None)
        return work(lambda done, total: bar.update(task, completed=done, total=total))


@app.command("gather")
@refusals
@requires(Permission.PAY)
def run_gather(
    paying_account: PayingOption,
    as_of: Annotated[str | None, typer.Option(
        "--date", help="The pay date, a Bacs processing day (default today): pays everything due by then")] = None,
    roll: Annotated[Roll | None, typer.Option(
        "--roll", click_type=one_of(Roll, "--roll"), show_default=False,
        help="If --date is not a processing day, pay on the processing day before (previous) or after it (next) "
             "instead of refusing")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Gather what is due (DP dates, invoices) into the draft run. You become its maker. Safe to repeat.

    The pay date must be a Bacs processing day: Monday to Friday, not a bank holiday in England and Wales,
    nor a day in the file IPB_BACS_HOLIDAYS names. Any other date is refused, naming the processing days
    either side, because which way to move it is the officer's call: the day before pays people early and
    gathers less, the day after pays them late. --roll previous|next makes that call up front. A DP due on
    a non-processing day is paid the processing day before, so Friday's run pays Monday's bank holiday.

    Examples:
      ipb run gather --from main --date 2025-05-06
      ipb run gather --from dp --date 2025-12-25 --roll previous   # pays on Wed 2025-12-24
    """
    got = payment_runs.gather(settings.engine, paying_account, parse_date(as_of), actor=settings.who,
                              roll=choice(Roll, roll, "--roll") if roll is not None else None)
    if as_json:
        emit_json({"added": list(got.added), "run": run_json(got.run) if got.run else None,
                   "pay_date": got.pay_date, "rolled_from": got.rolled_from})
        return
    if got.rolled_from is not None:
        say(f"{got.rolled_from} is not a Bacs processing day: rolled to the {roll} one, {got.pay_date:%a} "
            f"{got.pay_date}")
    if got.run is None:
        say("nothing is due")
        return
    say(f"gathered {len(got.added)} new payment(s) into run {got.run.id}")
    _print_run(got.run)


@app.command("approve")
@refusals
@requires(Permission.APPROVE)
def run_approve(run: RunArg, as_json: JsonFlag = False) -> None:
    """Approve a run as the checker (not its maker) and hold each payment's money. Re-run to resume.

    The checker must be a second person as the database knows them (their login), whatever name they
    act under. With IPB_AUDIT_KEY and IPB_AUDIT_LOG set, a signed checkpoint follows the approval.

    Example: ipb --as checker run approve 1
    """
    view = _with_bar(f"holding run {run}", lambda tick: payment_runs.approve(settings.engine, run, actor=settings.who,
                                                                             tick=tick))
    signed = checkpoint_if_configured()
    _show(view, as_json)
    if signed and not as_json:
        say(signed)


@app.command("file")
@refusals
@requires(Permission.PAY)
def run_file(
    run: RunArg,
    output: Annotated[Path, typer.Option("--out", "-o", help="Where to write the file")],
    fmt: Annotated[str, typer.Option("--format", click_type=one_of(("csv", "bacs18"), "file format"),
                                     help="The bank's file: CSV, or BACS Standard 18")] = "csv",
    serial: Annotated[str | None, typer.Option(help="Bacs submission serial (default: the run id)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the bank file of an approved run's held payments (CSV or BACS Standard 18).

    A Standard 18 file is processed on the run's pay date, which must still be a Bacs processing day: one
    that has since become a bank holiday, or a day in the file IPB_BACS_HOLIDAYS names, is refused, naming
    the processing days either side. Run again (after a crash, say), it writes the file again; once the run
    is submitted, only a file identical to the one submitted (same --format and --serial, that day) is written.

    Example: ipb run file 1 --format bacs18 --out run1.txt
    """
    made = payment_settlement.payment_file(settings.engine, run, fmt, actor=settings.who, serial=serial)
    output.write_text(made.text, newline="")
    data = {"run": run, "format": made.format, "count": made.count, "total": made.total, "sha256": made.sha256,
            "path": str(output)}
    emit_json(data) if as_json else say(
        f"wrote {made.count} payment(s), {money(made.total)}, to {output} ({made.format})")


@app.command("submit")
@refusals
@requires(Permission.PAY)
def run_submit(run: RunArg, as_json: JsonFlag = False) -> None:
    """Record that the run's file went to the bank.

    Example: ipb run submit 1
    """
    view = payment_settlement.submit(settings.engine, run, actor=settings.who)
    emit_json(run_json(view)) if as_json else say(f"run {run} submitted at {view.submitted_at}")


@app.command("settle")
@refusals
@requires(Permission.BANK)
def run_settle(
    run: RunArg,
    on: DateOption = None,
    failed: Annotated[list[str] | None, typer.Option(
        "--failed", metavar="PAYMENT_ID=REASON",
        help="PAYMENT_ID=reason, for each payment the bank did not pay (repeat the option)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Post the payments the bank made; void those it failed.

    The outcome (the date the bank paid on, and which payments failed) is recorded before any payment is
    touched. If the command is stopped half-way, run the same command again: it finishes exactly that
    settlement (without --date, on the date it was started with). One asking for a different outcome than
    the one started is refused, naming the difference and the command that finishes it. A payment the bank
    sends back after settling is `ipb payment return`.

    Example: ipb run settle 1 --date 2025-05-08 --failed 9="account closed" --failed 12="no such account"
    """
    fails = _failures(failed or [])
    view = _with_bar(f"settling run {run}", lambda tick: payment_settlement.settle(
        settings.engine, run, on=parse_date(on) if on is not None else None, actor=settings.who, failed=fails,
        tick=tick))
    _show(view, as_json)


@app.command("cancel")
@refusals
@requires(Permission.PAY)
def run_cancel(
    run: RunArg,
    reason: Annotated[str, typer.Option("--reason", help="Why the run is cancelled (kept in the history chain)")],
    as_json: JsonFlag = False,
) -> None:
    """Cancel a draft or approved run before it goes to the bank: its holds are voided and its payments
    fail, so the next `ipb run gather` pays them again (in a new run, as their next attempt).

    Safe to repeat: after a crash, the same command finishes the cancellation. A run already submitted
    cannot be cancelled: fail what the bank did not pay when settling (`ipb run settle --failed`), and
    return what it paid and sent back (`ipb payment return`).

    Example: ipb run cancel 1 --reason "wrong pay date"
    """
    view = _with_bar(f"cancelling run {run}", lambda tick: payment_settlement.cancel(
        settings.engine, run, reason=reason, actor=settings.who, tick=tick))
    _show(view, as_json)


def _failures(items: list[str]) -> dict[int, str]:
    fails: dict[int, str] = {}
    for item in items:
        ident, _, reason = item.partition("=")
        if not (ident.strip().isascii() and ident.strip().isdigit() and len(ident.strip()) < 19):  # 0-9, < 2^63
            raise InvalidInput(f"--failed {item!r} must be PAYMENT_ID=reason")
        if int(ident) in fails:
            raise InvalidInput(f"--failed names payment {int(ident)} twice: give each failed payment once")
        fails[int(ident)] = reason.strip() or "failed at the bank"
    return fails


@app.command("show")
@refusals
@requires(Permission.VIEW_ALL)
def run_show(run: RunArg, fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """A run and its payments (--format csv: a row per payment).

    Example: ipb run show 1
    """
    view = payment_runs.run_view(settings.engine, run)
    if fmt is Format.CSV:
        listing(view.payments, PAYMENT_COLUMNS, title=f"Run {view.id}", fmt=fmt)
    else:
        _show(view, as_json or fmt is Format.JSON)


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def run_list(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """All runs.

    Example: ipb run list --format csv
    """
    listing(payment_runs.list_runs(settings.engine), RUN_COLUMNS, title="Payment runs", fmt=fmt, as_json=as_json,
            to_json=lambda v: {k: x for k, x in run_json(v).items() if k != "payments"} | {"count": len(v.payments)})
