"""Integrated personal budgets: allocate streams from funders or pools, spend and recover by attribution.

Accounts of person P's budget for financial year 2025/26, stream S:
  person:P:2025-26:S:available    asset, never below zero: allocated and not yet spent or recovered
  person:P:2025-26:S:spent        expense: what the stream has paid for
Entry kinds keep the story: "allocation" (from a funder's funding account or a pool's
unallocated account; a negative allocation reduces the budget), "spend" (logged against the budget),
"payment" (paid out of it by a payment run: ledger/services/payment_runs.py), "recovery".
Spend and payments both leave the budget through the spent account, so for every stream:
allocated = spent + recovered + available + held.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, select, tuple_, update

from ledger import chart
from ledger.calendar import financial_year, in_year
from ledger.chart import EntryKind
from ledger.domain import Attribution, Stream
from ledger.errors import InsufficientFunds, InvalidInput, NotAllowed, UnknownParty
from ledger.journal import AccountState, AccountType, Draft, Line, Phase, SealedEntry
from ledger.journal import spendable as spendable_on
from ledger.models import accounts, budget_components, budgets, journal_entries, people, postings
from ledger.rules.attribution import Attributed, attribute
from ledger.services.accounts import AccountSpec, ensure_in
from ledger.services.journal import Posted, Request, new_key, replay_of, write_in
from ledger.split import split
from ledger.storage import reads
from ledger.storage.driver import Query
from ledger.storage.lookup import funder_in, open_pool_in, person_ids


@dataclass(frozen=True, slots=True)
class Allocation:
    person: str
    fy: int
    stream: Stream
    amount: int  # pence; negative reduces the budget
    source: str  # a funder code, or pool:<code>
    on: date
    key: str | None = None
    memo: str = ""
    meta: tuple[tuple[str, str], ...] = ()  # extra facts for the entry, e.g. the rule version used


def allocate(engine: Engine, allocations: Sequence[Allocation], *, actor: str) -> list[Posted]:
    """Allocate stream components to people's budgets: all of them in one transaction, or none."""
    with engine.begin() as conn:
        return allocate_in(conn, allocations, actor=actor)


def allocate_in(conn: Connection, allocations: Sequence[Allocation], *, actor: str) -> list[Posted]:
    id_of = person_ids(conn, (a.person for a in allocations))
    sources = {src: _source_account(conn, src) for src in {a.source for a in allocations}}
    for item in allocations:
        _check_allocation(item, sources[item.source])
    # in the order given, not a set's: the order of a budget's streams decides who gets an odd penny
    _ensure_components(conn, id_of, list(dict.fromkeys((a.person, a.fy, a.stream) for a in allocations)))
    requests = [Request(_allocation_draft(a, sources[a.source].account), a.key or new_key()) for a in allocations]
    return write_in(conn, requests, actor=actor)


@dataclass(frozen=True, slots=True)
class _Source:
    account: str
    kinds: frozenset  # funder kinds that stand behind it
    pool_fy: int | None


def _source_account(conn: Connection, source: str) -> _Source:
    pool = chart.source_pool(source)
    if pool is not None:
        info = open_pool_in(conn, pool)
        return _Source(chart.pool_unallocated(info.code), frozenset(info.partner_kinds.values()), info.fy)
    funder = funder_in(conn, source)
    return _Source(chart.funding(funder.code), frozenset({funder.kind}), None)


def _check_allocation(item: Allocation, source: _Source) -> None:
    if item.amount == 0:
        raise InvalidInput("an allocation of 0.00 allocates nothing", person=item.person)
    in_year(item.on, financial_year(item.fy))
    if not source.kinds & item.stream.funder_kinds:
        raise NotAllowed(
            f"{item.source} cannot fund the {item.stream} stream: it is funded by "
            f"{' or '.join(sorted(item.stream.funder_kinds))}",
            source=item.source, stream=str(item.stream),
        )
    if source.pool_fy is not None and source.pool_fy != item.fy:
        raise NotAllowed(
            f"pool {item.source} is for {financial_year(source.pool_fy).label}; the budget is for "
            f"{financial_year(item.fy).label}", source=item.source,
        )


def _allocation_draft(item: Allocation, source_account: str) -> Draft:
    target = chart.stream_available(item.person, item.fy, item.stream)
    what = "allocation" if item.amount > 0 else "reduction"
    return Draft(
        (Line(target, item.amount), Line(source_account, -item.amount)),
        item.on,
        EntryKind.ALLOCATION,
        item.memo or f"{item.stream} {what} {financial_year(item.fy).label} from {item.source}",
        meta={"person": item.person, "fy": str(item.fy), "stream": str(item.stream), "source": item.source,
              **dict(item.meta)},
    )


