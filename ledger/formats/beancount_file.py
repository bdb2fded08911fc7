"""Beancount files -> `SourceLedger`: what ipb's export writes, and the common run of hand-kept files.

Read:
- `DATE open ACCOUNT [CUR,...]` (an `ipb-code: "CODE"` metadata line under it gives the ipb code); postings
  are refused, naming their line, to an account not open on their date or in a currency it does not take;
- transactions `DATE * "narration"`, `DATE ! "payee" "narration"`, `DATE txn ...` with tags `#t` and links
  `^l`, metadata lines `key: value` before the first posting, postings `ACCOUNT  -12.50 GBP` (one may leave
  its amount out: it takes the balancing amount of each currency); `pushtag`/`poptag`, `pushmeta`/`popmeta`;
- `DATE balance ACCOUNT AMOUNT [~ TOLERANCE] CUR`: checked by this parser against the file's own postings at
  the start of its day, subaccounts included, as bean-check does; but exactly to the penny, because ipb keeps
  pence (Beancount tolerates one unit of the last digit shown). An explicit `~ tolerance` is honoured;
- skipped, as moving no money: `option`, the plugins that only check, `close`, `commodity`, `price`, `note`,
  `document`, `event`, `query`, `custom`, comments and org-mode headings.

ipb's own export: `ipb-entry` is the entry's id (`source_id`), `ipb-kind` its kind; the opening balances are
the transaction tagged `ipb-opening`, or narrated "opening balances as of DATE" on that date with no
`ipb-entry`. Other metadata go to `meta` as text (strings unquoted); tags and links to meta["tags"] and
meta["links"], space-separated. The memo is the narration, after "PAYEE | " when there is a payee.
Refused, naming the line: `include`, `pad` (its amount is worked out by Beancount: write the transaction),
other plugins, costs `{...}` and prices `@`, arithmetic in amounts, and anything else not listed here.
"""

from __future__ import annotations

import re
from datetime import date

from ledger.collector import collector_paused
from ledger.formats.import_text import (
    Assertion,
    Dates,
    balanced,
    check_assertions,
    currency_digits,
    minor_units,
    plain_text,
    posting,
    quick_amount,
    quick_units,
    transaction,
)
from ledger.formats.imported import SourceAccount, SourceLedger, SourcePosting, SourceTransaction, refused

_HEAD_TOKEN = re.compile(r'[ \t]*(?:"((?:[^"\\]|\\.)*)"|([#^][A-Za-z0-9_/.\-]+)|(;.*)|(\S+))')
_AMOUNT = re.compile(r"([-+]?)([0-9][0-9,]*(?:\.[0-9]*)?)[ \t]*([A-Z][A-Z0-9'._\-]*)")
# the usual posting and metadata line, read by one regex each; anything else goes the careful way
_POSTING = r"[ \t]+([A-Z][A-Za-z0-9:\-]*)[ \t]+(-?)([0-9]+)(?:\.([0-9]+))?[ \t]+([A-Z]{3})[ \t]*"
_META = r'[ \t]+([a-z][A-Za-z0-9_\-]*):[ \t]+(?:"([^"\\\n]*)"|([^"\s;]+))[ \t]*'
_QUICK_POSTING, _QUICK_META = re.compile(_POSTING, re.ASCII), re.compile(_META)
_POSTINGS, _METAS = re.compile(_POSTING + r"(?:\n|\Z)", re.ASCII), re.compile(_META + r"\n")
# ... and the usual transaction, read in one go from where it starts: DATE * "narration", metadata, postings
_QUICK_TRANSACTION = re.compile(
    r'([0-9]{4}-[0-9]{2}-[0-9]{2})[ \t]+(?:\*|!|txn)[ \t]+"([^"\\\n]*)"[ \t]*\n'
    r'((?:[ \t]+[a-z][A-Za-z0-9_\-]*:[ \t]+(?:"[^"\\\n]*"|[^"\s;]+)[ \t]*\n)*)'
    r"((?:[ \t]+[A-Z][A-Za-z0-9:\-]*[ \t]+-?[0-9]+(?:\.[0-9]+)?[ \t]+[A-Z]{3}[ \t]*(?:\n|\Z))+)(?![ \t])")
_KEY = re.compile(r"[a-z][A-Za-z0-9_\-]*")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"[ \t]*(?:;.*)?')
_ESCAPE = re.compile(r"\\(.)")
_HARMLESS_PLUGINS = {"auto_accounts", "check_commodity", "coherent_cost", "leafonly", "noduplicates",
                     "nounused", "onecommodity", "check_closing", "implicit_prices", "check_drained"}
