"""Charts as inline SVG (ledger/reports/charts.py): standalone, accessible, escaped, to scale, drawable by fpdf2;
and the charts the arrears and payment-runs reports carry."""

from __future__ import annotations

import io
import json
import logging
import math
import re
import warnings
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain import FunderKind, Stream
from ledger.money import format_amount
from ledger.reports import charts, render
from ledger.reports.arrears import BUCKETS, contribution_arrears
from ledger.reports.charts import BOTTOM, COLOURS, WIDTH, bar_chart, line_chart, pounds_short, printable
from ledger.reports.payment_runs import payment_runs_report
from ledger.services import parties, payees, payment_runs, payment_settlement
from ledger.services.budgets import Allocation, allocate

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '</text><script>alert("x")</script> & <b>"Ann" \'O\'Neil\''
MONTHS = ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar")
NUMBER = re.compile(r"-?\d+(\.\d)?")
GEOMETRY = ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def box(root: ET.Element) -> tuple[float, float]:
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    assert (x, y) == (0, 0)
    return w, h


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{NS}text")]


def bars(root: ET.Element) -> list[dict[str, float]]:
    """The bars of a bar chart (not the legend's swatches, which sit below the plot)."""
    found = [{k: float(r.get(k)) for k in ("x", "y", "width", "height")} | {"fill": r.get("fill")}
             for r in root.iter(f"{NS}rect") if r.get("fill") in COLOURS]
    return [b for b in found if b["y"] <= BOTTOM]


def scale(root: ET.Element) -> float:
    """Points per penny, from the highest label up the left and the zero line."""
    labels = [(from_short("".join(t.itertext())), float(t.get("y"))) for t in root.iter(f"{NS}text")
              if t.get("text-anchor") == "end"]
    top, y = max(labels)
    return (zero_line(root) + 4 - y) / top


def zero_line(root: ET.Element) -> float:
    (line,) = [x for x in root.iter(f"{NS}line") if x.get("stroke") == charts.ZERO]
    return float(line.get("y1"))


def axis_labels(root: ET.Element) -> list[int]:
    """The pound labels up the left, back in pence."""
    labels = ["".join(t.itertext()) for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    return [from_short(label) for label in labels]


def from_short(label: str) -> int:
    sign = -1 if label.startswith("-") else 1
    text = label.lstrip("-").removeprefix("£")
    scale = {"bn": 10**11, "m": 10**8, "k": 10**5}
    for suffix, unit in scale.items():
        if text.endswith(suffix):
            return sign * int(Decimal(text.removesuffix(suffix)) * unit)
    return sign * int(Decimal(text) * 100)


def sample_charts() -> list[render.Chart]:
    return [
        line_chart("Budget burn-down", MONTHS, [("allocated", [1_200_000] * 12),
                                                ("spent", [i * 95_000 - 20_000 for i in range(12)])]),
        bar_chart("Arrears by age", BUCKETS, [("owed", [12_000, 550_000, 0, 130_000_000])]),
        bar_chart("Grouped", ["a", "b", "c"], [("x", [100, -200, 300]), ("y", [0, 50, -5]), ("z", [7, 8, 9])]),
        bar_chart("Stacked", ["a", "b"], [(f"s{i}", [i * 1_000, -i * 500]) for i in range(8)], stacked=True),
        bar_chart(HOSTILE, ["<x>", "&"], [(HOSTILE, [1, 2])]),
        bar_chart("Nothing", [], []),
        line_chart("No series", MONTHS, []),
    ]


# --- the SVG itself --------------------------------------------------------------------------


@pytest.mark.parametrize("chart", sample_charts(), ids=lambda c: c.title[:12])
def test_each_chart_is_a_standalone_accessible_svg(chart) -> None:
    root = parse(chart.svg)
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    w, h = box(root)
    assert (float(root.get("width")), float(root.get("height"))) == (w, h)  # fpdf2 needs a size
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title.text == chart.title and desc.text == chart.summary
    assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]


