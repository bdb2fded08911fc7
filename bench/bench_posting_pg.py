#!/usr/bin/env python
"""Bulk posting on PostgreSQL through post_many, beside raw psycopg executemany and COPY of the same rows.

    .venv/bin/python bench/bench_posting_pg.py            # 100,000 entries, ~300k postings (2-3 minutes)
    .venv/bin/python bench/bench_posting_pg.py --quick    # ~6,700 entries, ~20k postings: a smoke run
    .venv/bin/python bench/bench_posting_pg.py --json     # the same figures as one JSON object
    .venv/bin/python bench/bench_posting_pg.py --quick --sweep 10,30,100,300,1000   # and where COPY pays

The server is IPB_DATABASE_URL's (or --server's); its database is only the maintenance database: the bench
creates four databases named bench_pg_<pid>_*, migrates each with ledger's own migrations, and drops them at
the end (unless --keep). bench_posting.py's workload (same generator, same seed) goes, batch by batch, into:

1. ours, COPY: `ledger.services.journal.post_many` on an engine opened by ledger's code (`open_engine`), as it
   runs: a batch of posting.COPY_FROM or more rows of a table writes that table by COPY.
2. ours, executemany: the same, with COPY turned off (`posting.COPY_FROM` out of reach): the path before COPY.
3. raw executemany: the very journal_entries and postings rows (1) stored, read back (not timed), inserted by
   psycopg `executemany` in one transaction per batch.
4. raw COPY: the same rows by psycopg `cursor.copy()` (COPY ... FROM STDIN, text), one transaction per batch.

With --sweep, afterwards: `insert_entries` alone at each batch size, every table by COPY against every table by
executemany, batch for batch (the threshold, posting.COPY_FROM, comes from this).

After (1) stores a batch, (2)-(4) run in turn, their order rotating batch by batch, so each sees the machine at
the same moments and tables of the same size. Only the post_many calls and the raw transactions are timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import psycopg  # noqa: E402
from bench_posting import Workload  # noqa: E402
from harness import RULE, describe, fmt_ms, log, machine, render_table  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from ledger.reports.balances import trial_balance  # noqa: E402
from ledger.reports.verify import verify  # noqa: E402
from ledger.services.accounts import open_accounts  # noqa: E402
from ledger.services.journal import post_many  # noqa: E402
from ledger.storage import posting  # noqa: E402
from ledger.storage.engine import database_url, open_engine  # noqa: E402

DEFAULT_ENTRIES = 100_000  # x 3 postings on average = ~300,000 postings
QUICK_ENTRIES = 6_667  # ~20,000 postings
DEFAULT_SERVER = "postgresql+psycopg://ipb@127.0.0.1:55433/ipb_test"
SETTINGS = ("server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_level", "shared_buffers")
SIDES = ("ours_copy", "ours_executemany", "raw_executemany", "raw_copy")
ENTRY_COLUMNS = ", ".join(posting.ENTRY_COLUMNS)
POSTING_COLUMNS = ", ".join(posting.POSTING_COLUMNS)  # postings.id comes from its sequence, as ours
THRESHOLD = posting.COPY_FROM


# --- the databases ----------------------------------------------------------------------


class Server:
    """The maintenance connection: creates and drops the bench's databases."""

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []

    def create(self, name: str) -> str:
        """A new database, migrated by ledger's migrations; its SQLAlchemy URL."""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.made.append(name)
        url = make_url(self.url).set(database=name).render_as_string(hide_password=False)
        open_engine(url, create=True).dispose()
        return url

    def settings(self) -> dict[str, str]:
        with self.admin.connect() as conn:
            return {name: conn.execute(text(f"SHOW {name}")).scalar_one() for name in SETTINGS}

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def raw_connect(url: str) -> psycopg.Connection[Any]:
    """A plain psycopg connection to the database at a SQLAlchemy URL."""
    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


@contextmanager
def copy_off() -> Iterator[None]:
    """Ours as before COPY: every batch by executemany."""
    threshold, posting.COPY_FROM = posting.COPY_FROM, sys.maxsize
    try:
        yield
    finally:
        posting.COPY_FROM = threshold


# --- the raw baselines ------------------------------------------------------------------


