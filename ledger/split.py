"""Exact apportionment: split an amount of pence by weights so the parts sum to the whole."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import InvalidInput


def split(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` in proportion to non-negative integer `weights` (largest remainder).

    Each part gets the floor of its exact share; the pence left over go one each to the
    parts with the largest remainders, ties to the earlier part. Parts sum to `amount`
    exactly, have the sign of `amount` (or are zero), and a zero weight gets nothing.
    The result depends only on the inputs, never on float rounding.
    """
    if not weights:
        raise InvalidInput("cannot split an amount over no parts")
    if any(not isinstance(w, int) or w < 0 for w in weights):
        raise InvalidInput("split weights must be non-negative whole numbers", weights=list(weights))
    total = sum(weights)
    if total == 0:
        raise InvalidInput("cannot split by weights that are all zero", amount=amount)
    if amount < 0:
        return [-part for part in split(-amount, weights)]
    floors, remainders = [], []
    for weight in weights:
        quotient, remainder = divmod(amount * weight, total)
        floors.append(quotient)
        remainders.append(remainder)
    left = amount - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in by_remainder[:left]:
        floors[index] += 1
    return floors
