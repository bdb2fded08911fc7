"""Charging parameters per financial year, loaded from ledger/rules/params/<yyyy>-<yy>.toml.

Every figure carries the document it comes from. A year holds only the figures found in a
source: a year with no file, or a case that needs a figure the year does not hold (say the
couples' MIG), is refused with a clear error naming it. The rules never guess.
"""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from ledger.calendar import financial_year, financial_year_of
from ledger.errors import InvalidInput, LedgerError

PARAMS_DIR = Path(__file__).parent / "params"
T = TypeVar("T")
OPTIONAL_FIGURES = ("personal_expenses_allowance", "fnc_weekly", "fnc_higher_weekly", "savings_credit_disregard_single",
                    "savings_credit_disregard_couple", "contingency_weeks")


class ParamsMissing(LedgerError):
    code = "params_missing"


class MigBand(StrEnum):
    """Minimum Income Guarantee bands for people in their own homes (weekly)."""

    SINGLE_18_24 = "single_18_24"
    SINGLE_25_TO_PENSION_AGE = "single_25_to_pension_age"
    SINGLE_PENSION_AGE = "single_pension_age"
    COUPLE_18_PLUS_EACH = "couple_18_plus_each"
    COUPLE_PENSION_AGE_EACH = "couple_pension_age_each"
    LONE_PARENT_18_PLUS = "lone_parent_18_plus"


class MigPremium(StrEnum):
    DISABILITY_SINGLE = "disability_premium_single"
    DISABILITY_COUPLE_EACH = "disability_premium_couple_each"
    ENHANCED_DISABILITY_SINGLE = "enhanced_disability_premium_single"
    ENHANCED_DISABILITY_COUPLE_EACH = "enhanced_disability_premium_couple_each"
    CARER = "carer_premium"
    CHILD = "child"


class FncRate(StrEnum):
    """NHS-funded nursing care: the single rate since October 2007, or the higher (old high band) rate."""

    STANDARD = "standard"
    HIGHER = "higher"


class Figure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pence: Annotated[StrictInt, Field(ge=0)]
    source: Annotated[str, Field(min_length=10)]


class Count(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: Annotated[StrictInt, Field(gt=0)]
    source: Annotated[str, Field(min_length=10)]


class Capital(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    upper_limit: Figure
    lower_limit: Figure
    tariff_step: Figure  # each step of capital (or part) above the lower limit ...
    tariff_per_step: Figure  # ... counts as this much weekly income


class YearParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    financial_year: str
    weeks_in_year: Count
    capital: Capital
    mig: dict[MigBand, Figure] = {}
    mig_premiums: dict[MigPremium, Figure] = {}
    personal_expenses_allowance: Figure | None = None
    fnc_weekly: Figure | None = None
    fnc_higher_weekly: Figure | None = None
    savings_credit_disregard_single: Figure | None = None
    savings_credit_disregard_couple: Figure | None = None
    contingency_weeks: Count | None = None
    version: str = ""  # "<year>@<sha256 of the file, 12 hex>", filled in on loading

    @property
    def start_year(self) -> int:
        return int(self.financial_year[:4])

    def mig_for(self, band: MigBand) -> Figure:
        return self._held(self.mig.get(band), f"the Minimum Income Guarantee for {band.value}")

    def premium(self, premium: MigPremium) -> Figure:
        return self._held(self.mig_premiums.get(premium), f"the MIG {premium.value.replace('_', ' ')}")

    def pea(self) -> Figure:
        return self._held(self.personal_expenses_allowance, "the Personal Expenses Allowance")

    def fnc(self, rate: FncRate = FncRate.STANDARD) -> Figure:
        if rate is FncRate.HIGHER:
            return self._held(self.fnc_higher_weekly, "the NHS-funded nursing care higher rate")
        return self._held(self.fnc_weekly, "the NHS-funded nursing care rate")

    def savings_credit_disregard(self, couple: bool) -> Figure:
        if couple:
            return self._held(self.savings_credit_disregard_couple, "the savings credit disregard for a couple")
        return self._held(self.savings_credit_disregard_single, "the savings credit disregard for a single person")

    def contingency(self) -> Count:
        return self._held(self.contingency_weeks, "the direct payment contingency (weeks)")

    def held(self) -> list[str]:
        """Names of the optional figures this year holds."""
        names = [f"mig.{b.value}" for b in self.mig] + [f"mig_premiums.{m.value}" for m in self.mig_premiums]
        return names + [n for n in OPTIONAL_FIGURES if getattr(self, n) is not None]

    def _held(self, figure: T | None, what: str) -> T:
        if figure is None:
            raise ParamsMissing(
                f"{what} for {self.financial_year} is not held: ipb found no source publishing it, so it "
                f"will not guess; add it with its source to {params_file(self.start_year).name}",
                financial_year=self.financial_year, figure=what,
            )
        return figure


def params_file(start_year: int) -> Path:
    return PARAMS_DIR / f"{start_year}-{(start_year + 1) % 100:02d}.toml"


@cache
def params_for_year(start_year: int) -> YearParams:
    label = financial_year(start_year).label
    path = params_file(start_year)
    if not path.exists():
        known = ", ".join(financial_year(y).label for y in published_years()) or "none"
        raise ParamsMissing(
            f"no charging parameters for {label}: the figures for that year are not published in a source "
            f"ipb holds, so it will not guess (years held: {known})",
            financial_year=label,
        )
    params = parse_params(path.read_bytes(), path.name)
    if params.financial_year != label:
        raise InvalidInput(f"{path.name} says it is for {params.financial_year}, expected {label}")
    return params


def parse_params(raw: bytes, name: str) -> YearParams:
    """A year's parameters from the bytes of a parameter file (`name` for errors), validated, with its version."""
    try:
        params = YearParams.model_validate(tomllib.loads(raw.decode("utf-8")))
        if params.financial_year != financial_year(params.start_year).label:
            raise ValueError(f"financial_year {params.financial_year!r} is not a year such as 2026/27")
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(part) for part in errors[0]["loc"])
        raise InvalidInput(f"{name}: invalid parameter file: {where}: {errors[0]['msg']}"
                           f"{f' (and {len(errors) - 1} more)' if len(errors) > 1 else ''}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError, LedgerError) as exc:
        first = " ".join(str(exc).split())  # one line
        raise InvalidInput(f"{name}: invalid parameter file: {first}") from None
    return params.model_copy(update={"version": f"{params.financial_year}@{hashlib.sha256(raw).hexdigest()[:12]}"})


def params_for(day: date) -> YearParams:
    """The parameters in force on `day` (by financial year, 1 April to 31 March)."""
    return params_for_year(financial_year_of(day).start.year)


def published_years() -> list[int]:
    return sorted(int(p.stem[:4]) for p in PARAMS_DIR.glob("*.toml"))
