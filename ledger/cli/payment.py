"""`ipb payment ...`: single payments across runs: returns from the bank, paying a returned one again, and
payees' bank details changes (confirmed by a second officer)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import DateOption, JsonFlag, parse_date, refusals, requires, settings
from ledger.cli.options import choices, one_of
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, say
from ledger.cli.views import show_change
from ledger.domain import PaymentStatus
from ledger.roles import Permission
from ledger.services import payment_runs, payment_settlement, returned

app = typer.Typer(
    help=summary("payment") + " A bank details change takes a second officer to confirm.\n\n"
         "Example: ipb payment list --status failed",
    no_args_is_help=True,
    add_completion=False,
)

PaymentArg = Annotated[int, typer.Argument(help="The payment's id (see `ipb payment list`)")]
PAYMENT_COLUMNS = (
    Column("id", lambda r: r.id),
    Column("run", lambda r: r.run),
    Column("payee", lambda r: r.payee),
    Column("person", lambda r: r.person),
    Column("amount", lambda r: r.amount, money=True),
    Column("due", lambda r: r.due_date),
    Column("status", lambda r: r.status),
    Column("note", lambda r: r.failure_reason),
)
CHANGE_COLUMNS = (
    Column("id", lambda c: c.id),
    Column("payee", lambda c: c.payee),
    Column("old", lambda c: c.old),
    Column("new", lambda c: c.new),
    Column("reason", lambda c: c.reason),
    Column("proposed", lambda c: f"{c.changed_by} {c.changed_at:%Y-%m-%d %H:%M}"),
    Column("confirmed", lambda c: f"{c.confirmed_by} {c.confirmed_at:%Y-%m-%d %H:%M}" if c.confirmed_at
           else "awaiting"),
)


@app.command("return")
@refusals
@requires(Permission.BANK)
def payment_return(
    payment: PaymentArg,
    reason: Annotated[str, typer.Option(help="Why the bank sent it back, e.g. 'account closed'")],
    on: DateOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A settled payment came back from the bank: reverse it (budget and cash). To pay it again, correct the
    payee's bank details and use `ipb payment repay`.

    Running it again (after a crash, say) is the same return: nothing more is posted (without --date, it is
    the return on the date it was made). One with another --date or --reason than it was returned with is
    refused, naming the difference.

    Example: ipb payment return 17 --reason "account closed" --date 2025-05-12
    """
    row = payment_settlement.return_payment(settings.engine, payment, on=parse_date(on) if on is not None else None,
                                            reason=reason, actor=settings.who)
    emit_json(asdict(row)) if as_json else say(
        f"payment {row.id} returned ({money(row.amount)} back to {row.person}'s budget), entry {row.return_entry}")


@app.command("repay")
@refusals
@requires(Permission.PAY)
def payment_repay(
    payment: PaymentArg,
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
    `ipb payment confirm-bank-details`), or pass --same-details. Asking again with the same --reason (after
    a crash, say) is the same request; with another --reason it is refused, naming the first.

    Example: ipb payment repay 17 --reason "new DP account"
    """
    asked = returned.repay(settings.engine, payment, reason=reason, actor=settings.who, same_details=same_details)
    if as_json:
        emit_json(asdict(asked))
        return
    again = " (asked before)" if asked.replayed else ""
    say(f"payment {asked.payment} ({money(asked.amount)} for {asked.person}) will be paid again by the next "
        f"run, to {asked.pays_to}{again}")


@app.command("confirm-bank-details")
@refusals
@requires(Permission.APPROVE)
def payment_confirm_bank_details(
    change: Annotated[int, typer.Argument(help="The change's id (see `ipb payment bank-changes`)")],
    as_json: JsonFlag = False,
) -> None:
    """Confirm another officer's proposed bank details change: from now on the payee is paid there.

    Check the new details with the payee through contact details you already hold, never those given
    with the change. Refused for the officer who proposed it, and if the payee's details changed since.

    Example: ipb --as checker payment confirm-bank-details 3
    """
    show_change(returned.confirm_details(settings.engine, change, actor=settings.who), as_json)


@app.command("bank-changes")
@refusals
@requires(Permission.VIEW_ALL)
def payment_bank_changes(fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Every proposed change of a payee's bank details, oldest first: old, new, why, who proposed it and
    who confirmed it (a change not yet confirmed is not in force).

    Example: ipb payment bank-changes --format csv
    """
    listing(returned.detail_changes(settings.engine), CHANGE_COLUMNS, title="Bank details changes", fmt=fmt,
            as_json=as_json)


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def payment_list(person: Annotated[str | None, typer.Option(help="Only this person")] = None,
                 status: Annotated[PaymentStatus | None, typer.Option(
                     metavar="STATUS", click_type=one_of(PaymentStatus, "payment status"), show_default=False,
                     help=f"Only payments in this state: {choices(PaymentStatus)}")] = None,
                 fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Payments, across runs.

    Example: ipb payment list --person P0001 --status settled
    """
    listing(payment_runs.payments_of(settings.engine, person=person, status=status), PAYMENT_COLUMNS, title="Payments",
            fmt=fmt, as_json=as_json)
