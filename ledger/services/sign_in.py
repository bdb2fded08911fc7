"""Signing in to the web: setting a password, checking one, and the sessions that follow.

Passwords are hashed with Argon2id (argon2-cffi's `PasswordHasher`, RFC 9106's defaults), never stored or
logged. Every attempt is written to the append-only `sign_ins` journal, in its own transaction, before any
refusal: a refused sign-in leaves its record and nothing else. An unknown name costs the same work as a
known one (a dummy hash is verified), and every refusal reads the same to the client except the lock-out,
which says until when. The rules (how many failures lock, for how long, session lifetimes, password
length) are ledger/sign_in_policy.py's.

A hash changes only when an admin sets the password, and the history chain records the SHA-256 of each: a hash
put in any other way fails `audit verify`. So a hash made at an older Argon2 cost is not redone at sign-in
(the web's own login may not write the history); it stays until the password is next set.

A session is a random token in the browser's cookie; the database keeps only its SHA-256, so a copy of
the database signs nobody in. Each session has its own CSRF token, which every form carries.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, insert, select, update

from ledger.calendar import utc_now
from ledger.canonical import sha256_hex
from ledger.errors import Forbidden, UnknownParty
from ledger.history import Op
from ledger.models import users
from ledger.models.web_access import sign_ins, user_passwords, web_sessions
from ledger.roles import Permission
from ledger.services.history import track
from ledger.services.users import actor_in, check
from ledger.sign_in_policy import (
    MAX_PASSWORD_LENGTH,
    Failures,
    Outcome,
    after_failure,
    after_success,
    check_password,
    is_locked,
    session_alive,
    session_expires,
)
from ledger.storage.engine import reading

TOUCH_AFTER = timedelta(minutes=1)
NOT_RECOGNISED = "that user name and password were not recognised"


class SignInRefused(Forbidden):
    """A sign-in refused: the reason is the same for a wrong password, an unknown or deactivated user."""

    code = "sign_in_refused"


@dataclass(frozen=True, slots=True)
class Session:
    token: str  # for the cookie only: the database holds its SHA-256
    user: str
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionView:
    user: str
    csrf: str
    expires_at: datetime


@functools.cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


_DUMMIES: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown, so that finding that out costs as long as a check
    (one per set of hashing parameters, made once)."""
    hasher = _hasher()
    cost = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if cost not in _DUMMIES:
        _DUMMIES[cost] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMIES[cost]


def token_hash(token: str) -> str:
    """Hex SHA-256 of a token, as `web_sessions` and `api_tokens` store it; and of a password hash, as
    `user_passwords.hash_sha256` and the history chain keep it."""
    return sha256_hex(token.encode())


def set_password(engine: Engine, name: str, password: str, *, actor: str) -> None:
    """Set (or replace) `name`'s web password: an administrator's duty, recorded in the history chain.
    Ends the user's open sessions and clears any lock-out."""
    check_password(password)
    _store_hashes(engine, {name: _hasher().hash(password)}, actor=actor)


@dataclass(frozen=True)
class NewPasswords:
    """Random passwords made for users, to be shown once, and their Argon2 hashes (`new_passwords`)."""

    shown: dict[str, str]  # user -> password
    hashes: dict[str, str] = field(repr=False)


def new_passwords(names: Sequence[str]) -> NewPasswords:
    """A new random password for each user, and its hash: Argon2's work only, no database, so it may run on a
    thread of its own while the caller goes on (argon2-cffi lets go of the GIL while it hashes)."""
    made = {name: "-".join(secrets.token_urlsafe(6) for _ in range(3)) for name in names}
    for password in made.values():
        check_password(password)
    return NewPasswords(made, {name: _hasher().hash(password) for name, password in made.items()})


def store_passwords(engine: Engine, made: NewPasswords, *, actor: str) -> dict[str, str]:
    """Set the passwords `new_passwords` made, as `set_password` sets each, in one transaction; them, to be shown
    once."""
    _store_hashes(engine, made.hashes, actor=actor)
    return made.shown


def _store_hashes(engine: Engine, hashed: dict[str, str], *, actor: str) -> None:
    """Store each user's new password hash, end their open sessions and clear any lock-out, in one transaction."""
    now = utc_now()
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.USERS)
        for name, hash_ in hashed.items():
            user_id = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
            if user_id is None:
                raise UnknownParty(f"no user {name!r}; add them first with `ipb user add`", user=name)
            values = {"hash": hash_, "hash_sha256": token_hash(hash_), "set_at": now, "set_by": actor, "failures": 0,
                      "failed_since": None, "locked_until": None}
            changed = conn.execute(update(user_passwords).where(user_passwords.c.user_id == user_id)
                                   .values(**values))
            if changed.rowcount == 0:
                conn.execute(insert(user_passwords).values(user_id=user_id, **values))
            conn.execute(update(web_sessions)
                         .where(web_sessions.c.user_id == user_id, web_sessions.c.ended_at.is_(None))
                         .values(ended_at=now))
            track(conn, "user_passwords", {"user_id": user_id}, actor=actor,
                  op=Op.UPDATE if changed.rowcount else Op.INSERT, reason="password set")


