"""The JSON API (/api/v1) on both databases, in process: bearer tokens acting as their user's role and people,
refusals as JSON with their numbers, spend logged once per Idempotency-Key, and an OpenAPI description that
names exactly the routes the app serves."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from starlette.routing import Mount
from starlette.testclient import TestClient

from ledger.errors import Forbidden, InvalidInput
from ledger.models.trust import history
from ledger.models.web_access import api_tokens, sign_ins
from ledger.reports.history import check_history
from ledger.services import api_tokens as tokens
from ledger.services import users
from ledger.storage.engine import make_engine
from ledger.web.api import PREFIX
from ledger.web.api_schema import OPENAPI
from ledger.web.app import make_app
from tests import support
from tests.test_pg_roles import Council, _server, council, funded  # noqa: F401  (fixtures)
from tests.test_web import ledger, spend_count  # noqa: F401  (fixture)
from tests.test_web_pg import web_login  # noqa: F401  (fixture)

SPEND = {"line": "pc", "pence": 4550, "date": "2025-04-09", "supplier": "Care Co", "evidence": "R-1"}


@pytest.fixture
def api(ledger, tmp_path):  # noqa: F811
    """A client of the app, and a token each for the broker (P1 only), the auditor and an officer."""
    issued = {name: tokens.issue(ledger, f"{name}-system", name, actor="admin")
              for name in ("broker", "auditor", "tester")}
    with TestClient(make_app(ledger, evidence_dir=tmp_path / "evidence"), base_url="https://testserver") as client:
        yield SimpleNamespace(client=client, engine=ledger, **issued)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_spend(api, token: str, key: str = "key-000001", ref: str = "P1", **changes):
    return api.client.post(f"{PREFIX}/people/{ref}/spend", json={**SPEND, **changes},
                           headers={**bearer(token), "Idempotency-Key": key})


def test_an_auditor_token_reads_but_may_not_log_spend(api):
    assert api.client.get(f"{PREFIX}/people/P2/budget", headers=bearer(api.auditor)).status_code == 200
    refused = post_spend(api, api.auditor)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert refused.json()["role"] == "auditor" and refused.json()["permission"] == "spend"
    assert spend_count(api.engine) == 0


def test_a_revoked_token_a_wrong_one_and_none_are_refused_and_journalled(api):
    people = api.client.get(f"{PREFIX}/people", headers=bearer(api.tester))
    assert people.status_code == 200 and [p["ref"] for p in people.json()["people"]] == ["P1", "P2"]
    tokens.revoke(api.engine, "tester-system", actor="admin")
    for headers in (bearer(api.tester), bearer(api.tester + "x"), {}, {"Authorization": f"Basic {api.tester}"}):
        refused = api.client.get(f"{PREFIX}/people", headers=headers)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
        assert refused.headers["www-authenticate"].startswith("Bearer")
    users.set_active(api.engine, "broker", False, actor="admin")
    assert api.client.get(f"{PREFIX}/people", headers=bearer(api.broker)).status_code == 401
    with api.engine.connect() as conn:
        journal = conn.execute(select(sign_ins.c.user_name, sign_ins.c.outcome).order_by(sign_ins.c.id)).all()
        used = conn.execute(select(api_tokens.c.name, api_tokens.c.last_used_at).order_by(api_tokens.c.name)).all()
    assert [tuple(r) for r in journal] == [("api-token:tester-system", "inactive"), ("api-token", "unknown"),
                                           ("api-token", "unknown"), ("api-token", "unknown"),
                                           ("api-token:broker-system", "inactive")]
    assert {r.name: r.last_used_at is not None for r in used} == {"auditor-system": False, "broker-system": False,
                                                                  "tester-system": True}


def test_a_token_in_use_is_written_down_once_a_minute_not_on_every_call(api):
    def last_used():
        with api.engine.connect() as conn:
            return conn.execute(select(api_tokens.c.last_used_at).where(api_tokens.c.name == "tester-system")).scalar()

    tokens.authenticate(api.engine, api.tester, source="test")
    first = last_used()
    assert first is not None
    tokens.authenticate(api.engine, api.tester, source="test")
    assert last_used() == first  # within the minute: no write
    with api.engine.begin() as conn:  # as if the last call were two minutes ago
        conn.execute(api_tokens.update().where(api_tokens.c.name == "tester-system")
                     .values(last_used_at=first - timedelta(minutes=2)))
    tokens.authenticate(api.engine, api.tester, source="test")
    assert last_used() >= first


def test_a_broker_token_sees_only_its_assigned_people(api):
    listed = api.client.get(f"{PREFIX}/people", headers=bearer(api.broker)).json()["people"]
    assert [p["ref"] for p in listed] == ["P1"] and listed[0]["brokers"] == ["broker"]
    for path in ("P2/budget", "P2/plan", "P9/budget"):
        hidden = api.client.get(f"{PREFIX}/people/{path}", headers=bearer(api.broker))
        assert hidden.status_code == 404 and hidden.json()["error"] in {"not_found", "unknown_party"}, path
    assert post_spend(api, api.broker, ref="P2").status_code == 404
    assert spend_count(api.engine) == 0


def test_spend_is_logged_once_per_idempotency_key(api):
    first = post_spend(api, api.broker)
    assert first.status_code == 201, first.text
    again = post_spend(api, api.broker)
    assert again.status_code == 200 and again.json()["replayed"] is True and again.json()["id"] == first.json()["id"]
    assert first.json()["pence"] == 4550 and first.json()["by"] == "broker" and spend_count(api.engine) == 1
    other = post_spend(api, api.broker, pence=4551)
    assert other.status_code == 409 and other.json()["error"] == "idempotency_conflict"
    keyless = api.client.post(f"{PREFIX}/people/P1/spend", json=SPEND, headers=bearer(api.broker))
    assert keyless.status_code == 422 and keyless.json()["header"] == "Idempotency-Key"
    assert spend_count(api.engine) == 1
    budget = api.client.get(f"{PREFIX}/people/P1/budget?fy=2025", headers=bearer(api.broker)).json()
    assert budget["totals"]["spent"] == 4550 and budget["totals"]["available"] == 100000 - 4550
    line = api.client.get(f"{PREFIX}/people/P1/plan", headers=bearer(api.broker)).json()["lines"][0]
    assert (line["line"], line["cap"], line["spent"], line["left"]) == ("pc", 25000, 4550, 25000 - 4550)


def test_spend_over_the_cap_is_refused_with_its_numbers(api):
    assert post_spend(api, api.broker, pence=20000).status_code == 201
    over = post_spend(api, api.broker, key="key-000002", pence=10000)
    assert over.status_code == 409, over.text
    body = over.json()
    assert body["error"] == "not_allowed" and "over its cap" in body["reason"]
    assert (body["cap"], body["spent"], body["requested"], body["over_by"]) == (25000, 20000, 10000, 5000)
    assert spend_count(api.engine) == 1


def test_bad_spend_input_is_refused_and_writes_nothing(api):
    for changes in ({"pence": 45.5}, {"pence": "4550"}, {"pence": 0}, {"date": "9 April"}, {"colour": "red"},
                    {"supplier": ""}, {"date": "2025-02-30"}, {"line": "xx"}):
        refused = post_spend(api, api.tester, **changes)
        assert refused.status_code == 422, (changes, refused.text)
        assert refused.json()["error"] in {"invalid_input", "unknown_party"} and refused.json()["reason"]
    assert spend_count(api.engine) == 0


def test_a_body_too_large_is_refused(api):
    refused = post_spend(api, api.tester, evidence="R" * 20000)
    assert refused.status_code == 413 and refused.json()["limit"] == 16 * 1024


def test_issuing_and_revoking_are_an_admins_recorded_duty_and_keep_only_the_hash(api):
    with pytest.raises(Forbidden):
        tokens.issue(api.engine, "sneaky", "tester", actor="tester")
    with pytest.raises(InvalidInput):
        tokens.issue(api.engine, "broker-system", "broker", actor="admin")
    with api.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash).where(api_tokens.c.name == "broker-system")).scalar()
        recorded = conn.execute(select(func.count()).select_from(history)
                                .where(history.c.subject == "api_tokens")).scalar_one()
        everything = " ".join(str(v) for row in conn.execute(select(history)) for v in row)
    assert stored == hashlib.sha256(api.broker.encode()).hexdigest() and api.broker.startswith("ipb_")
    assert recorded == 3 and stored not in everything and api.broker not in everything
    tokens.revoke(api.engine, "broker-system", actor="admin")
    assert [r.revoked_by for r in tokens.list_tokens(api.engine) if r.name == "broker-system"] == ["admin"]
    with api.engine.connect() as conn:
        assert check_history(conn).problems == []  # the chain replays to the table as it stands


def test_the_openapi_description_names_exactly_the_routes_served(api):
    served = api.client.get(f"{PREFIX}/openapi.json")
    assert served.status_code == 200 and served.json() == OPENAPI and OPENAPI["openapi"].startswith("3.1")
    mount = next(r for r in api.client.app.routes if isinstance(r, Mount) and r.path == PREFIX)
    routes = {(PREFIX + r.path, m.lower()) for r in mount.routes for m in r.methods if m != "HEAD"}
    described = {(path, method) for path, ops in OPENAPI["paths"].items() for method in ops}
    assert routes == described
    assert OPENAPI["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    refs = {v.removeprefix("#/components/schemas/") for v in _refs(OPENAPI)}
    assert refs <= set(OPENAPI["components"]["schemas"])


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


@pytest.mark.skipif(support.target_url() is None, reason="database logins exist only on PostgreSQL")
def test_postgresql_a_token_acts_as_its_users_own_login(funded: Council, web_login: str, tmp_path):  # noqa: F811
    broker = funded.names["broker"]
    admin = make_engine(funded.url("admin"))
    try:
        token = tokens.issue(admin, "casesys", broker, actor=funded.names["admin"])
    finally:
        admin.dispose()
    engine = make_engine(funded.url("web"))
    try:
        with TestClient(make_app(engine, evidence_dir=tmp_path), base_url="https://testserver") as client:
            listed = client.get(f"{PREFIX}/people", headers=bearer(token)).json()["people"]
            assert [p["ref"] for p in listed] == ["P1"]
            assert client.get(f"{PREFIX}/people/P2/plan", headers=bearer(token)).status_code == 404
            logged = client.post(f"{PREFIX}/people/P1/spend", json=SPEND,
                                 headers={**bearer(token), "Idempotency-Key": "pg-key-0001"})
            assert logged.status_code == 201, logged.text
            assert client.get(f"{PREFIX}/people", headers=bearer("ipb_nothing")).status_code == 401
            admin = make_engine(funded.url("admin"))
            try:
                tokens.revoke(admin, "casesys", actor=funded.names["admin"])
            finally:
                admin.dispose()
            assert client.get(f"{PREFIX}/people", headers=bearer(token)).status_code == 401
    finally:
        engine.dispose()
    auditor = make_engine(funded.url("auditor"))
    try:
        with auditor.connect() as conn:
            assert check_history(conn).problems == []
    finally:
        auditor.dispose()
    (actor, principal), = funded.sql("auditor", "SELECT actor, principal FROM journal_entries WHERE kind = 'spend'")
    assert actor == principal == broker  # the server acted as the broker's own login, not as itself
    assert funded.sql("auditor", "SELECT outcome FROM sign_ins ORDER BY id") == [("unknown",), ("inactive",)]
    (used,), = funded.sql("auditor", "SELECT last_used_at IS NOT NULL FROM api_tokens")
    assert used
    funded.refused("auditor", "SELECT token_hash FROM api_tokens", "permission denied")
    funded.refused("web", "SELECT count(*) FROM spend_records", "permission denied")