_SKIPPED = {"close", "commodity", "price", "note", "document", "event", "query", "custom"}
_FLAGS = {"*", "!", "txn"}


class _Open:
    __slots__ = ("name", "line", "day", "currencies", "code")

    def __init__(self, name: str, line: int, day: date, currencies: tuple[str, ...]) -> None:
        self.name, self.line, self.day, self.currencies, self.code = name, line, day, currencies, None

    def account(self) -> SourceAccount:
        currency = self.currencies[0] if len(self.currencies) == 1 else None
        return SourceAccount(self.name, self.line, self.code, currency)


class _Transaction:
    __slots__ = ("line", "date", "memo", "meta", "tags", "links", "postings", "elided")

    def __init__(self, line: int, day: date, memo: str, meta: dict[str, str], tags: list[str],
                 links: list[str]) -> None:
        self.line, self.date, self.memo, self.meta, self.tags, self.links = line, day, memo, meta, tags, links
        self.postings: list[SourcePosting] = []
        self.elided: tuple[str, int] | None = None


class _Parser:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dates = Dates(name)
        self.opened: dict[str, _Open] = {}
        self.transactions: list[SourceTransaction] = []
        self.assertions: list[Assertion] = []
        self.pushed_tags: list[str] = []
        self.pushed_meta: dict[str, str] = {}
        self.txn: _Transaction | None = None
        self.open: _Open | None = None  # the account whose metadata lines follow

    def run(self, text: str) -> SourceLedger:
        with collector_paused():
            return self.read(plain_text(text))

    def read(self, text: str) -> SourceLedger:
        quick_posting, quick_meta, quick_transaction = (_QUICK_POSTING.fullmatch, _QUICK_META.fullmatch,
                                                        _QUICK_TRANSACTION.match)
        pos, number, size, txn = 0, 1, len(text), None
        while pos <= size:
            if txn is None and (match := quick_transaction(text, pos)) is not None:
                read = self.quick_transaction(number, match)
                if read:
                    pos, number = match.end(), number + read
                    continue
            end = text.find("\n", pos)
            end = size if end < 0 else end
            line, pos, number = text[pos:end], end + 1, number + 1
            if txn is not None:  # inside a transaction read line by line: the usual posting or metadata, or its end
                if (match := quick_posting(line)) is not None and self.quick_posting(number - 1, txn, match):
                    continue
                if (match := quick_meta(line)) is not None and not txn.postings and txn.elided is None:
                    key, quoted, plain = match.groups()
                    txn.meta[key] = plain if quoted is None else quoted
                    continue
                if not line:
                    self.finish()
                    txn = None
                    continue
            if line[:1] in (" ", "\t"):
                self.indented(number - 1, line)
            elif line and line[0] not in ";*#":
                self.finish()
                self.top(number - 1, line)
            elif not line:
                self.finish()
            txn = self.txn
        self.finish()
        check_assertions(self.name, self.transactions, self.assertions)
        accounts = tuple(opened.account() for opened in self.opened.values())
        return SourceLedger(self.name, accounts, tuple(self.transactions))

    def top(self, number: int, line: str) -> None:
        if line[0].isdigit():
            day_text, _, rest = line.partition(" ")
            keyword, _, rest = rest.strip().partition(" ")
            day = self.dates(day_text, number, kept=keyword in _FLAGS)
            if keyword in _FLAGS:
                self.transaction(number, day, rest)
            elif keyword == "open":
                self.open_account(number, day, rest)
            elif keyword == "balance":
                self.balance(number, day, rest)
            elif keyword == "pad":
                raise refused(self.name, number, "`pad` moves an amount Beancount works out: write the "
                                                 "transaction out instead")
            elif keyword not in _SKIPPED:
                raise refused(self.name, number, f"unknown directive {keyword!r}")
            return
        keyword, _, rest = line.partition(" ")
        values = [_unquote(v) for v in re.findall(r'"(?:[^"\\]|\\.)*"', rest)]
        if keyword == "option":
            return
        if keyword == "plugin":
            if values and values[0].rsplit(".", 1)[-1] in _HARMLESS_PLUGINS:
                return
            raise refused(self.name, number, f"plugin {values[0] if values else rest!r} may change the entries; "
                                             "ipb reads the file as written")
        if keyword == "include":
            raise refused(self.name, number, "`include` reads another file: import each file, or combine them")
        if keyword in ("pushtag", "poptag"):
            self.push_tag(number, keyword, rest.strip())
        elif keyword in ("pushmeta", "popmeta"):
            key, _, value = rest.partition(":")
            if keyword == "pushmeta":
                self.pushed_meta[key.strip()] = _unquote(value.strip())
            else:
                self.pushed_meta.pop(key.strip(), None)
        else:
            raise refused(self.name, number, f"unknown directive {keyword!r}")

    def push_tag(self, number: int, keyword: str, tag: str) -> None:
        if not tag.startswith("#"):
            raise refused(self.name, number, f"`{keyword}` wants a tag like #trip")
        if keyword == "pushtag":
            self.pushed_tags.append(tag[1:])
        elif tag[1:] in self.pushed_tags:
            self.pushed_tags.remove(tag[1:])
        else:
            raise refused(self.name, number, f"`poptag {tag}` without a matching pushtag")

    # --- transactions ---------------------------------------------------------------

    def transaction(self, number: int, day: date, rest: str) -> None:
        tags, links = list(self.pushed_tags), []
        if rest[-1:] == '"' and rest.count('"') == 2 and rest[0] == '"' and "\\" not in rest:  # "narration" alone
            self.txn = _Transaction(number, day, rest[1:-1], dict(self.pushed_meta), tags, links)
            return
        strings: list[str] = []
        for match in _HEAD_TOKEN.finditer(rest):
            text, mark, comment, other = match.groups()
            if text is not None:
                strings.append(_unquote_inner(text))
            elif mark:
                (tags if mark[0] == "#" else links).append(mark[1:])
            elif comment:
                break
            elif other:
                raise refused(self.name, number, f"unexpected {other!r} in the transaction's line: expected "
                                                 '"payee" "narration", #tags and ^links')
        if len(strings) > 2:
            raise refused(self.name, number, "more than two strings: a transaction has a payee and a narration")
        memo = " | ".join(s for s in strings if s)
        self.txn = _Transaction(number, day, memo, dict(self.pushed_meta), tags, links)

    def indented(self, number: int, line: str) -> None:
        body = line.strip()
        if not body or body[0] == ";":
            return
        txn = self.txn
        if txn is None:
            if self.open is not None and body.startswith("ipb-code:"):
                self.open.code = _unquote(body[9:].partition(";")[0].strip())
            return  # a directive's metadata
        first = body[0]
        if "a" <= first <= "z":
            if not txn.postings and txn.elided is None:
                key, colon, value = body.partition(":")
                if not colon or not _KEY.fullmatch(key):
                    raise refused(self.name, number, f"malformed metadata line {body!r}: expected key: value")
                txn.meta[key] = self.value(number, value.strip())
            return  # a posting's metadata: ipb keeps an entry's only
        if first in "*!" and body[1:2] in (" ", "\t"):
            body = body[1:].lstrip()
        self.posting(number, txn, body)

    def quick_transaction(self, number: int, match: re.Match[str]) -> int:
        """A transaction `_QUICK_TRANSACTION` matched, read; the number of lines it takes, or 0 when something in
        it wants the careful way (an account not open, an unknown currency, more places than it has)."""
        self.finish()
        day_text, memo, metas, lines = match.groups()
        txn = _Transaction(number, self.dates(day_text, number), memo, dict(self.pushed_meta),
                           list(self.pushed_tags), [])
        for key, quoted, plain in _METAS.findall(metas) if metas else ():
            txn.meta[key] = plain or quoted  # findall gives "" for the alternative not taken
        first = number + 1 + metas.count("\n")
        opened_by_name, day, postings = self.opened.get, txn.date, txn.postings
        for at, (account, sign, units, fraction, currency) in enumerate(_POSTINGS.findall(lines), first):
            opened = opened_by_name(account)
            amount = quick_units(units, fraction or None, currency)
            if opened is None or opened.day > day or amount is None or (
                    opened.currencies and currency not in opened.currencies):
                return 0  # the careful way names what is wrong
            postings.append(posting(account, -amount if sign else amount, currency, at))
        self.txn = txn
        self.finish()
        return first - number + len(txn.postings)

    def quick_posting(self, number: int, txn: _Transaction, match: re.Match[str]) -> bool:
        account, sign, units, fraction, currency = match.groups()
        opened = self.opened.get(account)
        amount = quick_units(units, fraction, currency)
        if opened is None or opened.day > txn.date or amount is None or (
                opened.currencies and currency not in opened.currencies):
            return False  # the careful way names what is wrong
        txn.postings.append(posting(account, -amount if sign else amount, currency, number))
        return True

    def value(self, number: int, text: str) -> str:
        """A metadata value as text: a string unquoted, anything else as written, without its comment."""
        if text[:1] != '"':
            return text.partition(";")[0].rstrip()
        if text[-1] == '"' and text.count('"') == 2 and "\\" not in text:
            return text[1:-1]
        match = _STRING.fullmatch(text)
        if match is None:
            raise refused(self.name, number, f"malformed string {text!r}: a string ends on its line with \"")
        return _unquote_inner(match[1])

    def posting(self, number: int, txn: _Transaction, body: str) -> None:
        account, _, rest = body.replace("\t", " ").partition(" ")
        opened = self.opened.get(account)
        if opened is None or opened.day > txn.date:
            raise refused(self.name, number, f"{account} is not open on {txn.date}: open it first "
                                             f"(DATE open {account})")
        rest = rest.strip()
        found = quick_amount(rest)
        if found is None:
            rest = rest.partition(";")[0].rstrip()
            if not rest:
                if txn.elided is not None:
                    raise refused(self.name, number, "a second posting without an amount: only one may leave it out")
                txn.elided = (account, number)
                return
            if "{" in rest or "@" in rest:
                raise refused(self.name, number, "a cost {...} or price @ converts between currencies; "
                                                 "ipb keeps each currency's entries apart")
            found = self.amount(number, rest)
        if opened.currencies and found[1] not in opened.currencies:
            raise refused(self.name, number, f"{account} takes {', '.join(opened.currencies)}, not {found[1]}")
        txn.postings.append(posting(account, found[0], found[1], number))

    def amount(self, number: int, text: str) -> tuple[int, str]:
        match = _AMOUNT.fullmatch(text)
        if match is None:
            raise refused(self.name, number, f"malformed amount {text!r}: expected one like -1,250.00 GBP "
                                             "(no arithmetic, a currency after the number)")
        sign, digits, currency = match.groups()
        return minor_units(self.name, number, digits, currency, sign == "-"), currency

    def finish(self) -> None:
        self.open = None
        txn, self.txn = self.txn, None
        if txn is None:
            return
        postings = balanced(self.name, txn.line, txn.postings, txn.elided)
        if not postings:
            return
        meta = txn.meta
        source_id = meta.pop("ipb-entry", None)
        kind = meta.pop("ipb-kind", None)
        opening = meta.pop("ipb-opening", None) is not None or (
            source_id is None and txn.memo == f"opening balances as of {txn.date}")
        if txn.tags:
            meta["tags"] = " ".join(txn.tags)
        if txn.links:
            meta["links"] = " ".join(txn.links)
        self.transactions.append(transaction(txn.line, txn.date, txn.memo, postings, kind or None,
                                             source_id or None, meta, opening))

    # --- directives -----------------------------------------------------------------

    def open_account(self, number: int, day: date, rest: str) -> None:
        words = rest.partition(";")[0].split()
        if not words:
            raise refused(self.name, number, "`open` wants an account name")
        if words[0] in self.opened:
            raise refused(self.name, number, f"{words[0]} is opened twice (first on line "
                                             f"{self.opened[words[0]].line})")
        currencies = tuple(c for c in "".join(w for w in words[1:] if not w.startswith('"')).split(",") if c)
        for currency in currencies:
            currency_digits(self.name, number, currency)
        self.open = self.opened[words[0]] = _Open(words[0], number, day, currencies)

    def balance(self, number: int, day: date, rest: str) -> None:
        account, _, text = rest.partition(";")[0].strip().partition(" ")
        if account not in self.opened:
            raise refused(self.name, number, f"{account} is not open: open it before asserting its balance")
        text = text.strip()
        tolerance = 0
        if "~" in text:
            value, _, text = text.partition("~")
            tolerance_text, _, currency = text.strip().partition(" ")
            text = f"{value.strip()} {currency.strip()}"
            units, _, fraction = tolerance_text.partition(".")  # finer than a penny counts as none
            fraction = fraction[:currency_digits(self.name, number, currency.strip())]
            tolerance = abs(self.amount(number, f"{units}.{fraction} {currency.strip()}")[0])
        amount, currency = self.amount(number, text)
        self.assertions.append(Assertion(number, day, -1, account, currency, amount, inclusive=True,
                                         tolerance=tolerance))


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return _unquote_inner(text[1:-1])
    return text


def _unquote_inner(text: str) -> str:
    return _ESCAPE.sub(r"\1", text) if "\\" in text else text


def parse_beancount(text: str, name: str) -> SourceLedger:
    """A Beancount file's text -> its accounts and transactions; a refusal names FILE:LINE."""
    return _Parser(name).run(text)
