"""The chart of accounts: every account code ipb makes, built and read back here and nowhere else,
and the kinds of entry that move money between them.

An account code is a colon path of parts (letters, digits, '.', '_', '-'), like
`person:P0001:2025-26:s117:available`. The accounts ipb opens for itself:

  funder:F:funding                     equity   a funder's money allocated straight to budgets
  pool:X:unallocated                   asset    money in section 75 pool X not yet allocated; never below
                                                zero unless the pool allows overspend
  pool:X:partner:F:contributions       equity   what partner F paid into pool X
  pool:X:partner:F:risk-share          equity   F's part of X's year-end over- (credit) or underspend (debit)
  pool:X:partner:F:received            equity   cash partner F paid into the council's paying accounts for
                                                its contributions to X (never more than it contributed)
  funder:F:received                    equity   cash funder F paid into the council's paying accounts for
                                                the budgets it funds directly (never more than its funding)
  person:P:<fy>:S:available            asset    stream S of person P's budget for a financial year (<fy> is
                                                2025-26): allocated, not yet spent or recovered; never below zero
  person:P:<fy>:S:spent                expense  what stream S has paid for
  person:P:dp-account                  asset    P's direct payment account as the council knows it; never
                                                below zero
  person:P:dp-spent                    expense  what P reports spending from the DP account
  person:P:dp-contributions            equity   P's own contributions paid into the DP account, less refunds
  bank:C                               asset    the council's paying account C: funders' receipts debit it,
                                                payments credit it
  provider:C:paid                      expense  cash paid to provider C

Officers may open other accounts by hand (`ipb account open`) under any code `is_valid` accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from ledger.domain import Stream

LEDGER_START = date(2000, 1, 1)  # opening date of the accounts the ledger makes for itself (funders, banks, ...)
MAX_CODE = 200  # the accounts table holds codes of up to 200 characters
POOL_SOURCE = "pool:"  # an allocation's source: a funder code, or pool:<code>
FUNDER_SOURCE = "funder:"  # ... and a funder may be named funder:<code> too

_CODE = re.compile(r"[A-Za-z0-9_.\-]+(?::[A-Za-z0-9_.\-]+)*")


class EntryKind(StrEnum):
    """What an entry is for. Reports sort movements into columns by kind; reconcile checks which kinds may
    touch which accounts. A reversal keeps the kind of the entry it reverses."""

    MANUAL = "manual"  # posted by hand: `ipb post`
    ALLOCATION = "allocation"  # funder or pool -> a budget stream (negative: a reduction)
    SPEND = "spend"  # logged against a budget or plan line
    PAYMENT = "payment"  # paid out of a budget by a payment run (and a DP surplus paid back into it)
    RECOVERY = "recovery"  # unspent budget returned to the funders it came from
    CONTRIBUTION = "contribution"  # a partner pays into a pool
    POOL_YEAR_END = "pool-year-end"  # a pool's risk share of its over- or underspend
    DP_SPEND = "dp-spend"  # what a person reports spending from their DP account
    DP_CONTRIBUTION = "dp-contribution"  # a person's own contribution paid into their DP account
    DP_REFUND = "dp-refund"  # an over-paid contribution refunded to the person
    RECEIPT = "receipt"  # cash a funder pays into a council paying account (a pool contribution or drawdown)


ENTRY_KINDS = frozenset(kind.value for kind in EntryKind)  # the kinds as another ledger's files write them


# --- the grammar of codes ----------------------------------------------------------


def is_valid(code: str) -> bool:
    return len(code) <= MAX_CODE and _CODE.fullmatch(code) is not None


def join(*parts: str) -> str:
    return ":".join(parts)


def parts(code: str) -> list[str]:
    return code.split(":")


def fy_tag(fy: int) -> str:
    """The part of a budget account naming its financial year: 2025 -> "2025-26"."""
    return f"{fy}-{(fy + 1) % 100:02d}"


# --- funders and pools -------------------------------------------------------------


def funding(funder: str) -> str:
    return join("funder", funder, "funding")


def pool_unallocated(pool: str) -> str:
    return join("pool", pool, "unallocated")


def pool_contributions(pool: str, partner: str) -> str:
    return join("pool", pool, "partner", partner, "contributions")


def pool_risk_share(pool: str, partner: str) -> str:
    return join("pool", pool, "partner", partner, "risk-share")


def pool_received(pool: str, partner: str) -> str:
    return join("pool", pool, "partner", partner, "received")


def funder_received(funder: str) -> str:
    return join("funder", funder, "received")


def pool_partner_accounts(pool: str, partners: Iterable[str]) -> list[str]:
    """Each partner's contributions and risk-share accounts, partner by partner (the pool's equity; the cash
    a partner paid in, `pool_received`, is the bank's side and not counted here)."""
    return [code for p in partners for code in (pool_contributions(pool, p), pool_risk_share(pool, p))]


def pool_source(pool: str) -> str:
    """How an allocation names pool `pool` as its source."""
    return POOL_SOURCE + pool


def funding_source(text: str) -> str:
    """An allocation source as the ledger stores it: a funder's code, or pool:<code>. `funder:council` names
    the funder council too, as `pool:` names a pool, so either spelling may be typed."""
    return text.removeprefix(FUNDER_SOURCE)


def source_pool(source: str) -> str | None:
    """The pool an allocation source names (`pool:<code>`), or None when it names a funder."""
    return source.removeprefix(POOL_SOURCE) if source.startswith(POOL_SOURCE) else None


# --- people's budgets and direct payments --------------------------------------------


def stream_available(person: str, fy: int, stream: Stream) -> str:
    return join("person", person, fy_tag(fy), str(stream), "available")


def stream_spent(person: str, fy: int, stream: Stream) -> str:
    return join("person", person, fy_tag(fy), str(stream), "spent")


def person_accounts(person: str) -> str:
    """How every account code of person `person` starts (their budget streams and direct payment accounts)."""
    return join("person", person, "")


def dp_account(person: str) -> str:
    return join("person", person, "dp-account")


def dp_spent(person: str) -> str:
    return join("person", person, "dp-spent")


def dp_contributions(person: str) -> str:
    return join("person", person, "dp-contributions")


# --- cash ---------------------------------------------------------------------------


def bank(code: str) -> str:
    return join("bank", code)


def provider_paid(code: str) -> str:
    return join("provider", code, "paid")
