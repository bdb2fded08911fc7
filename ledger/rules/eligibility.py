"""Who pays for each need, and whether the person may be charged. Pure; every decision gives reasons.

The order matters and follows the law: NHS Continuing Healthcare funds the whole package
where there is a primary health need; otherwise section 117 aftercare covers the
mental-health aftercare needs, free of charge; otherwise the council meets eligible needs
under the Care Act, charging by means test; NHS-funded nursing care, an NHS personal health
budget and an EHC plan's education element sit beside these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ledger.domain import FunderKind, Stream

CHC_FRAMEWORK = "National Framework for NHS Continuing Healthcare and NHS-funded Nursing Care (DHSC, 2022)"
CARE_ACT_S22 = "Care Act 2014, s.22 (a council may not meet needs the NHS must meet)"
CARE_ACT_S14 = "Care Act 2014, s.14 and s.17 (charging after a financial assessment)"
CHARGING_GUIDANCE = "Care and Support Statutory Guidance, chapter 8 (charging and financial assessment)"
CARE_ACT_S18 = "Care Act 2014, s.18 and the Care and Support (Eligibility Criteria) Regulations 2015"
MHA_S117 = "Mental Health Act 1983, s.117 (aftercare: a joint duty of the ICB and the council; no charge)"
FNC_S22 = "Care Act 2014, s.22(8) and the National Framework (NHS-funded nursing care paid to the home)"
PHB_REGS = "National Health Service (Direct Payments) Regulations 2013 and the PHB guidance"
CFA_S49 = "Children and Families Act 2014, s.37 and s.49 (EHC plans to age 25; personal budgets)"


class Setting(StrEnum):
    OWN_HOME = "own_home"
    CARE_HOME = "care_home"
    NURSING_HOME = "nursing_home"
    SHARED_LIVES = "shared_lives"
    SUPPORTED_LIVING = "supported_living"


class Circumstances(BaseModel):
    """What the assessments found. Flags are findings of the relevant assessment, not guesses."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    age: int = Field(ge=0, le=130)
    setting: Setting = Setting.OWN_HOME
    chc_primary_health_need: bool = False  # CHC assessment found a primary health need
    s117_aftercare: bool = False  # detained under s.3, 37, 45A, 47 or 48 and now discharged
    care_act_eligible_needs: bool = False  # meets the national eligibility criteria
    health_needs_phb: bool = False  # NHS health needs agreed for a personal health budget
    ehc_plan: bool = False  # has an Education, Health and Care plan
    nursing_needs: bool = False  # registered-nurse care needed in a nursing home


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    authority: str


@dataclass(frozen=True, slots=True)
class Funding:
    need: str
    stream: Stream | None  # None: paid outside the person's budget (e.g. FNC to the home)
    funder: FunderKind
    chargeable: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Eligibility:
    funding: tuple[Funding, ...]
    chargeable: bool  # may the person be charged for anything (subject to the means test)?
    reasons: tuple[Reason, ...] = field(default=())


def decide(c: Circumstances) -> Eligibility:
    funding: list[Funding] = []
    if c.chc_primary_health_need:
        funding.append(Funding("whole assessed package of care", Stream.NHS_CHC, FunderKind.ICB, False, (
            Reason("a primary health need was found, so the NHS funds the whole package, free at the point of use",
                   CHC_FRAMEWORK),
            Reason("the council may not provide or charge for what the NHS must provide", CARE_ACT_S22),
        )))
        funding += _education(c)
        return Eligibility(tuple(funding), False, (Reason("NHS Continuing Healthcare is never charged for",
                                                          CHC_FRAMEWORK),))
    if c.s117_aftercare:
        funding.append(Funding("mental health aftercare needs", Stream.S117, FunderKind.ICB, False, (
            Reason("section 117 aftercare is jointly funded by the ICB and the council and is free", MHA_S117),
        )))
    if c.care_act_eligible_needs:
        funding.append(_care_act(c.s117_aftercare))
    if c.setting is Setting.NURSING_HOME and c.nursing_needs:
        funding.append(Funding("registered nursing care in a nursing home", None, FunderKind.ICB, False, (
            Reason("NHS-funded nursing care is paid by the ICB straight to the home at the national weekly rate",
                   FNC_S22),
        )))
    if c.health_needs_phb:
        funding.append(Funding("agreed health needs", Stream.NHS_PHB, FunderKind.ICB, False, (
            Reason("NHS care is free; a personal health budget cannot be charged for or topped up by the person",
                   PHB_REGS),
        )))
    funding += _education(c)
    chargeable = any(f.chargeable for f in funding)
    summary = [Reason("only Care Act social care may be charged for, and only after a financial assessment",
                      CARE_ACT_S14)]
    if c.ehc_plan and c.age > 25:
        summary.append(Reason(f"an EHC plan ends by age 25; at {c.age} it funds nothing", CFA_S49))
    return Eligibility(tuple(funding), chargeable, tuple(summary))


def _care_act(beside_aftercare: bool) -> Funding:
    """Eligible needs the council meets under the Care Act, charged by means test, even beside s117 aftercare:
    only the needs arising from the mental disorder are aftercare and free."""
    reasons = [Reason("needs meet the national eligibility criteria, so the council must meet them", CARE_ACT_S18),
               Reason("the person may be charged after a financial assessment", CARE_ACT_S14)]
    if beside_aftercare:
        reasons.append(Reason("these needs do not arise from the mental disorder, so they are not aftercare and are "
                              "charged as usual; only the aftercare part is free", CHARGING_GUIDANCE))
    need = "other eligible care and support needs" if beside_aftercare else "eligible care and support needs"
    return Funding(need, Stream.CARE_ACT, FunderKind.COUNCIL, True, tuple(reasons))


def _education(c: Circumstances) -> list[Funding]:
    if not c.ehc_plan or c.age > 25:
        return []
    return [Funding("special educational provision in the EHC plan", Stream.EHC_EDUCATION, FunderKind.EDUCATION,
                    False, (Reason("an EHC plan can include a personal budget with an education element; "
                                   "special educational provision is not charged for", CFA_S49),))]
