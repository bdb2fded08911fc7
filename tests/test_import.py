"""`ipb import`: another ledger's file, mapped, checked whole, then posted in keyed batches.

Round trips (ipb's hledger and Beancount exports imported into a fresh ledger give the same trial balance),
resumability after a failure mid-import, refusals that name FILE:LINE and write nothing, the mapping file,
balance assertions, and the CLI with ipb's CSV and entry files. Both databases, through the fixtures.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ledger.calendar import Period, financial_year
from ledger.errors import IdempotencyConflict, InvalidInput
from ledger.formats.beancount_file import parse_beancount
from ledger.formats.hledger_journal import parse_hledger
from ledger.formats.import_mapping import AccountMapping, Target, parse_mapping
from ledger.formats.imported import ImportRefused, SourceAccount, SourceLedger, SourcePosting, SourceTransaction
from ledger.journal import AccountType
from ledger.models import accounts as account_table
from ledger.models import journal_entries
from ledger.reports import exports
from ledger.reports.balances import trial_balance
from ledger.services import imports, journal
from tests.test_reports_ledger import build

ACTOR = "tester"
WHOLE = Period("all", date(2025, 4, 1), date(2027, 3, 31))


def entry_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()


def balances(engine: Engine) -> dict[str, tuple[int, str]]:
    """code -> (balance, currency) of every account with a balance."""
    return {a.code: (a.balance, a.currency) for a in trial_balance(engine).accounts if a.balance}


def txn(line: int, day: date, *postings: tuple[str, int], memo: str = "", sid: str | None = None,
        kind: str | None = None) -> SourceTransaction:
    return SourceTransaction(line, day, memo, tuple(SourcePosting(account, amount, "GBP", line + i + 1)
                                                    for i, (account, amount) in enumerate(postings)), kind, sid)


def small(name: str = "books.journal", transactions: int = 5) -> SourceLedger:
    """Transactions 3 lines apart: a grant into the bank, then payments out of it."""
    out = [txn(10, date(2025, 4, 1), ("Assets:Bank:Main", 100_000), ("Income:Grant", -100_000), memo="grant")]
    for n in range(1, transactions):
        out.append(txn(10 + 3 * n, date(2025, 4, 1 + n), ("Expenses:Care", 1_000 + n), ("Assets:Bank:Main", -1_000 - n),
                       memo=f"care {n}", kind="spend" if n % 2 else "not-a-kind"))
    return SourceLedger(name, (), tuple(out))


@pytest.fixture
def fresh(databases):  # type: ignore[no-untyped-def]
    made = []

    def make() -> Engine:
        made.append(databases.engine())
        return made[-1]

    yield make
    for engine in made:
        databases.drop(engine)


@pytest.fixture(scope="module")
def books(databases):  # type: ignore[no-untyped-def]
    """The reports tests' two-year ledger, built once for the round trips, which only read it."""
    engine = databases.engine()
    build(engine)
    yield engine
    databases.drop(engine)


# --- round trips ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["hledger", "beancount"])
@pytest.mark.parametrize("period", [WHOLE, financial_year(2026)], ids=["all", "second-year"])
def test_an_export_imported_into_a_fresh_ledger_gives_the_same_trial_balance(books, fresh, kind: str,
                                                                             period: Period) -> None:
    """The second year's export starts with the opening balances: one entry, of kind manual."""
    data = exports.export_data(books, period)
    if kind == "hledger":
        text, source = exports.to_hledger(data), parse_hledger
    else:
        text, source = exports.to_beancount(data), parse_beancount
    target = fresh()
    ledger = source(text, f"books.{kind}")
    result = imports.import_ledger(target, ledger, actor=ACTOR, key="rt", open_missing=True, batch=7)
    assert balances(target) == balances(books)
    with target.connect() as conn:
        metas = conn.execute(select(journal_entries.c.meta)).scalars().all()
    assert {(m["source"], m.get("source-hash")) for m in metas} >= {(str(e.id), e.hash) for e in data.entries}
    opening = [m for m in metas if not m["source"].isdigit()]
    assert len(opening) == (1 if period.start > WHOLE.start else 0)
    assert result.posted == result.transactions == len(data.entries) + len(opening)
    if opening:
        with target.connect() as conn:
            first = conn.execute(select(journal_entries.c.kind, journal_entries.c.memo)
                                 .where(journal_entries.c.id == 1)).one()
        assert first.kind == "manual" and first.memo.startswith("opening balances")
    again = imports.import_ledger(target, ledger, actor=ACTOR, key="rt", open_missing=True)
    assert (again.posted, again.already, again.opened) == (0, result.transactions, ())
    assert balances(target) == balances(books)


