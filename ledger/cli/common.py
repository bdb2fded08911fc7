"""What every command shares: the database, the actor, refusals, parsing of typed values, and the options
every command group spells the same way. Printing lives in ledger/cli/output.py."""

from __future__ import annotations

import functools
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ledger import calendar, config
from ledger.calendar import (
    default_day,
    financial_year,
    in_ledger_years,
    in_year,
    is_financial_year,
    parse_day,
    parse_period,
)
from ledger.cli.app import click
from ledger.cli.output import err
from ledger.errors import InvalidInput, LedgerError, Unavailable
from ledger.identifiers import MAX_ID, code, whole_number
from ledger.money import parse_amount
from ledger.roles import Permission, writes
from ledger.services import users
from ledger.storage.engine import DEFAULT_URL, database_url, open_engine, read_only_sessions
from ledger.storage.failures import overflowed, refusal, retrying

if TYPE_CHECKING:
    from rich.progress import Progress  # imported only by the commands that show a bar

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON (amounts in pence).")]
FyOption = Annotated[str, typer.Option("--fy", help="Financial year, e.g. 2025/26")]
DateOption = Annotated[str | None, typer.Option("--date", help="Effective date, e.g. 2025-05-06 (default today)")]
# --date beside --fy: inside the year, and a default inside it (ledger.calendar.default_day says which day)
IncomingDateOption = Annotated[str | None, typer.Option("--date", help=(
    "Effective date, inside the --fy year, e.g. 2025-04-01 (default: today if inside the year, else the year's "
    "first day: its money is there from the start)"))]
OutgoingDateOption = Annotated[str | None, typer.Option("--date", help=(
    "Effective date, inside the --fy year, e.g. 2025-05-06 (default: today if inside the year, else its last "
    "day, or its first if it has not begun)"))]
KeyOption = Annotated[str | None, typer.Option(help="Idempotency key: the same key again posts nothing new")]


def _person_ref(value: str) -> str:
    """A typed person reference: refused in one line unless letters, digits 0-9, '-' and '_', as `person add` takes."""
    try:
        return code(value, "person")
    except InvalidInput as exc:
        raise typer.BadParameter(exc.reason) from None


PersonArg = Annotated[str, typer.Argument(help="The person's pseudonymous reference, e.g. P0001",
                                          callback=_person_ref)]
PayingOption = Annotated[str, typer.Option("--from", help="Paying account code (see `ipb paying-account list`)")]
NewSortCode = Annotated[str, typer.Option(help="The new sort code, e.g. 12-34-56")]
NewAccountNumber = Annotated[str, typer.Option(help="The new account number, 8 digits (7 are padded with a 0)")]
ChangeReason = Annotated[str, typer.Option(
    help="Why, and how the new details were confirmed, e.g. 'account closed; confirmed by phone to the known "
         "contact'")]


log = logging.getLogger("ledger.cli")


@dataclass
class Settings:
    """What a command runs with: the global options as given (before or after the command), and the settings
    they, the environment and the configuration file decide (ledger/config.py: option > environment > file >
    default). Reset before each command line is read."""

    db_option: str | None = None  # --db
    actor: str | None = None  # --as
    as_json: bool = False  # --json, wherever it was given
    verbose: int = 0  # -v, counted
    user: users.Actor | None = None  # set by @requires once the actor is checked
    _engine: Engine | None = None
    _who: str | None = None
    _config: config.Config | None = None

    def reset(self) -> None:
        for field in fields(self):
            setattr(self, field.name, field.default)

    @property
    def config(self) -> config.Config:
        """The configuration file in force, read once (an empty Config when there is none)."""
        if self._config is None:
            self._config = config.load()
            log.info("configuration file: %s", self._config.path or "none")
        return self._config

    def chosen(self, name: str) -> config.Chosen:
        """Setting `name` (a key of ledger.config.KEYS), and where it came from."""
        option, option_name, default = {"database_url": (self.db_option, "--db", DEFAULT_URL),
                                        "tolerance_days": (None, None, config.DEFAULT_TOLERANCE_DAYS),
                                        "organisation": (None, None, config.UNSET_ORGANISATION),
                                        }.get(name, (None, None, None))
        chosen = config.choose(name, self.config, os.environ, option=option, option_name=option_name,
                               default=default)
        log.debug("%s from %s", name, chosen.source)
        return chosen

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.url)
        return self._engine

    @property
    def url(self) -> str:
        """The database: --db, else IPB_DATABASE_URL, else the configuration file's database_url, else
        ./ipb.sqlite; a malformed one is refused naming where it came from."""
        chosen = self.chosen("database_url")
        return database_url(chosen.value, source=chosen.source)

    @property
    def db(self) -> str:
        """The database URL in force (as `ipb init` makes it)."""
        return self.url

    @property
    def organisation(self) -> str:
        """The organisation that issues the reports: IPB_ORGANISATION, else the configuration file's, else a
        sentence saying it is not configured."""
        return self.chosen("organisation").value

    @property
    def tolerance_days(self) -> int:
        """Default of `ipb statement match/unmatched --tolerance-days`: IPB_TOLERANCE_DAYS, else the
        configuration file's [matching] tolerance_days, else 3."""
        return self.chosen("tolerance_days").value

    @property
    def who(self) -> str:
        """The ipb user acting: on PostgreSQL the login you connected as (`--as` may only repeat it, unless you
        are the ledger's owner); on SQLite `--as`, else IPB_USER, else your OS login."""
        if self._who is None:
            self._who = users.acting_user(self.engine, self.actor or os.environ.get("IPB_USER"),
                                          default=getpass.getuser())
            log.info("acting as %s", self._who)
        return self._who


