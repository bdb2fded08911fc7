"""The mapping file of `ipb import`: another ledger's account names -> ipb account codes.

    [accounts]                                   # one name -> one code
    "Assets:Bank:Current" = "bank:main"
    "Expenses:Care:Home" = { code = "provider:home:paid", type = "expense" }

    [prefixes]                                   # every name under a prefix: the rest kept as written
    "Expenses:Care:" = "care:"                   # Expenses:Care:Day-Centre -> care:Day-Centre
    "Income:" = { code = "income:", type = "income" }

An exact name wins over a prefix, and a longer prefix over a shorter one. Without a mapping for a name,
the `ipb-code` the file declares beside it (ipb's own exports carry one) is used, then the name itself
if it is an ipb code (ipb's CSV). The type of an account to open comes from the mapping, else from the
name's root (Assets, Liabilities, Equity, Income or Revenue, Expenses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ledger import chart
from ledger.errors import InvalidInput
from ledger.formats.imported import SourceLedger, SourcePosting, SourceTransaction
from ledger.journal import AccountType, Draft, Phase

ROOT_TYPES = {
    "assets": AccountType.ASSET,
    "liabilities": AccountType.LIABILITY,
    "equity": AccountType.EQUITY,
    "income": AccountType.INCOME,
    "revenue": AccountType.INCOME,
    "revenues": AccountType.INCOME,
    "expenses": AccountType.EXPENSE,
}


@dataclass(frozen=True, slots=True)
class Target:
    code: str  # an ipb code; for a prefix rule, the code's start
    type: AccountType | None = None


@dataclass(frozen=True, slots=True)
class AccountMapping:
    accounts: Mapping[str, Target] = field(default_factory=dict)
    prefixes: tuple[tuple[str, Target], ...] = ()  # longest prefix first

    def target(self, name: str, declared: str | None) -> Target | None:
        """Where the account `name` (declared with ipb code `declared`, if any) goes; None if nowhere."""
        exact = self.accounts.get(name)
        if exact is not None:
            return exact
        for prefix, rule in self.prefixes:
            if name.startswith(prefix):
                return Target(rule.code + name[len(prefix):], rule.type)
        if declared:
            return Target(declared, root_type(name))
        if chart.is_valid(name):
            return Target(name, root_type(name))
        return None


def root_type(name: str) -> AccountType | None:
    return ROOT_TYPES.get(name.split(":", 1)[0].lower())


def parse_mapping(data: Mapping[str, object], name: str) -> AccountMapping:
    """A mapping file's tables (read with ledger.formats.documents.load_mapping) as an AccountMapping."""
    unknown = sorted(set(data) - {"accounts", "prefixes"})
    if unknown:
        raise InvalidInput(f"{name}: unknown table {unknown[0]!r}: a mapping file has [accounts] and [prefixes]",
                           file=name)
    accounts = {key: _target(value, f"accounts.{key!r}", name, prefix=False)
                for key, value in _table(data, "accounts", name).items()}
    prefixes = [(key, _target(value, f"prefixes.{key!r}", name, prefix=True))
                for key, value in _table(data, "prefixes", name).items()]
    return AccountMapping(accounts, tuple(sorted(prefixes, key=lambda item: -len(item[0]))))


def _table(data: Mapping[str, object], key: str, name: str) -> Mapping[str, object]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise InvalidInput(f"{name}: [{key}] must be a table of account names", file=name)
    return table


def _target(value: object, where: str, name: str, *, prefix: bool) -> Target:
    if isinstance(value, str):
        value = {"code": value}
    if not isinstance(value, dict) or not isinstance(value.get("code"), str) or set(value) - {"code", "type"}:
        raise InvalidInput(f'{name}: {where}: give an ipb code, or {{ code = "...", type = "asset" }}', file=name)
    code = value["code"]
    if not chart.is_valid(code.rstrip(":") if prefix else code):
        raise InvalidInput(f"{name}: {where}: {code!r} is not an ipb account code (like bank:main)", file=name)
    kind = value.get("type")
    if kind is None:
        return Target(code)
    try:
        return Target(code, AccountType(str(kind)))
    except ValueError:
        raise InvalidInput(f"{name}: {where}: type {kind!r} unknown: use one of "
                           f"{', '.join(t.value for t in AccountType)}", file=name) from None


def from_entries(items: Sequence[tuple[Draft, str | None]], name: str) -> SourceLedger:
    """ipb's own entry file (TOML or JSON, read by ledger.formats.entries.read_entries) as a SourceLedger.
    Such a file has no line numbers once read: an entry is cited by its number, from 1."""
    transactions = []
    for number, (draft, key) in enumerate(items, 1):
        if draft.phase is not Phase.POSTED:
            raise InvalidInput(f"{name}: entry {number} is a hold: holds are placed with `ipb post`, not imported",
                               file=name, line=number)
        postings = tuple(SourcePosting(line.account, line.amount, line.currency, number) for line in draft.lines)
        transactions.append(SourceTransaction(number, draft.effective_date, draft.memo, postings, draft.kind, key))
    return SourceLedger(name, (), tuple(transactions))
