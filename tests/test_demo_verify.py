"""The demo verifies its ledger in a forked process while its reports are written: the child's result is the one
`verify` gives in the parent, tampering included, and where the child gives none the parent verifies itself."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
from sqlalchemy import Engine

import ledger.demo as demo
from ledger.reports.verify import verify
from tests.test_verify_stream import ENTRIES, books, tamper  # noqa: F401  (books is a fixture)

pytestmark = pytest.mark.skipif(not demo.forks(), reason="verify runs beside the reports only where Python forks")


def test_the_child_verifies_on_its_own_connections_as_verify_does(books: Engine, monkeypatch):  # noqa: F811
    here = verify(books)
    assert here.ok and here.entries == ENTRIES
    assert demo._verified_beside(books)() == here
    monkeypatch.setattr(demo, "verify", lambda engine: dataclasses.replace(verify(engine), problems=[os.getpid()]))
    (pid,) = demo._verified_beside(books)().problems
    assert pid != os.getpid()  # it ran in another process
    assert verify(books) == here  # and the parent's connections still work


def test_a_tampered_ledger_is_reported_by_the_child_as_verify_reports_it(books: Engine):  # noqa: F811
    tamper(books, "UPDATE postings SET amount = amount + 1 WHERE id = 1")
    here = verify(books)
    assert not here.ok
    assert demo._verified_beside(books)() == here


def test_where_the_child_fails_the_parent_verifies_and_raises(books: Engine, monkeypatch):  # noqa: F811
    parent = os.getpid()

    def only_here(engine: Engine):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            raise RuntimeError("the child's connection failed")
        return verify(engine)

    monkeypatch.setattr(demo, "verify", only_here)
    assert demo._verified_beside(books)() == verify(books)

    def failing(engine: Engine):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"verify failed in {os.getpid()}")

    monkeypatch.setattr(demo, "verify", failing)
    with pytest.raises(RuntimeError, match=f"verify failed in {parent}"):
        demo._verified_beside(books)()


def test_a_child_that_does_not_answer_is_ended_and_the_parent_verifies(books: Engine, monkeypatch):  # noqa: F811
    parent = os.getpid()

    def stuck_in_the_child(engine: Engine):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            time.sleep(60)  # as if waiting for a lock another thread of the parent held at the fork
        return verify(engine)

    monkeypatch.setattr(demo, "verify", stuck_in_the_child)
    monkeypatch.setattr(demo, "_CHILD_WAIT", 0.5)
    started = time.monotonic()
    assert demo._verified_beside(books)() == verify(books)
    assert time.monotonic() - started < 30
