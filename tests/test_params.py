"""Charging parameters per financial year: loading, validation, refusal and year selection.

Two kinds of test live here:

* tests over the files actually held in ledger/rules/params/ (parametrised over `published_years()`;
  when no year is held they are reported as skipped, never faked);
* tests of the loader itself, run against files written into a temporary directory. The figures in
  those files are TEST FIXTURES, not real charging figures: their sources say so.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import ledger.rules.params as params_module
from ledger.errors import InvalidInput
from ledger.rules.params import (
    Count,
    Figure,
    MigBand,
    MigPremium,
    ParamsMissing,
    YearParams,
    params_file,
    params_for,
    params_for_year,
    published_years,
)

FIXTURE_SOURCE = "TEST FIXTURE ONLY - not a real charging figure"
HELD = published_years()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    params_for_year.cache_clear()
    yield
    params_for_year.cache_clear()


def fixture_toml(start_year: int, *, label: str | None = None, drop: str | None = None,
                 source: str = FIXTURE_SOURCE) -> str:
    """A complete, valid parameter file whose figures are obviously synthetic (1p, 2p, ...)."""
    label = label or f"{start_year}/{(start_year + 1) % 100:02d}"

    def fig(pence: int) -> str:
        return f'{{ pence = {pence}, source = "{source}" }}'

    lines = [
        f'financial_year = "{label}"',
        f'weeks_in_year = {{ value = 52, source = "{source}" }}',
        f"personal_expenses_allowance = {fig(101)}",
        f"fnc_weekly = {fig(102)}",
        f'contingency_weeks = {{ value = 4, source = "{source}" }}',
        "",
        "[capital]",
        f"upper_limit = {fig(2_325_000)}",
        f"lower_limit = {fig(1_425_000)}",
        f"tariff_step = {fig(25_000)}",
        f"tariff_per_step = {fig(100)}",
        "",
        "[mig]",
        *(f"{band.value} = {fig(200 + i)}" for i, band in enumerate(MigBand) if band.value != drop),
        "",
        "[mig_premiums]",
        *(f"{prem.value} = {fig(300 + i)}" for i, prem in enumerate(MigPremium) if prem.value != drop),
    ]
    return "\n".join(line for line in lines if not (drop and line.startswith(f"{drop} ="))) + "\n"


@pytest.fixture
def params_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty parameter directory the loader reads instead of ledger/rules/params/."""
    directory = tmp_path / "params"
    directory.mkdir()
    monkeypatch.setattr(params_module, "PARAMS_DIR", directory)
    return directory


def write_year(directory: Path, start_year: int, text: str | None = None) -> Path:
    path = directory / f"{start_year}-{(start_year + 1) % 100:02d}.toml"
    path.write_text(text if text is not None else fixture_toml(start_year), encoding="utf-8")
    return path


def all_figures(p: YearParams) -> dict[str, Figure | Count]:
    figures: dict[str, Figure | Count | None] = {
        "weeks_in_year": p.weeks_in_year,
        "personal_expenses_allowance": p.personal_expenses_allowance,
        "fnc_weekly": p.fnc_weekly,
        "contingency_weeks": p.contingency_weeks,
        "capital.upper_limit": p.capital.upper_limit,
        "capital.lower_limit": p.capital.lower_limit,
        "capital.tariff_step": p.capital.tariff_step,
        "capital.tariff_per_step": p.capital.tariff_per_step,
    }
    figures.update({f"mig.{k.value}": v for k, v in p.mig.items()})
    figures.update({f"mig_premiums.{k.value}": v for k, v in p.mig_premiums.items()})
    return {name: figure for name, figure in figures.items() if figure is not None}


# --- the years actually held --------------------------------------------------------------------


@pytest.mark.parametrize("year", HELD)
def test_each_held_year_loads_and_validates(year: int) -> None:
    p = params_for_year(year)
    assert p.start_year == year
    assert p.financial_year == f"{year}/{(year + 1) % 100:02d}"
    assert p.held(), "a year holds at least some optional figure"
    assert p.capital.lower_limit.pence < p.capital.upper_limit.pence
    assert p.capital.tariff_step.pence > 0 and p.capital.tariff_per_step.pence > 0


@pytest.mark.parametrize("year", HELD)
def test_each_held_year_version_names_year_and_file_hash(year: int) -> None:
    p = params_for_year(year)
    digest = hashlib.sha256(params_file(year).read_bytes()).hexdigest()[:12]
    assert p.version == f"{p.financial_year}@{digest}"


@pytest.mark.parametrize("year", HELD)
def test_every_held_figure_names_its_source(year: int) -> None:
    for name, figure in all_figures(params_for_year(year)).items():
        assert figure.source.strip(), f"{year}: {name} has no source"
        assert FIXTURE_SOURCE not in figure.source, f"{year}: {name} cites a test fixture"


@pytest.mark.parametrize("year", HELD)
def test_held_year_is_picked_by_dates_inside_it(year: int) -> None:
    assert params_for(date(year, 4, 1)).start_year == year
    assert params_for(date(year + 1, 3, 31)).start_year == year


def test_held_files_are_named_by_financial_year() -> None:
    for path in params_module.PARAMS_DIR.glob("*.toml"):
        assert re.fullmatch(r"\d{4}-\d{2}", path.stem), path.name


