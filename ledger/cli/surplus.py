"""`ipb surplus ...`: direct payment balances above the contingency, found and recovered to the funders."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import DateOption, JsonFlag, PersonArg, parse_date, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, say
from ledger.roles import Permission
from ledger.services import surplus

app = typer.Typer(
    help=summary("surplus") + "\n\nExample: ipb surplus detect --date 2026-03-31",
    no_args_is_help=True,
    add_completion=False,
)

WeeksOption = Annotated[int | None, typer.Option(help="Contingency weeks (default: the year's rules parameters)")]
FINDING_COLUMNS = (
    Column("person", lambda f: f.person),
    Column("balance", lambda f: f.decision.balance, money=True),
    Column("contingency", lambda f: f.decision.contingency, money=True),
    Column("surplus", lambda f: f.decision.surplus, money=True),
    Column("refund", lambda f: f.decision.refund, money=True),
    Column("to streams", lambda f: ", ".join(f"{s} {money(p)}" for s, p in f.decision.parts.items())),
)


def _finding_json(f: surplus.Finding) -> dict:
    d = f.decision
    return {"person": f.person, "fy": f.fy, "weeks": f.weeks, "balance": d.balance, "contingency": d.contingency,
            "surplus": d.surplus, "refund": d.refund, "parts": d.parts, "recovered": d.recovered, "left": d.left,
            "reasons": list(d.reasons), "rule": d.rule}


@app.command("detect")
@refusals
@requires(Permission.VIEW_ALL)
def surplus_detect(on: DateOption = None, weeks: WeeksOption = None,
                   person: Annotated[str | None, typer.Option(help="Only this person")] = None,
                   show_all: Annotated[bool, typer.Option("--all", help="Also list accounts with no surplus")] = False,
                   fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """DP accounts holding more than the contingency (weeks x the weekly DP). Posts nothing.

    Example: ipb surplus detect --date 2026-03-31 --all
    """
    found = surplus.detect(settings.engine, parse_date(on), weeks=weeks, person=person)
    found = [f for f in found if show_all or f.decision.surplus]
    listing(found, FINDING_COLUMNS, title="DP surpluses", fmt=fmt, as_json=as_json, to_json=_finding_json)


@app.command("recover")
@refusals
@requires(Permission.BANK)
def surplus_recover(
    person: PersonArg,
    on: DateOption = None,
    weeks: WeeksOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the proposal; post nothing")] = False,
    keep_in_budget: Annotated[bool, typer.Option(help="Return it to the streams but not on to the funders")]
    = False,
    key: Annotated[str | None, typer.Option(help="Idempotency key (default surplus:<person>:<date>)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recover a DP surplus: the person's over-paid contribution is refunded first, the rest goes back
    to the funding streams (and their funders) split exactly.

    Example: ipb surplus recover P0007 --date 2026-03-31 --dry-run
    """
    done = surplus.recover(settings.engine, person, parse_date(on), actor=settings.who, dry_run=dry_run,
                           weeks=weeks, key=key, keep_in_budget=keep_in_budget)
    if as_json:
        emit_json({**_finding_json(done.finding), "dry_run": done.dry_run, "replayed": done.replayed,
                   "entries": list(done.entries), "key": done.key})
        return
    for reason in done.finding.decision.reasons:
        say(f"  {reason}")
    verb = "would post" if done.dry_run else ("already posted" if done.replayed else "posted")
    say(f"{verb}: refund {money(done.finding.decision.refund)}, recovered "
        f"{money(done.finding.decision.recovered)}" + (f" (entries {list(done.entries)})" if done.entries else ""))
