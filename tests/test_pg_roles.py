"""On PostgreSQL the server, not the client, separates duties: each ipb user connects as their own login
in their role's group (`ipb db setup-roles`), and an insider with psql and their own password still cannot
act as someone else, approve their own payment run, change bank details alone, rewrite the journal, or
(a broker) see or spend for people they do not serve.

A council's ledger as deployed: owned by a role that is not a superuser (the DBA's), set up by it, and
its users added by an ipb admin connected as themselves.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from click.testing import Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ledger.storage.engine import make_engine
from ledger.storage.schema import migrate
from tests import support

pytestmark = pytest.mark.skipif(support.target_url() is None, reason="database logins exist only on PostgreSQL")

_councils = itertools.count(1)
FY = "2025/26"


def js(result: Result):  # type: ignore[no-untyped-def]
    return json.loads(result.stdout)


@dataclass
class Council:
    database: str
    names: dict[str, str]  # a part (admin, maker, checker, broker, auditor, owner) -> its login
    server: str

    def url(self, part: str) -> str:
        return make_url(self.server).set(database=self.database, username=self.names[part],
                                         password=None).render_as_string(hide_password=False)

    def ipb(self, part: str) -> Callable[..., Result]:
        """`ipb` connected as this part's own login (and acting as it, unless `user=` says otherwise)."""
        return support.ipb_runner(self.url(part), default_user=self.names[part])

    def sql(self, part: str, statement: str, **params: object) -> list:  # type: ignore[type-arg]
        """Run one statement as this part's login, as they could from psql (after `SET ROLE` if it starts with
        one and a semicolon); its rows (committed)."""
        engine = create_engine(self.url(part))
        try:
            with engine.begin() as conn:
                if statement.startswith("SET ROLE "):
                    set_role, statement = statement.split("; ", 1)
                    conn.execute(text(set_role))
                result = conn.execute(text(statement), params)
                return result.all() if result.returns_rows else []
        finally:
            engine.dispose()

    def refused(self, part: str, statement: str, match: str, **params: object) -> None:
        with pytest.raises(DBAPIError, match=match):
            self.sql(part, statement, **params)


def _server() -> Engine:
    server = support.target_url()
    assert server
    return create_engine(server, isolation_level="AUTOCOMMIT")


@pytest.fixture
def council() -> Iterator[Council]:
    suffix = f"{os.getpid()}_{next(_councils)}"
    names = {part: f"{part}_{suffix}" for part in ("owner", "admin", "maker", "checker", "broker", "auditor")}
    server = support.target_url()
    assert server
    database = f"ipb_roles_{suffix}"
    admin = _server()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{names["owner"]}" LOGIN CREATEROLE'))
        conn.execute(text(f'CREATE DATABASE "{database}" OWNER "{names["owner"]}"'))
    town = Council(database, names, server)
    owner = make_engine(town.url("owner"))
    migrate(owner)
    owner.dispose()
    try:
        as_owner = town.ipb("owner")
        as_owner("user", "add", names["admin"], "--role", "admin", user=names["admin"])  # the first user
        as_owner("db", "setup-roles")
        as_admin = town.ipb("admin")
        for part, role in (("maker", "officer"), ("checker", "officer"), ("broker", "broker"),
                           ("auditor", "auditor")):
            as_admin("user", "add", names[part], "--role", role)
        yield town
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            for name in names.values():
                conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def funded(council: Council) -> Council:
    """Two people funded by the council, a provider, an invoice due for P1, and a broker serving P1."""
    maker = council.ipb("maker")
    maker("funder", "add", "council", "--kind", "council")
    for person in ("P1", "P2"):
        maker("person", "add", person)
        maker("budget", "allocate", person, "--fy", FY, "--stream", "care-act", "--amount", "5000.00", "--from",
              "council", "--date", "2025-04-01")
    maker("paying-account", "add", "council", "--sort-code", "20-00-00", "--account-number", "12345678",
          "--name", "Council payments", "--sun", "123456")
    maker("provider", "add", "acme", "--name", "Acme Care", "--sort-code", "40-11-22", "--account-number",
          "87654321")
    maker("invoice", "add", "acme", "A-1", "--person", "P1", "--amount", "250.00", "--from", "council",
          "--date", "2025-04-07")
    council.ipb("admin")("user", "assign", council.names["broker"], "P1")
    return council


