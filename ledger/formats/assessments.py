"""Assessment files for `ipb assess`: circumstances, finances and an optional top-up, in TOML or JSON.

    [circumstances]
    age = 67
    setting = "own_home"                 # own_home, care_home, nursing_home, shared_lives, supported_living
    care_act_eligible_needs = true

    [finances]
    on = 2025-06-02                      # the date the charge applies from
    # aftercare_weekly_cost = "200.00"   # s117 with other eligible needs: the free aftercare part of the cost
    care_type = "non_residential"        # or residential
    weekly_cost_of_care = "350.00"       # money is always a string of pounds, never a bare number
    capital = "18,000.00"
    mig_band = "single_pension_age"      # single_18_24, single_25_to_pension_age, single_pension_age,
                                         # lone_parent_18_plus, couple_18_plus_each, couple_pension_age_each;
                                         # left out, reg. 7 gives it from the age and household where it can
    # mig_premiums = ["carer_premium"]   # disability_premium_single, enhanced_disability_premium_single,
                                         # their _couple_each forms (a couple's band), carer_premium
    # children = 2                       # responsible for and living with: the MIG amount for each child
    # member_of_couple = true            # the couple's savings credit disregard; at home, a couple's band
    # joint_capital = "30,000.00"        # held with a partner: half is the person's
    # fnc = "higher"                     # in a nursing home with nursing needs FNC is "standard" unless
                                         # the person is on the higher (pre-October 2007) rate
    [[finances.incomes]]
    label = "State pension"
    weekly = "221.20"
    kind = "other"                       # other, earnings, mobility (both disregarded) or savings_credit
                                         # (partly disregarded in a care home)
    # joint = true                       # received as one of a couple: half is the person's

    [top_up]                             # optional; never for care in the person's own home
    payer = "third_party"
    stream = "care-act"
    chosen_weekly_cost = "950.00"
    usual_weekly_rate = "800.00"
    payer_weekly_means = "200.00"
    payer_agrees_for_duration = true
    # treated_as_accommodation = true    # shared_lives or supported_living the council's policy treats as such
    [top_up.agreement]                   # required: the written agreement's terms (Choice of Accommodation Regs,
    payer_name = "Ada Lovelace (daughter)"  # reg. 5); its weekly amount is the top-up, to the penny
    weekly_amount = "150.00"
    review_date = 2026-06-01             # after finances.on, and within a year of it
    if_payer_stops = "the council pays the usual rate and reviews the placement with the family"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ledger.errors import InvalidInput, LedgerError
from ledger.formats.documents import invalid_document, load_mapping
from ledger.money import parse_amount
from ledger.rules.charging import CareType, Finances
from ledger.rules.eligibility import Circumstances, Setting
from ledger.rules.mig_bands import mig_band_for
from ledger.rules.params import FncRate
from ledger.rules.topups import TopUpRequest

M = TypeVar("M", bound=BaseModel)
MONEY = {"weekly_cost_of_care", "capital", "capital_disregarded", "disability_related_expenditure",
         "housing_costs", "joint_capital", "weekly", "chosen_weekly_cost", "usual_weekly_rate", "payer_weekly_means",
         "aftercare_weekly_cost", "weekly_amount"}


@dataclass(frozen=True, slots=True)
class AssessmentCase:
    circumstances: Circumstances
    finances: Finances | None
    top_up: TopUpRequest | None


def read_case(path: Path) -> AssessmentCase:
    return case_from(load_mapping(path), path)


def case_from(data: dict[str, Any], path: Path | str) -> AssessmentCase:
    """A case from the mapping a file holds (or flags build); `path` names where it came from."""
    unknown = set(data) - {"circumstances", "finances", "top_up"}
    if unknown or "circumstances" not in data:
        raise InvalidInput(f"{path}: expects [circumstances], optional [finances] and [top_up]; "
                           f"found {sorted(data)}", file=str(path))
    data = _pounds_to_pence(data, path, "")
    circumstances = _section(Circumstances, data, "circumstances", path)
    finances = None
    if "finances" in data:
        _aftercare_part(circumstances, data["finances"], path)
        finances = _section(Finances, {**data, "finances": {
            **_with_mig_band(circumstances, data["finances"], path), "chc": circumstances.chc_primary_health_need,
            "s117": circumstances.s117_aftercare,
            "fnc": _nursing_care(data["finances"], circumstances, path)}}, "finances", path)
    top_up = _top_up(data["top_up"], circumstances, finances, path) if "top_up" in data else None
    return AssessmentCase(circumstances, finances, top_up)


def _aftercare_part(c: Circumstances, finances: Any, path: Path | str) -> None:
    """With s117 aftercare and other eligible needs, the file must say which part of the cost is aftercare."""
    both = c.s117_aftercare and c.care_act_eligible_needs and not c.chc_primary_health_need
    if both and isinstance(finances, dict) and "aftercare_weekly_cost" not in finances:
        raise InvalidInput(f"{path}: finances.aftercare_weekly_cost: s117 aftercare and other eligible needs: say "
                           f"which part of the weekly cost of care meets aftercare needs (free); the rest is charged "
                           f"as usual", file=str(path), field="finances.aftercare_weekly_cost")


class _Household(BaseModel):
    """What decides a MIG band besides age, read ahead of the whole section (whose validation names any error)."""

    model_config = ConfigDict(extra="ignore")
    on: date
    care_type: CareType = CareType.NON_RESIDENTIAL
    member_of_couple: bool = False
    children: int = 0


def _with_mig_band(c: Circumstances, finances: Any, path: Path | str) -> Any:
    """`finances` with the MIG band reg. 7 gives the person's age and household (ledger/rules/mig_bands.py) where it
    names none; as it is where the band is never used (residential care, CHC, s117 aftercare alone)."""
    if not isinstance(finances, dict) or "mig_band" in finances:
        return finances
    try:
        household = _Household.model_validate(finances)
    except ValidationError:
        return finances  # the section's own validation says what is wrong
    free = c.chc_primary_health_need or (c.s117_aftercare and not c.care_act_eligible_needs)
    if household.care_type is CareType.RESIDENTIAL or free:
        return finances
    try:
        band = mig_band_for(c.age, household.on, couple=household.member_of_couple, children=household.children)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.reason}", file=str(path), **exc.details) from None
    return {**finances, "mig_band": str(band)}


def _top_up(section: Any, c: Circumstances, finances: Finances | None, path: Path | str) -> TopUpRequest:
    """A top-up with its written agreement (Choice of Accommodation Regulations 2014, reg. 5), in the case's
    setting; the agreement is reviewed after the date the charge applies from, and within a year of it."""
    if not isinstance(section, dict) or "setting" in section:
        raise InvalidInput(f"{path}: [top_up] is a table, and its setting is circumstances.setting",
                           file=str(path), field="top_up")
    if "agreement" not in section:
        raise InvalidInput(f"{path}: top_up.agreement: a top-up needs its written agreement: payer_name, "
                           f"weekly_amount, review_date, if_payer_stops (Choice of Accommodation Regulations 2014, "
                           f"reg. 5)", file=str(path), field="top_up.agreement")
    if finances is None:
        raise InvalidInput(f"{path}: [top_up] needs [finances]: the date the charge applies from dates the "
                           f"agreement", file=str(path), field="top_up")
    request = _section(TopUpRequest, {"top_up": {**section, "setting": c.setting}}, "top_up", path)
    review, start = request.agreement.review_date, finances.on  # type: ignore[union-attr]
    if not start < review <= _a_year_after(start):
        raise InvalidInput(f"{path}: top_up.agreement.review_date: {review} is not after {start} (the date the "
                           f"charge applies from) and within a year of it", file=str(path),
                           field="top_up.agreement.review_date")
    return request


def _a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


def _nursing_care(finances: dict[str, Any], c: Circumstances, path: Path | str) -> Any:
    """The FNC rate: standard for nursing needs in a nursing home unless the file says "higher"; else none."""
    receives = c.setting is Setting.NURSING_HOME and c.nursing_needs and not c.chc_primary_health_need
    given = finances.get("fnc")
    if given is not None and not receives:
        raise InvalidInput(f"{path}: finances.fnc: NHS-funded nursing care is paid only for nursing needs in a "
                           f"nursing home (setting = \"nursing_home\", nursing_needs = true, no CHC)",
                           field="finances.fnc")
    return given if given is not None else FncRate.STANDARD.value if receives else None


def _section(model: type[M], data: dict[str, Any], name: str, path: Path | str) -> M:
    try:
        return model.model_validate(data[name])
    except ValidationError as exc:
        raise invalid_document(path, exc, name) from None


def _pounds_to_pence(value: Any, path: Path | str, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _convert(k, v, path, f"{where}.{k}".lstrip(".")) for k, v in value.items()}
    if isinstance(value, list):
        return [_pounds_to_pence(v, path, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _convert(key: str, value: Any, path: Path | str, where: str) -> Any:
    if key not in MONEY:
        return _pounds_to_pence(value, path, where)
    if not isinstance(value, str):
        raise InvalidInput(f"{path}: {where}: write money as a string of pounds, e.g. \"350.00\"", field=where)
    try:
        return parse_amount(value)
    except LedgerError as exc:
        raise InvalidInput(f"{path}: {where}: {exc.reason}", field=where) from None
