"""Tokens for integrations using the JSON API (ledger/web/api.py): issuing, revoking, and knowing who calls.

An integration acts as an ipb user (say `casesys`, added with `ipb user add casesys --role broker`): that user's
role is the token's role, and a broker's assignments limit the token as they limit the broker. A token is
`ipb_` and 32 random bytes, shown once when issued; the database keeps only its SHA-256, so a copy of the
database calls nothing. Issuing and revoking are an administrator's duty and recorded in the history chain.

`authenticate` finds the token by its hash (an indexed lookup of a digest, so how long it takes tells nothing
about any stored token) and records the use; a token unknown, revoked, or whose user is deactivated is
refused, and the attempt written to the append-only `sign_ins` journal in its own transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from ledger.calendar import utc_now
from ledger.errors import Forbidden, InvalidInput, UnknownParty
from ledger.history import Op
from ledger.identifiers import code
from ledger.models import users
from ledger.models.web_access import api_tokens, sign_ins
from ledger.roles import Permission, Role
from ledger.services.history import track
from ledger.services.sign_in import TOUCH_AFTER, token_hash
from ledger.services.users import actor_in, check
from ledger.sign_in_policy import Outcome
from ledger.storage.engine import reading

PREFIX = "ipb_"
MAX_TOKEN_LENGTH = 200


class TokenRefused(Forbidden):
    """No token, or one unknown, revoked or whose user is deactivated: the same reason for all of them."""

    code = "unauthorized"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a token acts as."""

    integration: str
    user: str
    role: Role


@dataclass(frozen=True, slots=True)
class TokenRow:
    name: str
    user: str
    role: Role
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None


def issue(engine: Engine, name: str, user: str, *, actor: str) -> str:
    """A new token for integration `name`, acting as `user`: returned once, never stored."""
    code(name, "integration name")
    token = PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.USERS)
        row = conn.execute(select(users.c.id, users.c.active).where(users.c.name == user)).first()
        if row is None:
            raise UnknownParty(f"no user {user!r}; add the integration's user first with `ipb user add`", user=user)
        if not row.active:
            raise InvalidInput(f"user {user!r} is deactivated: a token for them would be refused", user=user)
        if conn.execute(select(api_tokens.c.id).where(api_tokens.c.name == name)).first() is not None:
            raise InvalidInput(f"an API token named {name!r} exists already (names are never reused): choose "
                               f"another name, e.g. {name}-2", integration=name)
        token_id = conn.execute(insert(api_tokens).values(
            name=name, user_id=row.id, token_hash=token_hash(token), created_at=utc_now(), created_by=actor,
        ).returning(api_tokens.c.id)).scalar_one()
        track(conn, "api_tokens", token_id, actor=actor, op=Op.INSERT, reason="API token issued")
    return token


def revoke(engine: Engine, name: str, *, actor: str) -> None:
    """Stop integration `name`'s token working, at once and for good."""
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.USERS)
        row = conn.execute(select(api_tokens.c.id, api_tokens.c.revoked_at)
                           .where(api_tokens.c.name == name).with_for_update()).first()
        if row is None:
            raise UnknownParty(f"no API token named {name!r}; `ipb user token list` shows them", integration=name)
        if row.revoked_at is not None:
            raise InvalidInput(f"the API token {name!r} was revoked already, at {row.revoked_at:%Y-%m-%d %H:%M} UTC",
                               integration=name)
        conn.execute(update(api_tokens).where(api_tokens.c.id == row.id)
                     .values(revoked_at=utc_now(), revoked_by=actor))
        track(conn, "api_tokens", row.id, actor=actor, reason="API token revoked")


def list_tokens(engine: Engine) -> list[TokenRow]:
    """Every token ever issued (never the hash), by integration name."""
    query = (select(api_tokens.c.name, users.c.name.label("user"), users.c.role, api_tokens.c.created_at,
                    api_tokens.c.created_by, api_tokens.c.revoked_at, api_tokens.c.revoked_by,
                    api_tokens.c.last_used_at)
             .join(users, users.c.id == api_tokens.c.user_id).order_by(api_tokens.c.name))
    with reading(engine) as conn:
        return [TokenRow(r.name, r.user, Role(r.role), r.created_at, r.created_by, r.revoked_at, r.revoked_by,
                         r.last_used_at) for r in conn.execute(query)]


def authenticate(engine: Engine, token: str | None, *, source: str) -> Caller:
    """Who `token` acts as, its use recorded (to the minute); refused (and the attempt journalled) if it is not a
    live token."""
    now = utc_now()
    digest = token_hash(token) if token and len(token) <= MAX_TOKEN_LENGTH else None
    # read first, without the write lock (on SQLite the whole file's): every call of an integration checks its token
    with reading(engine) as conn:
        row = None if digest is None else conn.execute(
            select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.revoked_at, api_tokens.c.last_used_at,
                   users.c.name.label("user"), users.c.role, users.c.active)
            .join(users, users.c.id == api_tokens.c.user_id).where(api_tokens.c.token_hash == digest)).first()
    if row is not None and row.revoked_at is None and row.active:  # found by its hash: nothing to compare
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_AFTER:
            with engine.begin() as conn:
                conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now))
        return Caller(row.name, row.user, Role(row.role))
    outcome = Outcome.UNKNOWN if row is None else Outcome.INACTIVE
    who = f"api-token:{row.name}" if row is not None else "api-token"
    with engine.begin() as conn:
        conn.execute(insert(sign_ins).values(user_name=who[:80], at=now, outcome=str(outcome), source=source[:100]))
    raise TokenRefused("no valid API token: send `Authorization: Bearer <token>` with a live token")
