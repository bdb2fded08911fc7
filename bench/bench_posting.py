#!/usr/bin/env python
"""Posting throughput and read latency at about a million postings, beside raw sqlite3 baselines.

    .venv/bin/python bench/bench_posting.py            # ~333k entries, ~1M postings (a few minutes)
    .venv/bin/python bench/bench_posting.py --quick    # ~20k entries, a smoke run (seconds)
    .venv/bin/python bench/bench_posting.py --json     # the same figures as one JSON object

What runs, in order (see bench/README.md for what each figure means):

1. A fresh, migrated SQLite file (WAL, synchronous=FULL, as ledger/storage/engine.py makes it); a few thousand
   accounts opened through ledger.services.accounts; then N entries of 2-4 postings each, with
   deterministic pseudo-random amounts, posted through `post_many` in batches. Only the
   `post_many` calls are timed: building the drafts is the caller's work and is left out.
2. The raw baseline, interleaved with step 1 batch by batch (so both see the machine at the same
   moment and files of the same size): a second fresh file made by the same migrations (same
   indexes, constraints and triggers), opened with the same PRAGMAs, into which the very rows
   step 1 just stored (journal_entries and postings, read back from the first file) are inserted
   with sqlite3 `executemany`, one transaction per batch. Only the inserts and commits are timed.
3. Reads on the first file, each beside a raw-SQL baseline computing the same thing: one account's
   balance, the trial balance (maintained balances), the trial balance as of a date (GROUP BY over
   postings), and `verify` (hash chain and every balance recomputed).
4. Signed checkpoints on the first file: taking one (`take_checkpoint`: read both heads, sign them with
   Ed25519, append the line to the log, commit its row), then checking all of them against the chains
   (`check_checkpoints`); beside the bare work through sqlite3 and `cryptography`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from cryptography.hazmat.primitives import serialization  # noqa: E402
from harness import (  # noqa: E402
    RULE,
    describe,
    fmt_ms,
    insert_sql,
    log,
    machine,
    median_ms,
    raw_connect,
    render_table,
    scratch_dir,
    timed,
)
from sqlalchemy import Engine  # noqa: E402

from ledger.formats.checkpoints import generate_key, public_key, read_log  # noqa: E402
from ledger.journal import AccountType, Draft, Line  # noqa: E402
from ledger.reports.balances import account_balance, trial_balance  # noqa: E402
from ledger.reports.checkpoints import check_checkpoints  # noqa: E402
from ledger.reports.verify import verify  # noqa: E402
from ledger.services.accounts import AccountSpec, open_accounts  # noqa: E402
from ledger.services.checkpoints import AuditKey, take_checkpoint  # noqa: E402
from ledger.services.journal import post_many  # noqa: E402
from ledger.storage.engine import make_engine, open_engine  # noqa: E402

DEFAULT_ENTRIES = 333_334  # x 3 postings on average = ~1,000,000 postings
QUICK_ENTRIES = 20_000
TYPES = (AccountType.ASSET, AccountType.LIABILITY, AccountType.EQUITY, AccountType.INCOME, AccountType.EXPENSE)
TARGET_RATIO = 0.5  # issue 17: post_many >= 0.5x the full-schema raw baseline at ~1M postings
TARGET_OPEN_S = 1.0  # issue 17: opening 3,000 accounts in one transaction
TARGET_READ_MS = 1.0


# --- the workload -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workload:
    entries: int
    accounts: int
    batch: int
    seed: int
    start: date = date(2024, 4, 1)
    days: int = 730  # two financial years

    @property
    def as_of(self) -> date:
        """A date about half way through, for the trial balance as of a date."""
        return self.start + timedelta(days=self.days // 2)

    def specs(self) -> list[AccountSpec]:
        """Accounts of every type; every fourth asset account is non-negative (it is only ever debited)."""
        return [
            AccountSpec(
                code=f"bench:{TYPES[i % 5]}:{i:05d}",
                type=TYPES[i % 5],
                opened_on=self.start,
                non_negative=TYPES[i % 5] is AccountType.ASSET and i % 4 == 0,
            )
            for i in range(self.accounts)
        ]

    def batches(self) -> Iterator[list[tuple[Draft, str]]]:
        """(draft, idempotency key) in batches of `batch`; the same every run for the same seed."""
        rng = random.Random(self.seed)
        specs = self.specs()
        codes = [spec.code for spec in specs]
        limited = [spec.non_negative for spec in specs]
        free = [i for i, flag in enumerate(limited) if not flag]
        batch: list[tuple[Draft, str]] = []
        for n in range(self.entries):
            size = rng.randint(2, 4)
            last = rng.choice(free)  # the balancing line goes to an account with no limit
            others = rng.sample(range(self.accounts), size)
            picked = [i for i in others if i != last][: size - 1]
            lines = []
            for i in picked:
                amount = rng.randint(1, 50_000)
                if not limited[i] and rng.random() < 0.5:
                    amount = -amount
                lines.append([codes[i], amount])
            total = sum(amount for _, amount in lines)
            if total == 0:
                lines[0][1] += 1 if lines[0][1] > 0 else -1
                total = sum(amount for _, amount in lines)
            lines.append([codes[last], -total])
            day = self.start + timedelta(days=min(self.days - 1, n * self.days // self.entries + rng.randint(0, 6)))
            draft = Draft(
                lines=tuple(Line(code, amount) for code, amount in lines),
                effective_date=day,
                kind="bench",
                memo=f"bench entry {n + 1}",
            )
            batch.append((draft, f"bench:{self.seed}:{n + 1}"))
            if len(batch) == self.batch:
                yield batch
                batch = []
        if batch:
            yield batch


# --- helpers ------------------------------------------------------------------------


def require(condition: bool, failure: str) -> None:
    if not condition:
        raise SystemExit(f"bench: {failure}")


# --- 1 and 2. the ledger's bulk path, and the raw baseline, batch by batch ------------


def open_all(engine: Engine, workload: Workload) -> float:
    specs = workload.specs()
    return timed(lambda: open_accounts(engine, specs))


class RawCopy:
    """A second fresh file, made by the same migrations (indexes, constraints, triggers) and opened with
    the same PRAGMAs, into which the rows the ledger stored are inserted with plain sqlite3."""

    def __init__(self, source_path: Path, target_path: Path) -> None:
        open_engine(f"sqlite:///{target_path}", create=True).dispose()  # the migrations, and nothing else
        self.source, self.target = raw_connect(source_path), raw_connect(target_path)
        tables = ("accounts", "account_balances", "journal_entries", "postings")
        self.sql = {table: insert_sql(self.source, table) for table in tables}
        rows = {table: self.source.execute(f"SELECT * FROM {table}").fetchall()
                for table in ("accounts", "account_balances")}
        start = time.perf_counter()  # the baseline of opening the accounts: their rows, in one transaction
        self.target.execute("BEGIN IMMEDIATE")
        for table, table_rows in rows.items():
            self.target.executemany(self.sql[table], table_rows)
        self.target.execute("COMMIT")
        self.opened = time.perf_counter() - start
        self.cpu = 0.0  # CPU seconds of the timed inserts

    def insert(self, first_id: int, last_id: int) -> tuple[float, int]:
        """Copy entries first_id..last_id and their postings in one transaction: (seconds, postings)."""
        span = (first_id, last_id)
        read = self.source.execute
        entries = read("SELECT * FROM journal_entries WHERE id BETWEEN ? AND ? ORDER BY id", span).fetchall()
        postings = read("SELECT * FROM postings WHERE entry_id BETWEEN ? AND ? ORDER BY id", span).fetchall()
        start, cpu = time.perf_counter(), time.process_time()
        self.target.execute("BEGIN IMMEDIATE")
        self.target.executemany(self.sql["journal_entries"], entries)
        self.target.executemany(self.sql["postings"], postings)
        self.target.execute("COMMIT")
        self.cpu += time.process_time() - cpu
        return time.perf_counter() - start, len(postings)

    def close(self) -> None:
        self.source.close()
        self.target.close()


def post_all(engine: Engine, raw: RawCopy, workload: Workload, quiet: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Post every batch through `post_many`, then the same rows raw; interleaved, so that both see the
    same machine at the same moment and files of the same size."""
    ours, base, cpu = 0.0, 0.0, 0.0
    entries = postings = calls = 0
    for batch in workload.batches():
        start, started = time.perf_counter(), time.process_time()
        posted = post_many(engine, batch, actor="bench")
        ours += time.perf_counter() - start
        cpu += time.process_time() - started
        seconds, copied = raw.insert(posted[0].entry.id, posted[-1].entry.id)
        base += seconds
        entries += len(posted)
        postings += copied
        calls += 1
        if calls % 10 == 0:
            log(quiet, f"  {entries:,} entries ({postings:,} postings): {postings / ours:,.0f} postings/s, "
                f"raw {postings / base:,.0f}/s")
    return ({**_rates(entries, postings, ours, calls), "cpu_s": cpu},
            {**_rates(entries, postings, base, calls), "cpu_s": raw.cpu})


