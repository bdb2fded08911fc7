"""A person's (or their representative's) pages: their budget by funding stream, their plan's lines with what
is left, payments from the budget, contributions due and paid, and their statement as HTML and PDF.

Every figure comes from the report functions the CLI prints: `budget_view` for each stream, and the person's
statement (`person_statement`, made a Document by statement_documents.py, with its burn-down chart) for the plan
lines, payments and contributions, and as the statement itself. Each page first authorises the signed-in user
for the person through the CLI's `authorize`: anyone not linked to them gets "not found", as for a person who
does not exist. A person writes nothing: these pages have no form, and every write elsewhere refuses them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ledger import calendar, config
from ledger.calendar import Period, financial_year
from ledger.chart import EntryKind
from ledger.errors import LedgerError
from ledger.money import format_amount
from ledger.reports import html_page, render
from ledger.reports.budgets import StreamFigures, budget_view
from ledger.reports.person_detail import Transaction
from ledger.reports.statements import PersonStatement, person_statement
from ledger.roles import Permission, Relation
from ledger.services.sign_in import SessionView
from ledger.services.users import authorize, linked_people
from ledger.web.app import call, fy_asked, page, server_of, signed_page
from ledger.web.security import CSP

T = TypeVar("T")
STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class BudgetPage:
    ref: str
    fy: int
    label: str
    relation: Relation | None
    streams: tuple[StreamFigures, ...]
    statement: PersonStatement

    @property
    def payments(self) -> tuple[Transaction, ...]:
        """What the budget paid: direct payments to the person, and care paid for on their behalf."""
        return tuple(t for year in self.statement.transactions for t in year.transactions
                     if t.kind == EntryKind.PAYMENT)

    def total(self, field: str) -> int:
        return sum(getattr(s, field) for s in self.streams)


def pounds(pence: int) -> str:
    return format_amount(pence, symbol=True)


def to_date(fy: int) -> Period:
    """The budget year up to today while it runs (contributions due so far, not the year's), else all of it."""
    year, today = financial_year(fy), calendar.today()
    return Period(f"{year.label} to {today:%d %B %Y}", year.start, today) if today in year else year


def _statement(engine: Engine, user: str, ref: str, fy: int) -> PersonStatement:
    authorize(engine, user, Permission.VIEW_PERSON, ref)
    return person_statement(engine, ref, to_date(fy), fy)


def _budget(engine: Engine, user: str, ref: str, fy: int) -> BudgetPage:
    statement = _statement(engine, user, ref, fy)
    return BudgetPage(ref, fy, financial_year(fy).label, linked_people(engine, user).get(ref),
                      tuple(budget_view(engine, ref, fy)), statement)


@functools.cache
def _organisation() -> str:
    """The issuer the statement names, as the CLI's reports name it (IPB_ORGANISATION, else the config file)."""
    return str(config.choose("organisation", config.load(), os.environ, default=config.UNSET_ORGANISATION).value)


def _document(statement: PersonStatement, session: SessionView) -> render.Document:
    return render.document(statement, render.Stamp(_organisation(), session.user, calendar.utc_now()))


async def _read(request: Request, session: SessionView, fn: Callable[[Engine, str, str, int], T], ref: str) -> T | None:
    """`fn(engine, user, ref, fy)` as the signed-in user; None when they may not see `ref`, it is no one, or the
    year is not one the ledger keeps."""
    try:
        return await call(request, session.user, fn, server_of(request).engine, session.user, ref, fy_asked(request))
    except LedgerError:
        return None


def not_found(request: Request, session: SessionView) -> Response:
    return page(request, "refused.html", {"session": session, "title": "Page not found",
                                          "reason": "There is no such budget among those you may see."}, 404)


@signed_page
async def my_people(request: Request, session: SessionView) -> Response:
    """The landing page: straight to the budget when one person is linked, else the list of them."""
    linked = await call(request, session.user, linked_people, server_of(request).engine, session.user)
    if len(linked) == 1:
        return RedirectResponse(f"/my/{next(iter(linked))}", status_code=303)
    return page(request, "my_people.html", {"session": session, "title": "Budgets you may see", "linked": linked})


@signed_page
async def my_budget(request: Request, session: SessionView) -> Response:
    budget = await _read(request, session, _budget, request.path_params["ref"])
    if not isinstance(budget, BudgetPage):
        return not_found(request, session)
    return page(request, "my_budget.html", {"session": session, "title": f"Budget {budget.label}", "budget": budget,
                                            "money": pounds})


@signed_page
async def my_statement(request: Request, session: SessionView) -> Response:
    """The statement exactly as `ipb report statement --format html` writes it: a page of its own, whose one
    inline stylesheet the Content-Security-Policy admits by its hash (still no script)."""
    statement = await _read(request, session, _statement, request.path_params["ref"])
    if not isinstance(statement, PersonStatement):
        return not_found(request, session)
    html = html_page.page(_document(statement, session))
    digest = base64.b64encode(hashlib.sha256(STYLE.search(html).group(1).encode()).digest()).decode()  # type: ignore[union-attr]
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP.replace(
        "style-src 'self'", f"style-src 'sha256-{digest}'")})


@signed_page
async def my_statement_pdf(request: Request, session: SessionView) -> Response:
    ref = request.path_params["ref"]
    statement = await _read(request, session, _statement, ref)
    if not isinstance(statement, PersonStatement):
        return not_found(request, session)
    from ledger.reports.pdf import to_pdf  # fpdf2 only for those who download one

    data = await call(request, session.user, lambda: to_pdf(_document(statement, session)))
    name = f"statement-{ref}-{financial_year(fy_asked(request)).label.replace('/', '-')}.pdf"
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


ROUTES = [Route("/my", my_people), Route("/my/{ref}", my_budget), Route("/my/{ref}/statement", my_statement),
          Route("/my/{ref}/statement.pdf", my_statement_pdf)]
