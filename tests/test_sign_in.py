"""Signing in to the web: the pure policy, passwords set by an admin, the lock-out, the sign-in journal, and
sessions (only a token's hash is stored; idle and absolute ends; sign-out; a new password ends them)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError, IntegrityError

from ledger import sign_in_policy as policy
from ledger.errors import Forbidden, InvalidInput, UnknownParty
from ledger.models.trust import history
from ledger.models.web_access import sign_ins, user_passwords, web_sessions
from ledger.reports.verify import verify
from ledger.services import sign_in as service
from ledger.services.users import set_active
from ledger.sign_in_policy import Failures, Outcome
from tests import support

PASSWORD = "correct horse battery"
T0 = datetime(2025, 4, 10, 9, 0)


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch):
    """Argon2id at its least cost: the tests check what is hashed and when, not the cost (a second a hash
    with the library's defaults on a busy CI machine)."""
    monkeypatch.setattr(service, "_hasher", cheap_hasher)


def cheap_hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


# --- the pure policy -------------------------------------------------------------------


def test_five_failures_within_the_window_lock_for_fifteen_minutes():
    state = Failures()
    for n in range(policy.MAX_FAILURES - 1):
        state = policy.after_failure(state, T0 + timedelta(minutes=n))
        assert not policy.is_locked(state, T0 + timedelta(minutes=n))
    state = policy.after_failure(state, T0 + timedelta(minutes=10))
    assert state.count == policy.MAX_FAILURES and state.locked_until == T0 + timedelta(minutes=25)
    assert policy.is_locked(state, T0 + timedelta(minutes=24, seconds=59))
    assert not policy.is_locked(state, T0 + timedelta(minutes=25))


def test_failures_outside_the_window_start_the_count_again():
    state = Failures()
    for n in range(policy.MAX_FAILURES - 1):
        state = policy.after_failure(state, T0)
    state = policy.after_failure(state, T0 + policy.FAILURE_WINDOW + timedelta(seconds=1))
    assert state.count == 1 and state.locked_until is None


def test_sessions_end_when_idle_and_at_their_absolute_end():
    assert policy.session_alive(T0, T0 + timedelta(minutes=29), None, T0 + timedelta(minutes=58))
    assert not policy.session_alive(T0, T0, None, T0 + policy.IDLE_LIFETIME)
    late = T0 + policy.ABSOLUTE_LIFETIME - timedelta(minutes=1)
    assert not policy.session_alive(T0, late, None, T0 + policy.ABSOLUTE_LIFETIME)
    assert not policy.session_alive(T0, T0, T0, T0 + timedelta(seconds=1))


def test_a_password_needs_twelve_characters():
    with pytest.raises(InvalidInput, match="at least 12 characters \\(got 11\\)"):
        policy.check_password("x" * 11)
    policy.check_password("x" * 12)


# --- the service ---------------------------------------------------------------------


def _rows(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(table)).all()


def test_only_an_admin_sets_passwords_and_it_is_in_the_history(engine):
    with pytest.raises(Forbidden, match="tester is an officer and may not users"):
        service.set_password(engine, "broker", PASSWORD, actor="tester")
    with pytest.raises(UnknownParty, match="no user 'nobody'"):
        service.set_password(engine, "nobody", PASSWORD, actor="admin")
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    (row,) = _rows(engine, user_passwords)
    assert row.hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$") and PASSWORD not in row.hash and row.set_by == "admin"
    with engine.connect() as conn:
        recorded = conn.execute(select(history).where(history.c.subject == "user_passwords")).one()
    assert recorded.actor == "admin" and set(recorded.row_values) == {"set_at", "set_by", "hash_sha256"}
    assert recorded.row_values["hash_sha256"] == row.hash_sha256 == hashlib.sha256(row.hash.encode()).hexdigest()
    assert verify(engine).ok


def _insider_puts_in(engine, **values) -> int:
    """An insider who may write `user_passwords` swaps the broker's hash for one of a password they know,
    keeping who set it and when; the broker's user id."""
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    (row,) = _rows(engine, user_passwords)
    with engine.begin() as conn:
        conn.execute(update(user_passwords).values(**values))
    return row.user_id


def test_a_hash_put_in_with_its_digest_fails_verify_against_the_history(engine):
    known = cheap_hasher().hash("the insider's own password")
    user_id = _insider_puts_in(engine, hash=known, hash_sha256=service.token_hash(known))
    service.sign_in(engine, "broker", "the insider's own password", source="x")  # what the insider wanted
    problems = [p for p in verify(engine).problems if p.startswith("user_passwords")]
    assert len(problems) == 1
    assert problems[0].startswith(f"user_passwords row {user_id}: hash_sha256 is ") and "outside ipb" in problems[0]


def test_a_hash_put_in_without_its_digest_is_refused_by_postgresql_and_fails_verify_on_sqlite(engine):
    known = cheap_hasher().hash("the insider's own password")
    if engine.dialect.name == "postgresql":
        with pytest.raises(IntegrityError, match="ck_user_passwords_hash_sha256"):
            _insider_puts_in(engine, hash=known)
        assert verify(engine).ok
        with engine.begin() as conn:  # the owner takes the CHECK away first: verify sees it gone, and the hash
            conn.execute(text("ALTER TABLE user_passwords DROP CONSTRAINT ck_user_passwords_hash_sha256"))
            conn.execute(update(user_passwords).values(hash=known))
        (user_id,) = [row.user_id for row in _rows(engine, user_passwords)]
        assert verify(engine).problems == [
            f"user_passwords row {user_id}: its hash is not the one whose SHA-256 it records (changed outside ipb)",
            "user_passwords: the CHECK holding each password's SHA-256 to its hash (migration 0017) is missing, not "
            "validated or changed: a hash may have been changed outside ipb"]
        return
    user_id = _insider_puts_in(engine, hash=known)
    assert verify(engine).problems == [
        f"user_passwords row {user_id}: its hash is not the one whose SHA-256 it records (changed outside ipb)"]


def test_a_sign_in_leaves_a_hash_made_at_an_older_cost_as_it_was(engine, monkeypatch):
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    (before,) = _rows(engine, user_passwords)
    monkeypatch.setattr(service, "_hasher", lambda: PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1))
    assert PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).check_needs_rehash(before.hash)
    service.sign_in(engine, "broker", PASSWORD, source="x")
    (after,) = _rows(engine, user_passwords)
    assert after.hash == before.hash and verify(engine).ok


