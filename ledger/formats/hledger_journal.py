"""hledger journals -> `SourceLedger`: what ipb's export writes, and what accountants commonly write.

Read:
- transactions `DATE[=DATE2] [*|!] [(CODE)] DESCRIPTION  ; tag: value, tag2:` with indented postings
  `ACCOUNT  AMOUNT` (two spaces or a tab after the account), one of them may leave its amount out (it takes
  the balancing amount of each currency); indented `;` lines before the first posting carry more tags;
- dates YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD (the secondary date is ignored), or MM-DD after `Y 2025`;
- amounts with the currency before or after the number: `£1,250.00`, `-£5`, `£-5`, `GBP 12.50`,
  `12.50 GBP`; a bare number takes the currency of a `D £1,000.00` directive, or is refused;
- balance assertions `ACCOUNT  AMOUNT = BALANCE` (and `==`, `=*`, `==*`): checked against the file's own
  postings, in date order, as hledger checks them;
- comments `;`, `#`, `*` at the start of a line and `comment` ... `end comment` blocks; `account`,
  `commodity` (with the `ipb-code:` tag ipb's export writes), `D`, `Y`, `P`, `payee`, `tag` directives.

ipb's own export: the (CODE) is the entry's id (`source_id`), `ipb-kind` its kind, `ipb-opening` marks the
opening balances; other tags go to `meta`. Refused, naming the line: `include`, `alias` and `apply account`
(they change what names mean), virtual postings `(acct)` and `[acct]`, prices `@`/`@@`, balance assignments
(an assertion with no amount), periodic `~` and automated `=` transactions (run `hledger print --forecast
--auto` first to write them out), a comma decimal mark, and anything else not listed here.
"""

from __future__ import annotations

import re
from datetime import date

from ledger.collector import collector_paused
from ledger.formats.import_text import (
    SYMBOLS,
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

# a tag's name starts a word; its value runs to a comma, trailing blanks left out
_TAG = re.compile(r"(?<![^\s,])([^\s,:]+):[ \t]*((?:[^,]*[^,\s])?)")
# the usual posting, "    Assets:Cash  -1234.56 GBP", read by one regex; anything else goes the careful way
_ACCOUNT = r"[^ \t;#*!(\[\n][^ \t;\n]*(?: [^ \t;\n]+)*"  # single spaces inside; two spaces or a tab end it
_POSTING = r"[ \t]+(" + _ACCOUNT + r")(?:  |\t)[ \t]*(-?)([0-9]+)(?:\.([0-9]+))? ([A-Z]{3})[ \t]*"
_QUICK_POSTING = re.compile(_POSTING, re.ASCII)
_POSTINGS = re.compile(_POSTING + r"(?:\n|\Z)", re.ASCII)
# ... and the usual transaction, a plain header and such postings, read in one go from where it starts
_QUICK_TRANSACTION = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[ \t]+(?:[*!][ \t]+)?(?:\(([^)\n]*)\)[ \t]*)?([^;\n]*?)[ \t]*(?:;([^\n]*))?\n"
    r"((?:[ \t]+" + _ACCOUNT + r"(?:  |\t)[ \t]*-?[0-9]+(?:\.[0-9]+)? [A-Z]{3}[ \t]*(?:\n|\Z))+)(?![ \t])",
    re.ASCII)
_HEADER = re.compile(r"([0-9][0-9/.\-]*)(?:=[0-9/.\-]*)?(?:[ \t]+[*!])?(?:[ \t]*\(([^)]*)\))?[ \t]*([^;]*?)[ \t]*"
                     r"(?:;(.*))?")
_SHORT_DATE = re.compile(r"[0-9]{1,2}[-/.][0-9]{1,2}")
# an amount: sign, currency before, sign, digits, currency after; a currency is a symbol, letters or "quoted"
_AMOUNT = re.compile(r"""([-+]?)[ \t]*(?:([^\s0-9.,+\-;"@=()*!\[\]]+|"[^"]*")[ \t]*)?([-+]?)[ \t]*
                         ([0-9][0-9,]*(?:\.[0-9]*)?)[ \t]*([^\s0-9.,+\-;"@=()*!\[\]]+|"[^"]*")?""", re.VERBOSE)
_SKIPPED = {"P", "payee", "tag", "N", "C"}  # market prices, declared names, no-market and conversion notes
_REFUSED = {
    "include": "`include` reads another file: combine them first (hledger -f FILE print > one.journal)",
    "alias": "account aliases rename accounts: write the names out (hledger -f FILE print > plain.journal)",
    "apply": "`apply` directives change what follows: write it out (hledger -f FILE print > plain.journal)",
    "end": "`end apply` has no matching `apply` ipb reads",
    "~": "periodic transactions are forecasts: write them out first (hledger print --forecast)",
    "=": "automated transactions add postings by query: write them out first (hledger print --auto)",
    "decimal-mark": "ipb reads amounts with a decimal point only",
}


