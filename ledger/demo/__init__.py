"""`ipb demo`: a year of a council, an ICB and a section 75 pool around 200 people, end to end.

The scenario (ledger/demo/set_up.py, then ledger/demo/scenario.py) runs through the services as
the users whose job each step is; then the books are reconciled and verified, and the auditors'
reports are written.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ledger import calendar
from ledger.calendar import financial_year
from ledger.collector import collector_paused
from ledger.demo.scenario import Scenario
from ledger.demo.set_up import ADMIN, FUNDERS, FY, OFFICER, POOL, WEB_USERS, Progress, Say
from ledger.reports import books, exports, render, statements
from ledger.reports.arrears import contribution_arrears
from ledger.reports.balances import TrialBalance, trial_balance
from ledger.reports.payment_runs import payment_runs_report
from ledger.reports.pdf import to_pdf
from ledger.reports.plans import plan_report
from ledger.reports.reconcile import Reconciliation, reconcile, reconciliation_report
from ledger.reports.verify import Verification, verify
from ledger.services.settings import DEMO, MADE_BY, record_setting
from ledger.services.sign_in import new_passwords, store_passwords
from ledger.storage.engine import sqlite_setting
from ledger.storage.identity import acting_for_users, principal_of


@dataclass
class DemoResult:
    steps: list[str] = field(default_factory=list)
    trial: TrialBalance | None = None
    verification: Verification | None = None
    reconciliation: Reconciliation | None = None
    reports: list[Path] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)  # user -> the web password made for them, shown once


def is_demo_ledger(path: Path) -> bool:
    """Whether `path` is a ledger `ipb demo` made (the only kind of file it replaces)."""
    return sqlite_setting(path, MADE_BY) == DEMO


def _no_progress(what: str, total: int) -> Callable[[int], None]:
    return lambda done: None


def run(engine: Engine, reports: Path, say: Say = lambda _: None, track: Progress = _no_progress) -> DemoResult:
    """Build the demo ledger in `engine` (a fresh database) and write its reports into `reports`."""
    reports.mkdir(parents=True, exist_ok=True)
    record_setting(engine, MADE_BY, DEMO)  # so a later `ipb demo` may replace this file, and no other
    engine = acting_for_users(engine)  # the demo's staff are people; it acts for each through the services
    demo = Scenario(engine, say, track)
    # The cycle collector is paused throughout (ledger/collector.py): the demo makes no garbage cycles to speak
    # of (the same peak memory without it), but the collector walked its live objects again and again: ~0.5 s of
    # the year, and ~0.75 s of the reports and verify after it (timed by gc.callbacks).
    with collector_paused():
        result = _year(demo, engine, reports)
        verified = _verified_beside(engine)
        result.reports = write_reports(engine, reports, [p.ref for p in demo.cohort[:3]])
        result.reconciliation = reconcile(engine)
        result.trial = trial_balance(engine)
        result.verification = verified()
    return result


def _year(demo: Scenario, engine: Engine, reports: Path) -> DemoResult:
    """The year, step by step as its users take it, and the web passwords made meanwhile: random, shown once (no
    password anyone could know in advance signs in to a demo ledger), hashed by Argon2 on a thread of its own, on
    the other core, while the year is built."""
    with ThreadPoolExecutor(1) as pool:
        hashing = pool.submit(new_passwords, WEB_USERS)
        demo.set_up()
        demo.decide_and_assess()
        demo.pool_and_budgets()
        demo.care_plans()
        demo.payment_set_up()
        demo.a_year_of_care()
        demo.bank_statement(reports)
        demo.pay_the_returned_again()
        demo.surpluses()
        demo.year_end()
        passwords = store_passwords(engine, hashing.result(), actor=ADMIN)
    return DemoResult(steps=demo.steps, passwords=passwords)


_CHILD_WAIT = 120  # seconds: verify takes about one here; past this the parent verifies itself


def _verified_beside(engine: Engine) -> Callable[[], Verification]:
    """`verify(engine)` started in a forked process, on the other core, while the reports are written (it only
    reads; ~0.8 s of the demo); the returned function waits for its result. Where the platform does not fork
    safely (Windows, macOS), or the child gives no result, the parent verifies when asked, so any error is raised
    there as it would be."""
    if not forks():
        return lambda: verify(engine)
    context = multiprocessing.get_context("fork")
    received, sent = context.Pipe(duplex=False)
    child = context.Process(target=_verify_into, args=(engine, sent), daemon=True)
    child.start()
    sent.close()

    def verified() -> Verification:
        try:
            outcome = received.recv() if received.poll(_CHILD_WAIT) else None
        except EOFError:
            outcome = None
        finally:
            received.close()
            if child.is_alive():  # stuck (it should never be): the parent verifies instead
                child.kill()
            child.join()
        return outcome if isinstance(outcome, Verification) else verify(engine)

    return verified


def forks() -> bool:
    """Whether this platform forks a process safely: Linux (macOS may crash a forked child; Windows cannot)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def _verify_into(engine: Engine, sent: Connection) -> None:
    """In the forked child: verify on connections of its own, send the result, and end at once.

    The parent's pooled connections stay referenced, unclosed, until the end: SQLite's must never be closed in a
    child (freeing the old pool would close them). Nothing is written to stdout or stderr (no log record, no
    warning, not multiprocessing's flush at exit): another thread of the parent (the progress bar's) may have
    held their locks when it forked, and the child would wait for them for ever."""
    inherited = engine.pool  # noqa: F841  (kept alive until os._exit)
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    try:
        engine.dispose(close=False)
        try:
            outcome: Verification | None = verify(engine)
        except Exception:
            outcome = None  # the parent verifies again, where the error is raised as it would be
        sent.send(outcome)
    finally:
        os._exit(0)