def _rates(entries: int, postings: int, seconds: float, calls: int) -> dict[str, Any]:
    return {
        "entries": entries,
        "postings": postings,
        "batches": calls,
        "seconds": seconds,
        "entries_per_s": entries / seconds,
        "postings_per_s": postings / seconds,
    }


# --- 3. reads -----------------------------------------------------------------------


def reads(path: Path, workload: Workload, reads_n: int, heavy_runs: int, quiet: bool) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{path}")  # created here, outside every timing
    raw = raw_connect(path)
    rng = random.Random(workload.seed + 1)
    codes = [spec.code for spec in workload.specs()]
    picks = itertools.cycle([rng.choice(codes) for _ in range(reads_n)])
    out: dict[str, Any] = {}

    log(quiet, "  reads: one account's balance")
    out["balance"] = median_ms(lambda: account_balance(engine, next(picks)), reads_n, warmup=3)
    out["balance_raw"] = median_ms(
        lambda: raw.execute(
            "SELECT b.balance, b.pending_debits, b.pending_credits FROM accounts a "
            "JOIN account_balances b ON b.account_id = a.id WHERE a.code = ?",
            (next(picks),),
        ).fetchone(),
        reads_n,
        warmup=3,
    )
    ids = [row[0] for row in raw.execute("SELECT id FROM accounts")]
    out["balance_raw_sum"] = median_ms(
        lambda: raw.execute(
            "SELECT coalesce(sum(amount), 0) FROM postings WHERE account_id = ? AND pending = 0",
            (rng.choice(ids),),
        ).fetchone(),
        reads_n,
        warmup=3,
    )

    log(quiet, "  reads: trial balance")
    tb = trial_balance(engine)
    require(tb.balanced, "the trial balance does not balance")
    out["trial_balance"] = median_ms(lambda: trial_balance(engine), heavy_runs, warmup=1)
    out["trial_balance_raw"] = median_ms(
        lambda: raw.execute(
            "SELECT a.id, a.code, a.type, a.currency, b.balance FROM accounts a "
            "JOIN account_balances b ON b.account_id = a.id ORDER BY a.code"
        ).fetchall(),
        heavy_runs,
        warmup=1,
    )

    log(quiet, "  reads: trial balance as of a date")
    as_of = workload.as_of
    tb_as_of = trial_balance(engine, as_of=as_of)
    require(tb_as_of.balanced, "the trial balance as of a date does not balance")
    out["trial_balance_as_of"] = median_ms(lambda: trial_balance(engine, as_of=as_of), heavy_runs, warmup=1)
    out["trial_balance_as_of_raw"] = median_ms(
        lambda: raw.execute(
            "SELECT account_id, sum(amount) FROM postings WHERE effective_date <= ? AND pending = 0 "
            "GROUP BY account_id",
            (as_of.isoformat(),),
        ).fetchall(),
        heavy_runs,
        warmup=1,
    )
    out["as_of"] = as_of.isoformat()

    log(quiet, "  reads: verify (full recompute)")
    result: dict[str, Any] = {}

    def run_verify() -> None:
        result["v"] = verify(engine)

    out["verify"] = {"median_ms": timed(run_verify) * 1000, "runs": 1}
    require(result["v"].ok, f"verify failed: {result['v']}")
    out["verify_raw"] = median_ms(
        lambda: raw.execute(
            "SELECT account_id, sum(amount) FROM postings WHERE pending = 0 GROUP BY account_id"
        ).fetchall(),
        heavy_runs,
        warmup=1,
    )
    raw.close()
    engine.dispose()
    return out


