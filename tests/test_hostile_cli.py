"""Issue #13, done when: hypothesis drives the CLI with hostile arguments and files and every time the
command ends in exit 1 or 2, at most one line on stderr, no traceback, and the database as it was.

Each command below succeeds with its valid values (the first test proves it, so a refusal in the fuzz is
the hostile value's doing). An example makes one value hostile, drawn from families that are never valid
in that place: digits of other scripts, numbers beyond what the database stores, years outside the
ledger's, malformed text, unknown people and accounts; and a second value, sometimes, from any text.
"Unchanged" is the journal's head and every table's row count, so a write anywhere is seen.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, column, func, inspect, select, table

from ledger.identifiers import MAX_ID
from ledger.money import MAX_AMOUNT, format_amount
from tests.test_hostile_input import FY, invoke, set_up_budget

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


_TABLES: dict[str, list[str]] = {}


def tables(engine: Engine) -> dict[str, object]:
    """Every table's row count, and the journal's head: equal before and after means nothing was written."""
    names = _TABLES.setdefault(str(engine.url), sorted(inspect(engine).get_table_names()))
    with engine.connect() as conn:
        state: dict[str, object] = {
            name: conn.execute(select(func.count()).select_from(table(name))).scalar_one() for name in names}
        state["head"] = tuple(conn.execute(select(column("last_entry_id"), column("last_hash"))
                                           .select_from(table("ledger_head"))).one())
    return state


# --- what is never valid where ---------------------------------------------------------------------------

OTHER_DIGITS = st.characters(categories=["Nd", "No"]).filter(lambda c: not "0" <= c <= "9")


@st.composite
def foreign_digits(draw: st.DrawFn, valid: str) -> str:
    """`valid` with one or more of its digits 0-9 written in another script (Arabic-Indic, full-width, ...)."""
    places = [i for i, c in enumerate(valid) if "0" <= c <= "9"]
    chosen = draw(st.sets(st.sampled_from(places), min_size=1))
    return "".join(draw(OTHER_DIGITS) if i in chosen else c for i, c in enumerate(valid))


def _signed(values: st.SearchStrategy[int]) -> st.SearchStrategy[int]:
    return st.tuples(values, st.booleans()).map(lambda v: -v[0] if v[1] else v[0])


BEYOND_PENCE = _signed(st.integers(MAX_AMOUNT + 1, 10**40))
AMOUNT = st.one_of(
    st.sampled_from(["1.00", "1,234.50", "12", "£3.50"]).flatmap(foreign_digits),
    BEYOND_PENCE.map(format_amount),
    st.integers(len(str(MAX_AMOUNT)) + 1, 5000).map(lambda n: "9" * n),
    st.sampled_from(["", " ", "1e3", "NaN", "inf", "0x10", "1_000", "+-1", "12.345", "£1,2", "1 000", "1,00",
                     "1.", ".5", "--1", "1.2.3", "£", "one", "0", "0.00", "-1.00", "- 1"]),
)
MALFORMED_ID = st.one_of(
    st.sampled_from(["1", "12"]).flatmap(foreign_digits),
    st.integers(MAX_ID + 1, 10**40).map(str),
    st.sampled_from(["", " ", "1_0", "+1", "-1", "0x1", "1.0", "1e3", "one"]),
)
ID = st.one_of(MALFORMED_ID, st.integers(1000, MAX_ID).map(str))  # 1000 on: no such entry
OUTSIDE_LEDGER_YEARS = st.one_of(st.dates(date(1, 1, 1), date(2000, 3, 31)), st.dates(date(2100, 4, 1)))
DATE = st.one_of(
    st.sampled_from(["2025-04-02", "2025-12-31"]).flatmap(foreign_digits),
    OUTSIDE_LEDGER_YEARS.map(date.isoformat),
    st.sampled_from(["", "2025-02-30", "2025-04-31", "2025-4-2", "20250402", "2025/04/02", "02/04/2025",
                     " 2025-04-02", "today", "2025-13-01"]),
)
IN_OTHER_YEARS = st.one_of(st.dates(date(2000, 4, 1), date(2025, 3, 31)), st.dates(date(2026, 4, 1),
                                                                                     date(2100, 3, 31)))
DATE_IN_FY = st.one_of(DATE, IN_OTHER_YEARS.map(date.isoformat))  # --date beside --fy 2025/26
YEAR = st.one_of(
    st.sampled_from(["2025/26", "2025-26"]).flatmap(foreign_digits),
    st.one_of(st.integers(0, 1999), st.integers(2100, 99999)).map(lambda y: f"{y}/{(y + 1) % 100:02d}"),
    st.sampled_from(["2025/27", "2025", "FY25", "FY 2025", "25/26", "2025/2026/27", "9999/00", "1999/00"]),
)
MALFORMED_PERSON = st.one_of(foreign_digits("P1"), st.sampled_from(["", "P 1", "[bold]P1", "P1;DROP TABLE people",
                                                                    "x" * 41, "P1\nP2"]))
PERSON = st.one_of(st.from_regex(r"Q[0-9]{1,6}", fullmatch=True), MALFORMED_PERSON)  # Q...: no such person
ACCOUNT = st.one_of(st.from_regex(r"funder:z[a-z]{0,8}", fullmatch=True), foreign_digits("person:P1:2025-26"),
                    st.sampled_from(["funder:", ":", "funder::icb", "[red]funder:icb"]))  # "": `balance` lists all
STREAM = st.one_of(st.from_regex(r"s[0-9]{3,5}", fullmatch=True), st.sampled_from(["", "care_act", "care act"]))
NHS = st.one_of(foreign_digits("943 476 5803"),
                st.sampled_from(["943 476 5804", "94347658", "943 476 58030", "abc def ghij"]))
ANY_TEXT = st.text(max_size=40).filter(lambda s: not s.startswith("-"))

# a period takes every --fy form and more: 2025 (the calendar year), 2025Q2, a day, ranges A..B
PERIOD = YEAR.filter(lambda text: text != "2025")
HOSTILE = {"amount": AMOUNT, "id": ID, "date": DATE, "date-in-fy": DATE_IN_FY, "year": YEAR, "period": PERIOD,
           "person": PERSON,
           "ref": MALFORMED_PERSON, "account": ACCOUNT, "stream": STREAM, "nhs": NHS}

# Each command with its valid values; (kind, valid) marks a value the fuzz may make hostile, and
# ("text", valid) one it may replace with any text (which may be valid: another value is hostile too).
# Reading commands get a malformed reference ("ref"), not an unknown one: they show an empty budget for that.
COMMANDS: dict[str, list[object]] = {
    "spend": ["budget", "spend", ("person", "P1"), "--fy", ("year", "2025/26"), "--amount", ("amount", "1.00"),
              "--stream", ("stream", "care-act"), "--date", ("date-in-fy", "2025-04-02"), "--memo", ("text", "taxi")],
    "allocate": ["budget", "allocate", ("person", "P1"), "--fy", ("year", "2025/26"), "--stream",
                 ("stream", "s117"), "--amount", ("amount", "5.00"), "--from", ("account", "council"), "--date",
                 ("date-in-fy", "2025-04-02"), "--key", ("text", "k1")],
    "contribute": ["pool", "contribute", "bcf", "--partner", "icb", "--amount", ("amount", "2.00"), "--date",
                   ("date-in-fy", "2025-04-03"), "--memo", ("text", "April")],
    "post": ["post", "-d", ("account", "pool:bcf:unallocated"), "-c", "funder:council:funding", "--date",
             ("date", "2025-04-05"), "--memo", ("text", "by hand")],
    "reverse": ["reverse", ("id", "2"), "--date", ("date", "2025-04-04"), "--memo", ("text", "wrong person")],
    "entry": ["entry", "show", ("id", "1")],
    "balance": ["balance", ("account", "funder:icb:funding"), "--as-of", ("date", "2025-04-30")],
    "person": ["person", "add", "P9", "--nhs-number", ("nhs", "943 476 5803"), "--name", ("text", "Ann")],
    "budget-show": ["budget", "show", ("ref", "P1"), "--fy", ("year", "2025/26")],
    "statement": ["report", "statement", ("ref", "P1"), "--period", ("period", "2025/26")],
}
FILES = ("entry", "bank", "plan", "assessment")


@st.composite
def commands(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A command with one value hostile, and maybe one more replaced by any text."""
    name = draw(st.sampled_from(sorted(COMMANDS)))
    template = COMMANDS[name]
    slots = [i for i, part in enumerate(template) if isinstance(part, tuple)]
    hostile = draw(st.sampled_from([i for i in slots if template[i][0] != "text"]))  # type: ignore[index]
    other = draw(st.sampled_from([None, *[i for i in slots if i != hostile and not _positional(template, i)]]))
    args = []
    for i, part in enumerate(template):
        if not isinstance(part, tuple):
            args.append(part)
        elif i == hostile:
            args.append(draw(HOSTILE[part[0]]))
        else:
            args.append(draw(ANY_TEXT) if i == other else part[1])
    if name == "post":  # the amount on both sides: each may be hostile
        args[args.index("-d") + 1] += "=" + draw(st.one_of(st.just("1.00"), AMOUNT))
        args[args.index("-c") + 1] += "=" + (draw(AMOUNT) if template[3][1] == args[3] else "1.00")
    return name, args


