"""`ipb paying-account|provider|schedule|invoice|run|payment|dp|surplus`: paying providers and people.

A month's work: `ipb run gather` (maker) collects what is due into a draft run; a second officer
`ipb run approve`s it, which holds the money in each budget; `ipb run file` writes the bank file;
`ipb run submit` records it went; `ipb run settle` posts what the bank paid (`--failed ID=reason` for
those it did not). Every step can be run again after a crash: nothing is ever paid twice.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ledger.cli.common import (
    JsonFlag,
    emit_json,
    money,
    out,
    parse_date,
    parse_fy,
    progress,
    refusals,
    requires,
    settings,
)
from ledger.domain import Stream
from ledger.errors import InvalidInput
from ledger.money import parse_amount
from ledger.roles import Permission
from ledger.services import payments, returned, surplus

paying_app = typer.Typer(help="Council bank accounts payments are made from (ledger account bank:<code>).",
                         no_args_is_help=True)
provider_app = typer.Typer(help="Care providers paid on invoice (ledger account provider:<code>:paid).",
                           no_args_is_help=True)
schedule_app = typer.Typer(help="Direct payment schedules: 4-weekly, in advance, into the person's DP account.",
                           no_args_is_help=True)
invoice_app = typer.Typer(help="Provider invoices, paid by the next run from the person's budget.",
                          no_args_is_help=True)
run_app = typer.Typer(help="Payment runs: gather -> approve (a second officer) -> file -> submit -> settle.",
                      no_args_is_help=True)
payment_app = typer.Typer(help="Single payments: list, returns from the bank, paying a returned one again, and\n"
                          "payees' bank details changes (confirmed by a second officer).", no_args_is_help=True)
dp_app = typer.Typer(help="A person's direct payment account: their spend and contributions.", no_args_is_help=True)
surplus_app = typer.Typer(help="Direct payment surpluses above the contingency, recovered to the funders.",
                          no_args_is_help=True)

PayingOption = Annotated[str, typer.Option("--from", help="Paying account code (see `ipb paying-account list`)")]
NewSortCode = Annotated[str, typer.Option(help="The new sort code, e.g. 12-34-56")]
NewAccountNumber = Annotated[str, typer.Option(help="The new account number, 8 digits (7 are padded with a 0)")]
ChangeReason = Annotated[str, typer.Option(
    help="Why, and how the new details were confirmed, e.g. 'account closed; confirmed by phone to the known "
         "contact'")]
DateOption = Annotated[str | None, typer.Option("--date", help="Date, e.g. 2025-05-05 (default today)")]


def _positive(text: str, what: str = "amount") -> int:
    pence = parse_amount(text)
    if pence <= 0:
        raise InvalidInput(f"{what} must be more than 0.00, got {text!r}")
    return pence


def _stream(text: str | None) -> Stream | None:
    if text is None:
        return None
    try:
        return Stream(text)
    except ValueError:
        raise InvalidInput(f"stream {text!r} unknown: use one of {', '.join(s.value for s in Stream)}") from None


def _json_run(view: payments.RunView) -> dict:
    data = asdict(view)
    data["total"] = view.total
    return data


# --- paying accounts, providers -----------------------------------------------------


@paying_app.command("add")
@refusals
@requires(Permission.PAY)
def paying_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. council")],
    sort_code: Annotated[str, typer.Option(help="12-34-56")],
    account_number: Annotated[str, typer.Option(help="8 digits")],
    name: Annotated[str, typer.Option(help="Account name (the file's originator name)")],
    sun: Annotated[str, typer.Option(help="Bacs service user number, 6 digits (needed for bacs18 files)")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add a council bank account to pay from; opens its ledger account bank:<code>."""
    row = payments.add_paying_account(settings.engine, code, name, sort_code, account_number, sun)
    emit_json(asdict(row)) if as_json else out.print(f"added paying account {row.code} ({row.account})")


@paying_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def paying_list(as_json: JsonFlag = False) -> None:
    """All paying accounts."""
    rows = payments.list_paying_accounts(settings.engine)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    table = Table("code", "name", "sort code", "account", "SUN", title="Paying accounts")
    for r in rows:
        table.add_row(r.code, r.name, r.sort_code, r.account_number, r.service_user_number)
    out.print(table)


