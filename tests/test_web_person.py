"""A person (or their representative) in the browser, on both databases: signed in, they land on their budget,
whose figures are the report functions' own; their statement opens as HTML (with its burn-down chart) and
downloads as PDF; another person's pages are "not found", and every write is refused, writing nothing."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import func, inspect, select, text
from starlette.testclient import TestClient

from ledger import calendar
from ledger.domain import FunderKind, Stream
from ledger.errors import Forbidden, InvalidInput
from ledger.models.core import journal_entries
from ledger.reports.budgets import budget_view
from ledger.reports.statements import person_statement
from ledger.reports.verify import verify
from ledger.roles import Permission, Relation, Role, needs_assignment, writes
from ledger.rules.plans import Frequency, LineSpec, Unit
from ledger.services import budgets, parties, payees, plan_spend, plans, sign_in, users
from ledger.storage.engine import make_engine
from ledger.storage.identity import acting_for_users
from ledger.web.app import make_app
from ledger.web.person import pounds, to_date
from tests import support
from tests.support import seed_users
from tests.test_migrations import _triggers, empty_url, password_set_before_0017, upgrade  # noqa: F401  (a fixture)
from tests.test_payments import PAY, full_run
from tests.test_pg_roles import council, funded  # noqa: F401  (fixtures)
from tests.test_sign_in import PASSWORD, cheap_hasher
from tests.test_web import csrf_of, sign_in_as
from tests.test_web_pg import web_login  # noqa: F401  (fixtures)

FY = 2025
TODAY = date(2025, 5, 20)


@pytest.fixture
def ledger(engine, monkeypatch):
    """P1: 3,000.00 care-act, a direct payment of 100.00 a week net of a 25.00 contribution (one run paid), a
    plan whose line pc is capped at 250.00 a week with 45.50 spent. P2: 500.00 care-act. pat is P1 (self);
    rob represents P1 and P2; both have web passwords."""
    monkeypatch.setattr(sign_in, "_hasher", cheap_hasher)
    monkeypatch.setattr(calendar, "today", lambda: TODAY)
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    for ref, amount in (("P1", 300_000), ("P2", 50_000)):
        parties.register_person(engine, ref)
        budgets.allocate(engine, [budgets.Allocation(ref, FY, Stream.CARE_ACT, amount, "council", date(2025, 4, 1))],
                         actor="tester")
    payees.add_paying_account(engine, PAY, "Council payments", "20-00-00", "12345678", "123456", actor="tester")
    payees.add_schedule(engine, "P1", weekly=10_000, contribution=2_500, net_of_contribution=True,
                        first_due=date(2025, 4, 7), paying_account=PAY, payee_name="P One", sort_code="30-00-00",
                        account_number="11112222", actor="tester")
    full_run(engine, date(2025, 4, 7))
    plans.create_plan(engine, "P1", FY, [LineSpec(
        code="pc", category="personal care", unit=Unit.HOUR, rate=2000, quantity=1000, frequency=Frequency.WEEK,
        cap=25000, cap_period=Frequency.WEEK, coordinator="Sam Lee (ICB)")], actor="tester")
    plan_spend.log_spend(engine, "P1", FY, "pc", 4550, on=date(2025, 5, 19), supplier="Care Co", evidence="R-1",
                         actor="tester")
    for name, people, relation in (("pat", ["P1"], Relation.SELF), ("rob", ["P1", "P2"], Relation.REPRESENTATIVE)):
        users.add_user(engine, name, Role.PERSON, actor="admin")
        users.link(engine, name, people, relation, actor="admin")
        sign_in.set_password(engine, name, PASSWORD, actor="admin")
    return engine


@pytest.fixture
def client(ledger, tmp_path):
    with TestClient(make_app(ledger, evidence_dir=tmp_path / "evidence"), base_url="https://testserver",
                    follow_redirects=False) as client:
        yield client


def cells(html: str, heading: str) -> list[list[str]]:
    """The rows of the table under the <h2> called `heading`, each a list of its cells' text."""
    section = html.split(f">{heading}</h2>", 1)[1].split("</table>", 1)[0]
    return [[unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", section, re.DOTALL)][1:]


def shown(html: str) -> str:
    """The page without its CSRF token, which is random and may hold any letters (P2, say)."""
    return re.sub(r'name="csrf" value="[^"]*"', "", html)


def entries(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()


def test_the_role_sees_only_linked_people_and_writes_nothing():
    assert needs_assignment(Role.PERSON, Permission.VIEW_PERSON) and not writes(Role.PERSON)


def test_a_person_lands_on_their_budget_and_its_figures_are_the_reports(client, ledger):
    signed = sign_in_as(client, "pat")
    assert signed.status_code == 303 and signed.headers["location"] == "/my"
    assert client.get("/").headers["location"] == "/my"
    assert client.get("/my").headers["location"] == "/my/P1"  # one budget: straight to it
    page = client.get("/my/P1")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text and "<form" in page.text  # sign-out is the only form
    assert page.text.count("<form") == 1 and "Your budget, 2025/26" in page.text
    streams = budget_view(ledger, "P1", FY)
    assert cells(page.text, "Your money, by funding stream")[:-1] == [
        [f.stream.title, pounds(f.allocated), pounds(f.spent), pounds(f.available)]
        for f in streams]
    assert streams[0].spent > 4550  # the direct payment and the logged spend
    statement = person_statement(ledger, "P1", to_date(FY), FY)
    (line,) = statement.plan_lines
    assert cells(page.text, "Your plan: each line and what is left") == [[
        "pc", "personal care", pounds(line.cap), pounds(line.limit), line.limit_period,
        pounds(4550), pounds(line.booked), pounds(line.cap - 4550)]]
    paid = [t for t in statement.transactions[0].transactions if t.kind == "payment"]
    assert paid and cells(page.text, "Payments from your budget") == [
        [t.on.isoformat(), t.payee, t.reference, pounds(t.money_out - t.money_in)] for t in paid]
    c = statement.contributions
    assert c is not None and c.due > 0
    for figure in (c.weekly, c.due, c.paid, c.owed):
        assert f"<dd>{pounds(figure)}</dd>" in page.text or f'"over">{pounds(figure)}</dd>' in page.text


def test_the_statement_opens_as_html_with_its_chart_and_downloads_as_pdf(client, ledger):
    sign_in_as(client, "pat")
    html = client.get("/my/P1/statement?fy=2025")
    assert html.status_code == 200 and html.headers["cache-control"] == "no-store"
    assert "Budget statement for P1" in html.text and "<svg" in html.text and "<script" not in html.text
    csp = html.headers["content-security-policy"]
    assert "style-src 'sha256-" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    head = person_statement(ledger, "P1", to_date(FY), FY).head
    assert head.token in html.text and "produced by pat" in html.text.lower()
    pdf = client.get("/my/P1/statement.pdf?fy=2025")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.headers["cache-control"] == "no-store"
    assert 'attachment; filename="statement-P1-2025-26.pdf"' == pdf.headers["content-disposition"]


def test_another_persons_pages_are_not_found(client, ledger):
    sign_in_as(client, "pat")
    for url in ("/my/P2", "/my/P2/statement", "/my/P2/statement.pdf", "/my/P9", "/my/P9/statement.pdf",
                "/my/P1/statement.pdf?fy=1999"):  # a year the ledger does not keep
        refused = client.get(url)
        assert refused.status_code == 404 and "P2" not in shown(refused.text).replace(url, ""), url
    people = client.get("/people")  # the broker's listing: only their own
    assert "P1" in shown(people.text) and "P2" not in shown(people.text)


def test_a_representative_chooses_among_the_people_they_represent(client):
    sign_in_as(client, "rob")
    listing = client.get("/my")
    assert listing.status_code == 200 and 'href="/my/P1"' in listing.text and 'href="/my/P2"' in listing.text
    assert "you are their representative" in listing.text
    page = client.get("/my/P2")
    assert page.status_code == 200 and "Budget of P2, 2025/26" in page.text and "as their representative" in page.text


def test_every_write_is_refused_and_writes_nothing(client, ledger, tmp_path):
    sign_in_as(client, "pat")
    before = entries(ledger)
    csrf = csrf_of(client.get("/my/P1").text)
    spend = client.post("/people/P1/spend", data={"csrf": csrf, "key": "k" * 20, "line": "pc", "amount": "10.00",
                                                  "on": "2025-05-19", "supplier": "X", "evidence": "R-2"})
    assert spend.status_code == 403 and "may not spend" in spend.text
    for url in ("/my/P1", "/my/P1/statement", "/my/P1/statement.pdf"):
        assert client.post(url, data={"csrf": csrf}).status_code == 405
    assert entries(ledger) == before and not (tmp_path / "evidence").exists()
    with pytest.raises(Forbidden, match="pat is a person and may not spend"):
        plan_spend.log_spend(ledger, "P1", FY, "pc", 100, on=date(2025, 5, 19), supplier="X", evidence="R-3",
                             actor="pat")


def test_links_are_an_admins_and_recorded_in_the_history(ledger):
    with pytest.raises(Forbidden):
        users.link(ledger, "pat", ["P2"], Relation.SELF, actor="tester")
    with pytest.raises(InvalidInput, match="not a user in the person role"):
        users.link(ledger, "broker", ["P2"], Relation.SELF, actor="admin")
    users.link(ledger, "pat", ["P2"], Relation.REPRESENTATIVE, actor="admin")
    assert users.linked_people(ledger, "pat") == {"P1": Relation.SELF, "P2": Relation.REPRESENTATIVE}
    users.link(ledger, "pat", ["P2"], Relation.SELF, actor="admin")  # the relation changes
    users.link(ledger, "pat", ["P2"], Relation.SELF, actor="admin", remove=True)
    assert users.linked_people(ledger, "pat") == {"P1": Relation.SELF}
    assert verify(ledger).ok  # every link, change and removal is in the history chain


def test_ipb_user_link_from_the_command_line(ipb):
    ipb("person", "add", "P1")
    ipb("user", "add", "amir", "--role", "person", user="admin")
    ipb("user", "link", "amir", "P1", "--relation", "representative", user="admin")
    listed = ipb("user", "list", "--json", user="admin").stdout
    assert '"role": "person"' in listed and '"people": [\n      "P1"\n    ]' in listed
    assert "not a user in the person role" in ipb("user", "link", "broker", "P1", user="admin", code=2).stderr


@pytest.fixture
def person_login(funded, web_login):  # noqa: F811
    """On PostgreSQL with ipb's roles: a person-role user linked to P1, with their own login and a password."""
    name = funded.names["person"] = funded.names["broker"].replace("broker", "person")
    as_admin = funded.ipb("admin")
    as_admin("user", "add", name, "--role", "person")
    as_admin("user", "link", name, "P1")
    admin = make_engine(funded.url("admin"))
    sign_in.set_password(admin, name, PASSWORD, actor=funded.names["admin"])
    admin.dispose()
    return name


@pytest.mark.skipif(support.target_url() is None, reason="database logins exist only on PostgreSQL")
def test_the_server_shows_a_person_only_their_own_rows(funded, person_login, tmp_path):  # noqa: F811
    engine = make_engine(funded.url("web"))
    try:
        with TestClient(make_app(engine, evidence_dir=tmp_path), base_url="https://testserver",
                        follow_redirects=False) as client:
            assert sign_in_as(client, person_login).headers["location"] == "/my"
            page = client.get("/my/P1")
            assert page.status_code == 200 and "5,000.00" in page.text, page.text
            assert client.get("/my/P1/statement.pdf").content.startswith(b"%PDF")
            assert client.get("/my/P2").status_code == 404
    finally:
        engine.dispose()
    # from psql, as the person's own login: P1's rows only, and no write anywhere
    assert funded.sql("person", "SELECT ref FROM people") == [("P1",)]
    assert {code.split(":")[1] for (code,) in funded.sql("person", "SELECT code FROM accounts")} == {"P1"}
    assert funded.sql("person", "SELECT DISTINCT meta ->> 'person' FROM journal_entries") == [("P1",)]
    assert funded.sql("person", "SELECT count(*) FROM invoices") == [(1,)]  # P1's; none is P2's
    assert funded.sql("auditor", "SELECT count(*) FROM people") == [(2,)]
    for statement in ("SELECT count(*) FROM history", "SELECT account_number FROM providers",
                      "INSERT INTO spend_records (person_id) VALUES (1)", "UPDATE people SET ref = 'X'",
                      "DELETE FROM person_links", "SELECT count(*) FROM broker_assignments"):
        funded.refused("person", statement, "permission denied")


def test_upgrading_to_0016_keeps_users_their_passwords_and_triggers_and_admits_persons(empty_url):  # noqa: F811
    engine = acting_for_users(make_engine(empty_url))
    try:
        upgrade(engine, "0015")
        seed_users(engine)
        parties.register_person(engine, "P1")
        users.assign(engine, "broker", ["P1"], actor="admin")
        password_set_before_0017(engine, "broker", "$argon2id$v=19$set-under-0015")
        kept = users.list_users(engine)
        indexes = sorted(i["name"] for i in inspect(engine).get_indexes("users"))
        triggers = _triggers(engine)

        upgrade(engine, "0016")
        assert users.list_users(engine) == kept and _triggers(engine) == triggers
        if engine.dialect.name == "sqlite":  # the rebuilt table's rows still meet every foreign key naming it
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        assert sorted(i["name"] for i in inspect(engine).get_indexes("users")) == indexes
        upgrade(engine, "head")  # today's services and verify need today's schema
        users.add_user(engine, "pat", Role.PERSON, actor="admin")
        users.link(engine, "pat", ["P1"], Relation.SELF, actor="admin")
        assert users.authorize(engine, "pat", Permission.VIEW_PERSON, "P1").people == {"P1"}
        assert verify(engine).ok
    finally:
        engine.dispose()
