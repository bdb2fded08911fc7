"""`ipb assess`: eligibility, the financial assessment and top-ups, explained line by line; and `ipb assess what-if`,
the caseload re-run under a draft parameter set.

`assess` is a group whose default command is `case`: `ipb assess FILE` is `ipb assess case FILE`, so a case
file or the flags work as before; only the word `what-if` (or `case`) first names a subcommand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text
from typer.core import TyperGroup

from ledger.calendar import financial_year
from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, date_in_fy, parse_date, parse_fy, progress, refusals, requires, settings
from ledger.cli.options import funding_source
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, out, say
from ledger.errors import InvalidInput, NotAllowed
from ledger.formats.assessments import AssessmentCase, case_from, read_case
from ledger.roles import Permission
from ledger.rules.charging import Charge
from ledger.rules.charging import assess as assess_charge
from ledger.rules.eligibility import Eligibility, Setting, decide
from ledger.rules.params import MigBand, MigPremium, parse_params
from ledger.rules.topups import TopUpDecision, decide_top_up
from ledger.services.assessments import fund_from_assessment
from ledger.services.journal import Posted
from ledger.services.users import check


class CaseByDefault(TyperGroup):
    """A group whose first word, unless it names a subcommand, is the default command's: `ipb assess FILE`."""

    default = "case"
    ignore_unknown_options = True  # the default command's options (--age ...) pass through to it

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, args or [self.default])

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in self.commands:
            return super().resolve_command(ctx, args)
        return self.default, self.commands[self.default], args


app = typer.Typer(
    cls=CaseByDefault,
    help=summary("assess") + "\n\nA case: ipb assess FILE (short for ipb assess case FILE), or the flags of "
    "`ipb assess case --help`. The caseload under draft parameters: ipb assess what-if --params FILE.",
    add_completion=False,
)


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


@app.command("case")
@refusals
@requires(Permission.VIEW_ALL)  # writes nothing without --allocate, so an auditor may run it
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
    mig_band: Annotated[MigBand | None, typer.Option(
        help="Default: the band --age and the household give (reg. 7), where they decide it",
        rich_help_panel="Finances")] = None,
    dre: Annotated[str, typer.Option(help="Weekly disability-related expenditure",
                                     rich_help_panel="Finances")] = "0.00",
    housing: Annotated[str, typer.Option(help="Weekly housing costs", rich_help_panel="Finances")] = "0.00",
    premium: Annotated[list[MigPremium], typer.Option(
        help="A MIG premium the person qualifies for (repeatable); a couple's band takes the _couple_each forms",
        rich_help_panel="Finances")] = [],  # noqa: B006
    children: Annotated[int, typer.Option(min=0, max=20, help="Children the person is responsible for and lives "
                                          "with: the MIG amount for each", rich_help_panel="Finances")] = 0,
    couple: Annotated[bool, typer.Option("--couple", help="One of a couple: each partner is assessed on their own "
                                         "resources (with a couple's --mig-band at home)",
                                         rich_help_panel="Finances")] = False,
    joint_capital: Annotated[str, typer.Option(help="Capital held jointly with a partner: half is the person's",
                                               rich_help_panel="Finances")] = "0.00",
    aftercare_cost: Annotated[str | None, typer.Option(
        help="With --need s117 --need care-act: the part of --weekly-cost that meets s117 aftercare needs (free), "
             "e.g. --weekly-cost 450.00 --aftercare-cost 200.00; the rest is charged as usual",
        rich_help_panel="Finances")] = None,
    allocate: Annotated[str | None, typer.Option(help="Fund this person's budget from the assessment")] = None,
    fy: Annotated[str | None, typer.Option("--fy", help="Budget year for --allocate, e.g. 2025/26")] = None,
    council: Annotated[str, typer.Option(help="Council funder for the Care Act part (council, or funder:council)",
                                         callback=funding_source)] = "council",
    person_funder: Annotated[str, typer.Option(help="Funder standing for the person's own money",
                                               callback=funding_source)] = "self",
    nhs: Annotated[str, typer.Option(help="ICB funder of NHS-funded nursing care (a nursing-home case with nursing needs)",
                                     callback=funding_source)] = "icb",
    as_json: JsonFlag = False,
) -> None:
    """Decide who pays, what the person pays each week, and whether a top-up is allowed; explain why.

    Example, from a file: ipb assess case examples/assessments/care-act-at-home.toml

    Example, from flags: ipb assess case --age 67 --need care-act --weekly-cost 350.00 --capital 18,000.00
    --income "State pension=230.25" --mig-band single_pension_age

    A couple at home: ipb assess case --age 40 --need care-act --weekly-cost 300.00 --couple --mig-band
    couple_18_plus_each --joint-capital 20,000.00 --children 2 --income "Earnings top-up=150.00"

    With --allocate P0001 --fy 2025/26 the year's package is allocated:
    the contribution to the personal-contribution stream, the rest to the Care Act stream, each entry
    recording the rule and parameter version used; NHS-funded nursing care (`fnc = "standard"` or
    "higher") goes to the nhs-fnc stream from --nhs, for the nursing home's invoices (`ipb invoice add HOME
    ... --stream nhs-fnc`). The charge must apply from a date inside that year;
    the allocations are dated --date (inside the year), else the date the charge applies from. The
    assessment is stored with them (its input, rule, parameters and charge), for `ipb assess what-if`.
    An s117 aftercare part (`aftercare_weekly_cost`) goes to the s117 stream, free; a top-up's written
    agreement is recorded on each entry. Without --allocate nothing is written, so an auditor may run it;
    --allocate needs an officer. A top-up the rules refuse (e.g. for care at home) exits 1, bad input 2.

    The word `case` may be left out: `ipb assess FILE` runs this command.
    """
    if allocate:
        check(settings.user, Permission.ALLOCATE)
    if file is not None and age is not None:
        raise InvalidInput("describe the case either in FILE or with --age and the other flags, not both")
    if file is not None:
        case = read_case(file)
    elif age is None:
        raise InvalidInput("give a case file, or at least --age (see ipb assess --help)")
    else:
        charge_day = date_in_fy(None, parse_fy(fy), incoming=True).isoformat() if fy and on is None else on
        data = _flags_case(age, setting, need, charge_day, weekly_cost, residential, capital, income, mig_band, dre,
                           housing)
        if "finances" in data:
            data["finances"] |= {"mig_premiums": [str(p) for p in premium], "children": children,
                                 "member_of_couple": couple, "joint_capital": joint_capital}
        if aftercare_cost is not None:
            if "finances" not in data:
                raise InvalidInput("--aftercare-cost is a part of --weekly-cost: give both")
            data["finances"]["aftercare_weekly_cost"] = aftercare_cost
        case = case_from(data, "flags")
    outcome = _decide(case)
    if outcome.top_up is not None and not outcome.top_up.allowed:
        reason = outcome.top_up.reasons[0]
        raise NotAllowed(f"top-up refused: {reason.text} [{reason.authority}]", rule=reason.authority)
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
            council=council, person_funder=person_funder, on=day, actor=settings.who, finances=case.finances,
            top_up=outcome.top_up.agreement if outcome.top_up else (), nhs=nhs))
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
            "top_up": None if top_up is None else {**asdict(top_up), "agreement": dict(top_up.agreement) or None},
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
        for term, value in top_up.agreement:
            shown = f"£{money(int(value))} a week" if term == "weekly_amount" else value
            say(f"  Agreement, {term.replace('_', ' ')}: {shown}")
    for p in outcome.posted:
        say(f"entry {p.entry.id}: {p.entry.memo} £{money(p.entry.lines[0].amount)}")


