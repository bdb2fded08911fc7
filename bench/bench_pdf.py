#!/usr/bin/env python
"""The demo year's general ledger as PDF, and statements one after another (what a document costs whatever its
size), each beside fpdf2 writing the same strings with nothing of ours in the way.

    .venv/bin/python bench/bench_pdf.py                  # 807 accounts, 18,748 rows (the demo year's); ~2 minutes
    .venv/bin/python bench/bench_pdf.py --quick          # 2,000 rows, 4 statements: a smoke run (seconds)
    .venv/bin/python bench/bench_pdf.py --statements 12 --rows 0   # the statements alone
    .venv/bin/python bench/bench_pdf.py --old --runs 1   # also the renderer before issue 16: minutes a run
    .venv/bin/python bench/bench_pdf.py --json           # the same figures as one JSON object

Workload (seeded, in memory: the PDF is measured, not the query): a `GeneralLedger` report shaped like the
demo's, account codes, kinds and memos of the demo's kinds (payments to providers, direct payments, spend,
allocations, contributions), some names outside Latin-1, amounts from 0.01 to 5,000.00 with running balances.
Timed, each in turn, round by round (harness.round_robin), medians:

- **ours**: `render.document(report)` and `pdf.to_pdf(doc)`, to the PDF's bytes (fonts loaded, every row laid
  out, drawn, numbered, subset and compressed).
- **cell() baseline**: fpdf2 alone, the same font (fpdf2's `add_font`), A4 portrait, the same cell strings (made
  before timing), one `cell()` a cell at fixed widths, automatic page breaks, `output()`: what the issue
  named as the floor for this library.
- **text() baseline**: the same with `text()` at fixed positions, the cheapest way to place a string with
  fpdf2's public API (and what ours draws with): the real floor.
- **old** (`--old`): the renderer as it was before issue 16, kept below as it was: fpdf2's `table()`, the
  Helvetica core font, Latin-1 folding, one row per posting.

Then `--statements N` documents shaped like the demo's statements (facts, a chart, three small tables, notes,
sign-off; each its own names and figures), made one after another in the same process, per document:

- **ours**: `pdf.to_pdf(doc)`: the font lent from the one parse (ledger/reports/pdf_shortcuts.py), paragraphs
  wrapped in one pass, each chart parsed once.
- **fpdf2's plain calls**: the same renderer with fpdf2's own calls in place of those shortcuts (`add_font` for
  every document, `multi_cell()`, `image()`): the renderer before issue 17, the same bytes.
- **text() baseline**: fpdf2 alone: `add_font` for both weights, each of the document's strings placed with
  `text()` a line apart, the chart with `image()`, `output()`.
- **first in a process**, ours and plain calls: one statement in a fresh process of this script (fpdf2 imported
  before the clock starts), as `ipb report ... -O pdf` makes one: ours pays the font's one parse there.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from harness import RULE, describe, fmt_ms, log, machine, render_table, round_robin, summary, timed  # noqa: E402

from ledger.calendar import parse_period  # noqa: E402
from ledger.money import format_amount  # noqa: E402
from ledger.reports import pdf, pdf_shortcuts  # noqa: E402
from ledger.reports.books import GeneralLedger, LedgerAccount, LedgerPosting  # noqa: E402
from ledger.reports.charts import bar_chart, printable  # noqa: E402
from ledger.reports.render import Document, Table, document, row_text  # noqa: E402
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
    add_font(out)
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


def add_font(out: Any) -> None:
    """Our font, as fpdf2 alone adds it: parsed for this document."""
    for style, path in pdf_shortcuts.FACES.items():
        out.add_font(pdf.FAMILY, style, path)


def statement(i: int, rng: random.Random) -> Document:
    """A document shaped like a demo statement: facts, a month-by-month chart, three small tables, notes, sign-off."""
    months = ["Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"]
    person = f"P{i:04d} {rng.choice(PROVIDERS)}"
    amounts = [rng.randrange(1, 500_000) for _ in months]
    chart = bar_chart(f"Budget 2025/26 for {person}, month by month", months, [("spent", amounts)])
    money = Table("Money in and out", ("date", "kind", "memo", "in", "out", "balance"),
                  frozenset({"in", "out", "balance"}),
                  tuple((f"2025-{m:02d}-01", kind, memo, a, -a // 3, a * 2)
                        for m, a in enumerate(amounts[:19], start=1)
                        for kind, memo in [_posting(rng, person, YEAR.start)]))
    streams = Table("Funding streams", ("stream", "allocated", "spent", "left"),
                    frozenset({"allocated", "spent", "left"}),
                    tuple((s, rng.randrange(0, 9_000_000), rng.randrange(0, 900_000), 0) for s in STREAMS))
    plan = Table("What is left of your plan", ("item", "planned", "spent"), frozenset({"planned", "spent"}),
                 (("care at home", 1_200_000, 800_000), ("day centre", 300_000, 120_000)))
    notes = tuple(f"Note {n} for {person}: " + " ".join(rng.choice(("the", "budget", "allocated", "Łódź", "£1,234.56",
                                                                     "plan", "contribution", "respite", "care"))
                                                          for _ in range(rng.randrange(15, 60))) for n in range(4))
    return Document("statement", f"Budget statement for {person}", (("person", person), ("year", "2025/26")),
                    (streams, money, plan), ChainHead(i, "5e" * 32), notes, charts=(chart,),
                    signoff=("Prepared by (host)",))


def plain_calls(doc: Document) -> bytes:
    """`pdf.to_pdf` with fpdf2's own calls in place of the shortcuts: what it was before issue 17."""
    saved = pdf.add_fonts, pdf.wrapped, pdf._chart
    pdf.add_fonts, pdf.wrapped, pdf._chart = add_font, (lambda out, text: None), _plain_chart
    try:
        return pdf.to_pdf(doc)
    finally:
        pdf.add_fonts, pdf.wrapped, pdf._chart = saved


