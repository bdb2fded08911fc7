"""The domain's own vocabulary: funders, funding streams, and the rules a budget or pool follows."""

from __future__ import annotations

from enum import StrEnum


class FunderKind(StrEnum):
    ICB = "icb"  # integrated care board: the NHS
    COUNCIL = "council"  # adult social care
    EDUCATION = "education"  # the council's education / SEND budget
    PERSON = "person"  # the person's own contribution
    THIRD_PARTY = "third_party"  # a relative or charity paying a top-up


class Stream(StrEnum):
    NHS_CHC = "nhs-chc"
    NHS_PHB = "nhs-phb"
    S117 = "s117"
    CARE_ACT = "care-act"
    EHC_EDUCATION = "ehc-education"
    PERSONAL_CONTRIBUTION = "personal-contribution"
    THIRD_PARTY_TOPUP = "third-party-topup"
    NHS_FNC = "nhs-fnc"  # NHS-funded nursing care: the ICB pays the nursing home, beside the person's charge

    @property
    def title(self) -> str:
        return STREAM_TITLES[self]

    @property
    def funder_kinds(self) -> frozenset[FunderKind]:
        """Who may fund this stream."""
        return STREAM_FUNDERS[self]


STREAM_TITLES = {
    Stream.NHS_CHC: "NHS Continuing Healthcare",
    Stream.NHS_PHB: "NHS personal health budget",
    Stream.S117: "Section 117 Mental Health Act aftercare",
    Stream.CARE_ACT: "Care Act 2014 social care",
    Stream.EHC_EDUCATION: "EHC plan education element",
    Stream.PERSONAL_CONTRIBUTION: "Personal contribution",
    Stream.THIRD_PARTY_TOPUP: "Third-party top-up",
    Stream.NHS_FNC: "NHS-funded nursing care",
}

STREAM_FUNDERS = {
    Stream.NHS_CHC: frozenset({FunderKind.ICB}),
    Stream.NHS_PHB: frozenset({FunderKind.ICB}),
    # s117 aftercare is a joint duty of the ICB and the council
    Stream.S117: frozenset({FunderKind.ICB, FunderKind.COUNCIL}),
    Stream.CARE_ACT: frozenset({FunderKind.COUNCIL}),
    Stream.EHC_EDUCATION: frozenset({FunderKind.EDUCATION}),
    Stream.PERSONAL_CONTRIBUTION: frozenset({FunderKind.PERSON}),
    Stream.THIRD_PARTY_TOPUP: frozenset({FunderKind.THIRD_PARTY}),
    Stream.NHS_FNC: frozenset({FunderKind.ICB}),
}


class Attribution(StrEnum):
    """How spend that names no stream is shared between a budget's streams."""

    PROPORTIONAL = "proportional"  # in proportion to what each stream has available
    WATERFALL = "waterfall"  # from streams in a set priority order, each until empty


class RiskShare(StrEnum):
    PROPORTIONAL = "proportional"  # in proportion to each partner's contributions
    FIXED = "fixed"  # fixed percentages agreed in the section 75 agreement


class YearEnd(StrEnum):
    RETURN = "return"  # an underspend goes back to the partners
    CARRY_FORWARD = "carry-forward"  # an underspend moves into the next year's pool


class RunStatus(StrEnum):
    """A payment run's life: gathered, approved by a second officer, sent to the bank, settled; or called off."""

    DRAFT = "draft"
    APPROVED = "approved"
    SUBMITTED = "submitted"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    """One payment's life: due, its money held, paid; or failed at the bank, or paid and returned."""

    PENDING = "pending"
    HELD = "held"
    SETTLED = "settled"
    FAILED = "failed"
    RETURNED = "returned"
