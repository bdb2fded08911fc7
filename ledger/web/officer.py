"""A finance officer's pages: payment runs awaiting approval and bank details changes awaiting confirmation, each
approved or confirmed by a second officer.

Every page and form first authorises the signed-in user for `Permission.APPROVE` through the CLI's `authorize`, so
a broker, a person, an auditor or an administrator gets 403. Approving and confirming are the CLI's own service
calls (`payment_runs.approve`, `returned.confirm_details`) with the signed-in officer as the actor, never a name
from the form: maker ≠ checker is the services' rule, and their refusal is shown as the CLI prints it. Sending a
form again is harmless: approving an approved run only resumes its holds, and confirming a confirmed change
returns it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ledger.errors import Forbidden, LedgerError, UnknownParty
from ledger.money import format_amount
from ledger.roles import Permission
from ledger.services import payment_runs, returned
from ledger.services.payment_runs import RunView
from ledger.services.returned import DetailChange
from ledger.services.sign_in import SessionView
from ledger.services.users import authorize
from ledger.web.app import call, page, server_of, signed_form, signed_page, status_of


@dataclass(frozen=True, slots=True)
class Awaiting:
    runs: tuple[RunView, ...]  # draft runs with payments: each needs a second officer
    changes: tuple[DetailChange, ...]  # proposed bank details not yet confirmed


def _awaiting(engine: Engine, user: str) -> Awaiting:
    authorize(engine, user, Permission.APPROVE)
    runs = tuple(r for r in payment_runs.list_runs(engine, status="draft") if r.payments)
    changes = tuple(returned.detail_changes(engine, awaiting_only=True))
    return Awaiting(runs, changes)


def _run(engine: Engine, user: str, run_id: int) -> RunView:
    authorize(engine, user, Permission.APPROVE)
    return payment_runs.run_view(engine, run_id)


def _approve(engine: Engine, user: str, run_id: int) -> RunView:
    authorize(engine, user, Permission.APPROVE)
    return payment_runs.approve(engine, run_id, actor=user)


def _confirm(engine: Engine, user: str, change_id: int) -> DetailChange:
    authorize(engine, user, Permission.APPROVE)
    return returned.confirm_details(engine, change_id, actor=user)


def _refused(request: Request, session: SessionView, refused: LedgerError) -> Response:
    status = status_of(refused)
    return page(request, "refused.html", {"session": session, "title": "Not allowed" if status == 403 else
                                          "Not found" if status == 404 else "Refused", "reason": refused.reason},
                status)


def _number(request: Request, name: str) -> int | None:
    text = request.path_params[name]
    return int(text) if text.isdigit() and len(text) < 12 else None


@signed_page
async def approvals_page(request: Request, session: SessionView, *, error: str | None = None,
                         status: int = 200) -> Response:
    try:
        awaiting = await call(request, session.user, _awaiting, server_of(request).engine, session.user)
    except LedgerError as refused:
        return _refused(request, session, refused)
    confirmed = request.query_params.get("confirmed", "")
    notice = f"Bank details change {confirmed} confirmed: payments now go to the new details" \
        if confirmed.isdigit() else None
    return page(request, "approvals.html", {"session": session, "title": "Awaiting a second officer",
                                            "awaiting": awaiting, "notice": notice, "error": error,
                                            "format_amount": format_amount}, status)


@signed_page
async def run_page(request: Request, session: SessionView, *, error: str | None = None,
                   status: int = 200) -> Response:
    run_id = _number(request, "run")
    try:
        if run_id is None:
            raise UnknownParty(f"no payment run {request.path_params['run']}")
        run = await call(request, session.user, _run, server_of(request).engine, session.user, run_id)
    except LedgerError as refused:
        return _refused(request, session, refused)
    notice = f"Run {run.id} approved: the money for its payments is held" \
        if request.query_params.get("approved") and run.status == "approved" else None
    return page(request, "run.html", {"session": session, "title": f"Payment run {run.id}", "run": run,
                                      "notice": notice, "error": error, "format_amount": format_amount}, status)


async def approve_post(request: Request) -> Response:
    signed = await signed_form(request)
    if isinstance(signed, Response):
        return signed
    session, _ = signed
    run_id = _number(request, "run")
    if run_id is None:
        return _refused(request, session, UnknownParty(f"no payment run {request.path_params['run']}"))
    try:
        await call(request, session.user, _approve, server_of(request).engine, session.user, run_id)
    except (Forbidden, UnknownParty) as refused:
        return _refused(request, session, refused)
    except LedgerError as refused:  # maker/checker, a run no longer a draft, a budget short of the money
        return await run_page(request, error=refused.reason, status=status_of(refused))
    return RedirectResponse(f"/runs/{run_id}?approved=1", status_code=303)


async def confirm_post(request: Request) -> Response:
    signed = await signed_form(request)
    if isinstance(signed, Response):
        return signed
    session, _ = signed
    change_id = _number(request, "change")
    if change_id is None:
        return _refused(request, session, UnknownParty(f"no bank details change {request.path_params['change']}"))
    try:
        await call(request, session.user, _confirm, server_of(request).engine, session.user, change_id)
    except (Forbidden, UnknownParty) as refused:
        return _refused(request, session, refused)
    except LedgerError as refused:  # maker/checker, the payee's details changed since the proposal
        return await approvals_page(request, error=refused.reason, status=status_of(refused))
    return RedirectResponse(f"/approvals?confirmed={change_id}", status_code=303)


ROUTES = [Route("/approvals", approvals_page), Route("/runs/{run}", run_page),
          Route("/runs/{run}/approve", approve_post, methods=["POST"]),
          Route("/bank-details/{change}/confirm", confirm_post, methods=["POST"])]