# --- the loader, against fixture files ----------------------------------------------------------


def test_fixture_year_loads_with_version_of_year_and_hash(params_dir: Path) -> None:
    path = write_year(params_dir, 2030)
    p = params_for_year(2030)
    assert p.financial_year == "2030/31"
    assert p.version == f"2030/31@{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    assert re.fullmatch(r"2030/31@[0-9a-f]{12}", p.version)
    assert all(f.source for f in all_figures(p).values())


def test_version_changes_when_the_file_changes(params_dir: Path) -> None:
    write_year(params_dir, 2030)
    before = params_for_year(2030).version
    params_for_year.cache_clear()
    write_year(params_dir, 2030, fixture_toml(2030).replace("pence = 101,", "pence = 999,"))
    after = params_for_year(2030).version
    assert before != after and after.startswith("2030/31@")


def test_missing_year_is_refused_with_a_clear_message(params_dir: Path) -> None:
    write_year(params_dir, 2030)
    with pytest.raises(ParamsMissing) as caught:
        params_for_year(2019)
    message = str(caught.value)
    assert "2019/20" in message
    assert "not" in message and "guess" in message
    assert "2030/31" in message  # says which years are held


def test_missing_year_when_nothing_is_held(params_dir: Path) -> None:
    with pytest.raises(ParamsMissing, match=r"2019/20.*years held: none"):
        params_for_year(2019)


def test_real_directory_refuses_2019_20() -> None:
    assert 2019 not in HELD
    with pytest.raises(ParamsMissing, match="2019/20"):
        params_for_year(2019)
    with pytest.raises(ParamsMissing, match="2019/20"):
        params_for(date(2019, 6, 1))


def test_malformed_toml_is_refused(params_dir: Path) -> None:
    write_year(params_dir, 2030, "financial_year = \"2030/31\"\nthis is = = not toml\n")
    with pytest.raises(InvalidInput, match="2030-31.toml: invalid parameter file"):
        params_for_year(2030)


def test_wrong_shape_is_refused(params_dir: Path) -> None:
    # a figure given as a bare number, without its source
    write_year(params_dir, 2030, fixture_toml(2030).replace(
        f'fnc_weekly = {{ pence = 102, source = "{FIXTURE_SOURCE}" }}', "fnc_weekly = 102"))
    with pytest.raises(InvalidInput, match="invalid parameter file"):
        params_for_year(2030)


def test_float_money_is_refused(params_dir: Path) -> None:
    write_year(params_dir, 2030, fixture_toml(2030).replace("pence = 101,", "pence = 1.01,"))
    with pytest.raises(InvalidInput, match="invalid parameter file"):
        params_for_year(2030)


def test_empty_source_is_refused(params_dir: Path) -> None:
    write_year(params_dir, 2030, fixture_toml(2030, source=""))
    with pytest.raises(InvalidInput, match="invalid parameter file"):
        params_for_year(2030)


def test_unknown_key_is_refused(params_dir: Path) -> None:
    write_year(params_dir, 2030, 'surprise = 1\n' + fixture_toml(2030))
    with pytest.raises(InvalidInput, match="invalid parameter file"):
        params_for_year(2030)


@pytest.mark.parametrize(("missing", "ask"), [
    (MigBand.LONE_PARENT_18_PLUS.value, lambda p: p.mig_for(MigBand.LONE_PARENT_18_PLUS)),
    (MigPremium.CARER.value, lambda p: p.premium(MigPremium.CARER)),
    ("personal_expenses_allowance", lambda p: p.pea()),
    ("fnc_weekly", lambda p: p.fnc()),
    ("contingency_weeks", lambda p: p.contingency()),
])
def test_a_year_lacking_a_figure_loads_but_refuses_to_use_it(params_dir: Path, missing: str, ask) -> None:
    write_year(params_dir, 2030, fixture_toml(2030, drop=missing))
    p = params_for_year(2030)
    with pytest.raises(ParamsMissing, match="for 2030/31 is not held: .* will not guess; add it with its source "
                                            "to 2030-31.toml"):
        ask(p)
    assert all(not name.endswith(missing) for name in p.held())


def test_file_claiming_another_year_is_refused(params_dir: Path) -> None:
    write_year(params_dir, 2030, fixture_toml(2030, label="2031/32"))
    with pytest.raises(InvalidInput, match="says it is for 2031/32, expected 2030/31"):
        params_for_year(2030)


def test_params_for_picks_year_at_the_1_april_boundary(params_dir: Path) -> None:
    write_year(params_dir, 2030)
    write_year(params_dir, 2031)
    assert params_for(date(2031, 3, 31)).financial_year == "2030/31"
    assert params_for(date(2031, 4, 1)).financial_year == "2031/32"
    assert params_for(date(2030, 4, 1)).financial_year == "2030/31"
    with pytest.raises(ParamsMissing, match="2029/30"):
        params_for(date(2030, 3, 31))
    with pytest.raises(ParamsMissing, match="2032/33"):
        params_for(date(2032, 4, 1))


def test_published_years_lists_the_files_held(params_dir: Path) -> None:
    assert params_module.published_years() == []
    write_year(params_dir, 2031)
    write_year(params_dir, 2030)
    assert params_module.published_years() == [2030, 2031]
