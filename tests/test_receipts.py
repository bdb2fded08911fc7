"""Funding receipts: the cash funders pay into the council's paying accounts (ledger/services/receipts.py).

A receipt debits the paying account and credits what the funder has received (for a pool contribution, or
its direct funding), keyed; a funder never pays in more than it owes; a refusal writes nothing. After a
small year (contributions received, a payment run paid) a paying account holds receipts less payments,
the trial balance balances, and hledger and Beancount read the same balances as ipb.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger import chart
from ledger.calendar import parse_period
from ledger.chart import EntryKind
from ledger.domain import FunderKind, Stream
from ledger.errors import AccountClosed, IdempotencyConflict, InvalidInput, NotAllowed, UnknownParty
from ledger.models import accounts, journal_entries
from ledger.reports.balances import trial_balance
from ledger.reports.exports import export_data, to_beancount, to_hledger
from ledger.reports.reconcile import reconcile
from ledger.reports.verify import verify
from ledger.services import parties, payees, payment_runs, payment_settlement
from ledger.services.accounts import close_account
from ledger.services.budgets import Allocation, allocate
from ledger.services.pools import contribute, create_pool
from ledger.services.receipts import receive
from ledger.storage import reads
from tests.test_exports import bean_check, hledger, ipb_balances, pence, run

FY, POOL, BANK = 2025, "bcf-2025", "main"
D0 = date(2025, 4, 1)


def balance(engine, code: str) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return reads.account_rows(conn, [code])[code].state.normal_balance


def counts(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(entries, accounts): what a refusal must leave as it found."""
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(journal_entries)).scalar_one(),
                conn.execute(select(func.count()).select_from(accounts)).scalar_one())


@pytest.fixture
def pool_year(engine):  # type: ignore[no-untyped-def]
    """A pool (ICB 6,000.00, council 4,000.00), council funding of 500.00 direct, a paying account, a provider,
    P1 paid by direct payment from the pool and P2 by invoice from the council's direct funding."""
    parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    for ref in ("P1", "P2"):
        parties.register_person(engine, ref)
    create_pool(engine, POOL, name="BCF", fy=FY, host="council", partners=[("icb", None), ("council", None)])
    contribute(engine, POOL, "icb", 600_000, on=D0, actor="tester")
    contribute(engine, POOL, "council", 400_000, on=D0, actor="tester")
    allocate(engine, [Allocation("P1", FY, Stream.CARE_ACT, 300_000, chart.pool_source(POOL), D0),
                      Allocation("P2", FY, Stream.CARE_ACT, 50_000, "council", D0)], actor="tester")
    payees.add_paying_account(engine, BANK, "Council payments", "20-00-00", "12345678", "123456", actor="tester")
    payees.add_provider(engine, "acme", "Acme Care Ltd", "40-11-22", "87654321", actor="tester")
    payees.add_schedule(engine, "P1", weekly=10_000, first_due=date(2025, 4, 7), paying_account=BANK,
                        payee_name="P One", sort_code="30-00-00", account_number="11112222", actor="tester")
    payees.add_invoice(engine, "acme", "INV-1", "P2", 12_345, invoice_date=date(2025, 4, 7), paying_account=BANK,
                       stream=Stream.CARE_ACT, actor="tester")
    return engine


def test_a_receipt_debits_the_paying_account_and_credits_what_the_funder_has_paid(pool_year) -> None:
    posted = receive(pool_year, "icb", 250_000, into=BANK, pool=POOL, on=date(2025, 4, 2), reference="ICB BACS 1",
                     actor="tester", key="icb-q1")
    entry = posted.entry
    assert entry.kind == EntryKind.RECEIPT and entry.effective_date == date(2025, 4, 2) and not posted.replayed
    assert {(line.account, line.amount) for line in entry.lines} == {
        (chart.bank(BANK), 250_000), (chart.pool_received(POOL, "icb"), -250_000)}
    assert entry.meta["reference"] == "ICB BACS 1" and entry.meta["pool"] == POOL
    direct = receive(pool_year, "council", 50_000, into=BANK, on=date(2025, 4, 3), reference="CNL 1", actor="tester")
    assert {(line.account, line.amount) for line in direct.entry.lines} == {
        (chart.bank(BANK), 50_000), (chart.funder_received("council"), -50_000)}
    assert balance(pool_year, chart.bank(BANK)) == 300_000
    # the pool's own figures are untouched: the contribution was counted when it was made
    assert balance(pool_year, chart.pool_contributions(POOL, "icb")) == 600_000
    assert balance(pool_year, chart.pool_unallocated(POOL)) == 700_000


