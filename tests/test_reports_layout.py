"""The frame every statement sits in: the stamp (issuer, who produced it, when) in every format, and the HTML
laid out for real, in headless Chromium (Debian's `chromium`, driven by Playwright).

The browser measures each element's box: no fact label overlaps another or its value, each value sits on
its own label's row, no heading overlaps anything, nothing is wider than the page at desktop width or on a
375-pixel phone (a wide table scrolls inside its own wrapper), no text is cut; printed, every page says
"Page x of y" and names the issuer. The issuer and the producer are long names on purpose.

Chromium is optional locally: the browser tests skip when it is missing, unless IPB_REQUIRE_TOOLS=1 (CI sets
it, and .ci/run installs chromium).
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from ledger import config
from ledger.calendar import parse_period
from ledger.reports import books, render
from ledger.reports.arrears import contribution_arrears
from ledger.reports.reconcile import reconciliation_report
from ledger.reports.render import Chart, Document, Stamp, Table
from ledger.reports.statements import person_statement, pool_statement
from ledger.storage.reads import ChainHead
from tests import browser as chromium
from tests import support
from tests.test_reports_ledger import build

browser = chromium.browser  # the fixture: one headless Chromium for the module

WIDTHS = {"desktop": 1280, "phone": 375}
ORGANISATION = ("The Royal Borough of Kensington and Chelsea with Westminster City Council, Tri-borough Shared "
                "Services Finance and Commissioning Directorate")
PRODUCER = "Maria-Fernanda Esperanza de los Santos Ramírez-Oyelaran-Featherstonehaugh"
STAMP = Stamp(ORGANISATION, PRODUCER, datetime(2026, 3, 31, 17, 5))
HEAD = ChainHead(7, "ab" * 32)

# What the page reports about itself: boxes in page coordinates, and the offenders of each rule.
MEASURE = """() => {
  const box = e => { const r = e.getBoundingClientRect();
    return {l: r.left + scrollX, r: r.right + scrollX, t: r.top + scrollY, b: r.bottom + scrollY,
            text: e.textContent.trim().slice(0, 60), tag: e.tagName}; };
  const overlap = (a, b) => a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.t < b.b - 0.5 && b.t < a.b - 0.5;
  const pairs = list => { const found = [];
    list.forEach((a, i) => list.slice(i + 1).forEach(b => { if (overlap(a, b)) found.push([a.text, b.text]); }));
    return found; };
  const width = document.documentElement.clientWidth;
  const all = [...document.body.querySelectorAll('*')];
  const outside = all.filter(e => !e.parentElement.closest('.scroll'));
  const blocks = [...document.querySelectorAll('header.stamp > *, body > :not(header), section > h2, .sign')]
    .filter(e => !e.matches('style, section')).map(box);
  return {
    dts: [...document.querySelectorAll('dl.facts dt')].map(box),
    dds: [...document.querySelectorAll('dl.facts dd')].map(box),
    overlapping_facts: pairs([...document.querySelectorAll('dl.facts > *')].map(box)),
    overlapping_blocks: pairs(blocks),
    page_width: document.documentElement.scrollWidth, width: width,
    too_wide: outside.map(box).filter(b => b.r > width + 0.5 || b.l < -0.5).map(b => b.tag + ': ' + b.text),
    cut: all.filter(e => getComputedStyle(e).display !== 'inline' && !e.matches('.scroll, svg, svg *')
                    && e.scrollWidth > e.clientWidth + 1).map(e => e.tagName + ': ' + e.textContent.slice(0, 60)),
    wrappers: [...document.querySelectorAll('.scroll')].map(e => ({
      overflow: getComputedStyle(e).overflowX, wider: e.scrollWidth > e.clientWidth,
      table_fits: e.querySelector('table').getBoundingClientRect().width <= e.scrollWidth + 0.5})),
    issuer: document.querySelector('.issuer').textContent,
    produced: document.querySelector('.produced').textContent,
  };
}"""


@pytest.fixture(scope="module")
def tabs(browser: Any) -> dict[int, Any]:
    """A page of the browser for each width, reused."""
    return {width: browser.new_page(viewport={"width": width, "height": 900}) for width in WIDTHS.values()}


@pytest.fixture(scope="module")
def documents(databases: support.FreshDatabases) -> Iterator[dict[str, Document]]:
    """The statements of a small two-year ledger, stamped with long names; one with a long label and a long
    value among its facts, one with a sign-off block."""
    engine = databases.engine()
    build(engine)
    year = parse_period("2025/26")
    reports = {"person": person_statement(engine, "P1", year), "pool": pool_statement(engine, "bcf-2025", year),
               "trial-balance": books.trial_balance_report(engine, year),
               "ledger": books.general_ledger(engine, parse_period("2025-04")),
               "reconciliation": reconciliation_report(engine), "arrears": contribution_arrears(engine, year.end)}
    docs = {name: render.document(report, STAMP) for name, report in reports.items()}
    person = docs["person"]
    docs["person"] = dataclasses.replace(person, facts=(
        *person.facts, ("the person's representative named on the direct payment agreement", PRODUCER)))
    docs["pool"] = dataclasses.replace(docs["pool"], signoff=("prepared by", "checked by", "approved by"))
    yield docs
    databases.drop(engine)


def measure(tabs: dict[int, Any], html: str, width: int) -> dict[str, Any]:
    tabs[width].set_content(html)
    return tabs[width].evaluate(MEASURE)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("name", ["person", "pool", "trial-balance", "ledger", "reconciliation", "arrears"])
def test_every_label_sits_beside_its_value_and_nothing_overlaps_or_is_cut(tabs, documents, name, width) -> None:
    doc = documents[name]
    seen = measure(tabs, render.to_html(doc), width)
    # each fact: its label and its own value, in order, on one row, the value to the right of the label
    assert [d["text"] for d in seen["dts"]] == [render.header_text(label)[:60] for label, _ in doc.facts]
    assert [d["text"] for d in seen["dds"]] == [value[:60] for _, value in doc.facts]
    for dt, dd in zip(seen["dts"], seen["dds"], strict=True):
        assert abs(dt["t"] - dd["t"]) < 2, f"{dd['text']!r} is not on the row of {dt['text']!r}"
        assert dd["l"] >= dt["r"], f"{dt['text']!r} runs into its value"
    assert seen["overlapping_facts"] == []
    assert seen["overlapping_blocks"] == []  # headings, paragraphs, tables, charts, sign-off blocks
    # nothing wider than the page: wide tables scroll inside their wrapper, which can scroll
    assert seen["page_width"] <= seen["width"] and seen["too_wide"] == []
    assert all(w["overflow"] == "auto" and w["table_fits"] for w in seen["wrappers"])
    assert seen["cut"] == []
    assert seen["issuer"] == ORGANISATION and PRODUCER in seen["produced"]


def test_on_a_phone_a_wide_table_scrolls_in_its_wrapper(tabs, documents) -> None:
    seen = measure(tabs, render.to_html(documents["trial-balance"]), WIDTHS["phone"])
    assert any(w["wider"] for w in seen["wrappers"]), "the trial balance's account codes do not fit 375 pixels"
    assert seen["page_width"] <= WIDTHS["phone"]


def test_printed_every_page_says_page_x_of_y_and_names_the_issuer(tabs, documents) -> None:
    from pypdf import PdfReader

    page = tabs[WIDTHS["desktop"]]
    page.set_content(render.to_html(documents["ledger"]))
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4")))
    pages = len(pdf.pages)
    assert pages > 1, "the ledger should run over more than one page"
    for number, sheet in enumerate(pdf.pages, 1):
        text = " ".join(sheet.extract_text().split())
        assert f"Page {number} of {pages}" in text
        assert "Tri-borough Shared" in text and "General ledger" in text


# --- the stamp, the sign-off block and charts, without a browser ------------------------------------------------


def small(**changes: Any) -> Document:
    table = Table("Funding streams", ("stream", "year_end", "closing"), frozenset({"year_end", "closing"}),
                  (("care-act", -1_234_56, 98_765_43),))
    return dataclasses.replace(Document("test", "Budget statement", (("person", "P1"),), (table,), HEAD), **changes)


def test_headers_are_words_and_money_has_its_pound_sign() -> None:
    assert [render.header_text(n) for n in ("year_end", "debit balances", "P0001", "s117", "0-30 days")] == \
        ["Year end", "Debit balances", "P0001", "s117", "0-30 days"]
    page = render.to_html(small())
    assert "<th>Stream</th>" in page and ">Year end</th>" in page and "year_end" not in page
    assert ">-£1,234.56</td>" in page and ">£98,765.43</td>" in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_the_stamp_is_in_every_format() -> None:
    doc = small(stamp=STAMP)
    page = render.to_html(doc)
    assert f'<p class="issuer">{ORGANISATION}</p>' in page
    assert f"Produced by {PRODUCER} on 2026-03-31 at 17:05 UTC." in page
    assert 'counter(page) " of " counter(pages)' in page
    lines = render.to_csv(doc).splitlines()
    assert lines[:4] == ["# report: Budget statement", f"# issued by: {ORGANISATION}", f"# produced by: {PRODUCER}",
                         "# produced at: 2026-03-31 17:05 UTC"]
    no_stamp = render.to_html(small())
    assert 'class="issuer"' not in no_stamp and 'class="produced"' not in no_stamp  # the old call form renders


def test_text_in_the_page_header_cannot_break_out_of_the_style_sheet() -> None:
    page = render.to_html(small(title='Pool "</style><script>alert(1)</script>', stamp=STAMP))
    assert "<script" not in page and page.count("</style>") == 1


def test_a_sign_off_block_for_each_role_and_charts_inline() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 10 10"><title>t</title></svg>'
    page = render.to_html(small(signoff=("prepared by", "approved by"),
                                charts=(Chart("Budget & plan", svg, "Allocated £1.00 <all>"),)))
    assert page.count('<div class="sign">') == 2 and "<h3>Prepared by</h3>" in page
    assert page.count("<span>Signature</span>") == 2 and page.count("<span>Date</span>") == 2
    assert (f'<figure class="chart">{svg}<figcaption><strong>Budget &amp; plan</strong>: Allocated £1.00 '
            "&lt;all&gt;</figcaption></figure>") in page
    assert "Sign-off" not in render.to_html(small())


@pytest.fixture
def cli(engine, db_url, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """`ipb report` as the auditor, with no configuration file in reach."""
    build(engine)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in (config.CONFIG_ENV, "IPB_ORGANISATION"):
        monkeypatch.delenv(name, raising=False)
    return support.ipb_runner(db_url, "auditor")


def test_the_cli_stamps_reports_with_the_organisation_and_who_authenticated(cli, db_url, monkeypatch,
                                                                            tmp_path) -> None:
    # on SQLite the OS login (here: as if `auditor`); on PostgreSQL the login, acting for the user it names
    login = make_url(db_url).username
    expected = "auditor" if support.target_url() is None or login == "auditor" else f"{login} as auditor"
    data = json.loads(cli("report", "trial-balance", "--period", "2025/26", "--json").stdout)
    assert data["produced"]["issuer"] == config.UNSET_ORGANISATION and data["produced"]["by"] == expected
    assert datetime.fromisoformat(data["produced"]["at"]) and data["report"] == "trial-balance"
    (tmp_path / "ipb.toml").write_text('organisation = "Northshire County Council"\n')
    shown = cli("report", "trial-balance", "--period", "2025/26").stdout
    assert shown.splitlines()[0] == "Northshire County Council" and f"produced by {expected} on " in shown
    monkeypatch.setenv("IPB_ORGANISATION", ORGANISATION)
    cli("report", "statement", "P2", "--period", "2025/26", "--out", tmp_path / "s.html")
    cli("report", "statement", "P2", "--period", "2025/26", "--out", tmp_path / "s.csv")
    assert f'<p class="issuer">{ORGANISATION}</p>' in (tmp_path / "s.html").read_text()
    assert f"# issued by: {ORGANISATION}\n# produced by: {expected}\n" in (tmp_path / "s.csv").read_text()

