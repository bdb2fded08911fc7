"""`ipb plan ...`: care and support plans: versions of lines, the management mode, commitments, and
planned vs committed vs actual. The plan file is described in ledger/formats/plans.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.calendar import financial_year, in_year
from ledger.cli.app import summary
from ledger.cli.common import (
    FyOption,
    JsonFlag,
    KeyOption,
    PersonArg,
    choice,
    optional_date,
    parse_date,
    parse_fy,
    refusals,
    requires,
    settings,
)
from ledger.cli.options import choices, one_of
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, money, say
from ledger.domain import Attribution, Stream
from ledger.errors import InvalidInput
from ledger.formats.plans import PlanIn, pence, read_plan_file
from ledger.reports.plans import PlanView, plan_view
from ledger.roles import Permission
from ledger.rules.plans import Frequency, LineSpec, Mode, Unit, format_quantity, parse_quantity
from ledger.services import plan_spend, plans

app = typer.Typer(
    help=summary("plan") + " A line says what, how often, at what rate, within what cap, paid by whom.\n\n"
         "Example: ipb plan create P0001 --fy 2025/26 --file examples/plans/p0001-2025-26.toml",
    no_args_is_help=True,
    add_completion=False,
)

PlanFile = Annotated[Path, typer.Option("--file", "-f", help="Plan file (TOML, or .json): see examples/plans/")]


def _from_file(path: Path, person: str, fy: int) -> tuple[PlanIn, list[LineSpec]]:
    plan, specs = read_plan_file(path)
    if plan.person is not None and plan.person != person:
        raise InvalidInput(f"{path} is a plan for {plan.person}, not {person}")
    if plan.fy is not None and parse_fy(plan.fy) != fy:
        raise InvalidInput(f"{path} is a plan for {plan.fy}, not the year asked for")
    return plan, specs


@app.command("create")
@refusals
@requires(Permission.PLAN)
def plan_create(
    person: PersonArg,
    fy: FyOption,
    file: PlanFile,
    effective_from: Annotated[str | None, typer.Option(help="Date the plan takes effect, inside the --fy year "
                                                              "(default: the file's, else 1 April)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write version 1 of a person's care and support plan for a year, from a plan file.

    Example: ipb plan create P0001 --fy 2025/26 --file examples/plans/p0001-2025-26.toml

    A plan is never edited: change it with `ipb plan amend`, which writes a new version.
    """
    year = parse_fy(fy)
    plan, specs = _from_file(file, person, year)
    start = parse_date(effective_from) if effective_from else plan.effective_from
    version = plans.create_plan(settings.engine, person, year, specs, actor=settings.who, effective_from=start,
                                reason=plan.reason, mode=plan.mode)
    _print_version(version, as_json, plan.mode)


LINE_FLAGS = ("category", "unit", "rate", "quantity", "frequency", "cap", "cap_period", "stream", "rule",
              "coordinator")


