"""`ipb import`: another ledger's transactions, posted into this one in batches, keyed and resumable.

The whole file is mapped and checked before the first write: every account must map to an ipb code
(ledger/formats/import_mapping.py) that exists or, when asked, is opened; every transaction must pass the
posting rules in file date order against the ledger's balances (the parsers have checked the file's own
balance assertions).
Problems are listed together (the first few, and a count), each naming FILE:LINE, and nothing is written.

Then the missing accounts open in one transaction and the transactions post through `journal.post_many`,
a batch per transaction. Transaction N of the file posts under idempotency key `KEY:N` (`KEY:id:ID` when
the file names each transaction uniquely), so a re-run after a failure or a kill skips what was posted
and posts the rest; the same key with other content (another file under the same key) is refused before
anything is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Engine

from ledger import calendar
from ledger.calendar import in_ledger_years
from ledger.canonical import sha256_hex
from ledger.chart import ENTRY_KINDS, EntryKind
from ledger.collector import collector_paused
from ledger.errors import IdempotencyConflict, InvalidInput, LedgerError
from ledger.formats.import_mapping import AccountMapping, Target
from ledger.formats.imported import ImportRefused, SourceLedger, SourceTransaction
from ledger.journal import AccountState, Draft, Line, apply_changes, check_entry
from ledger.models import journal_entries
from ledger.services import journal
from ledger.services.accounts import AccountSpec, open_accounts
from ledger.storage import reads
from ledger.storage.engine import reading

BATCH = 2000  # transactions per database transaction
SHOWN = 10  # problems a refusal lists before it counts the rest
KEY_WIDTH = journal_entries.c.idempotency_key.type.length  # what an entry's idempotency key may hold
MAX_KEY = 120  # leaves room in an idempotency key for ":id:" and the file's own id


@dataclass(frozen=True, slots=True)
class ImportResult:
    key: str
    transactions: int
    postings: int
    opened: tuple[str, ...]  # codes of the accounts opened (to be opened, on a dry run)
    already: int  # transactions an earlier run under the same key had posted
    posted: int
    dry_run: bool


@dataclass(frozen=True, slots=True)
class _Planned:
    draft: Draft
    key: str
    line: int


def file_key(data: bytes) -> str:
    """The default import key: the file's SHA-256, so the same file is the same import."""
    return "import:" + sha256_hex(data)[:32]


class _Problems:
    def __init__(self, name: str) -> None:
        self.name = name
        self.found: list[tuple[int, str]] = []

    def add(self, line: int, why: str) -> None:
        self.found.append((line, why))

    def refuse(self) -> None:
        if not self.found:
            return
        found = sorted(self.found)
        shown = "; ".join(f"{self.name}:{line}: {why}" for line, why in found[:SHOWN])
        more = f"; and {len(found) - SHOWN} more ({len(found)} problems)" if len(found) > SHOWN else ""
        raise ImportRefused(shown + more, file=self.name, line=found[0][0], problems=len(found))


