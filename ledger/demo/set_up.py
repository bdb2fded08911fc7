"""`ipb demo`, its first phases: the staff, funders and people; eligibility and financial
assessments; the section 75 pool and the year's budgets; care and support plans. The year that
follows (payments, the bank, surpluses, the year end) is ledger/demo/scenario.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from sqlalchemy import Engine

from ledger import chart
from ledger.demo.population import Case, DemoPerson, people
from ledger.domain import FunderKind, RiskShare, Stream, YearEnd
from ledger.money import format_amount
from ledger.roles import Relation, Role
from ledger.rules.charging import Charge, assess
from ledger.rules.eligibility import decide
from ledger.rules.params import params_for_year
from ledger.rules.plans import Frequency, LineSpec, Mode, Unit
from ledger.services import plans, users
from ledger.services.assessments import Assessed, fund_from_assessments
from ledger.services.budgets import Allocation, allocate
from ledger.services.parties import NewPerson, add_funder, register_people
from ledger.services.pools import contribute, create_pool

FY = 2025
START, END = date(2025, 4, 1), date(2026, 3, 31)
WEEKS = 52
ADMIN, OFFICER, CHECKER, AUDITOR = "admin", "finance-officer", "finance-checker", "auditor"
BROKERS = ("broker-north", "broker-south")
PERSON_USER = "p0001"  # the first person, signing in to the web to see their own budget
WEB_USERS = (OFFICER, CHECKER, *BROKERS, PERSON_USER)  # given a web password each
POOL = "bcf-2025"
PERIODS = [START + timedelta(weeks=4 * k) for k in range(13)]
PROVIDERS = [("homecare-north", "North Home Care Ltd", "30-00-01", "20000001"),
             ("homecare-south", "Southside Support CIC", "30-00-02", "20000002"),
             ("nursing-oaks", "The Oaks Nursing Home", "30-00-03", "20000003"),
             ("therapy-hub", "Northshire Therapy Hub", "30-00-04", "20000004"),
             ("send-college", "Northshire College SEND", "30-00-05", "20000005")]
FUNDERS = [("icb", "Northshire ICB", FunderKind.ICB), ("council", "Northshire County Council", FunderKind.COUNCIL),
           ("education", "Northshire SEND and education", FunderKind.EDUCATION),
           ("self", "People's own contributions", FunderKind.PERSON),
           ("family", "Family and charity top-ups", FunderKind.THIRD_PARTY)]

Say = Callable[[str], None]
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass
class SetUp:
    """The demo's cast and what it has decided so far, and the phases that set the year up."""

    engine: Engine
    say: Say
    track: Progress
    cohort: list[DemoPerson] = field(default_factory=people)
    charges: dict[str, Charge] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    # (source: a funder code or pool:<code>, paying account) -> what the year's budgets it funds pay out of
    # that account: the cash it owes there (ledger/demo/scenario.py records it coming in)
    dues: Counter[tuple[str, str]] = field(default_factory=Counter)
    plan_cache: dict[str, plans.PlanVersion] = field(default_factory=dict)  # person -> their current plan

    def step(self, text: str) -> None:
        self.steps.append(text)
        self.say(text)

    def paid_direct(self, person: DemoPerson) -> bool:
        """Direct payments, except for people paying the full cost themselves (they arrange their own care)."""
        charge = self.charges.get(person.ref)
        return person.direct_payment and not (charge and charge.weekly >= person.weekly_cost)

    def paying_account_of(self, person: str) -> str:
        """The council account a person's budget is paid from: direct payments from dp, invoices from main."""
        return "dp" if self.paid_direct(self.by_ref[person]) else "main"

    @cached_property
    def by_ref(self) -> dict[str, DemoPerson]:
        return {p.ref: p for p in self.cohort}

    def owe(self, source: str, person: str, amount: int) -> None:
        account = self.paying_account_of(person)
        if not (source == "self" and account == "dp"):  # they pay that into their own DP account
            self.dues[source, account] += amount

    def broker_of(self, person: DemoPerson) -> str:
        return BROKERS[int(person.ref[1:]) % 2]

    # --- set-up -----------------------------------------------------------------------------------

    def set_up(self) -> None:
        staff = [(ADMIN, Role.ADMIN), (OFFICER, Role.OFFICER), (CHECKER, Role.OFFICER), (AUDITOR, Role.AUDITOR),
                 *((b, Role.BROKER) for b in BROKERS), (PERSON_USER, Role.PERSON)]
        for name, role in staff:
            users.add_user(self.engine, name, role, actor=ADMIN)
        for code, name, kind in FUNDERS:
            add_funder(self.engine, code, name, kind)
        register_people(self.engine, [NewPerson(p.ref, p.nhs, p.name) for p in self.cohort])
        for broker in BROKERS:
            users.assign(self.engine, broker, [p.ref for p in self.cohort if self.broker_of(p) == broker],
                         actor=ADMIN)
        users.link(self.engine, PERSON_USER, [self.cohort[0].ref], Relation.SELF, actor=ADMIN)
        self.step(f"{len(staff)} users (admin, two finance officers, an auditor, two brokers, a person), "
                  f"{len(FUNDERS)} funders and {len(self.cohort)} people registered (NHS numbers from the test range)")

    def decide_and_assess(self) -> None:
        found: Counter[str] = Counter()
        for person in self.cohort:
            decision = decide(person.circumstances)
            found.update(str(f.stream or "fnc-to-home") for f in decision.funding)
            if person.finances is not None:
                self.charges[person.ref] = assess(person.finances)
        charged = [c for c in self.charges.values() if c.weekly]
        full = sum(c.full_cost for c in self.charges.values())
        self.step(f"eligibility decided: {', '.join(f'{n} {s}' for s, n in sorted(found.items()))}; "
                  f"{len(self.charges)} financial assessments ({params_for_year(FY).version}): "
                  f"{len(charged)} contribute, {full} pay the full cost, "
                  f"{len(self.charges) - len(charged)} pay nothing")

    # --- the pool and the year's budgets ------------------------------------------------------------------

    def pool_and_budgets(self) -> None:
        pooled = {p.ref: p.weekly_cost * WEEKS for p in self.cohort if p.case in (Case.S117, Case.INTEGRATED)}
        need = sum(pooled.values()) - sum(self._contribution(p) for p in self.cohort if p.case is Case.INTEGRATED)
        create_pool(self.engine, POOL, name="Better Care Fund 2025/26 (section 75)", fy=FY, host="council",
                    partners=[("icb", None), ("council", None)], risk_share=RiskShare.PROPORTIONAL,
                    year_end=YearEnd.RETURN)
        shares = {"icb": need * 55 // 100 + 5_000_000, "council": need - need * 55 // 100 + 4_000_000}
        # The year's budgets are allocated on 1 April and availability is judged as of that date, so the
        # partners pay in the year's agreed contributions then, not quarter by quarter.
        for partner, total in shares.items():
            contribute(self.engine, POOL, partner, total, on=START, actor=OFFICER, key=f"demo:{partner}:{FY}")
        self.step(f"section 75 pool {POOL} hosted by the council: ICB £{format_amount(shares['icb'])}, "
                  f"council £{format_amount(shares['council'])}, the year's contributions paid in on {START}")
        direct = [item for person in self.cohort for item in self._allocations(person)]
        with self._progress("allocating the year's budgets", 1) as advance:
            # the officer keys in the caseload's assessments together: one transaction, all or none
            funded = fund_from_assessments(self.engine, FY, [self._assessed(p) for p in self.cohort
                                                             if p.ref in self.charges],
                                           person_funder="self", on=START, actor=OFFICER)
            for posted in (posted for entries in funded for posted in entries):
                meta = posted.entry.meta
                self.owe(meta["source"], meta["person"], sum(x.amount for x in posted.entry.lines if x.amount > 0))
            allocate(self.engine, direct, actor=OFFICER)
            advance(1)
            for item in direct:
                self.owe(item.source, item.person, item.amount)
        total = sum(a.amount for a in direct)
        self.step(f"a year's budgets allocated for {len(self.cohort)} people: {len(direct)} NHS, s117 and education "
                  f"components (£{format_amount(total)}) and {len(self.charges)} Care Act packages split between "
                  f"the council and the person's assessed contribution, each recording the rule version")

    def _assessed(self, person: DemoPerson) -> Assessed:
        assert person.finances is not None
        source = chart.pool_source(POOL) if person.case is Case.INTEGRATED else "council"
        return Assessed(person.ref, self.charges[person.ref], person.weekly_cost, person.finances, source,
                        key=f"demo:assess:{person.ref}")

    def _contribution(self, person: DemoPerson) -> int:
        charge = self.charges.get(person.ref)
        return 0 if charge is None else charge.weekly * WEEKS

    def _allocations(self, p: DemoPerson) -> list[Allocation]:
        def component(stream: Stream, amount: int, source: str) -> Allocation:
            return Allocation(p.ref, FY, stream, amount, source, START, f"demo:alloc:{p.ref}:{stream}")

        if p.case is Case.CHC:
            return [component(Stream.NHS_CHC, p.weekly_cost * WEEKS, "icb")]
        if p.case is Case.S117:
            return [component(Stream.S117, p.weekly_cost * WEEKS, chart.pool_source(POOL))]
        if p.case is Case.EHC:
            return [component(Stream.EHC_EDUCATION, p.education_yearly, "education")]
        if p.case is Case.INTEGRATED:
            return [component(Stream.NHS_PHB, p.phb_weekly * WEEKS, "icb")]
        return []

    # --- plans ----------------------------------------------------------------------------------------

    def care_plans(self) -> None:
        wanted = [plans.NewPlan(p.ref, plan_lines(p), START, "annual review", mode_of(p, self.paid_direct(p)))
                  for p in self.cohort]
        with self._progress("writing care and support plans", 1) as advance:
            # the year's annual reviews keyed in together: one transaction, all or none
            for written in plans.create_plans(self.engine, FY, wanted, actor=OFFICER):
                self.plan_cache[written.person] = written
            advance(1)
        modes = Counter(plan.mode for plan in wanted if plan.mode is not None)
        self.step(f"{len(self.cohort)} care and support plans written; budgets managed as "
                  f"{', '.join(f'{n} {m}' for m, n in sorted(modes.items()))}")

    @contextmanager
    def _progress(self, what: str, total: int) -> Iterator[Callable[[int], None]]:
        yield self.track(what, total)


def mode_of(p: DemoPerson, direct: bool) -> Mode:
    if direct:
        return Mode.DIRECT_PAYMENT
    if p.case is Case.CHC:
        return Mode.COUNCIL_MANAGED
    return Mode.INDIVIDUAL_SERVICE_FUND if int(p.ref[1:]) % 3 == 0 else Mode.MANAGED_ACCOUNT


def plan_lines(p: DemoPerson) -> list[LineSpec]:
    """Plan lines that cost what the person's budget holds, per week (a yearly line for education)."""
    coordinator = f"coordinator-{int(p.ref[1:]) % 7 + 1}"
    lines = []
    for stream in p.streams:
        weekly = {Stream.PERSONAL_CONTRIBUTION: 0, Stream.NHS_PHB: p.phb_weekly}.get(stream, p.weekly_cost)
        if stream is Stream.EHC_EDUCATION:
            lines.append(LineSpec("education-support", "specialist education support", Unit.ITEM,
                                  p.education_yearly, 100, Frequency.YEAR, p.education_yearly, Frequency.YEAR,
                                  coordinator, stream=stream))
        elif stream is Stream.NHS_PHB:
            lines.append(LineSpec("therapy", "therapies (personal health budget)", Unit.VISIT, weekly // 2, 200,
                                  Frequency.WEEK, weekly * 4, Frequency.FOUR_WEEKS, coordinator, stream=stream))
        elif weekly:
            rate = 2_450
            hours, rest = divmod(weekly, rate)
            lines.append(LineSpec("personal-care", "personal care and support", Unit.HOUR, rate, hours * 100,
                                  Frequency.WEEK, (weekly - rest) * 4, Frequency.FOUR_WEEKS, coordinator,
                                  stream=None if stream is Stream.CARE_ACT else stream))
            if rest:
                lines.append(LineSpec("equipment", "small equipment and sundries", Unit.ITEM, rest, 100,
                                      Frequency.WEEK, rest * 4, Frequency.FOUR_WEEKS, coordinator,
                                      stream=None if stream is Stream.CARE_ACT else stream))
    return lines
