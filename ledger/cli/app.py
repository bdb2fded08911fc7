"""The `ipb` command: global options, and the commands, each loaded only when it runs.

Every top-level command `ipb NAME` lives in `ledger/cli/NAME.py` (dashes become underscores) as a
Typer app called `app`: a group of subcommands, or a single command. `COMMANDS` below is the one
registration: name, module, and the line `ipb --help` shows, so that listing the commands imports
none of them (tests/test_cli_app.py keeps those lines equal to each command's own help).
Start-up matters: a broker logging twenty spends starts Python twenty times.

The global options (`--db`, `--as`, `--json`, `-v`) are the root's, and `load` adds them to every group and
command it builds, so they are read before or after the subcommand by Click's own parser: a value that looks
like an option (`--memo --as`) stays the value of its option, and nothing after `--` is an option.
"""

from __future__ import annotations

import errno
import functools
import importlib
import sys
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

try:
    from typer import _click as click  # Typer 0.28 carries its own copy of Click
except ImportError:  # pragma: no cover  (older Typer uses Click itself)
    import click  # type: ignore[no-redef]

import ledger
from ledger import collector
from ledger.errors import InvalidInput, LedgerError

# name -> (panel, one-line help). Modules are ledger/cli/<name with _ for ->.py.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("Start", "Create the database, or bring it up to the newest schema."),
    "demo": ("Start", "A year of a council, an ICB and a section 75 pool around 200 people, end to end."),
    "config": ("Start", "The settings in force (database, organisation, matching tolerance) and where each "
                        "comes from."),
    "user": ("Start", "Users and roles: who may use the ledger, in which role, and whom each broker serves."),
    "db": ("Start", "The database's own roles, so the server enforces each ipb role (PostgreSQL)."),
    "serve": ("Start", "The ledger in the browser and its JSON API: brokers log spend, people see their own budget, "
                       "officers approve."),
    "funder": ("Funding and budgets", "Funders: ICBs, councils, education, the person, third parties."),
    "person": ("Funding and budgets", "People, by pseudonymous reference."),
    "pool": ("Funding and budgets", "Section 75 pooled budgets (e.g. the Better Care Fund)."),
    "budget": ("Funding and budgets", "Integrated personal budgets: allocate, spend, recover, view."),
    "assess": ("Funding and budgets", "Decide who pays, what the person pays each week, and whether a top-up is "
                                      "allowed; explain why."),
    "plan": ("Care plans and spend", "Care and support plans: versioned lines, the management mode, "
                                     "commitments, and planned vs committed vs actual."),
    "spend": ("Care plans and spend", "Spend logged against a line of a person's current plan."),
    "paying-account": ("Payments", "Council bank accounts payments are made from."),
    "provider": ("Payments", "Care providers paid on invoice."),
    "schedule": ("Payments", "Direct payment schedules: 4-weekly, in advance, into the person's DP account."),
    "invoice": ("Payments", "Provider invoices, paid by the next run from the person's budget."),
    "run": ("Payments", "Payment runs: gather, approve (a second officer), file, submit, settle; or cancel."),
    "payment": ("Payments", "Single payments: list, returns, paying a returned one again, bank details changes."),
    "dp": ("Payments", "A person's direct payment account: their spend and contributions."),
    "surplus": ("Payments", "Direct payment surpluses above the contingency, recovered to the funders."),
    "statement": ("Payments", "Bank statements: import, match lines to payments, list what is unmatched."),
    "report": ("Reports and audit", "Statements for auditors, each stamped with the chain head it was produced at."),
    "export": ("Reports and audit", "Export a period for hledger or Beancount to check independently."),
    "reconcile": ("Reports and audit", "Check pooled totals, budgets and balances agree to the penny."),
    "audit": ("Reports and audit", "Prove the books are unchanged: hash chain and balances."),
    "period": ("Reports and audit", "Close financial years and months to posting."),
    "account": ("Ledger: accounts and corrections", "Open, list, show and close ledger accounts."),
    "post": ("Ledger: accounts and corrections", "Post a balanced entry, from flags or a file."),
    "import": ("Ledger: accounts and corrections", "Import another ledger's transactions: an hledger journal, "
                                                   "a Beancount file, or ipb's own CSV or entry file."),
    "reverse": ("Ledger: accounts and corrections", "Post the mirror image of an entry."),
    "entry": ("Ledger: accounts and corrections", "Look at posted entries."),
    "hold": ("Ledger: accounts and corrections", "Two-phase holds: reserve funds now, post or void later."),
    "balance": ("Ledger: accounts and corrections", "An account's balance, or the trial balance."),
}


