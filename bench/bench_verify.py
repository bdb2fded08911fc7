#!/usr/bin/env python
"""`audit verify` at about a million postings, beside a plain sqlite3 + canonical JSON + SHA-256 walk and hashlib.

    .venv/bin/python bench/bench_verify.py                 # ~333k entries, ~1M postings (posting them takes long)
    .venv/bin/python bench/bench_verify.py --quick         # 20,000 entries, a smoke run
    .venv/bin/python bench/bench_verify.py --ledger F      # an existing ledger (bench_posting.py --keep --dir D)

What runs (see bench/README.md for what each figure means):

1. A ledger: a fresh migrated SQLite file with bench_posting.py's workload posted through `post_many` (not
   timed), or the file given with --ledger.
2. In turn, round after round, so that each sees the machine at the same moments:
   - ours, chain: `verify_at(engine, head id, head hash)`: the hash chain walked, no balances;
   - ours, full: `verify(engine)`: the chain, every balance, postings against entries, the history chain;
   - plain walk: sqlite3 alone: the entries and their postings (joined to their accounts) in two ordered
     cursors, merged; each entry's canonical form as a dict, `json.dumps`'d as ipb defines it, SHA-256'd and
     compared with its stored hash and the next entry's link; every entry's zero sum;
   - hashlib: SHA-256 alone over the very canonical bytes of every entry (built beforehand, not timed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from bench_posting import DEFAULT_ENTRIES, QUICK_ENTRIES, Workload, require  # noqa: E402
from harness import (  # noqa: E402
    RULE,
    describe,
    fmt_ms,
    fmt_ratio,
    log,
    machine,
    raw_connect,
    render_table,
    round_robin,
    scratch_dir,
    summary,
    timed,
)

from ledger.reports.verify import verify, verify_at  # noqa: E402
from ledger.services.accounts import open_accounts  # noqa: E402
from ledger.services.journal import post_many  # noqa: E402
from ledger.storage.engine import open_engine  # noqa: E402

TARGET = 1.5  # ours (chain) / plain walk

# the plain walk's SQL: what any program re-hashing ipb's chain must read
ENTRIES_SQL = ("SELECT id, prev_hash, hash, idempotency_key, effective_date, recorded_at, kind, memo, actor, "
               "principal, phase, reverses_id, completes_id, meta FROM journal_entries ORDER BY id")
POSTINGS_SQL = ("SELECT p.entry_id, a.code, p.amount, a.currency FROM postings p JOIN accounts a ON a.id = "
                "p.account_id ORDER BY p.entry_id, p.id")
CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)  # ipb's canonical JSON


# --- the ledger -----------------------------------------------------------------------


def build(path: Path, workload: Workload, quiet: bool) -> None:
    engine = open_engine(f"sqlite:///{path}", create=True)
    open_accounts(engine, workload.specs())
    posted = 0
    for batch in workload.batches():
        post_many(engine, batch, actor="bench")
        posted += len(batch)
        if posted % 50_000 < workload.batch:
            log(quiet, f"  posted {posted:,} of {workload.entries:,} entries")
    engine.dispose()


# --- the baselines --------------------------------------------------------------------


def plain_walk(path: Path, keep: list[bytes] | None = None) -> int:
    """Re-hash the chain with sqlite3 and json alone; returns the entries walked. `keep` collects the bytes."""
    conn = raw_connect(path)
    lines = conn.execute(POSTINGS_SQL)
    pending = next(lines, None)
    prev, walked = "0" * 64, 0
    for (entry_id, prev_hash, stored, key, effective, recorded, kind, memo, actor, principal, phase, reverses,
         completes, meta) in conn.execute(ENTRIES_SQL):
        mine = []
        while pending is not None and pending[0] == entry_id:
            mine.append([pending[1], pending[2], pending[3]])
            pending = next(lines, None)
        canonical = {"id": entry_id, "prev_hash": prev_hash, "idempotency_key": key, "effective_date": effective,
                     "recorded_at": recorded.replace(" ", "T"), "kind": kind, "memo": memo, "actor": actor,
                     "phase": phase, "reverses": reverses, "completes": completes, "lines": mine,
                     "meta": json.loads(meta) or {}}
        if principal:
            canonical["principal"] = principal
        data = CANONICAL.encode(canonical).encode("utf-8")
        totals: dict[str, int] = defaultdict(int)
        for _, amount, currency in mine:
            totals[currency] += amount
        require(prev_hash == prev and hashlib.sha256(data).hexdigest() == stored and not any(totals.values()),
                f"the plain walk disagrees with entry {entry_id}")
        if keep is not None:
            keep.append(data)
        prev, walked = stored, walked + 1
    conn.close()
    return walked


def hash_only(blobs: Sequence[bytes]) -> None:
    for blob in blobs:
        hashlib.sha256(blob).hexdigest()


# --- the measurements -----------------------------------------------------------------


def measure(path: Path, runs: int, quiet: bool) -> dict[str, Any]:
    engine = open_engine(f"sqlite:///{path}")
    head = raw_connect(path).execute("SELECT last_entry_id, last_hash FROM ledger_head").fetchone()
    postings = raw_connect(path).execute("SELECT count(*) FROM postings").fetchone()[0]
    log(quiet, f"  {head[0]:,} entries, {postings:,} postings; one verify to check the ledger and the memory")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    require(verify(engine).ok, "verify fails on the bench ledger")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    blobs: list[bytes] = []
    require(plain_walk(path, blobs) == head[0], "the plain walk did not walk every entry")

    def run(name: str, fn):  # type: ignore[no-untyped-def]
        def one(i: int) -> float:
            seconds = timed(fn)
            log(quiet, f"  round {i + 1 if i >= 0 else 'warm-up'}: {name} {seconds:.2f} s")
            return seconds * 1000
        return one

    chain = run("ours, chain", lambda: require(verify_at(engine, head[0], head[1]).ok, "verify_at fails"))
    full = run("ours, full verify", lambda: require(verify(engine).ok, "verify fails"))
    plain = run("plain walk", lambda: plain_walk(path))
    hashes = run("hashlib", lambda: hash_only(blobs))
    samples = round_robin([chain, full, plain, hashes], runs, warmup=1)
    engine.dispose()
    return {"entries": head[0], "postings": postings, "peak_rss_mib_after_verify": peak_mib,
            "rss_mib_before_verify": before / 1024, "canonical_bytes": sum(map(len, blobs)),
            **{name: summary(s) for name, s in zip(("chain", "verify", "plain", "hashlib"), samples, strict=True)}}


def table(results: dict[str, Any]) -> str:
    m, plain = results, results["plain"]["median_ms"]
    rows: list[tuple[str, ...] | str | None] = [
        ("", "median", "min", "÷ plain walk", "÷ hashlib"), RULE]
    for name, label in (("chain", "ours: chain walk (verify_at)"), ("verify", "ours: full verify"),
                        ("plain", "plain sqlite3 + JSON + SHA-256 walk"), ("hashlib", "hashlib alone")):
        s = m[name]
        rows.append((label, fmt_ms(s["median_ms"]), fmt_ms(s["min_ms"]), fmt_ratio(s["median_ms"], plain),
                     fmt_ratio(s["median_ms"], m["hashlib"]["median_ms"])))
    ratio = m["chain"]["median_ms"] / plain
    lines = [f"verify: {m['entries']:,} entries, {m['postings']:,} postings, "
             f"{m['canonical_bytes'] / 2**20:,.0f} MiB of canonical JSON; {m['chain']['runs']} rounds; "
             f"{describe(m['machine'])}", "", *render_table(rows), "",
             f"chain walk ÷ plain walk: {ratio:.2f} (target ≤ {TARGET}: {'met' if ratio <= TARGET else 'NOT met'}); "
             f"peak RSS after one full verify: {m['peak_rss_mib_after_verify']:,.0f} MiB "
             f"(before it: {m['rss_mib_before_verify']:,.0f} MiB)"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, help=f"entries to post (default {DEFAULT_ENTRIES:,}, ~1M postings)")
    parser.add_argument("--quick", action="store_true", help=f"a smoke run of {QUICK_ENTRIES:,} entries")
    parser.add_argument("--accounts", type=int, default=3000, help="accounts to spread postings over")
    parser.add_argument("--runs", type=int, default=5, help="rounds of the four measurements (after one warm-up)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--ledger", type=Path, help="an existing ledger file to measure (nothing is posted)")
    parser.add_argument("--dir", type=Path, help="where to put the ledger file (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the ledger file afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)

    quiet = args.json
    with scratch_dir("ipb-bench-verify-", args.dir, args.keep) as workdir:
        path = args.ledger
        if path is None:
            entries = args.entries or (QUICK_ENTRIES if args.quick else DEFAULT_ENTRIES)
            path = workdir / "ledger.sqlite"
            log(quiet, f"ledger: {path} ({entries:,} entries, not timed)")
            start = time.perf_counter()
            build(path, Workload(entries=entries, accounts=args.accounts, batch=5000, seed=args.seed), quiet)
            log(quiet, f"  posted in {time.perf_counter() - start:.0f} s")
        results = {"machine": machine(), **measure(path, 2 if args.quick else args.runs, quiet)}
    results["ratio_chain_to_plain"] = results["chain"]["median_ms"] / results["plain"]["median_ms"]
    results["target_met"] = results["ratio_chain_to_plain"] <= TARGET
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
