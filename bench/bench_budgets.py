#!/usr/bin/env python
"""Budgets at scale: allocate a year's budgets for N people, then reconcile, beside raw sqlite3 baselines.

    .venv/bin/python bench/bench_budgets.py            # 10,000 people, ~20 entries each (a few minutes)
    .venv/bin/python bench/bench_budgets.py --quick    # ~1,000 people, a smoke run (seconds)
    .venv/bin/python bench/bench_budgets.py --json     # the same figures as one JSON object

bench/README.md says what each figure means and gives measured figures. What runs, in order, into a
fresh SQLite file (WAL, synchronous=FULL, as ledger/storage/engine.py makes it):

1. Set-up (not compared): funders icb, council and self; a section 75 pool for FY 2025/26 with icb
   and council as partners, each contributing more than will be allocated from it; N people,
   registered in one transaction by `register_people`.
2. Allocate a year's budgets: each person gets 2-3 stream components (nhs-phb from the pool;
   care-act from the council or the pool; personal-contribution from self) through
   `ledger.services.budgets.allocate`, a batch of allocations per call. Only the `allocate` calls
   are timed. The raw baseline: a second file, a copy of the first taken after set-up (same
   migrations, indexes, constraints, triggers and PRAGMAs); after each `allocate` call the rows it
   stored (accounts, balance rows, budgets, budget components, entries, postings, the updated
   balances of the source accounts and the ledger head) are read back and inserted with sqlite3
   `executemany` in one transaction. Only those inserts and the commit are timed, so the raw figure
   is the storage cost alone: no lookups, no checks, no hashing.
3. Bring each person to about `--entries-per-person` entries with spend. A few hundred go through
   `ledger.services.budgets.spend` (one durable transaction per call; its rate is reported); the
   rest, for volume, through `ledger.services.journal.post_many` in batches, with the very shape
   `spend` gives a spend that names its stream: Dr person:P:2025-26:S:spent, Cr
   person:P:2025-26:S:available, kind "spend", the same memo and meta.
4. Reconcile: `ledger.reports.reconcile.reconcile(engine)` for everything, one person and one pool,
   each beside a raw-SQL baseline that computes the same sums and makes the same checks: a GROUP BY
   entry kind and account over postings joined to entries, compared with account_balances, the
   budget components and the pool's accounts (and the pool's allocations summed from the people's
   side). Both must find the ledger reconciled. Ours and raw run alternately, run for run, so both
   see the same machine. The raw GROUP BY is written kind first, as the ledger's is; written account
   first, SQLite walks the account index and fetches every posting out of order (also reported).

Ratios are ours / raw: time taken, so 2.00x means ours takes twice as long.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from harness import (  # noqa: E402
    RULE,
    compare_row,
    describe,
    fmt_ms,
    fmt_ratio,
    insert_sql,
    log,
    machine,
    median_ms,
    paired_ms,
    raw_connect,
    render_table,
    scratch_dir,
    timed,
)
from sqlalchemy import Engine  # noqa: E402

from ledger import chart  # noqa: E402
from ledger.chart import EntryKind  # noqa: E402
from ledger.domain import FunderKind, Stream  # noqa: E402
from ledger.journal import Draft, Line  # noqa: E402
from ledger.reports.reconcile import reconcile  # noqa: E402
from ledger.services.budgets import Allocation, allocate, spend  # noqa: E402
from ledger.services.journal import post_many  # noqa: E402
from ledger.services.parties import NewPerson, add_funder, register_people  # noqa: E402
from ledger.services.pools import contribute, create_pool  # noqa: E402
from ledger.storage.engine import make_engine, open_engine  # noqa: E402

DEFAULT_PEOPLE = 10_000
QUICK_PEOPLE = 1_000
FY = 2025
FY_START = date(FY, 4, 1)
POOL = "s75-2025"
TARGET_RATIO = 3.0  # reconcile-all within this multiple of the raw baseline
GBP = 100  # pence


# --- the workload -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Component:
    stream: Stream
    source: str
    amount: int


@dataclass(frozen=True, slots=True)
class Workload:
    people: int
    entries_per_person: int
    batch: int  # allocations per `allocate` call
    spend_batch: int  # entries per `post_many` call
    spend_calls: int  # spends through `spend`, one transaction each
    seed: int

    def refs(self) -> list[str]:
        return [f"P{n:06d}" for n in range(1, self.people + 1)]

    def budgets(self) -> dict[str, list[Component]]:
        """person -> 2 or 3 stream components; the same every run for the same seed."""
        rng = random.Random(self.seed)
        out: dict[str, list[Component]] = {}
        for ref in self.refs():
            parts = [Component(Stream.NHS_PHB, f"pool:{POOL}", rng.randint(10_000, 40_000) * GBP)]
            care = Component(Stream.CARE_ACT, rng.choice(("council", f"pool:{POOL}")), rng.randint(5_000, 30_000) * GBP)
            own = Component(Stream.PERSONAL_CONTRIBUTION, "self", rng.randint(500, 3_000) * GBP)
            pick = rng.random()
            parts += [care, own] if pick < 0.5 else [care] if pick < 0.75 else [own]
            out[ref] = parts
        return out

    def allocations(self, budgets: dict[str, list[Component]]) -> list[Allocation]:
        return [
            Allocation(ref, FY, c.stream, c.amount, c.source, FY_START, key=f"alloc:{ref}:{c.stream}")
            for ref, parts in budgets.items()
            for c in parts
        ]

    def spends(self, budgets: dict[str, list[Component]]) -> list[tuple[int, str, Stream, int]]:
        """(day of the year, person, stream, pence), in date order. A stream's spends can never exceed
        its allocation: each is at most allocation / (spends of the person)."""
        rng = random.Random(self.seed + 1)
        out = []
        for ref, parts in budgets.items():
            count = max(0, self.entries_per_person - len(parts))
            for _ in range(count):
                c = rng.choice(parts)
                cap = c.amount // count
                out.append((rng.randrange(365), ref, c.stream, rng.randint(max(1, cap // 4), cap)))
        out.sort()
        return out


def pool_need(budgets: dict[str, list[Component]]) -> int:
    return sum(c.amount for parts in budgets.values() for c in parts if c.source.startswith("pool:"))


def spend_draft(ref: str, stream: Stream, amount: int, on: date) -> Draft:
    """What `spend(engine, ref, FY, amount, stream=stream, on=on)` posts (ledger.services.budgets)."""
    return Draft(
        (Line(chart.stream_spent(ref, FY, stream), amount), Line(chart.stream_available(ref, FY, stream), -amount)),
        on,
        EntryKind.SPEND,
        f"spend for {ref}",
        meta={"person": ref, "fy": str(FY), "amount": str(amount), "attribution": "named",
              "parts": f"{stream}={amount}", "reason": f"the item names the {stream} stream"},
    )


def batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- 1. set-up ------------------------------------------------------------------------


def set_up(engine: Engine, workload: Workload, budgets: dict[str, list[Component]]) -> dict[str, Any]:
    add_funder(engine, "icb", "Integrated care board", FunderKind.ICB)
    add_funder(engine, "council", "County council", FunderKind.COUNCIL)
    add_funder(engine, "self", "People's own contributions", FunderKind.PERSON)
    create_pool(engine, POOL, name="Section 75 pool 2025/26", fy=FY, host="council",
                partners=[("icb", None), ("council", None)])
    need = pool_need(budgets)
    contribute(engine, POOL, "icb", need * 7 // 10 + 1_000_000 * GBP, on=FY_START, actor="bench", key="c:icb")
    contribute(engine, POOL, "council", need * 4 // 10 + 1_000_000 * GBP, on=FY_START, actor="bench", key="c:council")
    people = [NewPerson(ref) for ref in workload.refs()]
    seconds = timed(lambda: register_people(engine, people))
    return {"register_people_s": seconds, "people_per_s": len(people) / seconds}


# --- 2. allocation, and its raw baseline ----------------------------------------------


TABLES = ("accounts", "account_balances", "budgets", "budget_components", "journal_entries", "postings")
KEYS = {"accounts": "id", "account_balances": "account_id", "budgets": "id", "budget_components": "id",
        "journal_entries": "id", "postings": "id"}


class RawMirror:
    """A copy of the ledger file taken after set-up, into which the rows each `allocate` call stored
    are inserted with plain sqlite3: the same rows, the same schema and PRAGMAs, none of the work."""

    def __init__(self, source_path: Path, target_path: Path) -> None:
        self.source = raw_connect(source_path)
        target = sqlite3.connect(target_path)
        self.source.backup(target)  # the migrated schema and the set-up rows
        target.close()
        self.target = raw_connect(target_path)
        self.sql = {table: insert_sql(self.source, table) for table in TABLES}
        self.high = {table: self._max(table) for table in TABLES}

    def _max(self, table: str) -> int:
        return self.target.execute(f"SELECT coalesce(max({KEYS[table]}), 0) FROM {table}").fetchone()[0]

    def copy(self) -> tuple[float, dict[str, int]]:
        """Insert what the ledger stored since the last copy, in one transaction: (seconds, rows per table)."""
        new = {}
        for table in TABLES:
            key = "account_id" if table == "account_balances" else KEYS[table]
            low = self.high["accounts"] if table == "account_balances" else self.high[table]
            new[table] = self.source.execute(f"SELECT * FROM {table} WHERE {key} > ? ORDER BY {key}", (low,)).fetchall()
        account_col = [row[1] for row in self.source.execute("PRAGMA table_info(postings)")].index("account_id")
        touched = sorted({p[account_col] for p in new["postings"] if p[account_col] <= self.high["accounts"]})
        marks = ",".join("?" * len(touched))
        updated = self.source.execute(
            f"SELECT balance, pending_debits, pending_credits, version, account_id FROM account_balances "
            f"WHERE account_id IN ({marks})", touched,
        ).fetchall()
        head = self.source.execute("SELECT last_entry_id, last_hash FROM ledger_head WHERE id = 1").fetchone()
        start = time.perf_counter()
        self.target.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            if new[table]:
                self.target.executemany(self.sql[table], new[table])
        self.target.executemany(
            "UPDATE account_balances SET balance = ?, pending_debits = ?, pending_credits = ?, version = ? "
            "WHERE account_id = ?", updated,
        )
        self.target.execute("UPDATE ledger_head SET last_entry_id = ?, last_hash = ? WHERE id = 1", head)
        self.target.execute("COMMIT")
        seconds = time.perf_counter() - start
        for table in TABLES:
            if new[table] and table != "account_balances":
                self.high[table] = new[table][-1][0]
        return seconds, {table: len(rows) for table, rows in new.items()}

    def close(self) -> None:
        self.source.close()
        self.target.close()


def allocate_all(engine: Engine, raw: RawMirror, allocations: list[Allocation], batch: int,
                 quiet: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each batch through `allocate`, then the same rows raw: interleaved, so both see the same machine
    at the same moment."""
    ours = base = 0.0
    rows: dict[str, int] = defaultdict(int)
    calls = 0
    for part in batched(allocations, batch):
        start = time.perf_counter()
        allocate(engine, part, actor="bench")
        ours += time.perf_counter() - start
        seconds, copied = raw.copy()
        base += seconds
        for table, n in copied.items():
            rows[table] += n
        calls += 1
        if calls % 5 == 0:
            done = calls * batch
            log(quiet, f"  {min(done, len(allocations)):,} allocations: {done / ours:,.0f}/s, raw {done / base:,.0f}/s")
    n = len(allocations)
    return (
        {"allocations": n, "calls": calls, "seconds": ours, "allocations_per_s": n / ours, "rows": dict(rows)},
        {"allocations": n, "calls": calls, "seconds": base, "allocations_per_s": n / base},
    )