def test_the_same_key_posts_nothing_new_and_other_content_under_it_is_refused(pool_year) -> None:
    def again(amount: int):  # type: ignore[no-untyped-def]
        return receive(pool_year, "icb", amount, into=BANK, pool=POOL, on=date(2025, 4, 2), reference="ICB BACS 1",
                       actor="tester", key="icb-all")

    first = again(600_000)  # everything icb owes: a replay must not be judged as paying it twice
    before = counts(pool_year)
    replay = again(600_000)
    assert replay.replayed and replay.entry.id == first.entry.id and counts(pool_year) == before
    with pytest.raises(IdempotencyConflict):
        again(500_000)
    assert counts(pool_year) == before and balance(pool_year, chart.bank(BANK)) == 600_000


def test_a_funder_pays_in_up_to_what_it_owes_to_the_penny(pool_year) -> None:
    receive(pool_year, "council", 399_999, into=BANK, pool=POOL, on=D0, reference="S75 1", actor="tester")
    receive(pool_year, "council", 1, into=BANK, pool=POOL, on=D0, reference="S75 2", actor="tester")
    with pytest.raises(NotAllowed, match="against 4,000.00 owed"):
        receive(pool_year, "council", 1, into=BANK, pool=POOL, on=D0, reference="S75 3", actor="tester")
    receive(pool_year, "council", 50_000, into=BANK, on=D0, reference="DRAWDOWN 1", actor="tester")
    with pytest.raises(NotAllowed, match="council's direct funding"):
        receive(pool_year, "council", 1, into=BANK, on=D0, reference="DRAWDOWN 2", actor="tester")
    assert balance(pool_year, chart.pool_received(POOL, "council")) == 400_000
    assert balance(pool_year, chart.funder_received("council")) == 50_000


REFUSED = {
    "unknown paying account": (UnknownParty, dict(into="nowhere")),
    "closed paying account": (AccountClosed, dict(into="old")),
    "more than contributed": (NotAllowed, dict(amount=600_001)),
    "not a partner of the pool": (NotAllowed, dict(funder="education")),
    "direct, more than funded": (NotAllowed, dict(pool=None, amount=1)),
    "date outside the pool's year": (InvalidInput, dict(on=date(2026, 4, 1))),
    "nothing": (InvalidInput, dict(amount=0)),
    "no bank reference": (InvalidInput, dict(reference="  ")),
    "unknown funder": (UnknownParty, dict(funder="nobody", pool=None)),
    "unknown pool": (UnknownParty, dict(pool="bcf-1999")),
}


def test_a_refused_receipt_writes_nothing(pool_year) -> None:
    parties.add_funder(pool_year, "education", "Education", FunderKind.EDUCATION)
    payees.add_paying_account(pool_year, "old", "Closed account", "20-00-00", "12345679", actor="tester")
    close_account(pool_year, chart.bank("old"), D0)
    before = counts(pool_year)
    for case, (error, changed) in REFUSED.items():
        given = dict(funder="icb", amount=100_000, into=BANK, pool=POOL, on=D0, reference="ICB BACS 1") | changed
        with pytest.raises(error):
            receive(pool_year, given.pop("funder"), given.pop("amount"), actor="tester", key=f"refused:{case}",
                    **given)
        assert counts(pool_year) == before, case
    receive(pool_year, "icb", 100_000, into=BANK, pool=POOL, on=D0, reference="ICB BACS 1", actor="tester")
    assert counts(pool_year) != before  # the same receipt, put right, is taken


