"""The parsers of `ipb import`: hledger journals, Beancount files and ipb's CSV of entries. Pure, no database.

ipb's own exports read back to the same transactions, amounts and codes; the syntax accountants write reads
as hledger and Beancount read it (checked against the tools themselves where installed); everything else is
refused naming its line.
"""

from __future__ import annotations

import builtins
import csv
import gc
import io
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.calendar import financial_year
from ledger.chart import LEDGER_START, EntryKind
from ledger.formats.beancount_file import parse_beancount
from ledger.formats.entry_csv import parse_entry_csv
from ledger.formats.hledger_journal import parse_hledger
from ledger.formats.imported import ImportRefused, SourceLedger
from ledger.journal import AccountType, Line
from ledger.money import minor_digits
from ledger.reports.exports import ExportAccount, ExportData, ExportEntry, account_names, to_beancount, to_hledger
from ledger.storage.reads import ChainHead

PERIOD = financial_year(2025)
REQUIRED = os.environ.get("IPB_REQUIRE_TOOLS") == "1"


def refusal(parse, text: str) -> tuple[int, str]:
    """The line a refusal names, and its message."""
    with pytest.raises(ImportRefused) as caught:
        parse(text, "f")
    assert caught.value.reason.startswith(f"f:{caught.value.details['line']}: ")
    return caught.value.details["line"], caught.value.reason


def postings(ledger: SourceLedger) -> list[list[tuple[str, int, str]]]:
    return [[(p.account, p.amount, p.currency) for p in t.postings] for t in ledger.transactions]


# --- ipb's own exports, back again ---------------------------------------------------

CODES = {"person:P1:budget:2025-26:nhs": AccountType.ASSET, "person:P2:budget:2025-26:la": AccountType.ASSET,
         "funder:icb": AccountType.EQUITY, "provider:acme:paid": AccountType.EXPENSE,
         "pool:p1:unallocated": AccountType.LIABILITY, "bank:main": AccountType.ASSET}
CURRENCIES = ("GBP", "EUR", "JPY", "BHD")  # two places, two, none, three
MEMO = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def exports(draw) -> ExportData:
    names = account_names(CODES)
    currency_of = {code: draw(st.sampled_from(CURRENCIES)) for code in CODES}
    by_currency = defaultdict(list)
    for code, currency in currency_of.items():
        by_currency[currency].append(code)
    opening = dict.fromkeys(CODES, 0)
    for codes in by_currency.values():
        if len(codes) > 1 and draw(st.booleans()):
            amounts = [draw(st.integers(-10**12, 10**12)) for _ in codes[1:]]
            opening.update(zip(codes, [-sum(amounts), *amounts], strict=True))
    accounts = tuple(ExportAccount(code, names[code], kind, currency_of[code], LEDGER_START, opening[code])
                     for code, kind in CODES.items())
    entries = []
    for number in range(1, draw(st.integers(0, 6)) + 1):
        codes = draw(st.sampled_from([c for c in by_currency.values() if len(c) > 1] or [[]]))
        if not codes:
            break
        chosen = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=3))
        amounts = [draw(st.integers(1, 10**12)) * draw(st.sampled_from((1, -1))) for _ in chosen]
        other = draw(st.sampled_from(codes))
        lines = tuple(Line(c, a, currency_of[c]) for c, a in zip(chosen, amounts, strict=True))
        lines += (Line(other, -sum(amounts), currency_of[other]),) if sum(amounts) else ()
        day = PERIOD.start + timedelta(days=draw(st.integers(0, 364)))
        entries.append(ExportEntry(number, f"{number:064x}", day, draw(st.sampled_from(list(EntryKind))).value,
                                   draw(MEMO), draw(st.none() | st.integers(1, 99)), lines))
    entries.sort(key=lambda e: e.effective_date)
    return ExportData(PERIOD, ChainHead(len(entries), "ab" * 32), accounts, tuple(entries))


def one_line(text: str) -> str:
    return " ".join(text.split())


def expected(data: ExportData, memo_of) -> list[tuple]:
    out = []
    opening = [(a.code, a.opening, a.currency) for a in data.accounts if a.opening]
    if opening:
        out.append((PERIOD.start, True, None, None, None, opening))
    for e in data.entries:
        lines = [(line.account, line.amount, line.currency) for line in e.lines]
        out.append((e.effective_date, False, str(e.id), e.kind, memo_of(e), lines))
    return out


