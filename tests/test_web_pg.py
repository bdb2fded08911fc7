"""PostgreSQL: the web server acts in the database as the signed-in user. It connects as its own login (in
ipb_web), which holds no user's rights; each request SETs ROLE to the user's login, so the server's GRANTs,
row-level security and its stamp of who acted apply to the web as to psql."""

from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from ledger import calendar
from ledger.reports.verify import verify
from ledger.rules.plans import Frequency, LineSpec, Unit
from ledger.services import plans, sign_in
from ledger.storage.engine import make_engine
from ledger.storage.identity import acting_for_users
from ledger.web.app import make_app
from tests import support
from tests.test_pg_roles import Council, _server, council, funded, js  # noqa: F401  (fixtures)
from tests.test_sign_in import PASSWORD, cheap_hasher
from tests.test_web import csrf_of, sign_in_as, spend_form

pytestmark = pytest.mark.skipif(support.target_url() is None, reason="database logins exist only on PostgreSQL")


@pytest.fixture
def web_login(funded: Council, monkeypatch):  # noqa: F811
    """The server's own login, in ipb_web, as a DBA would make it; P1 has a plan, the broker a password."""
    monkeypatch.setattr(sign_in, "_hasher", cheap_hasher)
    monkeypatch.setattr(calendar, "today", lambda: date(2025, 4, 10))
    owner = acting_for_users(make_engine(funded.url("owner")))
    plans.create_plan(owner, "P1", 2025, [LineSpec(
        code="pc", category="personal care", unit=Unit.HOUR, rate=2000, quantity=1000, frequency=Frequency.WEEK,
        cap=25000, cap_period=Frequency.WEEK, coordinator="Sam Lee (ICB)")], actor=funded.names["maker"])
    owner.dispose()
    admin = make_engine(funded.url("admin"))
    sign_in.set_password(admin, funded.names["broker"], PASSWORD, actor=funded.names["admin"])
    admin.dispose()
    name = f"web_{os.getpid()}_{funded.database.rsplit('_', 1)[1]}"
    with _server().connect() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
        conn.execute(text(f'GRANT ipb_web TO "{name}"'))
    funded.names["web"] = name
    yield name
    with _server().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{funded.database}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))


def test_each_request_acts_as_the_signed_in_users_own_login(funded: Council, web_login: str, tmp_path) -> None:  # noqa: F811
    broker = funded.names["broker"]
    engine = make_engine(funded.url("web"))
    try:
        with TestClient(make_app(engine, evidence_dir=tmp_path), base_url="https://testserver",
                        follow_redirects=False) as client:
            assert sign_in_as(client, broker).status_code == 303
            people = client.get("/people")
            # P2 neither linked nor named (a bare "P2" may turn up inside the page's random CSRF token)
            assert 'href="/people/P1' in people.text
            assert 'href="/people/P2' not in people.text and ">P2" not in people.text
            assert client.get("/people/P2").status_code == 404
            logged = client.post("/people/P1/spend", data=spend_form(client))
            assert logged.status_code == 303, logged.text
            assert client.post("/sign-out", data={"csrf": csrf_of(client.get("/people").text)}).status_code == 303
    finally:
        engine.dispose()
    (actor, principal), = funded.sql("auditor", "SELECT actor, principal FROM journal_entries "
                                     "WHERE kind = 'spend'")
    assert actor == principal == broker  # stamped by the server as the broker's own login, not the web's
    assert funded.sql("auditor", "SELECT broker FROM spend_records") == [(broker,)]
    assert funded.sql("auditor", "SELECT outcome FROM sign_ins") == [("ok",)]
    # the server's own login holds none of its users' rights, and no staff member reads password hashes
    funded.refused("web", "SELECT count(*) FROM spend_records", "permission denied")
    funded.refused("web", "SELECT count(*) FROM people", "permission denied")
    funded.refused("auditor", "SELECT hash FROM user_passwords", "permission denied")
    funded.refused("admin", "SELECT csrf FROM web_sessions", "permission denied")
    assert funded.sql("auditor", "SELECT set_by FROM user_passwords") == [(funded.names["admin"],)]
    # an auditor checks the hash's digest against its history (and that the server holds it to the hash); the web's
    # login may not change a hash
    assert len(funded.sql("auditor", "SELECT hash_sha256 FROM user_passwords")[0][0]) == 64
    auditor = make_engine(funded.url("auditor"))
    try:
        assert verify(auditor).ok
    finally:
        auditor.dispose()
    funded.refused("web", "UPDATE user_passwords SET hash = 'x'", "permission denied")


def test_officer_pages_act_as_each_officers_own_login(funded: Council, web_login: str, tmp_path) -> None:  # noqa: F811
    names = funded.names
    maker = funded.ipb("maker")
    run = js(maker("run", "gather", "--from", "council", "--date", "2025-04-07", "--json"))["run"]["id"]
    change = js(maker("provider", "bank-details", "acme", "--sort-code", "40-11-23", "--account-number", "87654322",
                      "--reason", "new account", "--json"))["id"]
    admin = make_engine(funded.url("admin"))
    for part in ("maker", "checker"):
        sign_in.set_password(admin, names[part], PASSWORD, actor=names["admin"])
    admin.dispose()
    engine = make_engine(funded.url("web"))
    try:
        with TestClient(make_app(engine, evidence_dir=tmp_path), base_url="https://testserver",
                        follow_redirects=False) as client:
            assert sign_in_as(client, names["maker"]).status_code == 303
            page = client.get(f"/runs/{run}")
            assert client.post(f"/runs/{run}/approve", data={"csrf": csrf_of(page.text)}).status_code == 409
            client.post("/sign-out", data={"csrf": csrf_of(page.text)})
            assert sign_in_as(client, names["checker"]).status_code == 303
            page = client.get(f"/runs/{run}")
            assert client.post(f"/runs/{run}/approve", data={"csrf": csrf_of(page.text)}).status_code == 303
            listing = client.get("/approvals")
            confirmed = client.post(f"/bank-details/{change}/confirm", data={"csrf": csrf_of(listing.text)})
            assert confirmed.status_code == 303, confirmed.text
    finally:
        engine.dispose()
    # stamped by the server as the checker's own login, as `ipb run approve` from their terminal would be
    assert funded.sql("auditor", "SELECT status, checker, checker_principal FROM payment_runs WHERE id = :run",
                      run=run) == [("approved", names["checker"], names["checker"])]
    assert funded.sql("auditor", "SELECT account_number FROM providers WHERE code = 'acme'") == [("87654322",)]
