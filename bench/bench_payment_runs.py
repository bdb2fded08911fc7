"""A payment run of N payments gathered, approved (held) and settled: a chunk of payments per transaction (ipb's
default, ledger/services/payment_chunks.py) beside one payment per transaction (chunk 1, as before #17), in turn,
round after round, each on a fresh SQLite ledger (WAL, synchronous=FULL). Wall time and commits of each step.

    .venv/bin/python bench/bench_payment_runs.py                 # 167 people: 501 payments, 3 rounds
    .venv/bin/python bench/bench_payment_runs.py --people 40 --rounds 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import describe, machine, render_table, scratch_dir  # noqa: E402
from sqlalchemy import Engine, event  # noqa: E402

from ledger.domain import FunderKind, Stream  # noqa: E402
from ledger.roles import Role  # noqa: E402
from ledger.services import parties, payees, payment_runs, payment_settlement  # noqa: E402
from ledger.services.budgets import Allocation, allocate  # noqa: E402
from ledger.services.users import add_user  # noqa: E402
from ledger.storage.engine import make_engine  # noqa: E402
from ledger.storage.identity import acting_for_users  # noqa: E402
from ledger.storage.schema import migrate  # noqa: E402

D0 = date(2025, 4, 7)
STEPS = ("gather", "approve", "settle")


def world(engine: Engine, people: int) -> None:
    """`people` people with two streams, each paid a DP (two 4-weekly dates due) and an invoice."""
    add_user(engine, "admin", Role.ADMIN, actor="admin")
    for name in ("maker", "checker"):
        add_user(engine, name, Role.OFFICER, actor="admin")
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
    refs = [f"P{i:04d}" for i in range(people)]
    for ref in refs:
        parties.register_person(engine, ref)
    allocate(engine, [Allocation(r, 2025, s, 500_000, f, D0) for r in refs
                      for s, f in ((Stream.CARE_ACT, "council"), (Stream.NHS_PHB, "icb"))], actor="maker")
    payees.add_paying_account(engine, "council", "Council payments", "200000", "12345678", "123456", actor="maker")
    payees.add_provider(engine, "acme", "Acme Care", "401122", "87654321", actor="maker")
    for i, ref in enumerate(refs):
        payees.add_schedule(engine, ref, weekly=10_000 + 37 * i, first_due=D0, paying_account="council",
                            payee_name=f"DP {ref}", sort_code="300000", account_number=f"{11110000 + i}",
                            actor="maker")
        payees.add_invoice(engine, "acme", f"A-{i}", ref, 5_001 + i, invoice_date=D0, paying_account="council",
                           actor="maker")


def one_run(url: str, people: int, chunk: int | None) -> dict[str, tuple[float, int]]:
    """step -> (seconds, commits) of one run paid `chunk` payments a transaction."""
    engine = acting_for_users(make_engine(url))
    migrate(engine)
    world(engine, people)
    commits = [0]
    event.listen(engine, "commit", lambda conn: commits.__setitem__(0, commits[0] + 1))
    calls = {
        "gather": lambda: payment_runs.gather(engine, "council", date(2025, 5, 6), actor="maker").run.id,
        "approve": lambda: payment_runs.approve(engine, run, actor="checker", chunk=chunk),
        "settle": lambda: payment_settlement.settle(engine, run, on=date(2025, 5, 7), actor="maker", chunk=chunk),
    }
    out = {}
    run = 0
    for step, call in calls.items():
        if step == "settle":
            payment_settlement.payment_file(engine, run, "csv", actor="maker")
            payment_settlement.submit(engine, run, actor="maker")
        commits[0] = 0
        start = time.perf_counter()
        got = call()
        out[step] = (time.perf_counter() - start, commits[0])
        run = got if step == "gather" else run
    view = payment_runs.run_view(engine, run)
    assert view.status == "settled" and view.count("settled") == 3 * people, "the run did not settle in full"
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=167)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict[str, tuple[float, int]]]] = {"chunked": [], "one a transaction": []}
    with scratch_dir("ipb-bench-runs-") as tmp:
        n = 0
        for _ in range(args.rounds):
            for label, chunk in (("one a transaction", 1), ("chunked", None)):
                n += 1
                results[label].append(one_run(f"sqlite:///{tmp / f'run{n}.sqlite'}", args.people, chunk))
    print(describe(machine()))
    rows: list[tuple[str, ...] | str | None] = [("step", "chunked", "commits", "one a transaction", "commits",
                                                 "speed-up")]
    for step in STEPS[1:]:  # gather has no chunks: the same code on both sides
        ours = statistics.median(r[step][0] for r in results["chunked"])
        base = statistics.median(r[step][0] for r in results["one a transaction"])
        rows.append((step, f"{ours:.2f} s", str(results["chunked"][0][step][1]), f"{base:.2f} s",
                     str(results["one a transaction"][0][step][1]), f"{base / ours:.1f}x"))
    gather = statistics.median(r["gather"][0] for runs in results.values() for r in runs)
    print(f"{3 * args.people} payments in one run, median of {args.rounds} rounds; gathered in {gather:.2f} s")
    print("\n".join(render_table(rows)))


if __name__ == "__main__":
    main()