def test_a_right_password_opens_a_session_whose_token_is_not_stored(engine):
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    session = service.sign_in(engine, "broker", PASSWORD, source="192.0.2.1")
    (stored,) = _rows(engine, web_sessions)
    assert stored.token_hash == service.token_hash(session.token) and session.token not in stored
    assert service.session_of(engine, session.token).user == "broker"
    assert service.session_of(engine, session.token + "x") is None
    service.sign_out(engine, session.token)
    assert service.session_of(engine, session.token) is None
    assert [(r.user_name, r.outcome, r.source) for r in _rows(engine, sign_ins)] == [("broker", "ok", "192.0.2.1")]


def test_a_session_used_after_a_minute_moves_its_idle_end_unless_it_ended_meanwhile(engine, monkeypatch):
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    session = service.sign_in(engine, "broker", PASSWORD, source="192.0.2.1")
    (opened,) = _rows(engine, web_sessions)
    later = opened.last_seen_at + service.TOUCH_AFTER + timedelta(seconds=1)
    monkeypatch.setattr(service, "utc_now", lambda: later)
    assert service.session_of(engine, session.token).expires_at > opened.expires_at
    (touched,) = _rows(engine, web_sessions)
    assert touched.last_seen_at == later
    service.sign_out(engine, session.token)
    monkeypatch.setattr(service, "utc_now", lambda: later + service.TOUCH_AFTER * 2)
    assert service.session_of(engine, session.token) is None


def test_every_refusal_reads_the_same_and_every_attempt_is_recorded(engine):
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    service.set_password(engine, "checker", PASSWORD, actor="admin")
    set_active(engine, "checker", False, actor="admin")
    for name, password in (("broker", "wrong password!"), ("nobody", PASSWORD), ("tester", PASSWORD),
                           ("checker", PASSWORD)):
        with pytest.raises(service.SignInRefused) as refused:
            service.sign_in(engine, name, password, source="198.51.100.7")
        assert refused.value.reason == service.NOT_RECOGNISED
    assert [(r.user_name, r.outcome) for r in _rows(engine, sign_ins)] == [
        ("broker", "wrong"), ("nobody", "unknown"), ("tester", "unknown"), ("checker", "inactive")]
    assert _rows(engine, web_sessions) == []


def test_five_wrong_passwords_lock_out_even_the_right_one_and_a_new_password_unlocks(engine):
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    for _ in range(policy.MAX_FAILURES):
        with pytest.raises(service.SignInRefused, match="not recognised"):
            service.sign_in(engine, "broker", "not the password", source="x")
    with pytest.raises(service.SignInRefused, match=r"too many failed sign-ins: try again after \d\d:\d\d UTC"):
        service.sign_in(engine, "broker", PASSWORD, source="x")
    outcomes = [r.outcome for r in _rows(engine, sign_ins)]
    assert outcomes == [Outcome.WRONG] * policy.MAX_FAILURES + [Outcome.LOCKED]
    assert _rows(engine, web_sessions) == []
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    assert service.sign_in(engine, "broker", PASSWORD, source="x").user == "broker"


