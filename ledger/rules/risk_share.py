"""Section 75 risk share: each partner's part of a pool's year-end over- or underspend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ledger.domain import RiskShare
from ledger.errors import InvalidInput
from ledger.split import split

WHOLE = 10_000  # fixed shares are in basis points: 10,000 is 100%


@dataclass(frozen=True, slots=True)
class Shares:
    parts: dict[str, int]  # partner -> pence (same sign as the amount shared)
    reason: str


def share(
    amount: int,
    rule: RiskShare,
    contributions: Mapping[str, int],
    fixed_bp: Mapping[str, int] | None = None,
) -> Shares:
    """Split `amount` between partners by the pool's rule; the parts sum to `amount` exactly."""
    partners = sorted(contributions)
    if not partners:
        raise InvalidInput("a pool needs at least one partner to share its over- or underspend")
    if rule is RiskShare.FIXED:
        shares = fixed_bp or {}
        if sorted(shares) != partners or sum(shares.values()) != WHOLE:
            raise InvalidInput(
                f"fixed risk shares must name every partner and add up to 100%; got {dict(shares)}",
                shares=dict(shares),
            )
        weights = [shares[p] for p in partners]
        reason = "fixed shares " + ", ".join(f"{p} {shares[p] // 100}.{shares[p] % 100:02d}%" for p in partners)
    else:
        weights = [contributions[p] for p in partners]
        if sum(weights) <= 0 and amount:  # nothing over or under: nothing to share, even in an empty pool
            raise InvalidInput("no partner has contributed, so there is nothing to share in proportion to")
        reason = "in proportion to contributions"
    parts = split(amount, weights) if amount else [0] * len(partners)
    return Shares(dict(zip(partners, parts)), reason)
