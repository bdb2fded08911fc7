"""A broker's pages: their people, a person's plan with what is left of each line's cap, and logging spend.

Every page checks, through the same authorisation as the CLI (ledger/services/users.py `authorize`), that the
signed-in user may see the person: a broker reaching anyone not assigned to them, by editing the URL or a
form, gets "not found", as for a person who does not exist. Logging spend goes through
`plan_spend.log_spend`, whose refusals (with their numbers) are shown as the CLI gives them; each form
render carries a one-time key, passed as the spend's idempotency key, so a resubmitted form logs once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ledger.calendar import financial_year, financial_year_of, parse_day
from ledger.errors import Forbidden, InvalidInput, LedgerError, UnknownParty
from ledger.formats.evidence import MAX_BYTES, evidence_file, evidence_reference
from ledger.money import format_amount, parse_amount
from ledger.reports.listings import people_listing
from ledger.reports.plans import SpendRow, cap_day, cap_positions, plan_view, spend_list
from ledger.roles import Permission
from ledger.services.plan_spend import log_spend
from ledger.services.sign_in import SessionView
from ledger.services.users import authorize
from ledger.web.app import call, forbidden, fy_asked, page, server_of, signed_page, status_of
from ledger.web.evidence import keep
from ledger.web.security import new_token, same_token

KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
FORM_OVERHEAD = 64 * 1024  # the form's other fields and multipart framing, beside the file


@dataclass(frozen=True, slots=True)
class LineRow:
    code: str
    category: str
    cap: str
    cap_period: str
    window: str
    spent: str
    left: str
    over: bool


@dataclass(frozen=True, slots=True)
class PersonPage:
    ref: str
    fy: int
    label: str
    day: date
    lines: tuple[LineRow, ...]
    spend: tuple[SpendRow, ...]


def _person_page(engine: Engine, user: str, ref: str, fy: int) -> PersonPage:
    authorize(engine, user, Permission.VIEW_PERSON, ref)
    day, spend = cap_day(fy), spend_list(engine, ref, fy)
    rows = [LineRow(cap.line.spec.code, cap.line.spec.category, format_amount(cap.line.spec.cap),
                    str(cap.line.spec.cap_period), f"{cap.window.start:%d %b %Y} to {cap.window.end:%d %b %Y}",
                    format_amount(cap.spent), format_amount(cap.left), cap.left < 0)
            for cap in cap_positions(plan_view(engine, ref, fy), spend, day)]
    return PersonPage(ref, fy, financial_year(fy).label, day, tuple(rows), tuple(reversed(spend[-20:])))


@signed_page
async def people_page(request: Request, session: SessionView) -> Response:
    engine = server_of(request).engine

    def read() -> Any:
        actor = authorize(engine, session.user, Permission.VIEW_PERSON, listing=True)
        return people_listing(engine, actor.role, actor.people)

    try:
        listing = await call(request, session.user, read)
    except Forbidden as refused:
        return page(request, "refused.html", {"session": session, "title": "Not allowed", "reason": refused.reason},
                    403)
    return page(request, "people.html", {"session": session, "title": "Your people", "people": listing.people})


@signed_page
async def person_page(request: Request, session: SessionView) -> Response:
    logged = request.query_params.get("logged", "")
    notice = (f"Spend logged (record {logged})" + (": this form had been sent before, so nothing new was logged"
                                                   if request.query_params.get("again") else "")
              if logged.isdigit() else None)
    return await _render(request, session, request.path_params["ref"], fy_asked(request), notice=notice)


async def _render(request: Request, session: SessionView, ref: str, fy: int, *, notice: str | None = None,
                  error: str | None = None, values: dict[str, str] | None = None, key: str | None = None,
                  status: int = 200) -> Response:
    try:
        person = await call(request, session.user, _person_page, server_of(request).engine, session.user, ref, fy)
    except (Forbidden, UnknownParty):
        return not_found(request, session)
    except LedgerError as refused:  # no plan for the year, a year outside those kept
        return page(request, "refused.html", {"session": session, "title": f"Person {ref}",
                                              "reason": refused.reason}, status_of(refused))
    form = values or {"on": person.day.isoformat()}
    return page(request, "person.html", {"session": session, "title": f"Person {ref}", "person": person,
                                         "notice": notice, "error": error, "form": form,
                                         "key": key or new_token(), "format_amount": format_amount}, status)


def not_found(request: Request, session: SessionView) -> Response:
    return page(request, "refused.html", {"session": session, "title": "Page not found",
                                          "reason": "There is no such person among the people you may see."}, 404)


@signed_page
async def spend_post(request: Request, session: SessionView) -> Response:
    ref = request.path_params["ref"]
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_BYTES + FORM_OVERHEAD:
        return page(request, "refused.html", {"session": session, "title": "Too large", "reason":
                    f"The form was too large: an evidence file may have at most {MAX_BYTES:,} bytes (5 MB)."}, 413)
    form = await request.form(max_files=1, max_fields=12, max_part_size=8192)
    if not same_token(form.get("csrf"), session.csrf):
        return forbidden(request, session)
    key = str(form.get("key", ""))
    values = {name: str(form.get(name, "")) for name in ("line", "amount", "on", "supplier", "evidence")}
    if not KEY.fullmatch(key):
        return forbidden(request, session)
    engine = server_of(request).engine
    try:
        await call(request, session.user, authorize, engine, session.user, Permission.VIEW_PERSON, ref)
    except (Forbidden, UnknownParty):
        return not_found(request, session)
    try:
        logged = await _log(request, session, ref, values, form.get("evidence_file"), key)
    except LedgerError as refused:
        fy = _fy_of(values["on"]) or fy_asked(request)
        return await _render(request, session, ref, fy, error=refused.reason, values=values, key=key,
                             status=status_of(refused))
    again = "&again=1" if logged.replayed else ""
    return RedirectResponse(f"/people/{ref}?fy={logged.fy}&logged={logged.id}{again}", status_code=303)


def _fy_of(text: str) -> int | None:
    try:
        return financial_year_of(parse_day(text)).start.year
    except LedgerError:
        return None


async def _log(request: Request, session: SessionView, ref: str, values: dict[str, str], upload: object,
               key: str) -> Any:
    """Parse the form, keep the evidence file, and log the spend as the signed-in user."""
    server = server_of(request)
    if not values["line"]:
        raise InvalidInput("choose the line of the plan the spend is for")
    amount = parse_amount(values["amount"].strip().removeprefix("£"))
    on = parse_day(values["on"].strip())
    data = b""
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_BYTES + 1)
    found = evidence_file(data) if data else None
    reference = evidence_reference(values["evidence"], found)
    if not reference:
        raise InvalidInput("give an evidence reference (receipt, invoice or timesheet number) or attach the receipt")
    await call(request, session.user, authorize, server.engine, session.user, Permission.SPEND, ref)
    if found is not None:
        await call(request, session.user, keep, server.evidence_dir, found, data)
    return await call(request, session.user, log_spend, server.engine, ref, financial_year_of(on).start.year,
                      values["line"], amount, on=on, supplier=values["supplier"].strip(), evidence=reference,
                      actor=session.user, key=f"web:{key}")


ROUTES = [Route("/people", people_page), Route("/people/{ref}", person_page),
          Route("/people/{ref}/spend", spend_post, methods=["POST"])]
