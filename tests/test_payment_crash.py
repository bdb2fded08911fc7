"""Kill a payment run with SIGKILL at exact and at random points, run it again, and prove that every
payment was held once and paid once: by journal keys, by postings, by balances, and by `audit verify`;
and that a settlement with failures, a return and a repay, killed after any step and run again, end
exactly as uninterrupted ones, while a different command in between is refused and writes nothing.

Exact points: tests/crash_ipb.py runs ipb with a hook that SIGKILLs it after its Nth committed step.
Random points: the process is killed from outside after a random delay.
Runs on both engines: on PostgreSQL the server rolls back what a killed client left open.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger import chart
from ledger.domain import FunderKind, Stream
from ledger.errors import LedgerError
from ledger.models import account_balances, accounts, journal_entries, ledger_head, postings
from ledger.models.payments import payment_repays, payments, run_settlements
from ledger.models.payments import payment_runs as runs
from ledger.models.trust import history_head
from ledger.reports.reconcile import reconcile
from ledger.reports.verify import verify
from ledger.services import crash_points, parties, payees, payment_runs, payment_settlement, returned
from ledger.services.budgets import Allocation, allocate
from ledger.storage import reads

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 12
D0 = date(2025, 4, 7)


def ipb(url: str, actor: str, *args: str, crash_after: int | None = None, kill_after: float | None = None,
        inside: int | None = None, chunk: int | None = None) -> int:
    """ipb's exit code; SIGKILLed after its `crash_after`th committed step, after its `inside`th payment written in
    a chunk's open transaction, or `kill_after` seconds; `chunk` payments a transaction (default CHUNK)."""
    env = {**os.environ, "IPB_USER": actor}
    entry = ["-m", "ledger"]
    if (crash_after, inside, chunk) != (None, None, None):
        entry = [str(ROOT / "tests" / "crash_ipb.py"), *(("--chunk", str(chunk)) if chunk else ()),
                 *(("--inside", str(inside)) if inside else (str(crash_after or 10**9),))]
    proc = subprocess.Popen([sys.executable, *entry, "--db", url, "--as", actor, *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return proc.returncode


def make_world(engine, people: int, gather_on: date) -> int:
    """People with two streams each, a DP schedule and an invoice each, gathered into a draft run: its id."""
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
    refs = [f"P{i:02d}" for i in range(people)]
    for ref in refs:
        parties.register_person(engine, ref)
    allocate(engine, [Allocation(r, 2025, s, 500_000, f, D0) for r in refs
                      for s, f in ((Stream.CARE_ACT, "council"), (Stream.NHS_PHB, "icb"))], actor="tester")
    payees.add_paying_account(engine, "council", "Council payments", "200000", "12345678", "123456", actor="tester")
    payees.add_provider(engine, "acme", "Acme Care", "401122", "87654321", actor="tester")
    for i, ref in enumerate(refs):
        payees.add_schedule(engine, ref, weekly=10_000 + 37 * i, first_due=D0, paying_account="council",
                            payee_name=f"DP {ref}", sort_code="300000", account_number=f"{11110000 + i}",
                            actor="tester")
        payees.add_invoice(engine, "acme", f"A-{i}", ref, 5_001 + i, invoice_date=D0, paying_account="council",
                           actor="tester")
    run = payment_runs.gather(engine, "council", gather_on, actor="tester").run
    assert len(run.payments) == 3 * people  # two DPs and an invoice each
    return run.id


@pytest.fixture
def world(engine):
    return engine, make_world(engine, PEOPLE, date(2025, 5, 6))


def test_killed_runs_pay_everything_exactly_once(world, tmp_path):
    engine, run = world
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    n = 3 * PEOPLE
    rng = random.Random(5)

    def done(status: str) -> int:
        return payment_runs.run_view(engine, run).count(status)

    # approve, 5 payments a transaction: killed after exact steps (1 = just after approval, before any hold; then
    # after 2 chunks), inside a chunk (the 3rd payment of the first, then of the fourth: each chunk lost whole),
    # then at a random time
    approve = ("run", "approve", str(run))
    assert ipb(url, "checker", *approve, crash_after=1, chunk=5) == -signal.SIGKILL and done("held") == 0
    assert ipb(url, "checker", *approve, inside=3, chunk=5) == -signal.SIGKILL and done("held") == 0
    assert ipb(url, "checker", *approve, crash_after=2, chunk=5) == -signal.SIGKILL and done("held") == 10
    assert ipb(url, "checker", *approve, inside=8, chunk=5) == -signal.SIGKILL and done("held") == 15
    ipb(url, "checker", *approve, kill_after=rng.uniform(0.8, 2.5))
    assert ipb(url, "checker", *approve) == 0 and done("held") == n
    assert ipb(url, "tester", "run", "file", str(run), "--out", str(tmp_path / "run.csv")) == 0
    assert ipb(url, "tester", "run", "submit", str(run)) == 0
    # settle: killed once the outcome is recorded and 3 chunks of 5 are done; inside the next chunk (all 5 of it
    # written); inside the third chunk of 6; then at a random time
    settle = ("run", "settle", str(run), "--date", "2025-05-05")
    assert ipb(url, "tester", *settle, crash_after=4, chunk=5) == -signal.SIGKILL and done("settled") == 15
    assert ipb(url, "tester", *settle, inside=5, chunk=5) == -signal.SIGKILL and done("settled") == 15
    assert ipb(url, "tester", *settle, inside=14, chunk=6) == -signal.SIGKILL and done("settled") == 27
    ipb(url, "tester", *settle, kill_after=rng.uniform(0.8, 2.5))
    assert ipb(url, "tester", *settle) == 0

    view = payment_runs.run_view(engine, run)
    assert view.status == "settled" and view.count("settled") == n
    with engine.connect() as conn:
        ids = conn.execute(select(payments.c.id)).scalars().all()
        assert len(ids) == n
        keys = conn.execute(select(journal_entries.c.idempotency_key).where(
            journal_entries.c.idempotency_key.like("payment:%"))).scalars().all()
        assert sorted(keys) == sorted(f"payment:{i}:{step}" for i in ids for step in ("hold", "settle"))
        # every settlement has exactly 2 postings to the cash side: payee and bank
        bank_id = reads.account_row(conn, chart.bank("council")).id
        bank_postings = conn.execute(select(func.count()).select_from(postings).where(
            postings.c.account_id == bank_id, postings.c.pending.is_(False))).scalar_one()
        assert bank_postings == n
        total = sum(p.amount for p in view.payments)
        assert reads.account_row(conn, chart.bank("council")).state.normal_balance == -total
        for p in view.payments:
            if p.payee_kind == "person":
                dp = reads.account_row(conn, chart.dp_account(p.person)).state
                assert dp.normal_balance == 2 * p.amount and dp.pending_debits == 0
    assert verify(engine).ok
    assert reconcile(engine).ok
    # and running everything again changes nothing
    before = _entries(engine)
    assert ipb(url, "checker", "run", "approve", str(run)) == 1  # refused: the run is settled
    assert ipb(url, "tester", "run", "settle", str(run), "--date", "2025-05-05") == 0
    assert _entries(engine) == before


def _entries(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()


def test_no_environment_variable_makes_an_installed_ipb_stop_half_way(world, tmp_path):
    """The kill switch lives in tests/crash_ipb.py only: the old IPB_CRASH_AFTER does nothing to ipb."""
    engine, run = world
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    env = {**os.environ, "IPB_USER": "checker", "IPB_CRASH_AFTER": "1"}
    done = subprocess.run([sys.executable, "-m", "ledger", "--db", url, "--as", "checker", "run", "approve", str(run)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert payment_runs.run_view(engine, run).count("held") == 3 * PEOPLE


# --- a settlement with failures, returns and a repay, killed after every step -------------------------

SETTLE_ON, RETURN_ON, NEXT_GATHER = "2025-05-07", "2025-05-12", "2025-05-13"


def refused(url: str, actor: str, *args: str) -> str:
    """Run ipb, expect a refusal (exit 1); its one line."""
    done = subprocess.run([sys.executable, "-m", "ledger", "--db", url, "--as", actor, *args], cwd=ROOT,
                          env={**os.environ, "IPB_USER": actor}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    return " ".join(done.stderr.split())


def outcome(engine) -> dict[str, list[tuple]]:
    """Who was paid, who failed, what came back, every entry and every balance: all but ids and timestamps."""
    with engine.connect() as conn:
        def rows(query) -> list[tuple]:
            return sorted(tuple(r) for r in conn.execute(query))
        return {
            "runs": rows(select(runs.c.id, runs.c.status, runs.c.pay_date, runs.c.file_format, runs.c.file_sha256)),
            "payments": rows(select(payments.c.id, payments.c.run_id, payments.c.due_key, payments.c.attempt,
                                    payments.c.status, payments.c.failure_reason, payments.c.amount)),
            "settlements": [(r, on, sorted(f.items())) for r, on, f in rows(
                select(run_settlements.c.run_id, run_settlements.c.settled_on, run_settlements.c.failed))],
            "repays": rows(select(payment_repays.c.payment_id, payment_repays.c.reason)),
            "entries": sorted(("auto" if key.startswith("auto:") else key, *rest) for key, *rest in rows(
                select(journal_entries.c.idempotency_key, journal_entries.c.kind, journal_entries.c.effective_date,
                       journal_entries.c.memo, journal_entries.c.phase))),
            "balances": rows(select(accounts.c.code, account_balances.c.balance, account_balances.c.pending_debits,
                                    account_balances.c.pending_credits)
                             .join(account_balances, account_balances.c.account_id == accounts.c.id)),
        }


def written(engine) -> tuple:
    """outcome() and the heads of both chains: equal before and after, nothing was written."""
    with engine.connect() as conn:
        heads = (tuple(conn.execute(select(ledger_head.c.last_entry_id, ledger_head.c.last_hash)).one()),
                 tuple(conn.execute(select(history_head.c.last_seq, history_head.c.last_hash)).one()))
    return outcome(engine), heads


def uninterrupted(engine, failed: dict[int, str], returns: list[tuple[int, str]], repay: int) -> None:
    run = make_world(engine, 1, date(2025, 5, 6))
    payment_runs.approve(engine, run, actor="checker")
    payment_settlement.payment_file(engine, run, "csv", actor="tester")
    payment_settlement.submit(engine, run, actor="tester")
    payment_settlement.settle(engine, run, on=date.fromisoformat(SETTLE_ON), actor="tester", failed=failed)
    for payment, reason in returns:
        payment_settlement.return_payment(engine, payment, on=date.fromisoformat(RETURN_ON), reason=reason,
                                          actor="tester")
    returned.repay(engine, repay, reason="bank fault cleared", actor="tester", same_details=True)
    payment_runs.gather(engine, "council", date.fromisoformat(NEXT_GATHER), actor="tester")


def expected_outcome(databases, failed: dict[int, str], returns: list[tuple[int, str]], repay: int) -> dict:
    """outcome() of the same commands, never stopped, on a database of its own."""
    other = databases.engine()
    try:
        uninterrupted(other, failed, returns, repay)
        return outcome(other)
    finally:
        databases.drop(other)


class Stop(BaseException):
    """Stands for the process dying right after a committed step (the in-process twin of SIGKILL)."""


def stop() -> None:
    raise Stop


def stopped_after_each_step(engine, monkeypatch, call, others=(), says: tuple[str, ...] = ()) -> int:
    """Run `call()`, stopped after its first committed step, again and again until it finishes; after every
    stop, each of `others` (calls that ask for something different) must be refused with a one-line reason
    saying each of `says`, writing nothing. The stops."""
    stops = 0
    while True:
        monkeypatch.setattr(crash_points, "after_step", [stop])
        try:
            call()
            return stops
        except Stop:
            stops += 1
        finally:
            monkeypatch.setattr(crash_points, "after_step", [])
        before = written(engine)
        for other in others:
            with pytest.raises(LedgerError) as refused:
                other()
            assert "\n" not in refused.value.reason and all(part in refused.value.reason for part in says)
        assert written(engine) == before


@pytest.mark.parametrize("chunk", [1, 2])
def test_every_step_stopped_at_every_commit_point_ends_as_uninterrupted(engine, databases, monkeypatch, chunk):
    """In process, so every commit point of every step is tried: approve, file, submit, settle --failed,
    return and repay, each stopped after each of its commits and run again; approve and settle with `chunk`
    payments a transaction (of the run's 3)."""
    chunks = -(-3 // chunk)
    run = make_world(engine, 1, date(2025, 5, 6))
    first, paid, last = (p.id for p in payment_runs.run_view(engine, run).payments)
    failed = {first: "account closed", last: "no such account"}
    expected = expected_outcome(databases, failed, [(paid, "bank system fault")], paid)

    def settle(on: str | None = SETTLE_ON, fails: dict[int, str] = failed):
        return lambda: payment_settlement.settle(engine, run, on=on and date.fromisoformat(on), actor="tester",
                                                 failed=fails, chunk=chunk)

    def give_back(on: str = RETURN_ON, reason: str = "bank system fault"):
        return lambda: payment_settlement.return_payment(engine, paid, on=date.fromisoformat(on), reason=reason,
                                                         actor="tester")

    def repay(reason: str = "bank fault cleared"):
        return lambda: returned.repay(engine, paid, reason=reason, actor="tester", same_details=True)

    assert stopped_after_each_step(engine, monkeypatch, lambda: payment_runs.approve(
        engine, run, actor="checker", chunk=chunk)) == 1 + chunks  # approved, then each chunk of holds
    assert stopped_after_each_step(engine, monkeypatch, lambda: payment_settlement.payment_file(
        engine, run, "csv", actor="tester")) == 1
    assert stopped_after_each_step(engine, monkeypatch, lambda: payment_settlement.submit(
        engine, run, actor="tester")) == 1
    assert stopped_after_each_step(
        engine, monkeypatch, settle(),
        [settle(fails={}), settle(None, {first: "account closed"}), settle("2025-05-08"),
         settle(SETTLE_ON, {**failed, last: "closed"}), settle(SETTLE_ON, {**failed, paid: "x"})],
        (f"run {run}", f"dated {SETTLE_ON} with payments {first} ('account closed') and {last} ('no such account') "
         "failed; this asks for it")) == 1 + chunks + 1  # the outcome recorded, each chunk, the run settled
    assert stopped_after_each_step(engine, monkeypatch, give_back(), [give_back("2025-05-13"), give_back(
        reason="closed")], (f"payment {paid} was returned on {RETURN_ON}",)) == 1
    assert stopped_after_each_step(engine, monkeypatch, repay(), [repay("another reason")],
                                   (f"payment {paid} was asked to be paid again",)) == 1
    payment_runs.gather(engine, "council", date.fromisoformat(NEXT_GATHER), actor="tester")
    assert outcome(engine) == expected
    assert verify(engine).ok and reconcile(engine).ok


def settled_run(engine, failed_at: tuple[int, ...], chunk: int, stops: dict[str, tuple[int, ...]], monkeypatch
                ) -> tuple[int, dict[str, list[int]]]:
    """Two people's run (6 payments) approved, filed, submitted and settled with the payments at `failed_at`
    failed, `chunk` payments a transaction; each of approve and settle first stopped inside a chunk's open
    transaction after each number of payments its `stops` names, then run to the end. The run, and after each
    stop how many payments were held (approve) or no longer held (settle)."""
    run = make_world(engine, 2, date(2025, 5, 6))
    ids = [p.id for p in payment_runs.run_view(engine, run).payments]
    failed = {ids[i]: f"failed {i}" for i in failed_at}
    calls = {"approve": lambda: payment_runs.approve(engine, run, actor="checker", chunk=chunk),
             "settle": lambda: payment_settlement.settle(engine, run, on=date.fromisoformat(SETTLE_ON), actor="tester",
                                                         failed=failed, chunk=chunk)}
    done: dict[str, list[int]] = {}
    for step, call in calls.items():
        if step == "settle":
            payment_settlement.payment_file(engine, run, "csv", actor="tester")
            payment_settlement.submit(engine, run, actor="tester")
        for after in stops.get(step, ()):
            monkeypatch.setattr(crash_points, "within_step", [stop_at_part(after)])
            with pytest.raises(Stop):
                call()
            monkeypatch.setattr(crash_points, "within_step", [])
            view = payment_runs.run_view(engine, run)
            done.setdefault(step, []).append(view.count("held") if step == "approve" else 6 - view.count("held"))
        call()
    return run, done


def stop_at_part(parts: int):  # type: ignore[no-untyped-def]
    count = 0

    def hook() -> None:
        nonlocal count
        count += 1
        if count >= parts:
            raise Stop

    return hook


def test_steps_stopped_inside_a_chunk_lose_that_chunk_only_and_end_as_uninterrupted(engine, databases, monkeypatch):
    """Stopped after some payments of a chunk were written in its open transaction, approve and settle lose that
    chunk and no more (the first chunk, then the second: 4 payments a transaction), and run again end exactly as
    if never stopped: each payment held once, then settled or voided once."""
    other = databases.engine()
    try:
        settled_run(other, (0, 5), 200, {}, monkeypatch)
        expected = outcome(other)
    finally:
        databases.drop(other)
    run, done = settled_run(engine, (0, 5), 4, {"approve": (3, 4, 6), "settle": (1, 5)}, monkeypatch)
    assert done == {"approve": [0, 0, 4], "settle": [0, 4]}
    assert outcome(engine) == expected
    view = payment_runs.run_view(engine, run)
    assert view.status == "settled" and (view.count("settled"), view.count("failed")) == (4, 2)
    with engine.connect() as conn:
        keys = conn.execute(select(journal_entries.c.idempotency_key)
                            .where(journal_entries.c.idempotency_key.like("payment:%"))).scalars().all()
    steps = {p.id: ("hold", "void" if p.status == "failed" else "settle") for p in view.payments}
    assert sorted(keys) == sorted(f"payment:{i}:{s}" for i, both in steps.items() for s in both)
    assert verify(engine).ok and reconcile(engine).ok


def test_killed_settlement_returns_and_repay_end_as_uninterrupted_ones(engine, databases):
    """The same with SIGKILL, at chosen points: the settlement's outcome recorded and nothing more, then one
    payment done; a return and a repay each killed after their commit."""
    run = make_world(engine, 1, date(2025, 5, 6))
    view = payment_runs.approve(engine, run, actor="checker")
    payment_settlement.payment_file(engine, run, "csv", actor="tester")
    payment_settlement.submit(engine, run, actor="tester")
    first, paid, last = (p.id for p in view.payments)
    failed = {first: "account closed", last: "no such account"}
    expected = expected_outcome(databases, failed, [(paid, "bank system fault")], paid)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()

    settle = ["run", "settle", str(run), "--date", SETTLE_ON, "--failed", f"{first}=account closed",
              "--failed", f"{last}=no such account"]
    assert ipb(url, "tester", *settle, crash_after=1) == -signal.SIGKILL  # the outcome is recorded, no more
    before = written(engine)
    assert refused(url, "tester", *settle[:5]) == (  # the retry that once paid what the bank failed
        f"refused: run {run}'s settlement was started, dated {SETTLE_ON} with payments {first} ('account closed') "
        f"and {last} ('no such account') failed; this asks for it with none failed: run it again as "
        f"`ipb run settle {run} --date {SETTLE_ON} --failed '{first}=account closed' --failed '{last}=no such "
        "account'`")
    assert written(engine) == before
    assert ipb(url, "tester", *settle[:3], *settle[5:], crash_after=1, chunk=1) == -signal.SIGKILL  # one voided
    assert [p.status for p in payment_runs.run_view(engine, run).payments] == ["failed", "held", "held"]
    assert ipb(url, "tester", *settle[:3], *settle[5:]) == 0  # without --date: the date it was started with

    back = ["payment", "return", str(paid), "--reason", "bank system fault", "--date", RETURN_ON]
    assert ipb(url, "tester", *back, crash_after=1) == -signal.SIGKILL
    assert ipb(url, "tester", *back) == 0
    again = ["payment", "repay", str(paid), "--reason", "bank fault cleared", "--same-details"]
    assert ipb(url, "tester", *again, crash_after=1) == -signal.SIGKILL
    assert ipb(url, "tester", *again) == 0
    payment_runs.gather(engine, "council", date.fromisoformat(NEXT_GATHER), actor="tester")

    assert outcome(engine) == expected
    assert verify(engine).ok
    assert reconcile(engine).ok