# --- the service on files built here ---------------------------------------------------------------


def test_imports_opening_accounts_by_root_with_kinds_memos_and_sources(fresh) -> None:
    engine = fresh()
    result = imports.import_ledger(engine, small(), actor=ACTOR, key="k", open_missing=True)
    assert (result.transactions, result.postings, result.posted, result.already) == (5, 10, 5, 0)
    assert sorted(result.opened) == ["Assets:Bank:Main", "Expenses:Care", "Income:Grant"]
    assert balances(engine) == {"Assets:Bank:Main": (100_000 - 1_001 - 1_002 - 1_003 - 1_004, "GBP"),
                                "Expenses:Care": (4_010, "GBP"), "Income:Grant": (-100_000, "GBP")}
    with engine.connect() as conn:
        rows = conn.execute(select(journal_entries.c.kind, journal_entries.c.memo, journal_entries.c.meta,
                                   journal_entries.c.idempotency_key).order_by(journal_entries.c.id)).all()
    assert [r.kind for r in rows] == ["manual", "spend", "manual", "spend", "manual"]
    assert rows[1].memo == "care 1" and rows[1].meta["source"] == "books.journal:13"
    assert rows[1].idempotency_key == "k:2"


def test_a_mapping_file_maps_names_and_prefixes_and_gives_types() -> None:
    mapping = parse_mapping({
        "accounts": {"Assets:Bank:Main": "bank:main", "Odd": {"code": "sundry:odd", "type": "expense"}},
        "prefixes": {"Expenses:": {"code": "care:", "type": "expense"}, "Expenses:Care:": "special:"},
    }, "map.toml")
    assert mapping.target("Assets:Bank:Main", "ignored") == Target("bank:main", None)
    assert mapping.target("Odd", None) == Target("sundry:odd", AccountType.EXPENSE)
    assert mapping.target("Expenses:Care:Home", None) == Target("special:Home", None)
    assert mapping.target("Expenses:Food", None) == Target("care:Food", AccountType.EXPENSE)
    assert mapping.target("Liabilities:Loan", "loan:main") == Target("loan:main", AccountType.LIABILITY)
    assert mapping.target("bank:x", None) == Target("bank:x", None)
    assert mapping.target("Assets:Bank Main", None) is None
    with pytest.raises(InvalidInput, match="type 'cash' unknown"):
        parse_mapping({"accounts": {"A": {"code": "a", "type": "cash"}}}, "map.toml")
    with pytest.raises(InvalidInput, match="not an ipb account code"):
        parse_mapping({"accounts": {"A": "bad code"}}, "map.toml")
    with pytest.raises(InvalidInput, match="unknown table 'acounts'"):
        parse_mapping({"acounts": {}}, "map.toml")


def test_with_a_mapping_the_import_posts_to_existing_and_mapped_accounts(fresh) -> None:
    engine = fresh()
    mapping = AccountMapping({"Assets:Bank:Main": Target("bank:main", AccountType.ASSET)},
                             (("Expenses:", Target("sundry:", AccountType.EXPENSE)),))
    imports.import_ledger(engine, small(), actor=ACTOR, key="m", mapping=mapping, open_missing=True)
    assert set(balances(engine)) == {"bank:main", "sundry:Care", "Income:Grant"}


