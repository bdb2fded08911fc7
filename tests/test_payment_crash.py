"""Kill a payment run with SIGKILL at exact and at random points, run it again, and prove that every
payment was held once and paid once: by journal keys, by postings, by balances, and by `audit verify`.

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
from ledger.models import journal_entries, postings
from ledger.models.payments import payments
from ledger.reports.reconcile import reconcile
from ledger.reports.verify import verify
from ledger.services import parties, payees, payment_runs
from ledger.services.budgets import Allocation, allocate
from ledger.storage import reads

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 12
D0 = date(2025, 4, 7)


def ipb(url: str, actor: str, *args: str, crash_after: int | None = None, kill_after: float | None = None) -> int:
    env = {**os.environ, "IPB_USER": actor}
    entry = ["-m", "ledger"] if crash_after is None else [str(ROOT / "tests" / "crash_ipb.py"), str(crash_after)]
    proc = subprocess.Popen([sys.executable, *entry, "--db", url, "--as", actor, *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return proc.returncode


@pytest.fixture
def world(engine):
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
    refs = [f"P{i:02d}" for i in range(PEOPLE)]
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
    run = payment_runs.gather(engine, "council", date(2025, 5, 5), actor="tester").run
    assert len(run.payments) == 3 * PEOPLE  # two DPs and an invoice each
    return engine, run.id


def test_killed_runs_pay_everything_exactly_once(world, tmp_path):
    engine, run = world
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    n = 3 * PEOPLE
    rng = random.Random(5)
    # approve: killed after exact steps (1 = just after approval, before any hold), then at random times
    for after in (1, 9):
        assert ipb(url, "checker", "run", "approve", str(run), crash_after=after) == -signal.SIGKILL
    for _ in range(2):
        ipb(url, "checker", "run", "approve", str(run), kill_after=rng.uniform(0.8, 2.5))
    assert ipb(url, "checker", "run", "approve", str(run)) == 0
    assert ipb(url, "tester", "run", "file", str(run), "--out", str(tmp_path / "run.csv")) == 0
    assert ipb(url, "tester", "run", "submit", str(run)) == 0
    for after in (4, 23):
        assert ipb(url, "tester", "run", "settle", str(run), "--date", "2025-05-05",
                   crash_after=after) == -signal.SIGKILL
    for _ in range(2):
        ipb(url, "tester", "run", "settle", str(run), "--date", "2025-05-05", kill_after=rng.uniform(0.8, 2.5))
    assert ipb(url, "tester", "run", "settle", str(run), "--date", "2025-05-05") == 0

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