def checkpointing(path: Path, workdir: Path, runs: int, quiet: bool) -> dict[str, Any]:
    """Signing the heads (`take_checkpoint`), and checking every signed checkpoint of the log against the
    chains; beside the bare work: the same SELECTs through sqlite3 and Ed25519 through `cryptography`."""
    log(quiet, f"  checkpoints: {runs} taken, then checked")
    private_pem, public_pem = generate_key()
    (workdir / "audit.key").write_bytes(private_pem)
    where = AuditKey(workdir / "audit.key", workdir / "checkpoints.log")
    engine = make_engine(f"sqlite:///{path}")
    raw = raw_connect(path)
    signer = serialization.load_pem_private_key(private_pem, password=None)
    heads = "SELECT l.last_entry_id, l.last_hash, h.last_seq, h.last_hash FROM ledger_head l, history_head h"

    def raw_take() -> None:
        row = raw.execute(heads).fetchone()
        signature = signer.sign(json.dumps(row).encode())  # type: ignore[union-attr]
        with (workdir / "raw.log").open("a") as handle:
            handle.write(signature.hex() + "\n")
            handle.flush()

    out: dict[str, Any] = {"take": median_ms(lambda: take_checkpoint(engine, where, actor="bench"), runs, warmup=2),
                           "take_raw": median_ms(raw_take, runs, warmup=2)}
    signed, key = read_log(where.log.read_text()), public_key(public_pem)

    def check() -> None:
        with engine.connect() as conn:
            require(not check_checkpoints(conn, signed, key, journal_ok=True, history_ok=True), "a checkpoint failed")

    def raw_check() -> None:
        for one in signed:
            key.verify(one.signature, one.checkpoint.payload())
            raw.execute("SELECT hash FROM journal_entries WHERE id = ?", (one.checkpoint.entry,)).fetchone()

    out["check"], out["check_raw"] = median_ms(check, 5, warmup=1), median_ms(raw_check, 5, warmup=1)
    out["checkpoints"] = len(signed)
    raw.close()
    engine.dispose()
    return out