def _flags_case(age: int, setting: Setting, needs: list[Need], on: str | None, weekly_cost: str | None,
                residential: bool, capital: str, incomes: list[str], mig_band: MigBand | None, dre: str,
                housing: str) -> dict[str, Any]:
    """The same mapping a case file holds, built from flags (money stays pound strings until validated)."""
    data: dict[str, Any] = {"circumstances": {"age": age, "setting": str(setting),
                                              **{NEED_FIELDS[n]: True for n in needs}}}
    if weekly_cost is not None:
        data["finances"] = {
            "on": parse_date(on), "care_type": "residential" if residential else "non_residential",
            "weekly_cost_of_care": weekly_cost, "capital": capital,
            "disability_related_expenditure": dre, "housing_costs": housing,
            "incomes": [_income(item) for item in incomes],
        }
        if mig_band is not None:  # else the case file's rule: the band from age and household, where they decide it
            data["finances"]["mig_band"] = str(mig_band)
    return data


def _income(item: str) -> dict[str, str]:
    label, eq, amount = item.rpartition("=")
    if not eq or not label.strip():
        raise InvalidInput(f"--income {item!r} should be LABEL=AMOUNT, e.g. \"State pension=230.25\"")
    return {"label": label.strip(), "weekly": amount.strip()}


WHAT_IF = (
    Column("person", lambda p: p.person),
    Column("old weekly", lambda p: p.old_weekly, money=True),
    Column("new weekly", lambda p: p.new_weekly, money=True),
    Column("weekly cost", lambda p: p.weekly_cost, money=True),
    Column("council weekly change", lambda p: p.council_weekly_change, money=True),
    Column("change", lambda p: p.movement),
    Column("why", lambda p: p.reason),
)


@dataclass(frozen=True, slots=True)
class _Total:
    person: str
    council_weekly_change: int | None
    old_weekly: None = None
    new_weekly: None = None
    weekly_cost: None = None
    movement: str = ""
    reason: str = ""


