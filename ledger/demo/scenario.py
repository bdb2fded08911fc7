"""`ipb demo`: a council, an ICB and a section 75 pool fund 200 people for a year, end to end.

Every step goes through the same services the CLI uses, acting as the user whose job it is
(an officer allocates, a second officer approves payment runs, brokers log spend for their
own people, an auditor reads), so the demo is also a check that the roles fit the work.

The set-up (people, assessments, the pool and budgets, plans) is ledger/demo/set_up.py; here is
the year that follows: payments, the bank statement, surpluses and the year end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ledger import chart
from ledger.calendar import financial_year
from ledger.demo.population import Case, DemoPerson
from ledger.demo.set_up import BROKERS, CHECKER, END, FY, OFFICER, PERIODS, POOL, PROVIDERS, START, WEEKS, SetUp
from ledger.domain import Stream
from ledger.errors import LedgerError
from ledger.formats.bank_statements import ColumnMapping, read_statement
from ledger.money import format_amount
from ledger.reports import books
from ledger.reports.budgets import pool_view
from ledger.rules.eligibility import Setting
from ledger.rules.params import params_for_year
from ledger.rules.plans import Frequency, LineSpec
from ledger.services import (
    payees,
    payment_runs,
    payment_settlement,
    plan_spend,
    plans,
    receipts,
    returned,
    statement_import,
    statement_matching,
    surplus,
)
from ledger.services.periods import close_period
from ledger.services.pools import close_year
from ledger.split import split


@dataclass
class Scenario(SetUp):
    """The whole demo: the set-up's phases, then the year's."""

    returned_payment: payment_runs.PaymentRow | None = None  # by the bank, in `bank_statement`

    # --- payments ------------------------------------------------------------------------------------

    def payment_set_up(self) -> None:
        payees.add_paying_account(self.engine, "main", "Council main payments account", "20-00-00", "10000001",
                                  "123456", actor=OFFICER)
        payees.add_paying_account(self.engine, "dp", "Direct payments account", "20-00-00", "10000002", "123457",
                                  actor=OFFICER)
        for code, name, sort_code, account in PROVIDERS:
            payees.add_provider(self.engine, code, name, sort_code, account, actor=OFFICER)
        dp_people = [p for p in self.cohort if self.paid_direct(p)]
        payees.add_schedules(self.engine, [self._dp_schedule(p) for p in dp_people], actor=OFFICER)
        self.step(f"paying accounts main and dp, {len(PROVIDERS)} providers, and 4-weekly direct payments in "
                  f"advance for {len(dp_people)} people (net of their assessed contribution where they have one)")
        self._pool_receipts()

    def _dp_schedule(self, person: DemoPerson) -> payees.NewSchedule:
        weekly, stream = self._dp_weekly(person)
        contribution = self.charges[person.ref].weekly if person.ref in self.charges else 0
        return payees.NewSchedule(person.ref, weekly, START, "dp", person.name, "40-11-62",
                                  f"{int(person.ref[1:]):08d}", stream, contribution=min(contribution, weekly),
                                  net_of_contribution=contribution > 0, ends_on=PERIODS[-1])

    def _pool_receipts(self) -> None:
        """The partners pay the year's contributions on 1 April: into dp what the pool's budgets paid by direct
        payment need (shared in proportion to the contributions), the rest into main."""
        info = pool_view(self.engine, POOL)
        contributed = {p.partner: p.contributed for p in info.partners}
        into_dp = dict(zip(contributed, split(self.dues[chart.pool_source(POOL), "dp"], list(contributed.values()))))
        receipts.receive_many(self.engine, [
            receipts.NewReceipt(partner, amount, account, f"{partner.upper()} S75 {POOL.upper()}", START, POOL,
                                key=f"demo:receipt:{POOL}:{partner}:{account}")
            for partner, total in contributed.items()
            for account, amount in (("dp", into_dp[partner]), ("main", total - into_dp[partner])) if amount],
            actor=OFFICER)
        self.step(f"the partners' contributions to {POOL} received on {START}: £{format_amount(sum(into_dp.values()))} "
                  f"into dp, the rest into main; the funders of direct budgets (ICB, council, education) draw down "
                  f"each 4-weekly period in advance, and people's contributions are collected into main")

    def _drawdowns(self, number: int, start: date) -> int:
        """Each period's first day: every direct funder pays into each account a 13th of what it owes there (the
        day's credits recorded together)."""
        wanted = []
        for (source, account), owed in sorted(self.dues.items()):
            if chart.source_pool(source) is not None:
                continue
            amount = split(owed, [1] * len(PERIODS))[number - 1]
            if amount:
                what = "CONTRIBUTIONS" if source == "self" else "DRAWDOWN"
                wanted.append(receipts.NewReceipt(source, amount, account, f"{source.upper()} {what} {number:02d}",
                                                  start, key=f"demo:receipt:{source}:{account}:{number}"))
        return len(receipts.receive_many(self.engine, wanted, actor=OFFICER))

    def _dp_weekly(self, p: DemoPerson) -> tuple[int, Stream | None]:
        if p.case is Case.EHC:
            return p.education_yearly // WEEKS, Stream.EHC_EDUCATION
        if p.case is Case.S117:
            return p.weekly_cost, Stream.S117
        return p.weekly_cost, None  # the budget's rule shares it between the council and the contribution

    def a_year_of_care(self) -> None:
        """Thirteen 4-week periods: invoices and DP monitoring, broker spend, then a payment run per account."""
        invoiced = logged = runs = received = 0
        with self._progress("a year of care, spend and payment runs", len(PERIODS)) as advance:
            for number, start in enumerate(PERIODS, 1):
                received += self._drawdowns(number, start)
                invoiced += self._invoices(number, start)
                logged += self._broker_spend(number, start)
                self._dp_monitoring(number, start)
                runs += self._pay(number, start)
                if number == 6:
                    self._broker_refusals(start)
                advance(1)
        self._dp_monitoring(len(PERIODS) + 1, END + timedelta(days=1), pays_in=False)  # the year-end return
        self.step(f"a year of care: {received} funders' receipts into the paying accounts, {invoiced} provider "
                  f"invoices against plan lines, {logged} spend items logged by brokers, {runs} payment runs (each "
                  f"gathered, approved by a second officer, filed as BACS Standard 18, submitted and settled)")

    def _invoices(self, number: int, start: date) -> int:
        """The period's invoices from every provider, recorded together as an officer keys in a batch."""
        wanted = []
        for person in self.cohort:
            if self.paid_direct(person):
                continue
            plan = self._plan(person)
            for stored in plan.lines:
                line = stored.spec
                if line.code == "equipment" or (line.frequency is Frequency.YEAR and number != 1):
                    continue
                amount = line.cap if line.frequency is not Frequency.YEAR else line.rate
                wanted.append(payees.NewInvoice(
                    provider_for(person, line), f"{person.ref}-{line.code}-{number:02d}", person.ref, amount,
                    invoice_date=start, due_date=start + timedelta(days=3), paying_account="main", fy=FY,
                    stream=line.stream, plan_line_id=stored.id))
        return len(payees.add_invoices(self.engine, wanted, actor=OFFICER))

    def _plan(self, person: DemoPerson) -> plans.PlanVersion:
        return self.plan_cache[person.ref]  # every plan, as care_plans wrote it (the demo amends none)

    def _broker_spend(self, number: int, start: date) -> int:
        """Brokers log sundries bought by the managed account or service fund, each quarter: each broker logs the
        quarter's receipts of their people together (`plan_spend.log_spends`, one transaction a broker)."""
        if number % 3:
            return 0
        bought: dict[str, list[plan_spend.NewSpend]] = {broker: [] for broker in BROKERS}
        for person in self.cohort:
            if self.paid_direct(person):
                continue
            for stored in self._plan(person).lines:
                if stored.spec.code == "equipment":
                    bought[self.broker_of(person)].append(plan_spend.NewSpend(
                        person.ref, "equipment", stored.spec.cap * 9 // 10, start + timedelta(days=10),
                        supplier="Northshire Mobility Ltd", evidence=f"receipt {person.ref}-{number:02d}",
                        key=f"demo:spend:{person.ref}:{number}"))
        return sum(len(plan_spend.log_spends(self.engine, FY, items, actor=broker))
                   for broker, items in bought.items() if items)

    def _dp_monitoring(self, number: int, start: date, pays_in: bool = True) -> None:
        """Each period people pay in their contribution and report what they spent in the last one.

        Most spend nearly all of it; every ninth spends barely half, which builds up a surplus; a
        few stop paying their contribution in after the ninth period, which shows as arrears.
        """
        returns: list[surplus.DpMovement] = []  # the period's returns, recorded together
        for person in self.cohort:
            if not self.paid_direct(person):
                continue
            weekly, _ = self._dp_weekly(person)
            share = 55 if int(person.ref[1:]) % 9 == 0 else 97
            contribution = min(self.charges[person.ref].weekly, weekly) * 4 if person.ref in self.charges else 0
            stopped = contribution and int(person.ref[1:]) % 11 == 0 and number > 9  # then arrears build up
            if contribution and pays_in and not stopped:
                returns.append(surplus.DpMovement(person.ref, contribution, start, spent=False,
                                                  key=f"demo:dpc:{person.ref}:{number}"))
            if number > 1:  # what was spent in the period just ended (from what came in for it)
                came_in = weekly * 4 - (contribution if number > 10 and stopped else 0)
                returns.append(surplus.DpMovement(person.ref, came_in * share // 100, start - timedelta(days=1),
                                                  spent=True, key=f"demo:dps:{person.ref}:{number}"))
        if returns:
            surplus.record_returns(self.engine, returns, actor=OFFICER)

    def _pay(self, number: int, start: date) -> int:
        runs = 0
        for account in ("main", "dp"):
            gathered = payment_runs.gather(self.engine, account, start + timedelta(days=3), actor=OFFICER)
            if gathered.run is None or not gathered.run.payments:
                continue
            run = payment_runs.approve(self.engine, gathered.run.id, actor=CHECKER)
            payment_settlement.payment_file(self.engine, run.id, "bacs18", actor=OFFICER,
                                            serial=f"{number:02d}{account.upper():0<4}"[:6], created=start)
            payment_settlement.submit(self.engine, run.id, actor=OFFICER)
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
        payment_settlement.payment_file(self.engine, run.id, "bacs18", actor=OFFICER, serial="27MAIN", created=day)
        payment_settlement.submit(self.engine, run.id, actor=OFFICER)
        payment_settlement.settle(self.engine, run.id, on=day, actor=OFFICER)
        self.step(f"the returned £{format_amount(p.amount)} to {p.payee} paid again in run {run.id} (approved by a "
                  f"second officer) after its bank details changed from {change.old} to {change.new}, proposed "
                  "by one officer and confirmed by another (`ipb payment bank-changes`)")

    def surpluses(self) -> None:
        found = surplus.recover_surpluses(self.engine, END, actor=OFFICER, key_prefix="demo:surplus")
        total = sum(done.finding.decision.refund + done.finding.decision.recovered for done in found)
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
        self._bank_balances()

    def _bank_balances(self) -> None:
        """Each paying account's closing balance (received less paid out) and its lowest after any entry."""
        banks = books.general_ledger(self.engine, financial_year(FY), chart.bank("")).accounts
        lowest = {a.account: min((p.balance for p in a.postings), default=a.opening) for a in banks}
        said = "; ".join(f"{a.account} £{format_amount(a.closing)} (lowest £{format_amount(lowest[a.account])})"
                         for a in banks)
        overdrawn = [code for code, low in lowest.items() if low < 0]
        self.step(f"the council's paying accounts at the year end, what the funders paid in less what was paid out: "
                  f"{said}; " + (f"OVERDRAWN on some day: {', '.join(overdrawn)}" if overdrawn
                                 else "never overdrawn on any day"))


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
