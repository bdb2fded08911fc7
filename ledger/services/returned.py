"""After the bank sends a payment back: correct the payee's bank details, then pay it again.

A returned payment (`payment_settlement.return_payment`) is not gathered again by itself: somebody must
look at why it came back. An officer proposes new bank details for the DP schedule or provider and
a second officer confirms them (changing bank details is the classic way to divert payments, so
it takes two people, and every change is kept, old and new, with who and why). Then an officer
asks for the payment again: the next `gather` adds it to the draft run as its next attempt, paid
to the details in force then, and it is approved by a second officer like any other payment.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, insert, select, update

from ledger.calendar import utc_now
from ledger.errors import ConcurrentUpdate, InvalidInput, NotAllowed, UnknownParty
from ledger.formats.bank_details import AccountName, AccountNumber, SortCode
from ledger.history import Op
from ledger.models import people
from ledger.models.payments import (
    bank_detail_changes,
    bank_detail_confirmations,
    payment_repays,
    payment_schedules,
    payments,
    providers,
)
from ledger.services.crash_points import step_done
from ledger.services.history import track
from ledger.storage import reads
from ledger.storage.engine import reading
from ledger.storage.identity import principal_of


@dataclass(frozen=True, slots=True)
class BankDetails:
    name: str
    sort_code: str  # 6 digits
    account_number: str  # 8 digits

    def __str__(self) -> str:
        return f"{self.name} {self.sort_code[:2]}-{self.sort_code[2:4]}-{self.sort_code[4:]} {self.account_number}"


@dataclass(frozen=True, slots=True)
class DetailChange:
    id: int
    payee: str  # "schedule 3" or "provider acme"
    old: BankDetails
    new: BankDetails
    reason: str
    changed_by: str
    changed_at: datetime
    confirmed_by: str | None = None  # the second officer; None while it awaits one (not yet in force)
    confirmed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RepayRequest:
    payment: int
    person: str
    payee: str
    amount: int
    pays_to: BankDetails  # the payee's details now: what the next run will pay to
    returned_from: BankDetails
    reason: str
    requested_by: str
    requested_at: datetime
    replayed: bool = False


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise InvalidInput(f"say why {what}")
    return reason.strip()[:500]


def _details(name: str, sort_code: str, account_number: str) -> BankDetails:
    return BankDetails(AccountName.fit(name).text, SortCode(sort_code).digits, AccountNumber(account_number).digits)


@dataclass(frozen=True, slots=True)
class _Payee:
    label: str  # "schedule 3" or "provider acme"
    key: dict[str, int]  # {"schedule_id": 3} or {"provider_id": 7}
    details: BankDetails  # as they are now
    gathered: bool = True  # whether `gather` still pays it (an ended schedule is not)


def _schedule(conn: Connection, schedule_id: int) -> _Payee:
    row = conn.execute(select(payment_schedules).where(payment_schedules.c.id == schedule_id)).first()
    if row is None:
        raise UnknownParty(f"no schedule {schedule_id}", schedule=schedule_id)
    return _Payee(f"schedule {row.id}", {"schedule_id": row.id},
                  BankDetails(row.payee_name, row.sort_code, row.account_number), row.active)


def _provider(conn: Connection, where: ColumnElement[bool], shown: object) -> _Payee:
    row = conn.execute(select(providers).where(where)).first()
    if row is None:
        raise UnknownParty(f"no provider {shown!r}", provider=str(shown))
    return _Payee(f"provider {row.code}", {"provider_id": row.id},
                  BankDetails(row.account_name, row.sort_code, row.account_number))


def propose_schedule_details(engine: Engine, schedule_id: int, *, sort_code: str, account_number: str,
                             payee_name: str | None = None, reason: str, actor: str) -> DetailChange:
    """Propose new bank details for a direct payment schedule; they apply once a second officer confirms."""
    return _propose(engine, lambda conn: _schedule(conn, schedule_id), sort_code, account_number, payee_name,
                    reason, actor)


def propose_provider_details(engine: Engine, code: str, *, sort_code: str, account_number: str,
                             account_name: str | None = None, reason: str, actor: str) -> DetailChange:
    """Propose new bank details for a provider; they apply once a second officer confirms."""
    return _propose(engine, lambda conn: _provider(conn, providers.c.code == code, code), sort_code, account_number,
                    account_name, reason, actor)


def _propose(engine: Engine, find: Callable[[Connection], _Payee], sort_code: str, account_number: str,
             name: str | None, reason: str, actor: str) -> DetailChange:
    why = _reason(reason, "the bank details change")
    with engine.begin() as conn:
        payee = find(conn)
        old = payee.details
        new = _details(name or old.name, sort_code, account_number)
        if old == new:
            raise InvalidInput(f"the bank details are already {new}: nothing to change")
        now = utc_now()
        change_id = conn.execute(insert(bank_detail_changes).values(
            **payee.key, old_name=old.name, old_sort_code=old.sort_code, old_account_number=old.account_number,
            new_name=new.name, new_sort_code=new.sort_code, new_account_number=new.account_number,
            reason=why, changed_by=actor, changed_at=now, changed_by_principal=principal_of(conn, actor),
        )).inserted_primary_key[0]
        track(conn, "bank_detail_changes", change_id, actor=actor, op=Op.INSERT)
    return DetailChange(change_id, payee.label, old, new, why, actor, now)


def confirm_details(engine: Engine, change_id: int, *, actor: str) -> DetailChange:
    """A second officer confirms a proposed change: from now on the payee is paid to the new details.

    Confirming again returns the confirmed change. Refused for the officer who proposed it, and
    when the payee's details are no longer those the change was proposed against.
    """
    with engine.begin() as conn:
        row = conn.execute(select(bank_detail_changes).where(bank_detail_changes.c.id == change_id)).first()
        if row is None:
            raise UnknownParty(f"no bank details change {change_id}", change=change_id)
        payee = (_schedule(conn, row.schedule_id) if row.schedule_id is not None
                 else _provider(conn, providers.c.id == row.provider_id, row.provider_id))
        change = _change_of(row, payee.label)
        done = conn.execute(select(bank_detail_confirmations)
                            .where(bank_detail_confirmations.c.change_id == change_id)).first()
        if done is not None:
            return replace(change, confirmed_by=done.confirmed_by, confirmed_at=done.confirmed_at)
        confirmer = principal_of(conn, actor)
        if actor == row.changed_by:
            raise NotAllowed(f"maker/checker: {actor} proposed change {change_id}; another officer confirms it",
                             change=change_id)
        if confirmer == row.changed_by_principal:
            raise NotAllowed(f"maker/checker: change {change_id} was proposed by {row.changed_by}, signed in as "
                             f"{confirmer}, as you are now; a second person confirms it", change=change_id)
        if payee.details != change.old:
            raise NotAllowed(f"change {change_id} was proposed against {change.old}, but {payee.label} now has "
                             f"{payee.details}: propose it again", change=change_id)
        now = utc_now()
        # the confirmation first: on PostgreSQL the server lets a payee's details change only beside it
        conn.execute(insert(bank_detail_confirmations).values(
            change_id=change_id, changed_by=row.changed_by, confirmed_by=actor, confirmed_at=now,
            changed_by_principal=row.changed_by_principal, confirmed_by_principal=confirmer))
        track(conn, "bank_detail_confirmations", {"change_id": change_id}, actor=actor, op=Op.INSERT)
        _set_details(conn, payee, change.old, change.new, actor)
    return replace(change, confirmed_by=actor, confirmed_at=now)


def _set_details(conn: Connection, payee: _Payee, old: BankDetails, new: BankDetails, actor: str) -> None:
    if "schedule_id" in payee.key:
        table, row_id, name = payment_schedules, payee.key["schedule_id"], payment_schedules.c.payee_name
    else:
        table, row_id, name = providers, payee.key["provider_id"], providers.c.account_name
    done = conn.execute(update(table).where(
        table.c.id == row_id, name == old.name, table.c.sort_code == old.sort_code,
        table.c.account_number == old.account_number,
    ).values({name.key: new.name, "sort_code": new.sort_code, "account_number": new.account_number}))
    if done.rowcount != 1:
        raise ConcurrentUpdate(f"{payee.label}'s bank details changed while confirming; try again")
    track(conn, table.name, row_id, actor=actor, reason="bank details change confirmed")


def _change_of(row, label: str) -> DetailChange:  # type: ignore[no-untyped-def]
    return DetailChange(row.id, label, BankDetails(row.old_name, row.old_sort_code, row.old_account_number),
                        BankDetails(row.new_name, row.new_sort_code, row.new_account_number),
                        row.reason, row.changed_by, row.changed_at)


def detail_changes(engine: Engine, *, awaiting_only: bool = False) -> list[DetailChange]:
    """Every proposed bank details change (or those awaiting a second officer), oldest first, with who confirmed
    it (None: awaiting a second officer)."""
    query = (select(bank_detail_changes, providers.c.code, bank_detail_confirmations.c.confirmed_by,
                    bank_detail_confirmations.c.confirmed_at)
             .outerjoin(providers, providers.c.id == bank_detail_changes.c.provider_id)
             .outerjoin(bank_detail_confirmations, bank_detail_confirmations.c.change_id == bank_detail_changes.c.id)
             .order_by(bank_detail_changes.c.id))
    if awaiting_only:
        query = query.where(bank_detail_confirmations.c.confirmed_by.is_(None))
    with reading(engine) as conn:
        rows = conn.execute(query).all()
    return [replace(_change_of(r, f"provider {r.code}" if r.provider_id else f"schedule {r.schedule_id}"),
                    confirmed_by=r.confirmed_by, confirmed_at=r.confirmed_at) for r in rows]


def repay(engine: Engine, payment_id: int, *, reason: str, actor: str, same_details: bool = False) -> RepayRequest:
    """Ask for a returned payment to be paid again by the next run. Asking again for the same reason is the
    same request (after a crash, say); for another reason it is refused, naming the first.

    Refused unless the payment was returned, its schedule is still active, and the payee's bank
    details have changed since (or `same_details` says the bank's reason was temporary).
    """
    why = _reason(reason, "it should be paid again")
    with engine.begin() as conn:
        found = conn.execute(select(payments, people.c.ref).join(people, people.c.id == payments.c.person_id)
                             .where(payments.c.id == payment_id)).first()
        if found is None:
            raise UnknownParty(f"no payment {payment_id}", payment=payment_id)
        p = found
        returned_from = BankDetails(p.payee_name, p.sort_code, p.account_number)
        payee = (_schedule(conn, p.schedule_id) if p.schedule_id is not None
                 else _provider(conn, providers.c.code == p.payee, p.payee))
        pays_to = payee.details
        asked = conn.execute(select(payment_repays).where(payment_repays.c.payment_id == payment_id)).first()
        if asked is not None:
            if why != asked.reason:
                again = shlex.join(["ipb", "payment", "repay", str(p.id), "--reason", asked.reason])
                raise NotAllowed(f"payment {payment_id} was asked to be paid again by {asked.requested_by} on "
                                 f"{asked.requested_at:%Y-%m-%d} ({asked.reason!r}); this asks for it for {why!r}: "
                                 f"run it again as `{again}`", payment=payment_id)
            return RepayRequest(p.id, p.ref, p.payee, p.amount, pays_to, returned_from, asked.reason,
                                asked.requested_by, asked.requested_at, replayed=True)
        if p.status != "returned":
            raise NotAllowed(f"payment {payment_id} is {p.status}; only a returned payment is paid again this "
                             "way (a failed one is gathered again by itself)", payment=payment_id)
        if not payee.gathered:
            raise NotAllowed(f"payment {payment_id}'s schedule {p.schedule_id} has ended: nothing is gathered "
                             "from it", payment=payment_id)
        if pays_to == returned_from and not same_details:
            command = (f"ipb schedule bank-details {p.schedule_id}" if p.schedule_id
                       else f"ipb provider bank-details {p.payee}")
            raise NotAllowed(f"payment {payment_id} would go to the account the bank returned it from "
                             f"({returned_from}); correct it first (`{command}`, then a second officer's "
                             "`ipb payment confirm-bank-details`), or pass --same-details if the bank's reason "
                             "was temporary", payment=payment_id)
        now = utc_now()
        conn.execute(insert(payment_repays).values(payment_id=payment_id, reason=why, requested_by=actor,
                                                   requested_at=now))
        track(conn, "payment_repays", {"payment_id": payment_id}, actor=actor, op=Op.INSERT)
    step_done()
    return RepayRequest(p.id, p.ref, p.payee, p.amount, pays_to, returned_from, why, actor, now)


def repays_asked(conn: Connection, payment_ids: list[int]) -> set[int]:
    """Which of these payments an officer has asked to be paid again."""
    asked: set[int] = set()
    for part in reads.chunks(payment_ids):
        asked.update(conn.execute(select(payment_repays.c.payment_id).where(payment_repays.c.payment_id.in_(part))).scalars())
    return asked