def _ensure_components(conn: Connection, id_of: dict[str, int], wanted: Sequence[tuple[str, int, Stream]]) -> None:
    budget_ids, made = _ensure_budgets(conn, {(id_of[p], fy) for p, fy, _ in wanted})
    specs = []
    for person, fy, stream in wanted:
        opened = financial_year(fy).start
        specs.append(AccountSpec(chart.stream_available(person, fy, stream), AccountType.ASSET, opened,
                                 non_negative=True))
        specs.append(AccountSpec(chart.stream_spent(person, fy, stream), AccountType.EXPENSE, opened))
    ids = ensure_in(conn, specs)
    rows = [
        {"budget_id": budget_ids[(id_of[p], fy)], "stream": str(s),
         "available_account_id": ids[chart.stream_available(p, fy, s)],
         "spent_account_id": ids[chart.stream_spent(p, fy, s)]}
        for p, fy, s in wanted
    ]
    older = [r for r in rows if r["budget_id"] not in made]  # a budget made just now has no components yet
    existing = set()
    for part in reads.chunks(older):
        existing |= set(conn.execute(
            select(budget_components.c.available_account_id)
            .where(budget_components.c.available_account_id.in_([r["available_account_id"] for r in part]))
        ).scalars())
    new = [r for r in rows if r["available_account_id"] not in existing]
    if new:
        conn.execute(insert(budget_components), new)