def read_back(ledger: SourceLedger) -> list[tuple]:
    code = {a.name: a.code for a in ledger.accounts}
    return [(t.date, t.opening, t.source_id, t.kind, None if t.opening else t.memo,
             [(code[p.account], p.amount, p.currency) for p in t.postings]) for t in ledger.transactions]


def hledger_memo(entry: ExportEntry) -> str:
    return one_line(entry.memo).replace(";", ",") or entry.kind


def beancount_memo(entry: ExportEntry) -> str:
    return one_line(entry.memo or entry.kind)


@settings(max_examples=40)
@given(exports())
def test_an_hledger_export_reads_back_to_the_same_entries(data: ExportData) -> None:
    ledger = parse_hledger(to_hledger(data), "export.journal")
    got = read_back(ledger)
    want = expected(data, hledger_memo)
    assert [g[:4] + g[5:] for g in got] == [w[:4] + w[5:] for w in want]
    assert [g[4] for g in got if not g[1]] == [w[4] for w in want if not w[1]]
    for txn, entry in zip([t for t in ledger.transactions if not t.opening], data.entries, strict=True):
        assert txn.meta["ipb-hash"] == entry.hash
        assert txn.meta.get("ipb-reverses") == (str(entry.reverses) if entry.reverses else None)
    assert {a.code for a in ledger.accounts if a.code} == set(CODES)


@settings(max_examples=40)
@given(exports())
def test_a_beancount_export_reads_back_to_the_same_entries_and_its_balances_hold(data: ExportData) -> None:
    ledger = parse_beancount(to_beancount(data), "export.beancount")
    got = read_back(ledger)
    want = expected(data, beancount_memo)
    assert [g[:4] + g[5:] for g in got] == [w[:4] + w[5:] for w in want]
    assert [g[4] for g in got if not g[1]] == [w[4] for w in want if not w[1]]
    for txn, entry in zip([t for t in ledger.transactions if not t.opening], data.entries, strict=True):
        assert txn.meta["ipb-hash"] == entry.hash
    assert {(a.code, a.currency) for a in ledger.accounts} == {(a.code, a.currency) for a in data.accounts}


@settings(max_examples=20)
@given(exports())
def test_the_quick_path_and_the_careful_path_read_alike(data: ExportData) -> None:
    """A comment after each amount sends every posting the careful way; nothing else may change."""
    for parse, text in ((parse_hledger, to_hledger(data)), (parse_beancount, to_beancount(data))):
        careful = "\n".join(line + "  ; c" if line.startswith("  ") and line.rstrip()[-1:].isupper()
                            and ":" in line.split()[0] and "balance" not in line else line
                            for line in text.split("\n"))
        assert careful != text or not data.entries
        assert parse(careful, "f") == parse(text, "f")


def test_a_wrong_closing_balance_in_a_beancount_export_is_refused_on_its_line() -> None:
    lines = to_beancount(_fixed_export()).split("\n")
    at = next(i for i, line in enumerate(lines) if " balance Equity:Funder:Icb  -" in line)
    lines[at] = lines[at].replace("  -", "  ")
    line, reason = refusal(parse_beancount, "\n".join(lines))
    assert line == at + 1 and "balance assertion fails: Equity:Funder:Icb holds -1250.00 GBP" in reason


def _fixed_export() -> ExportData:
    names = account_names(CODES)
    accounts = tuple(ExportAccount(c, names[c], k, "GBP", LEDGER_START, 0) for c, k in CODES.items())
    entries = (ExportEntry(1, "1" * 64, date(2025, 5, 1), "allocation", "May; \"quoted\" \\ back", None,
                           (Line("person:P1:budget:2025-26:nhs", 125000), Line("funder:icb", -125000))),
               ExportEntry(2, "2" * 64, date(2025, 6, 1), "spend", "", 1,
                           (Line("provider:acme:paid", 1999), Line("person:P1:budget:2025-26:nhs", -1999))))
    return ExportData(PERIOD, ChainHead(2, "ab" * 32), accounts, entries)


