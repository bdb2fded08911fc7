#!/usr/bin/env python
"""One durable entry at a time through `services.journal.post`, beside raw sqlite3 writing the same entry.

    .venv/bin/python bench/bench_single.py             # 3,000 accounts, 1,000 posts (about a minute)
    .venv/bin/python bench/bench_single.py --quick     # 300 posts: a smoke run
    .venv/bin/python bench/bench_single.py --json      # the same figures as one JSON object

What runs (see bench/README.md):

1. Two fresh files made by the same migrations (indexes, constraints, triggers): the ledger, opened by
   ledger/storage/engine.py (WAL, synchronous=FULL, foreign keys, BEGIN IMMEDIATE); and the raw baseline,
   opened by plain sqlite3 with the same PRAGMAs.
2. Opening the accounts: `services.accounts.open_accounts` (one transaction), beside raw sqlite3 inserting
   the same account and balance rows with `executemany` in one transaction.
3. N entries (2-4 postings each, the workload of bench_posting.py), each posted by `post` in its own
   transaction (one fsync'd commit each); after each, untimed, the rows it stored (the entry, its postings,
   the new balance rows of the accounts it touched, the head) are read back, and raw sqlite3 writes the same
   rows into its file in one BEGIN IMMEDIATE ... COMMIT: INSERT the entry, INSERT its postings
   (executemany), UPDATE the balances (executemany), UPDATE the head. Ours and raw alternate post by post.
   Raw does only those writes: no rules, hashing, idempotency lookup or balance reads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from bench_posting import Workload  # noqa: E402
from floor import FloorWriter, same_books  # noqa: E402
from harness import RULE, describe, fmt_ms, insert_sql, log, machine, raw_connect, render_table, scratch_dir  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from ledger.services import accounts as account_service  # noqa: E402
from ledger.services.journal import post  # noqa: E402
from ledger.storage.engine import open_engine  # noqa: E402

TARGET_RATIO = 0.7  # our posts/s over raw commits/s of the same entry
TARGET_OPEN_S = 1.0  # opening 3,000 accounts


def open_all(engine: Engine, workload: Workload) -> float:
    specs = workload.specs()
    start = time.perf_counter()
    if hasattr(account_service, "open_accounts"):
        account_service.open_accounts(engine, specs)
    else:  # the code before open_accounts existed (for before/after figures): one account at a time
        with engine.begin() as conn:
            for spec in specs:
                account_service.open_in(conn, spec)
    return time.perf_counter() - start


class RawWriter:
    """Plain sqlite3 writing into a second file the very rows the ledger stored, entry by entry."""

    def __init__(self, source_path: Path, target_path: Path) -> None:
        open_engine(f"sqlite:///{target_path}", create=True).dispose()  # the migrations, and nothing else
        self.source, self.target = raw_connect(source_path), raw_connect(target_path)
        self.sql = {t: insert_sql(self.source, t) for t in ("accounts", "account_balances", "journal_entries",
                                                            "postings")}
        self.last_cpu = 0.0  # CPU seconds of the last write's timed part

    def open_accounts(self) -> float:
        """The ledger's account and balance rows, inserted in one transaction; seconds."""
        rows = {t: self.source.execute(f"SELECT * FROM {t}").fetchall() for t in ("accounts", "account_balances")}
        start = time.perf_counter()
        self.target.execute("BEGIN IMMEDIATE")
        for table, table_rows in rows.items():
            self.target.executemany(self.sql[table], table_rows)
        self.target.execute("COMMIT")
        return time.perf_counter() - start

    def write(self, entry_id: int) -> float:
        """Entry `entry_id` as the ledger stored it, written in its own durable transaction; seconds."""
        read = self.source.execute
        entry = read("SELECT * FROM journal_entries WHERE id = ?", (entry_id,)).fetchone()
        lines = read("SELECT * FROM postings WHERE entry_id = ? ORDER BY id", (entry_id,)).fetchall()
        balances = read(
            "SELECT balance, pending_debits, pending_credits, version, account_id FROM account_balances "
            f"WHERE account_id IN ({', '.join('?' for _ in lines)})", [line[2] for line in lines]).fetchall()
        head = read("SELECT last_entry_id, last_hash FROM ledger_head WHERE id = 1").fetchone()
        start, cpu = time.perf_counter(), time.process_time()
        self.target.execute("BEGIN IMMEDIATE")
        self.target.execute(self.sql["journal_entries"], entry)
        self.target.executemany(self.sql["postings"], lines)
        self.target.executemany("UPDATE account_balances SET balance = ?, pending_debits = ?, pending_credits = ?, "
                                "version = ? WHERE account_id = ?", balances)
        self.target.execute("UPDATE ledger_head SET last_entry_id = ?, last_hash = ? WHERE id = 1", head)
        self.target.execute("COMMIT")
        self.last_cpu = time.process_time() - cpu
        return time.perf_counter() - start

    def check(self) -> None:
        """Both files hold the same entries, postings and balances (else the baseline wrote something else)."""
        for query in ("SELECT * FROM journal_entries ORDER BY id", "SELECT * FROM postings ORDER BY id",
                      "SELECT * FROM account_balances ORDER BY account_id"):
            if self.source.execute(query).fetchall() != self.target.execute(query).fetchall():
                raise SystemExit(f"bench: the raw file differs from the ledger ({query})")

    def close(self) -> None:
        self.source.close()
        self.target.close()