@pytest.mark.parametrize("chart", sample_charts(), ids=lambda c: c.title[:12])
def test_nothing_runs_and_nothing_is_fetched(chart) -> None:
    root = parse(chart.svg)
    allowed = {f"{NS}{t}" for t in ("svg", "title", "desc", "rect", "line", "polyline", "path", "circle", "text")}
    assert {e.tag for e in root.iter()} <= allowed  # no script, style, image, use, a, foreignObject
    for element in root.iter():
        for name, value in element.attrib.items():
            assert "href" not in name and not name.startswith("on"), (element.tag, name)
            assert "url(" not in value and "javascript:" not in value.lower()
    assert "http" not in chart.svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize("chart", sample_charts(), ids=lambda c: c.title[:12])
def test_coordinates_carry_no_float_noise(chart) -> None:
    for element in parse(chart.svg).iter():
        for name in GEOMETRY:
            if name in element.attrib:
                assert NUMBER.fullmatch(element.get(name)), (element.tag, name, element.get(name))
        for name in ("points", "d"):
            for number in re.findall(r"[-\d.]+", element.get(name, "")):
                assert NUMBER.fullmatch(number), (element.tag, name, number)


def test_a_hostile_name_is_text_not_markup() -> None:
    chart = bar_chart(HOSTILE, ["<x>", "&"], [(HOSTILE, [100, 200])])
    root = parse(chart.svg)
    assert "<script" not in chart.svg and root.find(f"{NS}script") is None
    shown = texts(root)
    assert shown.count(HOSTILE) == 2  # the title at the top and the legend
    assert "<x>" in shown and "&" in shown
    assert root.find(f"{NS}title").text == HOSTILE and HOSTILE in chart.summary


def test_characters_xml_cannot_hold_are_dropped_not_fatal() -> None:
    root = parse(bar_chart("bell\x07 and \x00nul", ["a\x1b"], [("s\ufffe", [5])]).svg)
    assert root.find(f"{NS}title").text == "bell and nul"


def test_the_same_figures_give_the_same_bytes() -> None:
    assert [c.svg for c in sample_charts()] == [c.svg for c in sample_charts()]
    one, other = bar_chart("A", ["x"], [("s", [1])]), bar_chart("B", ["x"], [("s", [1])])
    assert parse(one.svg).find(f"{NS}title").get("id") != parse(other.svg).find(f"{NS}title").get("id")
    assert parse(bar_chart("A", ["x"], [("s", [1])], chart_id="arrears").svg).find(f"{NS}desc").get("id") == \
        "arrears-desc"


# --- to scale -------------------------------------------------------------------------------


def test_bars_are_as_tall_as_their_figures() -> None:
    values = [10_000, 25_000, 5_000, 37_500]
    root = parse(bar_chart("t", ["a", "b", "c", "d"], [("s", values)]).svg)
    found = sorted(bars(root), key=lambda b: b["x"])
    assert len(found) == len(values)
    per_penny = found[0]["height"] / values[0]
    for bar, value in zip(found, values):
        assert bar["height"] == pytest.approx(value * per_penny, abs=0.15)
        assert bar["y"] + bar["height"] == pytest.approx(zero_line(root), abs=0.15)  # standing on the zero line
    assert max(axis_labels(root)) >= max(values)


def test_negative_figures_hang_below_the_zero_line() -> None:
    root = parse(bar_chart("t", ["a", "b"], [("s", [-5_000, 8_000])]).svg)
    zero = zero_line(root)
    negative, positive = sorted(bars(root), key=lambda b: b["x"])
    assert negative["y"] == pytest.approx(zero, abs=0.15) and negative["height"] > 0
    assert positive["y"] + positive["height"] == pytest.approx(zero, abs=0.15) and positive["y"] < zero
    assert negative["height"] / positive["height"] == pytest.approx(5 / 8, abs=0.01)
    assert min(axis_labels(root)) <= -5_000 and "-£" in " ".join(texts(root))
    line = parse(line_chart("t", ["a", "b"], [("s", [-5_000, 8_000])]).svg)
    (points,) = [p.get("points") for p in line.iter(f"{NS}polyline")]
    (_, y_negative), (_, y_positive) = [tuple(map(float, p.split(","))) for p in points.split()]
    assert y_negative > zero_line(line) > y_positive