def test_each_user_acts_as_their_own_login_and_no_other(funded: Council) -> None:
    names = funded.names
    maker = funded.ipb("maker")
    refused = maker("funder", "add", "icb", "--kind", "icb", user=names["checker"], code=1)
    assert f"connected to the database as {names['maker']}: acting as {names['checker']} is refused" in refused.stderr
    entry = js(maker("funder", "add", "icb", "--kind", "icb", "--json"))
    assert entry["code"] == "icb"
    (actor, principal), = funded.sql("auditor", "SELECT actor, principal FROM journal_entries "
                                     "ORDER BY id DESC LIMIT 1")
    assert actor == principal == names["maker"]
    for statement in (
        "INSERT INTO period_closures (label, start_date, end_date, closed_at, closed_by) "
        "VALUES ('2025-04', '2025-04-01', '2025-04-30', now(), :other)",
        "INSERT INTO providers (code, name, account_name, sort_code, account_number, active, added_by, added_at) "
        "VALUES ('evil', 'Evil Ltd', 'Evil Ltd', '401122', '11111111', true, :other, now())",
    ):
        funded.refused("maker", statement, f"names {names['checker']} as its author", other=names["checker"])
        # nor as their group, which is no one
        funded.refused("maker", "SET ROLE ipb_officer; " + statement, "is a group role, not a person",
                       other="ipb_officer")


def test_the_server_refuses_a_maker_approving_their_own_run(funded: Council) -> None:
    names = funded.names
    maker = funded.ipb("maker")
    run = js(maker("run", "gather", "--from", "council", "--date", "2025-04-07", "--json"))["run"]["id"]
    assert "a second officer must approve it" in maker("run", "approve", run, code=1).stderr
    # from psql: naming the checker as checker, or themselves under the checker's name
    funded.refused("maker", "UPDATE payment_runs SET checker = :c, checker_principal = :c, status = 'approved' "
                   "WHERE id = :run", "its checker must be you", c=names["checker"], run=run)
    funded.refused("maker", "UPDATE payment_runs SET checker = :m, checker_principal = :m, status = 'approved' "
                   "WHERE id = :run", "authenticated as its maker", m=names["maker"], run=run)
    funded.ipb("checker")("run", "approve", run)
    (maker_principal, checker_principal), = funded.sql(
        "auditor", "SELECT maker_principal, checker_principal FROM payment_runs WHERE id = :run", run=run)
    assert (maker_principal, checker_principal) == (names["maker"], names["checker"])


def test_bank_details_change_only_with_a_second_officers_confirmation(funded: Council) -> None:
    funded.refused("maker", "UPDATE providers SET account_number = '11111111' WHERE code = 'acme'",
                   "bank details change only by a proposal a second officer confirms")
    change = js(funded.ipb("maker")("provider", "bank-details", "acme", "--sort-code", "40-11-23",
                                    "--account-number", "87654322", "--reason", "new account", "--json"))["id"]
    assert "another officer confirms it" in funded.ipb("maker")("payment", "confirm-bank-details", change,
                                                                code=1).stderr
    funded.ipb("checker")("payment", "confirm-bank-details", change)
    assert funded.sql("auditor", "SELECT account_number FROM providers WHERE code = 'acme'") == [("87654322",)]


def test_nobody_rewrites_history_and_only_admins_manage_users(funded: Council) -> None:
    for part in ("maker", "admin", "broker"):
        funded.refused(part, "UPDATE journal_entries SET memo = 'tidied'", "permission denied")
        funded.refused(part, "DELETE FROM postings", "permission denied")
        funded.refused(part, "UPDATE history SET actor = 'nobody'", "permission denied")
    funded.refused("maker", "UPDATE users SET role = 'admin'", "permission denied")
    funded.refused("maker", "INSERT INTO broker_assignments (user_id, person_id) VALUES (1, 1)", "permission denied")
    funded.refused("admin", "INSERT INTO funders (code, name, kind, funding_account_id) VALUES ('x', 'x', 'icb', 1)",
                   "permission denied")
    assert "may not" in funded.ipb("admin")("funder", "add", "icb", "--kind", "icb", code=1).stderr
    for statement in ("INSERT INTO funders (code, name, kind, funding_account_id) VALUES ('x', 'x', 'icb', 1)",
                      "UPDATE accounts SET name = 'x'", "DELETE FROM users"):
        funded.refused("auditor", statement, "permission denied")


PLAN = """person = "P1"
fy = "2025/26"
reason = "first plan"
effective_from = 2025-04-01
mode = "managed-account"

[[lines]]
code = "pc"
category = "Personal care"
unit = "hour"
rate = "20.00"
quantity = "10"
frequency = "week"
cap = "250.00"
cap_period = "week"
coordinator = "Sam Lee, ICB CHC team"
"""


