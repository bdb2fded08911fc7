"""`ipb assess uprate`: last year's caseload re-assessed under the new year's figures and the new year allocated,
in one keyed, resumable batch.

The new year's figures here are a copy of 2025/26's with the draft changes of tests/test_what_if.py, so each
expected charge is worked by that file's formula from figures read in this file, whatever the real 2026/27 file
holds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

import ledger.rules.params as params_module
import ledger.services.uprating as uprating
from ledger.reports.verify import verify
from ledger.storage.assessments import current_assessments
from ledger.storage.reads import load_entry
from tests import test_what_if
from tests.test_what_if import CASES, FIGURES, REAL, everything, expected_charge, figures

caseload = test_what_if.caseload  # the 2025/26 caseload, assessed and allocated through the CLI

NEW = ("--fy", "2026/27")
WEEKS = FIGURES["weeks_in_year"]["value"]


def new_year_params(folder: Path, *, keep_18_24: bool) -> None:
    """2025/26 as it is, and a 2026/27 with the draft figures (without the 18-24 MIG unless `keep_18_24`)."""
    from tests.test_what_if import DRAFT

    text = REAL.read_text().replace('financial_year = "2025/26"', 'financial_year = "2026/27"')
    for key, pence in DRAFT.items():
        text, n = re.subn(rf"(?m)^({key} = \{{ pence = )\d+", rf"\g<1>{pence}", text)
        assert n == 1, key
    if not keep_18_24:
        text, n = re.subn(r"(?m)^single_18_24 = .*\n", "", text)
        assert n == 1
    folder.mkdir()
    (folder / REAL.name).write_text(REAL.read_text())
    (folder / "2026-27.toml").write_text(text)


@pytest.fixture
def params_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(keep_18_24: bool = True) -> None:
        folder = tmp_path / f"params-{keep_18_24}"
        new_year_params(folder, keep_18_24=keep_18_24)
        monkeypatch.setattr(params_module, "PARAMS_DIR", folder)
        params_module.params_for_year.cache_clear()

    yield use
    params_module.params_for_year.cache_clear()


def uprate(ipb, *args: object, code: int = 0, user: str = "tester"):  # type: ignore[no-untyped-def]
    return ipb("assess", "uprate", *NEW, *args, code=code, user=user)


def rows(result) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {row["person"]: row for row in json.loads(result.stdout)}


def expected_new(person: str) -> int:
    f = figures(draft=True)
    f["single_18_24"] = figures(draft=False)["single_18_24"]
    return expected_charge(person, f)


def test_uprate_reassesses_and_allocates_the_new_year(ipb, caseload: Engine, params_dir):
    params_dir(keep_18_24=True)
    lines = rows(uprate(ipb, "--json"))
    assert set(lines) == set(CASES) and {r["status"] for r in lines.values()} == {"uprated"}
    with caseload.connect() as conn:
        stored = {s.person: s for s in current_assessments(conn, 2026)}
        for person, row in lines.items():
            assert row["old_weekly"] == expected_charge(person, figures(draft=False))
            assert row["new_weekly"] == stored[person].weekly_charge == expected_new(person)
            assert stored[person].params_version.startswith("2026/27@")
            entries = [load_entry(conn, e) for e in row["entries"]]
            by_stream = {dict(e.meta)["weekly_charge"]: e for e in entries}
            assert set(by_stream) == {str(expected_new(person))}
            for entry in entries:
                meta = dict(entry.meta)
                assert meta["params"] == row["params_version"] and meta["rule"].startswith("care-act-charging/")
                assert entry.effective_date.year == 2026 and entry.effective_date.month >= 4
            contribution = sum(line.amount for e in entries for line in e.lines
                               if line.amount > 0 and "personal-contribution" in line.account)
            assert contribution == expected_new(person) * WEEKS
    assert verify(caseload).ok


def test_the_same_batch_again_posts_nothing(ipb, caseload: Engine, params_dir):
    params_dir(keep_18_24=True)
    first = rows(uprate(ipb, "--json"))
    before = everything(caseload)
    again = rows(uprate(ipb, "--json"))
    assert everything(caseload) == before
    assert {r["status"] for r in again.values()} == {"done before"}
    assert {p: r["entries"] for p, r in again.items()} == {p: r["entries"] for p, r in first.items()}


def test_one_case_the_new_figures_cannot_assess_stops_the_batch(ipb, caseload: Engine, params_dir):
    params_dir(keep_18_24=False)  # P6 is 18-24
    before = everything(caseload)
    result = uprate(ipb, code=1)
    assert everything(caseload) == before
    line, = result.stderr.splitlines()
    assert "P6" in line and "single_18_24" in line and "--leave-refused" in line
    lines = rows(uprate(ipb, "--leave-refused", "--json"))
    assert lines["P6"]["status"] == "refused" and lines["P6"]["entries"] == []
    assert {r["status"] for p, r in lines.items() if p != "P6"} == {"uprated"}
    with caseload.connect() as conn:
        assert set(s.person for s in current_assessments(conn, 2026)) == set(CASES) - {"P6"}


def test_people_already_assessed_for_the_year_are_left_alone(ipb, caseload: Engine, params_dir, tmp_path: Path):
    from tests.test_what_if import case_file

    params_dir(keep_18_24=True)
    path = case_file(tmp_path, "P1")
    path.write_text(path.read_text().replace("on = 2025-06-02", "on = 2026-05-04"))
    ipb("assess", path, "--allocate", "P1", *NEW)
    lines = rows(uprate(ipb, "--json"))
    assert lines["P1"]["status"] == "assessed already" and lines["P1"]["entries"] == []
    with caseload.connect() as conn:
        assert {s.person: s.version for s in current_assessments(conn, 2026)}["P1"] == 1


def test_a_batch_stopped_half_way_is_finished_by_the_same_command(ipb, caseload: Engine, params_dir,
                                                                   monkeypatch: pytest.MonkeyPatch):
    params_dir(keep_18_24=True)
    monkeypatch.setattr(uprating, "CHUNK", 2)
    real, calls = uprating.fund_in, []

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args[1])
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(uprating, "fund_in", failing)
    with pytest.raises(RuntimeError, match="killed"):
        uprate(ipb)
    with caseload.connect() as conn:  # the first chunk committed, the second rolled back whole
        assert set(s.person for s in current_assessments(conn, 2026)) == set(calls[:2])
    monkeypatch.setattr(uprating, "fund_in", real)
    lines = rows(uprate(ipb, "--json"))
    assert [lines[p]["status"] for p in calls[:2]] == ["done before"] * 2
    assert {r["status"] for p, r in lines.items() if p not in calls[:2]} == {"uprated"}
    with caseload.connect() as conn:
        stored = {s.person: s for s in current_assessments(conn, 2026)}
    assert set(stored) == set(CASES) and {s.version for s in stored.values()} == {1}
    assert verify(caseload).ok


def test_only_an_officer_may_uprate(ipb, caseload: Engine, params_dir):
    params_dir(keep_18_24=True)
    before = everything(caseload)
    assert "auditor" in uprate(ipb, user="auditor", code=1).stderr
    assert everything(caseload) == before
