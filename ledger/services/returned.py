"""After the bank sends a payment back: correct the payee's bank details, then pay it again.

A returned payment (`payments.return_payment`) is not gathered again by itself: somebody must
look at why it came back. An officer corrects the bank details of the DP schedule or provider
(each change is kept, old and new, with who and why: changing bank details is the classic way to
divert payments, so auditors read this history), then asks for the payment again. The next
`gather` adds it to the draft run as its next attempt, paid to the details in force then, and it
goes through approval by a second officer like any other payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, update

from ledger import store
from ledger.calendar import utc_now
from ledger.errors import InvalidInput, NotAllowed, UnknownParty
from ledger.models import Person
from ledger.models.payments import BankDetailChange, Payment, PaymentRepay, PaymentSchedule, Provider
from ledger.payment_files import AccountName, AccountNumber, SortCode


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


def change_schedule_details(engine: Engine, schedule_id: int, *, sort_code: str, account_number: str,
                            payee_name: str | None = None, reason: str, actor: str) -> DetailChange:
    """New bank details for a direct payment schedule: every payment gathered from now on goes there."""
    why = _reason(reason, "the bank details change")
    with engine.begin() as conn:
        row = conn.execute(select(PaymentSchedule).where(PaymentSchedule.id == schedule_id)).first()
        if row is None:
            raise UnknownParty(f"no schedule {schedule_id}", schedule=schedule_id)
        old = BankDetails(row.payee_name, row.sort_code, row.account_number)
        new = _details(payee_name or row.payee_name, sort_code, account_number)
        _refuse_no_change(old, new)
        conn.execute(update(PaymentSchedule).where(PaymentSchedule.id == schedule_id).values(
            payee_name=new.name, sort_code=new.sort_code, account_number=new.account_number))
        return _record(conn, f"schedule {schedule_id}", {"schedule_id": schedule_id}, old, new, why, actor)


def change_provider_details(engine: Engine, code: str, *, sort_code: str, account_number: str,
                            account_name: str | None = None, reason: str, actor: str) -> DetailChange:
    """New bank details for a provider: every invoice gathered from now on is paid there."""
    why = _reason(reason, "the bank details change")
    with engine.begin() as conn:
        row = conn.execute(select(Provider).where(Provider.code == code)).first()
        if row is None:
            raise UnknownParty(f"no provider {code!r}", provider=code)
        old = BankDetails(row.account_name, row.sort_code, row.account_number)
        new = _details(account_name or row.account_name, sort_code, account_number)
        _refuse_no_change(old, new)
        conn.execute(update(Provider).where(Provider.id == row.id).values(
            account_name=new.name, sort_code=new.sort_code, account_number=new.account_number))
        return _record(conn, f"provider {code}", {"provider_id": row.id}, old, new, why, actor)


def _refuse_no_change(old: BankDetails, new: BankDetails) -> None:
    if old == new:
        raise InvalidInput(f"the bank details are already {new}: nothing to change")


def _record(conn: Connection, payee: str, which: dict[str, int], old: BankDetails, new: BankDetails,
            reason: str, actor: str) -> DetailChange:
    now = utc_now()
    change_id = conn.execute(insert(BankDetailChange).values(
        **which, old_name=old.name, old_sort_code=old.sort_code, old_account_number=old.account_number,
        new_name=new.name, new_sort_code=new.sort_code, new_account_number=new.account_number,
        reason=reason, changed_by=actor, changed_at=now)).inserted_primary_key[0]
    return DetailChange(change_id, payee, old, new, reason, actor, now)


def detail_changes(engine: Engine) -> list[DetailChange]:
    """Every bank details change, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(BankDetailChange, Provider.code)
            .outerjoin(Provider, Provider.id == BankDetailChange.provider_id)
            .order_by(BankDetailChange.id)).all()
    return [DetailChange(
        r.id, f"provider {r.code}" if r.provider_id else f"schedule {r.schedule_id}",
        BankDetails(r.old_name, r.old_sort_code, r.old_account_number),
        BankDetails(r.new_name, r.new_sort_code, r.new_account_number),
        r.reason, r.changed_by, r.changed_at) for r in rows]


def repay(engine: Engine, payment_id: int, *, reason: str, actor: str, same_details: bool = False) -> RepayRequest:
    """Ask for a returned payment to be paid again by the next run. Asking twice is the same request.

    Refused unless the payment was returned, its schedule is still active, and the payee's bank
    details have changed since (or `same_details` says the bank's reason was temporary).
    """
    why = _reason(reason, "it should be paid again")
    with engine.begin() as conn:
        found = conn.execute(select(Payment, Person.ref).join(Person, Person.id == Payment.person_id)
                             .where(Payment.id == payment_id)).first()
        if found is None:
            raise UnknownParty(f"no payment {payment_id}", payment=payment_id)
        p = found
        returned_from = BankDetails(p.payee_name, p.sort_code, p.account_number)
        pays_to, active = _payee_details(conn, p)
        asked = conn.execute(select(PaymentRepay).where(PaymentRepay.payment_id == payment_id)).first()
        if asked is not None:
            return RepayRequest(p.id, p.ref, p.payee, p.amount, pays_to, returned_from, asked.reason,
                                asked.requested_by, asked.requested_at, replayed=True)
        if p.status != "returned":
            raise NotAllowed(f"payment {payment_id} is {p.status}; only a returned payment is paid again this "
                             "way (a failed one is gathered again by itself)", payment=payment_id)
        if not active:
            raise NotAllowed(f"payment {payment_id}'s schedule {p.schedule_id} has ended: nothing is gathered "
                             "from it", payment=payment_id)
        if pays_to == returned_from and not same_details:
            command = (f"ipb schedule bank-details {p.schedule_id}" if p.schedule_id
                       else f"ipb provider bank-details {p.payee}")
            raise NotAllowed(f"payment {payment_id} would go to the account the bank returned it from "
                             f"({returned_from}); correct it with `{command}` first, or pass --same-details "
                             "if the bank's reason was temporary", payment=payment_id)
        now = utc_now()
        conn.execute(insert(PaymentRepay).values(payment_id=payment_id, reason=why, requested_by=actor,
                                                 requested_at=now))
        return RepayRequest(p.id, p.ref, p.payee, p.amount, pays_to, returned_from, why, actor, now)


def _payee_details(conn: Connection, p) -> tuple[BankDetails, bool]:  # type: ignore[no-untyped-def]
    """The payee's bank details now, and whether anything is still gathered for them."""
    if p.schedule_id is not None:
        s = conn.execute(select(PaymentSchedule).where(PaymentSchedule.id == p.schedule_id)).one()
        return BankDetails(s.payee_name, s.sort_code, s.account_number), s.active
    prov = conn.execute(select(Provider).where(Provider.code == p.payee)).one()
    return BankDetails(prov.account_name, prov.sort_code, prov.account_number), True


def repays_asked(conn: Connection, payment_ids: list[int]) -> set[int]:
    """Which of these payments an officer has asked to be paid again."""
    asked: set[int] = set()
    for part in store.chunks(payment_ids):
        asked.update(conn.execute(select(PaymentRepay.payment_id).where(PaymentRepay.payment_id.in_(part))).scalars())
    return asked
