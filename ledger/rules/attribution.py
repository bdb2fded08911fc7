"""Which streams bear money leaving a person's budget, exact to the penny.

Three rules: the stream named on the item; in proportion to what each stream has
available; or a priority waterfall. None takes a stream below zero, and the parts
always sum to the amount; when the budget cannot cover it the refusal carries the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.domain import Attribution, Stream
from ledger.errors import InsufficientFunds, InvalidInput
from ledger.money import format_amount
from ledger.split import split


@dataclass(frozen=True, slots=True)
class Attributed:
    parts: dict[Stream, int]  # stream -> pence it bears; only non-zero parts
    rule: str  # "named", "proportional" or "waterfall"
    reason: str


def attribute(
    amount: int,
    available: Mapping[Stream, int],
    *,
    named: Stream | None = None,
    rule: Attribution = Attribution.PROPORTIONAL,
    priority: Sequence[Stream] = (),
) -> Attributed:
    """Share `amount` (> 0 pence) between streams with the given `available` balances."""
    if amount <= 0:
        raise InvalidInput(f"amount to attribute must be positive, got {format_amount(amount)}", amount=amount)
    if named is not None:
        return _named(amount, available, named)
    total = sum(max(v, 0) for v in available.values())
    if total < amount:
        raise InsufficientFunds(
            f"budget cannot cover {format_amount(amount)}: requested {format_amount(amount)}, available "
            f"{format_amount(total)} ({_describe(available)}), limit 0.00",
            requested=amount,
            available=total,
            limit=0,
            streams={str(s): v for s, v in available.items()},
        )
    if rule is Attribution.WATERFALL:
        return _waterfall(amount, available, priority)
    return _proportional(amount, available)


def _named(amount: int, available: Mapping[Stream, int], stream: Stream) -> Attributed:
    has = available.get(stream)
    if has is None:
        raise InvalidInput(f"the budget has no {stream} stream; it has {', '.join(map(str, available)) or 'none'}",
                           stream=str(stream))
    if has < amount:
        raise InsufficientFunds(
            f"stream {stream} cannot cover {format_amount(amount)}: requested {format_amount(amount)}, "
            f"available {format_amount(has)}, limit 0.00",
            stream=str(stream),
            requested=amount,
            available=has,
            limit=0,
        )
    return Attributed({stream: amount}, "named", f"the item names the {stream} stream")


def _proportional(amount: int, available: Mapping[Stream, int]) -> Attributed:
    streams = [s for s, v in available.items() if v > 0]
    parts = split(amount, [available[s] for s in streams])
    # each part is at most ceil(amount * v / total) <= v because amount <= total: no stream goes below zero
    return Attributed(
        {s: p for s, p in zip(streams, parts) if p},
        "proportional",
        f"shared in proportion to available balances ({_describe(available)})",
    )


def _waterfall(amount: int, available: Mapping[Stream, int], priority: Sequence[Stream]) -> Attributed:
    order = [s for s in priority if s in available] + sorted(s for s in available if s not in priority)
    parts: dict[Stream, int] = {}
    left = amount
    for stream in order:
        take = min(left, max(available[stream], 0))
        if take:
            parts[stream] = take
            left -= take
    return Attributed(parts, "waterfall", f"taken in priority order {' > '.join(map(str, order))}")


def _describe(available: Mapping[Stream, int]) -> str:
    return ", ".join(f"{s} {format_amount(v)}" for s, v in available.items()) or "no streams"