@dataclass
class Timed:
    """One side's seconds a post: wall clock (`perf_counter`) and CPU (`process_time`). On a busy machine the wall
    time of a post is mostly waiting for a core and for the disk, while its CPU time moves much less."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)


def post_one_by_one(engine: Engine, raw: RawWriter, floor: FloorWriter, workload: Workload, warmup: int,
                    quiet: bool) -> dict[str, Timed]:
    """Each entry posted by `post`, then written raw, then posted by the floor, each timed; the first `warmup`
    posts of each side are left out."""
    timed = {side: Timed() for side in ("post", "raw", "floor")}
    for n, batch in enumerate(workload.batches()):
        (draft, key), = batch
        start, cpu = time.perf_counter(), time.process_time()
        posted = post(engine, draft, actor="bench", key=key)
        timed["post"].add(time.perf_counter() - start, time.process_time() - cpu)
        timed["raw"].add(raw.write(posted.entry.id), raw.last_cpu)
        timed["floor"].add(floor.post(draft, key), floor.last_cpu)
        if (n + 1) % 200 == 0:
            log(quiet, f"  {n + 1:,} posts: median {statistics.median(timed['post'].wall[warmup:]) * 1000:.2f} ms, "
                f"raw {statistics.median(timed['raw'].wall[warmup:]) * 1000:.2f} ms, "
                f"floor {statistics.median(timed['floor'].wall[warmup:]) * 1000:.2f} ms")
    return {side: Timed(t.wall[warmup:], t.cpu[warmup:]) for side, t in timed.items()}


def _summary(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": statistics.median(ordered) * 1000, "p95_ms": ordered[int(len(ordered) * 0.95)] * 1000,
            "per_s": 1 / statistics.median(ordered), "runs": len(ordered)}


def table(results: dict[str, Any]) -> str:
    ours, raw, floor, w = results["post"], results["raw"], results["floor"], results["workload"]
    rows: list[tuple[str, ...] | str | None] = [
        ("", "ours", "raw sqlite3", "ratio (speed)"),
        RULE,
        ("one durable entry, median", fmt_ms(ours["median_ms"]), fmt_ms(raw["median_ms"]), f"{results['ratio']:.2f}"),
        ("  p95", fmt_ms(ours["p95_ms"]), fmt_ms(raw["p95_ms"]), ""),
        ("  entries/s", f"{ours['per_s']:,.0f}", f"{raw['per_s']:,.0f}", ""),
        ("  CPU time, median", fmt_ms(results["cpu_ms"]["post"]), fmt_ms(results["cpu_ms"]["raw"]),
         f"{results['cpu_ms']['raw'] / results['cpu_ms']['post']:.2f}"),
        ("floor: the pure core on sqlite3, median", fmt_ms(floor["median_ms"]), fmt_ms(raw["median_ms"]),
         f"{results['floor_ratio']:.2f}"),
        ("  CPU time, median", fmt_ms(results["cpu_ms"]["floor"]), fmt_ms(results["cpu_ms"]["raw"]),
         f"{results['cpu_ms']['raw'] / results['cpu_ms']['floor']:.2f}"),
        (f"open {w['accounts']:,} accounts", fmt_ms(results["open_s"] * 1000), fmt_ms(results["open_raw_s"] * 1000),
         f"{results['open_raw_s'] / results['open_s']:.2f}"),
    ]
    targets = results["targets"]
    return "\n".join([
        f"{ours['runs']:,} posts (after {w['warmup']} warm-up), 2-4 postings each, over {w['accounts']:,} accounts; "
        f"{describe(results['machine'])}",
        "",
        *render_table(rows),
        "",
        f"targets: single entry >= {TARGET_RATIO}x raw {'met' if targets['single'] else 'MISSED'}; "
        f"{w['accounts']:,} accounts opened < {TARGET_OPEN_S:g} s {'met' if targets['open'] else 'MISSED'}",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000, help="entries to post one by one (default 1,000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of 300 posts")
    parser.add_argument("--accounts", type=int, default=3000, help="accounts to open, and to post to")
    parser.add_argument("--warmup", type=int, default=20, help="posts of each side left out of the figures")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--dir", type=Path, help="where to put the two database files (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the database files afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    posts = 300 if args.quick else args.posts
    workload = Workload(entries=posts + args.warmup, accounts=args.accounts, batch=1, seed=args.seed)
    quiet = args.json
    with scratch_dir("ipb-bench-single-", args.dir, args.keep) as workdir:
        ours_path = workdir / "ledger.sqlite"
        engine = open_engine(f"sqlite:///{ours_path}", create=True)
        opened = open_all(engine, workload)
        raw = RawWriter(ours_path, workdir / "raw.sqlite")
        opened_raw = raw.open_accounts()
        log(quiet, f"  opened {workload.accounts:,} accounts in {opened:.3f} s (raw {opened_raw:.3f} s)")
        floor_file = RawWriter(ours_path, workdir / "floor.sqlite")  # made and opened as raw's, its accounts too
        floor_file.open_accounts()
        timed = post_one_by_one(engine, raw, FloorWriter(floor_file.target), workload, args.warmup, quiet)
        engine.dispose()
        raw.check()
        raw.close()
        floor_file.close()
        if not same_books(ours_path, workdir / "floor.sqlite"):
            raise SystemExit("bench: the floor's postings or balances differ from the ledger's")
    results: dict[str, Any] = {
        "machine": machine(),
        "workload": {"posts": posts, "warmup": args.warmup, "accounts": workload.accounts, "seed": args.seed,
                     "postings_per_entry": "2-4"},
        "open_s": opened,
        "open_raw_s": opened_raw,
        **{side: _summary(t.wall) for side, t in timed.items()},
        "cpu_ms": {side: statistics.median(t.cpu) * 1000 for side, t in timed.items()},
    }
    results["floor_ratio"] = results["raw"]["median_ms"] / results["floor"]["median_ms"]
    results["ratio"] = results["raw"]["median_ms"] / results["post"]["median_ms"]
    results["targets"] = {"single": results["ratio"] >= TARGET_RATIO, "open": opened < TARGET_OPEN_S}
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