def summary(name: str) -> str:
    """The one line `ipb --help` shows for command `name`; a group's own help starts with it."""
    return COMMANDS[name][1]


def module_of(name: str) -> str:
    return f"ledger.cli.{name.replace('-', '_')}"


def load(name: str) -> typer.core.TyperCommand | TyperGroup:
    """The click command of `ipb NAME`, built from its module's Typer app; every whole number it takes is read
    by `ledger.cli.common.WholeNumber` (digits 0-9, within what the database stores)."""
    command = typer.main.get_command(importlib.import_module(module_of(name)).app)
    collector.started()
    command.name = name
    _whole_numbers(command)
    _global_options(command, name)
    return command


def _whole_numbers(command: Any) -> None:
    from ledger.cli.common import WholeNumber

    for param in command.params:
        if isinstance(param.type, click.types.IntRange):  # typer's min= and max=
            param.type = WholeNumber(param.type.min, param.type.max)
        elif isinstance(param.type, click.types.IntParamType):
            param.type = WholeNumber()
    for sub in getattr(command, "commands", {}).values():
        _whole_numbers(sub)


GLOBAL_HELP = {
    "db": "Database URL (default: IPB_DATABASE_URL, else the config file's database_url, else ./ipb.sqlite)",
    "as": "Who is acting (default: IPB_USER or your login)",
    "json": "Print machine-readable JSON, as the command's own --json does",
    "verbose": "Say on stderr what the command did and how long it took; -vv adds the SQL",
}


def _global_options(command: Any, path: str) -> None:
    """Let `command` and every command under it take the global options too, before or after its arguments;
    and, with -v, log what each leaf command did."""
    own = {opt for param in command.params for opt in getattr(param, "opts", ())}
    panel = {"expose_value": False, "rich_help_panel": "Global options"}
    command.params += [
        TyperOption(param_decls=["--db"], metavar="URL", callback=_remember("db_option"), help=GLOBAL_HELP["db"],
                    **panel),
        TyperOption(param_decls=["--as"], metavar="USER", callback=_remember("actor"), help=GLOBAL_HELP["as"],
                    **panel),
        TyperOption(param_decls=["--verbose", "-v"], count=True, default=0, metavar="", callback=_more_verbose,
                    help=GLOBAL_HELP["verbose"], **panel)]
    if "--json" in own:  # the command's own --json; given before the command, it counts here too
        for param in command.params:
            if "--json" in getattr(param, "opts", ()):
                param.callback = _json
    elif hasattr(command, "commands"):
        command.params.append(TyperOption(param_decls=["--json"], is_flag=True, default=False, callback=_json,
                                          help=GLOBAL_HELP["json"], **panel))
    for name, sub in getattr(command, "commands", {}).items():
        _global_options(sub, f"{path} {name}")
    if not hasattr(command, "commands") and command.callback is not None:
        command.callback = _logged(command.callback, path)


def _remember(field: str) -> Callable[[Any, Any, Any], Any]:
    def remember(ctx: Any, param: Any, value: Any) -> Any:
        from ledger.cli.common import settings

        if value is not None:
            setattr(settings, field, value)
        return value

    return remember


def _more_verbose(ctx: Any, param: Any, value: int) -> int:
    from ledger.cli.common import settings

    settings.verbose += value or 0
    return value


def _json(ctx: Any, param: Any, value: bool) -> bool:
    from ledger.cli.common import settings

    settings.as_json = settings.as_json or bool(value)
    return settings.as_json