def _a_year(engine) -> int:  # type: ignore[no-untyped-def]
    """The partners pay in, a payment run is paid (the bank returns nothing); what the run paid out."""
    receive(engine, "icb", 600_000, into=BANK, pool=POOL, on=D0, reference="ICB S75", actor="tester")
    receive(engine, "council", 100_000, into=BANK, pool=POOL, on=D0, reference="CNL S75", actor="tester")
    receive(engine, "council", 20_000, into=BANK, on=date(2025, 4, 2), reference="CNL DRAWDOWN", actor="tester")
    run = payment_runs.gather(engine, BANK, date(2025, 5, 6), actor="tester").run
    payment_runs.approve(engine, run.id, actor="checker")
    payment_settlement.payment_file(engine, run.id, "csv", actor="tester")
    payment_settlement.submit(engine, run.id, actor="tester")
    settled = payment_settlement.settle(engine, run.id, on=date(2025, 5, 6), actor="tester")
    assert settled.count("settled") == 3
    return settled.total


def test_after_a_year_the_bank_holds_receipts_less_payments_and_the_books_agree(pool_year) -> None:
    paid = _a_year(pool_year)
    assert paid == 2 * 40_000 + 12_345  # P1's direct payments due 7 April and 5 May, and P2's invoice
    assert balance(pool_year, chart.bank(BANK)) == 720_000 - paid > 0
    tb = trial_balance(pool_year)
    assert tb.balanced
    assert reconcile(pool_year).ok and verify(pool_year).ok
    # the pool's figures are the budget side's: partner equity = unallocated + allocated out
    assert balance(pool_year, chart.pool_unallocated(POOL)) == 1_000_000 - 300_000


def test_hledger_and_beancount_read_the_receipts_as_ipb_does(pool_year, tmp_path) -> None:
    _a_year(pool_year)
    period = parse_period("2025/26")
    data = export_data(pool_year, period)
    journal = tmp_path / "books.journal"
    journal.write_text(to_hledger(data))
    tool = hledger()
    assert run(tool, "-f", str(journal), "check", "--strict").returncode == 0
    result = run(tool, "-f", str(journal), "balance", "--flat", "--no-total", "-O", "csv")
    theirs = {row[0]: pence(row[1].split()[0]) for row in list(csv.reader(io.StringIO(result.stdout)))[1:]}
    ours = ipb_balances(pool_year, period)
    assert {k: v for k, v in theirs.items() if v} == ours
    assert any("Received" in name for name in ours) and any("Bank" in name for name in ours)
    command = bean_check()
    bean = tmp_path / "books.beancount"
    bean.write_text(to_beancount(data))
    checked = run(*command, str(bean))  # the file closes with a balance assertion per account: ipb's figures
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_command_records_a_receipt_and_refuses_in_one_line(pool_year, ipb) -> None:
    args = ("funder", "receipt", "icb", "--pool", POOL, "--into", BANK, "--amount", "2,500.00", "--date",
            "2025-04-02", "--reference", "ICB BACS 0402", "--key", "k1")
    posted = json.loads(ipb(*args, "--json").stdout)
    assert posted["kind"] == "receipt" and posted["replayed"] is False
    assert {(p["account"], p["amount"]) for p in posted["postings"]} == {
        ("bank:main", 250_000), ("pool:bcf-2025:partner:icb:received", -250_000)}
    assert json.loads(ipb(*args, "--json").stdout)["replayed"] is True
    refused = ipb("funder", "receipt", "icb", "--pool", POOL, "--into", BANK, "--amount", "5,000.00",
                  "--reference", "ICB BACS 2", "--date", "2025-04-03", code=1)
    assert "against 6,000.00 owed" in refused.stderr and refused.stderr.count("\n") == 1
    outside = ipb("funder", "receipt", "icb", "--pool", POOL, "--into", BANK, "--amount", "1.00",
                  "--reference", "x", "--date", "2026-04-01", code=2)
    assert "outside 2025/26" in outside.stderr
    assert balance(pool_year, chart.bank(BANK)) == 250_000
