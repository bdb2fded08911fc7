"""`ipb serve`'s pages, in process (Starlette's TestClient over httpx), on both databases: signing in and the
lock-out, the sign-in journal, CSRF on every form, a broker kept to their own people, evidence files checked by
content and size and kept by hash, a resubmitted form logging once, and refusals showing their numbers."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from ledger import calendar
from ledger.domain import FunderKind, Stream
from ledger.models.plans import spend_records
from ledger.models.web_access import sign_ins
from ledger.rules.plans import Frequency, LineSpec, Unit
from ledger.services import budgets, parties, plans, sign_in, users
from ledger.web.app import make_app
from ledger.web.security import CSP
from tests.test_sign_in import PASSWORD, cheap_hasher

FY = 2025
TODAY = date(2025, 4, 10)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"x" * 200


@pytest.fixture
def ledger(engine, monkeypatch):
    """P1 (assigned to broker) and P2 (not), each with 1,000.00 care-act; P1's plan has line pc, capped at
    250.00 a week; broker and tester have web passwords."""
    monkeypatch.setattr(sign_in, "_hasher", cheap_hasher)
    monkeypatch.setattr(calendar, "today", lambda: TODAY)
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    for ref in ("P1", "P2"):
        parties.register_person(engine, ref)
        budgets.allocate(engine, [budgets.Allocation(ref, FY, Stream.CARE_ACT, 100000, "council", date(2025, 4, 1))],
                         actor="tester")
        plans.create_plan(engine, ref, FY, [LineSpec(
            code="pc", category="personal care", unit=Unit.HOUR, rate=2000, quantity=1000, frequency=Frequency.WEEK,
            cap=25000, cap_period=Frequency.WEEK, coordinator="Sam Lee (ICB)")], actor="tester")
    users.assign(engine, "broker", ["P1"], actor="admin")
    for name in ("broker", "tester"):
        sign_in.set_password(engine, name, PASSWORD, actor="admin")
    return engine


@pytest.fixture
def client(ledger, tmp_path):
    with TestClient(make_app(ledger, evidence_dir=tmp_path / "evidence"), base_url="https://testserver",
                    follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def key_of(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html).group(1)


def sign_in_as(client: TestClient, name: str, password: str = PASSWORD):
    form = client.get("/sign-in")
    return client.post("/sign-in", data={"name": name, "password": password, "csrf": csrf_of(form.text)})


def spend_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(spend_records)).scalar_one()


def spend_form(client: TestClient, ref: str = "P1", **values: str):
    page = client.get(f"/people/{ref}")
    assert page.status_code == 200, page.text
    data = {"csrf": csrf_of(page.text), "key": key_of(page.text), "line": "pc", "amount": "45.50",
            "on": "2025-04-09", "supplier": "Care Co", "evidence": "R-1", **values}
    return data


def test_signing_in_sets_a_safe_cookie_and_every_page_safe_headers(client):
    page = client.get("/sign-in")
    assert page.headers["content-security-policy"] == CSP and "script-src" not in CSP
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text and 'for="password"' in page.text
    signed = sign_in_as(client, "broker")
    assert signed.status_code == 303 and signed.headers["location"] == "/people"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("__Host-ipb_session="))
    assert {"HttpOnly", "Secure", "SameSite=strict", "Path=/"} <= {part.strip() for part in cookie.split(";")}
    people = client.get("/people")
    # P2 is looked for as a link, not as bare letters: the page's random CSRF token may contain "P2"
    assert people.status_code == 200 and 'href="/people/P1?fy=2025"' in people.text
    assert 'href="/people/P2' not in people.text and ">P2" not in people.text
    assert "broker" in people.text


def test_wrong_passwords_lock_out_after_five_and_every_attempt_is_journalled(client, ledger):
    for _ in range(5):
        refused = sign_in_as(client, "broker", "not my password")
        assert refused.status_code == 401 and sign_in.NOT_RECOGNISED in refused.text
    locked = sign_in_as(client, "broker")
    assert locked.status_code == 401 and "too many failed sign-ins: try again after" in locked.text
    assert client.get("/people").status_code == 303
    unknown = sign_in_as(client, "nobody")
    assert unknown.status_code == 401 and sign_in.NOT_RECOGNISED in unknown.text
    with ledger.connect() as conn:
        rows = conn.execute(select(sign_ins.c.user_name, sign_ins.c.outcome, sign_ins.c.source)
                            .order_by(sign_ins.c.id)).all()
    assert [(r.user_name, r.outcome) for r in rows] == [("broker", "wrong")] * 5 + [("broker", "locked"),
                                                                                   ("nobody", "unknown")]
    assert {r.source for r in rows} == {"testclient"}


def test_a_form_without_the_right_csrf_token_is_refused_and_writes_nothing(client, ledger):
    form = client.get("/sign-in")
    forged = client.post("/sign-in", data={"name": "broker", "password": PASSWORD, "csrf": "forged-token"})
    assert forged.status_code == 403 and csrf_of(form.text) != "forged-token"
    with ledger.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sign_ins)).scalar_one() == 0
    assert sign_in_as(client, "broker").status_code == 303
    data = spend_form(client)
    for token in (None, "forged-token", data["csrf"][:-1]):
        sent = {k: v for k, v in data.items() if k != "csrf"} | ({} if token is None else {"csrf": token})
        assert client.post("/people/P1/spend", data=sent).status_code == 403
    assert spend_count(ledger) == 0
    assert client.post("/sign-out", data={"csrf": "forged-token"}).status_code == 403
    assert client.get("/people").status_code == 200


def test_a_broker_cannot_reach_another_persons_page_or_form(client, ledger):
    sign_in_as(client, "broker")
    data = spend_form(client)
    for ref in ("P2", "P999"):
        page = client.get(f"/people/{ref}")
        assert page.status_code == 404 and "no such person among the people you may see" in page.text
        assert client.post(f"/people/{ref}/spend", data=data).status_code == 404
    assert spend_count(ledger) == 0
    assert client.get("/people/P1").status_code == 200


def test_spend_is_logged_once_however_often_the_form_is_sent(client, ledger, tmp_path):
    sign_in_as(client, "broker")
    data = spend_form(client)
    first = client.post("/people/P1/spend", data=data, files={"evidence_file": ("receipt.png", PNG, "image/png")})
    assert first.status_code == 303, first.text
    again = client.post("/people/P1/spend", data=data, files={"evidence_file": ("receipt.png", PNG, "image/png")})
    assert again.status_code == 303 and "again=1" in again.headers["location"]
    assert spend_count(ledger) == 1
    page = client.get(again.headers["location"])
    assert "nothing new was logged" in page.text and "45.50" in page.text and "204.50" in page.text
    digest = hashlib.sha256(PNG).hexdigest()
    with ledger.connect() as conn:
        record = conn.execute(select(spend_records)).one()
    assert record.evidence == f"R-1; file sha256:{digest}.png" and record.broker == "broker"
    assert (tmp_path / "evidence" / f"{digest}.png").read_bytes() == PNG
    fresh = spend_form(client)
    assert fresh["key"] != data["key"]
    assert client.post("/people/P1/spend", data=fresh).status_code == 303
    assert spend_count(ledger) == 2


def test_evidence_must_be_a_pdf_jpeg_or_png_of_at_most_5_mb(client, ledger, tmp_path):
    sign_in_as(client, "broker")
    data = spend_form(client)
    fake = client.post("/people/P1/spend", data=data,
                       files={"evidence_file": ("receipt.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
    assert fake.status_code == 422 and "is not a PDF, JPEG or PNG" in fake.text
    big = client.post("/people/P1/spend", data=data,
                      files={"evidence_file": ("big.pdf", PDF + b"x" * (5 * 1024 * 1024), "application/pdf")})
    assert big.status_code == 422 and "at most 5,242,880 (5 MB) are taken" in big.text
    huge = client.post("/people/P1/spend", data=data,
                       files={"evidence_file": ("huge.pdf", PDF + b"x" * (6 * 1024 * 1024), "application/pdf")})
    assert huge.status_code == 413 and "at most 5,242,880 bytes" in huge.text  # refused before it is read
    assert spend_count(ledger) == 0 and not (tmp_path / "evidence").exists()
    pdf = client.post("/people/P1/spend", data=data, files={"evidence_file": ("r.pdf", PDF, "application/pdf")})
    assert pdf.status_code == 303 and spend_count(ledger) == 1


def test_over_the_cap_is_refused_with_the_numbers_and_nothing_logged(client, ledger):
    sign_in_as(client, "broker")
    assert client.post("/people/P1/spend", data=spend_form(client, amount="200.00")).status_code == 303
    over = client.post("/people/P1/spend", data=spend_form(client, amount="60.00"))
    assert over.status_code == 409
    assert "200.00" in over.text and "60.00" in over.text and "250.00" in over.text and "10.00" in over.text
    assert 'value="60.00"' in over.text  # the form keeps what was typed
    assert spend_count(ledger) == 1
    bad = client.post("/people/P1/spend", data=spend_form(client, amount="12.345"))
    assert bad.status_code == 422 and spend_count(ledger) == 1


def test_signing_out_ends_the_session(client):
    sign_in_as(client, "broker")
    page = client.get("/people")
    assert client.post("/sign-out", data={"csrf": csrf_of(page.text)}).status_code == 303
    assert client.get("/people").status_code == 303


def test_what_the_address_names_is_shown_escaped_and_another_role_sees_its_own_refusal(client, ledger):
    sign_in_as(client, "tester")  # an officer: sees everyone, may spend
    hostile = client.get("/people/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert hostile.status_code == 404 and "<script>" not in hostile.text
    assert client.get("/people").text.count('href="/people/P') == 2
    client.post("/sign-out", data={"csrf": csrf_of(client.get("/people").text)})
    sign_in.set_password(ledger, "auditor", PASSWORD, actor="admin")
    sign_in_as(client, "auditor")  # reads every person, may not spend
    refused = client.post("/people/P1/spend", data=spend_form(client))
    assert refused.status_code == 403 and "auditor is an auditor and may not spend" in refused.text
    assert spend_count(ledger) == 0