@app.command("amend")
@refusals
@requires(Permission.PLAN)
def plan_amend(
    person: PersonArg,
    fy: FyOption,
    reason: Annotated[str, typer.Option(help="Why the plan changes (kept with the version)")],
    effective_from: Annotated[str, typer.Option(help="Date the new version takes effect: inside the --fy year, "
                                                     "not before the current version's")],
    file: Annotated[Path | None, typer.Option("--file", "-f", help="The complete new set of lines")] = None,
    line: Annotated[str | None, typer.Option(help="Add or change this one line (by code) with the flags below")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", metavar="CODE",
                                                     help="Drop this line (repeatable)")] = None,
    category: Annotated[str | None, typer.Option(help="Line: category, e.g. 'Personal care'")] = None,
    unit: Annotated[Unit | None, typer.Option(click_type=one_of(Unit, "unit"),
                                              help="Line: the unit care is bought in")] = None,
    rate: Annotated[str | None, typer.Option(help="Line: pounds per unit, e.g. 21.50")] = None,
    quantity: Annotated[str | None, typer.Option(help="Line: units per frequency period, e.g. 2.5")] = None,
    frequency: Annotated[Frequency | None, typer.Option(click_type=one_of(Frequency, "frequency"),
                                                        help="Line: the period the quantity is per")] = None,
    cap: Annotated[str | None, typer.Option(help="Line: the most that may be spent per cap period")] = None,
    cap_period: Annotated[Frequency | None, typer.Option(click_type=one_of(Frequency, "cap period"),
                                                         help="Line: the period the cap is per")] = None,
    stream: Annotated[str | None, typer.Option(
        metavar="STREAM", click_type=one_of(("budget", *Stream), "stream"),
        help=f"Line: the stream that pays, {choices(Stream)}; or budget, to use the budget's rule")] = None,
    rule: Annotated[str | None, typer.Option(
        click_type=one_of(("budget", *Attribution), "rule"),
        help="Line: how a spend is shared between streams (budget: the budget's rule)")] = None,
    coordinator: Annotated[str | None, typer.Option(help="Line: the named care coordinator")] = None,
    expect_version: Annotated[int | None, typer.Option(help="Refuse if the plan is no longer at this version")]
    = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a new version of the plan; earlier versions stay as they were.

    Either give the complete new set of lines with --file, or change the current version:
    --line CODE with any line flags changes that line (or adds it, when all are given), and
    --remove CODE drops one. Examples:

      ipb plan amend P0001 --fy 2025/26 --reason "12-week review" --effective-from 2025-07-01 \\
          --line personal-care --quantity 12

      ipb plan amend P0001 --fy 2025/26 --reason "new plan" --effective-from 2025-10-01 -f plan-v3.toml
    """
    year = parse_fy(fy)
    values = (category, unit, rate, quantity, frequency, cap, cap_period, stream, rule, coordinator)
    flags = dict(zip(LINE_FLAGS, values, strict=True))
    specs = _amended_lines(person, year, file, line, remove or [], flags)
    version = plans.amend_plan(settings.engine, person, year, specs, actor=settings.who, reason=reason,
                               effective_from=parse_date(effective_from), expected_version=expect_version)
    _print_version(version, as_json)


def _amended_lines(person: str, year: int, file: Path | None, line: str | None, remove: list[str],
                   flags: dict[str, str | None]) -> list[LineSpec]:
    """The complete new set of lines: the file's, or the current version's with --line/--remove applied."""
    changing = any(v is not None for v in flags.values())
    if file is not None:
        if line or remove or changing:
            raise InvalidInput("give either --file (the complete new lines) or --line/--remove changes, not both")
        return _from_file(file, person, year)[1]
    if not line and not remove:
        raise InvalidInput("nothing to amend: give --file, or --line CODE with changes, or --remove CODE")
    if changing and not line:
        raise InvalidInput("line flags (--rate, --cap, ...) need --line CODE to say which line")
    current = plans.current_plan(settings.engine, person, year)
    specs = [s.spec for s in current.lines]
    for code in remove:
        current.line(code)  # refuses an unknown code
        specs = [s for s in specs if s.code != code]
    return _change_line(specs, line, flags) if line else specs


def _line_changes(flags: dict[str, str | None]) -> dict[str, Any]:
    """The LineSpec fields the flags given change, parsed."""
    parse = {"category": str, "coordinator": str, "unit": lambda v: choice(Unit, v, "unit"),
             "rate": lambda v: pence(v, "rate"), "cap": lambda v: pence(v, "cap"), "quantity": parse_quantity,
             "frequency": lambda v: choice(Frequency, v, "frequency"),
             "cap_period": lambda v: choice(Frequency, v, "cap period")}
    changes: dict[str, Any] = {name: parse[name](value) for name, value in flags.items()
                               if value is not None and name in parse}
    if flags["stream"] is not None:
        changes["stream"] = None if flags["stream"] == "budget" else choice(Stream, flags["stream"], "stream")
        changes.setdefault("attribution", None)
    if flags["rule"] is not None:
        changes["attribution"] = None if flags["rule"] == "budget" else choice(Attribution, flags["rule"], "rule")
        if changes["attribution"] is not None:
            changes["stream"] = None
    return changes


def _change_line(specs: list[LineSpec], code: str, flags: dict[str, str | None]) -> list[LineSpec]:
    changes = _line_changes(flags)
    if not changes:
        raise InvalidInput(f"--line {code} changes nothing: add flags such as --rate or --quantity")
    if any(s.code == code for s in specs):
        return [replace(s, **changes) if s.code == code else s for s in specs]
    needed = {"category", "unit", "rate", "quantity", "frequency", "cap", "coordinator"} - changes.keys()
    if needed:
        raise InvalidInput(f"line {code} is new: also give --{' --'.join(sorted(n.replace('_', '-') for n in needed))}")
    changes.setdefault("cap_period", changes["frequency"])
    return [*specs, LineSpec(code=code, **changes)]


@app.command("mode")
@refusals
@requires(Permission.PLAN)
def plan_mode(
    person: PersonArg,
    fy: FyOption,
    mode: Annotated[Mode, typer.Argument(metavar="MODE", click_type=one_of(Mode, "mode"),
                                         help="How the budget is managed")],
    effective_from: Annotated[str | None, typer.Option(help="Date it applies from, inside the --fy year "
                                                              "(default 1 April)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set how the person's budget is managed for the year (earlier settings are kept as history).

    Example: ipb plan mode P0001 --fy 2025/26 direct-payment
    """
    setting = plans.set_mode(settings.engine, person, parse_fy(fy), choice(Mode, mode, "mode"), actor=settings.who,
                             effective_from=parse_date(effective_from) if effective_from else None)
    if as_json:
        emit_json({"person": person, "fy": setting.fy, "mode": setting.mode,
                   "effective_from": setting.effective_from, "set_by": setting.set_by})
    else:
        say(f"{person} {fy}: {setting.mode} from {setting.effective_from}")