def _logged(callback: Callable[..., Any], path: str) -> Callable[..., Any]:
    """`callback` run with the configuration in force, and with -v, logging what it did and how long it took."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from ledger.cli.common import configured, settings

        if not settings.verbose:
            with configured():
                return callback(*args, **kwargs)
        with logging_to_stderr(settings.verbose) as log:
            start, outcome = time.perf_counter(), "failed"
            try:
                with configured():
                    result = callback(*args, **kwargs)
                outcome = "done"
                return result
            except typer.Exit as exc:
                outcome = f"exit {exc.exit_code}"
                raise
            finally:
                log.info("command %s took %.0f ms (%s)", path, (time.perf_counter() - start) * 1000, outcome)

    return run


@contextmanager
def logging_to_stderr(verbose: int) -> Iterator[Any]:
    """While a command runs with -v: ipb's own log at INFO (-vv: DEBUG, and SQLAlchemy's statements; -vvv: and
    the rows they return) on stderr, never stdout, so --json output stays whole. Undone afterwards."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    levels = {"ledger": logging.INFO if verbose == 1 else logging.DEBUG}
    if verbose > 1:
        levels["sqlalchemy.engine"] = logging.INFO if verbose == 2 else logging.DEBUG
    before = {name: logging.getLogger(name).level for name in levels}
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).addHandler(handler)
    try:
        yield logging.getLogger("ledger.cli")
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).removeHandler(handler)


class _Commands(MutableMapping[str, Any]):
    """The root's commands by name, each imported and built on first use."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in COMMANDS:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded[name] = load(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("commands are registered in ledger/cli/app.py COMMANDS")

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class LazyGroup(TyperGroup):
    """The root group: commands come from COMMANDS on demand; its help lists them without loading any."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return list(COMMANDS)

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:  # type: ignore[override]
        from ledger.cli.root_help import render

        render(self, ctx)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        """Run `ipb`: whatever goes wrong that a user can act on ends in one line on stderr (or a JSON error
        with --json) and exit 2 for bad input (a usage error, a malformed URL), else 1; a bug is a traceback."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = sys.argv[1:] if args is None else list(args)
        extra.pop("windows_expand_args", None)
        try:
            with self.make_context(prog_name or "ipb", argv, **extra) as ctx:
                self.invoke(ctx)
            code = 0
        except typer.Exit as exc:
            code = exc.exit_code
        except click.exceptions.ClickException as exc:  # an unknown option, a missing argument, a bad value
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help is already printed
                code = exc.exit_code
            else:
                code = _report(_click_refusal(exc), argv, exc.exit_code)
        except typer.Abort:
            code = _report(LedgerError("aborted: nothing more was done"), argv, 1)
        except KeyboardInterrupt:
            code = 130
        except Exception as exc:
            from ledger.cli.common import failure

            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:  # the reader of our output went away
                sys.stdout = click.utils.PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
                sys.exit(1)
            refused = failure(exc)
            if refused is None:
                raise
            code = _report(refused, argv)
        sys.exit(code)


app = typer.Typer(
    name="ipb",
    cls=LazyGroup,
    help="Integrated personal budgets: a double-entry ledger for NHS, social care and pooled money. "
         "The options below go before or after the command (`ipb user list --as ada` is `ipb --as ada user "
         "list`); `ipb config show` says which database and settings are in force, and why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _click_refusal(exc: click.exceptions.ClickException) -> LedgerError:
    """A usage error (an unknown option, a missing argument, a value of the wrong kind) as a one-line refusal."""
    ctx = getattr(exc, "ctx", None)
    message = " ".join(exc.format_message().splitlines())
    if isinstance(exc, click.exceptions.UsageError):
        return InvalidInput(f"{message} (see `{ctx.command_path if ctx else 'ipb'} --help`)")
    return LedgerError(message)


def _report(refused: LedgerError, argv: list[str], code: int | None = None) -> int:
    """Print `refused` as ipb prints every refusal; the exit code (`code`, else the refusal's own)."""
    from ledger.cli.common import report

    shown = report(refused, "--json" in argv)
    return shown if code is None else code


def _version(value: bool) -> None:
    if value:
        print(f"ipb {ledger.__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    db: Annotated[str | None, typer.Option(metavar="URL", help=GLOBAL_HELP["db"], show_default=False)] = None,
    actor: Annotated[str | None, typer.Option("--as", metavar="USER", help=GLOBAL_HELP["as"],
                                              show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=GLOBAL_HELP["json"])] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help=GLOBAL_HELP["verbose"],
                                         show_default=False)] = 0,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Runs before the command's own options are read: those given after the command are added to these."""
    from ledger.cli.common import settings

    settings.reset()
    settings.db_option, settings.actor, settings.as_json, settings.verbose = db, actor, as_json, verbose


def main() -> None:
    """The console script `ipb` and `python -m ledger`."""
    collector.starting()  # until the command is loaded (ledger/collector.py)
    app(prog_name="ipb")
