"""`ipb plan ...` and `ipb spend log`: care and support plans, and brokers logging spend against them.

A plan file (TOML, or JSON by its .json suffix) holds the lines of a plan:

    reason = "first plan after assessment"   # optional
    effective_from = "2025-04-01"            # optional; default 1 April of the year
    mode = "direct-payment"                  # optional: direct-payment, managed-account,
                                             #   council-managed, individual-service-fund
    [[lines]]
    code = "personal-care"                   # stable across versions; spend names it
    category = "Personal care"
    unit = "hour"                            # hour, visit, night, item
    rate = "21.50"                           # money is a string of pounds, never a bare number
    quantity = "10"                          # units per frequency period ("2.5" allowed)
    frequency = "week"                       # week, 4-weeks, month, year
    cap = "250.00"                           # the most that may be spent per cap period
    cap_period = "week"                      # default: the frequency
    stream = "care-act"                      # the stream that pays; or
    # attribution = "waterfall"              # a rule (proportional, waterfall); neither: the budget's rule
    coordinator = "Sam Lee, ICB"             # the named care coordinator
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from rich.markup import escape
from rich.table import Table

from ledger.cli.common import JsonFlag, emit_json, money, out, parse_date, parse_fy, refusals, requires, settings
from ledger.domain import Attribution, Stream
from ledger.entry_file import load_mapping
from ledger.errors import InvalidInput, LedgerError
from ledger.money import parse_amount
from ledger.reports.plans import PlanView, plan_view, spend_list
from ledger.roles import Permission
from ledger.rules.plans import Frequency, LineSpec, Mode, Unit, format_quantity, parse_quantity
from ledger.services import plans

plan_app = typer.Typer(
    help="Care and support plans: versioned lines (what, how often, at what rate, within what cap, paid by whom), "
         "the budget management mode, commitments, and planned vs committed vs actual.",
    no_args_is_help=True,
)
spend_app = typer.Typer(help="Spend logged against a line of a person's current plan (brokers: assigned people only).",
                        no_args_is_help=True)

FyOption = Annotated[str, typer.Option("--fy", help="Financial year, e.g. 2025/26")]
PersonArg = Annotated[str, typer.Argument(help="The person's pseudonymous reference, e.g. P0001")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ipb` app."""
    app.add_typer(plan_app, name="plan")
    app.add_typer(spend_app, name="spend")


# --- plan files ----------------------------------------------------------------------


