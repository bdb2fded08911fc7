"""A hypothesis state machine over pools, partners, people, allocations, attributed spend, holds,
recoveries, reversals and year-end close.

The machine keeps its own model of every account's balance and holds, of each pool and budget,
and predicts for every operation the exact postings (or a refusal). After every step it checks
the invariants of ARCHITECTURE.md against both the ledger's own reports and the model:
  1. every entry sums to zero; the trial balance is zero
  2. stored balances = sum of postings (and = the model's)
  3. pool: partner contributions (+ risk shares) = unallocated + allocations out - recoveries in
  4. person: per stream allocated = spent + recovered + available + held
  5. every split (attribution, recovery by source, risk share) is exact with no negative part
  6. a refused operation writes nothing; a replay posts nothing new
  7. no non-negative account goes below zero, holds included, on any day (balances by effective date)
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ledger import chart
from ledger.domain import Attribution, FunderKind, RiskShare, Stream, YearEnd
from ledger.errors import LedgerError
from ledger.reports.budgets import budget_view, pool_view
from ledger.reports.reconcile import reconcile
from ledger.services import journal
from ledger.services.budgets import Allocation, allocate, recover, set_rule, spend
from ledger.services.parties import add_funder, register_person
from ledger.services.pools import close_year, contribute, create_pool
from tests import support
from tests.ledger_state import assert_books_hold, snapshot

FUNDERS = {"icb": FunderKind.ICB, "council": FunderKind.COUNCIL, "edu": FunderKind.EDUCATION,
           "self": FunderKind.PERSON, "gran": FunderKind.THIRD_PARTY}
PARTNERS = ["icb", "council", "edu"]
STREAMS = [Stream.NHS_PHB, Stream.CARE_ACT, Stream.S117, Stream.EHC_EDUCATION, Stream.PERSONAL_CONTRIBUTION]
YEARS = [2025, 2026]
LATER = date(2027, 6, 1)  # reversals and hold resolutions
pick = st.integers(min_value=0, max_value=30)  # an index into whatever exists, modulo its length


def model_split(amount: int, weights: list[int]) -> list[int]:
    """Largest remainder, written afresh from the rule: floors, then a penny each to the largest remainders."""
    sign, whole = (1, amount) if amount >= 0 else (-1, -amount)
    total = sum(weights)
    exact = [Fraction(whole * w, total) for w in weights]
    parts = [math.floor(e) for e in exact]
    for i in sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))[: whole - sum(parts)]:
        parts[i] += 1
    return [sign * p for p in parts]


@dataclass
class MEntry:
    kind: str
    lines: dict[str, int]
    posted: bool = True  # False for a hold (pending)
    reversed: bool = False
    day: date = date.min  # the effective date
    resolved: bool = False  # a hold posted or voided: no longer held on any day


@dataclass
class MPool:
    code: str
    fy: int
    partners: list[str]
    rule: RiskShare
    bp: dict[str, int]
    year_end: YearEnd
    overspend: bool
    closed: bool = False


@dataclass
class MHold:
    person: str
    fy: int
    parts: dict[Stream, int]  # stream -> pence held


@dataclass
class Refused(Exception):
    why: str


@dataclass
class Model:
    bal: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # signed, debit positive
    held_dr: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    held_cr: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_kind: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    non_negative: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)  # a closed pool's unallocated account
    entries: dict[int, MEntry] = field(default_factory=dict)

    def available(self, account: str) -> int:  # for the debit-normal accounts that have limits
        return self.bal[account] - self.held_cr[account]

    def check_open(self, lines: dict[str, int]) -> None:
        if self.closed & lines.keys():
            raise Refused(f"{sorted(self.closed & lines.keys())} closed")

    def available_on(self, account: str, day: date) -> int:
        """What the account had available at the end of `day`, from the entries dated up to it: posted
        amounts, less the credits of holds still open."""
        total = 0
        for e in self.entries.values():
            amount = e.lines.get(account, 0)
            if e.day <= day and (e.posted or (not e.resolved and amount < 0)):
                total += amount
        return total

    def days_from(self, account: str, day: date) -> set[date]:
        """`day` and every later day on which an entry names the account."""
        return {day} | {e.day for e in self.entries.values() if account in e.lines and e.day > day}

    def spendable(self, account: str, day: date) -> int:
        """The most that can leave the account on `day` without it being below zero then or on any later day."""
        return min(self.available_on(account, d) for d in self.days_from(account, day))

    def check_limits(self, lines: dict[str, int], day: date, pending: bool = False) -> None:
        self.check_open(lines)
        for account, amount in lines.items():
            if account not in self.non_negative:
                continue
            before = self.available(account)
            change = amount if (not pending or amount < 0) else 0
            if before + change < 0 and change < 0:
                raise Refused(f"{account} would go below zero")
            if change < 0 and any(self.available_on(account, d) + change < 0 for d in self.days_from(account, day)):
                raise Refused(f"{account} would go below zero on some day from {day}")

    def apply(self, entry_id: int, entry: MEntry) -> None:
        self.entries[entry_id] = entry
        for account, amount in entry.lines.items():
            if entry.posted:
                self.bal[account] += amount
                self.by_kind[(account, entry.kind)] += amount
            elif amount > 0:
                self.held_dr[account] += amount
            else:
                self.held_cr[account] -= amount

    def release(self, lines: dict[str, int]) -> None:
        for account, amount in lines.items():
            if amount > 0:
                self.held_dr[account] -= amount
            else:
                self.held_cr[account] += amount

    def sources(self, account: str) -> dict[str, int]:
        """What each other account has put into `account` by allocations and recoveries (reversals included)."""
        net: dict[str, int] = defaultdict(int)
        for entry in self.entries.values():
            if entry.posted and entry.kind in ("allocation", "recovery") and account in entry.lines:
                for other, amount in entry.lines.items():
                    if other != account:
                        net[other] -= amount
        return dict(net)


def lines_of(posted) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out: dict[str, int] = defaultdict(int)
    for line in posted.entry.lines:
        out[line.account] += line.amount
    return dict(out)


class BudgetMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dbs = support.databases()
        self.engine = self.dbs.engine()
        self.m = Model()
        for code, kind in FUNDERS.items():
            add_funder(self.engine, code, code, kind)
        self.pools: dict[str, MPool] = {}
        self.people: list[str] = []
        self.components: dict[tuple[str, int], list[Stream]] = {}
        self.rules: dict[tuple[str, int], tuple[Attribution, list[Stream]]] = {}
        self.holds: dict[int, MHold] = {}
        self.counter = 0
        self.last: tuple | None = None  # (replay callable, entry ids it must return)

    def teardown(self) -> None:
        self.dbs.drop(self.engine)

    # --- helpers ----------------------------------------------------------------------

    def key(self) -> str:
        self.counter += 1
        return f"k{self.counter}"

    def attempt(self, predict, act):  # type: ignore[no-untyped-def]
        """Run `act` if `predict` (the model) says it may; else it must be refused and write nothing."""
        self.last = None
        try:
            expected = predict()
        except Refused:
            before = snapshot(self.engine)
            try:
                act()
            except LedgerError:
                assert snapshot(self.engine) == before, "a refused operation wrote something"
                return None
            raise AssertionError("the model expected a refusal, the ledger accepted") from None
        return act(), expected

    def attribute(self, person: str, fy: int, amount: int, named: Stream | None, day: date) -> dict[Stream, int]:
        streams = self.components[(person, fy)]
        available = {s: self.m.spendable(chart.stream_available(person, fy, s), day) for s in streams}
        if named is not None:
            if named not in available or available[named] < amount:
                raise Refused("the named stream cannot cover it")
            return {named: amount}
        if sum(max(v, 0) for v in available.values()) < amount:
            raise Refused("the budget cannot cover it")
        rule_, priority = self.rules.get((person, fy), (Attribution.PROPORTIONAL, []))
        if rule_ is Attribution.WATERFALL:
            order = [s for s in priority if s in available] + sorted(s for s in available if s not in priority)
            parts, left = {}, amount
            for s in order:
                take = min(left, max(available[s], 0))
                if take:
                    parts[s] = take
                    left -= take
            return parts
        positive = [s for s in streams if available[s] > 0]
        return {s: p for s, p in zip(positive, model_split(amount, [available[s] for s in positive])) if p}

    def check_parts(self, parts: dict, amount: int) -> None:
        assert sum(parts.values()) == amount, f"parts {parts} do not sum to {amount}"
        assert all(p > 0 for p in parts.values()), f"a non-positive part in {parts}"

    def budgets(self) -> list[tuple[str, int]]:
        return sorted(self.components)

    # --- pools ------------------------------------------------------------------------

    @precondition(lambda self: len(self.pools) < 4)
    @rule(fy=st.sampled_from(YEARS), partners=st.lists(st.sampled_from(PARTNERS), min_size=1, unique=True),
          fixed=st.booleans(), carry=st.booleans(), overspend=st.booleans(),
          cuts=st.lists(pick, min_size=2, max_size=2))
    def create_pool(self, fy, partners, fixed, carry, overspend, cuts):  # type: ignore[no-untyped-def]
        self.last = None
        code = f"pool{len(self.pools) + 1}"
        bp: dict[str, int] = {}
        if fixed:
            marks = sorted(c * 10_000 // 30 for c in cuts[: len(partners) - 1])
            bounds = [0, *marks, 10_000]
            bp = {p: bounds[i + 1] - bounds[i] for i, p in enumerate(partners)}
        pool = MPool(code, fy, partners, RiskShare.FIXED if fixed else RiskShare.PROPORTIONAL, bp,
                     YearEnd.CARRY_FORWARD if carry else YearEnd.RETURN, overspend)
        create_pool(self.engine, code, name=code, fy=fy, host=partners[0],
                    partners=[(p, bp[p] if fixed else None) for p in partners], risk_share=pool.rule,
                    year_end=pool.year_end, allow_overspend=overspend)
        self.pools[code] = pool
        if not overspend:
            self.m.non_negative.add(chart.pool_unallocated(code))

    @precondition(lambda self: self.pools)
    @rule(which=pick, partner=st.sampled_from(PARTNERS), amount=st.integers(min_value=1, max_value=50_000))
    def contribute(self, which, partner, amount):  # type: ignore[no-untyped-def]
        pool = list(self.pools.values())[which % len(self.pools)]
        key = self.key()

        def predict() -> dict[str, int]:
            if pool.closed or partner not in pool.partners:
                raise Refused("closed pool, or not a partner")
            return {chart.pool_unallocated(pool.code): amount, chart.pool_contributions(pool.code, partner): -amount}

        def act():  # type: ignore[no-untyped-def]
            return contribute(self.engine, pool.code, partner, amount, on=date(pool.fy, 4, 1), actor="m", key=key)

        done = self.attempt(predict, act)
        if done:
            posted, expected = done
            assert lines_of(posted) == expected
            self.m.apply(posted.entry.id, MEntry("contribution", expected, day=date(pool.fy, 4, 1)))
            self.last = (act, [posted.entry.id])

    @precondition(lambda self: self.pools)
    @rule(which=pick, carry=st.one_of(st.none(), pick))
    def close_year(self, which, carry):  # type: ignore[no-untyped-def]
        pool = list(self.pools.values())[which % len(self.pools)]
        carry_to = None if carry is None else list(self.pools)[carry % len(self.pools)]
        unallocated = chart.pool_unallocated(pool.code)

        def predict():  # type: ignore[no-untyped-def]
            if pool.closed:
                raise Refused("already closed")
            balance = self.m.bal[unallocated]
            paid = {p: -self.m.bal[chart.pool_contributions(pool.code, p)] for p in sorted(pool.partners)}
            if pool.rule is RiskShare.FIXED:
                weights = [pool.bp[p] for p in sorted(pool.partners)]
            else:
                weights = list(paid.values())
                if balance and not sum(weights):
                    raise Refused("nothing to share in proportion to")
            parts = dict(zip(sorted(pool.partners), model_split(balance, weights) if balance else [0] * len(weights)))
            target_pool = None
            if balance > 0:
                if pool.year_end is YearEnd.RETURN and carry_to:
                    raise Refused("a returning pool does not carry forward")
                if pool.year_end is YearEnd.CARRY_FORWARD:
                    target_pool = self.pools.get(carry_to or "")
                    if (target_pool is None or target_pool.closed or target_pool.fy != pool.fy + 1
                            or set(pool.partners) - set(target_pool.partners)):
                        raise Refused("no pool to carry forward to")
            lines: dict[str, int] = {}
            if balance:
                lines[unallocated] = -balance
                lines |= {chart.pool_risk_share(pool.code, p): part for p, part in parts.items() if part}
                if target_pool:
                    lines[chart.pool_unallocated(target_pool.code)] = balance
                    lines |= {chart.pool_contributions(target_pool.code, p): -part for p, part in parts.items() if part}
                self.m.check_limits(lines, date(pool.fy + 1, 3, 31))
            return balance, parts, lines

        def act():  # type: ignore[no-untyped-def]
            return close_year(self.engine, pool.code, on=date(pool.fy + 1, 3, 31), actor="m", carry_to=carry_to)

        done = self.attempt(predict, act)
        if done:
            result, (balance, parts, lines) = done
            assert (result.balance, result.shares.parts) == (balance, parts)
            assert sum(result.shares.parts.values()) == balance  # the risk share is exact
            assert all(part * balance >= 0 for part in result.shares.parts.values())  # and no part the wrong way
            if lines:
                assert lines_of(result.entry) == lines
                self.m.apply(result.entry.entry.id, MEntry("pool-year-end", lines, day=date(pool.fy + 1, 3, 31)))
            else:
                assert result.entry is None
            pool.closed = True
            self.m.closed.add(unallocated)

    # --- people and budgets -------------------------------------------------------------

    @precondition(lambda self: len(self.people) < 3)
    @rule()
    def add_person(self) -> None:
        self.last = None
        ref = f"P{len(self.people) + 1}"
        register_person(self.engine, ref)
        self.people.append(ref)

    @precondition(lambda self: self.people)
    @rule(who=pick, fy=st.sampled_from(YEARS), stream=st.sampled_from(STREAMS),
          amount=st.integers(min_value=-20_000, max_value=60_000).filter(bool),
          source=st.one_of(st.sampled_from(list(FUNDERS)), pick))
    def allocate(self, who, fy, stream, amount, source):  # type: ignore[no-untyped-def]
        person = self.people[who % len(self.people)]
        if isinstance(source, int):
            if not self.pools:
                return
            source = "pool:" + list(self.pools)[source % len(self.pools)]
        key = self.key()
        target = chart.stream_available(person, fy, stream)

        def predict() -> dict[str, int]:
            if source.startswith("pool:"):
                pool = self.pools[source[5:]]
                kinds = {FUNDERS[p] for p in pool.partners}
                if pool.closed or pool.fy != fy:
                    raise Refused("closed pool, or another year's")
                account = chart.pool_unallocated(pool.code)
            else:
                kinds = {FUNDERS[source]}
                account = f"funder:{source}:funding"
            if not kinds & stream.funder_kinds:
                raise Refused("this source cannot fund this stream")
            lines = {target: amount, account: -amount}
            self.m.non_negative.add(target)  # a stream's available account never goes below zero, new or not
            self.m.check_limits(lines, date(fy, 4, 1))
            return lines

        def act():  # type: ignore[no-untyped-def]
            return allocate(self.engine, [Allocation(person, fy, stream, amount, source, date(fy, 4, 1), key=key)],
                            actor="m")[0]

        done = self.attempt(predict, act)
        if done:
            posted, expected = done
            assert lines_of(posted) == expected
            self.m.apply(posted.entry.id, MEntry("allocation", expected, day=date(fy, 4, 1)))
            self.m.non_negative.add(target)
            streams = self.components.setdefault((person, fy), [])
            if stream not in streams:
                streams.append(stream)
            self.last = (act, [posted.entry.id])

    @precondition(lambda self: self.components)
    @rule(which=pick, waterfall=st.booleans(), order=st.permutations(STREAMS), size=st.integers(1, 5))
    def set_rule(self, which, waterfall, order, size):  # type: ignore[no-untyped-def]
        self.last = None
        person, fy = self.budgets()[which % len(self.components)]
        priority = [s for s in order if s in self.components[(person, fy)]][:size] if waterfall else []
        rule_ = Attribution.WATERFALL if priority else Attribution.PROPORTIONAL
        info = set_rule(self.engine, person, fy, rule_, priority)
        assert (info.attribution, list(info.priority)) == (rule_, priority)
        self.rules[(person, fy)] = (rule_, priority)

    def outflow_lines(self, person: str, fy: int, parts: dict[Stream, int]) -> dict[str, int]:
        lines: dict[str, int] = {}
        for s, part in parts.items():
            lines[chart.stream_spent(person, fy, s)] = part
            lines[chart.stream_available(person, fy, s)] = -part
        return lines

    @precondition(lambda self: self.components)
    @rule(which=pick, amount=st.integers(min_value=1, max_value=40_000),
          named=st.one_of(st.none(), st.sampled_from(STREAMS)), hold=st.booleans())
    def spend(self, which, amount, named, hold):  # type: ignore[no-untyped-def]
        person, fy = self.budgets()[which % len(self.components)]
        key = self.key()

        def predict():  # type: ignore[no-untyped-def]
            parts = self.attribute(person, fy, amount, named, date(fy, 5, 1))
            return parts, self.outflow_lines(person, fy, parts)

        def act():  # type: ignore[no-untyped-def]
            return spend(self.engine, person, fy, amount, on=date(fy, 5, 1), actor="m", stream=named, key=key,
                         hold=hold)

        done = self.attempt(predict, act)
        if done:
            out, (parts, lines) = done
            self.check_parts(out.attributed.parts, amount)
            assert out.attributed.parts == parts
            (posted,) = out.posted
            assert lines_of(posted) == lines
            self.m.apply(posted.entry.id, MEntry("spend", lines, posted=not hold, day=date(fy, 5, 1)))
            if hold:
                self.holds[posted.entry.id] = MHold(person, fy, parts)
            self.last = (act, [posted.entry.id])

    @precondition(lambda self: self.holds)
    @rule(which=pick, how=st.sampled_from(["post", "part", "void"]), share=st.integers(min_value=1, max_value=100))
    def resolve_hold(self, which, how, share):  # type: ignore[no-untyped-def]
        self.last = None
        hold_id = sorted(self.holds)[which % len(self.holds)]
        hold = self.holds.pop(hold_id)
        held = self.m.entries[hold_id].lines
        total = sum(hold.parts.values())
        self.m.entries[hold_id].resolved = True
        if how == "void":
            journal.void_hold(self.engine, hold_id, actor="m", effective_date=LATER)
            self.m.release(held)
            return
        amount = total if how == "post" else max(1, total * share // 100)
        posted = journal.post_hold(self.engine, hold_id, actor="m", effective_date=LATER,
                                   amount=None if how == "post" else amount)
        streams = list(hold.parts)
        parts = dict(zip(streams, model_split(amount, [hold.parts[s] for s in streams])))
        assert all(p >= 0 for p in parts.values()) and sum(parts.values()) == amount  # the partial split is exact
        lines = {a: v for a, v in self.outflow_lines(hold.person, hold.fy, parts).items() if v}
        assert lines_of(posted) == lines
        self.m.release(held)
        self.m.apply(posted.entry.id, MEntry("spend", lines, day=LATER))

    @precondition(lambda self: self.components)
    @rule(which=pick, amount=st.integers(min_value=1, max_value=30_000),
          named=st.one_of(st.none(), st.sampled_from(STREAMS)))
    def recover(self, which, amount, named):  # type: ignore[no-untyped-def]
        person, fy = self.budgets()[which % len(self.components)]
        key = self.key()

        def predict():  # type: ignore[no-untyped-def]
            parts = self.attribute(person, fy, amount, named, date(fy, 9, 1))
            per_stream = []
            for s, part in parts.items():
                account = chart.stream_available(person, fy, s)
                weights = {src: net for src, net in sorted(self.m.sources(account).items()) if net > 0}
                shares = model_split(part, list(weights.values()))
                assert sum(shares) == part and all(x >= 0 for x in shares)  # recovery by source is exact
                lines = {src: x for src, x in zip(weights, shares) if x}
                lines[account] = -part
                self.m.check_open(lines)
                per_stream.append(lines)
            return parts, per_stream

        def act():  # type: ignore[no-untyped-def]
            return recover(self.engine, person, fy, amount, on=date(fy, 9, 1), actor="m", stream=named, key=key)

        done = self.attempt(predict, act)
        if done:
            out, (parts, per_stream) = done
            self.check_parts(out.attributed.parts, amount)
            assert out.attributed.parts == parts
            assert [lines_of(p) for p in out.posted] == per_stream
            for posted, lines in zip(out.posted, per_stream):
                self.m.apply(posted.entry.id, MEntry("recovery", lines, day=date(fy, 9, 1)))
            self.last = (act, [out.posted[0].entry.id])  # a replay finds the first entry under the key

    # --- reversals and replays -------------------------------------------------------------

    @precondition(lambda self: self.m.entries)
    @rule(which=pick)
    def reverse(self, which):  # type: ignore[no-untyped-def]
        ids = sorted(self.m.entries)
        entry_id = ids[which % len(ids)]
        entry = self.m.entries[entry_id]
        mirror = {a: -v for a, v in entry.lines.items()}
        if entry.reversed:  # asking again under the same (default) key replays the reversal: nothing new
            before = snapshot(self.engine)
            again = journal.reverse(self.engine, entry_id, actor="m", effective_date=LATER)
            assert again.replayed and again.entry.reverses == entry_id and snapshot(self.engine) == before
            self.last = None
            return

        def predict() -> dict[str, int]:
            if not entry.posted:
                raise Refused("a hold is voided or posted, not reversed")
            self.m.check_limits(mirror, LATER)
            return mirror

        def act():  # type: ignore[no-untyped-def]
            return journal.reverse(self.engine, entry_id, actor="m", effective_date=LATER)

        done = self.attempt(predict, act)
        if done:
            posted, expected = done
            assert lines_of(posted) == expected and posted.entry.reverses == entry_id
            entry.reversed = True
            self.m.apply(posted.entry.id, MEntry(entry.kind, expected, day=LATER))
            self.last = (act, [posted.entry.id])

    @precondition(lambda self: self.last is not None)
    @rule()
    def replay(self) -> None:
        act, ids = self.last  # type: ignore[misc]
        before = snapshot(self.engine)
        result = act()
        posted = result.posted if hasattr(result, "posted") else [result]
        assert [p.entry.id for p in posted][:1] == ids[:1] and all(p.replayed for p in posted)
        assert snapshot(self.engine) == before, "a replay wrote something"

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def books_hold(self) -> None:
        found = assert_books_hold(self.engine)  # 1, 2 and 7, from the raw tables
        stored = {c: (f.balance, f.pending_debits, f.pending_credits) for c, f in found.items()}
        modelled = {c: (self.m.bal[c], self.m.held_dr[c], self.m.held_cr[c]) for c in stored}
        assert stored == modelled, {c: (stored[c], modelled[c]) for c in stored if stored[c] != modelled[c]}
        known = {c for c, v in self.m.bal.items() if v} | {c for c, v in self.m.held_dr.items() if v}
        assert known <= set(stored)
        for account in self.m.non_negative:  # the model's own view of limits agrees, on every day
            assert self.m.available(account) >= 0, account
            for day in self.m.days_from(account, date.min):
                assert self.m.available_on(account, day) >= 0, (account, day)

    @invariant()
    def pools_reconcile(self) -> None:
        for pool in self.pools.values():
            view = pool_view(self.engine, pool.code)
            assert view.partner_equity == view.unallocated + view.allocated_out - view.recovered_in  # 3
            unallocated = chart.pool_unallocated(pool.code)
            equity = sum(-self.m.bal[f(pool.code, p)] for p in pool.partners
                         for f in (chart.pool_contributions, chart.pool_risk_share))
            assert (view.unallocated, view.allocated_out, view.recovered_in, view.partner_equity) == (
                self.m.bal[unallocated], -self.m.by_kind[(unallocated, "allocation")],
                self.m.by_kind[(unallocated, "recovery")], equity)
            assert (view.pool.closed_on is not None) == pool.closed
            memo = [p.share_of_allocations for p in view.partners]
            assert sum(memo) == view.allocated_out - view.recovered_in or not any(p.contributed for p in view.partners)

    @invariant()
    def budgets_reconcile(self) -> None:
        for person in self.people:
            for f in budget_view(self.engine, person):
                assert f.allocated == f.spent + f.recovered + f.available + f.held  # 4
                avail, spent = f.available_account, f.spent_account
                assert (f.allocated, f.spent, f.recovered, f.held, f.available, f.spent_balance) == (
                    self.m.by_kind[(avail, "allocation")], -self.m.by_kind[(avail, "spend")],
                    -self.m.by_kind[(avail, "recovery")], self.m.held_cr[avail], self.m.available(avail),
                    self.m.bal[spent])
                assert f.stream in self.components[(person, f.fy)]

    @invariant()
    def reconciles(self) -> None:
        result = reconcile(self.engine)
        assert result.ok, result.differences


@pytest.fixture(autouse=True, scope="module")
def _databases_dropped_at_the_end(databases):  # type: ignore[no-untyped-def]
    """The machine makes its own databases (one per example); this lets the session fixture clean up."""
    yield


BudgetMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=20, deadline=None)
TestBudgetMachine = BudgetMachine.TestCase
