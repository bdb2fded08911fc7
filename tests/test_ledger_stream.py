"""The general ledger is written as it is read (ledger/reports/ledger_out.py), and says exactly what it said when
it was held whole, with memory flat.

tests/golden/general_ledger/ holds the ledger of tests/test_reports_ledger.py as `render.render` wrote it before
the ledger was streamed (CSV, JSON, HTML, and the plain table a file or a pipe gets), for a year, two years, an
account prefix, a prefix that matches nothing and a year that opens with balances brought forward. The stamp is
fixed and the chain head's hash, which changes with the time an entry was recorded, is written HASH. The tests
against it are in tests/test_reports.py, which builds that ledger already.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from datetime import date, datetime
from pathlib import Path

from ledger.calendar import Period, parse_period
from ledger.cli.output import console
from ledger.journal import AccountType, Draft, Line
from ledger.reports import books as ledger_books
from ledger.reports import ledger_out, render
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_account

GOLDEN = Path(__file__).parent / "golden" / "general_ledger"
STAMP = render.Stamp("City Council", "tester", datetime(2026, 3, 31, 17, 5))
CASES = {"year": ("2025/26", None), "both": ("2025-04-01..2027-03-31", None), "pool": ("2025/26", "pool:"),
         "none": ("2025/26", "nothing:"), "next": ("2026/27", None)}
FORMATS = {"csv": "csv", "json": "json", "html": "html", "table": "txt"}


def period_of(text: str) -> Period:
    if ".." in text:
        start, end = (date.fromisoformat(day) for day in text.split(".."))
        return Period("both", start, end)
    return parse_period(text)


def streamed(engine, period: Period, prefix: str | None, fmt: str, stamp: render.Stamp | None = STAMP
             ) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The ledger written by ledger_out, and the chain head's hash."""
    buffer = io.StringIO()
    with ledger_books.ledger_stream(engine, period, prefix) as stream:
        ledger_out.write(stream, fmt, buffer, stamp, console(file=buffer, width=200))
    return buffer.getvalue(), stream.head.hash


def held(engine, period: Period, prefix: str | None, fmt: str) -> str:  # type: ignore[no-untyped-def]
    """The ledger held whole and rendered as it always was."""
    report = ledger_books.general_ledger(engine, period, prefix)
    if fmt != "table":
        return render.render(report, fmt, stamp=STAMP) or ""
    buffer = io.StringIO()
    render.render(report, fmt, console(file=buffer, width=200), stamp=STAMP)
    return buffer.getvalue()


HOSTILE = ["tab\there", "[bold]markup[/bold] :smile: [link=x]y[/link]", "<script>alert(1)</script> & \"q\" 'a'",
           "wide 日本語 and 👨‍👩‍👧 ok", "back\\slash, comma; semicolon", "  spaced  out  ", "=SUM(A1)", "é" * 80]


def test_hostile_memos_stream_as_they_render_whole(engine) -> None:  # type: ignore[no-untyped-def]
    for code, kind in (("bank:hostile", AccountType.ASSET), ("income:hostile", AccountType.INCOME)):
        open_account(engine, AccountSpec(code, kind, date(2025, 4, 1)))
    for n, memo in enumerate(HOSTILE, 1):
        journal.post(engine, Draft((Line("bank:hostile", n * 101), Line("income:hostile", -n * 101)),
                                   date(2025, 4, n), "manual", memo), actor="tester")
    period = parse_period("2025/26")
    for fmt in FORMATS:
        assert streamed(engine, period, None, fmt)[0] == held(engine, period, None, fmt), fmt
    plain = streamed(engine, period, None, "json", None)[0]
    assert [p["memo"] for a in json.loads(plain)["accounts"] for p in a["postings"]][:len(HOSTILE)] == HOSTILE


def test_memory_stays_flat_while_the_ledger_is_written(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Held whole, the ledger's memory grows with its postings; streamed, it stays at a chunk of rows."""
    for code, kind in (("bank:flat", AccountType.ASSET), ("income:flat", AccountType.INCOME)):
        open_account(engine, AccountSpec(code, kind, date(2025, 4, 1)))
    journal.post_many(engine, [(Draft((Line("bank:flat", 100 + n), Line("income:flat", -100 - n)),
                                      date(2025, 4, 1 + n % 28), "manual", f"posting number {n} of many"), f"flat-{n}")
                               for n in range(800)], actor="tester")
    monkeypatch.setattr(ledger_books, "CHUNK", 20)
    period = parse_period("2025/26")

    def peak(write) -> int:  # type: ignore[no-untyped-def]
        tracemalloc.start()
        try:
            write()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    class Sink(io.StringIO):
        def write(self, text: str) -> int:  # drop the text: the writer's own memory is measured
            return len(text)

    for fmt in ("csv", "json"):
        def stream() -> None:
            with ledger_books.ledger_stream(engine, period, None) as s:
                ledger_out.write(s, fmt, Sink(), STAMP)

        whole = peak(lambda: render.render(ledger_books.general_ledger(engine, period, None), fmt, stamp=STAMP))
        streamed_peak = peak(stream)
        assert streamed_peak * 4 < whole, fmt