def _choice(kind, text: str, what: str):  # type: ignore[no-untyped-def]
    try:
        return kind(text)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} unknown: use one of {', '.join(k.value for k in kind)}") from None


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    category: str
    description: str = ""
    unit: Unit
    rate: str
    quantity: str | int
    frequency: Frequency
    cap: str
    cap_period: Frequency | None = None
    stream: Stream | None = None
    attribution: Attribution | None = None
    coordinator: str

    @field_validator("rate", "cap", mode="before")
    @classmethod
    def _money_is_a_string(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError('write money as a string of pounds, e.g. "21.50"')
        return value

    def spec(self) -> LineSpec:
        return LineSpec(
            code=self.code, category=self.category, unit=self.unit, rate=_pence(self.rate, "rate"),
            quantity=parse_quantity(self.quantity), frequency=self.frequency, cap=_pence(self.cap, "cap"),
            cap_period=self.cap_period or self.frequency, coordinator=self.coordinator, stream=self.stream,
            attribution=self.attribution, description=self.description,
        )


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person: str | None = None
    fy: str | None = None
    reason: str = ""
    effective_from: date | None = None
    mode: Mode | None = None
    lines: list[LineIn]


def _pence(text: str, what: str) -> int:
    pence = parse_amount(text)
    if pence < 0:
        raise InvalidInput(f"{what} cannot be negative, got {text!r}")
    return pence


def read_plan_file(path: Path) -> tuple[PlanIn, list[LineSpec]]:
    """Parse a plan file; every problem names the file and where in it (line and column when the parser knows)."""
    data = load_mapping(path)
    try:
        plan = PlanIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise InvalidInput(f"{path}: {where}: {first['msg']}", file=str(path), field=where) from None
    specs = []
    for index, line in enumerate(plan.lines):
        try:
            specs.append(line.spec())
        except LedgerError as exc:
            raise InvalidInput(f"{path}: lines.{index} ({line.code}): {exc.reason}", file=str(path),
                               field=f"lines.{index}") from None
    return plan, specs


def _from_file(path: Path, person: str, fy: int) -> tuple[PlanIn, list[LineSpec]]:
    plan, specs = read_plan_file(path)
    if plan.person is not None and plan.person != person:
        raise InvalidInput(f"{path} is a plan for {plan.person}, not {person}")
    if plan.fy is not None and parse_fy(plan.fy) != fy:
        raise InvalidInput(f"{path} is a plan for {plan.fy}, not the year asked for")
    return plan, specs


# --- plan commands ---------------------------------------------------------------------


@plan_app.command("create")
@refusals
@requires(Permission.PLAN)
def plan_create(
    person: PersonArg,
    fy: FyOption,
    file: Annotated[Path, typer.Option("--file", "-f", help="Plan file (TOML, or .json); see `ipb plan --help`")],
    effective_from: Annotated[str | None, typer.Option(help="Date the plan takes effect (default: the file's, "
                                                              "else 1 April)")] = None,
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


@plan_app.command("amend")
@refusals
@requires(Permission.PLAN)
def plan_amend(
    person: PersonArg,
    fy: FyOption,
    reason: Annotated[str, typer.Option(help="Why the plan changes (kept with the version)")],
    effective_from: Annotated[str, typer.Option(help="Date the new version takes effect")],
    file: Annotated[Path | None, typer.Option("--file", "-f", help="The complete new set of lines")] = None,
    line: Annotated[str | None, typer.Option(help="Add or change this one line (by code) with the flags below")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="Drop this line (repeatable)")] = None,
    category: Annotated[str | None, typer.Option(help="Line: category, e.g. 'Personal care'")] = None,
    unit: Annotated[str | None, typer.Option(help="Line: hour, visit, night or item")] = None,
    rate: Annotated[str | None, typer.Option(help="Line: pounds per unit, e.g. 21.50")] = None,
    quantity: Annotated[str | None, typer.Option(help="Line: units per frequency period, e.g. 2.5")] = None,
    frequency: Annotated[str | None, typer.Option(help="Line: week, 4-weeks, month or year")] = None,
    cap: Annotated[str | None, typer.Option(help="Line: the most that may be spent per cap period")] = None,
    cap_period: Annotated[str | None, typer.Option(help="Line: week, 4-weeks, month or year")] = None,
    stream: Annotated[str | None, typer.Option(help="Line: the stream that pays ('budget' to use the rule)")] = None,
    rule: Annotated[str | None, typer.Option(help="Line: proportional or waterfall ('budget' for the budget's)")]
    = None,
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
    flags = {"category": category, "unit": unit, "rate": rate, "quantity": quantity, "frequency": frequency,
             "cap": cap, "cap_period": cap_period, "stream": stream, "rule": rule, "coordinator": coordinator}
    if file is not None:
        if line or remove or any(v is not None for v in flags.values()):
            raise InvalidInput("give either --file (the complete new lines) or --line/--remove changes, not both")
        _, specs = _from_file(file, person, year)
    else:
        if not line and not remove:
            raise InvalidInput("nothing to amend: give --file, or --line CODE with changes, or --remove CODE")
        if any(v is not None for v in flags.values()) and not line:
            raise InvalidInput("line flags (--rate, --cap, ...) need --line CODE to say which line")
        current = plans.current_plan(settings.engine, person, year)
        specs = [s.spec for s in current.lines]
        for code in remove or []:
            current.line(code)  # refuses an unknown code
            specs = [s for s in specs if s.code != code]
        if line:
            specs = _change_line(specs, line, flags)
    version = plans.amend_plan(settings.engine, person, year, specs, actor=settings.who, reason=reason,
                               effective_from=parse_date(effective_from), expected_version=expect_version)
    _print_version(version, as_json)


def _change_line(specs: list[LineSpec], code: str, flags: dict[str, str | None]) -> list[LineSpec]:
    changes: dict[str, Any] = {}
    if flags["category"] is not None:
        changes["category"] = flags["category"]
    if flags["coordinator"] is not None:
        changes["coordinator"] = flags["coordinator"]
    if flags["unit"] is not None:
        changes["unit"] = _choice(Unit, flags["unit"], "unit")
    if flags["rate"] is not None:
        changes["rate"] = _pence(flags["rate"], "rate")
    if flags["cap"] is not None:
        changes["cap"] = _pence(flags["cap"], "cap")
    if flags["quantity"] is not None:
        changes["quantity"] = parse_quantity(flags["quantity"])
    if flags["frequency"] is not None:
        changes["frequency"] = _choice(Frequency, flags["frequency"], "frequency")
    if flags["cap_period"] is not None:
        changes["cap_period"] = _choice(Frequency, flags["cap_period"], "cap period")
    if flags["stream"] is not None:
        changes["stream"] = None if flags["stream"] == "budget" else _choice(Stream, flags["stream"], "stream")
        changes.setdefault("attribution", None)
    if flags["rule"] is not None:
        changes["attribution"] = None if flags["rule"] == "budget" else _choice(Attribution, flags["rule"], "rule")
        if changes["attribution"] is not None:
            changes["stream"] = None
    if not changes:
        raise InvalidInput(f"--line {code} changes nothing: add flags such as --rate or --quantity")
    existing = [s for s in specs if s.code == code]
    if existing:
        return [replace(s, **changes) if s.code == code else s for s in specs]
    needed = {"category", "unit", "rate", "quantity", "frequency", "cap", "coordinator"} - changes.keys()
    if needed:
        raise InvalidInput(f"line {code} is new: also give --{' --'.join(sorted(n.replace('_', '-') for n in needed))}")
    changes.setdefault("cap_period", changes["frequency"])
    return [*specs, LineSpec(code=code, **changes)]


@plan_app.command("mode")
@refusals
@requires(Permission.PLAN)
def plan_mode(
    person: PersonArg,
    fy: FyOption,
    mode: Annotated[str, typer.Argument(help=", ".join(m.value for m in Mode))],
    effective_from: Annotated[str | None, typer.Option(help="Date it applies from (default 1 April)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set how the person's budget is managed for the year (earlier settings are kept as history).

    Example: ipb plan mode P0001 --fy 2025/26 direct-payment
    """
    setting = plans.set_mode(settings.engine, person, parse_fy(fy), _choice(Mode, mode, "mode"), actor=settings.who,
                             effective_from=parse_date(effective_from) if effective_from else None)
    if as_json:
        emit_json({"person": person, "fy": setting.fy, "mode": setting.mode,
                   "effective_from": setting.effective_from, "set_by": setting.set_by})
    else:
        out.print(f"{person} {fy}: {setting.mode} from {setting.effective_from}")


@plan_app.command("show")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def plan_show(
    person: PersonArg,
    fy: FyOption,
    upto: Annotated[str | None, typer.Option(help="Count planned cost only up to this date (default: whole year)")]
    = None,
    as_json: JsonFlag = False,
) -> None:
    """Planned vs committed vs actual for each line of the person's plan for the year.

    Planned is pro rata by days for the days each version is in force; committed is held
    for planned care and not yet spent; actual is spend logged (flagged: allowed overspend).
    """
    view = plan_view(settings.engine, person, parse_fy(fy), upto=parse_date(upto) if upto else None)
    if as_json:
        emit_json(_view_json(view))
        return
    mode = view.mode.mode if view.mode else "not set"
    table = Table("line", "category", "planned", "committed", "actual", "uncommitted", "status",
                  title=f"Plan of {person} {fy}, version {view.current.version} (mode: {mode})")
    for v in [*view.lines]:
        p = v.position
        flagged = f" ({money(p.flagged)} flagged)" if p.flagged else ""
        table.add_row(v.spec.code + ("" if v.in_current else " (removed)"), v.spec.category, money(p.planned),
                      money(p.committed), money(p.actual) + flagged, money(p.uncommitted), p.status)
    t = view.totals
    table.add_row("total", "", money(t.planned), money(t.committed), money(t.actual), money(t.uncommitted), t.status)
    out.print(table)


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


@plan_app.command("lines")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def plan_lines(
    person: PersonArg,
    fy: FyOption,
    version: Annotated[int | None, typer.Option(help="A past version (default: the current one)")] = None,
    history: Annotated[bool, typer.Option(help="List every version: when, who, why")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The lines of a plan version: unit, rate, quantity, frequency, cap, who pays, coordinator."""
    versions = plans.plan_history(settings.engine, person, parse_fy(fy))
    if not versions:
        plans.current_plan(settings.engine, person, parse_fy(fy))  # the "no plan" refusal
    if history:
        if as_json:
            emit_json([_version_json(v) for v in versions])
            return
        table = Table("version", "effective from", "by", "at", "lines", "reason", title=f"Plan history of {person}")
        for v in versions:
            table.add_row(str(v.version), str(v.effective_from), v.created_by, f"{v.created_at:%Y-%m-%d %H:%M}",
                          str(len(v.lines)), v.reason)
        out.print(table)
        return
    chosen = versions[-1] if version is None else next((v for v in versions if v.version == version), None)
    if chosen is None:
        raise InvalidInput(f"{person}'s plan has versions 1 to {versions[-1].version}, not {version}")
    if as_json:
        emit_json(_version_json(chosen))
        return
    _lines_table(chosen)


def _line_json(spec: LineSpec) -> dict[str, Any]:
    return {"code": spec.code, "category": spec.category, "description": spec.description, "unit": spec.unit,
            "rate": spec.rate, "quantity": format_quantity(spec.quantity), "frequency": spec.frequency,
            "cap": spec.cap, "cap_period": spec.cap_period, "stream": spec.stream, "attribution": spec.attribution,
            "coordinator": spec.coordinator}


def _version_json(v: plans.PlanVersion) -> dict[str, Any]:
    return {"person": v.person, "fy": v.fy, "version": v.version, "effective_from": v.effective_from,
            "reason": v.reason, "created_by": v.created_by, "created_at": v.created_at,
            "lines": [{"id": s.id, **_line_json(s.spec)} for s in v.lines]}


def _lines_table(v: plans.PlanVersion) -> None:
    table = Table("line", "category", "unit", "rate", "quantity", "cap", "paid by", "coordinator",
                  title=f"Plan of {v.person} {v.fy}/{(v.fy + 1) % 100:02d}, version {v.version} from "
                        f"{v.effective_from}")
    for s in v.lines:
        spec = s.spec
        payer = spec.stream or (f"{spec.attribution} rule" if spec.attribution else "budget's rule")
        table.add_row(spec.code, spec.category, spec.unit, money(spec.rate),
                      f"{format_quantity(spec.quantity)} per {spec.frequency}",
                      f"{money(spec.cap)} per {spec.cap_period}", payer, spec.coordinator)
    out.print(table)


def _print_version(v: plans.PlanVersion, as_json: bool, mode: Mode | None = None) -> None:
    if as_json:
        emit_json({**_version_json(v), "mode": mode})
        return
    out.print(f"{v.person}: plan version {v.version} from {v.effective_from}, {len(v.lines)} lines"
              f"{f', mode {mode}' if mode else ''}")
    _lines_table(v)


@plan_app.command("commit")
@refusals
@requires(Permission.PLAN)
def plan_commit(
    person: PersonArg,
    fy: FyOption,
    line: Annotated[str, typer.Option(help="The plan line's code")],
    start: Annotated[str, typer.Option("--from", help="First day of the care committed")],
    end: Annotated[str, typer.Option("--to", help="Last day of the care committed")],
    amount: Annotated[str | None, typer.Option(help="Hold this much (default: the line's planned cost)")] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Hold approved planned care so it shows as committed and cannot be spent twice.

    Example: ipb plan commit P0001 --fy 2025/26 --line personal-care --from 2025-04-01 --to 2025-04-28

    Spend logged on the line inside the period uses the commitment up; `ipb plan release` frees it.
    """
    pence = _pence(amount, "amount") if amount is not None else None
    c = plans.commit_planned(settings.engine, person, parse_fy(fy), line, start=parse_date(start),
                             end=parse_date(end), actor=settings.who, amount=pence, key=key)
    _print_commitment(c, as_json)


@plan_app.command("release")
@refusals
@requires(Permission.PLAN)
def plan_release(
    commitment: Annotated[int, typer.Argument(help="The commitment's number (from `ipb plan commit`)")],
    on: Annotated[str | None, typer.Option("--date", help="Effective date (default today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Release a commitment that will not be spent; the money is available again."""
    c = plans.release_commitment(settings.engine, commitment, actor=settings.who, on=parse_date(on))
    _print_commitment(c, as_json)


def _print_commitment(c: plans.Commitment, as_json: bool) -> None:
    if as_json:
        emit_json({"id": c.id, "person": c.person, "fy": c.fy, "line": c.line, "from": c.start, "to": c.end,
                   "amount": c.amount, "hold": c.hold_entry_id, "open": c.open, "replayed": c.replayed})
        return
    state = "open" if c.open else "released"
    out.print(f"commitment {c.id}: {c.person} {c.line} {money(c.amount)} for {c.start} to {c.end} "
              f"(hold entry {c.hold_entry_id}, {state}){' (already made under this key)' if c.replayed else ''}")


# --- spend -------------------------------------------------------------------------------


@spend_app.command("log")
@refusals
@requires(Permission.SPEND, person="person")
def spend_log(
    person: PersonArg,
    fy: FyOption,
    line: Annotated[str, typer.Option(help="The code of a line in the person's current plan")],
    amount: Annotated[str, typer.Option(help="Amount spent, e.g. 86.00")],
    supplier: Annotated[str, typer.Option(help="Who was paid: provider, personal assistant, shop")],
    evidence: Annotated[str, typer.Option(help="Receipt, invoice or timesheet reference")],
    on: Annotated[str | None, typer.Option("--date", help="Date of the spend (default today)")] = None,
    allow_overspend: Annotated[bool, typer.Option(
        "--allow-overspend", help="Officers only: record spend over the line's cap as a flagged overspend")] = False,
    key: Annotated[str | None, typer.Option(help="Idempotency key: the same key again posts nothing new")] = None,
    memo: str = "",
    as_json: JsonFlag = False,
) -> None:
    """Log spend against a plan line and spend it from the person's budget.

    Example: ipb spend log P0001 --fy 2025/26 --line personal-care --amount 86.00 \\
                 --supplier "Acme Care" --evidence INV-2291 --date 2025-04-07 --key INV-2291

    Refused, with nothing written, if you are not assigned to the person, the line is not in
    the current plan, or the spend would take the line over its cap for the period. The line's
    stream pays, or its rule (else the budget's) shares the amount exactly between streams.
    """
    pence = parse_amount(amount)
    if pence <= 0:
        raise InvalidInput(f"amount must be positive, got {amount!r}")
    logged = plans.log_spend(settings.engine, person, parse_fy(fy), line, pence, on=parse_date(on), supplier=supplier,
                             evidence=evidence, actor=settings.who, key=key, allow_overspend=allow_overspend,
                             memo=memo)
    if as_json:
        emit_json({
            "id": logged.id, "person": person, "fy": logged.fy, "line": logged.line, "plan_version": logged.version,
            "amount": logged.amount, "date": logged.on, "supplier": logged.supplier, "evidence": logged.evidence,
            "broker": logged.broker, "flagged_overspend": logged.flagged_overspend, "allowed_by": logged.allowed_by,
            "entry": logged.entry_id, "replayed": logged.replayed, "attribution": logged.attributed.rule,
            "parts": {str(s): p for s, p in logged.attributed.parts.items()},
            "cap": None if logged.cap is None else {
                "cap": logged.cap.cap, "from": logged.cap.window.start, "to": logged.cap.window.end,
                "spent_after": logged.cap.after, "over_by": logged.cap.over_by},
        })
        return
    if logged.replayed:
        out.print(f"spend {logged.id} (entry {logged.entry_id}) was already logged under this key; nothing new")
        return
    flag = " [bold yellow]FLAGGED OVERSPEND[/] allowed by " + str(logged.allowed_by) if logged.flagged_overspend else ""
    out.print(f"spend {logged.id} (entry {logged.entry_id}): {person} {line} {money(logged.amount)} to "
              f"{logged.supplier}{flag}")
    for stream, part in logged.attributed.parts.items():
        out.print(f"  {stream}: {money(part)}")
    if logged.cap is not None:
        out.print(f"  {logged.cap.reason}")


@spend_app.command("list")
@refusals
@requires(Permission.VIEW_PERSON, person="person")
def spend_list_command(
    person: PersonArg,
    fy: FyOption,
    line: Annotated[str | None, typer.Option(help="Only this plan line")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Spend logged for the person's year: date, line, amount, supplier, evidence, who logged it, flags."""
    rows = spend_list(settings.engine, person, parse_fy(fy), line=line)
    if as_json:
        emit_json([{"id": r.id, "line": r.line, "plan_version": r.version, "date": r.on, "amount": r.amount,
                    "supplier": r.supplier, "evidence": r.evidence, "broker": r.broker,
                    "flagged_overspend": r.flagged_overspend, "allowed_by": r.allowed_by, "entry": r.entry_id,
                    "reversed_by": r.reversed_by} for r in rows])
        return
    table = Table("date", "line", "amount", "supplier", "evidence", "by", "entry", title=f"Spend of {person} {fy}",
                  caption="A reversed spend (ipb reverse ENTRY) no longer counts as actual or against the cap.")
    for r in rows:
        flag = f" [yellow]overspend ({r.allowed_by})[/]" if r.flagged_overspend else ""
        entry = f"{r.entry_id} [dim](reversed by {r.reversed_by})[/]" if r.reversed_by else str(r.entry_id)
        table.add_row(str(r.on), r.line, money(r.amount) + flag, escape(r.supplier), escape(r.evidence), r.broker,
                      entry)
    out.print(table)
