"""`ipb assess`: eligibility, the financial assessment and top-ups, explained line by line."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger.assessment_file import read_case
from ledger.cli.common import JsonFlag, emit_json, money, out, parse_date, parse_fy, refusals, requires, settings
from ledger.errors import InvalidInput
from ledger.roles import Permission
from ledger.rules.charging import assess as assess_charge
from ledger.rules.eligibility import decide
from ledger.rules.topups import decide_top_up
from ledger.services.assessments import fund_from_assessment


@refusals
@requires(Permission.ALLOCATE)
def assess(
    file: Annotated[Path, typer.Argument(help="TOML or JSON file of circumstances and finances (see ledger/assessment_file.py)")],
    allocate: Annotated[str | None, typer.Option(help="Fund this person's budget from the assessment")] = None,
    fy: Annotated[str | None, typer.Option("--fy", help="Budget year for --allocate, e.g. 2025/26")] = None,
    council: Annotated[str, typer.Option(help="Council funder for the Care Act part")] = "council",
    person_funder: Annotated[str, typer.Option(help="Funder standing for the person's own money")] = "self",
    on: Annotated[str | None, typer.Option("--date", help="Effective date of the allocation (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Decide who pays, what the person pays each week, and whether a top-up is allowed; explain why.

    With --allocate P0001 --fy 2025/26 the year's package is allocated: the contribution to the
    personal-contribution stream, the rest to the Care Act stream, each entry recording the rule version.
    """
    case = read_case(file)
    eligibility = decide(case.circumstances)
    charge = assess_charge(case.finances) if case.finances else None
    top_up = decide_top_up(case.top_up) if case.top_up else None
    posted = []
    if allocate:
        if charge is None or case.finances is None or not fy:
            raise InvalidInput("--allocate needs a [finances] section in the file and --fy")
        posted = fund_from_assessment(settings.engine, allocate, parse_fy(fy), charge, case.finances.weekly_cost_of_care,
                                      council=council, person_funder=person_funder, on=parse_date(on),
                                      actor=settings.who)
    if as_json:
        emit_json({
            "eligibility": asdict(eligibility),
            "charge": None if charge is None else {**asdict(charge), "explanation": charge.explain()},
            "top_up": None if top_up is None else asdict(top_up),
            "entries": [p.entry.id for p in posted],
        })
        return
    table = Table("need", "stream", "funder", "chargeable", "because", title="Who pays")
    for f in eligibility.funding:
        table.add_row(f.need, str(f.stream or "outside the budget"), str(f.funder), "yes" if f.chargeable else "no",
                      "; ".join(f"{r.text} [{r.authority}]" for r in f.reasons))
    out.print(table)
    for r in eligibility.reasons:
        out.print(f"• {r.text} [{r.authority}]")
    if charge:
        out.print(f"\n[bold]Financial assessment[/] ({charge.rule}, {charge.params_version})")
        for line in charge.explain():
            out.print(f"  {line}")
        out.print(f"[bold]Weekly contribution: £{money(charge.weekly)}[/]")
    if top_up:
        verdict = f"allowed: £{money(top_up.weekly)} a week" if top_up.allowed else "not allowed"
        out.print(f"\n[bold]Top-up[/] {verdict}")
        for r in top_up.reasons:
            out.print(f"  {r.text} [{r.authority}]")
    for p in posted:
        out.print(f"entry {p.entry.id}: {p.entry.memo} £{money(p.entry.lines[0].amount)}")