# rows of `plan show`: (line, category, Position), the totals row among them
POSITION_COLUMNS = (
    Column("line", lambda r: r[0]),
    Column("category", lambda r: r[1]),
    Column("planned", lambda r: r[2].planned, money=True),
    Column("committed", lambda r: r[2].committed, money=True),
    Column("actual", lambda r: r[2].actual, money=True),
    Column("flagged", lambda r: r[2].flagged or None, money=True),
    Column("uncommitted", lambda r: r[2].uncommitted, money=True),
    Column("status", lambda r: r[2].status),
)


@app.command("show")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def plan_show(
    person: PersonArg,
    fy: FyOption,
    upto: Annotated[str | None, typer.Option(help="Count planned cost only up to this date, inside the --fy year "
                                                  "(default: the whole year)")] = None,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """Planned vs committed vs actual for each line of the person's plan for the year.

    Planned is pro rata by days for the days each version is in force; committed is held
    for planned care and not yet spent; actual is spend logged (flagged: allowed overspend).

    Example: ipb plan show P0001 --fy 2025/26 --upto 2025-09-30
    """
    year = parse_fy(fy)
    view = plan_view(settings.engine, person, year, upto=in_year(parse_date(upto), financial_year(year)) if upto
                     else None)
    if as_json or fmt is Format.JSON:
        emit_json(_view_json(view))
        return
    mode = view.mode.mode if view.mode else "not set"
    rows = [(v.spec.code + ("" if v.in_current else " (removed)"), v.spec.category, v.position) for v in view.lines]
    listing(rows, POSITION_COLUMNS, title=f"Plan of {person} {fy}, version {view.current.version} (mode: {mode})",
            fmt=fmt, total=("total", "", view.totals))


def _view_json(view: PlanView) -> dict[str, Any]:
    t = view.totals
    return {
        "person": view.current.person, "fy": view.current.fy, "version": view.current.version,
        "versions": view.versions, "mode": view.mode.mode if view.mode else None,
        "lines": [{"line": v.spec.code, "category": v.spec.category, "in_current": v.in_current,
                   "planned": v.position.planned, "committed": v.position.committed, "actual": v.position.actual,
                   "flagged": v.position.flagged, "uncommitted": v.position.uncommitted, "status": v.position.status}
                  for v in view.lines],
        "totals": {"planned": t.planned, "committed": t.committed, "actual": t.actual, "flagged": t.flagged,
                   "uncommitted": t.uncommitted},
    }


HISTORY_COLUMNS = (
    Column("version", lambda v: v.version),
    Column("effective from", lambda v: v.effective_from),
    Column("by", lambda v: v.created_by),
    Column("at", lambda v: f"{v.created_at:%Y-%m-%d %H:%M}"),
    Column("lines", lambda v: len(v.lines)),
    Column("reason", lambda v: v.reason),
)
LINE_COLUMNS = (  # the line's code is what commands take; its id (in --json) is the version's own row
    Column("line", lambda s: s.spec.code),
    Column("category", lambda s: s.spec.category),
    Column("unit", lambda s: s.spec.unit),
    Column("rate", lambda s: s.spec.rate, money=True),
    Column("quantity", lambda s: f"{format_quantity(s.spec.quantity)} per {s.spec.frequency}"),
    Column("cap", lambda s: s.spec.cap, money=True),
    Column("cap period", lambda s: s.spec.cap_period),
    Column("paid by", lambda s: s.spec.stream or (f"{s.spec.attribution} rule" if s.spec.attribution
                                                   else "budget's rule")),
    Column("coordinator", lambda s: s.spec.coordinator),
)


@app.command("lines")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def plan_lines(
    person: PersonArg,
    fy: FyOption,
    version: Annotated[int | None, typer.Option(help="A past version (default: the current one)")] = None,
    history: Annotated[bool, typer.Option(help="List every version: when, who, why")] = False,
    fmt: FormatOption = Format.TABLE,
    as_json: JsonFlag = False,
) -> None:
    """The lines of a plan version: the line's code (what `spend log --line`, `plan commit --line` and
    `invoice add --plan-line` take), unit, rate, quantity, frequency, cap, who pays, coordinator.

    Example: ipb plan lines P0001 --fy 2025/26 --history
    """
    versions = plans.plan_history(settings.engine, person, parse_fy(fy))
    if not versions:
        plans.current_plan(settings.engine, person, parse_fy(fy))  # the "no plan" refusal
    if history:
        listing(versions, HISTORY_COLUMNS, title=f"Plan history of {person}", fmt=fmt, as_json=as_json,
                to_json=_version_json)
        return
    chosen = versions[-1] if version is None else next((v for v in versions if v.version == version), None)
    if chosen is None:
        raise InvalidInput(f"{person}'s plan has versions 1 to {versions[-1].version}, not {version}")
    if as_json or fmt is Format.JSON:
        emit_json(_version_json(chosen))
        return
    _lines_table(chosen, fmt)


def _line_json(spec: LineSpec) -> dict[str, Any]:
    return {"code": spec.code, "category": spec.category, "description": spec.description, "unit": spec.unit,
            "rate": spec.rate, "quantity": format_quantity(spec.quantity), "frequency": spec.frequency,
            "cap": spec.cap, "cap_period": spec.cap_period, "stream": spec.stream, "attribution": spec.attribution,
            "coordinator": spec.coordinator}


def _version_json(v: plans.PlanVersion) -> dict[str, Any]:
    return {"person": v.person, "fy": v.fy, "version": v.version, "effective_from": v.effective_from,
            "reason": v.reason, "created_by": v.created_by, "created_at": v.created_at,
            "lines": [{"id": s.id, **_line_json(s.spec)} for s in v.lines]}


def _lines_table(v: plans.PlanVersion, fmt: Format = Format.TABLE) -> None:
    listing(v.lines, LINE_COLUMNS, title=f"Plan of {v.person} {financial_year(v.fy).label}, version {v.version} "
            f"from {v.effective_from}", fmt=fmt)


def _print_version(v: plans.PlanVersion, as_json: bool, mode: Mode | None = None) -> None:
    if as_json:
        emit_json({**_version_json(v), "mode": mode})
        return
    say(f"{v.person}: plan version {v.version} from {v.effective_from}, {len(v.lines)} lines"
        f"{f', mode {mode}' if mode else ''}")
    _lines_table(v)


@app.command("commit")
@refusals
@requires(Permission.PLAN)
def plan_commit(
    person: PersonArg,
    fy: FyOption,
    line: Annotated[str, typer.Option(help="The plan line's code")],
    start: Annotated[str, typer.Option("--from", help="First day of the care committed, inside the --fy year; "
                                                      "the hold is dated this day")],
    end: Annotated[str, typer.Option("--to", help="Last day of the care committed, inside the --fy year")],
    amount: Annotated[str | None, typer.Option(help="Hold this much (default: the line's planned cost)")] = None,
    key: KeyOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Hold approved planned care so it shows as committed and cannot be spent twice.

    Example: ipb plan commit P0001 --fy 2025/26 --line personal-care --from 2025-04-01 --to 2025-04-28

    Spend logged on the line inside the period uses the commitment up; `ipb plan release` frees it.
    """
    held = pence(amount, "amount") if amount is not None else None
    c = plan_spend.commit_planned(settings.engine, person, parse_fy(fy), line, start=parse_date(start),
                                  end=parse_date(end), actor=settings.who, amount=held, key=key)
    _print_commitment(c, as_json)


@app.command("release")
@refusals
@requires(Permission.PLAN)
def plan_release(
    commitment: Annotated[int, typer.Argument(help="The commitment's number (from `ipb plan commit`)")],
    on: Annotated[str | None, typer.Option("--date", help=(
        "Date of the release, inside the plan's year (default: today if inside it, else its last day, or its "
        "first if it has not begun); never before the commitment's own date"))] = None,
    as_json: JsonFlag = False,
) -> None:
    """Release a commitment that will not be spent; the money is available again.

    Example: ipb plan release 3 --date 2025-04-20
    """
    c = plan_spend.release_commitment(settings.engine, commitment, actor=settings.who, on=optional_date(on))
    _print_commitment(c, as_json)


def _print_commitment(c: plan_spend.Commitment, as_json: bool) -> None:
    if as_json:
        emit_json({"id": c.id, "person": c.person, "fy": c.fy, "line": c.line, "from": c.start, "to": c.end,
                   "amount": c.amount, "hold": c.hold_entry_id, "open": c.open, "replayed": c.replayed})
        return
    state = "open" if c.open else "released"
    say(f"commitment {c.id}: {c.person} {c.line} {money(c.amount)} for {c.start} to {c.end} "
        f"(hold entry {c.hold_entry_id}, {state}){' (already made under this key)' if c.replayed else ''}")
