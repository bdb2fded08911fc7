"""What every command shares: the database, the actor, refusals, parsing of typed values, and the options
every command group spells the same way. Printing lives in ledger/cli/output.py."""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ledger.calendar import parse_period
from ledger.cli.output import err
from ledger.errors import InvalidInput, LedgerError, NotAllowed
from ledger.money import parse_amount
from ledger.roles import Permission, writes
from ledger.services import users
from ledger.storage.engine import database_url, open_engine, read_only_sessions, write_refused

if TYPE_CHECKING:
    from rich.progress import Progress  # imported only by the commands that show a bar

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON (amounts in pence).")]
FyOption = Annotated[str, typer.Option("--fy", help="Financial year, e.g. 2025/26")]
DateOption = Annotated[str | None, typer.Option("--date", help="Effective date, e.g. 2025-05-06 (default today)")]
KeyOption = Annotated[str | None, typer.Option(help="Idempotency key: the same key again posts nothing new")]
PersonArg = Annotated[str, typer.Argument(help="The person's pseudonymous reference, e.g. P0001")]
PayingOption = Annotated[str, typer.Option("--from", help="Paying account code (see `ipb paying-account list`)")]
NewSortCode = Annotated[str, typer.Option(help="The new sort code, e.g. 12-34-56")]
NewAccountNumber = Annotated[str, typer.Option(help="The new account number, 8 digits (7 are padded with a 0)")]
ChangeReason = Annotated[str, typer.Option(
    help="Why, and how the new details were confirmed, e.g. 'account closed; confirmed by phone to the known "
         "contact'")]


@dataclass
class Settings:
    db: str | None = None
    actor: str | None = None
    user: users.Actor | None = None  # set by @requires once the actor is checked
    _engine: Engine | None = None
    _who: str | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.db)
        return self._engine

    @property
    def url(self) -> str:
        return database_url(self.db)

    @property
    def who(self) -> str:
        """The ipb user acting: on PostgreSQL the login you connected as (`--as` may only repeat it, unless you
        are the ledger's owner); on SQLite `--as`, else IPB_USER, else your OS login."""
        if self._who is None:
            self._who = users.acting_user(self.engine, self.actor or os.environ.get("IPB_USER"),
                                          default=getpass.getuser())
        return self._who


settings = Settings()

F = TypeVar("F", bound=Callable[..., Any])


def refusals(fn: F) -> F:
    """Turn a LedgerError into a one-line reason (or a JSON error) and a non-zero exit code.

    Exit 2 for bad input, 1 for an operation the rules refuse. Nothing was written either way.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LedgerError as exc:
            _refuse(exc, kwargs.get("as_json", False))
        except DBAPIError as exc:  # the database itself refused a write this connection may not make
            reason = write_refused(exc)
            if reason is None:
                raise
            _refuse(NotAllowed(f"the database refused to write: {reason}"), kwargs.get("as_json", False))

    return wrapper  # type: ignore[return-value]


def _refuse(exc: LedgerError, as_json: bool) -> None:
    if as_json:
        print(json.dumps(exc.as_dict(), default=str))
    else:
        err.print(Text.assemble(("refused:", "bold red"), " ", exc.reason), soft_wrap=True)
    raise typer.Exit(2 if isinstance(exc, InvalidInput) else 1) from None


def requires(permission: Permission, *, person: str | None = None) -> Callable[[F], F]:
    """Refuse the command unless the acting user's role grants `permission`.

    `person` names the command's parameter holding the person it acts on: brokers hold
    people-scoped permissions only for the people assigned to them. Put it under @refusals.
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            settings.user = users.authorize(settings.engine, settings.who, permission,
                                            kwargs.get(person) if person else None)
            if not writes(settings.user.role):
                read_only_sessions(settings.engine)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return wrap


def parse_date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"date {text!r} is not a date like 2025-04-01") from None


def parse_fy(text: str) -> int:
    """"2025/26" (or FY2025) -> 2025, the year the financial year starts in."""
    period = parse_period(text)
    if period.start.month != 4 or period.end.month != 3:
        raise InvalidInput(f"{text!r} is a month; give a financial year like 2025/26")
    return period.start.year


def checkpoint_if_configured() -> str | None:
    """After approving a payment run or closing a period: a signed checkpoint, when IPB_AUDIT_KEY and
    IPB_AUDIT_LOG name a key and a log. A line saying so, or None."""
    from ledger.services.checkpoints import AuditKey, take_checkpoint

    where = AuditKey.configured()
    if where is None:
        return None
    cp = take_checkpoint(settings.engine, where, actor=settings.who).checkpoint
    return f"checkpoint signed at entry {cp.entry}, history record {cp.history}, appended to {where.log}"


def positive_amount(text: str, what: str = "amount") -> int:
    """A typed amount in pence that must be more than 0.00."""
    pence = parse_amount(text)
    if pence <= 0:
        raise InvalidInput(f"{what} must be positive (more than 0.00), got {text!r}")
    return pence


E = TypeVar("E", bound=Enum)


def choice(kind: type[E], text: str, what: str) -> E:
    """`text` as a member of the enum `kind`, or a refusal listing the choices."""
    try:
        return kind(text)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} unknown: use one of {', '.join(str(k.value) for k in kind)}") from None


def progress() -> Progress:
    """A progress bar for long work, on stderr so --json output stays clean."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
