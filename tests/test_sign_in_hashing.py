"""Signing in checks the password's slow hash outside any write transaction: on SQLite a write transaction
holds the whole file's lock, so every other user's sign-in, page and spend would queue behind each hash
(bench/bench_web.py found 50 brokers signing in at once waiting seconds, some refused with HTTP 500)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from ledger.models.web_access import sign_ins
from ledger.services import sign_in
from tests.test_sign_in import PASSWORD, cheap_hasher


@pytest.mark.parametrize("password", [PASSWORD, "not the password"])
def test_another_writer_is_not_kept_waiting_while_a_password_is_checked(engine, monkeypatch, password):
    monkeypatch.setattr(sign_in, "_hasher", cheap_hasher)
    sign_in.set_password(engine, "broker", PASSWORD, actor="admin")
    checking = sign_in._verify
    wrote: list[bool] = []

    def write_meanwhile() -> None:
        sign_in.set_password(engine, "tester", PASSWORD, actor="admin")  # on SQLite: BEGIN IMMEDIATE, the lock
        wrote.append(True)

    def verify(hashed: str, given: str) -> bool:
        other = threading.Thread(target=write_meanwhile)
        other.start()
        other.join(timeout=10)  # inside a write transaction this would wait for its end: never, here
        assert wrote == [True], "another writer waited while the password's hash was checked"
        return checking(hashed, given)

    monkeypatch.setattr(sign_in, "_verify", verify)
    if password == PASSWORD:
        assert sign_in.sign_in(engine, "broker", password, source="test").user == "broker"
    else:
        with pytest.raises(sign_in.SignInRefused):
            sign_in.sign_in(engine, "broker", password, source="test")
    with engine.connect() as conn:
        assert conn.execute(select(sign_ins.c.outcome)).scalars().all() == ["ok" if password == PASSWORD else "wrong"]
