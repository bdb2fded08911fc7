"""The web app: how a request becomes a signed-in user's call, and the sign-in and sign-out pages.

`make_app` builds a Starlette app over one engine. A page for a signed-in user runs its service and report
calls in a worker thread with `call`, which on PostgreSQL (once `ipb db setup-roles` has run) makes each
connection act as the user's own login role (ledger/storage/acting_role.py), so the server's GRANTs and
row-level security hold for the web as they do in psql.

On SQLite the principal stays the OS login running the server, as for the CLI: the file is one trust domain
(ledger/storage/identity.py) and the password table lives in that same file, so signing in proves who the
actor is to ipb, but adds no trust root beyond the file. The engine is therefore not `acting_for_users`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ledger import calendar
from ledger.calendar import financial_year_of
from ledger.errors import Forbidden, InvalidInput, LedgerError, UnknownParty
from ledger.roles import Role
from ledger.services.api_tokens import TokenRefused
from ledger.services.database_roles import roles_set_up
from ledger.services.sign_in import SessionView, SignInRefused, session_of, sign_in, sign_out
from ledger.services.users import role_of
from ledger.storage import acting_role
from ledger.storage.engine import reading
from ledger.web.security import Cookies, SecurityHeaders, new_token, same_token

HERE = Path(__file__).parent
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Server:
    """What every request needs: the ledger, how cookies are made, where evidence files are kept, and whether
    each request acts as its user's own database login (PostgreSQL with ipb's roles set up)."""

    engine: Engine
    cookies: Cookies
    evidence_dir: Path
    set_role: bool
    templates: Jinja2Templates


def make_app(engine: Engine, *, secure: bool = True, evidence_dir: Path | str = "ipb-evidence") -> Starlette:
    from ledger.web import broker, officer, person

    set_role = engine.dialect.name == "postgresql" and _roles_set_up(engine)
    if set_role:
        acting_role.install(engine)
    server = Server(engine, Cookies(secure), Path(evidence_dir), set_role,
                    Jinja2Templates(directory=str(HERE / "templates")))
    from ledger.web import api  # the JSON API for integrations: bearer tokens, no cookies

    routes = [Mount(api.PREFIX, routes=api.ROUTES), Route("/", home),
              Route("/sign-in", sign_in_page, methods=["GET", "POST"]),
              Route("/sign-out", sign_out_page, methods=["POST"]), *broker.ROUTES, *person.ROUTES,
              *officer.ROUTES,
              Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders, secure=secure)])
    app.state.server = server
    return app


def _roles_set_up(engine: Engine) -> bool:
    with reading(engine) as conn:
        return roles_set_up(conn)


def server_of(request: Request) -> Server:
    return request.app.state.server  # type: ignore[no-any-return]


async def signed_in(request: Request) -> SessionView | None:
    server = server_of(request)
    return await run_in_threadpool(session_of, server.engine, request.cookies.get(server.cookies.session))


async def call(request: Request, user: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` in a worker thread, its connections acting as `user`'s login where that applies."""
    role = user if server_of(request).set_role else None

    def run() -> T:
        with acting_role.acting_as(role):
            return fn(*args, **kwargs)

    return await run_in_threadpool(run)


def fy_asked(request: Request) -> int:
    """The financial year a page's `?fy=2025` asks for; the current one if none (or not a year)."""
    asked = request.query_params.get("fy", "")
    return int(asked) if asked.isdigit() and len(asked) == 4 else financial_year_of(calendar.today()).start.year


class TooLarge(InvalidInput):
    code = "too_large"


def status_of(refused: LedgerError) -> int:
    """A refusal's HTTP status, the same for the API and the pages: 401 a token refused, 403 a role that may not,
    404 no such one (or not one the user may see), 413 too large, 422 bad input, and 409 every refusal of the
    rules (a cap, maker/checker, a closed period, an idempotency key used for something else)."""
    if isinstance(refused, TokenRefused):
        return 401
    if isinstance(refused, TooLarge):
        return 413
    if isinstance(refused, Forbidden):
        return 403
    if isinstance(refused, UnknownParty):
        return 404
    if isinstance(refused, InvalidInput):
        return 422
    return 409


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return server_of(request).templates.TemplateResponse(request, name, context, status_code=status)


def forbidden(request: Request, session: SessionView | None) -> Response:
    return page(request, "refused.html", {"session": session, "title": "This form cannot be accepted",
                                          "reason": "The form had expired or did not come from this service. "
                                                    "Go back, reload the page and try again."}, 403)


def signed_page(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """A page (or form handler) for signed-in users: `handler(request, session, **options)`; anyone else is
    sent to sign in."""
    @functools.wraps(handler)
    async def for_signed_in(request: Request, **options: Any) -> Response:
        session = await signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        return await handler(request, session, **options)

    return for_signed_in


async def signed_form(request: Request, **limits: int) -> tuple[SessionView, FormData] | Response:
    """The signed-in user's session and their form, if it carries their CSRF token; else the response to send
    instead: to the sign-in page, or 403. `limits` bound the form as Starlette's `request.form` takes them."""
    session = await signed_in(request)
    if session is None:
        return RedirectResponse("/sign-in", status_code=303)
    form = await request.form(**{"max_files": 0, "max_fields": 4, "max_part_size": 4096, **limits})
    if not same_token(form.get("csrf"), session.csrf):
        return forbidden(request, session)
    return session, form


async def home(request: Request) -> Response:
    session = await signed_in(request)
    return RedirectResponse(await landing(request, session.user) if session else "/sign-in", status_code=303)


async def landing(request: Request, user: str) -> str:
    """Where a user lands: a person (or their representative) on their budget, an officer on what awaits a second
    officer, a broker or other staff on their people."""
    role = await call(request, user, role_of, server_of(request).engine, user)
    return "/my" if role is Role.PERSON else "/approvals" if role is Role.OFFICER else "/people"


async def sign_in_page(request: Request) -> Response:
    server = server_of(request)
    if request.method == "GET":
        return _sign_in_form(request, new_token(), None, "", 200)
    form = await request.form(max_files=0, max_fields=8, max_part_size=4096)
    expected = request.cookies.get(server.cookies.pre_session)
    if not same_token(form.get("csrf"), expected):
        return forbidden(request, None)
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    source = request.client.host if request.client else "unknown"
    try:
        session = await run_in_threadpool(sign_in, server.engine, name, password, source=source)
    except SignInRefused as refused:
        return _sign_in_form(request, str(expected), refused.reason, name, 401)
    response = RedirectResponse(await landing(request, session.user), status_code=303)
    response.set_cookie(server.cookies.session, session.token, **server.cookies.options())  # type: ignore[arg-type]
    response.delete_cookie(server.cookies.pre_session, path="/", secure=server.cookies.secure, httponly=True,
                           samesite="strict")
    return response


def _sign_in_form(request: Request, token: str, error: str | None, name: str, status: int) -> Response:
    cookies = server_of(request).cookies
    response = page(request, "sign_in.html", {"session": None, "title": "Sign in", "csrf": token, "error": error,
                                              "name": name}, status)
    response.set_cookie(cookies.pre_session, token, **cookies.options(max_age=3600))  # type: ignore[arg-type]
    return response


async def sign_out_page(request: Request) -> Response:
    server = server_of(request)
    signed = await signed_form(request)
    if isinstance(signed, Response):
        return signed
    await run_in_threadpool(sign_out, server.engine, request.cookies.get(server.cookies.session))
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(server.cookies.session, path="/", secure=server.cookies.secure, httponly=True,
                           samesite="strict")
    return response