@provider_app.command("add")
@refusals
@requires(Permission.PAY)
def provider_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. acme")],
    name: Annotated[str, typer.Option(help="Provider's name")],
    sort_code: Annotated[str, typer.Option(help="12-34-56")],
    account_number: Annotated[str, typer.Option(help="8 digits (7 are padded with a leading 0)")],
    account_name: Annotated[str | None, typer.Option(help="Name on the account (default: the name, cut to 18)")]
    = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a provider. Bank details are checked for format (sort code 6 digits, account 8)."""
    row = payments.add_provider(settings.engine, code, name, sort_code, account_number, account_name,
                                actor=settings.who)
    emit_json(asdict(row)) if as_json else out.print(f"added provider {row.code} ({row.account_name})")


@provider_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def provider_list(as_json: JsonFlag = False) -> None:
    """All providers."""
    rows = payments.list_providers(settings.engine)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    table = Table("code", "name", "sort code", "account", "account name", title="Providers")
    for r in rows:
        table.add_row(r.code, r.name, r.sort_code, r.account_number, r.account_name)
    out.print(table)


@provider_app.command("bank-details")
@refusals
@requires(Permission.PAY)
def provider_bank_details(
    code: Annotated[str, typer.Argument(help="Provider code")],
    sort_code: NewSortCode,
    account_number: NewAccountNumber,
    reason: ChangeReason,
    account_name: Annotated[str | None, typer.Option(help="Name on the account (default: unchanged)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose new bank details for a provider; once a second officer confirms them
    (`ipb payment confirm-bank-details`), invoices gathered from then on are paid there.

    Old and new details are kept with who proposed, who confirmed and why (`ipb payment bank-changes`).

    Example: ipb provider bank-details acme --sort-code 40-11-23 --account-number 87654322
    --reason "new account, letter of 3 May confirmed by phone"
    """
    change = returned.propose_provider_details(settings.engine, code, sort_code=sort_code,
                                               account_number=account_number, account_name=account_name,
                                               reason=reason, actor=settings.who)
    _print_change(change, as_json)


def _print_change(change: returned.DetailChange, as_json: bool) -> None:
    if as_json:
        emit_json(asdict(change))
    elif change.confirmed_by is None:
        out.print(f"{change.payee}: change {change.id} of bank details from {change.old} to {change.new} proposed; "
                  f"it applies once another officer confirms it: ipb payment confirm-bank-details {change.id}",
                  markup=False)
    else:
        out.print(f"{change.payee}: bank details are now {change.new} (change {change.id}, proposed by "
                  f"{change.changed_by}, confirmed by {change.confirmed_by})", markup=False)


# --- schedules, invoices --------------------------------------------------------------