def _plain_chart(out: Any, chart: Any) -> None:
    """pdf._chart before issue 17: the SVG parsed for its size, then again by image()."""
    from fpdf.svg import SVGObject

    width = min(out.epw, 170.0)
    drawn = printable(chart.svg, pdf.FAMILY, heading=False)
    svg = SVGObject(drawn)
    _, _, box_w, box_h = svg.viewbox or (0, 0, svg.width, svg.height)
    height = width * float(box_h) / float(box_w)
    pdf._title(out, chart.title, keep=height + 10)
    out.image(io.BytesIO(drawn.encode()), x=out.l_margin, w=width, h=height)
    pdf._paragraph(out, chart.summary, 8, "", 4)


def text_baseline(doc: Document) -> bytes:
    """fpdf2 alone: the document's strings a line apart with text(), its chart with image()."""
    from fpdf import FPDF

    out = FPDF(format="A4")
    add_font(out)
    out.set_auto_page_break(True, margin=16)
    out.add_page()
    out.set_font(pdf.FAMILY, "", pdf.SIZE)
    strings = [doc.title, *(f"{label}: {value}" for label, value in doc.facts), *doc.notes, *doc.signoff]
    for table in doc.tables:
        strings += [table.title, *("  ".join(row_text(table, row, format_amount)) for row in table.rows)]
    for chart in doc.charts:
        out.image(io.BytesIO(printable(chart.svg, pdf.FAMILY, heading=False).encode()), x=out.l_margin, w=170)
    for text in strings:
        if out.y + 4 > out.page_break_trigger:
            out.add_page()
        out.text(out.l_margin, out.y + 3, text[:150])
        out.y += 4
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
    parser.add_argument("--rows", type=int, default=18_748, help="general ledger rows (0: leave it out)")
    parser.add_argument("--statements", type=int, default=12, help="statements made one after another (0: none)")
    parser.add_argument("--runs", type=int, default=3, help="rounds, each timing every measure once (default 3)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 100 accounts, 4 statements")
    parser.add_argument("--old", action="store_true", help="also time the renderer before issue 16 (slow)")
    parser.add_argument("--out", type=Path, help="write our PDF here, to look at")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--first", choices=("ours", "plain"), help=argparse.SUPPRESS)  # run by _first
    args = parser.parse_args()
    if args.first:
        return _one_first(args.first, args.seed)
    if args.quick:
        args.accounts, args.rows, args.statements = 100, min(args.rows, 2_000), min(args.statements, 4)
    figures: dict[str, Any] = {"machine": machine(("sqlalchemy", "fpdf2", "fonttools"))}
    if args.rows:
        figures["ledger"] = _ledger(args)
    if args.statements:
        figures["statements"] = _statements(args)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(describe(figures["machine"]), flush=True)
    if args.rows:
        print("\n".join(_ledger_table(figures["ledger"])))
    if args.statements:
        print("\n".join(_statements_table(figures["statements"])))


def _timer(args: argparse.Namespace, made: dict[str, Any], name: str, make: Any) -> Any:
    def run(i: int) -> float:
        seconds = timed(lambda: made.__setitem__(name, make()))
        log(args.json, f"  {name}: {seconds:.1f} s")
        return seconds * 1000
    return run


def _ledger(args: argparse.Namespace) -> dict[str, Any]:
    report = general_ledger(args.accounts, args.rows, args.seed)
    cells = cells_of(document(report))
    log(args.json, f"{len(cells):,} rows in {len(report.accounts)} accounts; {args.runs} rounds")
    made: dict[str, bytes] = {}
    measures = {"ours": lambda: pdf.to_pdf(document(report)), "cell() baseline": lambda: baseline(cells, False),
                "text() baseline": lambda: baseline(cells, True)}
    if args.old:
        measures["old (before #16)"] = lambda: old_to_pdf(document(report))
    samples = round_robin([_timer(args, made, name, make) for name, make in measures.items()], args.runs)
    results = {name: {**summary(s), "pages": pages(made[name])} for name, s in zip(measures, samples)}
    if args.out:
        args.out.write_bytes(made["ours"])
    return {"rows": len(cells), "accounts": args.accounts, "results": results}