@app.command("what-if")
@refusals
@requires(Permission.VIEW_ALL)
def what_if(
    params: Annotated[Path, typer.Option("--params", help="Draft parameter file, in the format of "
                                         "ledger/rules/params/*.toml (its own financial_year names its year)")],
    fy: Annotated[str | None, typer.Option("--fy", help="Re-run the assessments stored for this year, e.g. "
                                           "2025/26 (default: the year the params file names)")] = None,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Re-run every current stored assessment under a draft parameter set; write nothing.

    Per person: the old and new weekly charge, the change in the council's weekly cost (cost less charge),
    and whether the charge rises, falls, is unchanged, moves to the full cost, or is refused (the draft
    lacks a figure the case needs). Totals: people in each class, and the council's weekly and annual change
    (weekly times the draft year's weeks). Read-only: auditors may run it.

    Example: ipb assess what-if --params examples/params/draft-2026-27.toml --fy 2025/26 --format csv
    """
    try:
        raw = params.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{params}: cannot read the parameter file: {exc.strerror}", file=str(params)) from None
    from ledger.reports.what_if import what_if as run_what_if

    report = run_what_if(settings.engine, parse_params(raw, params.name), parse_fy(fy) if fy else None)
    if as_json or fmt is Format.JSON:
        emit_json({"fy": report.fy, "params": report.params_version, "rule": report.rule, "weeks": report.weeks,
                   "people": [asdict(p) for p in report.people],
                   "totals": {"people": {str(m): n for m, n in report.counts.items()},
                              "council_weekly_change": report.council_weekly_change,
                              "council_annual_change": report.council_annual_change}})
        return
    totals = [_Total(f"{m}: {n}", sum(p.council_weekly_change for p in report.people if p.movement is m))
              for m, n in report.counts.items()]
    totals.append(_Total(f"all: {len(report.people)}", report.council_weekly_change))
    listing(report.people, WHAT_IF, title=f"What if: {report.fy} assessments under {report.params_version}",
            fmt=fmt, totals=totals,
            caption=f"Council's annual change: £{money(report.council_annual_change)} ({report.weeks} weeks)")


def _source(value: str | None) -> str | None:
    return None if value is None else funding_source(value)


UPRATED = (
    Column("person", lambda u: u.person),
    Column("old weekly", lambda u: u.old_weekly, money=True),
    Column("new weekly", lambda u: u.new_weekly, money=True),
    Column("weekly cost", lambda u: u.weekly_cost, money=True),
    Column("status", lambda u: u.status),
    Column("entries", lambda u: " ".join(map(str, u.entries))),
    Column("why", lambda u: u.reason),
)


@app.command("uprate")
@refusals
@requires(Permission.ALLOCATE)
def uprate(
    fy: Annotated[str, typer.Option("--fy", help="The new year, e.g. 2026/27: last year's current assessments are "
                                    "re-run under its parameters and its budgets allocated")],
    on: Annotated[str | None, typer.Option("--date", help=(
        "The allocations' date, inside --fy. Default: today if inside the year, else its first day"))] = None,
    key: Annotated[str | None, typer.Option(help="The batch's key: the same command with the same key finishes an "
                                            "interrupted batch and posts nothing twice (default: uprate:YEAR)")] = None,
    council: Annotated[str | None, typer.Option(
        help="Fund the council's part from this source instead of the one last year's assessment used (last "
             "year's pool cannot fund this year), e.g. pool:bcf-2026-27", callback=_source)] = None,
    person_funder: Annotated[str | None, typer.Option(
        help="Funder standing for the person's own money, instead of last year's", callback=_source)] = None,
    nhs: Annotated[str, typer.Option(help="ICB funder of NHS-funded nursing care, for the cases that have it",
                                     callback=funding_source)] = "icb",
    leave_refused: Annotated[bool, typer.Option(
        help="Uprate everyone who can be and list the cases the new year's parameters cannot assess (by default "
             "one such case stops the batch before anything is written)")] = False,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Re-assess last year's caseload for a new year and allocate each person's year at the new contribution.

    Every current stored assessment of the year before --fy is re-run under --fy's parameters from the year's
    first day (the same finances; only the figures change: run `ipb assess what-if` first to see the effect),
    stored as the person's assessment for the new year, and their year of care allocated as `ipb assess
    --allocate` does, each entry recording the rule and parameter version. People already assessed for the
    new year are left as they are. The batch is keyed: each person's entries are KEY:PERSON:STREAM, posted
    a chunk of people per transaction, so after a failure or a kill the same command finishes the batch.
    A case the new parameters cannot assess stops the batch before anything is written (exit 1), unless
    --leave-refused.

    Example: ipb assess uprate --fy 2026/27 --council pool:bcf-2026-27
    """
    from ledger.services.uprating import uprate as run_uprate

    year = parse_fy(fy)
    day = date_in_fy(on, year, incoming=True)
    with progress() as bar:
        task = bar.add_task(f"uprating for {fy}", total=None)
        lines = run_uprate(settings.engine, year, actor=settings.who, on=day, key=key or f"uprate:{fy}",
                           council=council, person_funder=person_funder, nhs=nhs, leave_refused=leave_refused,
                           progress=lambda done, total: bar.update(task, completed=done, total=total))
    listing(lines, UPRATED, title=f"Uprated for {fy}", fmt=fmt, as_json=as_json,
            caption=", ".join(f"{status}: {sum(line.status == status for line in lines)}"
                              for status in ("uprated", "done before", "assessed already", "refused")))