def import_ledger(
    engine: Engine,
    source: SourceLedger,
    *,
    actor: str,
    key: str,
    mapping: AccountMapping | None = None,
    open_missing: bool = False,
    batch: int = BATCH,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Map, check, then post `source`; all or nothing per batch. `progress(done, total)` after each batch.

    The cycle collector is paused throughout (ledger/collector.py): the file's transactions and their drafts
    live until the import ends, and the collector would walk them again and again."""
    with collector_paused():
        if not 0 < len(key) <= MAX_KEY:
            raise InvalidInput(f"an import key has 1 to {MAX_KEY} characters, not {len(key)}", key=key[:MAX_KEY])
        problems = _Problems(source.name)
        first_use = _first_use(source)
        targets = _targets(source, first_use, mapping or AccountMapping(), problems)
        planned = _plan(source, targets, key, problems)
        with reading(engine) as conn, conn.begin():
            rows = reads.account_rows(conn, {target.code for target in targets.values()})
            existing = {code: row.state for code, row in rows.items()}
            closed = reads.closed_ranges(conn)
            done = reads.entries_by_keys(conn, [p.key for p in planned])
        opens = _opens(source, first_use, targets, existing, open_missing, problems)
        _check_replays(source.name, planned, done)
        states = {**existing, **{s.code: AccountState(s.code, s.type, s.currency, False, True) for s in opens}}
        todo = [p for p in planned if p.key not in done]
        _check_rules(todo, states, closed, problems)
        problems.refuse()
        postings = sum(len(p.draft.lines) for p in planned)
        result = ImportResult(key, len(planned), postings, tuple(s.code for s in opens), len(planned) - len(todo), 0,
                              dry_run)
        if dry_run:
            return result
        if opens:
            open_accounts(engine, opens)
        posted = _post(engine, source.name, todo, actor, batch, progress, len(planned) - len(todo), len(planned))
        return replace(result, posted=posted)


def _targets(source: SourceLedger, first_use: dict[str, int], mapping: AccountMapping, problems: _Problems
             ) -> dict[str, Target]:
    """Every account name the file uses (or declares) -> where it goes; a problem for each used one that
    goes nowhere, at the line that first uses it."""
    declared = {account.name: account for account in source.accounts}
    out: dict[str, Target] = {}
    for name in {*declared, *first_use}:
        account = declared.get(name)
        target = mapping.target(name, account.code if account else None)
        if target is not None:
            out[name] = target
        elif name in first_use:
            problems.add(first_use[name], f"account {name!r} is not mapped to an ipb code: add it to a mapping "
                                          "file's [accounts] or [prefixes] (--mapping)")
    return out


def _first_use(source: SourceLedger) -> dict[str, int]:
    first: dict[str, int] = {}
    for transaction in source.transactions:
        for posting in transaction.postings:
            first.setdefault(posting.account, posting.line)
    return first


def _opens(source: SourceLedger, first_use: dict[str, int], targets: dict[str, Target],
           existing: dict[str, AccountState], open_missing: bool, problems: _Problems) -> list[AccountSpec]:
    """The accounts to open: those the file names that the ledger lacks (a problem each, unless asked)."""
    currencies = _currencies(source)
    since = min((t.date for t in source.transactions), default=calendar.today())
    declared_lines = {account.name: account.line for account in source.accounts}
    specs: dict[str, AccountSpec] = {}
    for name, target in sorted(targets.items()):
        if target.code in existing or target.code in specs:
            continue
        line = first_use.get(name) or declared_lines.get(name, 0)
        used = name in first_use
        if not open_missing:
            if used:
                problems.add(line, f"account {target.code} ({name}) is not in the ledger: open it, map it to one "
                                   "that is, or import with --open-accounts")
            continue
        if target.type is None:
            if used:
                problems.add(line, f"what type of account {name} is cannot be told from its name: give its "
                                   "type in the mapping file")
            continue
        specs[target.code] = AccountSpec(target.code, target.type, since, currencies.get(name, "GBP"), name=name)
    return list(specs.values())


def _currencies(source: SourceLedger) -> dict[str, str]:
    out = {a.name: a.currency.upper() for a in source.accounts if a.currency}
    for transaction in source.transactions:
        for posting in transaction.postings:
            out.setdefault(posting.account, posting.currency.upper())
    return out


def _plan(source: SourceLedger, targets: dict[str, Target], key: str, problems: _Problems) -> list[_Planned]:
    """Each transaction as a draft and its key, in the order they post (by date; file order within a day)."""
    ids = [t.meta.get("key") or t.source_id for t in source.transactions]  # a CSV's own key column, else its id
    counts = Counter(sid for sid in ids if sid)
    planned = []
    for number, (transaction, sid) in enumerate(zip(source.transactions, ids), 1):
        own = f"{key}:id:{sid}" if sid and counts[sid] == 1 else f"{key}:{number}"
        if len(own) > KEY_WIDTH:
            own = f"{key}:h:{sha256_hex(own.encode())[:32]}"
        draft = _draft(transaction, targets, problems, source.name)
        if draft is not None:
            planned.append(_Planned(draft, own, transaction.line))
    planned.sort(key=lambda p: p.draft.effective_date)
    return planned


def _draft(transaction: SourceTransaction, targets: dict[str, Target], problems: _Problems,
           name: str) -> Draft | None:
    if any(posting.account not in targets for posting in transaction.postings):
        return None  # its unmapped account is a problem already
    try:
        in_ledger_years(transaction.date)
        lines = tuple(Line(targets[p.account].code, p.amount, p.currency.upper()) for p in transaction.postings
                      if p.amount)
    except LedgerError as exc:
        problems.add(transaction.line, exc.reason)
        return None
    kind = transaction.kind if transaction.kind in ENTRY_KINDS else EntryKind.MANUAL.value
    memo = transaction.memo
    if transaction.opening:
        kind, memo = EntryKind.MANUAL.value, memo if "opening" in memo.lower() else f"opening balances {memo}".strip()
    meta = {"source": transaction.source_id or f"{name}:{transaction.line}"}
    if transaction.meta.get("ipb-hash"):
        meta["source-hash"] = transaction.meta["ipb-hash"]
    return Draft(lines, transaction.date, kind, memo, meta=meta)


def _check_replays(name: str, planned: Sequence[_Planned], done: dict[str, tuple[int, str]]) -> None:
    """An earlier run under the same key posted other content: another file, or this one edited since."""
    clashes = [item for item in planned
               if item.key in done and done[item.key][1] != item.draft.content_hash()]
    if clashes:
        first = clashes[0]
        raise IdempotencyConflict(
            f"{name}:{first.line}: import key {first.key!r} already posted entry {done[first.key][0]} with other "
            f"content ({len(clashes)} such): another file under the same --key, or this one changed since",
            file=name, line=first.line, key=first.key, conflicts=len(clashes))


def _check_rules(todo: Sequence[_Planned], states: dict[str, AccountState], closed: list, problems: _Problems) -> None:
    """The posting rules, transaction by transaction in posting order, on the balances they would leave."""
    states = dict(states)
    for item in todo:
        if any(line.account not in states for line in item.draft.lines):
            continue  # an account the ledger lacks and will not open: a problem already
        try:
            changes = check_entry(item.draft, states, closed)
        except LedgerError as exc:
            problems.add(item.line, exc.reason)
            continue
        states.update(apply_changes(states, changes))


def _post(engine: Engine, name: str, todo: Sequence[_Planned], actor: str, batch: int,
          progress: Callable[[int, int], None] | None, already: int, total: int) -> int:
    posted = 0
    for start in range(0, len(todo), batch):
        part = todo[start:start + batch]
        try:
            results = journal.post_many(engine, [(p.draft, p.key) for p in part], actor=actor)
        except LedgerError as exc:
            lines = f"{min(p.line for p in part)}-{max(p.line for p in part)}"
            raise type(exc)(f"{name}:{lines}: {exc.reason} (the batch was not posted; {already + posted} "
                            "transactions are: run the same import again to finish)", **exc.details) from None
        posted += sum(not r.replayed for r in results)
        if progress is not None:
            progress(already + start + len(part), total)
    return posted