def test_amounts_never_go_through_float(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _fixed_export()
    journal, beancount = to_hledger(data), to_beancount(data)
    big = "2025-05-01 big\n    a  £99,999,999,999.99\n    b  -99999999999.99 GBP\n"

    def no_float(*args):
        raise AssertionError("an amount went through float")

    monkeypatch.setattr(builtins, "float", no_float)
    assert postings(parse_hledger(journal, "j"))[0] == [("Assets:Person:P1:Budget:2025-26:Nhs", 125000, "GBP"),
                                                       ("Equity:Funder:Icb", -125000, "GBP")]
    assert postings(parse_beancount(beancount, "b"))[1][0] == ("Expenses:Provider:Acme:Paid", 1999, "GBP")
    assert postings(parse_hledger(big, "j")) == [[("a", 9999999999999, "GBP"), ("b", -9999999999999, "GBP")]]
    tenths = "2025-05-01 x\n" + "    a  0.10 GBP\n" * 3 + "    b  -0.30 GBP\n"  # 0.1 * 3 != 0.3 in float
    assert postings(parse_hledger(tenths, "j"))[0][-1] == ("b", -30, "GBP")


# --- hledger: what accountants write -------------------------------------------------

ACCOUNTANT = """\
; a journal kept by hand
# another comment
* and an org heading
comment
2025-01-01 not a transaction
end comment
commodity £1,000.00
account assets:bank  ; type: A
account expenses:food
    ; a subdirective comment

2025/04/01 * (INV-1) Opening | cash  ; source: ledger, checked:
    ; reviewed: yes
    assets:bank            £1,250.00
    * assets:petty cash      GBP 12.50
    equity:opening

2025.04.02=2025.04.03 ! Groceries  ; trip:
    expenses:food          -£5   ; a posting comment, who: me
    assets:bank            5.00 EUR
    assets:bank            £-5.00
    expenses:food           £10
    equity:opening      -5.00 EUR
P 2025-04-02 EUR £0.85
2025-04-03 Rent
    expenses:rent  £1,000 = £1,000
    assets:bank    = £245.00
"""


def test_an_accountants_journal_reads_as_hledger_reads_it() -> None:
    ledger = parse_hledger(ACCOUNTANT.replace("    assets:bank    = £245.00", "    assets:bank  £-1,000.00 = £245.00"),
                           "books.journal")
    first, second, third = ledger.transactions
    assert (first.line, first.date, first.source_id, first.memo) == (12, date(2025, 4, 1), "INV-1", "Opening | cash")
    assert first.meta == {"source": "ledger", "checked": "", "reviewed": "yes"}
    assert postings(ledger)[0] == [("assets:bank", 125000, "GBP"), ("assets:petty cash", 1250, "GBP"),
                                   ("equity:opening", -126250, "GBP")]
    assert (second.date, second.memo, second.meta) == (date(2025, 4, 2), "Groceries", {"trip": ""})
    assert postings(ledger)[1] == [("expenses:food", -500, "GBP"), ("assets:bank", 500, "EUR"),
                                   ("assets:bank", -500, "GBP"), ("expenses:food", 1000, "GBP"),
                                   ("equity:opening", -500, "EUR")]
    assert postings(ledger)[2] == [("expenses:rent", 100000, "GBP"), ("assets:bank", -100000, "GBP")]
    assert third.line == 25 and [p.line for p in third.postings] == [26, 27]
    assert [a.name for a in ledger.accounts] == ["assets:bank", "expenses:food"]


def test_the_amount_left_out_balances_each_currency() -> None:
    ledger = parse_hledger("2025-04-01 x\n    a  £3\n    b  2 EUR\n    c  EUR 1.50\n    d\n", "j")
    assert postings(ledger) == [[("a", 300, "GBP"), ("b", 200, "EUR"), ("c", 150, "EUR"),
                                 ("d", -300, "GBP"), ("d", -350, "EUR")]]
    assert [p.line for p in ledger.transactions[0].postings] == [2, 3, 4, 5, 5]


def test_a_tab_ends_an_account_name_as_two_spaces_do() -> None:
    # as hledger's manual says; hledger 1.25 itself still wanted two spaces
    ledger = parse_hledger("2025-04-01 x\n\tassets:petty cash\t£-5.00\n\tb\t\t5.00 GBP ; note\n", "j")
    assert postings(ledger) == [[("assets:petty cash", -500, "GBP"), ("b", 500, "GBP")]]


def test_dates_short_forms_and_the_default_currency() -> None:
    ledger = parse_hledger("Y 2025\nD £1,000.00\n04/01 x\n    a  12.50\n    b\n2025/4/2 y\n    a  -1\n    b\n", "j")
    assert [t.date for t in ledger.transactions] == [date(2025, 4, 1), date(2025, 4, 2)]
    assert postings(ledger) == [[("a", 1250, "GBP"), ("b", -1250, "GBP")], [("a", -100, "GBP"), ("b", 100, "GBP")]]


def test_zero_postings_and_empty_transactions_move_nothing() -> None:
    ledger = parse_hledger("2025-04-01 x\n    a  £0.00\n    b\n2025-04-02 y\n    a  £1\n    z  £0\n    b\n", "j")
    assert postings(ledger) == [[("a", 100, "GBP"), ("b", -100, "GBP")]]


def test_hledger_ipb_tags() -> None:
    text = ("2025-04-01 * opening balances  ; ipb-opening: 2025-04-01\n    a  1.00 GBP\n    b  -1.00 GBP\n\n"
            "2025-04-02 * (7) paid  ; ipb-kind: spend, ipb-hash: ab12, ipb-reverses: 3\n    a  1.00 GBP\n    b\n")
    opening, paid = parse_hledger(text, "j").transactions
    assert opening.opening and not paid.opening
    assert (paid.kind, paid.source_id, paid.meta) == ("spend", "7", {"ipb-hash": "ab12", "ipb-reverses": "3"})


TX = "2025-04-01 x\n"


@pytest.mark.parametrize(("text", "line", "words"), [
    ("include other.journal\n", 1, "include"),
    ("alias a = b\n", 1, "alias"),
    ("apply account x\n", 1, "apply"),
    ("~ monthly\n    a  £1\n    b\n", 1, "periodic"),
    ("= expenses\n    a  *2\n", 1, "automated"),
    ("decimal-mark ,\n", 1, "decimal point"),
    ("commodity 1.000,00 EUR\n", 1, "decimal comma"),
    ("bogus directive\n", 1, "unknown directive"),
    (TX + "    (a)  £1\n    b\n", 2, "virtual posting"),
    (TX + "    a  £1\n    [b]  £-1\n", 3, "virtual posting"),
    (TX + "    a  10 EUR @ £0.85\n    b\n", 2, "price"),
    (TX + "    a  10 EUR @@ £8.50\n    b\n", 2, "price"),
    (TX + "    a  £1\n    b  = £5\n", 3, "balance assignment"),
    (TX + "    a  £1.005\n    b\n", 2, "3 decimal places; GBP has 2"),
    (TX + "    a  1.5 JPY\n    b\n", 2, "JPY has 0"),
    (TX + "    a  12.50\n    b\n", 2, "no currency"),
    (TX + "    a  $12.50\n    b\n", 2, "unknown currency '$'"),
    (TX + "    a  10 AAPL\n    b\n", 2, "unknown currency 'AAPL'"),
    (TX + "    a  £1,2\n    b\n", 2, "malformed amount"),
    (TX + "    a  -£-1\n    b\n", 2, "two signs"),
    (TX + "    a\n    b\n", 3, "second posting without an amount"),
    ("\n\n" + TX + "    a  £1\n    b  £-0.99\n", 3, "does not balance: its postings add up to 0.01 GBP"),
    (TX + "    a  £100,000,000,000.01\n    b\n", 2, "beyond the largest amount"),
    ("2025-02-30 x\n    a  £1\n    b\n", 1, "not a date"),
    ("1999-04-01 x\n    a  £1\n    b\n", 1, "outside the years the ledger keeps"),
    ("    a  £1\n", 1, "indented line outside a transaction"),
    (TX + "    a  £1\n    b  £-1\n; a comment ends the transaction\n    c  £1\n", 5,
     "indented line outside a transaction"),
    (TX + "    a  £1 = £2\n    b\n", 2, "balance assertion fails: a holds 1.00 GBP here, not 2.00"),
    (TX + "    a  £1\n    a  1 EUR == £1\n    b\n", 3, "also holds 1.00 EUR"),
    ("2025-03-31 y\n    a:b  £1\n    c\n" + TX + "    a  £2 =* £3\n    c\n" + TX + "    a  £1 =* £5\n    c\n",
     8, "a holds 4.00 GBP here, not 5.00"),
])
def test_hledger_refusals_name_the_line(text: str, line: int, words: str) -> None:
    at, reason = refusal(parse_hledger, text)
    assert at == line and words in reason


def test_balance_assertions_count_in_date_order_then_file_order() -> None:
    text = ("2025-04-02 later\n    a  £10 = £13\n    b\n" + TX + "    a  £1 = £1\n    a  £2 = £3\n    b\n"
            "2025-04-02 same day, after\n    a  £1 = £14\n    b\n")
    assert len(parse_hledger(text, "j").transactions) == 3


# --- Beancount: what accountants write -----------------------------------------------

BOOKS = """\
option "title" "books"
option "operating_currency" "GBP"
plugin "beancount.plugins.auto_accounts"
* an org heading
2025-01-01 open Assets:Bank GBP,EUR
2025-01-01 open Assets:Bank:Savings EUR
2025-01-01 open Expenses:Food
  ipb-code: "provider:food"
2025-01-01 open Equity:Opening
2025-01-01 commodity GBP
2025-04-01 price EUR 0.85 GBP
pushtag #audit
2025-04-01 * "Tesco" "Weekly shop" #food ^receipt-1
  receipt: "R-1 \\"big\\""
  count: 2
  Assets:Bank  -1,250.00 GBP ; paid
    posting-note: "not the entry's"
  ! Expenses:Food  1250 GBP

2025-04-02 txn "Rent"
  Expenses:Food   10.00 EUR
  Assets:Bank
poptag #audit
2025-04-02 ! "Opening"
  Assets:Bank  15 EUR
  Assets:Bank:Savings  5.00 EUR
  Equity:Opening
2025-04-03 balance Assets:Bank  -1,250.00 GBP
2025-04-03 balance Assets:Bank  10.000 EUR
2025-04-03 balance Expenses:Food  1250.01 ~ 0.01 GBP
2025-04-04 note Assets:Bank "called the bank"
2025-04-04 event "location" "Leeds"
2025-04-05 close Equity:Opening
"""


def test_a_hand_kept_beancount_file_reads_as_bean_check_reads_it() -> None:
    ledger = parse_beancount(BOOKS, "books.beancount")
    shop, rent, opening = ledger.transactions
    assert (shop.line, shop.memo) == (13, "Tesco | Weekly shop")
    assert shop.meta == {"receipt": 'R-1 "big"', "count": "2", "tags": "audit food", "links": "receipt-1"}
    assert postings(ledger) == [[("Assets:Bank", -125000, "GBP"), ("Expenses:Food", 125000, "GBP")],
                                [("Expenses:Food", 1000, "EUR"), ("Assets:Bank", -1000, "EUR")],
                                [("Assets:Bank", 1500, "EUR"), ("Assets:Bank:Savings", 500, "EUR"),
                                 ("Equity:Opening", -2000, "EUR")]]
    assert (rent.memo, rent.meta, opening.meta) == ("Rent", {"tags": "audit"}, {})
    assert [(a.name, a.code, a.currency) for a in ledger.accounts] == [
        ("Assets:Bank", None, None), ("Assets:Bank:Savings", None, "EUR"), ("Expenses:Food", "provider:food", None),
        ("Equity:Opening", None, None)]


OPEN = "2025-01-01 open Assets:A GBP\n2025-01-01 open Assets:B\n"
BT = OPEN + "2025-04-01 * \"x\"\n"


@pytest.mark.parametrize(("text", "line", "words"), [
    ('include "other.beancount"\n', 1, "include"),
    ('plugin "beancount.plugins.unrealized"\n', 1, "plugin"),
    (OPEN + "2025-04-01 pad Assets:A Assets:B\n", 3, "pad"),
    (OPEN + "2025-04-01 custom-thing\n", 3, "unknown directive"),
    ("1999-01-01 open Assets:A\n1999-01-01 open Assets:B\n1999-12-31 balance Assets:A  0 GBP\n"
     "2000-03-31 * \"x\"\n  Assets:A  1 GBP\n  Assets:B\n", 4, "outside the years the ledger keeps"),
    (BT + "  Assets:A  1.00 GBP\n  Assets:C\n", 5, "Assets:C is not open on 2025-04-01"),
    ("2025-05-01 open Assets:A\n2025-01-01 open Assets:B\n2025-04-01 * \"x\"\n  Assets:A  1 GBP\n  Assets:B\n",
     4, "not open on 2025-04-01"),
    (BT + "  Assets:A  1.00 EUR\n  Assets:B\n", 4, "Assets:A takes GBP, not EUR"),
    (BT + "  Assets:B  1 AAPL {10.00 GBP}\n  Assets:A\n", 4, "cost"),
    (BT + "  Assets:B  1.00 EUR @ 0.85 GBP\n  Assets:A\n", 4, "price"),
    (BT + "  Assets:B  (1 + 2) GBP\n  Assets:A\n", 4, "arithmetic"),
    (BT + "  Assets:B  1.001 GBP\n  Assets:A\n", 4, "3 decimal places"),
    (BT + "  Assets:B\n  Assets:A\n", 5, "second posting without an amount"),
    (BT + "  Assets:B  1 GBP\n  Assets:A  -2 GBP\n", 3, "does not balance"),
    (OPEN + '2025-04-01 * "a" "b" "c"\n  Assets:A  1 GBP\n  Assets:B\n', 3, "more than two strings"),
    (OPEN + '2025-04-01 * "a" oops\n  Assets:A  1 GBP\n  Assets:B\n', 3, "unexpected 'oops'"),
    (BT + '  key: "unterminated\n  Assets:A  1 GBP\n  Assets:B\n', 4, "malformed string"),
    ("poptag #x\n", 1, "without a matching pushtag"),
    (OPEN + "2025-04-02 balance Assets:C  0 GBP\n", 3, "Assets:C is not open"),
    (BT + "  Assets:A  1.00 GBP\n  Assets:B\n2025-04-01 balance Assets:A  1.00 GBP\n", 6,
     "Assets:A holds 0.00 GBP here, not 1.00"),  # at the start of the day
    (BT + "  Assets:A  1.00 GBP\n  Assets:B\n2025-04-02 balance Assets:A  1.01 GBP\n", 6,
     "holds 1.00 GBP here, not 1.01"),  # exact to the penny
    (OPEN + "2025-01-01 open Assets:B:Sub\n2025-04-01 * \"x\"\n  Assets:A  1.00 GBP\n  Assets:B:Sub\n"
     "2025-04-02 balance Assets:B  0.00 GBP\n", 7, "Assets:B holds -1.00 GBP here, not 0.00"),  # subaccounts count
])
def test_beancount_refusals_name_the_line(text: str, line: int, words: str) -> None:
    at, reason = refusal(parse_beancount, text)
    assert at == line and words in reason


def test_beancount_opening_balances_of_ipbs_export() -> None:
    text = OPEN + ('2025-04-01 * "opening balances as of 2025-04-01"\n  Assets:A  1 GBP\n  Assets:B\n\n'
                   '2025-04-01 * "opening balances as of 2025-04-01"\n  ipb-entry: 4\n  Assets:A  1 GBP\n  Assets:B\n')
    assert [t.opening for t in parse_beancount(text, "b").transactions] == [True, False]


# --- ipb's CSV of entries ------------------------------------------------------------

CSV = """\
entry,date,kind,memo,account,amount,currency,key
e1,2025-05-01,allocation,"May, allocation",person:P1:budget:2025-26:nhs,"1,250.00",GBP,k-1
e1,2025-05-01,allocation,"May, allocation",funder:icb,-1250,GBP,k-1

e2,2025-05-02,,,bank:main,0.01,,
e2,2025-05-02,,,funder:icb,-0.01,,
"""


def test_an_entry_csv_reads_each_entry() -> None:
    ledger = parse_entry_csv(CSV, "entries.csv")
    first, second = ledger.transactions
    assert (first.line, first.source_id, first.date, first.kind, first.memo, first.meta) == (
        2, "e1", date(2025, 5, 1), "allocation", "May, allocation", {"key": "k-1"})
    assert (second.line, second.kind, second.memo, second.meta) == (5, None, "", {})
    assert postings(ledger) == [[("person:P1:budget:2025-26:nhs", 125000, "GBP"), ("funder:icb", -125000, "GBP")],
                                [("bank:main", 1, "GBP"), ("funder:icb", -1, "GBP")]]
    assert [(a.name, a.code, a.line) for a in ledger.accounts] == [
        ("person:P1:budget:2025-26:nhs", "person:P1:budget:2025-26:nhs", 2), ("funder:icb", "funder:icb", 3),
        ("bank:main", "bank:main", 5)]


def _csv(*rows: str, header: str = "entry,date,kind,memo,account,amount") -> str:
    return "\n".join([header, *rows]) + "\n"


R1, R2 = "e1,2025-05-01,,m,bank:main,1.00", "e1,2025-05-01,,m,funder:icb,-1.00"


@pytest.mark.parametrize(("text", "line", "words"), [
    ("", 1, "empty"),
    (_csv(R1, R2, header="entry,date,kind,memo,account"), 1, "missing column amount"),
    (_csv(R1, R2, header="entry,date,kind,memo,account,amount,colour"), 1, "unknown column 'colour'"),
    (_csv(R1, R2, header="entry,date,kind,memo,account,account"), 1, "column account twice"),
    (_csv(R1, "e1,2025-05-02,,m,funder:icb,-1.00"), 3, "date '2025-05-02' differs"),
    (_csv(R1, "e1,2025-05-01,,other,funder:icb,-1.00"), 3, "memo 'other' differs"),
    (_csv(R1, "e1,2025-05-01,,m,funder:icb,-1.0.0"), 3, "malformed amount"),
    (_csv(R1, "e1,2025-05-01,,m,funder:icb,-1.001"), 3, "3 decimal places"),
    (_csv(R1, "e1,2025-05-01,,m,funder:icb,-1e2"), 3, "malformed amount"),
    (_csv(R1, "e1,2025-05-01,,m,funder:icb,0.00"), 3, "zero"),
    (_csv(R1, R2, "e2,2025-05-01,,m,bank:main,1.00"), 4, "one posting"),
    (_csv(R1, "e2,2025-05-01,,m,bank:main,1.00", "e2,2025-05-01,,m,funder:icb,-1.00", R2), 2, "one posting"),
    (_csv(R1, R2, "e2,2025-05-01,,m,bank:main,1.00", "e2,2025-05-01,,m,funder:icb,-1.00", R2), 6, "began on line 2"),
    (_csv(R1, "e1,2025-05-01,,m,funder:icb,-2.00"), 2, "does not balance"),
    (_csv(R1, "e1,2025-05-01,,m,funder icb,-1.00"), 3, "not an ipb account code"),
    (_csv(R1, "e1,2025-05-01,gift,m,funder:icb,-1.00"), 3, "unknown kind 'gift'"),
    (_csv(R1, "e1,2025/05/01,,m,funder:icb,-1.00"), 3, "not a date"),
    (_csv(R1, "e1,2025-05-01,,m,funder:icb"), 3, "5 fields where the header has 6"),
    (_csv(R1, ",2025-05-01,,m,funder:icb,-1.00"), 3, "empty entry"),
    (_csv("e1,2025-05-01,,\"m\nm\",bank:main,1.00", "e1,2025-05-01,,m,funder:icb,-1.00"), 4, "memo 'm' differs"),
])
def test_entry_csv_refusals_name_the_line(text: str, line: int, words: str) -> None:
    at, reason = refusal(parse_entry_csv, text)
    assert at == line and words in reason


@settings(max_examples=30)
@given(st.lists(st.tuples(st.integers(-10**12, 10**12).filter(bool), st.sampled_from(CURRENCIES), MEMO),
                min_size=1, max_size=5))
def test_entry_csv_amounts_and_memos_round_trip(rows: list[tuple[int, str, str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["entry", "date", "kind", "memo", "account", "amount", "currency"])
    for number, (amount, currency, memo) in enumerate(rows):
        for account, signed in (("bank:main", amount), ("funder:icb", -amount)):
            places = minor_digits(currency)
            units, minor = divmod(abs(signed), 10**places)
            text = ("-" if signed < 0 else "") + str(units) + (f".{minor:0{places}d}" if places else "")
            writer.writerow([f"e{number}", "2025-05-01", "manual", memo.strip(), account, text, currency])
    ledger = parse_entry_csv(out.getvalue(), "e.csv")
    assert [(t.memo, [(p.amount, p.currency) for p in t.postings]) for t in ledger.transactions] == [
        (memo.strip(), [(amount, currency), (-amount, currency)]) for amount, currency, memo in rows]


# --- the tools themselves ------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(path).exists():
        if REQUIRED:
            pytest.fail(f"{name} is not installed, and IPB_REQUIRE_TOOLS=1 says the tools must be here")
        pytest.skip(f"{name} is not installed")
    return path


def totals(ledger: SourceLedger) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for txn in ledger.transactions:
        for p in txn.postings:
            out[p.account, p.currency] += p.amount
    return {key: value for key, value in out.items() if value}


def test_hledger_itself_gets_the_same_balances(tmp_path: Path) -> None:
    files = {"accountant": ACCOUNTANT.replace("    assets:bank    = £245.00", "    assets:bank  £-1,000 = £245"),
             "export": to_hledger(_fixed_export())}
    for name, text in files.items():
        path = tmp_path / f"{name}.journal"
        path.write_text(text, encoding="utf-8")
        run = subprocess.run([_tool("hledger"), "-f", str(path), "bal", "-O", "csv", "--flat", "--no-total",
                              "--layout=bare"], capture_output=True, text=True, check=True)
        theirs: dict[tuple[str, str], int] = defaultdict(int)
        for account, commodity, balance in list(csv.reader(io.StringIO(run.stdout)))[1:]:
            currency = {"£": "GBP"}.get(commodity, commodity)
            theirs[account, currency] += parse_hledger(f"2025-04-01 x\n    a  {balance} {currency}\n    b\n",
                                                       "t").transactions[0].postings[0].amount
        assert totals(parse_hledger(text, name)) == {k: v for k, v in theirs.items() if v}, name


def test_bean_check_agrees_with_the_parser(tmp_path: Path) -> None:
    tool = _tool("bean-check")
    good = {"books": BOOKS.replace('plugin "beancount.plugins.auto_accounts"\n', ""),
            "export": to_beancount(_fixed_export())}
    for name, text in good.items():
        path = tmp_path / f"{name}.beancount"
        path.write_text(text, encoding="utf-8")
        run = subprocess.run([tool, str(path)], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        parse_beancount(text, name)
    bad = BT + "  Assets:A  1.00 GBP\n  Assets:B\n2025-04-02 balance Assets:A  2.00 GBP\n"
    path = tmp_path / "bad.beancount"
    path.write_text(bad, encoding="utf-8")
    run = subprocess.run([tool, str(path)], capture_output=True, text=True)
    assert run.returncode != 0 and ":6:" in run.stdout + run.stderr
    assert refusal(parse_beancount, bad)[0] == 6


def test_the_cycle_collector_runs_again_after_a_file_is_read_or_refused() -> None:
    assert gc.isenabled()
    parse_hledger(TX + "    a  £1\n    b\n", "j")
    refusal(parse_beancount, "include \"x\"\n")
    assert gc.isenabled()


@pytest.mark.parametrize("amount", ["{big}.00 GBP", "£{big}.00", "GBP {big}"])
def test_an_amount_of_thousands_of_digits_is_refused_naming_the_line_not_a_crash(amount: str) -> None:
    """Python refuses to convert a string of 4,300+ digits to an int: each reader refuses it first."""
    posting = amount.format(big="1" * 5_000)
    with pytest.raises(ImportRefused, match=r"^f\.journal:3: an amount of 5,000 digits before the point is beyond"):
        parse_hledger(f"; a journal\n2025-04-02 x\n    Assets:A  {posting}\n    Assets:B\n", "f.journal")
    with pytest.raises(ImportRefused, match=r"^f\.csv:2: an amount of 5,000 digits"):
        parse_entry_csv(f"entry,date,kind,memo,account,amount\ne1,2025-04-02,,m,bank:a,{'1' * 5_000}.00\n"
                        f"e1,2025-04-02,,m,bank:b,-{'1' * 5_000}.00\n", "f.csv")