def _statements(args: argparse.Namespace) -> dict[str, Any]:
    """Each measure makes all the statements in turn; a document's cost is the round's time over their number. The
    first document a process makes also parses the font (the CLI makes one): timed apart, the parse forgotten."""
    rng = random.Random(args.seed)
    docs = [statement(i, rng) for i in range(1, args.statements + 1)]
    log(args.json, f"{len(docs)} statements; {args.runs} rounds")
    made: dict[str, list[bytes]] = {}
    measures = {"ours": lambda: [pdf.to_pdf(doc) for doc in docs],
                "fpdf2's plain calls": lambda: [plain_calls(doc) for doc in docs],
                "text() baseline": lambda: [text_baseline(doc) for doc in docs]}
    samples = round_robin([_both(args, made, name, make) for name, make in measures.items()], args.runs, warmup=1)
    same = all(_same(a) == _same(b) for a, b in zip(made["ours"], made["fpdf2's plain calls"]))
    results = {name: {**summary([wall / len(made[name]) for wall, _ in s]),
                      "cpu_median_ms": statistics.median(cpu / len(made[name]) for _, cpu in s),
                      "pages": pages(made[name][0])}
               for name, s in zip(measures, samples)}
    firsts = round_robin([lambda i, way=way: _first(args, way) for way in ("ours", "plain")], args.runs)
    for name, s in zip(("ours, first in a process", "plain calls, first in a process"), firsts):
        results[name] = {**summary([wall for wall, _ in s]), "cpu_median_ms": statistics.median(c for _, c in s),
                         "pages": results["ours"]["pages"]}
    return {"documents": len(docs), "same_bytes": same, "results": results}


def _first(args: argparse.Namespace, way: str) -> tuple[float, float]:
    """The first statement of a fresh process (what `ipb report ... -O pdf` makes), fpdf2 imported beforehand."""
    out = subprocess.run([sys.executable, __file__, "--first", way, "--seed", str(args.seed)], check=True,
                         capture_output=True, text=True).stdout.split()
    log(args.json, f"  {way}, first in a process: {float(out[0]) / 1000:.1f} s ({float(out[1]) / 1000:.1f} s CPU)")
    return float(out[0]), float(out[1])


def _one_first(way: str, seed: int) -> None:
    import fontTools.subset  # noqa: F401  imported before timing: both ways import the same
    import fpdf.svg  # noqa: F401

    doc = statement(1, random.Random(seed))
    cpu, wall = time.process_time(), time.perf_counter()
    (pdf.to_pdf if way == "ours" else plain_calls)(doc)
    print((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)


def _both(args: argparse.Namespace, made: dict[str, Any], name: str, make: Any) -> Any:
    """A round's wall time and this process's CPU time, in ms: the CPU time moves less when others share the
    machine (one thread: it is the work done)."""
    def run(i: int) -> tuple[float, float]:
        cpu = time.process_time()
        wall = timed(lambda: made.__setitem__(name, make()))
        cpu = time.process_time() - cpu
        log(args.json, f"  {name}: {wall:.1f} s ({cpu:.1f} s CPU)")
        return wall * 1000, cpu * 1000
    return run


def _same(data: bytes) -> bytes:
    return re.sub(rb"/CreationDate \(D:[^)]*\)|/ID \[[^\]]*\]", b"", data)


def _ledger_table(figures: dict[str, Any]) -> list[str]:
    results, rows = figures["results"], figures["rows"]
    ours = results["ours"]["median_ms"]
    lines = [("general ledger", "median", "pages", "rows/s", "ours / this"), RULE]
    for name, r in results.items():
        lines.append((name, fmt_ms(r["median_ms"]), f"{r['pages']:,}", f"{rows / r['median_ms'] * 1000:,.0f}",
                      f"{ours / r['median_ms']:.2f}x"))
    return render_table(lines)


def _statements_table(figures: dict[str, Any]) -> list[str]:
    results = figures["results"]
    lines = [(f"{figures['documents']} statements", "a document", "CPU", "pages", "ours / this (CPU)"), RULE]
    for name, r in results.items():
        base = results["ours" if "first" not in name else "ours, first in a process"]
        lines.append((name, fmt_ms(r["median_ms"]), fmt_ms(r["cpu_median_ms"]), f"{r['pages']:,}",
                      f"{base['median_ms'] / r['median_ms']:.2f}x ({base['cpu_median_ms'] / r['cpu_median_ms']:.2f}x)"))
    note = "the same bytes as fpdf2's plain calls" if figures["same_bytes"] else "NOT the same bytes as plain calls"
    return ["", *render_table(lines), f"ours: {note} (creation date aside)"]


if __name__ == "__main__":
    main()
