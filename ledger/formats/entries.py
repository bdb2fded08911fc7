"""Entry files for `ipb post --file`: one entry, or many under `entries`, in TOML or JSON.

    date = "2025-05-01"          # effective date
    kind = "allocation"          # optional, default "manual"
    memo = "May allocation"      # optional
    key = "alloc-2025-05-P1"     # optional idempotency key
    hold = false                 # true places a pending hold instead of posting
    [[postings]]
    account = "person:P1:budget:nhs"
    amount = "1,250.00"          # pounds as a string (debit positive, credit negative) ...
    [[postings]]
    account = "funder:icb"
    pence = -125000              # ... or whole pence as an integer

Amounts are never read from floats: 12.5 in a file is refused, "12.50" is not.
"""

from __future__ import annotations

from datetime import date  # noqa: F401  pydantic resolves the "date" annotations at runtime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, model_validator

from ledger.calendar import in_ledger_years
from ledger.errors import refused_as
from ledger.formats.documents import invalid_document, load_mapping
from ledger.identifiers import whole_number
from ledger.journal import Draft, Line, Phase
from ledger.money import parse_amount, within_limit


class PostingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: StrictStr
    amount: StrictStr | None = None
    pence: StrictInt | None = None
    currency: StrictStr = "GBP"

    @model_validator(mode="after")
    def _one_amount(self) -> PostingIn:
        if (self.amount is None) == (self.pence is None):
            raise ValueError("give exactly one of amount (a string like \"12.50\") or pence (an integer)")
        return self

    def line(self) -> Line:
        minor = within_limit(self.pence, self.currency) if self.pence is not None else parse_amount(
            self.amount or "", self.currency)
        return Line(self.account, minor, self.currency.upper())


_ID_META = ("corrects", "payment")  # meta naming an entry or a payment by its id


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: date
    postings: Annotated[list[PostingIn], Field(min_length=2)]
    kind: StrictStr = "manual"
    memo: StrictStr = ""
    key: StrictStr | None = None
    hold: bool = False
    meta: dict[str, StrictStr] = Field(default_factory=dict)

    def draft(self) -> Draft:
        in_ledger_years(self.date)
        for name in _ID_META:  # ids ipb reads back from meta: the digits 0-9, within what the database stores
            if name in self.meta:
                whole_number(self.meta[name], f"meta.{name}", least=1)
        return Draft(
            lines=tuple(p.line() for p in self.postings),
            effective_date=self.date,
            kind=self.kind,
            memo=self.memo,
            phase=Phase.PENDING if self.hold else Phase.POSTED,
            meta=self.meta,
        )


class EntriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: Annotated[list[EntryIn], Field(min_length=1)]


def read_entries(path: Path, raw: bytes | None = None) -> list[tuple[Draft, str | None]]:
    """Parse an entry file (`raw`: its bytes, if read already) into drafts and their keys; every problem names
    where it is."""
    data = load_mapping(path, raw)
    try:
        entries = EntriesIn.model_validate(data).entries if "entries" in data else [EntryIn.model_validate(data)]
    except ValidationError as exc:
        raise invalid_document(path, exc) from None
    out = []
    for index, entry in enumerate(entries):
        with refused_as(f"{path}: entry {index + 1}"):
            out.append((entry.draft(), entry.key))
    return out

