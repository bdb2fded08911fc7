"""Top-ups: who may pay more than the council's usual rate for preferred accommodation. Pure.

A top-up is only ever the difference between the chosen accommodation's cost and the
usual rate for meeting the person's needs; it is not part of the means-tested charge. It is only for
preferred accommodation (never care in the person's own home), and it rests on a written agreement
whose weekly amount is the top-up to the penny.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ledger.domain import Stream
from ledger.money import format_amount
from ledger.rules.eligibility import Reason, Setting

CHOICE_REGS = "Care and Support and Aftercare (Choice of Accommodation) Regulations 2014"
CHOICE_SETTINGS = (f"{CHOICE_REGS} (SI 2014/2670): the choice, and so a top-up, is of accommodation: a care home, "
                   "or shared lives or supported living accommodation")
CHOICE_REG_5_AGREEMENT = (f"{CHOICE_REGS}, reg. 5 (the written agreement: the additional cost, review, and what "
                          "happens if payments stop)")
CHOICE_REG_5 = f"{CHOICE_REGS}, reg. 5 (additional cost paid by a third party, who must be able to afford it)"
CHOICE_REG_4 = f"{CHOICE_REGS}, reg. 4 (first-party top-up: 12-week property disregard or deferred payment only)"
S117_TOPUP = f"Mental Health Act 1983, s.117A and {CHOICE_REGS}, Part 2 (aftercare: the person may top up)"
PHB_NO_TOPUP = "National Health Service (Direct Payments) Regulations 2013; NHS care cannot be topped up"
Pence = Annotated[StrictInt, Field(ge=0)]
ACCOMMODATION = frozenset({Setting.CARE_HOME, Setting.NURSING_HOME})
BY_POLICY = frozenset({Setting.SHARED_LIVES, Setting.SUPPORTED_LIVING})
Text = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


class Payer(StrEnum):
    THIRD_PARTY = "third_party"
    PERSON = "person"


class TopUpAgreement(BaseModel):
    """The written agreement's terms (reg. 5): who pays, how much a week, when it is reviewed, and what happens
    if the payer stops paying."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    payer_name: Text
    weekly_amount: Annotated[StrictInt, Field(gt=0)]  # pence
    review_date: date
    if_payer_stops: Text

    def terms(self) -> tuple[tuple[str, str], ...]:
        """The terms as (name, value) pairs, for an explanation and for entry meta."""
        return (("payer", self.payer_name), ("weekly_amount", str(self.weekly_amount)),
                ("review_date", self.review_date.isoformat()), ("if_payer_stops", self.if_payer_stops))


class TopUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    payer: Payer
    setting: Setting = Setting.CARE_HOME  # where the person's needs are met
    treated_as_accommodation: bool = False  # shared lives or supported living: the council's policy says so
    agreement: TopUpAgreement | None = None
    stream: Stream  # the stream that meets the need being topped up
    chosen_weekly_cost: Pence
    usual_weekly_rate: Pence  # the council's (or ICB's, for s117) usual cost of meeting the need
    payer_weekly_means: Pence = 0  # third party: weekly amount they can afford to give
    payer_agrees_for_duration: bool = False  # ... for as long as the placement is needed
    property_disregard_12_weeks: bool = False
    deferred_payment_agreement: bool = False


@dataclass(frozen=True, slots=True)
class TopUpDecision:
    allowed: bool
    weekly: int  # the top-up in pence a week (0 when refused or not needed)
    reasons: tuple[Reason, ...]
    agreement: tuple[tuple[str, str], ...] = ()  # the written agreement's terms, when allowed


def decide_top_up(r: TopUpRequest) -> TopUpDecision:
    if r.stream in (Stream.NHS_PHB, Stream.NHS_CHC):
        return _refuse(f"an NHS-funded ({r.stream}) budget cannot be topped up by anyone", PHB_NO_TOPUP)
    if r.setting not in ACCOMMODATION and not (r.setting in BY_POLICY and r.treated_as_accommodation):
        where = "care in the person's own home" if r.setting is Setting.OWN_HOME else \
            f"{r.setting.value.replace('_', ' ')} the council's policy does not treat as accommodation"
        return _refuse(f"a top-up is only for preferred accommodation, not for {where}", CHOICE_SETTINGS)
    decision = _by_payer(r)
    if decision.allowed and r.agreement is not None and r.agreement.weekly_amount != decision.weekly:
        return _refuse(f"the written agreement says £{format_amount(r.agreement.weekly_amount)} a week, but the "
                       f"top-up is £{format_amount(decision.weekly)} a week", CHOICE_REG_5_AGREEMENT)
    if decision.allowed and r.agreement is not None:
        return replace(decision, agreement=r.agreement.terms())
    return decision


def _by_payer(r: TopUpRequest) -> TopUpDecision:
    difference = r.chosen_weekly_cost - r.usual_weekly_rate
    if difference <= 0:
        return TopUpDecision(False, 0, (Reason(
            f"no top-up is needed: the chosen cost £{format_amount(r.chosen_weekly_cost)} is within the usual rate "
            f"£{format_amount(r.usual_weekly_rate)}", CHOICE_REGS),))
    what = f"the difference £{format_amount(difference)} a week between the chosen cost and the usual rate"
    if r.payer is Payer.THIRD_PARTY:
        if r.stream is Stream.PERSONAL_CONTRIBUTION:
            return _refuse("a top-up tops up the council's arrangement, not the person's contribution", CHOICE_REGS)
        if r.payer_weekly_means < difference or not r.payer_agrees_for_duration:
            return _refuse(
                f"the third party cannot be shown to afford {what} for as long as it is needed "
                f"(means £{format_amount(r.payer_weekly_means)} a week, agrees for duration: "
                f"{'yes' if r.payer_agrees_for_duration else 'no'})", CHOICE_REG_5)
        return TopUpDecision(True, difference, (Reason(f"a third party may pay {what}", CHOICE_REG_5),))
    if r.stream is Stream.S117:
        return TopUpDecision(True, difference, (Reason(f"for s117 aftercare the person may pay {what}",
                                                       S117_TOPUP),))
    if r.property_disregard_12_weeks or r.deferred_payment_agreement:
        case = "the 12-week property disregard" if r.property_disregard_12_weeks else "a deferred payment agreement"
        return TopUpDecision(True, difference, (Reason(f"during {case} the person may pay {what}", CHOICE_REG_4),))
    return _refuse("the person may top up only during the 12-week property disregard, under a deferred payment "
                   "agreement, or for s117 aftercare", CHOICE_REG_4)


def _refuse(text: str, authority: str) -> TopUpDecision:
    return TopUpDecision(False, 0, (Reason(text, authority),))
