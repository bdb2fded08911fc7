"""Top-ups: who may pay more than the council's usual rate for preferred accommodation. Pure.

A top-up is only ever the difference between the chosen accommodation's cost and the
usual rate for meeting the person's needs; it is not part of the means-tested charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ledger.domain import Stream
from ledger.money import format_amount
from ledger.rules.eligibility import Reason

CHOICE_REGS = "Care and Support and Aftercare (Choice of Accommodation) Regulations 2014"
CHOICE_REG_5 = f"{CHOICE_REGS}, reg. 5 (additional cost paid by a third party, who must be able to afford it)"
CHOICE_REG_4 = f"{CHOICE_REGS}, reg. 4 (first-party top-up: 12-week property disregard or deferred payment only)"
S117_TOPUP = f"Mental Health Act 1983, s.117A and {CHOICE_REGS}, Part 2 (aftercare: the person may top up)"
PHB_NO_TOPUP = "National Health Service (Direct Payments) Regulations 2013; NHS care cannot be topped up"
Pence = Annotated[StrictInt, Field(ge=0)]


class Payer(StrEnum):
    THIRD_PARTY = "third_party"
    PERSON = "person"


class TopUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    payer: Payer
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


def decide_top_up(r: TopUpRequest) -> TopUpDecision:
    if r.stream in (Stream.NHS_PHB, Stream.NHS_CHC):
        return _refuse(f"an NHS-funded ({r.stream}) budget cannot be topped up by anyone", PHB_NO_TOPUP)
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
