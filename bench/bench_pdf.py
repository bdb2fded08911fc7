#!/usr/bin/env python
"""The demo year's general ledger as PDF, beside fpdf2 writing the same strings with nothing of ours in the way.

    .venv/bin/python bench/bench_pdf.py                  # 807 accounts, 18,748 rows (the demo year's); ~2 minutes
    .venv/bin/python bench/bench_pdf.py --quick          # 2,000 rows: a smoke run (seconds)
    .venv/bin/python bench/bench_pdf.py --old --runs 1   # also the renderer before issue 16: minutes a run
    .venv/bin/python bench/bench_pdf.py --json           # the same figures as one JSON object

Workload (seeded, in memory: the PDF is measured, not the query): a `GeneralLedger` report shaped like the
demo's, account codes, kinds and memos of the demo's kinds (payments to providers, direct payments, spend,
allocations, contributions), some names outside Latin-1, amounts from 0.01 to 5,000.00 with running balances.
Timed, each in turn, round by round (harness.round_robin), medians:

- **ours**: `render.document(report)` and `pdf.to_pdf(doc)`, to the PDF's bytes (fonts loaded, every row laid
  out, drawn, numbered, subset and compressed).
- **cell() baseline**: fpdf2 alone, the same font (`pdf.add_fonts`), A4 portrait, the same cell strings (made
  before timing), one `cell()` a cell at fixed widths, automatic page breaks, `output()`: what the issue
  named as the floor for this library.
- **text() baseline**: the same with `text()` at fixed positions, the cheapest way to place a string with
  fpdf2's public API (and what ours draws with): the real floor.
- **old** (`--old`): the renderer as it was before issue 16, kept below as it was: fpdf2's `table()`, the
  Helvetica core font, Latin-1 folding, one row per posting.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from harness import RULE, describe, fmt_ms, log, machine, render_table, round_robin, summary, timed  # noqa: E402

from ledger.calendar import parse_period  # noqa: E402
from ledger.money import format_amount  # noqa: E402
from ledger.reports import pdf  # noqa: E402
from ledger.reports.books import GeneralLedger, LedgerAccount, LedgerPosting  # noqa: E402
from ledger.reports.render import Document, document, row_text  # noqa: E402
from ledger.storage.reads import ChainHead  # noqa: E402

YEAR = parse_period("2025/26")
WIDTHS = (17.0, 11.0, 18.0, 90.0, 24.0, 26.0)  # mm: the baselines' columns (date, entry, kind, memo, amount, balance)
PROVIDERS = ("nursing-oaks", "homecare-north", "Łukasiewicz Home Care", "Zoë's Day Centre", "Northshire Mobility Ltd")
STREAMS = ("nhs-chc", "care-act", "s117", "personal-contribution")


def general_ledger(accounts: int, rows: int, seed: int) -> GeneralLedger:
    """A year's general ledger of `accounts` accounts and about `rows` rows (an opening row each, then postings)."""
    rng = random.Random(seed)
    weights = [rng.paretovariate(1.2) for _ in range(accounts)]
    scale = (rows - accounts) / sum(weights)
    out = []
    for i, weight in enumerate(weights):
        person = f"P{i % 200 + 1:04d}"
        code = ("bank:main", "bank:dp")[i] if i < 2 else f"person:{person}:2025-26:{STREAMS[i % 4]}:spent"
        balance = opening = rng.randrange(0, 5_000_000)
        postings = []
        day = YEAR.start
        for n in range(max(1, round(weight * scale))):
            day = min(YEAR.end, day + timedelta(days=rng.randrange(0, 3)))
            kind, memo = _posting(rng, person, day)
            amount = rng.choice((1, -1)) * rng.randrange(1, 500_000)
            balance += amount
            postings.append(LedgerPosting(day, 1_000 + i * 50 + n, kind, memo, amount, balance))
        out.append(LedgerAccount(code, "asset", "GBP", opening, tuple(postings)))
    return GeneralLedger(YEAR, ChainHead(rows, "5e" * 32), tuple(out))


def _posting(rng: random.Random, person: str, day: date) -> tuple[str, str]:
    provider = rng.choice(PROVIDERS)
    return rng.choice((
        ("payment", f"payment to {provider} INV {person}-PERSONAL"),
        ("payment", f"direct payment DP {person} {day:%d%m%y}"),
        ("spend", f"small equipment and sundries (equipment) for {person} from {provider}"),
        ("allocation", f"{rng.choice(STREAMS)} allocation 2025/26 from pool:bcf-2025"),
        ("contribution", f"assessed contribution from {person}"),
    ))


