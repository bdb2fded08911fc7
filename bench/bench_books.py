#!/usr/bin/env python
"""The books: the trial balance beside the raw join, and the general ledger's memory at ~100k and ~1M postings.

    .venv/bin/python bench/bench_books.py            # ~100k and ~1M postings (about four minutes)
    .venv/bin/python bench/bench_books.py --quick    # ~10k and ~100k postings (under a minute)
    .venv/bin/python bench/bench_books.py --json     # the same figures as one JSON object

What runs, in order (see bench/README.md):

1. A fresh, migrated SQLite file with 3,000 accounts and ~33k entries of 2-4 postings (~100k postings), posted
   through `post_many` (bench_posting's workload, two financial years). Then a copy of that file grown to
   ~1M postings by copying its journal nine more times with plain INSERT ... SELECT (new ids and keys, the
   same days, accounts and amounts): the general ledger reads it like any other; verify would not accept it.
2. The trial balance from maintained balances (`trial_balance`), ours and the raw sqlite3 join in turn,
   round after round (harness.paired_ms), on the small file: beside the join of the columns
   bench_posting's baseline reads (id, code, type, currency, balance) and of the four ours reads; then
   the trial balance as of a date beside the raw GROUP BY; then `ipb report trial-balance`'s query
   (`trial_balance_report`: opening, period debits and credits) beside the same two GROUP BYs raw.
3. The general ledger of both years written as CSV to /dev/null, each in a fresh subprocess whose peak
   resident memory (ru_maxrss) is read at the end: held whole then rendered (`general_ledger` +
   `render.render`, as before #17), streamed (`ledger_stream` + `ledger_out.write`, what `ipb report ledger`
   does now), and the raw sqlite3 cursor over the same SQL writing the same rows with the csv module; with
   --formats csv,json,html, JSON and HTML streamed too. Each figure is the subprocess's own peak, beside its
   memory after imports (the floor of that peak).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from bench_posting import Workload, open_all  # noqa: E402
from harness import RULE, compare_row, describe, log, machine, paired_ms, raw_connect, render_table, scratch_dir  # noqa: E402

from ledger.calendar import Period  # noqa: E402

SMALL_ENTRIES, QUICK_ENTRIES = 33_334, 3_334  # x 3 postings on average
COPIES = 10  # the large file holds the small file's journal this many times
TARGET_TB_RATIO = 2.0  # issue 17: trial balance <= 2x the raw join
LEDGER_SQL = ("SELECT a.code, p.effective_date, p.entry_id, e.kind, e.memo, p.amount FROM postings p "
              "JOIN journal_entries e ON e.id = p.entry_id JOIN accounts a ON a.id = p.account_id "
              "WHERE p.pending = 0 AND p.effective_date BETWEEN ? AND ? "
              "ORDER BY a.code, p.effective_date, p.entry_id, p.id")
JOIN_SHORT = ("SELECT a.id, a.code, a.type, a.currency, b.balance FROM accounts a "
              "JOIN account_balances b ON b.account_id = a.id ORDER BY a.code")
JOIN_OURS = ("SELECT a.code, a.type, a.currency, b.balance FROM accounts a "  # what reads.posted_balances reads
             "JOIN account_balances b ON b.account_id = a.id ORDER BY a.code")


def period_of(workload: Workload) -> Period:
    return Period("bench", workload.start, workload.start + timedelta(days=workload.days - 1))


# --- 1. the files -------------------------------------------------------------------


def build(path: Path, workload: Workload, quiet: bool) -> int:
    from ledger.services.journal import post_many
    from ledger.storage.engine import open_engine

    engine = open_engine(f"sqlite:///{path}", create=True)
    open_all(engine, workload)
    for n, batch in enumerate(workload.batches(), 1):
        post_many(engine, batch, actor="bench")
        if n % 5 == 0:
            log(quiet, f"  {n * workload.batch:,} entries posted")
    engine.dispose()
    return _postings(path)


def grow(small: Path, large: Path, copies: int) -> int:
    """The small file with its journal copied `copies - 1` more times (ids shifted, keys suffixed)."""
    shutil.copyfile(small, large)
    raw = raw_connect(large)
    entries, postings = (raw.execute(f"SELECT max(id) FROM {t}").fetchone()[0] for t in ("journal_entries",
                                                                                         "postings"))
    columns = {t: [row[1] for row in raw.execute(f"PRAGMA table_info({t})")] for t in ("journal_entries",
                                                                                      "postings")}
    shifted = {"id": "id + :shift", "idempotency_key": "idempotency_key || ':' || :copy",
               "reverses_id": "reverses_id + :shift", "completes_id": "completes_id + :shift"}
    posting_shifts = {"id": "id + :pshift", "entry_id": "entry_id + :shift"}
    raw.execute("BEGIN IMMEDIATE")
    for copy in range(1, copies):
        values = {"shift": copy * entries, "pshift": copy * postings, "copy": copy}
        for table, change in (("journal_entries", shifted), ("postings", posting_shifts)):
            names = columns[table]
            raw.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT "
                        f"{', '.join(change.get(n, n) for n in names)} FROM {table} WHERE id <= :top",
                        {**values, "top": entries if table == "journal_entries" else postings})
    raw.execute("COMMIT")
    raw.close()
    return _postings(large)


def _postings(path: Path) -> int:
    raw = sqlite3.connect(path)
    count = raw.execute("SELECT count(*) FROM postings").fetchone()[0]
    raw.close()
    return int(count)


# --- 2. the trial balance -----------------------------------------------------------


def trial_balances(path: Path, workload: Workload, runs: int, quiet: bool) -> dict[str, Any]:
    from ledger.reports.balances import trial_balance
    from ledger.reports.books import trial_balance_report
    from ledger.storage.engine import make_engine

    log(quiet, "  trial balance, ours and raw in turn")
    engine = make_engine(f"sqlite:///{path}")
    raw = raw_connect(path)
    as_of, period = workload.as_of, period_of(workload)
    out: dict[str, Any] = {"accounts": len(trial_balance(engine).accounts)}
    ours, out["join_short"] = paired_ms(lambda i: trial_balance(engine), lambda i: raw.execute(JOIN_SHORT).fetchall(),
                                        runs, warmup=2)
    ours_again, out["join_ours"] = paired_ms(lambda i: trial_balance(engine),
                                             lambda i: raw.execute(JOIN_OURS).fetchall(), runs, warmup=1)
    out["ours"], out["ours_beside_ours"] = ours, ours_again
    sums = ("SELECT account_id, sum(amount) FROM postings WHERE effective_date <= ? AND pending = 0 "
            "GROUP BY account_id")
    out["as_of"], out["as_of_raw"] = paired_ms(lambda i: trial_balance(engine, as_of=as_of),
                                               lambda i: raw.execute(sums, (as_of.isoformat(),)).fetchall(), runs)
    sides = ("SELECT account_id, sum(CASE WHEN amount > 0 THEN amount ELSE 0 END), "
             "sum(CASE WHEN amount < 0 THEN amount ELSE 0 END) FROM postings "
             "WHERE pending = 0 AND effective_date BETWEEN ? AND ? GROUP BY account_id")

    def report_raw(i: int) -> None:
        raw.execute(JOIN_SHORT).fetchall()
        raw.execute(sums.replace("<=", "<"), (period.start.isoformat(),)).fetchall()
        raw.execute(sides, (period.start.isoformat(), period.end.isoformat())).fetchall()

    out["report"], out["report_raw"] = paired_ms(lambda i: trial_balance_report(engine, period), report_raw, runs)
    out["as_of_date"] = as_of.isoformat()
    raw.close()
    engine.dispose()
    return out


# --- 3. the general ledger's memory -------------------------------------------------


def child(mode: str, path: Path, fmt: str, start: str, end: str) -> None:
    """One general ledger to /dev/null in this process; prints its peak and after-import memory, and the time."""
    import csv

    if mode != "raw":  # the raw baseline imports nothing of the ledger's
        from ledger.reports import books, ledger_out, render
        from ledger.storage.engine import make_engine

        period = Period("bench", date.fromisoformat(start), date.fromisoformat(end))
        engine = make_engine(f"sqlite:///{path}")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    rows = 0
    with open("/dev/null", "w", encoding="utf-8") as sink:
        if mode == "whole":
            report = books.general_ledger(engine, period)
            sink.write(render.render(report, fmt) or "")
            rows = sum(len(a.postings) for a in report.accounts)
        elif mode == "stream":
            with books.ledger_stream(engine, period) as stream:
                ledger_out.write(stream, fmt, sink)
        else:
            raw = sqlite3.connect(path)
            writer = csv.writer(sink, lineterminator="\n")
            for row in raw.execute(LEDGER_SQL, (start, end)):
                writer.writerow(row)
                rows += 1
            raw.close()
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_mib": peak / 1024, "base_mib": base / 1024, "seconds": seconds, "rows": rows}))


def ledger_memory(path: Path, workload: Workload, formats: tuple[str, ...], quiet: bool) -> dict[str, Any]:
    period = period_of(workload)
    out: dict[str, Any] = {}
    for mode, fmt in [("whole", "csv"), ("stream", "csv"), ("raw", "csv"),
                      *(("stream", f) for f in formats if f != "csv")]:
        log(quiet, f"  general ledger of {path.name}: {mode} {fmt}")
        done = subprocess.run([sys.executable, __file__, "--child", mode, "--db", str(path), "--format", fmt,
                               "--start", period.start.isoformat(), "--end", period.end.isoformat()],
                              check=True, capture_output=True, text=True)
        out[f"{mode}_{fmt}"] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


# --- the table ----------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    tb = results["trial_balance"]
    lines = [f"trial balance over {tb['accounts']:,} accounts, {results['postings']['small']:,} postings; "
             f"general ledger at {results['postings']['small']:,} and {results['postings']['large']:,} postings; "
             f"{describe(results['machine'])}", ""]
    rows: list[Any] = [("Trial balance (median, in turn)", "ours", "raw sqlite3", "ratio", "baseline"), RULE,
                       compare_row("maintained balances", tb["ours"], tb["join_short"], "join: code, type, balance"),
                       compare_row("  the same", tb["ours_beside_ours"], tb["join_ours"], "join: ours' 4 columns"),
                       compare_row(f"as of {tb['as_of_date']}", tb["as_of"], tb["as_of_raw"], "GROUP BY postings"),
                       compare_row("ipb report trial-balance", tb["report"], tb["report_raw"],
                                   "join + 2 GROUP BYs")]
    lines += render_table(rows, last_left=True) + [""]
    memory: list[Any] = [("General ledger to /dev/null", "postings", "peak MiB", "after imports", "seconds"), RULE]
    for size in ("small", "large"):
        for name, figure in results["ledger"][size].items():
            memory.append((name.replace("_", " "), f"{results['postings'][size]:,}", f"{figure['peak_mib']:.0f}",
                           f"{figure['base_mib']:.0f}", f"{figure['seconds']:.1f}"))
    lines += render_table(memory)
    ratio = tb["ours"]["median_ms"] / tb["join_short"]["median_ms"]
    lines += ["", f"target: trial balance <= {TARGET_TB_RATIO:g}x the raw join: {ratio:.2f}x "
              f"{'met' if ratio <= TARGET_TB_RATIO else 'MISSED'}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="~10k and ~100k postings")
    parser.add_argument("--entries", type=int, help=f"entries of the small file (default {SMALL_ENTRIES:,})")
    parser.add_argument("--runs", type=int, default=15, help="runs of each trial balance to take the median of")
    parser.add_argument("--formats", default="csv", help="formats streamed at each size: csv, json, html")
    parser.add_argument("--dir", type=Path, help="where to put the files (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the files afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    for hidden in ("--child", "--db", "--format", "--start", "--end"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, Path(args.db), args.format, args.start, args.end)
        return 0
    entries = args.entries or (QUICK_ENTRIES if args.quick else SMALL_ENTRIES)
    workload = Workload(entries=entries, accounts=3000, batch=5000, seed=20261122)
    quiet = args.json
    with scratch_dir("ipb-books-", args.dir, args.keep) as workdir:
        small, large = workdir / "small.sqlite", workdir / "large.sqlite"
        log(quiet, f"ledger: {small}")
        began = time.perf_counter()
        results: dict[str, Any] = {"machine": machine(), "postings": {"small": build(small, workload, quiet)}}
        built = time.perf_counter() - began
        log(quiet, f"  built in {built:.0f} s; growing {large} to {COPIES} times its journal")
        results["postings"]["large"] = grow(small, large, COPIES)
        results["trial_balance"] = trial_balances(small, workload, args.runs, quiet)
        formats = tuple(args.formats.split(","))
        results["ledger"] = {"small": ledger_memory(small, workload, formats, quiet),
                             "large": ledger_memory(large, workload, formats, quiet)}
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
