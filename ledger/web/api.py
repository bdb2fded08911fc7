"""The JSON API for integrations (/api/v1): people, a person's budget and plan, and logging spend.

A caller sends `Authorization: Bearer <token>` (ledger/services/api_tokens.py) and nothing else proves who it
is: no cookies, so no CSRF. The token acts as its ipb user, through the same authorisation as the CLI and the
broker's pages (`ledger.services.users.authorize`), and on PostgreSQL each call runs as that user's login
role (`ledger.web.app.call`). Amounts are whole pence; dates ISO 8601.

Errors are `{"error": code, "reason": one line, ...the numbers}`: 401 no or a dead token, 403 the role may not,
404 a person the token may not see (as one who does not exist; or a year's plan or budget the ledger does not
hold), 409 an `Idempotency-Key` used before for
other content, or a refusal of the ledger's rules (over a line's cap, a closed period: the request was
well formed but the ledger as it stands refuses it), 413 too large, 422 bad input. The OpenAPI description
is ledger/web/api_schema.py's, served at /api/v1/openapi.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledger import calendar
from ledger.calendar import financial_year, financial_year_of
from ledger.errors import Forbidden, IdempotencyConflict, InvalidInput, LedgerError, UnknownParty
from ledger.reports.budgets import budget_view
from ledger.reports.listings import people_listing
from ledger.reports.plans import cap_day, cap_positions, plan_view, spend_list
from ledger.roles import Permission
from ledger.services import api_tokens
from ledger.services.api_tokens import Caller
from ledger.services.plan_spend import log_spend
from ledger.services.users import Actor, authorize, check
from ledger.web.api_schema import OPENAPI
from ledger.web.app import TooLarge, call, server_of, status_of

KEY = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
MAX_BODY = 16 * 1024
MAX_PENCE = 10**11  # a billion pounds: more than any one spend, well inside a BIGINT

Handler = Callable[[Request, Caller], Awaitable[Response]]


class SpendIn(BaseModel):
    """The body of POST /people/{ref}/spend. Strict: `pence` is a JSON integer, never a float or a string."""

    model_config = ConfigDict(extra="forbid", strict=True)

    line: str = Field(min_length=1, max_length=40)
    pence: int = Field(gt=0, le=MAX_PENCE)
    date: date
    supplier: str = Field(min_length=1, max_length=200)
    evidence: str = Field(min_length=1, max_length=200)


class NotVisible(UnknownParty):
    code = "not_found"


def as_json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, default=str), status, headers, media_type="application/json")


def error(status: int, error: str, reason: str, **numbers: Any) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="ipb"'} if status == 401 else None
    return as_json(status, {"error": error, "reason": reason, **numbers}, headers)


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The caller's token checked first; every refusal after that as JSON, with its numbers."""

    async def run(request: Request) -> Response:
        try:
            caller = await run_in_threadpool(api_tokens.authenticate, server_of(request).engine, _bearer(request),
                                             source=request.client.host if request.client else "unknown")
            return await handler(request, caller)
        except LedgerError as refused:
            return error(status_of(refused), **refused.as_dict())

    return run


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def _visible(request: Request, caller: Caller) -> tuple[str, Actor]:
    """The path's person, if the caller may see them, and the caller as the ledger knows them: otherwise 404,
    whether the person exists or not."""
    ref = request.path_params["ref"]
    try:
        actor = await call(request, caller.user, authorize, server_of(request).engine, caller.user,
                           Permission.VIEW_PERSON, ref)
    except (Forbidden, UnknownParty):
        raise NotVisible(f"there is no person {ref} among the people this token may see", person=ref) from None
    return ref, actor


def _fy(request: Request) -> int:
    asked = request.query_params.get("fy")
    if asked is None:
        return financial_year_of(calendar.today()).start.year
    if not (asked.isascii() and asked.isdigit() and len(asked) == 4):
        raise InvalidInput(f"fy must be a financial year's starting year, e.g. 2025; got {asked[:20]!r}")
    financial_year(int(asked))  # refuses a year outside those the ledger keeps
    return int(asked)


@endpoint
async def people(request: Request, caller: Caller) -> Response:
    engine = server_of(request).engine

    def read() -> Any:
        actor = authorize(engine, caller.user, Permission.VIEW_PERSON, listing=True)
        return people_listing(engine, actor.role, actor.people)

    listing = await call(request, caller.user, read)
    return as_json(200, {"people": [{"ref": p.ref, "nhs_number": p.nhs_number, "name": p.name,
                                     "budget_years": list(p.budget_years), "brokers": list(p.brokers)}
                                    for p in listing.people]})


