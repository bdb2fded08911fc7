"""`audit verify` streamed: the fast canonical bytes equal the sealed entry's, the walk in id ranges finds what
the old one found, and `--since-checkpoint` re-walks only what came after the newest signed checkpoint."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from ledger.canonical import canonical_bytes, canonical_lines, history_bytes, line_frames
from ledger.formats.checkpoints import generate_key, public_key, read_log
from ledger.history import Change, Op
from ledger.journal import AccountType, Draft, Line, Phase, SealedEntry
from ledger.reports import verify as verifying
from ledger.reports.verify import verify
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_account
from ledger.services.checkpoints import AuditKey, take_checkpoint
from tests.ledger_state import disable_append_only

APR = date(2025, 4, 10)

# --- the canonical bytes, built fast ------------------------------------------------------------------

names = st.text(max_size=12)  # any unicode but lone surrogates: quotes, backslashes, control characters
lines = st.lists(st.tuples(names, st.integers(-10**15, 10**15).filter(bool), st.sampled_from(["GBP", "EUR", "€$\""])),
                 max_size=5)
ids = st.integers(1, 2**63 - 1)


@given(entry_id=ids, prev=names, key=names, on=st.dates(), at=st.datetimes(), kind=names, memo=st.text(max_size=40),
       actor=names, phase=st.sampled_from(Phase), reverses=st.none() | ids, completes=st.none() | ids, lines=lines,
       meta=st.dictionaries(names, names, max_size=3), principal=st.just("") | names)
def test_the_fast_canonical_bytes_are_the_sealed_entrys(entry_id, prev, key, on, at, kind, memo, actor, phase,
                                                         reverses, completes, lines, meta, principal):
    entry = SealedEntry(entry_id, prev, key, on, at, kind, memo, actor, phase, reverses, completes,
                        tuple(Line(*line) for line in lines), meta, principal)
    frames = line_frames({(account, currency): (account, currency) for account, _, currency in lines})
    fast = canonical_bytes(entry_id, prev, key, on, at, kind, memo, actor, str(phase), reverses, completes,
                           canonical_lines((((a, c), amount) for a, amount, c in lines), frames), meta, principal)
    assert fast == json.dumps(entry.canonical(), sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8")
    assert hashlib.sha256(fast).hexdigest() == entry.hash


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | names,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
                           max_leaves=6)


@given(seq=ids, prev=names, subject=names, key=names, op=st.sampled_from(Op), actor=names, principal=names,
       at=st.datetimes(), reason=st.text(max_size=20), values=st.dictionaries(names, json_values, max_size=4))
def test_the_fast_history_bytes_are_the_changes(seq, prev, subject, key, op, actor, principal, at, reason, values):
    change = Change(seq, prev, subject, key, op, values, actor, principal, at, reason)
    slow = json.dumps(change.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert history_bytes(seq, prev, subject, key, str(op), values, actor, principal, at, reason) == slow
    assert change.hash == hashlib.sha256(slow).hexdigest()


# --- the walk, in id ranges, on the database ---------------------------------------------------------

ENTRIES = 23  # with BATCH = 4: five full ranges and a short one


@pytest.fixture
def books(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """Entries of every shape: meta, unicode memos, two currencies, a hold posted and one voided (no postings)."""
    monkeypatch.setattr(verifying, "BATCH", 4)
    for code, kind, currency in (("bank", AccountType.ASSET, "GBP"), ("icb", AccountType.EQUITY, "GBP"),
                                 ("pa", AccountType.EXPENSE, "GBP"), ("euro", AccountType.ASSET, "EUR"),
                                 ("euro-equity", AccountType.EQUITY, "EUR")):
        open_account(engine, AccountSpec(code, kind, date(2025, 4, 1), currency))
    journal.post(engine, Draft((Line("bank", 900_00), Line("icb", -900_00)), APR, memo="Budget “April” — café",
                               meta={"source": "ledger ✓", "batch": "7"}), actor="tester")
    journal.post(engine, Draft((Line("bank", 5_00), Line("icb", -5_00), Line("euro", 7_00, "EUR"),
                                Line("euro-equity", -7_00, "EUR")), APR), actor="tester")
    for hold in (3, 4):
        journal.post(engine, Draft((Line("pa", 10_00), Line("bank", -10_00)), APR, phase=Phase.PENDING),
                     actor="tester")
    journal.post_hold(engine, 3, actor="tester", effective_date=APR, amount=6_00)
    journal.void_hold(engine, 4, actor="tester", effective_date=APR)
    journal.post_many(engine, [(Draft((Line("pa", n), Line("bank", -n)), APR, memo=f"spend {n}"), f"s{n}")
                               for n in range(1, ENTRIES - 5)], actor="tester")
    return engine


def tamper(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        disable_append_only(conn)
        conn.execute(text(statement))


def test_the_walk_passes_every_shape_of_entry_range_by_range_and_reports_progress(books):
    seen: list[tuple[int, int]] = []
    result = verify(books, progress=lambda done, total: seen.append((done, total)))
    assert result.ok, result
    assert (result.entries, result.first_entry) == (ENTRIES, 1)
    assert seen == [(n, ENTRIES) for n in (4, 8, 12, 16, 20, 23)]


@pytest.mark.parametrize("statement, entry, problem", [
    ("UPDATE journal_entries SET memo = 'nothing to see' WHERE id = 10", 10, "altered"),
    ("UPDATE journal_entries SET meta = '{\"batch\": \"8\", \"source\": \"ledger ✓\"}' WHERE id = 1", 1, "altered"),
    ("UPDATE journal_entries SET principal = 'someone' WHERE id = 13", 13, "altered"),
    ("UPDATE journal_entries SET meta = '[1]' WHERE id = 11", 11, "meta is not a JSON object"),
    ("UPDATE journal_entries SET recorded_at = '2025-04-10 09:00:00' WHERE id = 21", 21, "altered"),
    ("UPDATE postings SET amount = 8 WHERE entry_id = 9 AND amount > 0", 9, "altered"),
    ("UPDATE journal_entries SET prev_hash = hash WHERE id = 17", 17, "prev_hash"),
    ("DELETE FROM postings WHERE entry_id = 5", 5, "altered"),  # the hold posted (6, its void, has none)
])
def test_the_walk_names_the_first_entry_changed_in_any_range(books, statement, entry, problem):
    tamper(books, statement)
    result = verify(books)
    assert result.first_break is not None and result.first_break.entry == entry, result.first_break
    assert problem in result.first_break.problem and result.entries == entry - 1


def test_a_missing_entry_in_a_later_range_is_named(books):
    tamper(books, "DELETE FROM postings WHERE entry_id = 14")
    tamper(books, "DELETE FROM journal_entries WHERE id = 14")
    assert verify(books).first_break.problem == "entry 14 is missing from the chain"


# --- --since-checkpoint --------------------------------------------------------------------------------


@pytest.fixture
def signed(books: Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A key pair and where the log goes: (where, public key PEM)."""
    private, public = generate_key()
    (tmp_path / "audit.key").write_bytes(private)
    (tmp_path / "audit.pub").write_bytes(public)
    return AuditKey(tmp_path / "audit.key", tmp_path / "checkpoints.log"), public