def test_stacked_bars_add_up_and_negatives_stack_downwards() -> None:
    series = [("a", [3_000, -1_000]), ("b", [2_000, -4_000]), ("c", [5_000, 2_000])]
    root = parse(bar_chart("t", ["one", "two"], series, stacked=True).svg)
    zero, found = zero_line(root), bars(root)
    per_penny = next(b["height"] for b in found if b["fill"] == COLOURS[0] and b["y"] < zero) / 3_000
    first = [b for b in found if b["x"] < WIDTH / 2]
    assert min(b["y"] for b in first) == pytest.approx(zero - 10_000 * per_penny, abs=0.3)
    second = [b for b in found if b["x"] > WIDTH / 2]
    below = [b for b in second if b["y"] >= zero - 0.1]
    assert max(b["y"] + b["height"] for b in below) == pytest.approx(zero + 5_000 * per_penny, abs=0.3)
    assert max(axis_labels(root)) >= 10_000 and min(axis_labels(root)) <= -5_000


def test_series_differ_by_more_than_colour() -> None:
    root = parse(line_chart("t", ["a", "b"], [(f"s{i}", [i, i + 1]) for i in range(6)]).svg)
    lines = list(root.iter(f"{NS}polyline"))
    assert len({x.get("stroke") for x in lines}) == 6
    assert len({x.get("stroke-dasharray") for x in lines}) == 6  # one of them solid (None)
    assert len({marker_shape(root, colour) for colour in COLOURS}) == 6
    legend = [t for t in texts(root) if t.startswith("s")]
    assert legend == [f"s{i}" for i in range(6)]


def marker_shape(root: ET.Element, colour: str) -> tuple[object, ...]:
    """The shape of the first marker drawn in `colour`, wherever it stands: a circle, or its path's corners."""
    marker = next(m for m in root if m.tag in (f"{NS}circle", f"{NS}path") and m.get("fill") == colour)
    if marker.tag == f"{NS}circle":
        return ("circle",)
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", marker.get("d"))]
    xs, ys = numbers[0::2], numbers[1::2]
    return tuple((round(x - min(xs)), round(y - min(ys))) for x, y in zip(xs, ys))


def test_empty_data_says_so() -> None:
    for chart in (bar_chart("Arrears", [], []), line_chart("Burn", MONTHS, []), bar_chart("x", [], [("s", [])])):
        assert chart.summary == "No figures to chart."
        assert "No figures to chart." in texts(parse(chart.svg))


def test_a_series_must_have_a_figure_per_label() -> None:
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        bar_chart("t", ["a", "b", "c"], [("s", [1, 2])])


def test_the_summary_says_the_figures_in_pounds() -> None:
    arrears = bar_chart("Arrears", BUCKETS, [("owed", [12_000, 550_000, 0, 1_300])])
    assert arrears.summary == "owed: 0-30 days £120.00; 31-60 days £5,500.00; 61-90 days £0.00; over 90 days £13.00."
    burn = line_chart("Burn", MONTHS[:3], [("allocated", [100_000] * 3), ("spent", [-5_000, 70_000, 60_000])])
    assert burn.summary == "allocated: £1,000.00 at Jun; spent: £600.00 at Jun (highest £700.00 at May)."
    stacked = bar_chart("Runs", ["1 May", "2 Jun"], [("dp", [100, 200]), ("main", [300, 400])], stacked=True)
    assert "1 May: dp £1.00, main £3.00 (together £4.00)" in stacked.summary
    many = bar_chart("Runs", [str(i) for i in range(20)], [("dp", list(range(20)))])
    assert many.summary == "dp: £1.90 in total; the most, £0.19, at 19."


@pytest.mark.parametrize(("pence", "label"), [(0, "£0"), (50_000, "£500"), (100_000, "£1k"), (150_000, "£1.5k"),
                                              (1_000_000, "£10k"), (120_000_000, "£1.2m"), (-250, "-£2.50"),
                                              (225_000, "£2.25k"), (300_000_000_000, "£3bn")])
def test_axis_labels_are_round_pounds(pence, label) -> None:
    assert pounds_short(pence) == label and from_short(label) == pence


@given(st.integers(-10**12, 10**12), st.integers(-10**12, 10**12))
def test_the_axis_holds_every_figure_and_zero_in_a_few_round_steps(a, b) -> None:
    low, high = min(a, b), max(a, b)
    bottom, top, step = charts.axis(low, high)
    assert bottom <= min(low, 0) and top >= max(high, 0) and top > bottom
    assert bottom % step == 0 and top % step == 0 and 1 <= (top - bottom) // step <= 12
    assert str(step).rstrip("0") in ("1", "2", "25", "5")