# --- report -------------------------------------------------------------------------


def _posting_rows(results: dict[str, Any]) -> list[tuple[str, ...] | str | None]:
    ours, raw, w = results["posting"], results["raw"], results["workload"]
    return [
        ("Posting (post_many)", "ours", "raw sqlite3", "ratio"),
        RULE,
        ("postings/s", f"{ours['postings_per_s']:,.0f}", f"{raw['postings_per_s']:,.0f}", f"{results['ratio']:.2f}"),
        ("entries/s", f"{ours['entries_per_s']:,.0f}", f"{raw['entries_per_s']:,.0f}", ""),
        ("seconds", f"{ours['seconds']:.1f}", f"{raw['seconds']:.1f}", ""),
        ("CPU seconds", f"{ours['cpu_s']:.1f}", f"{raw['cpu_s']:.1f}", f"{raw['cpu_s'] / ours['cpu_s']:.2f}"),
        (f"open {w['accounts']:,} accounts, seconds", f"{results['open_accounts_s']:.2f}",
         f"{results['open_accounts_raw_s']:.2f}", "one transaction; raw: the same rows"),
    ]


def _posting_table(results: dict[str, Any]) -> list[str]:
    w, m = results["workload"], results["machine"]
    return [f"{w['entries']:,} entries, {results['posting']['postings']:,} postings over {w['accounts']:,} accounts, "
            f"batches of {w['batch']:,}; {describe(m)}", "", *render_table(_posting_rows(results), last_left=True)]