def _positional(template: list[object], i: int) -> bool:
    before = template[i - 1]
    return not (isinstance(before, str) and before.startswith("-"))


# --- files ---------------------------------------------------------------------------------------------------

@st.composite
def entry_file(draw: st.DrawFn) -> str:
    """A one-entry file with one value hostile, or text that is no entry at all."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.text(max_size=200))
    v = {"date": '"2025-04-05"', "debit": '"pool:bcf:unallocated"', "pence": "100",
         "amount": '"-1.00"', "corrects": None, "payment": None}
    where = draw(st.sampled_from(sorted(v)))
    v[where] = draw({"date": DATE.map(json.dumps), "debit": ACCOUNT.map(json.dumps), "amount": AMOUNT.map(json.dumps),
                     "pence": st.one_of(BEYOND_PENCE.map(str), st.sampled_from(["1.0", '"100"', "1e2", "true"])),
                     "corrects": ID.map(json.dumps), "payment": MALFORMED_ID.map(json.dumps)}[where])
    meta = [f"{name} = {v[name]}" for name in ("corrects", "payment") if v[name] is not None]
    return "\n".join([f"date = {v['date']}", 'memo = "file entry"', *(["[meta]", *meta] if meta else []),
                      "[[postings]]", f"account = {v['debit']}", f"pence = {v['pence']}",
                      "[[postings]]", 'account = "funder:council:funding"', f"amount = {v['amount']}"])


BANK_HEADER = "Transaction ID,Date,Amount,Memo,Reference"


@st.composite
def bank_file(draw: st.DrawFn) -> str:
    """A CSV statement whose one line has a hostile amount or date (the mapping reads dd/mm/yyyy)."""
    day, amount = "02/04/2025", "-12.50"
    if draw(st.booleans()):
        # a bank line may be a credit or a debit, so these are its valid amounts ("- 1" is -1.00, as "- £1")
        amount = draw(AMOUNT.filter(lambda a: a not in ("12", "1.00", "-1.00", "- 1", "1,234.50")))
    else:
        day = draw(st.one_of(foreign_digits(day), OUTSIDE_LEDGER_YEARS.map(lambda d: d.strftime("%d/%m/%Y")),
                             st.sampled_from(["", "31/02/2025", "2025-04-02", "2/4/25"])))
    return f"{BANK_HEADER}\nT1,{json.dumps(day)},{json.dumps(amount)},DIRECT PAYMENT,IPB-1\n"


@st.composite
def plan_file(draw: st.DrawFn) -> str:
    v = {"effective_from": "2025-04-01", "rate": '"21.50"', "quantity": '"10"', "cap": '"250.00"'}
    where = draw(st.sampled_from(sorted(v)))
    v[where] = draw({"effective_from": DATE.map(json.dumps), "rate": AMOUNT.filter(_not_a_rate).map(json.dumps),
                     "cap": AMOUNT.filter(_not_a_rate).map(json.dumps),
                     "quantity": st.one_of(foreign_digits("10"), st.sampled_from(
                         ["0", "-1", "1000000", "1.005", "1e3", "", "ten"])).map(json.dumps)}[where])
    return "\n".join([f"effective_from = {v['effective_from']}", "[[lines]]", 'code = "personal-care"',
                      'category = "Personal care"', 'unit = "hour"', f"rate = {v['rate']}",
                      f"quantity = {v['quantity']}", 'frequency = "week"', f"cap = {v['cap']}", 'cap_period = "week"',
                      'stream = "care-act"', 'coordinator = "Sam Lee"'])


def _not_a_rate(text: str) -> bool:
    return text not in ("1.00", "1,234.50", "12", "£3.50", "0", "0.00")


@st.composite
def assessment_file(draw: st.DrawFn) -> str:
    v = {"on": "2025-06-02", "weekly_cost_of_care": '"350.00"', "capital": '"18,000.00"', "age": "67"}
    where = draw(st.sampled_from(sorted(v)))
    v[where] = draw({"on": DATE.map(json.dumps), "weekly_cost_of_care": AMOUNT.filter(_a_charge).map(json.dumps),
                     "capital": AMOUNT.filter(_a_charge).map(json.dumps),
                     "age": st.one_of(st.integers(131, 10**30), st.integers(-(10**30), -1)).map(str)}[where])
    return "\n".join(["[circumstances]", f"age = {v['age']}", 'setting = "own_home"', "care_act_eligible_needs = true",
                      "[finances]", f"on = {v['on']}", 'care_type = "non_residential"',
                      f"weekly_cost_of_care = {v['weekly_cost_of_care']}", f"capital = {v['capital']}",
                      'mig_band = "single_pension_age"'])


def _a_charge(text: str) -> bool:
    return _not_a_rate(text) and text != "-1.00"  # a negative cost or capital is refused; these are valid


def file_command(kind: str, path: Path) -> list[str]:
    return {"entry": ["post", "--file", str(path)],
            "bank": ["statement", "import", str(path), "--account", "main", "--mapping",
                     str(EXAMPLES / "bank" / "barclays-mapping.toml")],
            "plan": ["plan", "create", "P1", *FY, "-f", str(path)],
            "assessment": ["assess", str(path), "--allocate", "P1", *FY]}[kind]


FILE_CONTENT = {"entry": entry_file, "bank": bank_file, "plan": plan_file, "assessment": assessment_file}
VALID_FILES = {
    "entry": "\n".join(['date = "2025-04-05"', "[[postings]]", 'account = "pool:bcf:unallocated"',
                        "pence = 100", "[[postings]]", 'account = "funder:council:funding"', 'amount = "-1.00"']),
    "bank": f"{BANK_HEADER}\nT1,02/04/2025,-12.50,DIRECT PAYMENT,IPB-1\n",
    "plan": (EXAMPLES / "plans" / "p0001-2025-26.toml").read_text().replace('person = "P0001"\n', ""),
    "assessment": (EXAMPLES / "assessments" / "care-act-at-home.toml").read_text(),
}


@pytest.fixture
def ledger(ipb):  # type: ignore[no-untyped-def]
    """The hostile-input ledger (tests/test_hostile_input.py), the funder `self`, and a paying account `main`."""
    set_up_budget(ipb)
    ipb("funder", "add", "self", "--kind", "person")  # `assess --allocate` posts the person's contribution from it
    ipb("paying-account", "add", "main", "--name", "COUNCIL", "--sort-code", "12-34-56", "--account-number",
        "12345678")
    return ipb


def test_every_fuzzed_command_and_file_succeeds_with_valid_values(ledger, engine, tmp_path):
    for name, template in COMMANDS.items():
        args = [part[1] if isinstance(part, tuple) else part for part in template]
        if name == "post":
            args = [*args[:2], args[2] + "=1.00", args[3], args[4] + "=1.00", *args[5:]]
        ledger(*args)  # exit 0, or the helper fails naming the command
    for kind, content in VALID_FILES.items():
        path = tmp_path / f"{kind}.{'csv' if kind == 'bank' else 'toml'}"
        path.write_text(content, encoding="utf-8")
        before = tables(engine)
        ledger(*file_command(kind, path))
        assert tables(engine) != before, kind  # each file writes something, so a refusal is visible


@hypothesis_settings(max_examples=60)  # about 4 s on SQLite, 6 s on PostgreSQL
@given(data=st.data())
def test_hostile_arguments_and_files_exit_1_or_2_in_one_line_and_write_nothing(ledger, engine, db_url, tmp_path,
                                                                               data):
    if data.draw(st.integers(0, 2), label="a file?") == 0:
        kind = data.draw(st.sampled_from(FILES), label="file")
        path = tmp_path / f"hostile.{'csv' if kind == 'bank' else 'toml'}"
        path.write_text(data.draw(FILE_CONTENT[kind](), label="content"), encoding="utf-8", errors="surrogatepass")
        args = file_command(kind, path)
    else:
        kind, args = data.draw(commands(), label="command")
    before = tables(engine)
    result = invoke("--db", db_url, "--as", "tester", *args)  # asserts: no traceback, at most one stderr line
    event(f"{kind}: exit {result.exit_code}")  # pytest --hypothesis-show-statistics shows the spread
    assert result.exit_code in (1, 2), (args, result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("refused: "), (args, result.stderr)
    assert tables(engine) == before, args
