"""Plan files: the lines of a care and support plan, as TOML (or JSON by its .json suffix).

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

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ledger.domain import Attribution, Stream
from ledger.errors import InvalidInput, LedgerError
from ledger.formats.documents import load_mapping
from ledger.money import parse_amount
from ledger.rules.plans import Frequency, LineSpec, Mode, Unit, parse_quantity


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
            code=self.code, category=self.category, unit=self.unit, rate=pence(self.rate, "rate"),
            quantity=parse_quantity(self.quantity), frequency=self.frequency, cap=pence(self.cap, "cap"),
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


def pence(text: str, what: str) -> int:
    """A plan's money (a rate, a cap): pounds as typed, never negative."""
    amount = parse_amount(text)
    if amount < 0:
        raise InvalidInput(f"{what} cannot be negative, got {text!r}")
    return amount


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
