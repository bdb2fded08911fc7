"""`ipb schedule ...`: direct payment schedules, 4-weekly in advance into the person's DP account."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import (
    ChangeReason,
    JsonFlag,
    NewAccountNumber,
    NewSortCode,
    PayingOption,
    PersonArg,
    choice,
    parse_date,
    positive_amount,
    refusals,
    requires,
    settings,
)
from ledger.cli.options import stream_option
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, say
from ledger.cli.views import show_change
from ledger.domain import Stream
from ledger.money import parse_amount
from ledger.roles import Permission
from ledger.services import payees, returned

app = typer.Typer(
    help=summary("schedule") + "\n\nExample: ipb schedule list --person P0001",
    no_args_is_help=True,
    add_completion=False,
)

SCHEDULE_COLUMNS = (
    Column("id", lambda r: r.id),
    Column("person", lambda r: r.person),
    Column("from", lambda r: r.paying_account),
    Column("weekly", lambda r: r.weekly_amount, money=True),
    Column("contrib.", lambda r: r.weekly_contribution, money=True),
    Column("net", lambda r: "net" if r.net_of_contribution else "gross"),
    Column("4-weekly", lambda r: r.four_weekly, money=True),
    Column("first due", lambda r: r.first_due),
    Column("first paid", lambda r: r.first_paid),
    Column("ends", lambda r: r.ends_on),
    Column("active", lambda r: "yes" if r.active else "no"),
)


@app.command("add")
@refusals
@requires(Permission.PAY)
def schedule_add(
    person: PersonArg,
    weekly: Annotated[str, typer.Option(help="Gross weekly amount, e.g. 150.00; each payment is 4 weeks of it")],
    first_due: Annotated[str, typer.Option(
        help="Date of the first payment (then every 28 days); one due on a day that is not a Bacs processing day "
             "is paid on the processing day before")],
    paying_account: PayingOption,
    payee_name: Annotated[str, typer.Option(help="Name on the DP account")],
    sort_code: Annotated[str, typer.Option(help="DP account sort code")],
    account_number: Annotated[str, typer.Option(help="DP account number")],
    stream: stream_option("Stream that pays (default: the budget's rule)") = None,
    contribution: Annotated[str, typer.Option(help="Assessed weekly contribution")] = "0",
    net: Annotated[bool, typer.Option("--net/--gross", help="Pay net of 4 x the weekly contribution")] = False,
    ends_on: Annotated[str | None, typer.Option(help="Last date a payment may fall on")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Pay a person a direct payment every 4 weeks in advance (opens person:<P>:dp-account).

    Each payment is due every 28 days from --first-due. One due on a weekend, a bank holiday in England
    and Wales, or a day in the file IPB_BACS_HOLIDAYS names is paid on the processing day before it, so
    the person is never paid late: the run on Friday pays Monday's bank holiday payment.

    Example: ipb schedule add P0001 --weekly 350.00 --first-due 2025-04-07 --from dp --payee-name "J SMITH DP"
    --sort-code 20-00-00 --account-number 11112222
    """
    row = payees.add_schedule(
        settings.engine, person, weekly=positive_amount(weekly, "weekly amount"), first_due=parse_date(first_due),
        paying_account=paying_account, payee_name=payee_name, sort_code=sort_code, account_number=account_number,
        stream=choice(Stream, stream, "stream") if stream else None, contribution=parse_amount(contribution),
        net_of_contribution=net, ends_on=parse_date(ends_on) if ends_on else None, actor=settings.who)
    if as_json:
        emit_json(asdict(row))
    else:
        say(f"schedule {row.id}: {person} gets {money(row.four_weekly)} every 4 weeks from {row.first_due}")
        if row.first_paid is not None and row.first_paid != row.first_due:
            say(f"{row.first_due} is not a Bacs processing day: the first payment is paid on {row.first_paid:%a} "
                f"{row.first_paid}, and any later one due on a non-processing day on the processing day before")


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def schedule_list(person: Annotated[str | None, typer.Option(help="Only this person")] = None,
                  fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Direct payment schedules.

    Example: ipb schedule list --person P0001
    """
    listing(payees.list_schedules(settings.engine, person), SCHEDULE_COLUMNS, title="Direct payment schedules",
            fmt=fmt, as_json=as_json)


@app.command("end")
@refusals
@requires(Permission.PAY)
def schedule_end(schedule: Annotated[int, typer.Argument(help="Schedule id (see `ipb schedule list`)")],
                 as_json: JsonFlag = False) -> None:
    """Stop a schedule: no more of its payments are gathered.

    Example: ipb schedule end 4
    """
    payees.end_schedule(settings.engine, schedule, actor=settings.who)
    emit_json({"schedule": schedule, "active": False}) if as_json else say(f"schedule {schedule} ended")


@app.command("bank-details")
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

    Example: ipb schedule bank-details 4 --sort-code 30-00-01 --account-number 99998888
    --reason "new account, confirmed by phone"
    """
    change = returned.propose_schedule_details(settings.engine, schedule, sort_code=sort_code,
                                               account_number=account_number, payee_name=payee_name,
                                               reason=reason, actor=settings.who)
    show_change(change, as_json)
