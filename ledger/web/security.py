"""What every response and every form carries: security headers, the session cookie, and CSRF tokens.

- Headers: a Content-Security-Policy allowing no script at all and only our own stylesheet, no framing
  (frame-ancestors and X-Frame-Options), no MIME sniffing, no referrer to other sites, and `no-store` on every
  page (they show people's budgets); HSTS when cookies are Secure.
- The session cookie is HttpOnly, SameSite=Strict and Secure (named `__Host-`, so no subdomain can set it),
  unless the server was started with --insecure-http for development on localhost.
- CSRF: each session has its own token, which every form carries and every POST must echo (403 otherwise);
  before sign-in, the sign-in form's token is a random cookie echoed by the form (double submit).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin"}
SESSION_SECONDS = 12 * 3600  # the cookie's own lifetime; the server ends sessions sooner (ledger/sign_in_policy.py)


@dataclass(frozen=True, slots=True)
class Cookies:
    """How this server's cookies are made: Secure (HTTPS) or not (--insecure-http, localhost only)."""

    secure: bool

    @property
    def session(self) -> str:
        return "__Host-ipb_session" if self.secure else "ipb_session"

    @property
    def pre_session(self) -> str:
        return "__Host-ipb_csrf" if self.secure else "ipb_csrf"

    def options(self, max_age: int | None = SESSION_SECONDS) -> dict[str, object]:
        return {"httponly": True, "samesite": "strict", "secure": self.secure, "path": "/", "max_age": max_age}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: object, expected: str | None) -> bool:
    """Whether a form's token is the one expected (compared in constant time)."""
    return isinstance(given, str) and bool(expected) and secrets.compare_digest(given.encode(), expected.encode())


class SecurityHeaders:
    """ASGI middleware: the headers above on every response, static files included (they may be cached)."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if not static:
                    headers["Cache-Control"] = "no-store"
                if self.secure:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, send_with_headers)