class Raw:
    """A database made by the same migrations, into which the rows ours stored are written with psycopg alone."""

    def __init__(self, url: str, source: psycopg.Connection[Any], copy: bool) -> None:
        self.conn, self.source, self.copy = raw_connect(url), source, copy
        for table in ("accounts", "account_balances"):  # the accounts ours opened, not timed
            rows = source.execute(f"SELECT * FROM {table}").fetchall()
            with self.conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * len(rows[0]))})", rows)
        self.conn.commit()

    def insert(self, first_id: int, last_id: int) -> tuple[float, int]:
        """Entries first_id..last_id and their postings, in one transaction: (seconds, postings)."""
        read, span = self.source.execute, (first_id, last_id)
        meta = f"{ENTRY_COLUMNS[: -len('meta')]}meta::text"  # JSON as the text the server keeps
        entries = read(f"SELECT {meta} FROM journal_entries WHERE id BETWEEN %s AND %s ORDER BY id", span).fetchall()
        lines = read(f"SELECT {POSTING_COLUMNS} FROM postings WHERE entry_id BETWEEN %s AND %s ORDER BY id",
                     span).fetchall()
        self.source.rollback()
        start = time.perf_counter()
        with self.conn.cursor() as cur:
            for table, columns, rows in (("journal_entries", ENTRY_COLUMNS, entries),
                                         ("postings", POSTING_COLUMNS, lines)):
                if self.copy:
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(rows[0]))
                    cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        self.conn.commit()
        return time.perf_counter() - start, len(lines)

    def close(self) -> None:
        self.conn.close()


# --- the run ----------------------------------------------------------------------------


def post_all(engines: dict[str, Engine], raws: dict[str, Raw], workload: Workload,
             quiet: bool) -> dict[str, dict[str, float]]:
    """Every batch into each side in turn (ours with COPY first: the raw sides copy what it stored)."""
    seconds = dict.fromkeys(SIDES, 0.0)
    entries = postings = 0
    for n, batch in enumerate(workload.batches()):
        start = time.perf_counter()
        posted = post_many(engines["ours_copy"], batch, actor="bench")
        seconds["ours_copy"] += time.perf_counter() - start
        first, last = posted[0].entry.id, posted[-1].entry.id
        turns = [("ours_executemany", lambda: _post_without_copy(engines["ours_executemany"], batch)),
                 ("raw_executemany", lambda: raws["raw_executemany"].insert(first, last)[0]),
                 ("raw_copy", lambda: raws["raw_copy"].insert(first, last)[0])]
        for side, run in turns[n % 3:] + turns[: n % 3]:
            seconds[side] += run()
        entries += len(posted)
        postings += sum(len(p.entry.lines) for p in posted)
        if n % 10 == 9:
            log(quiet, f"  {entries:,} entries, {postings:,} postings: " + ", ".join(
                f"{side} {postings / seconds[side]:,.0f}/s" for side in SIDES))
    return {side: {"seconds": s, "entries": entries, "postings": postings, "postings_per_s": postings / s}
            for side, s in seconds.items()}


def _post_without_copy(engine: Engine, batch: Sequence[Any]) -> float:
    with copy_off():
        start = time.perf_counter()
        post_many(engine, batch, actor="bench")
        return time.perf_counter() - start


def sweep(engines: dict[str, Engine], args: argparse.Namespace, quiet: bool) -> list[dict[str, Any]]:
    """Where COPY starts to pay: `insert_entries` alone, timed inside post_many, every table by COPY (ours_copy's
    ledger) against every table by executemany (the other), batch for batch; medians per batch size."""
    real, spent = posting.insert_entries, [0.0]

    def timed_insert(conn: Any, entries: Any, lines: Any) -> None:
        start = time.perf_counter()
        real(conn, entries, lines)
        spent[0] += time.perf_counter() - start

    out = []
    posting.insert_entries = timed_insert  # type: ignore[assignment]
    try:
        for size in args.sweep:
            log(quiet, f"  sweep: batches of {size:,} entries")
            workload = Workload(entries=size * args.sweep_rounds, accounts=args.accounts, batch=size,
                                seed=args.seed + size)
            samples: dict[str, list[float]] = {"copy": [], "executemany": []}
            rows = 0
            for batch in workload.batches():
                for side, threshold, engine in (("copy", 1, engines["ours_copy"]),
                                                ("executemany", sys.maxsize, engines["ours_executemany"])):
                    spent[0], posting.COPY_FROM = 0.0, threshold
                    posted = post_many(engine, batch, actor="bench")
                    samples[side].append(spent[0] * 1000)
                rows += sum(1 + len(p.entry.lines) for p in posted)
            copy, many = (statistics.median(samples[side]) for side in ("copy", "executemany"))
            out.append({"entries": size, "rows": rows / args.sweep_rounds, "copy_ms": copy, "executemany_ms": many})
    finally:
        posting.insert_entries, posting.COPY_FROM = real, THRESHOLD  # type: ignore[assignment]
    return out


def check(engines: dict[str, Engine], raws: dict[str, Raw]) -> None:
    """Both ledgers verify and agree; every side stored as many rows."""
    balances = []
    for side, engine in engines.items():
        if not verify(engine).ok:
            raise SystemExit(f"bench: verify failed on {side}")
        balances.append([(a.code, a.balance) for a in trial_balance(engine).accounts])
    counts = {tuple(raw.conn.execute("SELECT (SELECT count(*) FROM journal_entries), (SELECT count(*) FROM "
                                     "postings)").fetchone() or ()) for raw in raws.values()}
    if balances[0] != balances[1] or len(counts) != 1:
        raise SystemExit("bench: the sides stored different things")


