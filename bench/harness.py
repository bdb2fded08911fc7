"""What the benchmarks share: timing, interleaved repeats, medians, raw-sqlite3 helpers, the machine, the table.

Each script in bench/ measures its own thing; this module only holds the parts they measure and report
it with, so that every bench times, summarises and prints the same way:

- `timed` runs a callable once under `time.perf_counter`; `median_ms` takes warm-up runs, then the
  median (and min and p95) of N timed runs.
- `round_robin` runs several measurements in turn, round after round (A B C, A B C, ...), never all
  runs of one and then all of the next: on a small VM whose speed drifts, or which is running other
  work, each side then sees the machine at the same moments, and their ratio moves much less than
  either figure. `paired_ms` is its two-sided case (ours and raw).
- `raw_connect` opens a SQLite file with plain sqlite3 and the PRAGMAs the ledger's engine uses
  (ledger/storage/engine.py); `insert_sql` is the plain INSERT of every column of a table. The raw
  baselines copy the ledger's own rows into a second file with these.
- `machine` and `describe` say what the figures were measured on: CPUs, Python, SQLite and package
  versions, and the date.
- `render_table` prints rows of figures, each beside its baseline and the ratio (`compare_row`);
  `fmt_ms` and `fmt_ratio` format the cells.
- `scratch_dir` is the working directory for the database files, removed afterwards unless kept.
"""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000", "synchronous=FULL")  # as the ledger's engine
PACKAGE_NAMES = {"sqlalchemy": "SQLAlchemy", "typer": "Typer"}  # how `describe` spells them
RULE = "-"  # a row of render_table: a rule under the columns


# --- timing ---------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of `fn` takes (time.perf_counter)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def summary(samples_ms: Sequence[float]) -> dict[str, float]:
    """Median, min and p95 of samples in milliseconds, and how many there were."""
    samples = sorted(samples_ms)
    runs = len(samples)
    return {
        "median_ms": statistics.median(samples),
        "min_ms": samples[0],
        "p95_ms": samples[min(runs - 1, int(runs * 0.95))],
        "runs": runs,
    }


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 1) -> dict[str, float]:
    """`warmup` untimed calls, then the summary of `runs` timed ones."""
    for _ in range(warmup):
        fn()
    return summary([timed(fn) * 1000 for _ in range(runs)])


def round_robin(measures: Sequence[Callable[[int], T]], rounds: int, warmup: int = 0) -> list[list[T]]:
    """Each measure in turn, round after round; measure j is called with the round number and returns its
    sample. Warm-up rounds come first, also in turn, with round numbers -1, -2, ...; their samples are
    dropped. Returns the samples of each measure, in the order of `measures`."""
    for i in range(warmup):
        for measure in measures:
            measure(-1 - i)
    samples: list[list[T]] = [[] for _ in measures]
    for i in range(rounds):
        for j, measure in enumerate(measures):
            samples[j].append(measure(i))
    return samples


def paired_ms(ours: Callable[[int], object], raw: Callable[[int], object], runs: int,
              warmup: int = 1) -> tuple[dict[str, float], dict[str, float]]:
    """Ours and raw alternately, run i of each given i: both see the same machine at the same moment
    (other work on a 2-core machine moves single timings a lot)."""
    a, b = round_robin([lambda i: timed(lambda: ours(i)) * 1000, lambda i: timed(lambda: raw(i)) * 1000],
                       runs, warmup)
    return summary(a), summary(b)


# --- raw sqlite3 baselines --------------------------------------------------------------


def raw_connect(path: Path, pragmas: Sequence[str] = PRAGMAS) -> sqlite3.Connection:
    """A plain sqlite3 connection in autocommit mode (transactions are explicit), with the ledger's PRAGMAs."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    for pragma in pragmas:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def insert_sql(conn: sqlite3.Connection, table: str) -> str:
    """INSERT of every column of `table`, in the table's column order (as `SELECT *` returns them)."""
    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


# --- the machine ------------------------------------------------------------------------


def machine(packages: Sequence[str] = ("sqlalchemy",)) -> dict[str, Any]:
    """Date, CPUs, platform, Python and SQLite, and the version of each package named."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    out: dict[str, Any] = {
        "date": datetime.now(UTC).date().isoformat(),
        "cpus": os.cpu_count(),
        "cpu": model or platform.processor(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    for package in packages:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def describe(m: dict[str, Any]) -> str:
    """One line: '2 CPUs (AMD EPYC), SQLite 3.40.1, SQLAlchemy 2.1.9, Python 3.11.7, 2026-11-23'."""
    fixed = {"date", "cpus", "cpu", "platform", "python", "sqlite"}
    packages = [f"{PACKAGE_NAMES.get(name, name)} {version}" for name, version in m.items() if name not in fixed]
    return ", ".join([f"{m['cpus']} CPUs ({m['cpu']})", f"SQLite {m['sqlite']}", *packages,
                      f"Python {m['python']}", m["date"]])


# --- the table --------------------------------------------------------------------------


def fmt_ms(value: float, digits: int = 2) -> str:
    """Milliseconds: with `digits` decimals under 10 ms, whole up to 10 s, then seconds."""
    if value < 10:
        return f"{value:.{digits}f} ms"
    if value < 10_000:
        return f"{value:,.0f} ms"
    return f"{value / 1000:,.1f} s"


def fmt_ratio(ours: float, base: float, suffix: str = "x") -> str:
    """ours / base, two decimals: for times 2.00x means ours takes twice as long."""
    return f"{ours / base:.2f}{suffix}"


def compare_row(label: str, ours: dict[str, float], base: dict[str, float], *rest: str,
                digits: int = 2) -> tuple[str, ...]:
    """A row of render_table: the label, our median, the baseline's median, ours / baseline, then `rest`."""
    return (label, fmt_ms(ours["median_ms"], digits), fmt_ms(base["median_ms"], digits),
            fmt_ratio(ours["median_ms"], base["median_ms"]), *rest)


def render_table(rows: Sequence[tuple[str, ...] | str | None], last_left: bool = False) -> list[str]:
    """Lines of a plain-text table. A row is a tuple of cells (the first left-aligned, the others right-aligned,
    the last left-aligned if `last_left`, then without trailing spaces), None for a blank line, or RULE for a
    rule of dashes under every column. Every tuple has as many cells as the first."""
    cells = [row for row in rows if isinstance(row, tuple)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = []
    for row in rows:
        if row is None:
            lines.append("")
        elif row == RULE:
            lines.append("  ".join("-" * width for width in widths))
        else:
            assert isinstance(row, tuple)
            middle = [cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:-1], strict=True)]
            if last_left:
                lines.append("  ".join([row[0].ljust(widths[0]), *middle, row[-1]]).rstrip())
            else:
                lines.append("  ".join([row[0].ljust(widths[0]), *middle, row[-1].rjust(widths[-1])]))
    return lines


# --- running ----------------------------------------------------------------------------


def log(quiet: bool, message: str) -> None:
    """Progress, to stderr (stdout is the result: a table or JSON)."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


@contextmanager
def scratch_dir(prefix: str, parent: Path | None = None, keep: bool = False) -> Iterator[Path]:
    """A fresh directory (under `parent` if given, made if missing), removed afterwards unless `keep`."""
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield directory
    finally:
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)