names = st.text(max_size=20)
values = st.integers(-10**11, 10**11)


@st.composite
def figures(draw):  # type: ignore[no-untyped-def]
    labels = draw(st.lists(st.text(max_size=12), min_size=0, max_size=14))
    series = draw(st.lists(st.tuples(names, st.lists(values, min_size=len(labels), max_size=len(labels))),
                           max_size=4))
    return labels, series


@given(figures(), st.sampled_from(["line", "bar", "stacked"]))
def test_any_small_figures_make_an_svg_that_stays_in_its_box(data, kind) -> None:
    labels, series = data
    chart = line_chart("t", labels, series) if kind == "line" else \
        bar_chart("t", labels, series, stacked=kind == "stacked")
    root = parse(chart.svg)
    w, h = box(root)
    for element in root.iter():
        xs = [float(element.get(k)) for k in ("x", "x1", "x2", "cx") if k in element.attrib]
        ys = [float(element.get(k)) for k in ("y", "y1", "y2", "cy") if k in element.attrib]
        for pair in element.get("points", "").split():
            x, y = pair.split(",")
            xs.append(float(x))
            ys.append(float(y))
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", element.get("d", ""))]
        xs += numbers[0::2]
        ys += numbers[1::2]
        if "width" in element.attrib and element.tag != f"{NS}svg":
            xs.append(float(element.get("x")) + float(element.get("width")))
            ys.append(float(element.get("y")) + float(element.get("height")))
        assert all(math.isfinite(v) and 0 <= v <= w for v in xs), (element.tag, xs)
        assert all(math.isfinite(v) and 0 <= v <= h for v in ys), (element.tag, ys)
    every = [v for _, vs in series for v in vs]
    if labels and series and kind != "stacked":
        assert min(axis_labels(root)) <= min(every) and max(axis_labels(root)) >= max(every)


# --- drawn in PDF by fpdf2 ------------------------------------------------------------------