def test_every_problem_is_named_by_file_and_line_and_nothing_is_written(fresh) -> None:
    engine = fresh()
    bad = small(transactions=3)
    rows = list(bad.transactions)
    rows.append(txn(40, date(2025, 5, 1), ("Assets:Bank Main", 5), ("Income:Grant", -5)))  # not a code
    rows.append(txn(50, date(2025, 5, 2), ("Expenses:Care", 5), ("Assets:Bank:Main", -4)))  # unbalanced
    rows.append(txn(60, date(1999, 5, 2), ("Expenses:Care", 5), ("Assets:Bank:Main", -5)))  # before the ledger
    bad = SourceLedger(bad.name, bad.accounts, tuple(rows))
    with pytest.raises(ImportRefused) as refused:
        imports.import_ledger(engine, bad, actor=ACTOR, key="bad", open_missing=True)
    reason = refused.value.reason
    assert reason.startswith("books.journal:41: account 'Assets:Bank Main' is not mapped")
    assert "books.journal:50: " in reason and "books.journal:60: date 1999-05-02" in reason
    assert refused.value.details["problems"] == 3 and "\n" not in reason
    assert entry_count(engine) == 0 and balances(engine) == {}
    with pytest.raises(ImportRefused, match=r"books.journal:11: account Assets:Bank:Main \(Assets:Bank:Main\) is "
                                            "not in the ledger.*--open-accounts"):
        imports.import_ledger(engine, small(), actor=ACTOR, key="closed")
    assert entry_count(engine) == 0 and trial_balance(engine).accounts == []


def test_many_problems_list_the_first_few_and_count_the_rest(fresh) -> None:
    engine = fresh()
    rows = [txn(10 * n, date(2025, 4, 2), (f"Nowhere {n}", 5), ("Income:Grant", -5)) for n in range(1, 16)]
    with pytest.raises(ImportRefused) as refused:
        imports.import_ledger(engine, SourceLedger("x.bean", (), tuple(rows)), actor=ACTOR, key="x",
                              open_missing=True)
    assert refused.value.reason.count("x.bean:") == imports.SHOWN
    assert refused.value.reason.endswith("and 5 more (15 problems)")


def test_the_posting_rules_are_checked_in_date_order_before_anything_is_written(fresh) -> None:
    engine = fresh()
    imports.import_ledger(engine, small(transactions=1), actor=ACTOR, key="seed", open_missing=True)
    with engine.begin() as conn:  # the bank may not go below zero from now on
        conn.execute(account_table.update().where(account_table.c.code == "Assets:Bank:Main")
                     .values(non_negative=True))
    overdraw = SourceLedger("o.journal", (), (
        txn(5, date(2025, 6, 2), ("Expenses:Care", 60_000), ("Assets:Bank:Main", -60_000)),
        txn(9, date(2025, 6, 1), ("Expenses:Care", 50_000), ("Assets:Bank:Main", -50_000)),
    ))
    before = entry_count(engine)
    with pytest.raises(ImportRefused, match=r"^o.journal:5: "):  # the later-dated one, though first in the file
        imports.import_ledger(engine, overdraw, actor=ACTOR, key="o", open_missing=True)
    assert entry_count(engine) == before


JOURNAL = """account Assets:Bank:Main  ; ipb-code: bank:main
account Income:Grant  ; ipb-code: income:grant

2025-04-02 grant
    Assets:Bank:Main  500.00 GBP
    Income:Grant

2025-04-03 grant
    Assets:Bank:Main  20.00 GBP = 520.00 GBP
    Income:Grant
"""


