#!/usr/bin/env python
"""`ipb import` + trial balance of a 100,000-transaction journal, beside `hledger bal` and `bean-check`.

    .venv/bin/python bench/bench_import.py            # 100,000 transactions, ~250k postings (many minutes)
    .venv/bin/python bench/bench_import.py --quick    # 10,000 transactions, one round (a smoke run)
    .venv/bin/python bench/bench_import.py --json     # the same figures as one JSON object

What runs (see bench/README.md):

1. The journal: a scratch SQLite ledger of 1,000 accounts (every type) and N transactions of 2 or 3
   postings (2.5 on average) in the 2025/26 financial year, posted with `post_many`, then exported by
   ipb itself (`ledger.reports.exports`) as an hledger journal and a Beancount file. Not timed.
2. Round after round, interleaved (harness.round_robin), each a fresh process:
   - `ipb import X.journal --open-accounts` into a fresh, migrated SQLite ledger (made before the
     clock starts), then `ipb report trial-balance -p 2025/26` on it;
   - the same with X.beancount;
   - `hledger -f X.journal bal` and `bean-check X.beancount` (which also checks every closing balance).
   The ratios ipb / tool are what count: the machine is shared, absolute times drift.
3. Where ipb's time goes, in this process once: parsing each file, and the import service's posting
   (from `ipb import --json`'s own timing, less the parse).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from harness import RULE, describe, fmt_ms, log, machine, render_table, round_robin, scratch_dir, summary, timed  # noqa: E402,I001

from ledger.calendar import financial_year  # noqa: E402
from ledger.formats.beancount_file import parse_beancount  # noqa: E402
from ledger.formats.hledger_journal import parse_hledger  # noqa: E402
from ledger.journal import AccountType, Draft, Line  # noqa: E402
from ledger.reports import exports  # noqa: E402
from ledger.services.accounts import AccountSpec, open_accounts  # noqa: E402
from ledger.services.journal import post_many  # noqa: E402
from ledger.storage.engine import open_engine  # noqa: E402

FULL, QUICK = 100_000, 10_000
ACCOUNTS = 1_000
TYPES = tuple(AccountType)
FY = 2025
GOAL = 5.0  # issue 17: ipb import + trial balance 5x faster than both tools
BIN = Path(sys.executable).parent


def tool(name: str) -> str | None:
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


# --- 1. the journal ------------------------------------------------------------------


def build(path: Path, transactions: int, seed: int = 17) -> tuple[int, int]:
    """A scratch ledger of `transactions` 2- or 3-posting entries over one financial year: (entries, postings)."""
    engine = open_engine(f"sqlite:///{path}", create=True)
    start = financial_year(FY).start
    codes = [f"bench:{TYPES[i % 5]}:{i:04d}" for i in range(ACCOUNTS)]
    open_accounts(engine, [AccountSpec(code, TYPES[i % 5], start) for i, code in enumerate(codes)])
    rng, postings, batch = random.Random(seed), 0, []
    for n in range(transactions):
        picked = rng.sample(codes, rng.choice((2, 3)))
        amounts = [rng.choice((1, -1)) * rng.randint(1, 50_000) for _ in picked[1:]]
        if sum(amounts) == 0:
            amounts[0] += 1
        lines = (*(Line(code, amount) for code, amount in zip(picked[1:], amounts)), Line(picked[0], -sum(amounts)))
        day = start + timedelta(days=n * 365 // transactions)
        batch.append((Draft(lines, day, "manual", f"bench transaction {n + 1}"), f"bench:{n + 1}"))
        postings += len(lines)
        if len(batch) == 5_000:
            post_many(engine, batch, actor="bench")
            batch = []
    if batch:
        post_many(engine, batch, actor="bench")
    engine.dispose()
    return transactions, postings


def export(path: Path, out: Path) -> tuple[Path, Path]:
    engine = open_engine(f"sqlite:///{path}")
    data = exports.export_data(engine, financial_year(FY))
    engine.dispose()
    journal, beancount = out / "books.journal", out / "books.beancount"
    journal.write_text(exports.to_hledger(data), encoding="utf-8")
    beancount.write_text(exports.to_beancount(data), encoding="utf-8")
    return journal, beancount


# --- 2. the runs ---------------------------------------------------------------------


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "IPB_USER": "bench"})
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(args)} failed ({done.returncode}): "
                         f"{(done.stderr or done.stdout).strip()[:500]}")
    return done


def fresh_ledger(ipb: str, url: str) -> None:
    """A migrated ledger with an administrator and the officer `bench` who imports (admins move no money), made
    by the same `ipb` the runs use (so by the schema it expects, whatever this process imported)."""
    run([ipb, "--db", url, "init"])
    run([ipb, "--db", url, "--as", "admin", "user", "add", "admin", "--role", "admin"])
    run([ipb, "--db", url, "--as", "admin", "user", "add", "bench", "--role", "officer"])


class IpbImport:
    """`ipb import FILE` into a fresh ledger, then the trial balance: (import s, trial balance s)."""

    def __init__(self, work: Path, file: Path) -> None:
        self.work, self.file, self.ipb = work, file, tool("ipb") or "ipb"
        self.last: dict[str, Any] = {}

    def __call__(self, round_no: int) -> tuple[float, float]:
        db = self.work / f"target-{self.file.suffix[1:]}-{round_no}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
        fresh_ledger(self.ipb, url)  # before the clock starts
        started = time.perf_counter()
        done = run([self.ipb, "--db", url, "import", str(self.file), "--open-accounts", "--json"])
        imported = time.perf_counter() - started
        balance = timed(lambda: run([self.ipb, "--db", url, "report", "trial-balance", "-p", f"{FY}/{(FY + 1) % 100}",
                                     "--json"]))
        self.last = json.loads(done.stdout)
        return imported, balance


def measure(work: Path, journal: Path, beancount: Path, rounds: int, quiet: bool) -> dict[str, Any]:
    hledger, bean_check = tool("hledger"), tool("bean-check")
    if hledger is None or bean_check is None:
        raise SystemExit("bench: needs hledger on PATH and bean-check (pip install beancount)")
    ours_j, ours_b = IpbImport(work, journal), IpbImport(work, beancount)

    def step(name: str, fn: Any) -> Any:
        def go(i: int) -> Any:
            log(quiet, f"  round {i + 1}: {name}")
            return fn(i)
        return go

    samples = round_robin([
        step("ipb import books.journal + trial balance", ours_j),
        step("hledger -f books.journal bal", lambda i: timed(lambda: run([hledger, "-f", str(journal), "bal"]))),
        step("ipb import books.beancount + trial balance", ours_b),
        step("bean-check books.beancount", lambda i: timed(lambda: run([bean_check, str(beancount)]))),
    ], rounds)
    ms = [[value * 1000 for value in side] for side in samples[1::2]]
    out = {"hledger_bal": summary(ms[0]), "bean_check": summary(ms[1])}
    for name, side, last in (("journal", samples[0], ours_j.last), ("beancount", samples[2], ours_b.last)):
        out[f"ipb_{name}"] = summary([(a + b) * 1000 for a, b in side])
        out[f"ipb_{name}_import"] = summary([a * 1000 for a, _ in side])
        out[f"ipb_{name}_trial_balance"] = summary([b * 1000 for _, b in side])
        out[f"ipb_{name}_service_s"] = last.get("seconds")
    return out


def parse_costs(journal: Path, beancount: Path) -> dict[str, float]:
    """Milliseconds to parse each file in this process: the part of an import that is not posting."""
    text_j, text_b = journal.read_text(encoding="utf-8"), beancount.read_text(encoding="utf-8")
    return {"parse_journal_ms": timed(lambda: parse_hledger(text_j, journal.name)) * 1000,
            "parse_beancount_ms": timed(lambda: parse_beancount(text_b, beancount.name)) * 1000}


# --- the report ----------------------------------------------------------------------


def table(result: dict[str, Any]) -> list[str]:
    m = result
    rows: list[tuple[str, ...] | str | None] = [("", "median", "baseline", "ipb / tool", "goal"), RULE]
    for name, base_name, base in (("journal", "hledger -f X bal", "hledger_bal"),
                                  ("beancount", "bean-check X", "bean_check")):
        ours, other = m[f"ipb_{name}"]["median_ms"], m[base]["median_ms"]
        rows.append((f"ipb import + trial balance ({name}) vs {base_name}", fmt_ms(ours), fmt_ms(other),
                     f"{ours / other:.2f}x", f"<= {1 / GOAL:.2f}x"))
    rows += [RULE]
    for name in ("journal", "beancount"):
        rows.append((f"  of which ipb import ({name})", fmt_ms(m[f"ipb_{name}_import"]["median_ms"]), "", "", ""))
        rows.append((f"  of which trial balance ({name})", fmt_ms(m[f"ipb_{name}_trial_balance"]["median_ms"]),
                     "", "", ""))
        rows.append((f"  of which parse, in process ({name})", fmt_ms(m[f"parse_{name}_ms"]), "", "", ""))
    return render_table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} transactions, one round")
    parser.add_argument("--transactions", type=int, help=f"how many (default {FULL:,})")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; 1 with --quick)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    transactions = args.transactions or (QUICK if args.quick else FULL)
    rounds = args.rounds or (1 if args.quick else 3)
    quiet = args.json
    with scratch_dir("ipb-bench-import-", keep=args.keep) as work:
        log(quiet, f"building a ledger of {transactions:,} transactions and exporting it")
        start = time.perf_counter()
        entries, postings = build(work / "source.sqlite", transactions)
        built = time.perf_counter() - start
        journal, beancount = export(work / "source.sqlite", work)
        log(quiet, f"  built in {built:.1f} s: {entries:,} transactions, {postings:,} postings")
        result: dict[str, Any] = {"machine": machine(("sqlalchemy", "beancount")), "transactions": entries,
                                  "postings": postings, "rounds": rounds,
                                  "journal_bytes": journal.stat().st_size, "beancount_bytes": beancount.stat().st_size}
        result.update(measure(work, journal, beancount, rounds, quiet))
        result.update(parse_costs(journal, beancount))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    print(f"ipb import: {entries:,} transactions, {postings:,} postings; {rounds} interleaved rounds; "
          f"{describe(result['machine'])}")
    print("\n".join(table(result)))


if __name__ == "__main__":
    main()
