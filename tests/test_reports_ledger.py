"""A ledger built through the services, the way the domain uses it, for the report and export tests.

Two years: 2025/26 has a section 75 pool (ICB + council), direct funder allocations, spend,
a hold posted in part and one voided, a recovery, a reversal, an entry of a kind the
statement does not know, a manual account with a `_` and a `.` in its code, the pool's
year end and the close of the financial year; 2026/27 carries on with a new pool and spend.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from ledger import chart
from ledger.calendar import financial_year
from ledger.domain import FunderKind, RiskShare, Stream
from ledger.journal import AccountType, Draft, Line
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_account
from ledger.services.budgets import Allocation, allocate, recover, spend
from ledger.services.parties import add_funder, register_person
from ledger.services.periods import close_period
from ledger.services.pools import close_year, contribute, create_pool

FY = 2025
ACTOR = "tester"


def build(engine: Engine) -> dict[str, int]:
    """Post the story; return the ids of entries the tests name."""
    ids: dict[str, int] = {}
    add_funder(engine, "icb", "NHS North East ICB", FunderKind.ICB)
    add_funder(engine, "council", "City Council", FunderKind.COUNCIL)
    add_funder(engine, "self", "Own money", FunderKind.PERSON)
    for ref in ("P1", "P2", "p_3"):
        register_person(engine, ref)
    create_pool(engine, "bcf-2025", name="Better Care Fund 2025/26", fy=FY, host="council",
                partners=[("icb", None), ("council", None)])
    contribute(engine, "bcf-2025", "icb", 600_000_00, on=date(2025, 4, 1), actor=ACTOR)
    contribute(engine, "bcf-2025", "council", 400_000_00, on=date(2025, 4, 1), actor=ACTOR)
    allocate(engine, [
        Allocation("P1", FY, Stream.NHS_CHC, 30_000_00, "pool:bcf-2025", date(2025, 4, 2)),
        Allocation("P1", FY, Stream.CARE_ACT, 12_000_00, "pool:bcf-2025", date(2025, 4, 2)),
        Allocation("P1", FY, Stream.PERSONAL_CONTRIBUTION, 1_200_00, "self", date(2025, 4, 2)),
        Allocation("P2", FY, Stream.S117, 20_000_00, "icb", date(2025, 4, 3)),
        Allocation("P2", FY, Stream.S117, 5_000_01, "council", date(2025, 4, 3)),
        Allocation("p_3", FY, Stream.CARE_ACT, 9_999_99, "pool:bcf-2025", date(2025, 4, 3)),
    ], actor=ACTOR)
    spend(engine, "P1", FY, 2_500_00, on=date(2025, 4, 20), actor=ACTOR)  # shared by the attribution rule
    spend(engine, "P1", FY, 1_000_00, on=date(2025, 5, 20), actor=ACTOR, stream=Stream.CARE_ACT)
    wrong = spend(engine, "P2", FY, 333_33, on=date(2025, 5, 21), actor=ACTOR, stream=Stream.S117)
    ids["reversed"] = wrong.posted[0].entry.id
    ids["reversal"] = journal.reverse(engine, ids["reversed"], actor=ACTOR, effective_date=date(2025, 5, 22)).entry.id
    held = spend(engine, "P2", FY, 700_00, on=date(2025, 6, 1), actor=ACTOR, stream=Stream.S117, hold=True)
    journal.post_hold(engine, held.posted[0].entry.id, actor=ACTOR, effective_date=date(2025, 6, 15), amount=650_00)
    voided = spend(engine, "p_3", FY, 100_00, on=date(2025, 6, 1), actor=ACTOR, hold=True)
    journal.void_hold(engine, voided.posted[0].entry.id, actor=ACTOR, effective_date=date(2025, 6, 2))
    spend(engine, "p_3", FY, 4_321_09, on=date(2025, 7, 1), actor=ACTOR)
    recover(engine, "P2", FY, 1_234_56, on=date(2026, 3, 1), actor=ACTOR)  # back to icb and council pro rata
    recover(engine, "p_3", FY, 1_000_00, on=date(2026, 3, 2), actor=ACTOR)  # back into the pool
    # a kind the person statement has no column for: it must show under "other"
    ids["odd"] = journal.post(engine, Draft(
        (Line(chart.stream_available("P1", FY, Stream.PERSONAL_CONTRIBUTION), 50_00), Line("funder:self:funding", -50_00)),
        date(2025, 9, 1), "top-up-adjustment", "adjustment of a kind from another feature"), actor=ACTOR).entry.id
    # a manual pair of accounts whose codes need mapping for Beancount
    open_account(engine, AccountSpec("bank.main_account", AccountType.ASSET, date(2025, 4, 1)))
    open_account(engine, AccountSpec("sundry:fees_and.charges", AccountType.EXPENSE, date(2025, 4, 1)))
    open_account(engine, AccountSpec("council:grant-income", AccountType.INCOME, date(2025, 4, 1)))
    open_account(engine, AccountSpec("council:creditors", AccountType.LIABILITY, date(2025, 4, 1)))
    journal.post(engine, Draft((Line("bank.main_account", 10_000_00), Line("council:grant-income", -10_000_00)),
                               date(2025, 4, 5), "manual", 'grant "quoted"; with a semicolon'), actor=ACTOR)
    journal.post(engine, Draft((Line("sundry:fees_and.charges", 12_34), Line("council:creditors", -12_34)),
                               date(2025, 10, 5), "manual", "fees"), actor=ACTOR)
    ids["year_end"] = close_year(engine, "bcf-2025", on=date(2026, 3, 31), actor=ACTOR).entry.entry.id
    close_period(engine, financial_year(FY), actor=ACTOR)
    # the next year
    create_pool(engine, "bcf-2026", name="Better Care Fund 2026/27", fy=FY + 1, host="council",
                partners=[("icb", 6000), ("council", 4000)], risk_share=RiskShare.FIXED)
    contribute(engine, "bcf-2026", "icb", 1_000_00, on=date(2026, 4, 1), actor=ACTOR)
    allocate(engine, [Allocation("P1", FY + 1, Stream.NHS_CHC, 900_00, "pool:bcf-2026", date(2026, 4, 2))],
             actor=ACTOR)
    ids["last"] = spend(engine, "P1", FY + 1, 123_45, on=date(2026, 4, 30), actor=ACTOR).posted[0].entry.id
    return ids


@pytest.fixture(scope="module")
def books(databases):  # type: ignore[no-untyped-def]
    """The ledger `build` makes, once for a module of tests that only read it."""
    engine = databases.engine()
    build(engine)
    yield engine
    databases.drop(engine)
