"""`ipb funder|person|pool|budget ...` and `ipb reconcile`, end to end through Typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from ledger.cli import common
from ledger.models import account_balances, person_names
from ledger.storage import reads
from tests.ledger_state import assert_books_hold, snapshot


def as_json(result) -> object:  # type: ignore[no-untyped-def]
    return json.loads(result.stdout)


def flat(text: str) -> str:
    return " ".join(text.split())


def refused(ipb, engine, *args, code: int, user: str = "tester") -> str:  # type: ignore[no-untyped-def]
    """A refusal: exit `code`, one line on stderr, nothing on stdout, nothing written."""
    before = snapshot(engine)
    result = ipb(*args, code=code, user=user)
    assert snapshot(engine) == before
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("refused: "), result.stderr
    return lines[0]


def refused_json(ipb, engine, *args, code: int) -> dict:  # type: ignore[no-untyped-def]
    before = snapshot(engine)
    error = as_json(ipb(*args, "--json", code=code))
    assert snapshot(engine) == before
    return error  # type: ignore[return-value]


FY = ("--fy", "2025/26")
DAY = ("--date", "2025-04-01")


@pytest.fixture
def funders(ipb):  # type: ignore[no-untyped-def]
    ipb("funder", "add", "icb", "--kind", "icb", "--name", "North East ICB")
    ipb("funder", "add", "council", "--kind", "council")
    ipb("funder", "add", "self", "--kind", "person")
    return ipb


@pytest.fixture
def pooled(funders):  # type: ignore[no-untyped-def]
    """P1 (Ann), and pool bcf for 2025/26: icb 600.00, council 400.00, fixed 60:40, overspend allowed."""
    funders("person", "add", "P1", "--nhs-number", "943 476 5919", "--name", "Ann Example")
    funders("pool", "create", "bcf", *FY, "--host", "council", "--partner", "icb=60", "--partner", "council=40",
            "--risk-share", "fixed", "--allow-overspend", "--name", "Better Care Fund")
    funders("pool", "contribute", "bcf", "--partner", "icb", "--amount", "600.00", *DAY, "--key", "icb-1")
    funders("pool", "contribute", "bcf", "--partner", "council", "--amount", "400.00", *DAY)
    return funders


# --- funders and people --------------------------------------------------------------------


def test_funder_add_and_list(funders):
    added = as_json(funders("funder", "add", "edu", "--kind", "education", "--name", "SEND", "--json"))
    assert {k: added[k] for k in ("code", "name", "kind", "funding_account")} == {
        "code": "edu", "name": "SEND", "kind": "education", "funding_account": "funder:edu:funding"}
    listed = as_json(funders("funder", "list", "--json"))
    assert [(f["code"], f["kind"]) for f in listed] == [
        ("council", "council"), ("edu", "education"), ("icb", "icb"), ("self", "person")]
    assert "added funder gran (third_party)" in funders("funder", "add", "gran", "--kind", "third_party").stdout
    table = funders("funder", "list").stdout
    assert "North East ICB" in table and "third_party" in table


def test_funder_refusals(funders, engine):
    assert "already exists" in refused(funders, engine, "funder", "add", "icb", "--kind", "icb", code=1)
    assert "funder kind 'nhs' unknown" in refused(funders, engine, "funder", "add", "x", "--kind", "nhs", code=2)
    assert "funder code" in refused(funders, engine, "funder", "add", "a:b", "--kind", "icb", code=2)
    assert "broker" in refused(funders, engine, "funder", "add", "y", "--kind", "icb", code=1, user="broker")


def test_person_add_shows_the_nhs_number_3_3_4(funders, engine):
    assert "registered P1 NHS 943 476 5919" in funders("person", "add", "P1", "--nhs-number", "9434765919").stdout
    assert as_json(funders("person", "add", "P2", "--name", "Bo", "--json")) == {"ref": "P2"}
    assert "Modulus 11" in refused(funders, engine, "person", "add", "P3", "--nhs-number", "943 476 5918", code=2)
    assert "10 digits" in refused(funders, engine, "person", "add", "P3", "--nhs-number", "94347659", code=2)
    assert "already registered" in refused(funders, engine, "person", "add", "P3", "--nhs-number", "943-476-5919",
                                           code=2)
    error = refused_json(funders, engine, "person", "add", "P3", "--nhs-number", "1000000010", code=2)
    assert error["error"] == "invalid_input" and "admit no check digit" in error["reason"]


def test_erase_name_needs_the_users_permission_and_touches_no_entry(pooled, engine):
    pooled("budget", "allocate", "P1", *FY, "--stream", "nhs-phb", "--amount", "10.00", "--from", "pool:bcf", *DAY)
    assert "refused" in refused(pooled, engine, "person", "erase-name", "P1", code=1)  # an officer may not
    before = snapshot(engine)
    assert as_json(pooled("person", "erase-name", "P1", "--json", user="admin")) == {"ref": "P1", "erased": True}
    assert snapshot(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(person_names)).all() == []
    assert "no name held for P1" in pooled("person", "erase-name", "P1", user="admin").stdout
    assert "no person 'P9'" in refused(pooled, engine, "person", "erase-name", "P9", code=1, user="admin")


# --- pools ---------------------------------------------------------------------------------


def test_pool_create_as_json(funders):
    info = as_json(funders("pool", "create", "p33", *FY, "--host", "icb", "--partner", "icb=33.33",
                           "--partner", "council=66.67", "--risk-share", "fixed", "--year-end", "carry-forward",
                           "--json"))
    assert {k: info[k] for k in ("code", "fy", "host", "risk_share", "year_end", "allow_overspend", "closed_on")} == {
        "code": "p33", "fy": 2025, "host": "icb", "risk_share": "fixed", "year_end": "carry-forward",
        "allow_overspend": False, "closed_on": None}
    assert info["partners"] == {"council": 66_67, "icb": 33_33}  # basis points, exactly
    plain = funders("pool", "create", "p2", *FY, "--host", "icb", "--partner", "icb", "--partner", "council")
    assert "created pool p2 for FY 2025/26 hosted by icb" in plain.stdout


@pytest.mark.parametrize(
    "extra, code, says",
    [
        (("--partner", "icb=60", "--partner", "council=30", "--risk-share", "fixed"), 2, "100%"),
        (("--partner", "icb=sixty", "--partner", "council", "--risk-share", "fixed"), 2, "percentage like 60"),
        (("--partner", "icb", "--partner", "council", "--risk-share", "fair"), 2, "risk share 'fair' unknown"),
        (("--partner", "icb", "--partner", "council", "--year-end", "keep"), 2, "year end 'keep' unknown"),
        (("--partner", "council", "--partner", "self"), 1, "section 75 partners are NHS bodies and councils"),
        (("--partner", "icb"), 2, "host council must be one of the partners"),
    ],
)
def test_pool_create_refusals(funders, engine, extra, code, says):
    assert says in refused(funders, engine, "pool", "create", "new", *FY, "--host", "council", *extra, code=code)


def test_pool_create_refuses_a_month_for_a_year(funders, engine):
    assert "give a financial year" in refused(funders, engine, "pool", "create", "new", "--fy", "2025-04", "--host",
                                              "icb", "--partner", "icb", code=2)


def test_contribute_and_show_the_partners_memorandum(pooled, engine):
    posted = as_json(pooled("pool", "contribute", "bcf", "--partner", "icb", "--amount", "600.00", *DAY,
                            "--key", "icb-1", "--json"))
    assert posted["replayed"] is True and posted["kind"] == "contribution"  # the fixture's key: nothing new
    pooled("budget", "allocate", "P1", *FY, "--stream", "nhs-phb", "--amount", "100.01", "--from", "pool:bcf", *DAY)
    shown = as_json(pooled("pool", "show", "bcf", "--json"))
    assert (shown["unallocated"], shown["allocated_out"], shown["recovered_in"], shown["partner_equity"]) == (
        899_99, 100_01, 0, 1_000_00)
    # fixed 60:40 of 100.01: 60.006 and 40.004, the odd penny to icb
    assert {p["partner"]: (p["contributed"], p["share_of_allocations"], p["risk_share"]) for p in shown["partners"]} \
        == {"icb": (600_00, 60_01, 0), "council": (400_00, 40_00, 0)}
    table = flat(pooled("pool", "show", "bcf").stdout)
    assert "bcf Better Care Fund: FY 2025/26, host council, risk share fixed" in table
    assert "unallocated 899.99" in table and "60.01" in table
    assert "not a partner" in refused(pooled, engine, "pool", "contribute", "bcf", "--partner", "self",
                                      "--amount", "1.00", *DAY, code=1)
    assert "amount must be positive" in refused(pooled, engine, "pool", "contribute", "bcf", "--partner", "icb",
                                                "--amount", "0.00", *DAY, code=2)
    assert "no pool 'nope'" in refused(pooled, engine, "pool", "show", "nope", code=1)


def test_close_year_shares_an_overspend_and_closes_the_pool(pooled, engine):
    pooled("budget", "allocate", "P1", *FY, "--stream", "care-act", "--amount", "1,100.01", "--from", "pool:bcf",
           *DAY)
    closed = as_json(pooled("pool", "close-year", "bcf", "--date", "2026-03-31", "--json"))
    # overspend 100.01 at fixed 60:40: -60.006 and -40.004
    assert (closed["balance"], closed["shares"], closed["carried_to"]) == (
        -100_01, {"council": -40_00, "icb": -60_01}, None)
    assert isinstance(closed["entry"], int) and "fixed shares" in closed["reason"]
    shown = as_json(pooled("pool", "show", "bcf", "--json"))
    assert shown["unallocated"] == 0 and shown["pool"]["closed_on"] == "2026-03-31"
    assert {p["partner"]: p["risk_share"] for p in shown["partners"]} == {"icb": 60_01, "council": 40_00}
    assert "closed its year" in refused(pooled, engine, "pool", "close-year", "bcf", "--date", "2026-03-31", code=1)
    assert "closed its year" in refused(pooled, engine, "budget", "allocate", "P1", *FY, "--stream", "care-act",
                                        "--amount", "1.00", "--from", "pool:bcf", *DAY, code=1)
    assert as_json(pooled("reconcile", "--json"))["ok"] is True


def test_close_year_carries_forward_in_plain_text(funders, engine):
    for code, fy in (("y1", "2025/26"), ("y2", "2026/27")):
        funders("pool", "create", code, "--fy", fy, "--host", "icb", "--partner", "icb", "--partner", "council",
                "--year-end", "carry-forward")
    funders("pool", "contribute", "y1", "--partner", "icb", "--amount", "10.00", *DAY)
    funders("pool", "contribute", "y1", "--partner", "council", "--amount", "20.00", *DAY)
    assert "name the next year's pool" in refused(funders, engine, "pool", "close-year", "y1", "--date", "2026-03-31",
                                                  code=2)
    text = flat(funders("pool", "close-year", "y1", "--date", "2026-03-31", "--carry-to", "y2").stdout)
    assert "y1: underspend of 30.00 shared in proportion to contributions:" in text
    assert "council: 20.00" in text and "icb: 10.00" in text and "carried forward to y2" in text
    assert as_json(funders("pool", "show", "y2", "--json"))["unallocated"] == 30_00


# --- budgets -------------------------------------------------------------------------------


@pytest.fixture
def budget(pooled):  # type: ignore[no-untyped-def]
    """P1 2025/26: nhs-phb 600.00 from the pool, care-act 300.00 from the council."""
    pooled("budget", "allocate", "P1", *FY, "--stream", "nhs-phb", "--amount", "600.00", "--from", "pool:bcf", *DAY)
    pooled("budget", "allocate", "P1", *FY, "--stream", "care-act", "--amount", "300.00", "--from", "council", *DAY)
    return pooled


def test_budget_allocate_amend_and_show(budget, engine):
    posted = as_json(budget("budget", "allocate", "P1", *FY, "--stream", "nhs-phb", "--amount=-100.00",
                            "--from", "pool:bcf", "--date", "2025-06-01", "--key", "cut-1", "--json"))
    assert posted["kind"] == "allocation" and posted["replayed"] is False
    assert {p["account"]: p["amount"] for p in posted["postings"]} == {
        "person:P1:2025-26:nhs-phb:available": -100_00, "pool:bcf:unallocated": 100_00}
    before = snapshot(engine)
    plain = budget("budget", "allocate", "P1", *FY, "--stream", "nhs-phb", "--amount=-100.00", "--from", "pool:bcf",
                   "--date", "2025-06-01", "--key", "cut-1")
    assert "already posted under this key" in flat(plain.stdout) and snapshot(engine) == before
    shown = as_json(budget("budget", "show", "P1", "--json"))
    assert [(r["stream"], r["allocated"], r["spent"], r["recovered"], r["held"], r["available"]) for r in shown] == [
        ("nhs-phb", 500_00, 0, 0, 0, 500_00), ("care-act", 300_00, 0, 0, 0, 300_00)]
    table = flat(budget("budget", "show", "P1", *FY).stdout)
    assert "Budget of P1" in table and "2025/26 nhs-phb 500.00" in table


@pytest.mark.parametrize(
    "args, code, says",
    [
        (("--stream", "nhs-phb", "--amount", "1.00", "--from", "council"), 1, "council cannot fund the nhs-phb stream"),
        (("--stream", "nhs", "--amount", "1.00", "--from", "icb"), 2, "stream 'nhs' unknown"),
        (("--stream", "nhs-phb", "--amount", "0", "--from", "icb"), 2, "allocates nothing"),
        (("--stream", "nhs-phb", "--amount", "1.001", "--from", "icb"), 2, "3 decimal places"),
        (("--stream", "nhs-phb", "--amount=-600.01", "--from", "pool:bcf"), 1, "would go below zero"),
        (("--stream", "nhs-phb", "--amount", "1.00", "--from", "pool:none"), 1, "no pool 'none'"),
        (("--stream", "nhs-phb", "--amount", "1.00", "--from", "nhsx"), 1, "no funder 'nhsx'"),
    ],
)
def test_budget_allocate_refusals(budget, engine, args, code, says):
    assert says in refused(budget, engine, "budget", "allocate", "P1", *FY, *args, *DAY, code=code)


def test_budget_spend_named_proportional_and_waterfall(budget):
    named = as_json(budget("budget", "spend", "P1", *FY, "--amount", "10.00", "--stream", "care-act", *DAY,
                           "--json"))
    assert (named["attribution"], named["parts"]) == ("named", {"care-act": 10_00})
    shared = as_json(budget("budget", "spend", "P1", *FY, "--amount", "89.01", *DAY, "--json"))
    # 89.01 over 600.00 : 290.00 is 60.006... : 29.003...: the odd penny to nhs-phb
    assert (shared["attribution"], shared["parts"]) == ("proportional", {"nhs-phb": 60_01, "care-act": 29_00})
    (entry,) = shared["entries"]
    assert entry["kind"] == "spend" and sum(p["amount"] for p in entry["postings"]) == 0
    rule = as_json(budget("budget", "rule", "P1", *FY, "--waterfall", "care-act, nhs-phb", "--json"))
    assert (rule["attribution"], rule["priority"]) == ("waterfall", ["care-act", "nhs-phb"])
    fall = as_json(budget("budget", "spend", "P1", *FY, "--amount", "300.00", *DAY, "--json"))
    assert fall["parts"] == {"care-act": 261_00, "nhs-phb": 39_00}
    text = flat(budget("budget", "spend", "P1", *FY, "--amount", "1.00", *DAY).stdout)
    assert "taken in priority order care-act > nhs-phb" in text and "nhs-phb: 1.00" in text
    assert "P1: proportional" in budget("budget", "rule", "P1", *FY).stdout
    assert as_json(budget("reconcile", "--person", "P1", "--json"))["ok"] is True


def test_budget_spend_refusals_carry_the_numbers(budget, engine):
    reason = refused(budget, engine, "budget", "spend", "P1", *FY, "--amount", "900.01", *DAY, code=1)
    assert "requested 900.01, available 900.00 (nhs-phb 600.00, care-act 300.00)" in reason
    error = refused_json(budget, engine, "budget", "spend", "P1", *FY, "--amount", "900.01", *DAY, code=1)
    assert (error["error"], error["requested"], error["available"], error["streams"]) == (
        "insufficient_funds", 900_01, 900_00, {"nhs-phb": 600_00, "care-act": 300_00})
    assert "has no s117 stream" in refused(budget, engine, "budget", "spend", "P1", *FY, "--amount", "1.00",
                                           "--stream", "s117", *DAY, code=2)
    assert "amount must be positive" in refused(budget, engine, "budget", "spend", "P1", *FY, "--amount", "-1.00",
                                                *DAY, code=2)
    assert "has no budget for 2026/27" in refused(budget, engine, "budget", "spend", "P1", "--fy", "2026/27",
                                                  "--amount", "1.00", "--date", "2026-04-01", code=1)
    assert "has no stream s117" in refused(budget, engine, "budget", "rule", "P1", *FY, "--waterfall", "s117",
                                           code=2)


def test_budget_spend_hold_and_replay(budget, engine):
    held = as_json(budget("budget", "spend", "P1", *FY, "--amount", "50.00", "--stream", "nhs-phb", "--hold", *DAY,
                          "--key", "june", "--json"))
    assert held["entries"][0]["phase"] == "pending"
    before = snapshot(engine)
    again = as_json(budget("budget", "spend", "P1", *FY, "--amount", "50.00", "--stream", "nhs-phb", "--hold", *DAY,
                           "--key", "june", "--json"))
    assert again["entries"][0]["replayed"] is True and snapshot(engine) == before
    row = {r["stream"]: r for r in as_json(budget("budget", "show", "P1", *FY, "--json"))}["nhs-phb"]
    assert (row["held"], row["available"], row["spent"]) == (50_00, 550_00, 0)
    assert "different content" in refused(budget, engine, "budget", "spend", "P1", *FY, "--amount", "50.01",
                                          "--stream", "nhs-phb", *DAY, "--key", "june", code=1)


def test_budget_recover_splits_by_source(budget):
    budget("budget", "allocate", "P1", *FY, "--stream", "care-act", "--amount", "150.00", "--from", "pool:bcf", *DAY)
    out = as_json(budget("budget", "recover", "P1", *FY, "--amount", "100.00", "--stream", "care-act",
                         "--date", "2025-09-01", "--json"))
    (entry,) = out["entries"]
    # care-act came 300.00 from the council and 150.00 from the pool: 66.67 and 33.33 go back
    assert {p["account"]: p["amount"] for p in entry["postings"]} == {
        "funder:council:funding": 66_67, "pool:bcf:unallocated": 33_33,
        "person:P1:2025-26:care-act:available": -100_00}
    row = {r["stream"]: r for r in as_json(budget("budget", "show", "P1", "--json"))}["care-act"]
    assert (row["allocated"], row["recovered"], row["available"]) == (450_00, 100_00, 350_00)
    assert as_json(budget("reconcile", "--json"))["ok"] is True


# --- reconcile -----------------------------------------------------------------------------


def test_reconcile_scopes_and_plain_text(budget):
    everything = as_json(budget("reconcile", "--json"))
    assert everything == {"ok": True, "pools": 1, "streams": 2, "differences": []}
    assert as_json(budget("reconcile", "--pool", "bcf", "--json"))["streams"] == 0
    assert as_json(budget("reconcile", "--person", "P1", "--json"))["pools"] == 0
    text = flat(budget("reconcile").stdout)
    assert "everything: 1 pools, 2 budget streams, all balances checked: reconciled" in text
    assert "person P1: 0 pools, 2 budget streams checked: reconciled" in flat(
        budget("reconcile", "--person", "P1").stdout)
    assert_books_hold(common.settings.engine)


def test_reconcile_finds_a_tampered_balance_and_exits_1(budget, engine):
    with engine.begin() as conn:
        account_id = reads.account_rows(conn, ["pool:bcf:unallocated"])["pool:bcf:unallocated"].id
        conn.execute(update(account_balances).where(account_balances.c.account_id == account_id)
                     .values(balance=account_balances.c.balance - 7))
    found = as_json(budget("reconcile", "--json", code=1))
    assert found["ok"] is False
    by_scope = {d["scope"]: d for d in found["differences"]}
    assert set(by_scope) == {"pool", "ledger"}
    assert (by_scope["ledger"]["subject"], by_scope["ledger"]["expected"], by_scope["ledger"]["actual"],
            by_scope["ledger"]["difference"]) == ("pool:bcf:unallocated", 400_00, 399_93, -7)
    assert "pool:bcf:unallocated" in by_scope["pool"]["accounts"]
    result = budget("reconcile", "--pool", "bcf", code=1)
    assert "pool bcf: 1 pools, 0 budget streams checked: 1 differences" in flat(result.stdout)
    assert "expected 1,000.00, found 999.93 (difference -0.07) accounts pool:bcf:unallocated" in flat(result.stderr)
    assert as_json(budget("reconcile", "--person", "P1", "--json"))["ok"] is True  # out of scope


def test_reconcile_is_for_those_who_may_verify(budget, engine):
    assert as_json(budget("reconcile", "--json", user="auditor"))["ok"] is True
    refused(budget, engine, "reconcile", code=1, user="broker")


@pytest.mark.parametrize("extra", [(), ("--fy", "2025/26"), ("--as-of", "2025-04-30")])
def test_budget_show_of_someone_never_registered_is_refused_not_an_empty_budget(pooled, engine, extra):
    line = refused(pooled, engine, "budget", "show", "P9", *extra, code=1)
    assert "no person 'P9'" in line and "ipb person add" in line
