"""Assessment files for `ipb assess`: circumstances, finances and an optional top-up, in TOML or JSON.

    [circumstances]
    age = 67
    setting = "own_home"                 # own_home, care_home, nursing_home
    care_act_eligible_needs = true

    [finances]
    on = 2025-06-02                      # the date the charge applies from
    care_type = "non_residential"        # or residential
    weekly_cost_of_care = "350.00"       # money is always a string of pounds, never a bare number
    capital = "18,000.00"
    mig_band = "single_pension_age"
    [[finances.incomes]]
    label = "State pension"
    weekly = "221.20"
    kind = "other"                       # other, earnings or mobility (the last two are disregarded)

    [top_up]                             # optional
    payer = "third_party"
    stream = "care-act"
    chosen_weekly_cost = "950.00"
    usual_weekly_rate = "800.00"
    payer_weekly_means = "200.00"
    payer_agrees_for_duration = true
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ledger.errors import InvalidInput, LedgerError
from ledger.formats.documents import invalid_document, load_mapping
from ledger.money import parse_amount
from ledger.rules.charging import Finances
from ledger.rules.eligibility import Circumstances
from ledger.rules.topups import TopUpRequest

M = TypeVar("M", bound=BaseModel)
MONEY = {"weekly_cost_of_care", "capital", "capital_disregarded", "disability_related_expenditure",
         "housing_costs", "weekly", "chosen_weekly_cost", "usual_weekly_rate", "payer_weekly_means"}


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
        finances = _section(Finances, {**data, "finances": {
            **data["finances"], "chc": circumstances.chc_primary_health_need, "s117": circumstances.s117_aftercare}},
            "finances", path)
    top_up = _section(TopUpRequest, data, "top_up", path) if "top_up" in data else None
    return AssessmentCase(circumstances, finances, top_up)


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