def table(results: dict[str, Any]) -> str:
    ours, r, c = results["posting"], results["reads"], results["checkpoints"]
    w = results["workload"]
    m = results["machine"]
    rows: list[tuple[str, ...] | str | None] = [
        *_posting_rows(results),
        None,
        ("Reads (median)", "ours", "raw SQL", ""),
        RULE,
        ("one account's balance", _ms(r["balance"]), _ms(r["balance_raw"]), "maintained row"),
        ("  (raw sum of its postings)", "", _ms(r["balance_raw_sum"]), "covering index"),
        ("trial balance", _ms(r["trial_balance"]), _ms(r["trial_balance_raw"]), "maintained rows"),
        (f"trial balance as of {r['as_of']}", _ms(r["trial_balance_as_of"]), _ms(r["trial_balance_as_of_raw"]),
         "GROUP BY postings"),
        ("verify (full recompute)", _ms(r["verify"]), _ms(r["verify_raw"]), "one run; raw: GROUP BY only"),
        None,
        ("Signed checkpoints (median)", "ours", "bare work", ""),
        RULE,
        ("take one", _ms(c["take"]), _ms(c["take_raw"]), "raw: SELECT, sign, append; ours commits too"),
        (f"check {c['checkpoints']} against the chains", _ms(c["check"]), _ms(c["check_raw"]),
         "raw: verify each, SELECT its entry"),
    ]
    lines = [
        f"{w['entries']:,} entries, {ours['postings']:,} postings over {w['accounts']:,} accounts, "
        f"batches of {w['batch']:,}; {describe(m)}",
        "",
        *render_table(rows, last_left=True),  # the last column (notes) is left-aligned, the others right
        "",
    ]
    targets = results["targets"]
    lines.append(
        f"targets (for the ~1M-posting default): ratio >= {TARGET_RATIO} {'met' if targets['ratio'] else 'MISSED'}; "
        f"{w['accounts']:,} accounts opened < {TARGET_OPEN_S:g} s {'met' if targets['open_accounts'] else 'MISSED'}; "
        f"one balance < {TARGET_READ_MS:g} ms {'met' if targets['balance_read'] else 'MISSED'}"
    )
    return "\n".join(lines)


def _ms(sample: dict[str, float]) -> str:
    return fmt_ms(sample["median_ms"], digits=3)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, help=f"entries to post (default {DEFAULT_ENTRIES:,}, ~1M postings)")
    parser.add_argument("--quick", action="store_true", help=f"a smoke run of {QUICK_ENTRIES:,} entries")
    parser.add_argument("--accounts", type=int, default=3000, help="accounts to spread postings over")
    parser.add_argument("--batch", type=int, default=5000, help="entries per post_many call (and per raw transaction)")
    parser.add_argument("--reads", type=int, default=2000, help="single-balance reads to take the median of")
    parser.add_argument("--runs", type=int, default=5, help="runs of each trial balance to take the median of")
    parser.add_argument("--checkpoints", type=int, default=50, help="signed checkpoints to take (then check)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--dir", type=Path, help="where to put the two database files (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the database files afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--posting-only", action="store_true", help="measure posting only: no reads or checkpoints")
    args = parser.parse_args(argv)

    entries = args.entries or (QUICK_ENTRIES if args.quick else DEFAULT_ENTRIES)
    workload = Workload(entries=entries, accounts=args.accounts, batch=args.batch, seed=args.seed)
    quiet = args.json
    with scratch_dir("ipb-bench-", args.dir, args.keep) as workdir:
        ours_path, raw_path = workdir / "ledger.sqlite", workdir / "raw.sqlite"
        log(quiet, f"ledger: {ours_path}")
        engine = open_engine(f"sqlite:///{ours_path}", create=True)
        opened = open_all(engine, workload)
        log(quiet, f"  opened {workload.accounts:,} accounts in {opened:.2f} s; raw baseline: {raw_path}")
        copy = RawCopy(ours_path, raw_path)
        posting, raw = post_all(engine, copy, workload, quiet)
        copy.close()
        engine.dispose()
        results: dict[str, Any] = {
            "machine": machine(),
            "workload": {
                "entries": workload.entries,
                "accounts": workload.accounts,
                "batch": workload.batch,
                "seed": workload.seed,
                "postings_per_entry": "2-4",
            },
            "open_accounts_s": opened,
            "open_accounts_raw_s": copy.opened,
            "posting": posting,
            "raw": raw,
            "ratio": posting["postings_per_s"] / raw["postings_per_s"],
        }
        if args.posting_only:
            print(json.dumps(results, indent=2) if args.json else "\n".join(_posting_table(results)))
            return 0
        results["reads"] = reads(ours_path, workload, args.reads, args.runs, quiet)
        results["checkpoints"] = checkpointing(ours_path, workdir, args.checkpoints, quiet)
        results["targets"] = {
            "ratio": results["ratio"] >= TARGET_RATIO,
            "open_accounts": opened < TARGET_OPEN_S,
            "balance_read": results["reads"]["balance"]["median_ms"] < TARGET_READ_MS,
        }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
