"""A short, realistic scenario run end to end: `ipb demo`.

An ICB and a council fund one person's integrated budget; care is held, then paid in part;
a mistaken entry is reversed; an overspend is refused; April is closed; the books verify.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine

from ledger.calendar import month
from ledger.errors import LedgerError
from ledger.journal import AccountType, Draft, Line, Phase
from ledger.reports.balances import TrialBalance, trial_balance
from ledger.reports.verify import Verification, verify
from ledger.roles import Role
from ledger.services import journal, users
from ledger.services.accounts import AccountSpec, open_account
from ledger.services.periods import close_period

ACTOR = "finance-officer"
USERS = [("admin", Role.ADMIN), (ACTOR, Role.OFFICER), ("auditor", Role.AUDITOR)]
ACCOUNTS = [
    ("funder:icb:cash", AccountType.ASSET, False),
    ("funder:council:cash", AccountType.ASSET, False),
    ("funder:icb:commitment", AccountType.EQUITY, False),
    ("funder:council:commitment", AccountType.EQUITY, False),
    ("person:P0001:budget:nhs-phb", AccountType.ASSET, True),
    ("person:P0001:budget:social-care", AccountType.ASSET, True),
    ("person:P0001:spend:personal-assistant", AccountType.EXPENSE, False),
    ("person:P0001:spend:day-service", AccountType.EXPENSE, False),
]


@dataclass
class DemoResult:
    steps: list[str] = field(default_factory=list)
    trial: TrialBalance | None = None
    verification: Verification | None = None


def run(engine: Engine, say: Callable[[str], None] = lambda _: None) -> DemoResult:
    result = DemoResult()

    def step(text: str) -> None:
        result.steps.append(text)
        say(text)

    for name, role in USERS:
        users.add_user(engine, name, role, actor="admin")
    step(f"added users {', '.join(f'{name} ({role})' for name, role in USERS)}")

    for code, kind, non_negative in ACCOUNTS:
        open_account(engine, AccountSpec(code, kind, date(2025, 4, 1), non_negative=non_negative))
    step(f"opened {len(ACCOUNTS)} accounts for the ICB, the council and person P0001")

    allocate = journal.post_many(
        engine,
        [
            (_move("person:P0001:budget:nhs-phb", "funder:icb:commitment", 1_248_000, "NHS PHB 2025/26",
                   kind="allocation"), "alloc-nhs"),
            (_move("person:P0001:budget:social-care", "funder:council:commitment", 936_000,
                   "Care Act social care 2025/26", kind="allocation"), "alloc-sc"),
        ],
        actor=ACTOR,
    )
    step(f"allocated £12,480.00 NHS and £9,360.00 social care (entries {allocate[0].entry.id}, {allocate[1].entry.id})")

    hold = journal.post(
        engine,
        Draft(
            (Line("person:P0001:spend:personal-assistant", 96_000), Line("person:P0001:budget:nhs-phb", -96_000)),
            date(2025, 4, 7), "spend", "PA hours April (planned)", Phase.PENDING,
        ),
        actor=ACTOR, key="hold-pa-april",
    )
    paid = journal.post_hold(engine, hold.entry.id, actor=ACTOR, effective_date=date(2025, 4, 28), amount=91_250)
    step(f"held £960.00 for April PA hours, then paid the £912.50 invoiced (entry {paid.entry.id}); the rest released")

    wrong = journal.post(
        engine,
        _move("person:P0001:spend:day-service", "person:P0001:budget:nhs-phb", 15_000, "day service (wrong stream)",
              date(2025, 4, 15)),
        actor=ACTOR, key="ds-wrong",
    )
    journal.reverse(engine, wrong.entry.id, actor=ACTOR, effective_date=date(2025, 4, 16), memo="wrong stream")
    journal.post(
        engine,
        _move("person:P0001:spend:day-service", "person:P0001:budget:social-care", 15_000, "day service",
              date(2025, 4, 16)),
        actor=ACTOR, key="ds-right",
    )
    step("posted a day service to the wrong stream, reversed it, and posted it to social care")

    try:
        journal.post(
            engine,
            _move("person:P0001:spend:day-service", "person:P0001:budget:social-care", 1_000_000, "overspend",
                  date(2025, 4, 20)),
            actor=ACTOR,
        )
    except LedgerError as refusal:
        step(f"refused as it should be: {refusal.reason}")

    replay = journal.post(
        engine,
        _move("person:P0001:spend:day-service", "person:P0001:budget:social-care", 15_000, "day service",
              date(2025, 4, 16)),
        actor=ACTOR, key="ds-right",
    )
    step(f"retried a posting with the same key: entry {replay.entry.id} returned, nothing new written")

    close_period(engine, month(2025, 4), actor=ACTOR)
    step("closed April 2025")

    result.trial = trial_balance(engine)
    result.verification = verify(engine)
    return result


def _move(debit: str, credit: str, pence: int, memo: str, on: date = date(2025, 4, 1), kind: str = "spend") -> Draft:
    return Draft((Line(debit, pence), Line(credit, -pence)), on, kind, memo)
