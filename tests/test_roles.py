"""Roles: the policy table, the users service, and every command refusing what a role may not do."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ledger.cli import common
from ledger.cli.app import app
from ledger.errors import Forbidden, InvalidInput
from ledger.roles import GRANTS, Permission, Role, allows, needs_assignment
from ledger.services import users
from ledger.services.parties import add_funder, register_person
from tests.ledger_state import snapshot

runner = CliRunner()


def test_only_officers_move_money_and_only_admins_manage_users():
    money = {Permission.POST, Permission.ALLOCATE, Permission.PAY, Permission.APPROVE, Permission.BANK}
    assert {r for r in Role if money <= GRANTS[r]} == {Role.OFFICER}
    assert {r for r in Role if allows(r, Permission.USERS)} == {Role.ADMIN}
    writes = set(Permission) - {Permission.VIEW_ALL, Permission.VIEW_PERSON, Permission.VERIFY}
    assert not GRANTS[Role.AUDITOR] & writes, "an auditor writes nothing"
    assert GRANTS[Role.BROKER] == {Permission.VIEW_PERSON, Permission.SPEND}
    assert needs_assignment(Role.BROKER, Permission.SPEND) and not needs_assignment(Role.OFFICER, Permission.SPEND)


def test_authorize_checks_role_activity_and_a_brokers_people(engine):
    register_person(engine, "P1")
    register_person(engine, "P2")
    users.assign(engine, "broker", ["P1"], actor="admin")
    assert users.authorize(engine, "broker", Permission.SPEND, "P1").people == {"P1"}
    with pytest.raises(Forbidden, match="not assigned to person P2"):
        users.authorize(engine, "broker", Permission.SPEND, "P2")
    with pytest.raises(Forbidden, match="broker is a broker and may not allocate"):
        users.authorize(engine, "broker", Permission.ALLOCATE)
    with pytest.raises(Forbidden, match="admin is an admin and may not allocate"):
        users.authorize(engine, "admin", Permission.ALLOCATE)
    with pytest.raises(Forbidden, match="not a user"):
        users.authorize(engine, "mallory", Permission.VIEW_ALL)
    users.set_active(engine, "tester", False, actor="admin")
    with pytest.raises(Forbidden, match="deactivated"):
        users.authorize(engine, "tester", Permission.POST)
    users.assign(engine, "broker", ["P1"], actor="admin", remove=True)
    with pytest.raises(Forbidden, match="not assigned"):
        users.authorize(engine, "broker", Permission.VIEW_PERSON, "P1")


def test_only_an_admin_adds_users_and_assigns_brokers(engine):
    with pytest.raises(Forbidden):
        users.add_user(engine, "eve", Role.ADMIN, actor="tester")
    with pytest.raises(Forbidden):
        users.assign(engine, "broker", [], actor="tester")
    users.add_user(engine, "eve", Role.AUDITOR, actor="admin")
    assert [u.role for u in users.list_users(engine) if u.name == "eve"] == [Role.AUDITOR]


def test_the_first_user_of_a_new_ledger_must_be_an_admin(engine):
    from sqlalchemy import delete

    from ledger import models  # its `users` table; `users` here is the service

    with engine.begin() as conn:
        conn.execute(delete(models.users))
    with pytest.raises(InvalidInput, match="first user must be an admin"):
        users.add_user(engine, "olive", Role.OFFICER, actor="olive")
    users.add_user(engine, "ada", Role.ADMIN, actor="ada")
    with pytest.raises(Forbidden):  # from now on only an admin adds users
        users.add_user(engine, "olive", Role.OFFICER, actor="olive")


@pytest.fixture
def ipb_as(db_url):
    def run(user: str, *args: object):
        result = runner.invoke(app, ["--db", db_url, "--as", user, *map(str, args)])
        if common.settings._engine is not None:
            common.settings._engine.dispose()
        return result

    return run


# (who, command) pairs every one of which must be refused, writing nothing.
REFUSED = [
    ("auditor", ["account", "open", "bank", "--type", "asset", "--date", "2025-04-01"]),
    ("auditor", ["post", "-d", "funder:icb:funding=1.00", "-c", "funder:council:funding=1.00", "--date",
                 "2025-05-01"]),
    ("auditor", ["funder", "add", "la", "--name", "Council", "--kind", "council"]),
    ("auditor", ["period", "close", "2025-04"]),
    ("broker", ["balance"]),
    ("broker", ["audit", "verify"]),
    ("broker", ["budget", "show", "P2"]),
    ("broker", ["budget", "spend", "P2", "--fy", "2025/26", "--amount", "1.00", "--date", "2025-05-01"]),
    ("admin", ["budget", "allocate", "P1", "--fy", "2025/26", "--stream", "nhs-phb", "--amount", "1.00",
               "--from", "icb", "--date", "2025-04-01"]),
    ("tester", ["user", "add", "zed", "--role", "admin"]),
    ("nobody", ["balance"]),
]


@pytest.mark.parametrize(("who", "args"), REFUSED, ids=[f"{w}:{' '.join(a[:2])}" for w, a in REFUSED])
def test_each_role_is_refused_what_it_may_not_do(engine, ipb_as, who, args):
    add_funder_and_people(engine)
    before = snapshot(engine)
    result = ipb_as(who, *args)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr.startswith("refused: ") and len(result.stderr.splitlines()) == 1
    assert snapshot(engine) == before


def test_each_role_may_do_what_it_is_for(engine, ipb_as):
    add_funder_and_people(engine)
    assert ipb_as("admin", "user", "assign", "broker", "P1").exit_code == 0
    assert ipb_as("tester", "budget", "allocate", "P1", "--fy", "2025/26", "--stream", "nhs-phb", "--amount",
                  "100.00", "--from", "icb", "--date", "2025-04-01").exit_code == 0
    spent = ipb_as("broker", "budget", "spend", "P1", "--fy", "2025/26", "--amount", "10.00", "--date", "2025-05-01")
    assert spent.exit_code == 0, spent.stderr
    assert ipb_as("broker", "budget", "show", "P1").exit_code == 0
    for command in (["balance"], ["audit", "verify"], ["reconcile"], ["budget", "show", "P1"]):
        assert ipb_as("auditor", *command).exit_code == 0, command
    listed = ipb_as("auditor", "user", "list", "--json")
    assert {"user": "broker", "role": "broker", "active": True, "people": ["P1"]} in json.loads(listed.stdout)


def test_every_write_records_its_actor(engine, ipb_as):
    add_funder_and_people(engine)
    ipb_as("tester", "budget", "allocate", "P1", "--fy", "2025/26", "--stream", "nhs-phb", "--amount", "5.00",
           "--from", "icb", "--date", "2025-04-01", "--key", "a1")
    from sqlalchemy import select

    from ledger.models import journal_entries

    with engine.connect() as conn:
        assert set(conn.execute(select(journal_entries.c.actor)).scalars()) == {"tester"}


def add_funder_and_people(engine) -> None:
    from ledger.domain import FunderKind

    add_funder(engine, "icb", "NHS ICB", FunderKind.ICB)
    register_person(engine, "P1")
    register_person(engine, "P2")


def test_a_read_only_session_cannot_write_even_by_raw_sql(engine):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from ledger.storage.engine import read_only_sessions

    add_funder_and_people(engine)
    read_only_sessions(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM people")).scalar_one() == 2
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("INSERT INTO people (ref) VALUES ('P9')"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM people")).scalar_one() == 2


def test_only_auditors_and_persons_read_without_writing():
    from ledger.roles import writes

    assert [r for r in Role if not writes(r)] == [Role.AUDITOR, Role.PERSON]
