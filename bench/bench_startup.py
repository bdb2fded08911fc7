#!/usr/bin/env python
"""Whole-process start-up times of `ipb`, beside a bare interpreter importing the same libraries.

    .venv/bin/python bench/bench_startup.py               # 7 rounds (20-40 seconds)
    .venv/bin/python bench/bench_startup.py --rounds 15   # more rounds, steadier medians
    .venv/bin/python bench/bench_startup.py --json        # the same figures as one JSON object

A broker logging twenty spends starts Python twenty times, so what matters is the whole process: the
interpreter, site, our imports, parsing, and for a read the database. Each figure is one fresh process
(subprocess, the same interpreter as the venv's `ipb`: sys.executable, and the `ipb` script beside it),
with PYTHONDONTWRITEBYTECODE unset so the bytecode caches are written and used, as on a user's machine.

What runs, in order (bench/README.md says what each figure means):

1. Set-up, not timed: a small ledger in a scratch directory, made by running `ipb` itself (`init`; an
   admin, an auditor and an officer; a funder; a person; one budget allocation), so that the set-up
   follows the commands' names rather than the modules behind them.
2. One warm-up run of each command, so the bytecode caches exist and the files are in the page cache.
   A command that exits non-zero here (`ipb --version` before it exists) is reported as not available
   and left out; the baselines must work.
3. `--rounds` rounds (default 7, at least 5), each running every command once, in turn (round-robin:
   never all runs of one command and then all of the next), so that each command and its baseline see
   the machine at the same moments. Per command: the median wall time (time.perf_counter around the
   whole subprocess) and the median CPU time of the child (user + sys, from getrusage(RUSAGE_CHILDREN)
   before and after; steadier than wall time when the machine is busy).

Commands and their baselines (ratio = ours / baseline; 2.00x = twice as long):

- `ipb --help` and `ipb --version`, each beside `python -c "import typer"`: the least any Typer CLI pays.
- `ipb --db sqlite:///<tmp>/small.sqlite --as auditor budget show P0001`, a read, beside
  `python -c "import sqlalchemy, typer"`: the least a Typer CLI reading through SQLAlchemy pays.

Targets (from the start-up issue), judged on the wall-time medians: `ipb --help` <= 2x `import typer`;
the read <= 1.5x `import sqlalchemy, typer`. PASS or MISS is printed beside each; the script exits 0
either way (a benchmark is not a test), and non-zero only if it cannot measure at all.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import RULE, describe, fmt_ms, fmt_ratio, log, machine, render_table, round_robin, scratch_dir, summary

DEFAULT_ROUNDS = 7
MIN_ROUNDS = 5
PERSON = "P0001"


@dataclass(slots=True)
class Command:
    """One command line to time, and the baseline it is compared with (None for a baseline)."""

    name: str
    argv: list[str]
    baseline: str | None = None
    target: float | None = None  # the most ours / baseline may be (wall time); None: no target
    error: str | None = None  # why it is not measured, if it is not
    runs: list[Run] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Run:
    wall_ms: float
    cpu_ms: float
    returncode: int
    stderr: str


def run_once(argv: Sequence[str], env: dict[str, str], cwd: Path) -> Run:
    """One whole process: wall time around it, and the CPU time (user + sys) it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall * 1000, cpu * 1000, done.returncode, done.stderr)


def last_line(stderr: str) -> str:
    """The line of a failure that says what went wrong: the last one with words in it (a traceback ends
    with the exception; Typer's boxed errors end with a border)."""
    for line in reversed(stderr.splitlines()):
        text = line.strip(" │╭╮╰╯─")
        if any(c.isalnum() for c in text):
            return text
    return ""


# --- 1. the small ledger ----------------------------------------------------------------------


def make_ledger(ipb: Path, url: str, env: dict[str, str], cwd: Path) -> str | None:
    """A ledger with one person and one allocation, by running ipb; None, or what failed."""
    steps = [
        ["init"],
        ["--as", "admin", "user", "add", "admin", "--role", "admin"],
        ["--as", "admin", "user", "add", "auditor", "--role", "auditor"],
        ["--as", "admin", "user", "add", "officer", "--role", "officer"],
        ["--as", "officer", "funder", "add", "council", "--kind", "council", "--name", "County council"],
        ["--as", "officer", "person", "add", PERSON],
        ["--as", "officer", "budget", "allocate", PERSON, "--fy", "2025/26", "--stream", "care-act",
         "--amount", "12,480.00", "--from", "council", "--date", "2025-04-01", "--key", "bench-startup"],
    ]
    for step in steps:
        run = run_once([str(ipb), "--db", url, *step], env, cwd)
        if run.returncode != 0:
            return f"`ipb {' '.join(step)}` exited {run.returncode}: {last_line(run.stderr)}"
    return None


# --- 2 and 3. warm-up, then rounds ------------------------------------------------------------


def commands(ipb: Path, url: str) -> list[Command]:
    """In the order each round runs them: each baseline just before what is compared with it."""
    python = sys.executable
    return [
        Command("import typer", [python, "-c", "import typer"]),
        Command("ipb --help", [str(ipb), "--help"], "import typer", 2.0),
        Command("ipb --version", [str(ipb), "--version"], "import typer"),
        Command("import sqlalchemy, typer", [python, "-c", "import sqlalchemy, typer"]),
        Command(f"ipb budget show {PERSON}", [str(ipb), "--db", url, "--as", "auditor", "budget", "show", PERSON],
                "import sqlalchemy, typer", 1.5),
    ]