def write_reports(engine: Engine, folder: Path, people: list[str]) -> list[Path]:
    """The year-end statements, each stamped with the chain head it was made at: for the people (their money in
    and out, what is left of the plan, contributions, a burn-down chart), for the section 75 partners (the pool
    statement with its sign-off) and for the auditors (the working papers and the ledger exports)."""
    year = financial_year(FY)
    stamp = _stamp(engine)
    person = {ref: statements.person_statement(engine, ref, year, FY) for ref in people}
    pool = statements.pool_statement(engine, POOL, year)
    trial, ledger = books.trial_balance_report(engine, year), exports.export_data(engine, year)  # read once each

    def page(report: Any, fmt: str = "html") -> str:
        return render.render(report, fmt, stamp=stamp) or ""

    def printed(report: Any) -> bytes:
        return to_pdf(render.document(report, stamp))

    written: dict[str, str | bytes] = {
        **{f"statement-{ref}.html": page(statement) for ref, statement in person.items()},
        **{f"statement-{ref}.pdf": printed(statement) for ref, statement in person.items()},
        f"pool-{POOL}.html": page(pool),
        f"pool-{POOL}.pdf": printed(pool),
        "trial-balance-2025-26.html": page(trial),
        "trial-balance-2025-26.csv": page(trial, "csv"),
        "reconciliation.html": page(reconciliation_report(engine)),
        "contribution-arrears.html": page(contribution_arrears(engine, year.end)),
        "payment-runs-2025-26.html": page(payment_runs_report(engine, year)),
        "ledger-2025-26.journal": exports.to_hledger(ledger),
        "ledger-2025-26.beancount": exports.to_beancount(ledger),
        **{f"plan-{ref}.html": page(plan_report(engine, ref, FY)) for ref in people},
    }
    paths = []
    for name, content in written.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        paths.append(path)
    return paths


def _stamp(engine: Engine) -> render.Stamp:
    """The demo's reports are issued by its council and produced by its finance officer, on the clock."""
    with engine.connect() as conn:
        by = principal_of(conn, OFFICER)
    return render.Stamp(next(name for code, name, _ in FUNDERS if code == "council"), by, calendar.utc_now())