def test_a_broker_sees_and_spends_only_for_the_people_they_serve(funded: Council, tmp_path) -> None:
    broker = funded.ipb("broker")
    assert funded.sql("broker", "SELECT ref FROM people") == [("P1",)]
    assert {code.split(":")[1] for code, in funded.sql("broker", "SELECT code FROM accounts")} == {"P1"}
    refs = funded.sql("broker", "SELECT DISTINCT meta ->> 'person' FROM journal_entries")
    assert refs == [("P1",)]
    assert "not assigned to person P2" in broker("budget", "show", "P2", "--fy", FY, code=1).stderr
    (tmp_path / "plan.toml").write_text(PLAN)
    funded.ipb("maker")("plan", "create", "P1", "--fy", FY, "-f", tmp_path / "plan.toml")
    logged = js(broker("spend", "log", "P1", "--fy", FY, "--line", "pc", "--amount", "45.00", "--date", "2025-04-10",
                       "--supplier", "Care Co", "--evidence", "INV-1", "--json"))
    assert logged["broker"] == funded.names["broker"]
    # from psql: an allocation (not spend), or spend for someone else's person
    funded.refused("broker", "INSERT INTO journal_entries (id, prev_hash, hash, content_hash, idempotency_key, "
                   "effective_date, recorded_at, kind, memo, actor, principal, phase, meta) VALUES (999, '', '', '', "
                   "'k', '2025-04-10', now(), 'allocation', '', :b, :b, 'posted', '{\"person\": \"P1\"}')",
                   "row-level security", b=funded.names["broker"])
    (other,), = funded.sql("auditor", "SELECT id FROM people WHERE ref = 'P2'")
    funded.refused("broker", "INSERT INTO spend_records (person_id, fy, plan_line_id, amount, spent_on, supplier, "
                   "evidence, broker, flagged_overspend, entry_id, recorded_at) VALUES (:p2, 2025, 1, 100, "
                   "'2025-04-10', 'x', 'x', :b, false, :entry, now())", "row-level security",
                   p2=other, b=funded.names["broker"], entry=logged["entry"])
    verified = js(funded.ipb("auditor")("audit", "verify", "--json"))
    assert verified["ok"], verified


def test_a_deactivated_user_keeps_no_access(funded: Council) -> None:
    funded.ipb("admin")("user", "deactivate", funded.names["checker"])
    funded.refused("checker", "SELECT count(*) FROM journal_entries", "permission denied")
    funded.ipb("admin")("user", "activate", funded.names["checker"])
    assert funded.sql("checker", "SELECT count(*) FROM journal_entries")[0][0] > 0


def test_only_the_owner_sets_up_roles_and_ipb_will_not_take_a_dbas_role(funded: Council) -> None:
    names = funded.names
    first, second = funded.sql("auditor", "SELECT actor, principal FROM history WHERE subject = 'users' ORDER BY seq "
                               "LIMIT 2")
    assert tuple(first) == (names["admin"], f"{names['owner']} as {names['admin']}")  # the owner acted for them
    assert tuple(second) == (names["admin"], names["admin"])
    assert "only the ledger's owner" in funded.ipb("admin")("db", "setup-roles", code=1).stderr
    printed = funded.ipb("admin")("db", "setup-roles", "--print").stdout
    assert "CREATE POLICY ipb_broker ON people" in printed
    with _server().connect() as conn:
        conn.execute(text(f'CREATE ROLE "dba_{funded.names["owner"]}" LOGIN CREATEROLE'))
    try:
        refused = funded.ipb("admin")("user", "add", f"dba_{funded.names['owner']}", "--role", "officer", code=1)
        assert "its rights are the DBA's" in refused.stderr
    finally:
        with _server().connect() as conn:
            conn.execute(text(f'DROP ROLE "dba_{funded.names["owner"]}"'))


def test_a_shared_read_only_role_sees_every_row_once_roles_are_set_up(funded: Council) -> None:
    reader = f"reader_{funded.names['owner']}"
    with _server().connect() as conn:
        conn.execute(text(f'CREATE ROLE "{reader}" LOGIN'))
    try:
        funded.ipb("owner")("user", "read-only-role", reader, user=funded.names["admin"])
        funded.names["reader"] = reader
        assert funded.sql("reader", "SELECT ref FROM people ORDER BY ref") == [("P1",), ("P2",)]
        funded.refused("reader", "UPDATE accounts SET name = 'x'", "permission denied")
    finally:
        with _server().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{funded.database}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE "{reader}"'))