def since(engine: Engine, where: AuditKey, public: bytes):  # type: ignore[no-untyped-def]
    return verify(engine, checkpoints=read_log(where.log.read_text()), key=public_key(public), since_checkpoint=True)


def more(engine: Engine, n: int) -> None:
    journal.post_many(engine, [(Draft((Line("pa", i), Line("bank", -i)), APR), f"m{i}") for i in range(1, n + 1)],
                      actor="tester")


def test_since_the_checkpoint_only_the_entries_from_the_signed_one_are_walked(books, signed):
    where, public = signed
    take_checkpoint(books, where, actor="tester")  # signs entry 23
    more(books, 6)
    result = since(books, where, public)
    assert result.ok, result
    assert (result.first_entry, result.entries) == (ENTRIES, 7)  # the signed entry is re-hashed, then 24..29
    full = verify(books)
    assert full.ok and full.head_hash == result.head_hash and full.entries == ENTRIES + 6


@pytest.mark.parametrize("statement, entry", [
    (f"UPDATE journal_entries SET memo = 'x' WHERE id = {ENTRIES}", ENTRIES),  # the signed entry itself
    ("UPDATE postings SET amount = amount * 2 WHERE entry_id = 27", 27),
])
def test_since_the_checkpoint_finds_a_change_to_the_signed_entry_or_after_it(books, signed, statement, entry):
    where, public = signed
    take_checkpoint(books, where, actor="tester")
    more(books, 6)
    tamper(books, statement)
    result = since(books, where, public)
    assert result.first_entry == ENTRIES and result.first_break.entry == entry, result


def test_since_the_checkpoint_entries_before_it_are_not_rewalked_but_the_full_walk_still_sees_them(books, signed):
    where, public = signed
    take_checkpoint(books, where, actor="tester")
    tamper(books, "UPDATE journal_entries SET memo = 'x' WHERE id = 5")
    assert since(books, where, public).first_break is None  # vouched for by the signature: the price of speed
    assert verify(books).first_break.entry == 5


def test_a_checkpoint_that_does_not_hold_makes_it_walk_everything_and_fail(books, signed):
    where, public = signed
    take_checkpoint(books, where, actor="tester")
    where.log.write_text(where.log.read_text().replace('"signer":"tester"', '"signer":"someone"'))
    result = since(books, where, public)
    assert result.first_entry == 1 and result.entries == ENTRIES and result.first_break is None
    assert [p for p in result.problems if "signature does not verify" in p]


def test_only_the_newest_checkpoint_is_checked(books, signed):
    where, public = signed
    take_checkpoint(books, where, actor="tester")
    more(books, 2)
    take_checkpoint(books, where, actor="tester")
    first, newest = where.log.read_text().splitlines()
    where.log.write_text(first.replace('"signer":"tester"', '"signer":"someone"') + "\n" + newest + "\n")
    assert since(books, where, public).ok
    assert not verify(books, checkpoints=read_log(where.log.read_text()), key=public_key(public)).ok


def test_the_cli_says_what_was_and_was_not_rewalked_and_refuses_without_a_log(books, signed, ipb):
    where, _ = signed
    take_checkpoint(books, where, actor="tester")
    more(books, 3)
    keys = ["--log", where.log, "--public-key", where.key.with_name("audit.pub")]
    out = ipb("audit", "verify", *keys, "--since-checkpoint", user="auditor").stdout
    assert f"re-walked entries {ENTRIES} to {ENTRIES + 3}; entries 1 to {ENTRIES - 1} were not re-walked" in out
    report = json.loads(ipb("audit", "verify", *keys, "--since-checkpoint", "--json", user="auditor").stdout)
    assert report["ok"] and (report["first_entry"], report["entries"], report["checkpoints"]) == (ENTRIES, 4, 1)
    refused = ipb("audit", "verify", "--since-checkpoint", code=2, user="auditor")
    assert "--since-checkpoint takes --log and --public-key" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "give one" in ipb("audit", "verify", *keys, "--since-checkpoint", "--at", f"1:{'a' * 64}", code=2,
                             user="auditor").stderr
    where.log.write_text("")
    assert "holds no checkpoint" in ipb("audit", "verify", *keys, "--since-checkpoint", code=2, user="auditor").stderr