def run(args: argparse.Namespace, workload: Workload, quiet: bool) -> dict[str, Any]:
    server = Server(args.server)
    engines: dict[str, Engine] = {}
    raws: dict[str, Raw] = {}
    try:
        urls = {side: server.create(f"bench_pg_{os.getpid()}_{side}") for side in SIDES}
        log(quiet, f"databases: {', '.join(server.made)}")
        engines = {side: open_engine(urls[side]) for side in SIDES[:2]}
        for engine in engines.values():
            open_accounts(engine, workload.specs())
        source = raw_connect(urls["ours_copy"])
        raws = {side: Raw(urls[side], source, copy=side == "raw_copy") for side in SIDES[2:]}
        results = post_all(engines, raws, workload, quiet)
        check(engines, raws)
        swept = sweep(engines, args, quiet) if args.sweep else []
        return {"sides": results, "sweep": swept, "server": server.settings(), "copy_from": posting.COPY_FROM}
    finally:
        for raw in raws.values():
            raw.close()
        for engine in engines.values():
            engine.dispose()
        if args.keep:
            log(quiet, f"kept: {', '.join(server.made)}")
        else:
            server.drop_all()


# --- report -----------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    sides, w = results["sides"], results["workload"]
    rate: Callable[[str], float] = lambda side: sides[side]["postings_per_s"]  # noqa: E731
    rows: list[tuple[str, ...] | str | None] = [("", "postings/s", "seconds", "÷ raw executemany", "÷ raw COPY"), RULE]
    names = {"ours_copy": "ours, post_many (COPY path)", "ours_executemany": "ours, post_many (executemany only)",
             "raw_executemany": "raw psycopg executemany", "raw_copy": "raw psycopg COPY"}
    for side in SIDES:
        rows.append((names[side], f"{rate(side):,.0f}", f"{sides[side]['seconds']:.1f}",
                     f"{rate(side) / rate('raw_executemany'):.2f}", f"{rate(side) / rate('raw_copy'):.2f}"))
    settings = ", ".join(f"{k} {v}" for k, v in results["server"].items())
    return "\n".join([
        f"{w['entries']:,} entries, {sides['ours_copy']['postings']:,} postings over {w['accounts']:,} accounts, "
        f"batches of {w['batch']:,}; COPY from {results['copy_from']:,} rows of a table",
        f"{describe(results['machine'])}; PostgreSQL: {settings}", "", *render_table(rows), "",
        f"COPY path / executemany path: {rate('ours_copy') / rate('ours_executemany'):.2f}x the postings/s",
        *_sweep_table(results["sweep"])])


def _sweep_table(swept: list[dict[str, Any]]) -> list[str]:
    if not swept:
        return []
    rows: list[tuple[str, ...] | str | None] = [
        ("insert_entries alone (median)", "rows", "COPY", "executemany", "COPY ÷ executemany"), RULE]
    rows += [(f"batches of {s['entries']:,} entries", f"{s['rows']:,.0f}", fmt_ms(s["copy_ms"]),
              fmt_ms(s["executemany_ms"]), f"{s['copy_ms'] / s['executemany_ms']:.2f}") for s in swept]
    return ["", *render_table(rows)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, help=f"entries to post (default {DEFAULT_ENTRIES:,})")
    parser.add_argument("--quick", action="store_true", help=f"a smoke run of {QUICK_ENTRIES:,} entries")
    parser.add_argument("--accounts", type=int, default=3000, help="accounts to spread postings over")
    parser.add_argument("--batch", type=int, default=2500, help="entries per post_many call (and raw transaction)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--server", default=os.environ.get("IPB_DATABASE_URL") or DEFAULT_SERVER,
                        help="a database on the server, used only to create and drop the bench's own")
    parser.add_argument("--keep", action="store_true", help="keep the four databases afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--sweep", type=lambda v: [int(n) for n in v.split(",")], default=[],
                        help="then time the inserts alone at these batch sizes (entries), e.g. 10,30,100,300,1000")
    parser.add_argument("--sweep-rounds", type=int, default=6, help="batches of each size in the sweep")
    args = parser.parse_args(argv)
    entries = args.entries or (QUICK_ENTRIES if args.quick else DEFAULT_ENTRIES)
    workload = Workload(entries=entries, accounts=args.accounts, batch=args.batch, seed=args.seed)
    results = run(args, workload, quiet=args.json)
    results.update(machine=machine(("sqlalchemy", "psycopg")),
                   workload={"entries": entries, "accounts": args.accounts, "batch": args.batch, "seed": args.seed})
    print(json.dumps(results, indent=2) if args.json else report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
