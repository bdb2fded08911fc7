"""What `ipb import` reads from another ledger's file, whatever the format: plain values, nothing posted.

Each parser (hledger journal, Beancount file, ipb CSV) turns a file into a `SourceLedger`; the import
service maps its account names to ipb codes and posts its transactions. Line numbers are the file's own
(1-based), so that every refusal can name the line it is about.

What the parsers promise the service (ledger/formats/hledger_journal.py, beancount_file.py, entry_csv.py):
- every transaction balances to zero in each currency; an amount the file left out is filled in (one
  posting per currency it balances, all on that posting's line); postings of zero are dropped, and a
  transaction left with none is dropped too;
- currencies are ISO codes in capitals (£ read as GBP, € as EUR); amounts are within `money.MAX_AMOUNT`;
- dates lie in the ledger's years;
- balance assertions (Beancount `balance`, hledger `= AMOUNT`) are checked by the parser against the
  file's own postings, as the tools check them, and refused naming their line: a `SourceLedger` carries
  none, and the service need not check them again;
- `meta` holds the file's other tags and metadata as text; Beancount's tags and links are in
  meta["tags"] and meta["links"] (space-separated), the CSV's `key` column in meta["key"].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from ledger.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class SourceAccount:
    name: str  # as the file names it: "Assets:Person:P1:Budget:Nhs", or an ipb code in ipb's own files
    line: int  # where it was declared (an hledger `account`, a Beancount `open`)
    code: str | None = None  # the `ipb-code` the export wrote beside it, if any
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class SourcePosting:
    account: str  # the file's account name
    amount: int  # signed minor units (pence): debit positive
    currency: str
    line: int


@dataclass(frozen=True, slots=True)
class SourceTransaction:
    line: int  # the line its date is on
    date: date
    memo: str
    postings: tuple[SourcePosting, ...]
    kind: str | None = None  # `ipb-kind`, if the file carries it
    source_id: str | None = None  # what names it in its file: `ipb-entry`, an hledger (code), a CSV entry column
    meta: Mapping[str, str] = field(default_factory=dict)  # the other tags/metadata, as text
    opening: bool = False  # ipb's export writes opening balances as one transaction tagged `ipb-opening`


@dataclass(frozen=True, slots=True)
class SourceLedger:
    name: str  # the file's name, as refusals cite it
    accounts: tuple[SourceAccount, ...]
    transactions: tuple[SourceTransaction, ...]


class ImportRefused(InvalidInput):
    """A file (or one line of it) that cannot be imported; the message starts with FILE:LINE."""

    code = "import_refused"


def refused(name: str, line: int, why: str) -> ImportRefused:
    return ImportRefused(f"{name}:{line}: {why}", file=name, line=line)
