"""Exports an auditor can check with independent tools: an hledger journal and a Beancount file.

A period's export holds the opening balance of every account as of the period start (one
entry dated the first day: the trial balance sums to zero per currency, so it balances by
itself and needs no equity plug), then every posted entry effective in the period, in id
order. Holds move no balance and are left out. So each tool's balances at the end equal
ipb's trial balance at the period end, account for account.

Account names: root by type (Assets, Liabilities, Equity, Income, Expenses), then the ipb
code's parts, each starting with a capital, '_' and '.' turned into '-'. That satisfies
Beancount's component rule (a capital or digit, then letters, digits, '-') and reads the
same in hledger. Two codes that would map to one name both get a short hash of their code,
so the mapping is deterministic and one to one. The ipb code is kept beside each name
(Beancount metadata `ipb-code`, an hledger comment) and each entry carries its id and hash.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, func, select

from ledger.calendar import Period
from ledger.journal import AccountType, Line
from ledger.models import accounts, journal_entries, postings
from ledger.money import decimal_text, minor_digits
from ledger.storage import reads
from ledger.storage.engine import reading
from ledger.storage.reads import ChainHead, chain_head

ROOTS = {
    AccountType.ASSET: ("Assets", "A"),
    AccountType.LIABILITY: ("Liabilities", "L"),
    AccountType.EQUITY: ("Equity", "E"),
    AccountType.INCOME: ("Income", "R"),  # hledger calls income "revenue"
    AccountType.EXPENSE: ("Expenses", "X"),
}


@dataclass(frozen=True, slots=True)
class ExportAccount:
    code: str  # ipb's
    name: str  # the tools'
    type: AccountType
    currency: str
    opened_on: date
    opening: int  # signed pence at the period start


@dataclass(frozen=True, slots=True)
class ExportEntry:
    id: int
    hash: str
    effective_date: date
    kind: str
    memo: str
    reverses: int | None
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class ExportData:
    period: Period
    head: ChainHead
    accounts: tuple[ExportAccount, ...]
    entries: tuple[ExportEntry, ...]

    def closing(self) -> dict[str, int]:
        """ipb code -> signed balance at the period end, as the export implies it."""
        out = {a.code: a.opening for a in self.accounts}
        for entry in self.entries:
            for line in entry.lines:
                out[line.account] += line.amount
        return out


def _component(part: str) -> str:
    part = re.sub(r"[^A-Za-z0-9-]", "-", part)
    return part[:1].upper() + part[1:]


def account_names(codes: dict[str, AccountType]) -> dict[str, str]:
    """ipb code -> a name valid in both Beancount and hledger, deterministic and one to one."""
    plain = {code: ":".join([ROOTS[kind][0], *map(_component, code.split(":"))]) for code, kind in codes.items()}
    seen: dict[str, list[str]] = defaultdict(list)
    for code, name in plain.items():
        seen[name.lower()].append(code)  # hledger matches case-sensitively, but keep them apart regardless
    for clashing in (codes_ for codes_ in seen.values() if len(codes_) > 1):
        for code in clashing:
            plain[code] += "-H" + hashlib.sha256(code.encode()).hexdigest()[:8]
    return plain


def export_data(engine: Engine, period: Period) -> ExportData:
    with reading(engine) as conn, conn.begin():
        head = chain_head(conn)
        account_rows = conn.execute(select(accounts.c.id, accounts.c.code, accounts.c.type, accounts.c.currency,
                                           accounts.c.opened_on).order_by(accounts.c.code)).all()
        opening = dict(conn.execute(
            select(postings.c.account_id, func.sum(postings.c.amount))
            .where(postings.c.pending.is_(False), postings.c.effective_date < period.start)
            .group_by(postings.c.account_id)).all())
        ids = [row.id for row in conn.execute(
            select(journal_entries.c.id)
            .where(journal_entries.c.effective_date.between(period.start, period.end),
                   journal_entries.c.phase != "pending")  # a hold moves nothing; its post or void entry may
            .order_by(journal_entries.c.id))]
        entries = []
        for part in reads.chunks(ids):
            for entry in reads.load_entries(conn, part).values():
                if entry.lines:  # a void has none
                    entries.append((entry, entry.lines))
        hashes = dict(conn.execute(select(journal_entries.c.id, journal_entries.c.hash).where(
            journal_entries.c.effective_date.between(period.start, period.end))).all())
    used = {line.account for _, lines in entries for line in lines}
    rows = [r for r in account_rows if r.opened_on <= period.end or r.code in used or opening.get(r.id)]
    names = account_names({r.code: AccountType(r.type) for r in rows})
    out_accounts = tuple(ExportAccount(r.code, names[r.code], AccountType(r.type), r.currency, r.opened_on,
                                       int(opening.get(r.id, 0))) for r in rows)
    out_entries = tuple(ExportEntry(e.id, hashes[e.id], e.effective_date, e.kind, e.memo, e.reverses, lines)
                        for e, lines in sorted(entries, key=lambda item: (item[0].effective_date, item[0].id)))
    return ExportData(period, head, out_accounts, out_entries)


# --- text ----------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _opening_lines(data: ExportData) -> list[ExportAccount]:
    return [a for a in data.accounts if a.opening]


def _header(data: ExportData, comment: str) -> list[str]:
    return [
        f"{comment} ipb export of {data.period.label} ({data.period.start} to {data.period.end})",
        f"{comment} produced at chain head {data.head.token}",
        f"{comment} prove it unchanged with: ipb audit verify --at {data.head.token}",
        f"{comment} opening balances as of {data.period.start}, then every posted entry of the period",
        "",
    ]


def to_hledger(data: ExportData) -> str:
    """An hledger journal: commodity and typed account declarations, then the transactions.

    `hledger check --strict` accepts it (every account and commodity is declared).
    """
    names = {a.code: a.name for a in data.accounts}
    currencies = sorted({a.currency for a in data.accounts})
    out = _header(data, ";")
    for currency in currencies:
        sample = decimal_text(100000, currency)
        out.append(f"commodity {sample} {currency}")
    out.append("")
    for kind, (root, letter) in ROOTS.items():
        out.append(f"account {root}  ; type: {letter}")
    for account in data.accounts:
        out.append(f"account {account.name}  ; ipb-code: {account.code}")
    out.append("")

    def amount(pence: int, currency: str) -> str:
        return f"{decimal_text(pence, currency)} {currency}"

    opening = _opening_lines(data)
    if opening:
        out.append(f"{data.period.start.isoformat()} * opening balances  ; ipb-opening: {data.period.start}")
        out += [f"    {a.name}  {amount(a.opening, a.currency)}" for a in opening]
        out.append("")
    for entry in data.entries:
        memo = _one_line(entry.memo).replace(";", ",") or entry.kind
        reverses = f", ipb-reverses: {entry.reverses}" if entry.reverses else ""
        out.append(f"{entry.effective_date.isoformat()} * ({entry.id}) {memo}  "
                   f"; ipb-kind: {entry.kind}, ipb-hash: {entry.hash}{reverses}")
        out += [f"    {names[line.account]}  {amount(line.amount, line.currency)}" for line in entry.lines]
        out.append("")
    return "\n".join(out)


def _quoted(text: str) -> str:
    return '"' + _one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_beancount(data: ExportData) -> str:
    """A Beancount file: options, an Open directive per account, transactions, closing balance assertions.

    The `balance` directives dated the day after the period assert ipb's closing balance of
    every account, so `bean-check` itself proves the export adds up to ipb's trial balance.
    """
    names = {a.code: a.name for a in data.accounts}
    currencies = sorted({a.currency for a in data.accounts})
    out = _header(data, ";")
    out.append(f'option "title" {_quoted("ipb " + data.period.label)}')
    for currency in currencies:
        out.append(f'option "operating_currency" "{currency}"')
    out.append("")
    first_use: dict[str, date] = {}
    for entry in data.entries:
        for line in entry.lines:
            first_use.setdefault(line.account, entry.effective_date)
            first_use[line.account] = min(first_use[line.account], entry.effective_date)
    for a in data.accounts:
        opened = min(a.opened_on, data.period.start if a.opening else a.opened_on,
                     first_use.get(a.code, a.opened_on))
        out.append(f"{opened.isoformat()} open {a.name} {a.currency}")
        out.append(f"  ipb-code: {_quoted(a.code)}")
    out.append("")
    opening = _opening_lines(data)
    if opening:
        out.append(f'{data.period.start.isoformat()} * "opening balances as of {data.period.start}"')
        out += [f"  {a.name}  {decimal_text(a.opening, a.currency)} {a.currency}" for a in opening]
        out.append("")
    for entry in data.entries:
        out.append(f"{entry.effective_date.isoformat()} * {_quoted(entry.memo or entry.kind)}")
        out.append(f"  ipb-entry: {entry.id}")
        out.append(f"  ipb-kind: {_quoted(entry.kind)}")
        out.append(f"  ipb-hash: {_quoted(entry.hash)}")
        if entry.reverses:
            out.append(f"  ipb-reverses: {entry.reverses}")
        out += [f"  {names[line.account]}  {decimal_text(line.amount, line.currency)} {line.currency}"
                for line in entry.lines]
        out.append("")
    after = data.period.end + timedelta(days=1)
    closing = data.closing()
    for a in data.accounts:
        # one more decimal place than the currency has: Beancount tolerates a difference of one unit
        # of the last place shown, so 0.001 makes the assertion exact to the penny
        exact = decimal_text(closing[a.code], a.currency) + ("0" if minor_digits(a.currency) else ".0")
        out.append(f"{after.isoformat()} balance {a.name}  {exact} {a.currency}")
    out.append("")
    return "\n".join(out)


def hledger_journal(engine: Engine, period: Period) -> str:
    return to_hledger(export_data(engine, period))


def beancount_file(engine: Engine, period: Period) -> str:
    return to_beancount(export_data(engine, period))
