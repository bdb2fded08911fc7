"""ipb's optional configuration file: the database, the organisation reports are issued by, matching's tolerance
and the Bacs holiday override file.

The first of these that exists is read, and only that one (files are not merged):

1. the file `$IPB_CONFIG` names (it must exist);
2. `./ipb.toml`, in the current directory;
3. `$XDG_CONFIG_HOME/ipb/config.toml` (by default `~/.config/ipb/config.toml`).

    database_url = "postgresql://ipb@ledger.example.org/ipb"   # as --db takes it
    organisation = "Anyshire County Council"                  # the issuer reports name
    bacs_holidays = "bacs-holidays.toml"                      # relative to this file's folder
    [matching]
    tolerance_days = 3                                        # statement match/unmatched --tolerance-days

Every value gives way to its environment variable (`ENVIRONMENT`), and that to a command-line option where
there is one: option > environment > file > built-in default. `choose` applies that order and says where the
value came from (`ipb config show` prints it). An unknown key or a value of the wrong kind is refused in one
line naming the file and the key, so a typo is never silently ignored.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInput
from ledger.identifiers import whole_number

CONFIG_ENV = "IPB_CONFIG"
LOCAL_FILE = "ipb.toml"
MAX_TOLERANCE_DAYS = 60  # processing days: about three months, wider than any bank's clearing delay
DEFAULT_TOLERANCE_DAYS = 3
UNSET_ORGANISATION = "(organisation not configured: set organisation in the config file)"  # reports say so

# setting -> (its key in the file, the environment variable that overrides it)
KEYS: dict[str, tuple[str, str]] = {
    "database_url": ("database_url", "IPB_DATABASE_URL"),
    "organisation": ("organisation", "IPB_ORGANISATION"),
    "tolerance_days": ("matching.tolerance_days", "IPB_TOLERANCE_DAYS"),
    "bacs_holidays": ("bacs_holidays", "IPB_BACS_HOLIDAYS"),
}
ENVIRONMENT = {name: env for name, (_, env) in KEYS.items()}


@dataclass(frozen=True, slots=True)
class Config:
    """What the configuration file says.

    Attributes:
        path: the file read; None when there is none (every value is then None).
        database_url: the database, a URL as `--db` takes it.
        organisation: the organisation that issues the reports (a council, an ICB), one line of text.
        tolerance_days: Bacs processing days a statement line's date may be from a payment's
            (`ipb statement match` and `unmatched`), 0 to 60.
        bacs_holidays: the Bacs holiday override file (see ledger/formats/bank_holidays.py), resolved
            against the configuration file's folder.
    """

    path: Path | None = None
    database_url: str | None = None
    organisation: str | None = None
    tolerance_days: int | None = None
    bacs_holidays: Path | None = None


@dataclass(frozen=True, slots=True)
class Chosen:
    """A setting's value and where it came from: an option (`--db`), an environment variable, the file
    (`/path/ipb.toml: database_url`), or `default`."""

    value: Any
    source: str


def find(environ: Mapping[str, str], cwd: Path) -> Path | None:
    """The configuration file to read, or None; a refusal if IPB_CONFIG names a file that is not there."""
    named = environ.get(CONFIG_ENV, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise InvalidInput(f"{CONFIG_ENV} names {path}, which is not a file: fix the path or unset {CONFIG_ENV}",
                               file=str(path))
        return path
    home = environ.get("XDG_CONFIG_HOME", "").strip() or str(Path(environ.get("HOME", "~")) / ".config")
    for path in (cwd / LOCAL_FILE, Path(home).expanduser() / "ipb" / "config.toml"):
        if path.is_file():
            return path
    return None


def load(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Config:
    """The configuration in force: the first file `find` finds, read; an empty Config when there is none."""
    path = find(os.environ if environ is None else environ, Path.cwd() if cwd is None else cwd)
    return Config() if path is None else read(path)


def read(path: Path) -> Config:
    """`path` as a Config; a one-line refusal naming the file and the key that is wrong."""
    import tomllib  # only when there is a file to read

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc.strerror})", file=str(path)) from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}", file=str(path)) from None
    values = _flatten(path, data)
    unknown = sorted(set(values) - {key for key, _ in KEYS.values()})
    if unknown:
        known = ", ".join(key for key, _ in KEYS.values())
        raise InvalidInput(f"{path}: unknown key {unknown[0]}: the keys are {known}", file=str(path), key=unknown[0])
    found = {name: _checked(path, key, values[key], PARSERS[name]) for name, (key, _) in KEYS.items() if key in values}
    if "bacs_holidays" in found:
        found["bacs_holidays"] = path.parent / found["bacs_holidays"]
    return Config(path=path, **found)


def _flatten(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """{"matching": {"tolerance_days": 3}} -> {"matching.tolerance_days": 3}: one level of tables."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key == "matching":
            flat.update({f"{key}.{inner}": v for inner, v in value.items()})
        else:
            flat[key] = value
    return flat


def _checked(path: Path, key: str, value: Any, parse: Callable[[Any], Any]) -> Any:
    try:
        return parse(value)
    except (InvalidInput, TypeError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, InvalidInput) else str(exc)
        raise InvalidInput(f"{path}: {key}: {reason}", file=str(path), key=key) from None


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("expected text in quotes, e.g. \"...\"")
    if not value.isprintable():
        raise ValueError("must be one line of printable text")
    return value.strip()


def _tolerance(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"expected a whole number of processing days from 0 to {MAX_TOLERANCE_DAYS}")
    return whole_number(str(value), "tolerance", least=0, most=MAX_TOLERANCE_DAYS)


def _path(value: Any) -> Path:
    return Path(_text(value)).expanduser()


PARSERS: dict[str, Callable[[Any], Any]] = {
    "database_url": _text, "organisation": _text, "tolerance_days": _tolerance, "bacs_holidays": _path}


def choose(name: str, config: Config, environ: Mapping[str, str], *, option: Any = None,
           option_name: str | None = None, default: Any = None) -> Chosen:
    """Setting `name` by precedence: the command-line option (if given), its environment variable (if set and
    not empty), the configuration file, the built-in `default`. An environment value is checked as the file's
    would be, and refused naming the variable."""
    if option is not None:
        return Chosen(option, option_name or name)
    env = ENVIRONMENT[name]
    raw = environ.get(env, "").strip()
    if raw:
        if name == "database_url":  # the engine checks a URL, naming its source
            return Chosen(raw, env)
        try:
            return Chosen(PARSERS[name](raw), env)
        except (InvalidInput, TypeError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, InvalidInput) else str(exc)
            raise InvalidInput(f"{env}: {reason}", variable=env) from None
    value = getattr(config, name)
    if value is not None:
        return Chosen(value, f"{config.path}: {KEYS[name][0]}")
    return Chosen(default, "default")
