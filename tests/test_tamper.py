"""The insider's attacks of the trust issue, replayed: each is now refused, or `audit verify` names it.

The attacker writes the database directly (as the database's owner could, triggers dropped where they
refuse): re-hashing the chain after altering an entry, cutting entries off its end, or changing what
directs money (bank details, payments, roles, posting dates, spend records) without a trace.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.exc import DatabaseError

from ledger.domain import FunderKind, Stream
from ledger.journal import SealedEntry
from ledger.models import account_balances, journal_entries, ledger_head, postings
from ledger.reports.verify import verify
from ledger.rules.plans import Frequency, LineSpec, Unit
from ledger.services import parties, payees, payment_runs, payment_settlement, plan_spend, plans
from ledger.services.budgets import Allocation, allocate, spend
from ledger.services.checkpoints import AuditKey, take_checkpoint
from ledger.storage import reads
from tests.ledger_state import disable_append_only

FY, DAY = 2025, date(2025, 4, 7)


@pytest.fixture
def books(engine: Engine) -> Engine:
    """A small year: funders, people, budgets, a provider, and a payment run paid."""
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    for ref in ("P1", "P2"):
        parties.register_person(engine, ref)
    allocate(engine, [Allocation(r, FY, Stream.CARE_ACT, 500_000, "council", DAY) for r in ("P1", "P2")],
             actor="tester")
    for i in range(30):
        spend(engine, "P1", FY, 1_000 + i, on=DAY, actor="tester")
    payees.add_paying_account(engine, "main", "Council payments", "200000", "12345678", "123456", actor="tester")
    payees.add_provider(engine, "acme", "Acme Care", "401122", "87654321", actor="tester")
    payees.add_invoice(engine, "acme", "A-1", "P2", 12_345, invoice_date=DAY, paying_account="main", actor="tester")
    run = payment_runs.gather(engine, "main", date(2025, 5, 6), actor="tester").run
    payment_runs.approve(engine, run.id, actor="checker")
    payment_settlement.payment_file(engine, run.id, "csv", actor="tester")
    payment_settlement.submit(engine, run.id, actor="tester")
    payment_settlement.settle(engine, run.id, on=date(2025, 5, 6), actor="tester")
    assert verify(engine).ok
    return engine


@pytest.fixture
def audit_key(tmp_path: Path) -> tuple[AuditKey, bytes]:
    from ledger.formats.checkpoints import generate_key

    private, public = generate_key()
    (tmp_path / "audit.key").write_bytes(private)
    return AuditKey(tmp_path / "audit.key", tmp_path / "checkpoints.log"), public


def checked(engine: Engine, where: AuditKey, public: bytes):  # type: ignore[no-untyped-def]
    from ledger.formats.checkpoints import public_key, read_log

    return verify(engine, checkpoints=read_log(where.log.read_text()), key=public_key(public))


def rehash_from(conn: Connection, first: int) -> None:
    """What an insider with write access can do: recompute every hash from `first` on, move the head, and make
    the maintained balances agree with the postings again."""
    prev = conn.execute(select(journal_entries.c.hash).where(journal_entries.c.id == first - 1)).scalar_one()
    last = conn.execute(select(func.max(journal_entries.c.id))).scalar_one()
    for entry_id in range(first, last + 1):
        entry: SealedEntry = dataclasses.replace(reads.load_entry(conn, entry_id), prev_hash=prev)
        prev = entry.hash
        conn.execute(update(journal_entries).where(journal_entries.c.id == entry_id)
                     .values(prev_hash=entry.prev_hash, hash=prev))
    conn.execute(update(ledger_head).values(last_entry_id=last, last_hash=prev))
    sums = dict(conn.execute(select(postings.c.account_id, func.sum(postings.c.amount))
                             .where(postings.c.pending.is_(False)).group_by(postings.c.account_id)).all())
    for account_id, total in sums.items():
        conn.execute(update(account_balances).where(account_balances.c.account_id == account_id)
                     .values(balance=int(total)))


def test_a_rehashed_chain_passes_verify_alone_but_not_a_signed_checkpoint(books, audit_key):
    where, public = audit_key
    take_checkpoint(books, where, actor="tester")
    with books.begin() as conn:
        disable_append_only(conn)
        conn.execute(update(postings).where(postings.c.entry_id == 12).values(amount=postings.c.amount * 2))
        rehash_from(conn, 12)
    assert verify(books).ok  # the chain is consistent again: the database alone cannot tell
    result = checked(books, where, public)
    assert not result.ok
    assert any("checkpoint at line 1" in p and "the chain was rewritten" in p for p in result.problems)


def test_entries_cut_off_the_end_fail_the_checkpoint_that_signed_them(books, audit_key):
    where, public = audit_key
    for i in range(10):  # spend nothing else refers to, which the insider cuts off
        spend(books, "P2", FY, 500 + i, on=DAY, actor="tester")
    take_checkpoint(books, where, actor="tester")
    with books.begin() as conn:
        last = conn.execute(select(func.max(journal_entries.c.id))).scalar_one()
        disable_append_only(conn)
        cut = last - 5
        for table, column in ((postings, postings.c.entry_id), (journal_entries, journal_entries.c.id)):
            conn.execute(table.delete().where(column > cut))
        rehash_from(conn, cut + 1)  # moves the head back to `cut` and fixes the balances
    assert verify(books).ok
    (problem,) = [p for p in checked(books, where, public).problems if "checkpoint" in p]
    assert f"ends at entry {last - 5}" in problem and "entries were deleted" in problem


def test_a_forged_checkpoint_line_fails_its_signature(books, audit_key):
    where, public = audit_key
    take_checkpoint(books, where, actor="tester")
    where.log.write_text(where.log.read_text().replace('"signer":"tester"', '"signer":"someone"'))
    assert any("signature does not verify" in p for p in checked(books, where, public).problems)


@pytest.mark.parametrize("table, change, named", [
    ("providers", "UPDATE providers SET sort_code = '309999', account_number = '99999999'",
     "providers row 1: account_number is '99999999' but its history says '87654321'"),
    ("payments", "UPDATE payments SET amount = amount + 100000", "payments row 1: amount is 112345"),
    ("users", "UPDATE users SET role = 'officer' WHERE name = 'auditor'", "users row 4: role is 'officer'"),
    ("paying_accounts", "UPDATE paying_accounts SET account_number = '11111111'", "paying_accounts row 1"),
    ("payment_runs", "UPDATE payment_runs SET pay_date = '2025-05-07'",
     "payment_runs row 1: pay_date is '2025-05-07' but its history says '2025-05-06'"),
    ("broker_assignments", "INSERT INTO broker_assignments (user_id, person_id) VALUES (5, 1)",
     "broker_assignments row 5:1 has no history (added outside ipb)"),
])
def test_a_direct_change_to_what_directs_money_fails_verify_naming_the_row(books, table, change, named):
    with books.begin() as conn:
        conn.execute(text(change))
    result = verify(books)
    assert not result.ok and any(named in p for p in result.problems), result.problems


def test_the_database_refuses_a_checker_who_authenticated_as_the_maker(books):
    with pytest.raises(DatabaseError, match="authenticated as its maker"), books.begin() as conn:
        conn.execute(text("UPDATE payment_runs SET checker_principal = maker_principal"))
    with pytest.raises(DatabaseError, match="confirmed by the person who proposed it"), books.begin() as conn:
        conn.execute(text("INSERT INTO bank_detail_changes (provider_id, old_name, old_sort_code, old_account_number, "
                          "new_name, new_sort_code, new_account_number, reason, changed_by, changed_at, "
                          "changed_by_principal) VALUES (1, 'A', '401122', '87654321', 'A', '401122', '11111111', "
                          "'r', 'tester', '2025-05-01', 'olu')"))
        conn.execute(text("INSERT INTO bank_detail_confirmations (change_id, changed_by, confirmed_by, confirmed_at, "
                          "changed_by_principal, confirmed_by_principal) VALUES (1, 'tester', 'checker', "
                          "'2025-05-01', 'olu', 'olu')"))


def test_a_posting_redated_fails_verify(books):
    with books.begin() as conn:
        disable_append_only(conn)
        conn.execute(text("UPDATE postings SET effective_date = '2025-04-30' WHERE entry_id = 5"))
    assert any("of entry 5: dated 2025-04-30" in p for p in verify(books).problems)


def test_a_spend_record_deleted_fails_verify(books):
    line = LineSpec(code="pc", category="Personal care", unit=Unit.HOUR, rate=2000, quantity=1000,
                    frequency=Frequency.WEEK, cap=25000, cap_period=Frequency.WEEK, coordinator="Sam Lee (ICB)")
    plans.create_plan(books, "P1", FY, [line], actor="tester")
    logged = plan_spend.log_spend(books, "P1", FY, "pc", 4_500, on=DAY, supplier="Care Co", evidence="INV-1",
                                  actor="tester")
    with books.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE spend_records DISABLE TRIGGER spend_records_append_only"))
        else:
            conn.execute(text("DROP TRIGGER spend_records_no_delete"))
        conn.execute(text(f"DELETE FROM spend_records WHERE id = {logged.id}"))
    assert any(f"spend_records row {logged.id} is missing" in p for p in verify(books).problems)


def test_the_history_chain_itself_cannot_be_rewritten_unseen(books):
    with books.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE history DISABLE TRIGGER history_append_only"))
        else:
            conn.execute(text("DROP TRIGGER history_no_update"))
        conn.execute(text("UPDATE history SET row_values = row_values WHERE seq = 3"))  # a no-op keeps its hash
        conn.execute(text("UPDATE history SET actor = 'someone' WHERE seq = 3"))
    assert verify(books).problems[0] == "history record 3: stored hash does not match its content (altered after "\
                                        "recording)"