# --- 3. spend volume --------------------------------------------------------------------


def spend_all(engine: Engine, workload: Workload, plan: list[tuple[int, str, Stream, int]],
              quiet: bool) -> dict[str, Any]:
    step = max(1, len(plan) // max(1, workload.spend_calls))
    through_spend = set(range(0, len(plan), step)[: workload.spend_calls])
    calls = [plan[i] for i in sorted(through_spend)]
    rest = [(spend_draft(ref, s, amount, FY_START + timedelta(days=day)), f"spend:{i}")
            for i, (day, ref, s, amount) in enumerate(plan) if i not in through_spend]

    def one_by_one() -> None:
        for i, (day, ref, s, amount) in zip(sorted(through_spend), calls):
            spend(engine, ref, FY, amount, on=FY_START + timedelta(days=day), actor="bench", stream=s,
                  key=f"spend:{i}")

    call_seconds = timed(one_by_one)
    bulk_seconds = 0.0
    for n, part in enumerate(batched(rest, workload.spend_batch), 1):
        bulk_seconds += timed(lambda: post_many(engine, part, actor="bench"))
        if n % 10 == 0:
            done = n * workload.spend_batch
            log(quiet, f"  {done:,} spend entries: {done / bulk_seconds:,.0f}/s")
    return {
        "spend_calls": len(calls),
        "spend_calls_s": call_seconds,
        "spend_calls_per_s": len(calls) / call_seconds if calls else 0.0,
        "post_many_entries": len(rest),
        "post_many_s": bulk_seconds,
        "post_many_entries_per_s": len(rest) / bulk_seconds if rest else 0.0,
    }


# --- 4. reconcile, and the raw baselines -----------------------------------------------

# Grouped by kind first, as the ledger does: SQLite then scans postings in table order. Grouped by
# account first it walks ix_postings_account and fetches rows out of order (timed too, for the record).
BY_KIND = ("SELECT p.account_id, e.kind, sum(p.amount) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
           "WHERE p.pending = 0{where} GROUP BY e.kind, p.account_id")
BY_KIND_ACCOUNT_FIRST = BY_KIND.replace("GROUP BY e.kind, p.account_id", "GROUP BY p.account_id, e.kind")
HELD = ("SELECT p.account_id, sum(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END), "
        "sum(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) FROM postings p WHERE p.pending = 1 "
        "AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.completes_id = p.entry_id) GROUP BY p.account_id")
PERSON_SIDE = ("SELECT coalesce(sum(ps.amount), 0) FROM postings pp "
               "JOIN postings ps ON ps.entry_id = pp.entry_id AND ps.account_id <> pp.account_id "
               "JOIN budget_components bc ON bc.available_account_id = ps.account_id "
               "JOIN journal_entries e ON e.id = pp.entry_id "
               "WHERE pp.account_id = ? AND e.kind IN ('allocation', 'recovery') AND pp.pending = 0")
STREAMS = ("SELECT bc.available_account_id, bc.spent_account_id, ab.balance, ab.pending_credits, sb.balance "
           "FROM budget_components bc JOIN budgets b ON b.id = bc.budget_id JOIN people pe ON pe.id = b.person_id "
           "JOIN account_balances ab ON ab.account_id = bc.available_account_id "
           "JOIN account_balances sb ON sb.account_id = bc.spent_account_id{where}")
POOLS = ("SELECT p.id, p.unallocated_account_id, ub.balance FROM pools p "
         "JOIN account_balances ub ON ub.account_id = p.unallocated_account_id{where}")
PARTNERS = ("SELECT pp.pool_id, cb.balance, rb.balance FROM pool_partners pp "
            "JOIN account_balances cb ON cb.account_id = pp.contributions_account_id "
            "JOIN account_balances rb ON rb.account_id = pp.risk_share_account_id")


def _by_kind(conn: sqlite3.Connection, account_ids: list[int] | None,
             sql: str = BY_KIND) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = defaultdict(dict)
    if account_ids is None:
        rows = conn.execute(sql.format(where=""))
    else:
        marks = ",".join("?" * len(account_ids))
        rows = conn.execute(BY_KIND.format(where=f" AND p.account_id IN ({marks})"), account_ids)
    for account_id, kind, total in rows:
        out[account_id][kind] = total
    return out


def _stream_problems(streams: list[tuple[int, int, int, int, int]], by_kind: dict[int, dict[str, int]]) -> int:
    problems = 0
    for available_id, _, balance, held, spent_balance in streams:
        sums = dict(by_kind.get(available_id, {}))
        allocated, spent = sums.pop("allocation", 0), -sums.pop("spend", 0)
        recovered, other = -sums.pop("recovery", 0), sum(sums.values())
        problems += allocated != spent + recovered + (balance - held) + held + other
        problems += spent != spent_balance
        problems += other != 0
    return problems


def _pool_problems(conn: sqlite3.Connection, pools: list[tuple[int, int, int]],
                   by_kind: dict[int, dict[str, int]]) -> int:
    equity: dict[int, int] = defaultdict(int)
    for pool_id, contributions, risk in conn.execute(PARTNERS):
        equity[pool_id] -= contributions + risk  # equity: credit-normal
    problems = 0
    for pool_id, unallocated_id, unallocated in pools:
        sums = dict(by_kind.get(unallocated_id, {}))
        out, back = -sums.pop("allocation", 0), sums.pop("recovery", 0)
        other = sum(v for k, v in sums.items() if k not in ("contribution", "pool-year-end"))
        person_side = conn.execute(PERSON_SIDE, (unallocated_id,)).fetchone()[0]
        problems += equity[pool_id] != unallocated + out - back
        problems += out - back != person_side
        problems += other != 0
    return problems


def raw_reconcile_all(conn: sqlite3.Connection, sql: str = BY_KIND) -> tuple[int, int, int]:
    """(pools, streams, differences), from one GROUP BY over all postings and the maintained rows."""
    conn.execute("BEGIN")
    by_kind = _by_kind(conn, None, sql)
    held = {a: (d, c) for a, d, c in conn.execute(HELD)}
    balances = conn.execute(
        "SELECT account_id, balance, pending_debits, pending_credits FROM account_balances").fetchall()
    streams = conn.execute(STREAMS.format(where="")).fetchall()
    pools = conn.execute(POOLS.format(where="")).fetchall()
    problems = _pool_problems(conn, pools, by_kind) + _stream_problems(streams, by_kind)
    conn.execute("COMMIT")
    for account_id, balance, debits, credits in balances:  # the ledger: every balance = sum of its postings
        problems += sum(by_kind.get(account_id, {}).values()) != balance
        problems += held.get(account_id, (0, 0)) != (debits, credits)
    return len(pools), len(streams), problems


def raw_reconcile_person(conn: sqlite3.Connection, ref: str) -> int:
    conn.execute("BEGIN")
    streams = conn.execute(STREAMS.format(where=" WHERE pe.ref = ?"), (ref,)).fetchall()
    by_kind = _by_kind(conn, [s[0] for s in streams])
    conn.execute("COMMIT")
    return _stream_problems(streams, by_kind)


def raw_reconcile_pool(conn: sqlite3.Connection, pool: str) -> int:
    conn.execute("BEGIN")
    pools = conn.execute(POOLS.format(where=" WHERE p.code = ?"), (pool,)).fetchall()
    by_kind = _by_kind(conn, [p[1] for p in pools])
    problems = _pool_problems(conn, pools, by_kind)
    conn.execute("COMMIT")
    return problems


def reconcile_all(path: Path, workload: Workload, runs: int, person_runs: int, quiet: bool) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{path}")  # created here, outside every timing
    raw = raw_connect(path)
    out: dict[str, Any] = {}

    log(quiet, "  reconcile: everything")
    result = reconcile(engine)
    assert result.ok, f"reconcile found differences: {result.differences[:5]}"
    pools, streams, problems = raw_reconcile_all(raw)
    assert problems == 0, f"the raw reconcile found {problems} differences"
    assert (result.pools, result.streams) == (pools, streams), ((result.pools, result.streams), (pools, streams))
    out["pools"], out["streams"] = pools, streams
    out["all"], out["all_raw"] = paired_ms(lambda _: reconcile(engine), lambda _: raw_reconcile_all(raw), runs)
    out["all_raw_account_first"] = median_ms(lambda: raw_reconcile_all(raw, BY_KIND_ACCOUNT_FIRST), max(1, runs // 2))

    log(quiet, "  reconcile: one person")
    rng = random.Random(workload.seed + 2)
    refs = workload.refs()
    picks = [rng.choice(refs) for _ in range(person_runs)]
    assert reconcile(engine, person=refs[0]).ok and raw_reconcile_person(raw, refs[0]) == 0
    out["person"], out["person_raw"] = paired_ms(
        lambda i: reconcile(engine, person=picks[i]), lambda i: raw_reconcile_person(raw, picks[i]), person_runs, 5)

    log(quiet, "  reconcile: one pool")
    assert reconcile(engine, pool=POOL).ok and raw_reconcile_pool(raw, POOL) == 0
    out["pool"], out["pool_raw"] = paired_ms(lambda _: reconcile(engine, pool=POOL),
                                             lambda _: raw_reconcile_pool(raw, POOL), runs)

    counts = raw.execute("SELECT (SELECT count(*) FROM journal_entries), (SELECT count(*) FROM postings), "
                         "(SELECT count(*) FROM accounts)").fetchone()
    out["entries"], out["postings"], out["accounts"] = counts
    raw.close()
    engine.dispose()
    return out


# --- report -------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    w, m, a, a_raw = results["workload"], results["machine"], results["allocate"], results["allocate_raw"]
    s, r = results["spend"], results["reconcile"]
    rows: list[tuple[str, ...] | str | None] = [
        ("", "ours", "raw sqlite3", "ours / raw"),
        RULE,
        (f"allocate {a['allocations']:,} stream components ({a['calls']} calls)", f"{a['seconds']:.2f} s",
         f"{a_raw['seconds']:.2f} s", fmt_ratio(a["seconds"], a_raw["seconds"])),
        ("  allocations/s", f"{a['allocations_per_s']:,.0f}", f"{a_raw['allocations_per_s']:,.0f}", ""),
        compare_row("reconcile everything (median)", r["all"], r["all_raw"]),
        ("  raw grouped by account, then kind", "", fmt_ms(r["all_raw_account_first"]["median_ms"]), ""),
        compare_row("reconcile one person (median)", r["person"], r["person_raw"]),
        compare_row("reconcile one pool (median)", r["pool"], r["pool_raw"]),
        None,
        ("set-up and volume (ours only)", "", "", ""),
        RULE,
        (f"register_people, {w['people']:,} in one transaction", f"{results['setup']['register_people_s']:.2f} s",
         "", f"{results['setup']['people_per_s']:,.0f}/s"),
        (f"spend, {s['spend_calls']} calls (one transaction each)", f"{s['spend_calls_s']:.2f} s", "",
         f"{s['spend_calls_per_s']:,.0f}/s"),
        (f"post_many, {s['post_many_entries']:,} spend entries", f"{s['post_many_s']:.2f} s", "",
         f"{s['post_many_entries_per_s']:,.0f}/s"),
    ]
    lines = [
        f"{w['people']:,} people, {r['streams']:,} streams, {r['entries']:,} entries, {r['postings']:,} postings, "
        f"{r['accounts']:,} accounts; {describe(m)}",
        "",
        *render_table(rows),
    ]
    ratio = results["reconcile_ratio"]
    lines += ["", f"target: reconcile everything within {TARGET_RATIO:g}x raw: "
              f"{'met' if ratio <= TARGET_RATIO else 'MISSED'} ({ratio:.2f}x)"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, help=f"people with a budget (default {DEFAULT_PEOPLE:,})")
    parser.add_argument("--quick", action="store_true", help=f"a smoke run with {QUICK_PEOPLE:,} people")
    parser.add_argument("--entries-per-person", type=int, default=20,
                        help="entries touching each person's budget: 2-3 allocations, the rest spend")
    parser.add_argument("--batch", type=int, default=2000, help="allocations per allocate call")
    parser.add_argument("--spend-batch", type=int, default=5000, help="spend entries per post_many call")
    parser.add_argument("--spend-calls", type=int, default=200, help="spends through spend(), one transaction each")
    parser.add_argument("--runs", type=int, default=5, help="runs of reconcile-all and one pool (median)")
    parser.add_argument("--person-runs", type=int, default=200, help="runs of one person's reconcile (median)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--dir", type=Path, help="where to make the working directory (default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the two database files afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args(argv)

    people = args.people or (QUICK_PEOPLE if args.quick else DEFAULT_PEOPLE)
    workload = Workload(people, args.entries_per_person, args.batch, args.spend_batch, args.spend_calls, args.seed)
    quiet = args.json
    with scratch_dir("ipb-bench-budgets-", args.dir, args.keep) as directory:
        results = run(workload, directory, args.runs, args.person_runs, quiet)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(table(results))
        print(f"\n(whole run {results['wall_s']:.0f} s" + (f"; files in {directory})" if args.keep else ")"))
    return 0


def run(workload: Workload, directory: Path, runs: int, person_runs: int, quiet: bool) -> dict[str, Any]:
    ours_path, raw_path = directory / "budgets.sqlite", directory / "budgets-raw.sqlite"
    people = workload.people
    wall = time.perf_counter()
    budgets = workload.budgets()
    engine = open_engine(f"sqlite:///{ours_path}", create=True)
    log(quiet, f"set-up: 3 funders, pool {POOL}, {people:,} people ({directory})")
    setup = set_up(engine, workload, budgets)
    raw = RawMirror(ours_path, raw_path)
    allocations = workload.allocations(budgets)
    log(quiet, f"allocate: {len(allocations):,} stream components in batches of {workload.batch:,}")
    ours_alloc, raw_alloc = allocate_all(engine, raw, allocations, workload.batch, quiet)
    raw.close()
    plan = workload.spends(budgets)
    log(quiet, f"spend: {len(plan):,} entries ({workload.spend_calls} through spend(), the rest through post_many)")
    spent = spend_all(engine, workload, plan, quiet)
    engine.dispose()
    log(quiet, "reconcile")
    rec = reconcile_all(ours_path, workload, runs, person_runs, quiet)

    return {
        "workload": {"people": people, "entries_per_person": workload.entries_per_person, "batch": workload.batch,
                     "spend_batch": workload.spend_batch, "seed": workload.seed},
        "machine": machine(),
        "setup": setup,
        "allocate": ours_alloc,
        "allocate_raw": raw_alloc,
        "allocate_ratio": ours_alloc["seconds"] / raw_alloc["seconds"],
        "spend": spent,
        "reconcile": rec,
        "reconcile_ratio": rec["all"]["median_ms"] / rec["all_raw"]["median_ms"],
        "wall_s": time.perf_counter() - wall,
    }


if __name__ == "__main__":
    raise SystemExit(main())
