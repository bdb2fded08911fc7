"""Sign-in policy for the web: lock-out, session lifetimes, what a password must be. Pure: plain values in and out.

A council's security review asks for three things this module answers, so each has one home:
- guessing is bounded: MAX_FAILURES wrong passwords within FAILURE_WINDOW lock the account for LOCK_FOR, and
  a locked account refuses even the right password until then;
- a session ends IDLE_LIFETIME after its last use, and ABSOLUTE_LIFETIME after sign-in whatever its use;
- a password has at least MIN_PASSWORD_LENGTH characters (NCSC and NIST SP 800-63B: length, not composition).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ledger.errors import InvalidInput

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
IDLE_LIFETIME = timedelta(minutes=30)
ABSOLUTE_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing costs the same whatever the length; a megabyte "password" is an attack


class Outcome(StrEnum):
    """How a sign-in attempt ended, as `sign_ins.outcome` records it."""

    OK = "ok"
    WRONG = "wrong"  # a user's wrong password
    LOCKED = "locked"  # refused unread: too many recent failures
    UNKNOWN = "unknown"  # no such user, or one with no password set
    INACTIVE = "inactive"  # a deactivated user, whatever the password


@dataclass(frozen=True, slots=True)
class Failures:
    """A user's recent failed sign-ins: how many since `since`, and the lock they caused, if any."""

    count: int = 0
    since: datetime | None = None
    locked_until: datetime | None = None


def is_locked(state: Failures, now: datetime) -> bool:
    return state.locked_until is not None and now < state.locked_until


def after_failure(state: Failures, now: datetime) -> Failures:
    """The state after one more wrong password at `now`: counted within the window, locked at the limit."""
    if state.since is None or now - state.since > FAILURE_WINDOW:
        state = Failures(0, now, None)
    count = state.count + 1
    return Failures(count, state.since, now + LOCK_FOR if count >= MAX_FAILURES else state.locked_until)


def after_success() -> Failures:
    return Failures()


def check_password(password: str) -> None:
    """Refuse a password too short (or absurdly long) to set; say the rule, never the password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters (got {len(password)}): "
                           "a few unrelated words make a long one that is easy to remember",
                           minimum=MIN_PASSWORD_LENGTH, length=len(password))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"a password may have at most {MAX_PASSWORD_LENGTH} characters", maximum=MAX_PASSWORD_LENGTH)


def session_expires(created_at: datetime, last_seen_at: datetime) -> datetime:
    """When a session used last at `last_seen_at` ends, unless used again (never past its absolute end)."""
    return min(last_seen_at + IDLE_LIFETIME, created_at + ABSOLUTE_LIFETIME)


def session_alive(created_at: datetime, last_seen_at: datetime, ended_at: datetime | None, now: datetime) -> bool:
    return ended_at is None and now < session_expires(created_at, last_seen_at)