def cells_of(doc: Document) -> list[list[str]]:
    table = doc.tables[0]
    return [row_text(table, row, format_amount)[1:] for row in table.rows]


def baseline(cells: list[list[str]], with_text: bool) -> bytes:
    """fpdf2 alone: the same strings, the same font, A4 portrait, one call a cell at fixed widths."""
    from fpdf import FPDF

    out = FPDF(format="A4")
    pdf.add_fonts(out)
    out.set_auto_page_break(True, margin=16)
    out.add_page()
    out.set_font(pdf.FAMILY, "", pdf.SIZE)
    right = (False, False, False, False, True, True)
    for row in cells:
        if with_text:
            if out.y + 4 > out.page_break_trigger:
                out.add_page()
            x = out.l_margin
            for text, width in zip(row, WIDTHS):
                if text:
                    out.text(x + 1, out.y + 3, text)
                x += width
            out.y += 4
        else:
            for text, width, align in zip(row, WIDTHS, right):
                out.cell(width, 4, text, align="R" if align else "L")
            out.ln(4)
    return bytes(out.output())


def old_to_pdf(doc: Document) -> bytes:
    """The general ledger's PDF as ledger/reports/pdf.py made it before issue 16 (fpdf2 table(), Helvetica)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    def latin(text: str) -> str:
        folded = "".join(ch if ord(ch) < 256 else unicodedata.normalize("NFKD", ch)[0] for ch in text)
        return folded.encode("latin-1", "replace").decode("latin-1")

    out = FPDF(orientation="L", format="A4")  # seven columns: landscape under the old rule
    out.alias_nb_pages("{pages-in-all}")
    out.set_auto_page_break(True, margin=16)
    out.add_page()
    out.set_font("Helvetica", "B", 15)
    out.multi_cell(0, 8, latin(doc.title), new_x="LMARGIN", new_y="NEXT")
    table = doc.tables[0]
    out.set_font("Helvetica", "", 8)
    align = tuple("RIGHT" if column in table.money else "LEFT" for column in table.columns)
    with out.table(text_align=align, headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                   line_height=4.5) as grid:
        grid.row([latin(column) for column in table.columns])
        for row in table.rows:
            grid.row([latin(cell) for cell in row_text(table, row, format_amount)])
    return bytes(out.output())


def pages(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=807)
    parser.add_argument("--rows", type=int, default=18_748)
    parser.add_argument("--runs", type=int, default=3, help="rounds, each timing every measure once (default 3)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 100 accounts")
    parser.add_argument("--old", action="store_true", help="also time the renderer before issue 16 (slow)")
    parser.add_argument("--out", type=Path, help="write our PDF here, to look at")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.accounts, args.rows = 100, 2_000
    report = general_ledger(args.accounts, args.rows, args.seed)
    cells = cells_of(document(report))
    log(args.json, f"{len(cells):,} rows in {len(report.accounts)} accounts; {args.runs} rounds")
    made: dict[str, bytes] = {}

    def measure(name: str, make: Any) -> Any:
        def run(i: int) -> float:
            seconds = timed(lambda: made.__setitem__(name, make()))
            log(args.json, f"  {name}: {seconds:.1f} s")
            return seconds * 1000
        return run

    measures = {"ours": lambda: pdf.to_pdf(document(report)), "cell() baseline": lambda: baseline(cells, False),
                "text() baseline": lambda: baseline(cells, True)}
    if args.old:
        measures["old (before #16)"] = lambda: old_to_pdf(document(report))
    samples = round_robin([measure(name, make) for name, make in measures.items()], args.runs)
    results = {name: {**summary(s), "pages": pages(made[name])} for name, s in zip(measures, samples)}
    if args.out:
        args.out.write_bytes(made["ours"])
    _report(args, len(cells), results)


def _report(args: argparse.Namespace, rows: int, results: dict[str, dict[str, float]]) -> None:
    figures = {"machine": machine(("sqlalchemy", "fpdf2")), "rows": rows, "accounts": args.accounts,
               "results": results}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    ours = results["ours"]["median_ms"]
    lines = [("", "median", "pages", "rows/s", "ours / this"), RULE]
    for name, r in results.items():
        lines.append((name, fmt_ms(r["median_ms"]), f"{r['pages']:,}", f"{rows / r['median_ms'] * 1000:,.0f}",
                      f"{ours / r['median_ms']:.2f}x"))
    print(describe(figures["machine"]))
    print("\n".join(render_table(lines)))


if __name__ == "__main__":
    main()
