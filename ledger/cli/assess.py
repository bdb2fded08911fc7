"""`ipb assess`: eligibility, the financial assessment and top-ups, explained line by line."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from ledger.calendar import financial_year
from ledger.cli.common import JsonFlag, date_in_fy, parse_date, parse_fy, refusals, requires, settings
from ledger.cli.options import funding_source
from ledger.cli.output import Column, emit_json, listing, money, out, say
from ledger.errors import InvalidInput
from ledger.formats.assessments import AssessmentCase, case_from, read_case
from ledger.roles import Permission
from ledger.rules.charging import Charge
from ledger.rules.charging import assess as assess_charge
from ledger.rules.eligibility import Eligibility, Setting, decide
from ledger.rules.params import MigBand
from ledger.rules.topups import TopUpDecision, decide_top_up
from ledger.services.assessments import fund_from_assessment
from ledger.services.journal import Posted

app = typer.Typer(add_completion=False)


class Need(StrEnum):
    """Findings of the assessments, as flags: --need care-act --need s117 ..."""

    CHC = "chc"
    S117 = "s117"
    CARE_ACT = "care-act"
    PHB = "phb"
    EHC = "ehc"
    NURSING = "nursing"


NEED_FIELDS = {Need.CHC: "chc_primary_health_need", Need.S117: "s117_aftercare",
               Need.CARE_ACT: "care_act_eligible_needs", Need.PHB: "health_needs_phb", Need.EHC: "ehc_plan",
               Need.NURSING: "nursing_needs"}


@dataclass(frozen=True, slots=True)
class Outcome:
    eligibility: Eligibility
    charge: Charge | None
    top_up: TopUpDecision | None
    posted: list[Posted]


@app.command()
@refusals
@requires(Permission.ALLOCATE)
def assess(
    file: Annotated[Path | None, typer.Argument(
        help="TOML or JSON file of circumstances, finances and a top-up (see examples/assessments/); "
             "or describe the case with the flags below")] = None,
    age: Annotated[int | None, typer.Option(help="Age in years (flags mode)", rich_help_panel="Case")] = None,
    setting: Annotated[Setting, typer.Option(rich_help_panel="Case")] = Setting.OWN_HOME,
    need: Annotated[list[Need], typer.Option(help="An assessed finding (repeatable)", rich_help_panel="Case")] = [],  # noqa: B006
    on: Annotated[str | None, typer.Option("--date", help=(
        "Date the charge applies from (flags mode) and the allocation's date (inside --fy). Default: a case file's "
        "own date; else today, or with --fy today if inside the year, else the year's first day"))] = None,
    weekly_cost: Annotated[str | None, typer.Option(help="Weekly cost of care: adds a financial assessment",
                                                    rich_help_panel="Finances")] = None,
    residential: Annotated[bool, typer.Option(help="Residential care (else non-residential)",
                                              rich_help_panel="Finances")] = False,
    capital: Annotated[str, typer.Option(rich_help_panel="Finances")] = "0.00",
    income: Annotated[list[str], typer.Option(metavar="LABEL=AMOUNT",
                                              help="Weekly income taken into account, LABEL=AMOUNT (repeatable)",
                                              rich_help_panel="Finances")] = [],  # noqa: B006
    mig_band: Annotated[MigBand, typer.Option(rich_help_panel="Finances")] = MigBand.SINGLE_25_TO_PENSION_AGE,
    dre: Annotated[str, typer.Option(help="Weekly disability-related expenditure",
                                     rich_help_panel="Finances")] = "0.00",
    housing: Annotated[str, typer.Option(help="Weekly housing costs", rich_help_panel="Finances")] = "0.00",
    allocate: Annotated[str | None, typer.Option(help="Fund this person's budget from the assessment")] = None,
    fy: Annotated[str | None, typer.Option("--fy", help="Budget year for --allocate, e.g. 2025/26")] = None,
    council: Annotated[str, typer.Option(help="Council funder for the Care Act part (council, or funder:council)",
                                         callback=funding_source)] = "council",
    person_funder: Annotated[str, typer.Option(help="Funder standing for the person's own money",
                                               callback=funding_source)] = "self",
    as_json: JsonFlag = False,
) -> None:
    """Decide who pays, what the person pays each week, and whether a top-up is allowed; explain why.

    Example, from a file: ipb assess examples/assessments/care-act-at-home.toml

    Example, from flags: ipb assess --age 67 --need care-act --weekly-cost 350.00 --capital 18,000.00
    --income "State pension=230.25" --mig-band single_pension_age

    With --allocate P0001 --fy 2025/26 the year's package is allocated:
    the contribution to the personal-contribution stream, the rest to the Care Act stream, each entry
    recording the rule and parameter version used. The charge must apply from a date inside that year;
    the allocations are dated --date (inside the year), else the date the charge applies from.
    """
    if file is not None and age is not None:
        raise InvalidInput("describe the case either in FILE or with --age and the other flags, not both")
    if file is not None:
        case = read_case(file)
    elif age is None:
        raise InvalidInput("give a case file, or at least --age (see ipb assess --help)")
    else:
        charge_day = date_in_fy(None, parse_fy(fy), incoming=True).isoformat() if fy and on is None else on
        case = case_from(_flags_case(age, setting, need, charge_day, weekly_cost, residential, capital, income,
                                     mig_band, dre, housing), "flags")
    outcome = _decide(case)
    if allocate:
        if outcome.charge is None or case.finances is None or not fy:
            raise InvalidInput("--allocate needs a [finances] section in the file and --fy")
        year, period = parse_fy(fy), financial_year(parse_fy(fy))
        if case.finances.on not in period:  # that day's year of parameters decided the charge
            raise InvalidInput(f"the charge applies from {case.finances.on}, outside {period.label} ({period.start} "
                               f"to {period.end}): assess it from a date inside the budget's year")
        day = date_in_fy(on, year, incoming=True) if on is not None else case.finances.on
        outcome.posted.extend(fund_from_assessment(
            settings.engine, allocate, year, outcome.charge, case.finances.weekly_cost_of_care,
            council=council, person_funder=person_funder, on=day, actor=settings.who))
    _show(outcome, as_json)


def _decide(case: AssessmentCase) -> Outcome:
    return Outcome(decide(case.circumstances), assess_charge(case.finances) if case.finances else None,
                   decide_top_up(case.top_up) if case.top_up else None, [])


WHO_PAYS = (
    Column("need", lambda f: f.need),
    Column("stream", lambda f: f.stream or "outside the budget"),
    Column("funder", lambda f: f.funder),
    Column("chargeable", lambda f: "yes" if f.chargeable else "no"),
    Column("because", lambda f: "; ".join(f"{r.text} [{r.authority}]" for r in f.reasons)),
)


def _show(outcome: Outcome, as_json: bool) -> None:
    charge, top_up = outcome.charge, outcome.top_up
    if as_json:
        emit_json({
            "eligibility": asdict(outcome.eligibility),
            "charge": None if charge is None else {**asdict(charge), "explanation": charge.explain()},
            "top_up": None if top_up is None else asdict(top_up),
            "entries": [p.entry.id for p in outcome.posted],
        })
        return
    listing(outcome.eligibility.funding, WHO_PAYS, title="Who pays")
    for r in outcome.eligibility.reasons:
        say(f"• {r.text} [{r.authority}]")
    if charge:
        out.print(Text.assemble("\n", ("Financial assessment", "bold"), f" ({charge.rule}, {charge.params_version})"))
        for line in charge.explain():
            say(f"  {line}")
        out.print(Text(f"Weekly contribution: £{money(charge.weekly)}", "bold"))
    if top_up:
        verdict = f"allowed: £{money(top_up.weekly)} a week" if top_up.allowed else "not allowed"
        out.print(Text.assemble("\n", ("Top-up", "bold"), f" {verdict}"))
        for r in top_up.reasons:
            say(f"  {r.text} [{r.authority}]")
    for p in outcome.posted:
        say(f"entry {p.entry.id}: {p.entry.memo} £{money(p.entry.lines[0].amount)}")


def _flags_case(age: int, setting: Setting, needs: list[Need], on: str | None, weekly_cost: str | None,
                residential: bool, capital: str, incomes: list[str], mig_band: MigBand, dre: str,
                housing: str) -> dict[str, Any]:
    """The same mapping a case file holds, built from flags (money stays pound strings until validated)."""
    data: dict[str, Any] = {"circumstances": {"age": age, "setting": str(setting),
                                              **{NEED_FIELDS[n]: True for n in needs}}}
    if weekly_cost is not None:
        data["finances"] = {
            "on": parse_date(on), "care_type": "residential" if residential else "non_residential",
            "weekly_cost_of_care": weekly_cost, "capital": capital, "mig_band": str(mig_band),
            "disability_related_expenditure": dre, "housing_costs": housing,
            "incomes": [_income(item) for item in incomes],
        }
    return data


def _income(item: str) -> dict[str, str]:
    label, eq, amount = item.rpartition("=")
    if not eq or not label.strip():
        raise InvalidInput(f"--income {item!r} should be LABEL=AMOUNT, e.g. \"State pension=230.25\"")
    return {"label": label.strip(), "weekly": amount.strip()}