def sign_in(engine: Engine, name: str, password: str, *, source: str) -> Session:
    """A new session for `name` if `password` is theirs and they are active and not locked out; refused
    otherwise. Every attempt is recorded, whatever its outcome."""
    now = utc_now()
    password = password[:MAX_PASSWORD_LENGTH]
    # The slow hash is checked before the write transaction, not inside it: on SQLite its lock is the whole
    # file's, and every sign-in and page of every user queued behind each hash (bench/bench_web.py).
    with reading(engine) as conn:
        stored = conn.execute(select(user_passwords.c.hash).join(users, users.c.id == user_passwords.c.user_id)
                              .where(users.c.name == name)).scalar()
    right = _verify(stored or _dummy_hash(), password)
    with engine.begin() as conn:
        outcome, user_id, locked_until = _attempt(conn, name, stored, right, now)
        conn.execute(insert(sign_ins).values(user_name=name[:80], at=now, outcome=str(outcome), source=source[:100]))
        session = _open_session(conn, user_id, name, now) if outcome is Outcome.OK else None
    if session is not None:
        return session
    if outcome is Outcome.LOCKED:
        assert locked_until is not None
        raise SignInRefused(f"too many failed sign-ins: try again after {locked_until:%H:%M} UTC",
                            until=locked_until.isoformat(timespec="minutes"))
    raise SignInRefused(NOT_RECOGNISED)


def _attempt(conn: Connection, name: str, checked: str | None, right: bool, now: datetime
             ) -> tuple[Outcome, int | None, datetime | None]:
    """The attempt's outcome, the user's id, and their lock's end; the failure state updated (locked row).
    `right` says whether the password given matched the hash `checked`, read before this transaction."""
    row = conn.execute(
        select(users.c.id, users.c.active, user_passwords.c.hash, user_passwords.c.failures,
               user_passwords.c.failed_since, user_passwords.c.locked_until)
        .join(user_passwords, user_passwords.c.user_id == users.c.id).where(users.c.name == name)
        .with_for_update(of=user_passwords)).first()
    if row is None:
        return Outcome.UNKNOWN, None, None
    state = Failures(row.failures, row.failed_since, row.locked_until)
    if is_locked(state, now):
        return Outcome.LOCKED, row.id, state.locked_until
    right = right and row.hash == checked  # a password set meanwhile was not the one checked
    if not row.active:
        return Outcome.INACTIVE, row.id, None
    if right:
        _store_failures(conn, row.id, after_success())
        return Outcome.OK, row.id, None
    state = after_failure(state, now)
    _store_failures(conn, row.id, state)
    return (Outcome.WRONG, row.id, None)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _store_failures(conn: Connection, user_id: int, state: Failures) -> None:
    conn.execute(update(user_passwords).where(user_passwords.c.user_id == user_id).values(
        failures=state.count, failed_since=state.since, locked_until=state.locked_until))


def _open_session(conn: Connection, user_id: int | None, name: str, now: datetime) -> Session:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = session_expires(now, now)
    conn.execute(insert(web_sessions).values(token_hash=token_hash(token), user_id=user_id, csrf=csrf, created_at=now,
                                             last_seen_at=now, expires_at=expires))
    return Session(token, name, csrf, expires)


def session_of(engine: Engine, token: str | None) -> SessionView | None:
    """The signed-in user of a session token, if the session is alive and the user still active; using it
    moves its idle end on. None otherwise (signed out, expired, unknown, deactivated)."""
    if not token or len(token) > 200:
        return None
    now = utc_now()
    # read first, without the write lock (on SQLite the whole file's): every page of every user checks a session
    with reading(engine) as conn:
        row = conn.execute(
            select(web_sessions, users.c.name, users.c.active).join(users, users.c.id == web_sessions.c.user_id)
            .where(web_sessions.c.token_hash == token_hash(token))).first()
    if row is None or not row.active or not session_alive(row.created_at, row.last_seen_at, row.ended_at, now):
        return None
    if now - row.last_seen_at < TOUCH_AFTER:  # no write for every page within the minute
        return SessionView(row.name, row.csrf, row.expires_at)
    expires = session_expires(row.created_at, now)
    with engine.begin() as conn:  # unless it was ended meanwhile (signed out, a new password)
        touched = conn.execute(update(web_sessions).where(web_sessions.c.token_hash == row.token_hash,
                                                          web_sessions.c.ended_at.is_(None))
                               .values(last_seen_at=now, expires_at=expires)).rowcount
    return SessionView(row.name, row.csrf, expires) if touched else None


def sign_out(engine: Engine, token: str | None) -> None:
    if not token:
        return
    with engine.begin() as conn:
        conn.execute(update(web_sessions).where(web_sessions.c.token_hash == token_hash(token),
                                                web_sessions.c.ended_at.is_(None)).values(ended_at=utc_now()))