def measure(cmds: list[Command], rounds: int, env: dict[str, str], cwd: Path, quiet: bool) -> None:
    for cmd in cmds:
        if cmd.error:
            continue
        warm = run_once(cmd.argv, env, cwd)
        if warm.returncode != 0:
            if cmd.baseline is None:
                raise SystemExit(f"bench: the baseline `{cmd.name}` exited {warm.returncode}: {last_line(warm.stderr)}")
            cmd.error = f"exited {warm.returncode}: {last_line(warm.stderr)}"
            log(quiet, f"  {cmd.name}: not available ({cmd.error})")
    timed = [cmd for cmd in cmds if not cmd.error]
    log(quiet, f"{rounds} rounds of {len(timed)} commands, in turn")
    samples = round_robin([lambda _, cmd=cmd: run_once(cmd.argv, env, cwd) for cmd in timed], rounds)
    for cmd, runs in zip(timed, samples, strict=True):
        failed = [i for i, run in enumerate(runs) if run.returncode != 0]
        if failed:
            run = runs[failed[0]]
            cmd.error = f"exited {run.returncode} in round {failed[0] + 1}: {last_line(run.stderr)}"
        else:
            cmd.runs = runs


# --- report -----------------------------------------------------------------------------------


def figures(cmds: list[Command]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for cmd in cmds:
        entry: dict[str, Any] = {"argv": cmd.argv, "baseline": cmd.baseline, "available": not cmd.error}
        if cmd.error:
            entry["error"] = cmd.error
        else:
            entry["wall_ms"] = summary([run.wall_ms for run in cmd.runs])
            entry["cpu_ms"] = summary([run.cpu_ms for run in cmd.runs])
            entry["wall_samples_ms"] = [round(run.wall_ms, 2) for run in cmd.runs]
        out[cmd.name] = entry
    for cmd in cmds:
        entry = out[cmd.name]
        if cmd.baseline is None or cmd.error:
            continue
        base = out[cmd.baseline]
        entry["wall_ratio"] = entry["wall_ms"]["median_ms"] / base["wall_ms"]["median_ms"]
        entry["cpu_ratio"] = entry["cpu_ms"]["median_ms"] / base["cpu_ms"]["median_ms"]
        if cmd.target is not None:
            entry["target"] = cmd.target
            entry["met"] = entry["wall_ratio"] <= cmd.target
    return out


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, ...] | str | None] = [
        ("", "wall", "baseline", "ratio", "cpu", "baseline", "ratio", "target (wall)"), RULE]
    baselines: list[tuple[str, ...] | str | None] = [None, ("baselines", "wall", "", "", "cpu", "", "", ""), RULE]
    for name, f in results["commands"].items():
        if f["baseline"] is None:
            baselines.append((f"python -c \"{name}\"", fmt_ms(f["wall_ms"]["median_ms"]), "", "",
                              fmt_ms(f["cpu_ms"]["median_ms"]), "", "", ""))
        elif not f["available"]:
            rows.append((name, "not available", "", "", "", "", "", f["error"]))
        else:
            base = results["commands"][f["baseline"]]
            wall, cpu = f["wall_ms"]["median_ms"], f["cpu_ms"]["median_ms"]
            base_wall, base_cpu = base["wall_ms"]["median_ms"], base["cpu_ms"]["median_ms"]
            target = f"vs {f['baseline']}: no target"
            if "target" in f:
                target = f"<= {f['target']:g}x {f['baseline']}: {'PASS' if f['met'] else 'MISS'}"
            rows.append((name, fmt_ms(wall), fmt_ms(base_wall), fmt_ratio(wall, base_wall), fmt_ms(cpu),
                         fmt_ms(base_cpu), fmt_ratio(cpu, base_cpu), target))
    lines = [
        f"ipb start-up: whole processes, median of {results['rounds']} rounds after a warm-up; "
        f"{describe(results['machine'])}",
        "",
        *render_table(rows + baselines, last_left=True),
        "",
        "wall: the whole subprocess, from spawn to exit; cpu: user + sys of the child; ratio: ours / baseline",
    ]
    if results["setup_error"]:
        lines.append(f"the small ledger could not be made, so the read was not timed: {results['setup_error']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                        help=f"rounds of every command once (default {DEFAULT_ROUNDS}, at least {MIN_ROUNDS})")
    parser.add_argument("--dir", type=Path, help="where to make the scratch directory (default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the small ledger afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args(argv)
    if args.rounds < MIN_ROUNDS:
        parser.error(f"--rounds must be at least {MIN_ROUNDS}")

    ipb = Path(sys.executable).parent / "ipb"
    if not ipb.exists():
        raise SystemExit(f"bench: no ipb beside {sys.executable}; install the project into that environment first")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    quiet = args.json
    with scratch_dir("ipb-bench-startup-", args.dir, args.keep) as directory:
        url = f"sqlite:///{directory / 'small.sqlite'}"
        log(quiet, f"set-up: a small ledger at {url}")
        start = time.perf_counter()
        setup_error = make_ledger(ipb, url, env, directory)
        setup_s = time.perf_counter() - start
        cmds = commands(ipb, url)
        if setup_error:
            log(quiet, f"  {setup_error}")
            cmds[-1].error = "no ledger to read (set-up failed)"
        measure(cmds, args.rounds, env, directory, quiet)
    results: dict[str, Any] = {
        "machine": machine(("sqlalchemy", "typer")),
        "python": sys.executable,
        "ipb": str(ipb),
        "rounds": args.rounds,
        "setup_s": setup_s,
        "setup_error": setup_error,
        "commands": figures(cmds),
    }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
