"""`ipb serve` under load: N brokers at once, each signed in, logging spend against one person they all share and
against their own person, through uvicorn on localhost over a scratch SQLite ledger (WAL, synchronous=FULL).

Each client, a thread with its own httpx client (its own cookies), signs in, then for each spend reads the
person's page (the form's CSRF token and one-time key, as a browser would), posts the form, sends every fourth
form twice (a double click), and fetches /static/style.css: the same server's trivial route, the HTTP floor.
Beside it, in the same run, the same spends by as many threads calling `plan_spend.log_spend` in process on a
copy of the same ledger: the service without HTTP. Afterwards the ledger is checked against what clients were
told: every accepted spend present once with its amount, nothing refused present, no form logged twice, no
line over its cap in any week, the budgets' spent equal to the spend records, and `verify` passing.

    .venv/bin/python bench/bench_web.py                   # 10 and 50 clients, 8 spends each, <= 20 s a level
    .venv/bin/python bench/bench_web.py --quick           # 5 clients, 4 spends: a smoke run
    .venv/bin/python bench/bench_web.py --clients 10 --spends 4 --json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from harness import describe, log, machine, render_table, scratch_dir  # noqa: E402

from ledger.calendar import financial_year_of  # noqa: E402
from ledger.domain import FunderKind, Stream  # noqa: E402
from ledger.errors import LedgerError  # noqa: E402
from ledger.reports.budgets import budget_view  # noqa: E402
from ledger.reports.plans import spend_list  # noqa: E402
from ledger.reports.verify import verify  # noqa: E402
from ledger.roles import Role  # noqa: E402
from ledger.rules.plans import Frequency, LineSpec, Unit, cap_window  # noqa: E402
from ledger.services import budgets, parties, plan_spend, plans, sign_in, users  # noqa: E402
from ledger.storage.engine import make_engine  # noqa: E402
from ledger.storage.identity import acting_for_users  # noqa: E402
from ledger.storage.schema import migrate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
CAP = 25_000  # 250.00 a week on each plan line
SHARED = "P0000"  # every broker's shared person; broker i also has P{i+1}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
KEY = re.compile(r'name="key" value="([^"]+)"')
LOGGED = re.compile(r"logged=(\d+)")


@dataclass
class Told:
    """What one client was told about one spend: accepted as record `id` (and again on a resubmission), or not."""

    ref: str
    amount: int
    status: int
    id: int | None = None
    again: int | None = None  # the record id the resubmitted form was told, if it was sent twice


@dataclass
class Client:
    spend_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)
    sign_in_ms: float = 0.0
    told: list[Told] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def build(url: str, brokers: int, day: date) -> None:
    """A ledger with `brokers` brokers with passwords, SHARED and one person per broker, each with 10,000.00
    care-act and a plan whose line pc is capped at CAP a week."""
    engine = acting_for_users(make_engine(url))
    migrate(engine)
    fy = financial_year_of(day).start.year
    users.add_user(engine, "admin", Role.ADMIN, actor="admin")
    users.add_user(engine, "officer", Role.OFFICER, actor="admin")
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    refs = [f"P{i:04d}" for i in range(brokers + 1)]
    for ref in refs:
        parties.register_person(engine, ref)
    budgets.allocate(engine, [budgets.Allocation(r, fy, Stream.CARE_ACT, 1_000_000, "council",
                                                 financial_year_of(day).start) for r in refs], actor="officer")
    for ref in refs:
        plans.create_plan(engine, ref, fy, [LineSpec(code="pc", category="personal care", unit=Unit.HOUR, rate=2000,
                                                     quantity=1000, frequency=Frequency.WEEK, cap=CAP,
                                                     cap_period=Frequency.WEEK, coordinator="Sam Lee")],
                          actor="officer")
    for i in range(brokers):
        name = f"b{i:03d}"
        users.add_user(engine, name, Role.BROKER, actor="admin")
        users.assign(engine, name, [SHARED, refs[i + 1]], actor="admin")
        sign_in.set_password(engine, name, PASSWORD, actor="admin")
    engine.dispose()


def plan_of(clients: int, spends: int, seed: int) -> list[list[tuple[str, int]]]:
    """Each client's spends: (person, amount in pence), alternately the shared person and their own."""
    rng = random.Random(seed)
    return [[(SHARED if k % 2 == 0 else f"P{i + 1:04d}", rng.randrange(500, 6001, 5)) for k in range(spends)]
            for i in range(clients)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(db: Path, port: int, evidence: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([str(ROOT / ".venv/bin/ipb"), "--db", f"sqlite:///{db}", "serve", "--insecure-http",
                               "--port", str(port), "--evidence-dir", str(evidence)],
                              stdout=subprocess.DEVNULL, stderr=(db.parent / f"{db.stem}.log").open("wb"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/sign-in", timeout=1)
            return server
        except httpx.TransportError:
            if server.poll() is not None:
                raise SystemExit(f"ipb serve exited: {(db.parent / f'{db.stem}.log').read_text()[-2000:]}")
            time.sleep(0.1)
    server.kill()
    raise SystemExit("ipb serve did not start in 30 s")


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def run_client(base: str, name: str, spends: list[tuple[str, int]], day: date, start: threading.Barrier,
               stop_at: list[float], out: Client) -> None:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as http:
        form = http.get("/sign-in")
        t0 = time.perf_counter()
        signed = http.post("/sign-in", data={"name": name, "password": PASSWORD, "csrf": CSRF.search(form.text)[1]})
        out.sign_in_ms = ms_since(t0)
        start.wait()
        if signed.status_code != 303:
            out.errors.append(f"{name}: sign-in {signed.status_code}")
            return
        for k, (ref, amount) in enumerate(spends):
            if time.perf_counter() > stop_at[0]:
                break
            try:
                one_spend(http, ref, amount, day, twice=k % 4 == 3, out=out)
            except (httpx.TransportError, AttributeError, TypeError) as failed:
                out.errors.append(f"{name}: {type(failed).__name__}: {failed}")
            t0 = time.perf_counter()
            http.get("/static/style.css").raise_for_status()
            out.floor_ms.append(ms_since(t0))


def one_spend(http: httpx.Client, ref: str, amount: int, day: date, *, twice: bool, out: Client) -> None:
    t0 = time.perf_counter()
    page = http.get(f"/people/{ref}?fy={financial_year_of(day).start.year}")
    out.page_ms.append(ms_since(t0))
    data = {"csrf": CSRF.search(page.text)[1], "key": KEY.search(page.text)[1], "line": "pc",
            "amount": f"{amount // 100}.{amount % 100:02d}", "on": day.isoformat(), "supplier": "Care Co",
            "evidence": "R-1"}
    t0 = time.perf_counter()
    sent = http.post(f"/people/{ref}/spend", data=data)
    out.spend_ms.append(ms_since(t0))
    told = Told(ref, amount, sent.status_code)
    if sent.status_code == 303:
        told.id = int(LOGGED.search(sent.headers["location"])[1])
    elif sent.status_code != 409:
        out.errors.append(f"spend {ref} {amount}: HTTP {sent.status_code}")
    if twice:
        again = http.post(f"/people/{ref}/spend", data=data)
        told.again = (int(LOGGED.search(again.headers["location"])[1]) if again.status_code == 303
                      else -again.status_code)
    out.told.append(told)


def over_http(db: Path, clients: int, spends: list[list[tuple[str, int]]], day: date, seconds: float,
              quiet: bool) -> tuple[list[Client], float]:
    """Each client's figures, and the seconds from the first spend to the last (sign-ins before it)."""
    port = free_port()
    server = serve(db, port, db.parent / "evidence")
    try:
        outs = [Client() for _ in range(clients)]
        start = threading.Barrier(clients + 1)
        stop_at = [float("inf")]
        threads = [threading.Thread(target=run_client, args=(f"http://127.0.0.1:{port}", f"b{i:03d}", spends[i], day,
                                                             start, stop_at, outs[i])) for i in range(clients)]
        for t in threads:
            t.start()
        start.wait()  # everyone signed in: the spends start together
        began = time.perf_counter()
        stop_at[0] = began + seconds
        for t in threads:
            t.join()
        log(quiet, f"  {clients} clients over HTTP: {sum(len(o.spend_ms) for o in outs)} spends posted")
        return outs, time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=30)


def in_process(db: Path, clients: int, spends: list[list[tuple[str, int]]], day: date, seconds: float
               ) -> tuple[list[float], float]:
    """The same spends by the same number of threads, each calling log_spend directly: the service alone. Each
    call's milliseconds, and the seconds from the first to the last."""
    engine = make_engine(f"sqlite:///{db}")
    fy = financial_year_of(day).start.year
    samples: list[float] = []
    start = threading.Barrier(clients)

    def client(i: int) -> None:
        start.wait()
        stop = time.perf_counter() + seconds
        for k, (ref, amount) in enumerate(spends[i]):
            if time.perf_counter() > stop:
                break
            t0 = time.perf_counter()
            try:
                plan_spend.log_spend(engine, ref, fy, "pc", amount, on=day, supplier="Care Co", evidence="R-1",
                                     actor=f"b{i:03d}", key=f"inproc:{i}:{k}")
            except LedgerError:
                pass
            samples.append(ms_since(t0))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    return samples, time.perf_counter() - began


def audit(db: Path, outs: list[Client], day: date) -> dict[str, int]:
    """Compare what the clients were told with the ledger: lost, double and over-cap spends, and the rest."""
    engine = make_engine(f"sqlite:///{db}")
    fy = financial_year_of(day).start.year
    told = [t for o in outs for t in o.told]
    refs = sorted({t.ref for t in told})
    records = {r.id: (ref, r) for ref in refs for r in spend_list(engine, ref, fy)}
    accepted = [t for t in told if t.id is not None]
    lost = sum(1 for t in accepted if t.id not in records or records[t.id][0] != t.ref
               or records[t.id][1].amount != t.amount)
    # a record no client was told of (a refused spend written, or a form logged twice), or a form sent twice
    # answered with another record than the first time (a refused one must be refused again: -409)
    unasked = len(records.keys() - {t.id for t in accepted})
    answered_twice = sum(1 for t in told if t.again is not None and t.again != (t.id if t.id is not None else -409))
    weeks: dict[tuple[str, date], int] = defaultdict(int)
    for ref, r in records.values():
        weeks[(ref, cap_window(Frequency.WEEK, r.on).start)] += r.amount
    spent = {ref: sum(f.spent for f in budget_view(engine, ref, fy)) for ref in refs}
    in_records = {ref: sum(r.amount for rr, r in records.values() if rr == ref) for ref in refs}
    result = {"accepted": len(accepted), "refused": sum(1 for t in told if t.status == 409),
              "resubmitted": sum(1 for t in told if t.again is not None), "lost": lost,
              "double": unasked + answered_twice,
              "over_cap": sum(1 for total in weeks.values() if total > CAP),
              "budget_mismatch": sum(1 for ref in refs if spent[ref] != in_records[ref]),
              "errors": sum(len(o.errors) for o in outs), "verified": int(verify(engine).ok)}
    engine.dispose()
    return result


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def level(work: Path, base: Path, clients: int, spends: int, seconds: float, day: date, seed: int,
          quiet: bool) -> dict[str, Any]:
    plan = plan_of(clients, spends, seed)
    web_db, raw_db = work / f"web{clients}.sqlite", work / f"inproc{clients}.sqlite"
    for copy in (web_db, raw_db):
        shutil.copyfile(base, copy)
    outs, wall = over_http(web_db, clients, plan, day, seconds, quiet)
    raw, raw_wall = in_process(raw_db, clients, plan, day, seconds)
    spend = [s for o in outs for s in o.spend_ms]
    figures = {"clients": clients, "wall_s": wall, "spends_per_s": len(spend) / wall,
               "inproc_per_s": len(raw) / raw_wall,
               **{f"{name}_{q}": pct(samples, p) for name, samples in (
                   ("spend", spend), ("page", [s for o in outs for s in o.page_ms]),
                   ("floor", [s for o in outs for s in o.floor_ms]), ("inproc", raw),
                   ("sign_in", [o.sign_in_ms for o in outs])) for q, p in (("p50", 0.5), ("p95", 0.95))},
               **audit(web_db, outs, day), "first_errors": [e for o in outs for e in o.errors][:5],
               "server_errors": sorted({line for line in (work / f"{web_db.stem}.log").read_text().splitlines()
                                        if re.match(r"\w+(\.\w+)*(Error|Exception):", line)})}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="10,50", help="concurrent clients, one level each (default 10,50)")
    parser.add_argument("--spends", type=int, default=8, help="spends each client logs (default 8)")
    parser.add_argument("--seconds", type=float, default=20, help="bound on each level's spends (default 20)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--quick", action="store_true", help="5 clients, 4 spends each")
    parser.add_argument("--json", action="store_true", help="the figures as one JSON object on stdout")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    levels = [5] if args.quick else [int(n) for n in args.clients.split(",")]
    spends = 4 if args.quick else args.spends
    day = date.today()
    with scratch_dir("ipb-bench-web-", args.dir, args.keep) as work:
        base = work / "base.sqlite"
        log(args.json, f"building a ledger with {max(levels)} brokers and {max(levels) + 1} people ...")
        build(f"sqlite:///{base}", max(levels), day)
        results = [level(work, base, n, spends, args.seconds, day, args.seed, args.json) for n in levels]
    if args.json:
        print(json.dumps({"machine": machine(("sqlalchemy", "starlette", "uvicorn", "httpx")), "levels": results},
                         default=str))
    else:
        report(results, spends)
    bad = any(r[k] for r in results for k in ("lost", "double", "over_cap", "budget_mismatch", "errors"))
    return 1 if bad or not all(r["verified"] for r in results) else 0


def report(results: list[dict[str, Any]], spends: int) -> None:
    print(describe(machine(("sqlalchemy", "starlette", "uvicorn", "httpx"))))
    print(f"each client: sign in, then {spends} spends (the shared person and their own in turn), every 4th sent twice")
    rows: list[tuple[str, ...] | str | None] = [("clients", "spend POST p50 / p95", "in-process p50 / p95",
                                                 "static GET p50 / p95", "page GET p50 / p95", "sign-in p50 / p95",
                                                 "spends/s", "in-process/s"), "-"]
    for r in results:
        rows.append((str(r["clients"]), *(f"{r[f'{n}_p50']:.1f} / {r[f'{n}_p95']:.1f} ms"
                                          for n in ("spend", "inproc", "floor", "page", "sign_in")),
                     f"{r['spends_per_s']:.1f}", f"{r['inproc_per_s']:.1f}"))
    print("\n".join(render_table(rows)))
    for r in results:
        print(f"{r['clients']} clients: {r['accepted']} accepted, {r['refused']} refused over the cap, "
              f"{r['resubmitted']} forms sent twice; lost {r['lost']}, double {r['double']}, over cap "
              f"{r['over_cap']}, budget mismatches {r['budget_mismatch']}, errors {r['errors']}, "
              f"verify {'ok' if r['verified'] else 'FAILED'}" + (f"; first errors: {r['first_errors']}, the "
                                                                 f"server's: {r['server_errors']}"
                                                                 if r["first_errors"] else ""))
    print("spends a second over HTTP / in process: " + ", ".join(
        f"{r['clients']} clients {r['spends_per_s'] / r['inproc_per_s']:.2f}x" for r in results))


if __name__ == "__main__":
    sys.exit(main())
