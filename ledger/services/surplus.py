"""Direct payment accounts: what the person pays in and spends, and recovering a surplus.

Accounts are those of ledger/chart.py (person:P:dp-account, dp-spent, dp-contributions).
The rule is ledger/rules/surplus.py; this module gathers its inputs and posts its decision, in one
transaction, keyed (`surplus:<person>:<date>` unless a key is given), and records it in
`surplus_recoveries`. A recovery posts, all or nothing:

  refund  (kind "dp-refund")  Dr person:P:dp-contributions  Cr person:P:dp-account         the refund first
  return  (kind "payment")    Dr <stream>:available  Cr <stream>:spent   per stream part   (a negative payment:
                              Dr bank:<code>  Cr person:P:dp-account    the cash comes back  the DP paid more
                                                                                             than was needed)
  recover (kind "recovery")   Dr each source's funding  Cr <stream>:available              back to the funders,
                              split by what each source allocated (as `ipb budget recover`)  unless kept

so for every stream allocated = spent + recovered + available + held still holds, exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, insert, select

from ledger import chart
from ledger.calendar import financial_year_of
from ledger.chart import EntryKind
from ledger.domain import Stream
from ledger.errors import InvalidInput, NotAllowed, UnknownParty
from ledger.journal import Draft, Line
from ledger.models import journal_entries, people
from ledger.models.payments import paying_accounts, payment_schedules, payments, surplus_recoveries
from ledger.money import format_amount
from ledger.rules.params import params_for_year
from ledger.rules.surplus import SurplusDecision, SurplusInput, decide
from ledger.services.budgets import component_sources
from ledger.services.journal import Posted, Request, new_key, write_in
from ledger.split import split
from ledger.storage import lookup, reads
from ledger.storage.engine import reading


@dataclass(frozen=True, slots=True)
class DpMovement:
    """A line of a person's monitoring return: what they spent from their DP account (`spent`), or the
    contribution they paid into it."""

    person: str
    amount: int
    on: date
    spent: bool
    key: str | None = None
    memo: str = ""


def record_spend(engine: Engine, person: str, amount: int, *, on: date, actor: str, key: str | None = None,
                 memo: str = "") -> Posted:
    """What the person reports spending from their DP account (from a monitoring return)."""
    return record_returns(engine, [DpMovement(person, amount, on, True, key, memo)], actor=actor)[0]


def record_contribution(engine: Engine, person: str, amount: int, *, on: date, actor: str,
                        key: str | None = None, memo: str = "") -> Posted:
    """The person paid their own contribution into the DP account."""
    return record_returns(engine, [DpMovement(person, amount, on, False, key, memo)], actor=actor)[0]


def record_returns(engine: Engine, movements: Sequence[DpMovement], *, actor: str) -> list[Posted]:
    """Many people's spend and contributions (a period's monitoring returns), posted in the order given in one
    transaction: all of them, or none."""
    requests = [_dp_request(m) for m in movements]
    with engine.begin() as conn:
        found = reads.account_ids(conn, {chart.dp_account(m.person) for m in movements})
        for m in movements:
            if chart.dp_account(m.person) not in found:
                raise UnknownParty(f"{m.person} has no direct payment account; add a DP schedule first",
                                   person=m.person)
        return write_in(conn, requests, actor=actor)


def _dp_request(m: DpMovement) -> Request:
    if m.amount <= 0:
        what = "spend" if m.spent else "a contribution"
        raise InvalidInput(f"{m.person}: {what} of {format_amount(m.amount)} on {m.on}: {what} must be more than 0.00",
                           person=m.person, amount=m.amount)
    if m.spent:
        lines = (Line(chart.dp_spent(m.person), m.amount), Line(chart.dp_account(m.person), -m.amount))
        kind, memo = EntryKind.DP_SPEND, m.memo or f"{m.person} spent from DP account"
    else:
        lines = (Line(chart.dp_account(m.person), m.amount), Line(chart.dp_contributions(m.person), -m.amount))
        kind, memo = EntryKind.DP_CONTRIBUTION, m.memo or f"{m.person} contribution paid in"
    return Request(Draft(lines, m.on, kind, memo, meta={"person": m.person}), m.key or new_key())


@dataclass(frozen=True, slots=True)
class Finding:
    person: str
    fy: int
    bank: str | None  # the paying account the surplus goes back to
    weeks: int
    decision: SurplusDecision


@dataclass(frozen=True, slots=True)
class Recovery:
    finding: Finding
    key: str
    entries: tuple[int, ...] = ()
    dry_run: bool = True
    replayed: bool = False
    kept_in_budget: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _finding(conn: Connection, person: str, on: date, weeks: int | None) -> Finding:
    person_id = lookup.person_id(conn, person)
    found = reads.account_rows(conn, [chart.dp_account(person), chart.dp_contributions(person)])
    if chart.dp_account(person) not in found:
        raise UnknownParty(f"{person} has no direct payment account", person=person)
    fy = financial_year_of(on).start.year
    if weeks is None:
        weeks = params_for_year(fy).contingency_weeks.value
    schedules = conn.execute(select(payment_schedules).where(payment_schedules.c.person_id == person_id)
                             .order_by(payment_schedules.c.id)).all()
    weekly = sum(s.weekly_amount for s in schedules
                 if s.active and s.first_due <= on and (s.ends_on is None or s.ends_on >= on))
    bank = None
    if schedules:
        bank = conn.execute(select(paying_accounts.c.code)
                            .where(paying_accounts.c.id == schedules[-1].paying_account_id)).scalar_one()
    # judged as the accounts stood at the end of `on`, the date the recovery is posted with
    account, contributions = (reads.account_as_of(conn, found[code], on)
                              for code in (chart.dp_account(person), chart.dp_contributions(person)))
    given = SurplusInput(
        balance=account.normal_balance,
        weekly_cost=weekly,
        contingency_weeks=weeks,
        contributions_held=max(contributions.normal_balance, 0),
        stream_weights=_stream_weights(conn, person_id, fy),
    )
    return Finding(person, fy, bank, weeks, decide(given))


def _stream_weights(conn: Connection, person_id: int, fy: int) -> dict[str, int]:
    """Per stream: what settled (not returned) DP payments of the year put into the DP account, less what
    earlier surplus recoveries of the year gave back."""
    settled = conn.execute(select(payments.c.settlement_entry_id).where(
        payments.c.person_id == person_id, payments.c.fy == fy, payments.c.payee_kind == "person",
        payments.c.status == "settled")).scalars().all()
    weights: dict[str, int] = defaultdict(int)
    for entry in reads.load_entries(conn, settled).values():
        for item in entry.meta.get("parts", "").split(","):
            if item:
                stream, pence = item.split("=")
                weights[stream] += int(pence)
    for parts in conn.execute(select(surplus_recoveries.c.parts).where(surplus_recoveries.c.person_id == person_id,
                                                                       surplus_recoveries.c.fy == fy)).scalars():
        for stream, pence in parts.items():
            weights[stream] -= int(pence)
    return {s: w for s, w in weights.items() if w > 0}


def detect(engine: Engine, on: date, *, weeks: int | None = None, person: str | None = None) -> list[Finding]:
    """Every DP account (or one person's) with its contingency and surplus on `on`; nothing is posted."""
    with reading(engine) as conn:
        refs = _dp_people(conn, person)
        if person and not refs:
            raise UnknownParty(f"{person} has no direct payment schedule", person=person)
        return [_finding(conn, ref, on, weeks) for ref in refs]


def _dp_people(conn: Connection, person: str | None = None) -> list[str]:
    query = (select(people.c.ref).join(payment_schedules, payment_schedules.c.person_id == people.c.id)
             .distinct().order_by(people.c.ref))
    if person:
        query = query.where(people.c.ref == person)
    return list(conn.execute(query).scalars())


def recover(engine: Engine, person: str, on: date, *, actor: str, dry_run: bool = False, weeks: int | None = None,
            key: str | None = None, keep_in_budget: bool = False) -> Recovery:
    """Recover a DP surplus: refund the person's over-paid contribution first, return the rest to the
    streams exactly and (unless `keep_in_budget`) on to the funders. `dry_run` posts nothing.

    Keyed: the same key again returns what was recovered then, posting nothing.
    """
    key = key or _key(person, on)
    with engine.begin() as conn:
        done = _recovered(conn, person, key)
        if done is not None:
            return done
        finding = _finding(conn, person, on, weeks)
        if dry_run:
            return Recovery(finding, key, (), True, False, keep_in_budget)
        return _recover_in(conn, finding, on, key, actor, keep_in_budget)


def recover_surpluses(engine: Engine, on: date, *, actor: str, key_prefix: str | None = None,
                      weeks: int | None = None) -> list[Recovery]:
    """Every DP account with a surplus on `on` (as `detect` finds them), each recovered as `recover` recovers one
    and back to the funders, in one transaction: all of them, or none. Keyed per person (`KEY_PREFIX:<person>`,
    else `recover`'s key): run again, it returns what was recovered then, posting nothing."""
    with engine.begin() as conn:
        done = []
        for person in _dp_people(conn):
            key = f"{key_prefix}:{person}" if key_prefix else _key(person, on)
            recovered = _recovered(conn, person, key)
            if recovered is None:
                finding = _finding(conn, person, on, weeks)
                if finding.decision.surplus <= 0:
                    continue
                recovered = _recover_in(conn, finding, on, key, actor, keep=False)
            done.append(recovered)
        return done


def _key(person: str, on: date) -> str:
    """A recovery's key unless the caller gives one: the same person on the same day recovers once."""
    return f"surplus:{person}:{on.isoformat()}"


def _recovered(conn: Connection, person: str, key: str) -> Recovery | None:
    """What was recovered under `key` before, if it was."""
    done = conn.execute(select(surplus_recoveries).where(surplus_recoveries.c.idempotency_key == key)).first()
    if done is None:
        return None
    entries = tuple(e for e, in conn.execute(
        select(journal_entries.c.id).where(journal_entries.c.idempotency_key.like(f"{key}:%"))
        .order_by(journal_entries.c.id)))
    decision = SurplusDecision(done.dp_balance, done.contingency, done.surplus, done.refund,
                               dict(done.parts), done.surplus - done.refund - done.recovered,
                               tuple(done.reasons), done.rule_version)
    return Recovery(Finding(person, done.fy, None, 0, decision), key, entries, False, True)


def _recover_in(conn: Connection, finding: Finding, on: date, key: str, actor: str, keep: bool) -> Recovery:
    person, decision = finding.person, finding.decision
    if decision.refund == 0 and not decision.parts:
        raise NotAllowed(f"{person} has no surplus to recover: {decision.reasons[-1]}", person=person)
    if decision.parts and finding.bank is None:
        raise NotAllowed(f"{person} has no paying account to recover into", person=person)
    posted = write_in(conn, _requests(conn, finding, key, on, keep), actor=actor)
    conn.execute(insert(surplus_recoveries).values(
        idempotency_key=key, person_id=lookup.person_id(conn, person),
        fy=finding.fy, recovered_on=on, dp_balance=decision.balance, contingency=decision.contingency,
        surplus=decision.surplus, refund=decision.refund, recovered=decision.recovered,
        parts=dict(decision.parts), reasons=list(decision.reasons),
        rule_version=f"{decision.rule} weeks={finding.weeks}", actor=actor,
        recorded_at=datetime.now(UTC).replace(tzinfo=None)))
    return Recovery(finding, key, tuple(p.entry.id for p in posted), False, False, keep)


def _requests(conn: Connection, finding: Finding, key: str, on: date, keep: bool) -> list[Request]:
    person, fy, decision = finding.person, finding.fy, finding.decision
    meta = {"person": person, "fy": str(fy), "surplus": str(decision.surplus), "rule": decision.rule,
            "weeks": str(finding.weeks)}
    requests = []
    if decision.refund:
        lines = (Line(chart.dp_contributions(person), decision.refund),
                 Line(chart.dp_account(person), -decision.refund))
        requests.append(Request(Draft(lines, on, EntryKind.DP_REFUND, f"refund of {person}'s over-paid contribution",
                                      meta=meta), f"{key}:refund"))
    if decision.parts:
        total = decision.recovered
        lines = []
        for stream, part in decision.parts.items():
            s = Stream(stream)
            lines += [Line(chart.stream_available(person, fy, s), part), Line(chart.stream_spent(person, fy, s), -part)]
        lines += [Line(chart.bank(finding.bank or ""), total), Line(chart.dp_account(person), -total)]
        parts = ",".join(f"{s}={p}" for s, p in decision.parts.items())
        requests.append(Request(Draft(tuple(lines), on, EntryKind.PAYMENT, f"DP surplus returned from {person}",
                                      meta={**meta, "amount": str(-total), "parts": parts}), f"{key}:return"))
        if not keep:
            for stream, part in decision.parts.items():
                s = Stream(stream)
                available = chart.stream_available(person, fy, s)
                sources = {src: net for src, net in component_sources(conn, available).items() if net > 0}
                if not sources:
                    continue  # nothing allocated it (should not happen): it stays available
                shares = split(part, list(sources.values()))
                rec = [Line(src, share) for src, share in zip(sources, shares) if share]
                rec.append(Line(chart.stream_available(person, fy, s), -part))
                requests.append(Request(Draft(tuple(rec), on, EntryKind.RECOVERY,
                                              f"DP surplus recovered from {person} {s}",
                                              meta={**meta, "stream": stream, "amount": str(part)}),
                                        f"{key}:recover:{stream}"))
    return requests