def _ensure_budgets(conn: Connection, wanted: set[tuple[int, int]]) -> tuple[dict[tuple[int, int], int], set[int]]:
    """(person id, fy) -> budget id for each of `wanted`, making those missing; and the ids of those made."""
    def lookup(keys: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
        found = {}
        for part in reads.chunks(keys):
            rows = conn.execute(
                select(budgets.c.person_id, budgets.c.fy, budgets.c.id)
                .where(tuple_(budgets.c.person_id, budgets.c.fy).in_(part))
            )
            found.update({(r.person_id, r.fy): r.id for r in rows})
        return found

    found = lookup(sorted(wanted))
    missing = sorted(wanted - found.keys())
    if not missing:
        return found, set()
    rows = [{"person_id": p, "fy": fy, "attribution": str(Attribution.PROPORTIONAL), "priority": []}
            for p, fy in missing]
    if conn.dialect.insert_executemany_returning:  # SQLite 3.35+, PostgreSQL: the ids come back with the insert
        made = {(r.person_id, r.fy): r.id
                for r in conn.execute(insert(budgets).returning(budgets.c.person_id, budgets.c.fy, budgets.c.id), rows)}
    else:
        conn.execute(insert(budgets), rows)
        made = lookup(missing)
    return found | made, set(made.values())


# --- a budget and its streams -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetInfo:
    id: int
    person: str
    fy: int
    attribution: Attribution
    priority: tuple[Stream, ...]
    streams: dict[Stream, AccountState]  # the available account of each stream
    # what each stream can pay out on the day asked of `budget_in` without being below zero on that day or any
    # later one (a spend in April cannot be paid from an allocation dated in June); with no day, its available
    spendable: dict[Stream, int]


# a budget's reads, built once: every spend and payment reads the budget it leaves
_BUDGET_OF = Query(select(budgets).join(people, people.c.id == budgets.c.person_id)
                   .where(people.c.ref == bindparam("ref"), budgets.c.fy == bindparam("fy")), ("ref", "fy"))
_STREAMS_OF = Query(select(budget_components.c.stream).where(budget_components.c.budget_id == bindparam("budget"))
                    .order_by(budget_components.c.id), ("budget",))


def budget_in(conn: Connection, person: str, fy: int, on: date | None = None) -> BudgetInfo:
    row = next(iter(_BUDGET_OF.rows(conn, (person, fy))), None)
    if row is None:
        raise UnknownParty(f"{person} has no budget for {financial_year(fy).label}; allocate one first",
                           person=person, fy=fy)
    streams = [Stream(s.stream) for s in _STREAMS_OF.rows(conn, (row.id,))]
    rows = reads.account_rows(conn, [chart.stream_available(person, fy, s) for s in streams])
    states = {s: rows[chart.stream_available(person, fy, s)].state for s in streams}
    if on is None:
        can_pay = {s: state.available for s, state in states.items()}
    else:
        later = reads.later_movements(conn, rows, on)
        can_pay = {s: spendable_on(state, later.get(state.code, {}), on) for s, state in states.items()}
    return _info(row, person, fy, states, can_pay)


def budgets_in(conn: Connection, wanted: Iterable[tuple[str, int]]) -> dict[tuple[str, int], BudgetInfo]:
    """`budget_in` for many (person, year) at once: one query a table, not one a person and year. A budget that
    does not exist, or has no streams, is not in the answer (`budget_in` says why)."""
    found: dict[tuple[str, int], tuple[Any, list[Stream]]] = {}
    for row in conn.execute(
            select(budgets.c.id, budgets.c.fy, budgets.c.attribution, budgets.c.priority, budget_components.c.stream,
                   people.c.ref)
            .join(people, people.c.id == budgets.c.person_id)
            .join(budget_components, budget_components.c.budget_id == budgets.c.id)
            .where(tuple_(people.c.ref, budgets.c.fy).in_(sorted(set(wanted)))).order_by(budget_components.c.id)):
        found.setdefault((row.ref, row.fy), (row, []))[1].append(Stream(row.stream))
    rows = reads.account_rows(conn, [chart.stream_available(ref, fy, s) for (ref, fy), (_, streams) in found.items()
                                     for s in streams])
    out = {}
    for (ref, fy), (row, streams) in found.items():
        states = {s: rows[chart.stream_available(ref, fy, s)].state for s in streams}
        out[ref, fy] = _info(row, ref, fy, states, {s: state.available for s, state in states.items()})
    return out


def _info(row: Any, person: str, fy: int, states: dict[Stream, AccountState], can_pay: dict[Stream, int]) -> BudgetInfo:
    """A budget as read: its row (id, attribution, priority), its streams' account states and what each can pay."""
    return BudgetInfo(row.id, person, fy, Attribution(row.attribution), tuple(Stream(s) for s in row.priority),
                      states, can_pay)


def set_rule(engine: Engine, person: str, fy: int, rule: Attribution, priority: Sequence[Stream] = ()) -> BudgetInfo:
    """How spend naming no stream is shared: in proportion to what is available, or by a priority waterfall."""
    if rule is Attribution.WATERFALL and not priority:
        raise InvalidInput("a waterfall needs the streams in priority order, e.g. care-act,nhs-phb")
    with engine.begin() as conn:
        info = budget_in(conn, person, fy)
        unknown = [str(s) for s in priority if s not in info.streams]
        if unknown:
            raise InvalidInput(f"{person}'s budget has no stream {unknown[0]}; it has {', '.join(info.streams)}")
        conn.execute(
            update(budgets).where(budgets.c.id == info.id)
            .values(attribution=str(rule), priority=[str(s) for s in priority])
        )
        return budget_in(conn, person, fy)


# --- money leaving a budget ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outflow:
    posted: list[Posted]
    attributed: Attributed


def spend(
    engine: Engine, person: str, fy: int, amount: int, *, on: date, actor: str, stream: Stream | None = None,
    key: str | None = None, memo: str = "", hold: bool = False, meta: dict[str, str] | None = None,
) -> Outflow:
    """Spend from a budget. The stream named pays, or the budget's attribution rule shares it out.

    With `hold`, the spend is a pending hold (a commitment) that reduces what is available
    until it is posted or voided.
    """
    with engine.begin() as conn:
        return spend_in(conn, person, fy, amount, on=on, actor=actor, stream=stream, key=key, memo=memo,
                        hold=hold, meta=meta)


def spend_in(
    conn: Connection, person: str, fy: int, amount: int, *, on: date, actor: str, stream: Stream | None = None,
    key: str | None = None, memo: str = "", hold: bool = False, meta: dict[str, str] | None = None,
    rule: Attribution | None = None,
) -> Outflow:
    """`spend` inside a caller's transaction (e.g. logging spend against a plan line).

    `rule` overrides the budget's attribution rule for this spend (a plan line may name one);
    a waterfall uses the budget's priority order. A key already used for the same spend
    returns the original entry and posts nothing.
    """
    in_year(on, financial_year(fy))
    key = key or new_key()
    replay = replay_of(conn, key, lambda e: _same_outflow(e, EntryKind.SPEND, person, fy, amount))
    if replay:
        return Outflow([replay], _attribution_of(replay.entry))
    info = budget_in(conn, person, fy, on)
    attributed = _attribute(info, amount, stream, rule, on)
    lines = []
    for s, part in attributed.parts.items():
        lines += [Line(chart.stream_spent(person, fy, s), part), Line(chart.stream_available(person, fy, s), -part)]
    draft = Draft(tuple(lines), on, EntryKind.SPEND, memo or f"spend for {person}",
                  Phase.PENDING if hold else Phase.POSTED,
                  meta=_outflow_meta(person, fy, amount, attributed, meta))
    return Outflow(write_in(conn, [Request(draft, key)], actor=actor), attributed)


def recover(
    engine: Engine, person: str, fy: int, amount: int, *, on: date, actor: str, stream: Stream | None = None,
    key: str | None = None, memo: str = "",
) -> Outflow:
    """Return unspent money from a budget to where it came from.

    The streams bear it by the budget's rule (or the stream named); within a stream it goes
    back to each source in proportion to what that source allocated, exact to the penny.
    One entry per stream, so every entry names one stream and its sources.
    """
    in_year(on, financial_year(fy))
    key = key or new_key()
    with engine.begin() as conn:
        replay = replay_of(conn, f"{key}:1", lambda e: _same_outflow(e, EntryKind.RECOVERY, person, fy, amount))
        if replay:
            return Outflow([replay], _attribution_of(replay.entry))
        info = budget_in(conn, person, fy, on)
        attributed = _attribute(info, amount, stream, on=on)
        requests = []
        for index, (s, part) in enumerate(attributed.parts.items(), 1):
            sources = component_sources(conn, chart.stream_available(person, fy, s))
            weights = {src: net for src, net in sources.items() if net > 0}
            shares = split(part, list(weights.values()))
            lines = [Line(src, share) for src, share in zip(weights, shares) if share]
            lines.append(Line(chart.stream_available(person, fy, s), -part))
            meta = _outflow_meta(person, fy, amount, attributed, {"stream": str(s)})
            draft = Draft(tuple(lines), on, EntryKind.RECOVERY, memo or f"recovery from {person} {s}", meta=meta)
            requests.append(Request(draft, f"{key}:{index}"))
        return Outflow(write_in(conn, requests, actor=actor), attributed)


def _attribute(info: BudgetInfo, amount: int, stream: Stream | None, rule: Attribution | None = None,
               on: date | None = None) -> Attributed:
    try:
        return attribute(amount, info.spendable, named=stream, rule=rule or info.attribution, priority=info.priority)
    except InsufficientFunds as refused:
        if on is None or all(info.spendable[s] == state.available for s, state in info.streams.items()):
            raise
        # the stream has more now than it can pay out on `on`: say why the figure is lower than `budget show`'s
        raise InsufficientFunds(f"{refused.reason}; available on {on}: what the stream holds on that day and "
                                f"keeps on every later day", **refused.details, on=on.isoformat()) from None


def _outflow_meta(person: str, fy: int, amount: int, attributed: Attributed,
                  extra: dict[str, str] | None) -> dict[str, str]:
    parts = ",".join(f"{s}={p}" for s, p in attributed.parts.items())
    return {"person": person, "fy": str(fy), "amount": str(amount), "attribution": attributed.rule,
            "parts": parts, "reason": attributed.reason, **(extra or {})}


def _same_outflow(entry: SealedEntry, kind: str, person: str, fy: int, amount: int) -> bool:
    meta = entry.meta
    return (entry.kind, meta.get("person"), meta.get("fy"), meta.get("amount")) == (kind, person, str(fy), str(amount))


def _attribution_of(entry: SealedEntry) -> Attributed:
    parts = dict(item.split("=") for item in entry.meta.get("parts", "").split(",") if item)
    return Attributed({Stream(s): int(p) for s, p in parts.items()}, entry.meta.get("attribution", ""),
                      entry.meta.get("reason", ""))


def component_sources(conn: Connection, available: str) -> dict[str, int]:
    """Net amount each source account has put into a stream (allocations less recoveries)."""
    mine, other = postings.alias(), postings.alias()
    target = accounts.alias()
    rows = conn.execute(
        select(accounts.c.code, func.sum(-other.c.amount))
        .select_from(mine)
        .join(target, and_(target.c.id == mine.c.account_id, target.c.code == available))
        .join(journal_entries, journal_entries.c.id == mine.c.entry_id)
        .join(other, and_(other.c.entry_id == mine.c.entry_id, other.c.account_id != mine.c.account_id))
        .join(accounts, accounts.c.id == other.c.account_id)
        .where(journal_entries.c.kind.in_([EntryKind.ALLOCATION, EntryKind.RECOVERY]), mine.c.pending.is_(False))
        .group_by(accounts.c.code)
        .order_by(accounts.c.code)
    )
    return {code: int(net) for code, net in rows}