def test_a_balance_assertion_the_file_breaks_refuses_the_import_naming_its_line(ipb, tmp_path: Path,
                                                                                engine) -> None:
    (tmp_path / "j.journal").write_text(JOURNAL.replace("= 520.00", "= 519.99"))
    refused = " ".join(ipb("import", tmp_path / "j.journal", "--open-accounts", code=2).stderr.split())
    assert refused.startswith("refused: j.journal:9: ") and "519.99" in refused
    assert entry_count(engine) == 0
    (tmp_path / "j.journal").write_text(JOURNAL)
    assert '"posted": 2' in ipb("import", tmp_path / "j.journal", "--open-accounts", "--json").stdout


def test_a_failed_batch_leaves_the_earlier_ones_and_the_same_import_again_finishes(fresh, monkeypatch) -> None:
    engine = fresh()
    source = small(transactions=9)
    real, calls = journal.post_many, []

    def failing(engine_, drafts, *, actor):  # type: ignore[no-untyped-def]
        calls.append(len(drafts))
        if len(calls) == 3:
            raise IdempotencyConflict("simulated failure")  # any refusal, mid-import
        return real(engine_, drafts, actor=actor)

    monkeypatch.setattr(journal, "post_many", failing)
    with pytest.raises(IdempotencyConflict, match=r"^books.journal:\d+-\d+: simulated failure .*4 transactions are"):
        imports.import_ledger(engine, source, actor=ACTOR, key="r", open_missing=True, batch=2)
    assert entry_count(engine) == 4
    monkeypatch.setattr(journal, "post_many", real)
    result = imports.import_ledger(engine, source, actor=ACTOR, key="r", open_missing=True, batch=2)
    assert (result.already, result.posted, result.opened) == (4, 5, ())
    assert entry_count(engine) == 9
    whole = fresh()
    imports.import_ledger(whole, source, actor=ACTOR, key="r", open_missing=True)
    assert balances(engine) == balances(whole)


def test_a_different_file_under_the_same_key_is_refused_before_writing(fresh) -> None:
    engine = fresh()
    imports.import_ledger(engine, small(), actor=ACTOR, key="same", open_missing=True)
    changed = small(transactions=6)
    with pytest.raises(IdempotencyConflict, match=r"^books.journal:13: import key 'same:2' already posted entry 2"):
        imports.import_ledger(engine, SourceLedger("books.journal", (), changed.transactions[:1] + tuple(
            txn(t.line, t.date, *((p.account, p.amount * 2) for p in t.postings)) for t in changed.transactions[1:])),
            actor=ACTOR, key="same", open_missing=True)
    assert entry_count(engine) == 5
    more = imports.import_ledger(engine, changed, actor=ACTOR, key="same", open_missing=True)
    assert (more.already, more.posted) == (5, 1)


def test_unique_source_ids_key_the_transactions_and_declared_codes_map_back(fresh) -> None:
    engine = fresh()
    accounts = (SourceAccount("Assets:Bank-main", 1, code="bank.main"), SourceAccount("Income:Grant", 2))
    source = SourceLedger("b.beancount", accounts, (
        txn(10, date(2025, 4, 1), ("Assets:Bank-main", 500), ("Income:Grant", -500), sid="17"),
        txn(20, date(2025, 4, 2), ("Assets:Bank-main", 500), ("Income:Grant", -500), sid="18"),
    ))
    imports.import_ledger(engine, source, actor=ACTOR, key="ids", open_missing=True)
    with engine.connect() as conn:
        keys = conn.execute(select(journal_entries.c.idempotency_key).order_by(journal_entries.c.id)).scalars().all()
    assert keys == ["ids:id:17", "ids:id:18"] and balances(engine)["bank.main"] == (1_000, "GBP")


# --- the command -------------------------------------------------------------------------------------


ENTRIES = """
[[entries]]
date = "2025-04-02"
memo = "grant"
postings = [{ account = "bank:main", amount = "500.00" }, { account = "income:grant", pence = -50000 }]

[[entries]]
date = "2025-04-03"
kind = "spend"
key = "care-1"
postings = [{ account = "expense:care", amount = "120.50" }, { account = "bank:main", amount = "-120.50" }]
"""