UNICODE_FONT = next((p for p in (Path(charts.__file__).parent / "fonts" / "DejaVuSans.ttf",
                                 Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")) if p.exists()), None)


def draw(svgs: list[str], font: Path | None = None) -> str:
    """Draw each SVG on a page of its own with fpdf2, every warning an error; the text pypdf reads back."""
    fpdf = pytest.importorskip("fpdf")
    pypdf = pytest.importorskip("pypdf")
    pdf = fpdf.FPDF()
    if font is not None:
        pdf.add_font("chartfont", "", font)
        pdf.add_font("chartfont", "B", font.with_name(font.stem + "-Bold.ttf"))
    for svg in svgs:
        pdf.add_page()
        pdf.image(io.BytesIO(svg.encode()), w=170)
    reader = pypdf.PdfReader(io.BytesIO(bytes(pdf.output())))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_fpdf2_draws_every_chart_with_its_text(caplog) -> None:
    made = sample_charts()
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="fpdf"):
        warnings.simplefilter("error")
        text = draw([printable(c.svg) for c in made])
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    words = " ".join(text.split())
    for expected in ("Budget burn-down", "£1.5m", "Apr", "Mar", "allocated", "spent", "over 90 days", "-£200",
                     "No figures to chart.", HOSTILE):
        assert expected in words, expected


def test_fpdf2_only_skips_the_title_and_desc_of_the_svg_as_inlined_in_html(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        draw([c.svg for c in sample_charts()[:2]])
    assert {re.sub(r".*<(\w+)>.*", r"\1", r.getMessage()) for r in caplog.records} <= {"title", "desc"}


def test_printable_leaves_out_what_a_pdf_page_prints_itself() -> None:
    chart = bar_chart(HOSTILE, ["a"], [("owed", [100])])
    for svg, heading in ((printable(chart.svg), [HOSTILE]), (printable(chart.svg, heading=False), [])):
        root = parse(svg)
        assert root.find(f"{NS}title") is None and root.find(f"{NS}desc") is None
        assert [t for t in texts(root) if t == HOSTILE] == heading and "owed" in texts(root)
    assert 'font-family="Any &quot;Font&quot;, sans-serif"' in printable(chart.svg, 'Any "Font"')


@pytest.mark.skipif(UNICODE_FONT is None, reason="no DejaVu Sans font on this machine")
def test_fpdf2_draws_any_name_in_the_pdf_s_own_font(caplog) -> None:
    chart = line_chart("Łukasz – Zoë’s budget", MONTHS, [("Ōta − “spent”", list(range(12)))])
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        text = " ".join(draw([printable(chart.svg, "chartfont")], UNICODE_FONT).split())
    assert not caplog.records
    assert "Łukasz – Zoë’s budget" in text and "Ōta − “spent”" in text


# --- on the reports -------------------------------------------------------------------------


def test_the_arrears_report_carries_its_ageing_chart(engine) -> None:
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    assert render.document(contribution_arrears(engine, date(2025, 7, 1))).charts[0].summary == \
        "No figures to chart."
    parties.register_person(engine, "P1")
    allocate(engine, [Allocation("P1", 2025, Stream.CARE_ACT, 1_000_000, "council", date(2025, 4, 1))],
             actor="tester")
    payees.add_paying_account(engine, "dp", "DP account", "20-00-00", "12345678", "123456", actor="tester")
    payees.add_schedule(engine, "P1", weekly=20_000, contribution=5_000, net_of_contribution=True,
                        first_due=date(2025, 4, 1), paying_account="dp", payee_name="P1", sort_code="30-00-00",
                        account_number="11112222", actor="tester")
    report = contribution_arrears(engine, date(2025, 7, 1))  # four dues of £200 unpaid, 1 Apr to 24 Jun
    (chart,) = render.document(report).charts
    assert chart.title == "Arrears by age at 2025-07-01"
    assert chart.summary == "owed: " + "; ".join(f"{b} {format_amount(v, symbol=True)}"
                                      for b, v in zip(BUCKETS, report.total.buckets)) + "."
    assert "over 90 days £200.00" in chart.summary
    assert len(bars(parse(chart.svg))) == 4


PAY = "council"


@pytest.fixture
def runs(engine):
    """Three runs from the council's account: one paid but for a payment that failed, one paid with a payment
    the payee's bank returned, one approved and not yet paid; and one from a second account on the first run's
    pay date."""
    parties.add_funder(engine, "council", "Council", FunderKind.COUNCIL)
    parties.add_funder(engine, "icb", "ICB", FunderKind.ICB)
    for ref in ("P1", "P2"):
        parties.register_person(engine, ref)
    allocate(engine, [Allocation("P1", 2025, Stream.CARE_ACT, 3_000_000, "council", date(2025, 4, 7)),
                      Allocation("P2", 2025, Stream.CARE_ACT, 3_000_000, "council", date(2025, 4, 7))],
             actor="tester")
    for code, number in ((PAY, "12345678"), ("dp", "12345679")):
        payees.add_paying_account(engine, code, f"{code} payments", "20-00-00", number, "123456", actor="tester")
    payees.add_provider(engine, "acme", "Acme Care Ltd", "40-11-22", "87654321", actor="tester")
    payees.add_schedule(engine, "P1", weekly=10_000, first_due=date(2025, 4, 7), paying_account=PAY,
                        payee_name="P One", sort_code="30-00-00", account_number="11112222", actor="tester")
    payees.add_invoice(engine, "acme", "INV-1", "P2", 12_345, invoice_date=date(2025, 4, 7), paying_account=PAY,
                       stream=Stream.CARE_ACT, actor="tester")
    payees.add_invoice(engine, "acme", "INV-2", "P2", 50_000, invoice_date=date(2025, 4, 7), paying_account="dp",
                       stream=Stream.CARE_ACT, actor="tester")
    first = full_run(engine, PAY, date(2025, 5, 6), failed="invoice")
    second = full_run(engine, PAY, date(2025, 6, 3))
    back = next(p for p in second.payments if p.payee == "P1")
    payment_settlement.return_payment(engine, back.id, on=date(2025, 6, 10), reason="account closed", actor="tester")
    full_run(engine, "dp", date(2025, 5, 6))
    third = payment_runs.gather(engine, PAY, date(2025, 7, 1), actor="tester").run
    payment_runs.approve(engine, third.id, actor="checker")
    return engine, first, second, back


def full_run(engine, account: str, on: date, failed: str | None = None):  # type: ignore[no-untyped-def]
    run = payment_runs.gather(engine, account, on, actor="tester").run
    fails = {p.id: "account closed" for p in run.payments if failed and p.payee_kind == "provider"}
    payment_runs.approve(engine, run.id, actor="checker")
    payment_settlement.payment_file(engine, run.id, "csv", actor="tester")
    payment_settlement.submit(engine, run.id, actor="tester")
    return payment_settlement.settle(engine, run.id, on=on, actor="tester", failed=fails)


def test_the_payment_runs_report_totals_each_run_and_charts_what_was_paid(runs) -> None:
    engine, first, second, back = runs
    report = payment_runs_report(engine, charts_period())
    by_run = {x.run: x for x in report.runs}
    assert [x.pay_date for x in report.runs] == sorted(x.pay_date for x in report.runs)
    first_totals = by_run[first.id]
    assert first_totals.failed == 12_345 and first_totals.paid == first.total == sum(
        p.amount for p in first.payments if p.status == "settled")
    assert first_totals.payments == len(first.payments) and first_totals.returned == 0
    assert by_run[second.id].returned == back.amount and by_run[second.id].paid == second.total
    in_hand = [x for x in report.runs if x.status == "approved"]
    assert len(in_hand) == 1 and in_hand[0].paid == 0 and in_hand[0].unpaid > 0
    only_dp = payment_runs_report(engine, charts_period(), "dp")
    assert [x.paying_account for x in only_dp.runs] == ["dp"] and only_dp.runs[0].paid == 50_000

    doc = render.document(report)
    (chart,) = doc.charts
    root = parse(chart.svg)
    dates = sorted({x.pay_date.isoformat() for x in report.runs})
    assert [t for t in texts(root) if t in dates] == dates
    assert {"from council", "from dp"} <= set(texts(root))
    found, zero, per_penny = bars(root), zero_line(root), scale(root)
    may = [b for b in found if b["x"] < LEFT_THIRD]  # 6 May: the council's run and the DP account's run, stacked
    paid_in_may = sum(x.paid for x in report.runs if x.pay_date == date(2025, 5, 6))
    assert zero - min(b["y"] for b in may) == pytest.approx(paid_in_may * per_penny, abs=0.3)
    assert doc.tables[0].footer[5] == sum(x.paid for x in report.runs)


LEFT_THIRD = charts.LEFT + (charts.RIGHT - charts.LEFT) / 3


def charts_period():  # type: ignore[no-untyped-def]
    from ledger.calendar import financial_year

    return financial_year(2025)


def test_ipb_report_payment_runs_in_every_format(runs, db_url, tmp_path) -> None:
    from tests import support

    ipb = support.ipb_runner(db_url, "auditor")
    data = json.loads(ipb("report", "payment-runs", "--period", "2025/26", "--json").stdout)
    assert data["report"] == "payment-runs" and len(data["runs"]) == 4
    shown = " ".join(ipb("report", "payment-runs", "-p", "2025/26", "--from", "dp").stdout.split())
    assert "500.00" in shown and "paying account: dp" in shown
    only_dp = json.loads(ipb("report", "payment-runs", "-p", "2025/26", "--from", "dp", "--json").stdout)["runs"]
    assert [x["paying_account"] for x in only_dp] == ["dp"]
    for fmt in ("csv", "html", "pdf"):
        ipb("report", "payment-runs", "-b", "2025-04-01", "-e", "2026-04-01", "--out", tmp_path / f"runs.{fmt}")
    assert "# report: Payment runs" in (tmp_path / "runs.csv").read_text()
    page = (tmp_path / "runs.html").read_text()
    svg = page[page.index("<svg"):page.index("</svg>") + len("</svg>")]
    assert parse(svg).find(f"{NS}title").text == "Paid per payment run, by pay date"
    pypdf = pytest.importorskip("pypdf")
    printed = " ".join(page.extract_text() for page in pypdf.PdfReader(tmp_path / "runs.pdf").pages)
    ticks = ["".join(t.itertext()) for t in parse(svg).iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert ticks and all(tick in printed for tick in ticks) and "from council" in printed  # the chart's text
    refused = ipb("report", "payment-runs", "--from", "nowhere", code=1)
    assert "no paying account 'nowhere'" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
