"""Direct payment surplus: how much of a DP account is surplus, and who gets it back. Pure.

A council pays a direct payment every 4 weeks in advance into the person's DP account; the person
may also pay their assessed contribution in. A balance above an agreed contingency — a number
of weeks of payments, set per financial year in the rules parameters (`contingency_weeks`) — is
a surplus and is recovered (DOMAIN.md, "Direct payments and their monitoring"):

1. contingency = weekly cost of the DP (gross: the council's part plus the person's contribution,
   since both pay for the care the account funds) x contingency weeks. Whole pence, no division.
2. surplus = balance - contingency, never below 0.
3. The person's over-paid contribution is refunded first: refund = min(surplus, contributions the
   person has paid in and not yet had back).
4. The rest goes back to the funding streams, split in proportion to what each stream has paid into
   the DP account and not yet had back (largest remainder, ledger/split.py), so the parts sum to it
   exactly and no stream gets back more than it paid in. What the streams cannot take (money paid in
   a year before these weights) is `left` in the account and said so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ledger.errors import InvalidInput
from ledger.money import format_amount
from ledger.split import split

RULE = "dp-surplus/1"


@dataclass(frozen=True, slots=True)
class SurplusInput:
    balance: int  # the DP account's balance, pence
    weekly_cost: int  # gross weekly amount of the person's direct payments, pence
    contingency_weeks: int
    contributions_held: int  # the person's own contributions paid in, less refunds
    stream_weights: Mapping[str, int] = field(default_factory=dict)  # stream -> net paid in, pence


@dataclass(frozen=True, slots=True)
class SurplusDecision:
    balance: int
    contingency: int
    surplus: int
    refund: int  # to the person, first
    parts: dict[str, int]  # stream -> pence recovered; only non-zero parts
    left: int  # surplus neither refunded nor recoverable to a stream
    reasons: tuple[str, ...]
    rule: str = RULE

    @property
    def recovered(self) -> int:
        return sum(self.parts.values())


def decide(given: SurplusInput) -> SurplusDecision:
    """The surplus of one DP account and its split; every figure comes with a reason."""
    for name in ("balance", "weekly_cost", "contingency_weeks", "contributions_held"):
        value = getattr(given, name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(f"{name} must be a whole number, got {value!r}")
    if given.weekly_cost < 0 or given.contingency_weeks < 0 or given.contributions_held < 0:
        raise InvalidInput("weekly cost, contingency weeks and contributions cannot be negative")
    if any(w < 0 for w in given.stream_weights.values()):
        raise InvalidInput("what a stream has paid in cannot be negative", weights=dict(given.stream_weights))
    contingency = given.weekly_cost * given.contingency_weeks
    reasons = [
        f"contingency {format_amount(contingency)} = {given.contingency_weeks} weeks x "
        f"{format_amount(given.weekly_cost)} a week",
    ]
    surplus = max(given.balance - contingency, 0)
    if surplus == 0:
        reasons.append(f"balance {format_amount(given.balance)} is within the contingency: no surplus")
        return SurplusDecision(given.balance, contingency, 0, 0, {}, 0, tuple(reasons))
    reasons.append(f"surplus {format_amount(surplus)} = balance {format_amount(given.balance)} - contingency")
    refund = min(surplus, given.contributions_held)
    if refund:
        reasons.append(f"refund {format_amount(refund)} of the person's own contributions first "
                       f"({format_amount(given.contributions_held)} paid in and not refunded)")
    rest = surplus - refund
    weights = {s: w for s, w in sorted(given.stream_weights.items()) if w > 0}
    recoverable = min(rest, sum(weights.values()))
    parts: dict[str, int] = {}
    if recoverable:
        shares = split(recoverable, list(weights.values()))
        parts = {s: p for s, p in zip(weights, shares) if p}
        reasons.append(
            f"recover {format_amount(recoverable)} to the streams in proportion to what each paid in: "
            + ", ".join(f"{s} {format_amount(w)} -> {format_amount(parts.get(s, 0))}" for s, w in weights.items())
        )
    left = rest - recoverable
    if left:
        reasons.append(f"{format_amount(left)} cannot go back to a stream (more than the streams paid in); "
                       "it stays in the account for review")
    return SurplusDecision(given.balance, contingency, surplus, refund, parts, left, tuple(reasons))
