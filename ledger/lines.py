"""The lines one entry makes of another's: a reversal's mirror image, a hold's size, and the part of a hold that
is posted, split exactly across its legs. Pure, like the rules in ledger/journal.py that check them."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import InvalidInput
from ledger.journal import Line
from ledger.money import format_amount
from ledger.split import split


def reversal_lines(lines: Sequence[Line]) -> tuple[Line, ...]:
    return tuple(Line(line.account, -line.amount, line.currency) for line in lines)


def hold_total(lines: Sequence[Line]) -> int:
    """The size of a hold: the sum of its debit postings."""
    return sum(line.amount for line in lines if line.amount > 0)


def partial_lines(lines: Sequence[Line], amount: int) -> tuple[Line, ...]:
    """The postings of a hold posted for `amount` of its total, split exactly across its legs."""
    total = hold_total(lines)
    if not 0 < amount <= total:
        raise InvalidInput(
            f"a hold of {format_amount(total)} can be posted for more than 0.00 and at most "
            f"{format_amount(total)}; asked for {format_amount(amount)}",
            requested=amount,
            available=total,
        )
    debit_parts = iter(split(amount, [line.amount for line in lines if line.amount > 0]))
    credit_parts = iter(split(amount, [-line.amount for line in lines if line.amount < 0]))
    out = []
    for line in lines:
        part = next(debit_parts) if line.amount > 0 else -next(credit_parts)
        if part:
            out.append(Line(line.account, part, line.currency))
    return tuple(out)