settings = Settings()


@contextmanager
def configured() -> Iterator[None]:
    """While a command runs: the configuration file read (a bad one is refused before the command starts), and
    its bacs_holidays handed to ledger/formats/bank_holidays.py as IPB_BACS_HOLIDAYS, unless the environment
    names a file itself."""
    holidays = settings.chosen("bacs_holidays")
    variable = config.ENVIRONMENT["bacs_holidays"]
    if holidays.value is None or holidays.source == variable:
        yield
        return
    if not holidays.value.is_file():
        raise InvalidInput(f"{holidays.source}: {holidays.value} is not a file: fix the path or remove the key",
                           file=str(holidays.value))
    os.environ[variable] = str(holidays.value)
    try:
        yield
    finally:
        os.environ.pop(variable, None)

F = TypeVar("F", bound=Callable[..., Any])


def refusals(fn: F) -> F:
    """Turn a LedgerError into a one-line reason (or a JSON error) and a non-zero exit code.

    Exit 2 for bad input, 1 for an operation the rules refuse. Nothing was written either way. A command
    that lost the race for the database's lock before committing anything is run again, a few times at most
    (ledger/storage/failures.py); a database that refused, could not be reached or stayed locked is one line.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return retrying(lambda: fn(*args, **kwargs))
        except LedgerError as exc:
            _refuse(exc, _json_asked(kwargs))
        except DBAPIError as exc:  # the database refused a write, stayed locked, or could not be reached
            refused = refusal(exc, settings.url)
            if refused is None:
                raise
            _refuse(refused, _json_asked(kwargs))

    return wrapper  # type: ignore[return-value]


def _refuse(exc: LedgerError, as_json: bool) -> None:
    raise typer.Exit(report(exc, as_json)) from None


def _json_asked(kwargs: dict[str, Any]) -> bool:
    """Whether the command was asked for JSON: --json, or --format json (the same thing)."""
    return bool(kwargs.get("as_json")) or str(kwargs.get("fmt") or "").lower() == "json"


def report(exc: LedgerError, as_json: bool) -> int:
    """Print a refusal: one line on stderr, whatever its text holds (or a JSON error on stdout); its exit code."""
    if as_json:
        print(json.dumps(exc.as_dict(), default=str))
    else:
        reason = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in exc.reason)  # no line breaks, no escapes
        err.print(Text.assemble(("refused:", "bold red"), " ", reason), soft_wrap=True)
    return 2 if isinstance(exc, InvalidInput) else 1


def failure(exc: Exception) -> LedgerError | None:
    """What ipb says of an error that escaped a command, if a user can act on it (the database, a file);
    None for a bug, which stays a traceback."""
    if isinstance(exc, LedgerError):
        return exc
    if isinstance(exc, DBAPIError):
        return refusal(exc, settings.url)
    if (too_big := overflowed(exc)) is not None:
        return too_big
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return Unavailable(f"cannot use the file{where}: {exc.strerror or exc}", file=str(exc.filename or ""))
    return None


def requires(permission: Permission, *, person: str | None = None, listing: bool = False) -> Callable[[F], F]:
    """Refuse the command unless the acting user's role grants `permission`.

    `person` names the command's parameter holding the person it acts on: brokers hold
    people-scoped permissions only for the people assigned to them. A `listing` of people lets a broker
    in, to see only their assigned people (`settings.user.people`). Put it under @refusals.
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            settings.user = users.authorize(settings.engine, settings.who, permission,
                                            kwargs.get(person) if person else None, listing=listing)
            if not writes(settings.user.role):
                read_only_sessions(settings.engine)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return wrap


def parse_date(text: str | None) -> date:
    """A typed date, YYYY-MM-DD in the digits 0-9, inside the financial years the ledger keeps (default today)."""
    if text is None:
        return calendar.today()
    return in_ledger_years(parse_day(text))


def optional_date(text: str | None) -> date | None:
    """A typed date, or None when none was given (the service then picks its documented default)."""
    return None if text is None else parse_date(text)


def date_in_fy(text: str | None, fy: int, *, incoming: bool) -> date:
    """The --date of a command that also takes --fy: refused (one line naming the year's first and last day)
    if outside the year; when not given, the default `ledger.calendar.default_day` picks (say which in --help)."""
    year = financial_year(fy)
    if text is None:
        return default_day(year, calendar.today(), incoming=incoming)
    return in_year(parse_date(text), year)


def parse_fy(text: str) -> int:
    """"2025/26" (or FY2025) -> 2025, the year the financial year starts in."""
    period = parse_period(text)
    if not is_financial_year(period):
        raise InvalidInput(f"{text!r} is {period.start} to {period.end}, not a financial year: give a financial "
                           f"year like 2025/26 (1 April 2025 to 31 March 2026)")
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


class WholeNumber(click.types.ParamType):
    """How every command reads a typed whole number (an id, a count): the digits 0-9 only, from 0 to the
    largest integer the database stores, or a typer `min=`/`max=` range inside that. Typer's own int takes
    Arabic-Indic and full-width digits, '_' and signs, and any size; ledger/cli/app.py puts this in its place."""

    name = "int"  # as typer shows it in --help

    def __init__(self, least: int | None = None, most: int | None = None) -> None:
        self.least = 0 if least is None else least
        self.most = MAX_ID if most is None else min(most, MAX_ID)

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and self.least <= value <= self.most:
            return value  # a default
        try:
            return whole_number(str(value), "the value", least=self.least, most=self.most)
        except InvalidInput as exc:
            self.fail(exc.reason.removeprefix("the value "), param, ctx)


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
        TextColumn("{task.description}", markup=False),  # a file's or account's name, printed as it is
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