MAPPING = """
[accounts]
"bank:main" = { code = "bank:main", type = "asset" }
"income:grant" = { code = "income:grant", type = "income" }
"expense:care" = { code = "expense:care", type = "expense" }
"""


def test_the_command_imports_an_entry_file_with_a_mapping_dry_run_first(ipb, tmp_path: Path, engine) -> None:
    (tmp_path / "e.toml").write_text(ENTRIES)
    (tmp_path / "map.toml").write_text(MAPPING)
    refused = ipb("import", tmp_path / "e.toml", "--open-accounts", code=2)
    assert "e.toml:1: what type of account bank:main is cannot be told" in " ".join(refused.stderr.split())
    dry = ipb("import", tmp_path / "e.toml", "--mapping", tmp_path / "map.toml", "--open-accounts", "--dry-run",
              "--json")
    assert '"dry_run": true' in dry.stdout and entry_count(engine) == 0
    done = ipb("import", tmp_path / "e.toml", "--mapping", tmp_path / "map.toml", "--open-accounts")
    shown = " ".join(done.stdout.split())
    assert "2 transactions, 4 postings; posted 2, 0 already imported; opened 3 accounts" in shown
    assert balances(engine)["bank:main"] == (50_000 - 12_050, "GBP")
    again = ipb("import", tmp_path / "e.toml", "--json")
    assert '"already_imported": 2' in again.stdout and '"posted": 0' in again.stdout


def test_an_import_key_must_leave_room_for_the_transactions_own(fresh) -> None:
    with pytest.raises(InvalidInput, match="an import key has 1 to 120 characters, not 121"):
        imports.import_ledger(fresh(), small(), actor=ACTOR, key="k" * 121, open_missing=True)


def test_the_command_refuses_an_unknown_extension_and_a_missing_file(ipb, tmp_path: Path) -> None:
    (tmp_path / "books.txt").write_text("x")
    assert "give --format" in ipb("import", tmp_path / "books.txt", code=2).stderr
    assert "cannot read" in ipb("import", tmp_path / "none.journal", code=2).stderr


CSV = """entry,date,kind,memo,account,amount,currency,key
e1,2025-04-02,,grant,bank:main,500.00,GBP,
e1,2025-04-02,,grant,income:grant,-500.00,GBP,
e2,2025-04-03,spend,care,expense:care,120.50,GBP,care-1
e2,2025-04-03,spend,care,bank:main,-120.50,GBP,care-1
e3,2025-04-04,spend,care,expense:care,1.00,GBP,
e3,2025-04-04,spend,care,bank:nowhere,-1.00,GBP,
"""


def test_the_command_imports_ipb_csv_into_open_accounts_naming_the_line_of_an_unknown_one(ipb, tmp_path: Path,
                                                                                       engine) -> None:
    for code, kind in (("bank:main", "asset"), ("income:grant", "income"), ("expense:care", "expense")):
        ipb("account", "open", code, "--type", kind, "--date", "2025-04-01")
    (tmp_path / "e.csv").write_text(CSV)
    refused = ipb("import", tmp_path / "e.csv", code=2)
    assert " ".join(refused.stderr.split()).startswith("refused: e.csv:7: account bank:nowhere (bank:nowhere) is not "
                                                      "in the ledger")
    assert entry_count(engine) == 0
    (tmp_path / "e.csv").write_text(CSV.replace("bank:nowhere", "bank:main"))
    done = ipb("import", tmp_path / "e.csv", "--key", "csv-1", "--json")
    assert '"posted": 3' in done.stdout
    assert balances(engine) == {"bank:main": (50_000 - 12_050 - 100, "GBP"), "income:grant": (-50_000, "GBP"),
                                "expense:care": (12_150, "GBP")}
    with engine.connect() as conn:
        keys = conn.execute(select(journal_entries.c.idempotency_key).order_by(journal_entries.c.id)).scalars().all()
    assert keys == ["csv-1:id:e1", "csv-1:id:care-1", "csv-1:id:e3"]  # the file's own key, else its entry id