def test_a_new_password_ends_open_sessions_and_a_deactivated_user_has_none(engine):
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    first = service.sign_in(engine, "broker", PASSWORD, source="x")
    service.set_password(engine, "broker", PASSWORD + "!", actor="admin")
    assert service.session_of(engine, first.token) is None
    second = service.sign_in(engine, "broker", PASSWORD + "!", source="x")
    set_active(engine, "broker", False, actor="admin")
    assert service.session_of(engine, second.token) is None


def test_generated_passwords_are_long_distinct_and_sign_in(engine):
    made = service.store_passwords(engine, service.new_passwords(["broker", "tester"]), actor="admin")
    assert len(set(made.values())) == 2 and all(len(p) >= policy.MIN_PASSWORD_LENGTH for p in made.values())
    assert service.sign_in(engine, "tester", made["tester"], source="x").user == "tester"


def test_generated_passwords_are_hashed_as_set_password_hashes_all_or_none(engine):
    """Hashed outside the transaction by the same hasher; stored together, each in the history; all or none."""
    made = service.store_passwords(engine, service.new_passwords(["broker", "tester", "auditor"]), actor="admin")
    hashes = {row.user_id: row.hash for row in _rows(engine, user_passwords)}
    assert len(hashes) == 3 and all(h.startswith("$argon2id$v=19$m=1024,t=1,p=1$") for h in hashes.values())
    for name, password in made.items():
        assert service.sign_in(engine, name, password, source="x").user == name
    with engine.connect() as conn:
        recorded = conn.execute(select(history).where(history.c.subject == "user_passwords")).all()
    assert len(recorded) == 3 and {r.actor for r in recorded} == {"admin"}
    with pytest.raises(UnknownParty, match="no user 'nobody'"):
        service.store_passwords(engine, service.new_passwords(["broker", "nobody"]), actor="admin")
    assert {row.user_id: row.hash for row in _rows(engine, user_passwords)} == hashes  # the broker's is unchanged


def test_an_unknown_name_costs_a_password_check_too(engine, monkeypatch):
    checked = []
    real = service._verify
    monkeypatch.setattr(service, "_verify", lambda hashed, password: checked.append(hashed) or real(hashed, password))
    with pytest.raises(service.SignInRefused):
        service.sign_in(engine, "nobody", PASSWORD, source="x")
    assert checked == [service._dummy_hash()]


def test_the_sign_in_journal_cannot_be_rewritten(engine):
    service.set_password(engine, "broker", PASSWORD, actor="admin")
    with pytest.raises(service.SignInRefused):
        service.sign_in(engine, "broker", "guessing again", source="x")
    for statement in ("UPDATE sign_ins SET outcome = 'ok'", "DELETE FROM sign_ins"):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    assert [r.outcome for r in _rows(engine, sign_ins)] == ["wrong"]


# --- the CLI -------------------------------------------------------------------------


def _ipb(db_url: str, user: str, *args: str, stdin: str, code: int):
    """`ipb --db URL --as USER ARGS` with `stdin` typed in (support.invoke takes no input)."""
    from typer.testing import CliRunner

    from ledger.cli import common
    from ledger.cli.app import app

    with support.as_os_login(user):
        result = CliRunner().invoke(app, ["--db", db_url, "--as", user, *args], input=stdin)
    if common.settings._engine is not None:
        common.settings._engine.dispose()
    assert result.exit_code == code, result.output
    return result


def test_ipb_user_password_reads_stdin_or_asks_twice(db_url, engine):
    _ipb(db_url, "admin", "user", "password", "broker", "--stdin", stdin=PASSWORD + "\n", code=0)
    assert service.sign_in(engine, "broker", PASSWORD, source="x").user == "broker"
    differ = _ipb(db_url, "admin", "user", "password", "tester", stdin="a long password one\na long password two\n",
                  code=2)
    assert "the two passwords differ" in differ.output
    asked = _ipb(db_url, "admin", "user", "password", "tester", stdin=PASSWORD + "\n" + PASSWORD + "\n", code=0)
    assert PASSWORD not in asked.output and "set tester's password" in asked.output
    short = _ipb(db_url, "admin", "user", "password", "tester", "--stdin", stdin="short\n", code=2)
    assert "at least 12 characters" in short.output
    refused = _ipb(db_url, "broker", "user", "password", "tester", "--stdin", stdin=PASSWORD + "\n", code=1)
    assert "may not users" in refused.output
