"""`ipb demo`: a council, an ICB and a section 75 pool fund 200 people for a year, end to end.

Every step goes through the same services the CLI uses, acting as the user whose job it is
(an officer allocates, a second officer approves payment runs, brokers log spend for their
own people, an auditor reads), so the demo is also a check that the roles fit the work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine

from ledger import chart
from ledger.calendar import financial_year
from ledger.demo.population import Case, DemoPerson, people
from ledger.domain import FunderKind, RiskShare, Stream, YearEnd
from ledger.errors import LedgerError
from ledger.formats.bank_statements import ColumnMapping, read_statement
from ledger.money import format_amount
from ledger.roles import Role
from ledger.rules.charging import Charge, assess
from ledger.rules.eligibility import Setting, decide
from ledger.rules.params import params_for_year
from ledger.rules.plans import Frequency, LineSpec, Mode, Unit
from ledger.services import (
    payees,
    payment_runs,
    payment_settlement,
    plan_spend,
    plans,
    returned,
    statement_import,
    statement_matching,
    surplus,
    users,
)
from ledger.services.assessments import fund_from_assessment
from ledger.services.budgets import Allocation, allocate
from ledger.services.parties import NewPerson, add_funder, register_people
from ledger.services.periods import close_period
from ledger.services.pools import close_year, contribute, create_pool

FY = 2025
START, END = date(2025, 4, 1), date(2026, 3, 31)
WEEKS = 52
ADMIN, OFFICER, CHECKER, AUDITOR = "admin", "finance-officer", "finance-checker", "auditor"
BROKERS = ("broker-north", "broker-south")
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
class Scenario:
    engine: Engine
    say: Say
    track: Progress
    cohort: list[DemoPerson] = field(default_factory=people)
    charges: dict[str, Charge] = field(default_factory=dict)
    plan_cache: dict[str, plans.PlanVersion] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    returned_payment: payment_runs.PaymentRow | None = None  # by the bank, in `bank_statement`

    def step(self, text: str) -> None:
        self.steps.append(text)
        self.say(text)

    def paid_direct(self, person: DemoPerson) -> bool:
        """Direct payments, except for people paying the full cost themselves (they arrange their own care)."""
        charge = self.charges.get(person.ref)
        return person.direct_payment and not (charge and charge.weekly >= person.weekly_cost)

    def broker_of(self, person: DemoPerson) -> str:
        return BROKERS[int(person.ref[1:]) % 2]

    # --- set-up -----------------------------------------------------------------------------------

    def set_up(self) -> None:
        staff = [(ADMIN, Role.ADMIN), (OFFICER, Role.OFFICER), (CHECKER, Role.OFFICER), (AUDITOR, Role.AUDITOR),
                 *((b, Role.BROKER) for b in BROKERS)]
        for name, role in staff:
            users.add_user(self.engine, name, role, actor=ADMIN)
        for code, name, kind in FUNDERS:
            add_funder(self.engine, code, name, kind)
        register_people(self.engine, [NewPerson(p.ref, p.nhs, p.name) for p in self.cohort])
        for broker in BROKERS:
            users.assign(self.engine, broker, [p.ref for p in self.cohort if self.broker_of(p) == broker],
                         actor=ADMIN)
        self.step(f"{len(staff)} users (admin, two finance officers, an auditor, two brokers), "
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
        for partner, total in shares.items():
            for quarter, day in enumerate((START, date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1)), 1):
                part = total // 4 + (total % 4 if quarter == 4 else 0)
                contribute(self.engine, POOL, partner, part, on=day, actor=OFFICER, key=f"demo:{partner}:q{quarter}")
        self.step(f"section 75 pool {POOL} hosted by the council: ICB £{format_amount(shares['icb'])}, "
                  f"council £{format_amount(shares['council'])} in quarterly contributions")
        direct: list[Allocation] = []
        with self._progress("allocating the year's budgets", len(self.cohort)) as advance:
            for person in self.cohort:
                direct += self._allocations(person)
                charge = self.charges.get(person.ref)
                if charge is not None:
                    source = chart.pool_source(POOL) if person.case is Case.INTEGRATED else "council"
                    fund_from_assessment(self.engine, person.ref, FY, charge, person.weekly_cost, council=source,
                                         person_funder="self", on=START, actor=OFFICER, key=f"demo:assess:{person.ref}")
                advance(1)
            allocate(self.engine, direct, actor=OFFICER)
        total = sum(a.amount for a in direct)
        self.step(f"a year's budgets allocated for {len(self.cohort)} people: {len(direct)} NHS, s117 and education "
                  f"components (£{format_amount(total)}) and {len(self.charges)} Care Act packages split between "
                  f"the council and the person's assessed contribution, each recording the rule version")

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
        modes: Counter[Mode] = Counter()
        with self._progress("writing care and support plans", len(self.cohort)) as advance:
            for person in self.cohort:
                plans.create_plan(self.engine, person.ref, FY, plan_lines(person), actor=OFFICER,
                                  effective_from=START, reason="annual review")
                mode = mode_of(person, self.paid_direct(person))
                plans.set_mode(self.engine, person.ref, FY, mode, actor=OFFICER, effective_from=START)
                modes[mode] += 1
                advance(1)
        self.step(f"{len(self.cohort)} care and support plans written; budgets managed as "
                  f"{', '.join(f'{n} {m}' for m, n in sorted(modes.items()))}")

    # --- payments ------------------------------------------------------------------------------------

    def payment_set_up(self) -> None:
        payees.add_paying_account(self.engine, "main", "Council main payments account", "20-00-00", "10000001",
                                  "123456")
        payees.add_paying_account(self.engine, "dp", "Direct payments account", "20-00-00", "10000002", "123457")
        for code, name, sort_code, account in PROVIDERS:
            payees.add_provider(self.engine, code, name, sort_code, account, actor=OFFICER)
        dp_people = [p for p in self.cohort if self.paid_direct(p)]
        for person in dp_people:
            weekly, stream = self._dp_weekly(person)
            contribution = self.charges[person.ref].weekly if person.ref in self.charges else 0
            payees.add_schedule(self.engine, person.ref, weekly=weekly, first_due=START, paying_account="dp",
                                payee_name=person.name, sort_code="40-11-62",
                                account_number=f"{int(person.ref[1:]):08d}", stream=stream,
                                contribution=min(contribution, weekly), net_of_contribution=contribution > 0,
                                ends_on=PERIODS[-1], actor=OFFICER)
        self.step(f"paying accounts main and dp, {len(PROVIDERS)} providers, and 4-weekly direct payments in "
                  f"advance for {len(dp_people)} people (net of their assessed contribution where they have one)")

    def _dp_weekly(self, p: DemoPerson) -> tuple[int, Stream | None]:
        if p.case is Case.EHC:
            return p.education_yearly // WEEKS, Stream.EHC_EDUCATION
        if p.case is Case.S117:
            return p.weekly_cost, Stream.S117
        return p.weekly_cost, None  # the budget's rule shares it between the council and the contribution

    def a_year_of_care(self) -> None:
        """Thirteen 4-week periods: invoices and DP monitoring, broker spend, then a payment run per account."""
        invoiced = logged = runs = 0
        with self._progress("a year of care, spend and payment runs", len(PERIODS)) as advance:
            for number, start in enumerate(PERIODS, 1):
                invoiced += self._invoices(number, start)
                logged += self._broker_spend(number, start)
                self._dp_monitoring(number, start)
                runs += self._pay(number, start)
                if number == 6:
                    self._broker_refusals(start)
                advance(1)
        self._dp_monitoring(len(PERIODS) + 1, END + timedelta(days=1), pays_in=False)  # the year-end return
        self.step(f"a year of care: {invoiced} provider invoices against plan lines, {logged} spend items logged "
                  f"by brokers, {runs} payment runs (each gathered, approved by a second officer, filed as BACS "
                  f"Standard 18, submitted and settled)")

    def _invoices(self, number: int, start: date) -> int:
        count = 0
        for person in self.cohort:
            if self.paid_direct(person):
                continue
            plan = self._plan(person)
            for stored in plan.lines:
                line = stored.spec
                if line.code == "equipment" or (line.frequency is Frequency.YEAR and number != 1):
                    continue
                amount = line.cap if line.frequency is not Frequency.YEAR else line.rate
                payees.add_invoice(self.engine, provider_for(person, line), f"{person.ref}-{line.code}-{number:02d}",
                                   person.ref, amount, invoice_date=start, due_date=start + timedelta(days=3),
                                   paying_account="main", fy=FY, stream=line.stream, plan_line_id=stored.id,
                                   actor=OFFICER)
                count += 1
        return count

    def _plan(self, person: DemoPerson) -> plans.PlanVersion:
        if person.ref not in self.plan_cache:
            self.plan_cache[person.ref] = plans.current_plan(self.engine, person.ref, FY)
        return self.plan_cache[person.ref]

    def _broker_spend(self, number: int, start: date) -> int:
        """Brokers log sundries bought by the managed account or service fund, each quarter."""
        if number % 3:
            return 0
        count = 0
        for person in self.cohort:
            if self.paid_direct(person):
                continue
            plan = self._plan(person)
            for stored in plan.lines:
                if stored.spec.code == "equipment":
                    plan_spend.log_spend(self.engine, person.ref, FY, "equipment", stored.spec.cap * 9 // 10,
                                         on=start + timedelta(days=10), supplier="Northshire Mobility Ltd",
                                         evidence=f"receipt {person.ref}-{number:02d}", actor=self.broker_of(person),
                                         key=f"demo:spend:{person.ref}:{number}")
                    count += 1
        return count

    def _dp_monitoring(self, number: int, start: date, pays_in: bool = True) -> None:
        """Each period people pay in their contribution and report what they spent in the last one.

        Most spend nearly all of it; every ninth spends barely half, which builds up a surplus; a
        few stop paying their contribution in after the ninth period, which shows as arrears.
        """
        for person in self.cohort:
            if not self.paid_direct(person):
                continue
            weekly, _ = self._dp_weekly(person)
            share = 55 if int(person.ref[1:]) % 9 == 0 else 97
            contribution = min(self.charges[person.ref].weekly, weekly) * 4 if person.ref in self.charges else 0
            stopped = contribution and int(person.ref[1:]) % 11 == 0 and number > 9  # then arrears build up
            if contribution and pays_in and not stopped:
                surplus.record_contribution(self.engine, person.ref, contribution, on=start, actor=OFFICER,
                                            key=f"demo:dpc:{person.ref}:{number}")
            if number > 1:  # what was spent in the period just ended (from what came in for it)
                came_in = weekly * 4 - (contribution if number > 10 and stopped else 0)
                surplus.record_spend(self.engine, person.ref, came_in * share // 100, on=start - timedelta(days=1),
                                     actor=OFFICER, key=f"demo:dps:{person.ref}:{number}")

    def _pay(self, number: int, start: date) -> int:
        runs = 0
        for account in ("main", "dp"):
            gathered = payment_runs.gather(self.engine, account, start + timedelta(days=3), actor=OFFICER)
            if gathered.run is None or not gathered.run.payments:
                continue
            run = payment_runs.approve(self.engine, gathered.run.id, actor=CHECKER)
            payment_settlement.payment_file(self.engine, run.id, "bacs18",
                                            serial=f"{number:02d}{account.upper():0<4}"[:6], created=start)
            payment_settlement.submit(self.engine, run.id)
            held = [p for p in run.payments if p.status == "held"]
            failed = {held[0].id: "account closed (ARUCS code 1)"} if number == 5 and account == "main" else {}
            payment_settlement.settle(self.engine, run.id, on=start + timedelta(days=3), actor=OFFICER, failed=failed)
            runs += 1
        return runs

    def _broker_refusals(self, start: date) -> None:
        """What roles and caps refuse, shown by trying (nothing of it is written), then an allowed overspend."""
        person, line = max(((p, s.spec) for p in self.cohort if not self.paid_direct(p)
                            and self.broker_of(p) == BROKERS[0] for s in self._plan(p).lines
                            if s.spec.code == "equipment"), key=lambda found: found[1].cap)
        other = next(p for p in self.cohort if self.broker_of(p) == BROKERS[1])
        on, extra = start + timedelta(days=12), line.cap // 5
        refused = []
        for attempt in (
            lambda: plan_spend.log_spend(self.engine, other.ref, FY, "personal-care", 1_000, on=on, supplier="x",
                                         evidence="x", actor=BROKERS[0]),
            lambda: plan_spend.log_spend(self.engine, person.ref, FY, "equipment", extra, on=on,
                                         supplier="Northshire Mobility Ltd", evidence="invoice 991", actor=BROKERS[0]),
        ):
            try:
                attempt()
            except LedgerError as exc:
                refused.append(exc.reason)
        flagged = plan_spend.log_spend(self.engine, person.ref, FY, "equipment", extra, on=on,
                                       supplier="Northshire Mobility Ltd", evidence="invoice 991", actor=OFFICER,
                                       allow_overspend=True, key="demo:overspend")
        self.step("refused, writing nothing: " + "; ".join(refused) +
                  f"; an officer then allowed £{format_amount(flagged.amount)} as flagged overspend")

    # --- bank, surplus, year end ----------------------------------------------------------------------

    def bank_statement(self, folder: Path) -> None:
        """The main account's statement for the year as the bank sends it (CSV), imported and matched."""
        runs = [r for r in payment_runs.list_runs(self.engine) if r.paying_account == "main"]
        paid = [(r.pay_date, p) for r in runs for p in r.payments if p.status == "settled"]
        returned = paid[-7][1]
        payment_settlement.return_payment(self.engine, returned.id, on=END - timedelta(days=2),
                                          reason="payee account closed", actor=OFFICER)
        self.returned_payment = returned
        rows = [f"{day:%d/%m/%Y},-{plain(p.amount)},BACS {p.reference},{p.reference}" for day, p in paid[:-1]]
        rows.append(f"{END - timedelta(days=2):%d/%m/%Y},{plain(returned.amount)},"
                    f"RETURNED {returned.reference},{returned.reference}")  # the last payment has not cleared yet
        path = folder / "main-account-statement.csv"
        path.write_text("Date,Amount,Description,Reference\n" + "\n".join(rows) + "\n")
        statement = read_statement(path, ColumnMapping(date="Date", date_format="%d/%m/%Y", amount="Amount",
                                                       description="Description", reference="Reference"))
        imported = statement_import.import_statement(self.engine, statement, "main", actor=OFFICER)
        again = statement_import.import_statement(self.engine, statement, "main", actor=OFFICER, dry_run=True)
        matched = statement_matching.match_statements(self.engine, actor=OFFICER, account="main")
        left = statement_matching.unmatched(self.engine, "main")
        self.step(f"bank statement for the main account imported ({len(imported.new)} lines; importing it again "
                  f"finds {len(again.duplicates)} duplicates and writes nothing) and matched: "
                  f"{len(matched.matches)} matches, one a returned payment; left unmatched: "
                  f"{len(left.lines)} statement lines, {len(left.payments)} payment not yet cleared")

    def pay_the_returned_again(self) -> None:
        """The provider whose payment came back sends new bank details; it is paid again in a last run."""
        p, day = self.returned_payment, END - timedelta(days=1)
        assert p is not None and p.payee_kind == "provider"
        proposed = returned.propose_provider_details(
            self.engine, p.payee, sort_code="30-00-09", account_number="29000001", actor=OFFICER,
            reason="account closed; new details on the provider's letter, confirmed by phone to the known contact")
        change = returned.confirm_details(self.engine, proposed.id, actor=CHECKER)
        returned.repay(self.engine, p.id, reason="paid again to the provider's new account", actor=OFFICER)
        run = payment_runs.approve(self.engine, payment_runs.gather(self.engine, "main", day, actor=OFFICER).run.id,
                                   actor=CHECKER)
        payment_settlement.payment_file(self.engine, run.id, "bacs18", serial="27MAIN", created=day)
        payment_settlement.submit(self.engine, run.id)
        payment_settlement.settle(self.engine, run.id, on=day, actor=OFFICER)
        self.step(f"the returned £{format_amount(p.amount)} to {p.payee} paid again in run {run.id} (approved by a "
                  f"second officer) after its bank details changed from {change.old} to {change.new}, proposed "
                  "by one officer and confirmed by another (`ipb payment bank-changes`)")

    def surpluses(self) -> None:
        found = [f for f in surplus.detect(self.engine, END) if f.decision.surplus > 0]
        total = 0
        for finding in found:
            done = surplus.recover(self.engine, finding.person, END, actor=OFFICER,
                                   key=f"demo:surplus:{finding.person}")
            total += done.finding.decision.refund + done.finding.decision.recovered
        self.step(f"direct payment surpluses above {params_for_year(FY).contingency().value} weeks' contingency: "
                  f"{len(found)} found, £{format_amount(total)} recovered, split exactly back to the streams "
                  f"(over-paid contributions refunded first)")

    def year_end(self) -> None:
        result = close_year(self.engine, POOL, on=END, actor=OFFICER)
        what = "underspend" if result.balance >= 0 else "overspend"
        shares = ", ".join(f"{p} £{format_amount(v)}" for p, v in result.shares.parts.items())
        self.step(f"year end: pool {POOL} {what} of £{format_amount(abs(result.balance))} shared by contributions "
                  f"({shares}) and returned; financial year 2025/26 closed to posting")
        close_period(self.engine, financial_year(FY), actor=OFFICER)

    @contextmanager
    def _progress(self, what: str, total: int) -> Iterator[Callable[[int], None]]:
        yield self.track(what, total)


def plain(pence: int) -> str:
    """Pounds without grouping, as bank CSV exports write them."""
    return format_amount(pence).replace(",", "")


def provider_for(p: DemoPerson, line: LineSpec) -> str:
    if line.stream is Stream.EHC_EDUCATION:
        return "send-college"
    if line.stream is Stream.NHS_PHB:
        return "therapy-hub"
    if p.circumstances.setting is not Setting.OWN_HOME:
        return "nursing-oaks"
    return "homecare-north" if int(p.ref[1:]) % 2 else "homecare-south"


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