@endpoint
async def budget(request: Request, caller: Caller) -> Response:
    (ref, _), fy = await _visible(request, caller), _fy(request)
    streams = await call(request, caller.user, budget_view, server_of(request).engine, ref, fy)
    rows = [{"stream": str(s.stream), "allocated": s.allocated, "spent": s.spent, "recovered": s.recovered,
             "held": s.held, "available": s.available} for s in streams]
    totals = {name: sum(r[name] for r in rows) for name in ("allocated", "spent", "recovered", "held", "available")}
    return as_json(200, {"person": ref, "fy": fy, "streams": rows, "totals": totals})


def plan_position(engine: Any, ref: str, fy: int) -> dict[str, Any]:
    """The plan in force and, for each of its lines, the cap for the cap period holding today (or the year's
    day nearest today), what was spent in that period and what is left; planned and actual for the year."""
    day, view = cap_day(fy), plan_view(engine, ref, fy)
    lines = []
    for cap in cap_positions(view, spend_list(engine, ref, fy), day):
        spec, position = cap.line.spec, cap.line.position
        lines.append({"line": spec.code, "category": spec.category,
                      "stream": None if spec.stream is None else str(spec.stream), "cap": spec.cap,
                      "cap_period": str(spec.cap_period), "period_from": cap.window.start,
                      "period_to": cap.window.end, "spent": cap.spent, "left": cap.left, "planned": position.planned,
                      "committed": position.committed, "actual": position.actual})
    return {"person": ref, "fy": fy, "version": view.current.version, "on": day, "lines": lines}


@endpoint
async def plan(request: Request, caller: Caller) -> Response:
    (ref, _), fy = await _visible(request, caller), _fy(request)
    return as_json(200, await call(request, caller.user, plan_position, server_of(request).engine, ref, fy))


@endpoint
async def spend(request: Request, caller: Caller) -> Response:
    ref, actor = await _visible(request, caller)
    engine = server_of(request).engine
    check(actor, Permission.SPEND, ref)  # 403 if not
    key = request.headers.get("idempotency-key", "")
    if not KEY.fullmatch(key):
        raise InvalidInput("send an Idempotency-Key header: 8-64 letters, digits, '_', '-', '.' or ':', new for "
                           "each spend and the same when retrying it", header="Idempotency-Key")
    body = await _body(request)
    try:
        asked = SpendIn.model_validate_json(body)
    except ValidationError as invalid:
        fields = [{"field": ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in invalid.errors()]
        return error(422, "invalid_input", "the body is not a valid spend: " + "; ".join(
            f"{f['field'] or 'body'}: {f['problem']}" for f in fields), fields=fields)
    try:
        logged = await call(request, caller.user, log_spend, engine, ref, financial_year_of(asked.date).start.year,
                            asked.line, asked.pence, on=asked.date, supplier=asked.supplier, evidence=asked.evidence,
                            actor=caller.user, key=f"api:{caller.integration}:{key}")
    except IdempotencyConflict as reused:
        raise IdempotencyConflict(f"Idempotency-Key {key!r} was used before for a different spend: use a new key",
                                  **{**reused.details, "key": key}) from reused
    except UnknownParty as missing:  # the person is there: the body names a line or a year's plan that is not
        return error(422, **missing.as_dict())
    return as_json(200 if logged.replayed else 201, {
        "id": logged.id, "person": logged.person, "fy": logged.fy, "line": logged.line, "version": logged.version,
        "pence": logged.amount, "date": logged.on, "supplier": logged.supplier, "evidence": logged.evidence,
        "by": logged.broker, "replayed": logged.replayed})


async def _body(request: Request) -> bytes:
    length = request.headers.get("content-length", "")
    too_large = TooLarge(f"the body may have at most {MAX_BODY:,} bytes", limit=MAX_BODY)
    if length.isdigit() and int(length) > MAX_BODY:
        raise too_large
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise too_large
    return bytes(data)


async def openapi(request: Request) -> Response:
    return as_json(200, OPENAPI)


ROUTES = [Route("/openapi.json", openapi), Route("/people", people), Route("/people/{ref}/budget", budget),
          Route("/people/{ref}/plan", plan), Route("/people/{ref}/spend", spend, methods=["POST"])]
PREFIX = "/api/v1"