@schedule_app.command("add")
@refusals
@requires(Permission.PAY)
def schedule_add(
    person: Annotated[str, typer.Argument(help="Person reference")],
    weekly: Annotated[str, typer.Option(help="Gross weekly amount, e.g. 150.00; each payment is 4 weeks of it")],
    first_due: Annotated[str, typer.Option(help="Date of the first payment (then every 28 days)")],
    paying_account: PayingOption,
    payee_name: Annotated[str, typer.Option(help="Name on the DP account")],
    sort_code: Annotated[str, typer.Option(help="DP account sort code")],
    account_number: Annotated[str, typer.Option(help="DP account number")],
    stream: Annotated[str | None, typer.Option(help="Stream that pays (default: the budget's rule)")] = None,
    contribution: Annotated[str, typer.Option(help="Assessed weekly contribution")] = "0",
    net: Annotated[bool, typer.Option("--net/--gross", help="Pay net of 4 x the weekly contribution")] = False,
    ends_on: Annotated[str | None, typer.Option(help="Last date a payment may fall on")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Pay a person a direct payment every 4 weeks in advance (opens person:<P>:dp-account)."""
    row = payments.add_schedule(
        settings.engine, person, weekly=_positive(weekly, "weekly amount"), first_due=parse_date(first_due),
        paying_account=paying_account, payee_name=payee_name, sort_code=sort_code, account_number=account_number,
        stream=_stream(stream), contribution=parse_amount(contribution), net_of_contribution=net,
        ends_on=parse_date(ends_on) if ends_on else None, actor=settings.who)
    if as_json:
        emit_json(asdict(row))
    else:
        out.print(f"schedule {row.id}: {person} gets {money(row.four_weekly)} every 4 weeks from {row.first_due}")


@schedule_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def schedule_list(person: Annotated[str | None, typer.Option(help="Only this person")] = None,
                  as_json: JsonFlag = False) -> None:
    """Direct payment schedules."""
    rows = payments.list_schedules(settings.engine, person)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    table = Table("id", "person", "from", "weekly", "contrib.", "4-weekly", "first due", "ends", "active",
                  title="Direct payment schedules")
    for r in rows:
        table.add_row(str(r.id), r.person, r.paying_account, money(r.weekly_amount), money(r.weekly_contribution)
                      + (" net" if r.net_of_contribution else ""), money(r.four_weekly), str(r.first_due),
                      str(r.ends_on or ""), "yes" if r.active else "no")
    out.print(table)


@schedule_app.command("end")
@refusals
@requires(Permission.PAY)
def schedule_end(schedule: int, as_json: JsonFlag = False) -> None:
    """Stop a schedule: no more of its payments are gathered."""
    payments.end_schedule(settings.engine, schedule)
    emit_json({"schedule": schedule, "active": False}) if as_json else out.print(f"schedule {schedule} ended")


@schedule_app.command("bank-details")
@refusals
@requires(Permission.PAY)
def schedule_bank_details(
    schedule: Annotated[int, typer.Argument(help="Schedule id (see `ipb schedule list`)")],
    sort_code: NewSortCode,
    account_number: NewAccountNumber,
    reason: ChangeReason,
    payee_name: Annotated[str | None, typer.Option(help="Name on the DP account (default: unchanged)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose a new DP account for a schedule; once a second officer confirms it
    (`ipb payment confirm-bank-details`), payments gathered from then on go there.

    Old and new details are kept with who proposed, who confirmed and why (`ipb payment bank-changes`).
    """
    change = returned.propose_schedule_details(settings.engine, schedule, sort_code=sort_code,
                                               account_number=account_number, payee_name=payee_name,
                                               reason=reason, actor=settings.who)
    _print_change(change, as_json)


@invoice_app.command("add")
@refusals
@requires(Permission.PAY)
def invoice_add(
    provider: Annotated[str, typer.Argument(help="Provider code")],
    number: Annotated[str, typer.Argument(help="The provider's invoice number")],
    person: Annotated[str, typer.Option(help="Person whose care it is")],
    amount: Annotated[str, typer.Option(help="Amount, e.g. 123.45")],
    paying_account: PayingOption,
    invoice_date: Annotated[str | None, typer.Option("--date", help="Invoice date (default today)")] = None,
    due: Annotated[str | None, typer.Option(help="Due date (default: the invoice date)")] = None,
    fy: Annotated[str | None, typer.Option(help="Budget year, e.g. 2025/26 (default: the invoice date's)")] = None,
    stream: Annotated[str | None, typer.Option(help="Stream that pays (default: the plan line's, or the rule)")]
    = None,
    plan_line: Annotated[int | None, typer.Option(help="Plan line id the care was bought under")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a provider's invoice; the next `ipb run gather` on or after its due date picks it up."""
    row = payments.add_invoice(
        settings.engine, provider, number, person, _positive(amount), invoice_date=parse_date(invoice_date),
        due_date=parse_date(due) if due else None, paying_account=paying_account,
        fy=parse_fy(fy) if fy else None, stream=_stream(stream), plan_line_id=plan_line, actor=settings.who)
    emit_json(asdict(row)) if as_json else out.print(
        f"invoice {row.id}: {provider} {number} for {person}, {money(row.amount)}, due {row.due_date}")


# --- runs -----------------------------------------------------------------------------


def _print_run(view: payments.RunView) -> None:
    table = Table("id", "payee", "person", "amount", "reference", "status", "hold", "settled", "note",
                  title=f"Run {view.id} from {view.paying_account}, pay date {view.pay_date}: {view.status}")
    for p in view.payments:
        table.add_row(str(p.id), p.payee, p.person, money(p.amount), p.reference, p.status,
                      str(p.hold_entry or ""), str(p.settlement_entry or ""), p.failure_reason)
    out.print(table)
    out.print(f"maker {view.maker}, checker {view.checker or '-'}; total {money(view.total)}; "
              + ", ".join(f"{s} {view.count(s)}" for s in ("pending", "held", "settled", "failed", "returned")
                          if view.count(s)))


def _with_bar(label: str, work):  # type: ignore[no-untyped-def]
    with progress() as bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return work(tick)


@run_app.command("gather")
@refusals
@requires(Permission.PAY)
def run_gather(
    paying_account: PayingOption,
    as_of: Annotated[str | None, typer.Option("--date", help="Pay everything due on or before this date")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Gather what is due (DP dates, invoices) into the draft run. You become its maker. Safe to repeat."""
    got = payments.gather(settings.engine, paying_account, parse_date(as_of), actor=settings.who)
    if as_json:
        emit_json({"added": list(got.added), "run": _json_run(got.run) if got.run else None})
        return
    if got.run is None:
        out.print("nothing is due")
        return
    out.print(f"gathered {len(got.added)} new payment(s) into run {got.run.id}")
    _print_run(got.run)


@run_app.command("approve")
@refusals
@requires(Permission.APPROVE)
def run_approve(run: int, as_json: JsonFlag = False) -> None:
    """Approve a run as the checker (not its maker) and hold each payment's money. Re-run to resume."""
    view = _with_bar(f"holding run {run}", lambda tick: payments.approve(settings.engine, run, actor=settings.who,
                                                                         tick=tick))
    emit_json(_json_run(view)) if as_json else _print_run(view)


@run_app.command("file")
@refusals
@requires(Permission.PAY)
def run_file(
    run: int,
    output: Annotated[Path, typer.Option("--out", "-o", help="Where to write the file")],
    fmt: Annotated[str, typer.Option("--format", help="csv or bacs18")] = "csv",
    serial: Annotated[str | None, typer.Option(help="Bacs submission serial (default: the run id)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the bank file of an approved run's held payments (CSV or BACS Standard 18)."""
    made = payments.payment_file(settings.engine, run, fmt, serial=serial)
    output.write_text(made.text, newline="")
    data = {"run": run, "format": made.format, "count": made.count, "total": made.total, "sha256": made.sha256,
            "path": str(output)}
    emit_json(data) if as_json else out.print(
        f"wrote {made.count} payment(s), {money(made.total)}, to {output} ({made.format})")


@run_app.command("submit")
@refusals
@requires(Permission.PAY)
def run_submit(run: int, as_json: JsonFlag = False) -> None:
    """Record that the run's file went to the bank."""
    view = payments.submit(settings.engine, run)
    emit_json(_json_run(view)) if as_json else out.print(f"run {run} submitted at {view.submitted_at}")


@run_app.command("settle")
@refusals
@requires(Permission.BANK)
def run_settle(
    run: int,
    on: DateOption = None,
    failed: Annotated[list[str] | None, typer.Option("--failed", help="PAYMENT_ID=reason the bank did not pay")]
    = None,
    as_json: JsonFlag = False,
) -> None:
    """Post the payments the bank made; void those it failed. Re-run to resume after a crash."""
    fails: dict[int, str] = {}
    for item in failed or []:
        ident, _, reason = item.partition("=")
        if not ident.strip().isdigit():
            raise InvalidInput(f"--failed {item!r} must be PAYMENT_ID=reason")
        fails[int(ident)] = reason.strip() or "failed at the bank"
    view = _with_bar(f"settling run {run}", lambda tick: payments.settle(
        settings.engine, run, on=parse_date(on), actor=settings.who, failed=fails, tick=tick))
    emit_json(_json_run(view)) if as_json else _print_run(view)


@run_app.command("show")
@refusals
@requires(Permission.VIEW_ALL)
def run_show(run: int, as_json: JsonFlag = False) -> None:
    """A run and its payments."""
    view = payments.run_view(settings.engine, run)
    emit_json(_json_run(view)) if as_json else _print_run(view)


@run_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def run_list(as_json: JsonFlag = False) -> None:
    """All runs."""
    views = payments.list_runs(settings.engine)
    if as_json:
        emit_json([{k: v for k, v in _json_run(v).items() if k != "payments"} | {"count": len(v.payments)}
                   for v in views])
        return
    table = Table("run", "from", "pay date", "status", "maker", "checker", "payments", "total", title="Payment runs")
    for v in views:
        table.add_row(str(v.id), v.paying_account, str(v.pay_date), v.status, v.maker, v.checker or "",
                      str(len(v.payments)), money(v.total))
    out.print(table)


# --- payments ------------------------------------------------------------------------


@payment_app.command("return")
@refusals
@requires(Permission.BANK)
def payment_return(
    payment: int,
    reason: Annotated[str, typer.Option(help="Why the bank sent it back, e.g. 'account closed'")],
    on: DateOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A settled payment came back from the bank: reverse it (budget and cash). To pay it again, correct the
    payee's bank details and use `ipb payment repay`."""
    row = payments.return_payment(settings.engine, payment, on=parse_date(on), reason=reason, actor=settings.who)
    emit_json(asdict(row)) if as_json else out.print(
        f"payment {row.id} returned ({money(row.amount)} back to {row.person}'s budget), entry {row.return_entry}")


@payment_app.command("repay")
@refusals
@requires(Permission.PAY)
def payment_repay(
    payment: int,
    reason: Annotated[str, typer.Option(help="Why it should be paid again, e.g. 'new DP account opened'")],
    same_details: Annotated[bool, typer.Option(
        "--same-details", help="Pay to the same account it came back from (the bank's reason was temporary)")]
    = False,
    as_json: JsonFlag = False,
) -> None:
    """Pay a returned payment again. The next `ipb run gather` adds it as its next attempt, paid to the
    payee's bank details then, and a second officer approves it like any other payment.

    Refused while the payee's details are the ones the bank returned it from: correct them first
    (`ipb schedule bank-details` or `ipb provider bank-details`, confirmed by a second officer with
    `ipb payment confirm-bank-details`), or pass --same-details.
    """
    asked = returned.repay(settings.engine, payment, reason=reason, actor=settings.who, same_details=same_details)
    if as_json:
        emit_json(asdict(asked))
        return
    again = " (asked before)" if asked.replayed else ""
    out.print(f"payment {asked.payment} ({money(asked.amount)} for {asked.person}) will be paid again by the next "
              f"run, to {asked.pays_to}{again}", markup=False)


@payment_app.command("confirm-bank-details")
@refusals
@requires(Permission.APPROVE)
def payment_confirm_bank_details(
    change: Annotated[int, typer.Argument(help="The change's id (see `ipb payment bank-changes`)")],
    as_json: JsonFlag = False,
) -> None:
    """Confirm another officer's proposed bank details change: from now on the payee is paid there.

    Check the new details with the payee through contact details you already hold, never those given
    with the change. Refused for the officer who proposed it, and if the payee's details changed since.
    """
    _print_change(returned.confirm_details(settings.engine, change, actor=settings.who), as_json)


@payment_app.command("bank-changes")
@refusals
@requires(Permission.VIEW_ALL)
def payment_bank_changes(as_json: JsonFlag = False) -> None:
    """Every proposed change of a payee's bank details, oldest first: old, new, why, who proposed it and
    who confirmed it (a change not yet confirmed is not in force)."""
    changes = returned.detail_changes(settings.engine)
    if as_json:
        emit_json([asdict(c) for c in changes])
        return
    table = Table("id", "payee", "old", "new", "reason", "proposed", "confirmed", title="Bank details changes")
    for c in changes:
        confirmed = f"{c.confirmed_by} {c.confirmed_at:%Y-%m-%d %H:%M}" if c.confirmed_at else "awaiting"
        table.add_row(str(c.id), c.payee, str(c.old), str(c.new), Text(c.reason),
                      f"{c.changed_by} {c.changed_at:%Y-%m-%d %H:%M}", confirmed)
    out.print(table)


@payment_app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def payment_list(person: Annotated[str | None, typer.Option(help="Only this person")] = None,
                 status: Annotated[str | None, typer.Option(help="pending, held, settled, failed or returned")]
                 = None, as_json: JsonFlag = False) -> None:
    """Payments, across runs."""
    rows = payments.payments_of(settings.engine, person=person, status=status)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    table = Table("id", "run", "payee", "person", "amount", "due", "status", "note", title="Payments")
    for r in rows:
        table.add_row(str(r.id), str(r.run), r.payee, r.person, money(r.amount), str(r.due_date), r.status,
                      r.failure_reason)
    out.print(table)


# --- DP accounts and surpluses ------------------------------------------------------------


@dp_app.command("spend")
@refusals
@requires(Permission.PAY)
def dp_spend(person: str, amount: str, on: DateOption = None,
             key: Annotated[str | None, typer.Option(help="Idempotency key")] = None, as_json: JsonFlag = False) -> None:
    """Record what the person spent from their DP account (from their monitoring return)."""
    posted = surplus.record_spend(settings.engine, person, _positive(amount), on=parse_date(on),
                                  actor=settings.who, key=key)
    emit_json({"entry": posted.entry.id, "replayed": posted.replayed}) if as_json else out.print(
        f"entry {posted.entry.id}: {person} spent {amount} from the DP account")


@dp_app.command("contribution")
@refusals
@requires(Permission.PAY)
def dp_contribution(person: str, amount: str, on: DateOption = None,
                    key: Annotated[str | None, typer.Option(help="Idempotency key")] = None,
                    as_json: JsonFlag = False) -> None:
    """Record the person's own contribution paid into their DP account."""
    posted = surplus.record_contribution(settings.engine, person, _positive(amount), on=parse_date(on),
                                         actor=settings.who, key=key)
    emit_json({"entry": posted.entry.id, "replayed": posted.replayed}) if as_json else out.print(
        f"entry {posted.entry.id}: {person} paid in {amount}")


def _finding_json(f: surplus.Finding) -> dict:
    d = f.decision
    return {"person": f.person, "fy": f.fy, "weeks": f.weeks, "balance": d.balance, "contingency": d.contingency,
            "surplus": d.surplus, "refund": d.refund, "parts": d.parts, "recovered": d.recovered, "left": d.left,
            "reasons": list(d.reasons), "rule": d.rule}


WeeksOption = Annotated[int | None, typer.Option(help="Contingency weeks (default: the year's rules parameters)")]


@surplus_app.command("detect")
@refusals
@requires(Permission.VIEW_ALL)
def surplus_detect(on: DateOption = None, weeks: WeeksOption = None,
                   person: Annotated[str | None, typer.Option(help="Only this person")] = None,
                   show_all: Annotated[bool, typer.Option("--all", help="Also list accounts with no surplus")] = False,
                   as_json: JsonFlag = False) -> None:
    """DP accounts holding more than the contingency (weeks x the weekly DP). Posts nothing."""
    found = surplus.detect(settings.engine, parse_date(on), weeks=weeks, person=person)
    found = [f for f in found if show_all or f.decision.surplus]
    if as_json:
        emit_json([_finding_json(f) for f in found])
        return
    table = Table("person", "balance", "contingency", "surplus", "refund", "to streams", title="DP surpluses")
    for f in found:
        d = f.decision
        table.add_row(f.person, money(d.balance), money(d.contingency), money(d.surplus), money(d.refund),
                      ", ".join(f"{s} {money(p)}" for s, p in d.parts.items()))
    out.print(table)


@surplus_app.command("recover")
@refusals
@requires(Permission.BANK)
def surplus_recover(
    person: str,
    on: DateOption = None,
    weeks: WeeksOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the proposal; post nothing")] = False,
    keep_in_budget: Annotated[bool, typer.Option(help="Return it to the streams but not on to the funders")]
    = False,
    key: Annotated[str | None, typer.Option(help="Idempotency key (default surplus:<person>:<date>)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recover a DP surplus: the person's over-paid contribution is refunded first, the rest goes back
    to the funding streams (and their funders) split exactly."""
    done = surplus.recover(settings.engine, person, parse_date(on), actor=settings.who, dry_run=dry_run,
                           weeks=weeks, key=key, keep_in_budget=keep_in_budget)
    if as_json:
        emit_json({**_finding_json(done.finding), "dry_run": done.dry_run, "replayed": done.replayed,
                   "entries": list(done.entries), "key": done.key})
        return
    for reason in done.finding.decision.reasons:
        out.print(f"  {reason}")
    verb = "would post" if done.dry_run else ("already posted" if done.replayed else "posted")
    out.print(f"{verb}: refund {money(done.finding.decision.refund)}, recovered "
              f"{money(done.finding.decision.recovered)}" + (f" (entries {list(done.entries)})" if done.entries else ""))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ipb` app."""
    app.add_typer(paying_app, name="paying-account")
    app.add_typer(provider_app, name="provider")
    app.add_typer(schedule_app, name="schedule")
    app.add_typer(invoice_app, name="invoice")
    app.add_typer(run_app, name="run")
    app.add_typer(payment_app, name="payment")
    app.add_typer(dp_app, name="dp")
    app.add_typer(surplus_app, name="surplus")