class _Transaction:
    __slots__ = ("line", "date", "memo", "code", "tags", "postings", "elided")

    def __init__(self, line: int, day: date, memo: str, code: str | None, tags: dict[str, str]) -> None:
        self.line, self.date, self.memo, self.code, self.tags = line, day, memo, code, tags
        self.postings: list[SourcePosting] = []
        self.elided: tuple[str, int] | None = None


class _Parser:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dates = Dates(name)
        self.accounts: list[SourceAccount] = []
        self.transactions: list[SourceTransaction] = []
        self.assertions: list[Assertion] = []
        self.default_currency: str | None = None
        self.year: str | None = None
        self.txn: _Transaction | None = None
        self.block = ""  # "comment" inside a comment block, "directive" among a directive's indented lines

    def run(self, text: str) -> SourceLedger:
        with collector_paused():
            return self.read(plain_text(text))

    def read(self, text: str) -> SourceLedger:
        quick_line, quick_transaction = _QUICK_POSTING.fullmatch, _QUICK_TRANSACTION.match
        pos, number, size, postings = 0, 1, len(text), None
        while pos <= size:
            if postings is None and self.block != "comment" and (match := quick_transaction(text, pos)) is not None:
                read = self.quick_transaction(number, match)
                if read:
                    pos, number, self.block = match.end(), number + read, ""
                    continue
            end = text.find("\n", pos)
            end = size if end < 0 else end
            line, pos, number = text[pos:end], end + 1, number + 1
            if postings is not None:  # inside a transaction read line by line: the usual posting, or its end
                if (match := quick_line(line)) is not None:
                    account, sign, units, fraction, currency = match.groups()
                    amount = quick_units(units, fraction, currency)
                    if amount is not None:
                        postings.append(posting(account, -amount if sign else amount, currency, number - 1))
                        continue
                elif not line:
                    self.finish()
                    postings = None
                    continue
            self.line(number - 1, line)
            postings = None if self.txn is None else self.txn.postings
        self.finish()  # a comment block may run to the end of the file, as in hledger
        check_assertions(self.name, self.transactions, self.assertions)
        return SourceLedger(self.name, tuple(self.accounts), tuple(self.transactions))

    def quick_transaction(self, number: int, match: re.Match[str]) -> int:
        """A transaction `_QUICK_TRANSACTION` matched, read; the number of lines it takes, or 0 when one of its
        amounts wants the careful way (an unknown currency, more places than the currency has)."""
        day_text, code, memo, comment, lines = match.groups()
        postings = []
        for at, (account, sign, units, fraction, currency) in enumerate(_POSTINGS.findall(lines), number + 1):
            amount = quick_units(units, fraction or None, currency)  # findall gives "" for a group not taken
            if amount is None:
                return 0
            postings.append(posting(account, -amount if sign else amount, currency, at))
        self.record(number, self.dates(day_text, number), memo, code.strip() or None if code else None,
                    _tags(comment) if comment else {}, balanced(self.name, number, postings, None))
        return len(postings) + 1

    def line(self, number: int, line: str) -> None:
        if self.block == "comment":
            if line.rstrip() == "end comment":
                self.block = ""
            return
        if not line or line[0] in " \t":
            if self.txn is not None:
                self.posting(number, line)
            elif not line.strip():
                self.block = ""
            elif self.block != "directive" and line.lstrip()[0] not in ";#":
                raise refused(self.name, number, "an indented line outside a transaction")
            return
        self.finish()
        self.block = ""
        first = line[0]
        if first.isdigit():
            self.transaction(number, line)
        elif first not in ";#*%|":
            self.directive(number, line)

    # --- transactions ---------------------------------------------------------------

    def transaction(self, number: int, line: str) -> None:
        match = _HEADER.fullmatch(line)
        if match is None:
            raise refused(self.name, number, "malformed transaction line: expected DATE [*|!] [(CODE)] DESCRIPTION")
        day_text, code, memo, comment = match.groups()
        day = self.dates(day_text if self.year is None else self.full_date(day_text), number)
        self.txn = _Transaction(number, day, memo, code.strip() or None if code else None,
                                _tags(comment) if comment else {})

    def full_date(self, text: str) -> str:
        if _SHORT_DATE.fullmatch(text):
            return f"{self.year}-{text.replace('/', '-').replace('.', '-')}"
        return text

    def posting(self, number: int, line: str) -> None:
        txn = self.txn
        assert txn is not None
        body = line.strip()
        if not body:
            self.finish()
            return
        if body[0] in ";#*!":
            if body[0] in ";#":
                if not txn.postings and txn.elided is None:
                    txn.tags.update(_tags(body[1:]))
                return
            body = body[1:].lstrip()  # a posting's own status mark
        account, _, rest = body.replace("\t", "  ").partition("  ") if "\t" in body else body.partition("  ")
        if account[0] in "([" and account[-1] in ")]":
            raise refused(self.name, number, f"virtual posting {account}: ipb keeps real double entries only; "
                                             "make it a real posting or leave it out")
        found = quick_amount(rest.lstrip()) if rest else None
        if found is None:
            found = self.slow_posting(number, account, rest.strip())
            if found is None:
                return
        txn.postings.append(posting(account, found[0], found[1], number))

    def slow_posting(self, number: int, account: str, rest: str) -> tuple[int, str] | None:
        """A posting's amount written any other way: with a comment, an assertion, or none at all."""
        txn = self.txn
        assert txn is not None
        if ";" in rest:
            rest = rest.partition(";")[0].rstrip()
        if "@" in rest:
            raise refused(self.name, number, "a price (@ or @@) converts between currencies; "
                                             "ipb keeps each currency's entries apart")
        if "=" in rest:
            rest, _, asserted = rest.partition("=")
            rest = rest.rstrip()
            if not rest:
                raise refused(self.name, number, "a balance assignment (an assertion with no amount): "
                                                 "write the posting's amount")
            self.assertion(number, account, asserted)
        if not rest:
            if txn.elided is not None:
                raise refused(self.name, number, "a second posting without an amount: only one may leave it out")
            txn.elided = (account, number)
            return None
        return self.amount(number, rest)

    def amount(self, number: int, text: str) -> tuple[int, str]:
        match = _AMOUNT.fullmatch(text)
        if match is None:
            raise refused(self.name, number, f"malformed amount {text!r}: expected one like £1,250.00, "
                                             "-12.50 GBP or GBP 12.50")
        sign1, before, sign2, digits, after = match.groups()
        if (sign1 and sign2) or (before and after):
            raise refused(self.name, number, f"malformed amount {text!r}: two signs or two currencies")
        symbol = before or after or self.default_currency
        if symbol is None:
            raise refused(self.name, number, f"amount {text!r} has no currency: write £{text} or {text} GBP "
                                             "(or declare one with `D £1,000.00`)")
        currency = SYMBOLS.get(symbol, symbol.strip('"'))
        return minor_units(self.name, number, digits, currency, "-" in (sign1, sign2)), currency

    def assertion(self, number: int, account: str, text: str) -> None:
        alone = text.startswith("=")
        text = text[alone:]
        inclusive = text.startswith("*")
        amount, currency = self.amount(number, text[inclusive:].strip())
        assert self.txn is not None
        self.assertions.append(Assertion(number, self.txn.date, number, account, currency, amount,
                                         inclusive=inclusive, alone=alone))

    def finish(self) -> None:
        txn, self.txn = self.txn, None
        if txn is not None:
            self.record(txn.line, txn.date, txn.memo, txn.code, txn.tags,
                        balanced(self.name, txn.line, txn.postings, txn.elided))

    def record(self, line: int, day: date, memo: str, code: str | None, tags: dict[str, str],
               postings: tuple[SourcePosting, ...]) -> None:
        if not postings:
            return  # nothing moves
        kind = tags.pop("ipb-kind", None)
        opening = tags.pop("ipb-opening", None) is not None
        self.transactions.append(transaction(line, day, memo, postings, kind or None, code, tags, opening))

    # --- directives -----------------------------------------------------------------

    def directive(self, number: int, line: str) -> None:
        head, _, comment = line.partition(";")
        word, _, rest = head.strip().partition(" ")
        rest = rest.strip()
        self.block = "directive"
        if line.rstrip() == "comment":
            self.block = "comment"
        elif word == "account":
            code = _tags(comment).get("ipb-code") or None
            self.accounts.append(SourceAccount(rest.split("  ")[0].strip(), number, code))
        elif word == "commodity":
            self.commodity(number, rest)
        elif word == "D":
            self.default_currency = self.amount(number, rest)[1]
        elif word in ("Y", "year"):
            if not re.fullmatch(r"[0-9]{4}", rest):
                raise refused(self.name, number, f"`{word}` wants a year like 2025, not {rest!r}")
            self.year = rest
        elif word in _SKIPPED:
            pass
        elif word in _REFUSED or word[:1] in _REFUSED:
            raise refused(self.name, number, _REFUSED.get(word) or _REFUSED[word[:1]])
        else:
            raise refused(self.name, number, f"unknown directive {word!r}: ipb reads transactions, `account`, "
                                             "`commodity`, `D`, `Y`, `P`, `payee`, `tag` and comments")

    def commodity(self, number: int, text: str) -> None:
        """`commodity GBP` or `commodity 1,000.00 GBP`: only the currency matters, and a decimal point."""
        if re.search(r"[0-9],[0-9]{1,2}(?![0-9])|[0-9]\.[0-9]{3}.*,", text):
            raise refused(self.name, number, "a commodity with a decimal comma: ipb reads a decimal point only")
        if any(ch.isdigit() for ch in text):
            self.amount(number, text)  # refuses an unknown currency
        else:
            currency = SYMBOLS.get(text, text.strip('"'))
            currency_digits(self.name, number, currency)


def _tags(comment: str) -> dict[str, str]:
    return dict(_TAG.findall(comment)) if ":" in comment else {}


def parse_hledger(text: str, name: str) -> SourceLedger:
    """An hledger journal's text -> its accounts and transactions; a refusal names FILE:LINE."""
    return _Parser(name).run(text)
