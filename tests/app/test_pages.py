"""AppTest of the dashboard's pages: what a user sees on the overview and the explorer,
against what the engine computes on the same database."""
from __future__ import annotations

import base64
import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cpc_monitor.present import charts

from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import evaluate
from cpc_monitor.present.formatting import format_status, format_value
from cpc_monitor.definitions.indicators import load_indicators
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.app.header import SAMPLE_NOTICE

from conftest import INDICATORS, ROOT
from helpers import markdown_rows, seen

PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
SMALL = {"1", "2", "3", "4"}  # counts that presentation-safe mode must never show (min_cell 5)
pytestmark = pytest.mark.timeout(300)


def scorecard_rows(at: AppTest) -> dict[str, dict[str, str]]:
    """The overview's scorecard: indicator name -> {heading: cell}."""
    return markdown_rows(at, "Indicator")


def status_figures(at: AppTest) -> dict[str, str]:
    """The explorer's figures behind the status: figure -> value."""
    return {name: row[""] for name, row in markdown_rows(at, "Figure").items()}


def number(cell: str) -> str:
    """The figure of a cell, without a year note or unit: '54 (2024)' -> '54'."""
    return re.sub(r"\s*\(\d{4}\)$", "", cell).strip()


def array(value: list | dict) -> list[float]:
    """A plotly JSON array: a list, or plotly's typed array {"dtype", "bdata"}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


def engine(db: Path, filters: Filters = Filters(), path: Path = INDICATORS):
    return evaluate(db, load_indicators(path), filters=filters)


# ----------------------------------------------------------------------------- every page


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_the_sample_notice(open_page, page):
    at = open_page(page)
    assert errors(at) == []
    assert any(SAMPLE_NOTICE in md.value for md in at.markdown), "the SAMPLE DATA notice is missing"


@pytest.mark.parametrize("page", PAGES)
def test_downloads_are_made_on_click_not_on_every_run(open_page, monkeypatch, page):
    """A file made on a run is dropped when the next run ends; the browser checks each file as
    it draws the button, so under load (benchmarks/load.py) it logged 404s. No page makes one."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    made = []
    original = MediaFileManager.add

    def add(self, path_or_data, mimetype, *args, **kwargs):
        if mimetype == "text/csv":
            made.append(kwargs.get("file_name") or args[1:2])
        return original(self, path_or_data, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", add)
    at = open_page(page)
    assert not at.exception
    assert made == []


@pytest.mark.parametrize("state", [{"filter_parish": ["Kingston"]}, {"filter_sex": ["other"]}],
                         ids=["parish", "sex"])
def test_protection_map_under_a_filter(open_page, state):
    """The parish map's legend squares ("not in the parish filter", hidden values): a missing
    helper made Protection fail under any parish filter (found by benchmarks/load.py)."""
    at = open_page("pages/protection.py", state)
    assert not errors(at)
    legends = {trace.get("name") for chart in at.get("plotly_chart")
               for trace in json.loads(chart.proto.spec).get("data", [])}
    assert "Not in the parish filter" in legends or "filter_parish" not in state


def test_first_run_builds_the_sample_database_and_never_overwrites_it(tmp_path, monkeypatch):
    path = tmp_path / "data" / "cpc.duckdb"
    monkeypatch.setenv("CPC_DB", str(path))
    monkeypatch.setenv("CPC_INDICATORS", str(INDICATORS))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    assert errors(at) == []
    assert path.is_file()
    assert any(SAMPLE_NOTICE in md.value for md in at.markdown)
    stamp = path.stat().st_mtime_ns
    AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    assert path.stat().st_mtime_ns == stamp


def test_overview_is_the_default_page(open_page):
    at = open_page()
    assert errors(at) == []
    assert "Where the partnership stands" in at.subheader[0].value


# ----------------------------------------------------------------------------- overview


def test_scorecard_has_one_row_per_indicator_with_the_engines_verdict(open_page, sample_db):
    ev = engine(sample_db)
    rows = scorecard_rows(open_page())
    assert len(rows) == len(ev.results) == 25
    for r in ev.results:
        status = format_status(r.verdict.code)
        if r.verdict.missed_milestone:
            year, target = r.verdict.missed_milestone
            status += f" · missed the {year} milestone ({format_value(target, r.unit)})"
        assert rows[r.name]["Status"] == status, r.id
        year, value = r.latest
        assert number(rows[r.name][next(h for h in rows[r.name] if h.startswith("Latest"))]) == \
            format_value(value, r.unit), r.id


def test_pillars_show_status_in_words_and_counts(open_page, sample_db):
    ev = engine(sample_db)
    tiles = [md.value for md in open_page().markdown if md.value.startswith("**PROSECUTION")
             or md.value.startswith("**PROTECTION") or md.value.startswith("**PREVENTION")
             or md.value.startswith("**PARTNERSHIP")]
    assert len(tiles) == 4
    for tile, (pillar, rollup) in zip(tiles, ev.pillars().items()):
        # The tile counts outcomes; inputs (money, trainings) have a line of their own.
        outcomes = [r for r in ev.results if r.pillar == pillar and r.kind == "outcome"]
        inputs = [r for r in ev.results if r.pillar == pillar and r.kind == "input"]
        on_track = sum(r.verdict.code in ("on_track", "target_achieved") for r in outcomes)
        assert charts.pillar_status(rollup.status) in tile
        if outcomes:
            assert f"{on_track} of {len(outcomes)} on track · {charts.score_text(rollup.score)}" in tile
        else:
            assert "no outcome indicators · no score" in tile
        if inputs:
            inputs_on_track = sum(r.verdict.code in ("on_track", "target_achieved") for r in inputs)
            assert f"inputs (not scored): {inputs_on_track} of {len(inputs)} on track" in tile
        else:
            assert "inputs" not in tile
        missed = sum(r.verdict.missed_milestone is not None for r in outcomes)
        assert (f"{missed} missed" in tile) == bool(missed)
    # Partnership's three indicators are all money: no outcome to score it on.
    assert ev.pillars()["partnership"].scored == 0 and "inputs (not scored):" in tiles[3]


def test_inputs_are_listed_apart_from_the_outcomes(open_page, sample_db):
    at = open_page()
    assert errors(at) == []
    texts = [md.value for md in at.markdown]
    headings = [t.split("\n")[0] for t in texts if t.startswith("**") and "|" in t]
    assert "**Prosecution: inputs** (money and trainings, not in the score)" in headings
    assert "**Partnership**" not in headings and "**Partnership: inputs** (money and trainings, not in the score)" in headings
    inputs = next(t for t in texts if t.startswith("**Prosecution: inputs**"))
    assert "Judges and prosecutors trained \\(cumulative\\)" in inputs  # as_markdown_text: shown as typed
    assert "Judges and prosecutors trained" not in next(t for t in texts if t.startswith("**Prosecution**\n"))
    assert ":blue[" in inputs, "the progress bar is the package's own markup: not escaped"


def test_the_sidebar_can_count_tip_report_years(open_page, sample_db):
    at = open_page(state={"filter_period": "tip"})
    assert errors(at) == []
    assert any("TIP Report years, April to March" in c.value for c in at.caption)
    rows = scorecard_rows(at)
    ev = engine(sample_db, Filters(period="tip"))
    victims = ev.result("protection.child_victims_identified")
    assert victims.latest[0] == 2025  # TIP year 2026 (April-December 2025) is not over: left out
    assert number(rows[victims.name][next(h for h in rows[victims.name] if h.startswith("Latest"))]) == \
        format_value(victims.latest[1], victims.unit)


def test_headline_shows_latest_values_and_change(open_page, sample_db):
    ev = engine(sample_db)
    metrics = {m.label: m for m in open_page().metric}
    investigations = ev.result("prosecution.investigations_opened")
    series = investigations.series()
    year, value = investigations.latest
    metric = metrics[f"Investigations opened, {year}"]
    assert metric.value == format_value(value, "count")
    change = value - series[year - 1]
    assert metric.proto.delta.startswith(("+" if change > 0 else "−" if change < 0 else "="))


def test_choosing_an_indicator_opens_it_in_the_explorer(open_page):
    at = open_page()
    at.selectbox(key="overview_choice").set_value("protection.referred_within_2_days").run()
    assert errors(at) == []
    assert at.selectbox(key="indicator").value == "protection.referred_within_2_days"
    assert at.query_params.get("indicator") == "protection.referred_within_2_days"


# ----------------------------------------------------------------------------- filters


def test_parish_filter_changes_the_numbers_as_the_database_says(open_page, sample_db):
    at = open_page()
    at.multiselect(key="filter_parish").set_value(["Kingston"]).run()
    assert errors(at) == []
    ev_all, ev = engine(sample_db), engine(sample_db, Filters(parish=("Kingston",)))
    rows = scorecard_rows(at)
    latest = next(h for h in next(iter(rows.values())) if h.startswith("Latest"))
    changed = 0
    for r in ev.results:
        assert number(rows[r.name][latest]) == format_value(r.latest[1], r.unit), r.id
        assert rows[r.name]["Status"] == charts.verdict_words(r), r.id
        changed += r.latest != ev_all.result(r.id).latest
    assert changed >= 3, "a parish filter should change several indicators"
    # Funding has no parish column: the page says the filter does not apply there.
    caption = at.caption[0].value
    assert "Parish Kingston: applies to cases, victims" in caption
    assert "not to" in caption and "funding" in caption.split("not to", 1)[1]


def test_year_range_ends_the_series_where_chosen(open_page, sample_db):
    at = open_page()
    at.slider(key="filter_years").set_value((2018, 2022)).run()
    assert errors(at) == []
    ev = engine(sample_db, Filters(year_from=2018, year_to=2022))
    rows = scorecard_rows(at)
    assert "Latest (2022)" in next(iter(rows.values()))
    for r in ev.results:
        assert rows[r.name]["Status"] == charts.verdict_words(r), r.id


def test_filters_persist_across_pages(open_page, sample_db):
    at = open_page()
    at.multiselect(key="filter_sex").set_value(["female"]).run()
    at.switch_page("pages/indicators.py").run()
    at.selectbox(key="indicator").set_value("protection.child_victims_identified").run()
    assert at.multiselect(key="filter_sex").value == ["female"]
    result = engine(sample_db, Filters(sex=("female",))).result("protection.child_victims_identified")
    figures = status_figures(at)
    year, value = result.latest
    assert figures["Latest"] == f"{format_value(value, 'count')} in {year}"


# ----------------------------------------------------------------------------- explorer


def test_explorer_draws_series_with_target_path_and_projection(open_page, sample_db):
    at = open_page("pages/indicators.py")
    at.selectbox(key="indicator").set_value("prosecution.investigations_opened").run()
    assert errors(at) == []
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [t.get("name") for t in spec["data"]]
    assert names[:2] == ["Observed", "Baseline 2018"]
    assert {"Path the target needs", "Projected at the current pace", "Milestones", "2030 target: 90"} <= set(names)
    observed_2018 = engine(sample_db).result("prosecution.investigations_opened").series()[2018]
    # the title describes the line drawn: the observed 2018 value, not the stated baseline of 30
    assert spec["layout"]["title"]["text"].startswith(f"Rose from {observed_2018:.0f} in 2018 to")
    assert observed_2018 != 30
    assert spec["layout"]["xaxis"]["title"]["text"] == "Year"
    # One chart per disaggregation besides the series.
    assert len(at.get("plotly_chart")) == 1 + 3
    result = engine(sample_db).result("prosecution.investigations_opened")
    assert any(charts.explanation(result, False) in md.value for md in at.markdown)
    definition = next(md.value for md in at.markdown if "What is counted" in md.value)
    assert "`cases`" in definition and "`opened_date`" in definition


def test_explorer_definition_resolves_segments(open_page):
    at = open_page("pages/indicators.py")
    at.selectbox(key="indicator").set_value("protection.child_victims_identified").run()
    definition = next(md.value for md in at.markdown if "What is counted" in md.value)
    assert "minor (`age < 18`)" in definition
    assert "confirmed (`victim_status = 'confirmed'`)" in definition


def test_explorer_says_what_an_input_and_a_tip_year_stock_are(open_page):
    at = open_page("pages/indicators.py")
    at.selectbox(key="indicator").set_value("protection.goj_victim_protection_jmd").run()
    assert errors(at) == []
    definition = next(md.value for md in at.markdown if "What is counted" in md.value)
    assert "an input (money or trainings)" in definition and "TIP Report years, April to March" in definition
    at.selectbox(key="indicator").set_value("prosecution.pending_prosecution_age").run()
    assert errors(at) == []
    definition = next(md.value for md in at.markdown if "What is counted" in md.value)
    assert "open at each year's end" in definition and "calendar years" in definition


def test_explorer_download_is_suppressed_even_with_exact_numbers_on_screen(open_page, downloads, sample_db):
    at = open_page("pages/indicators.py")
    at.selectbox(key="indicator").set_value("prosecution.convictions").run()
    shown = at.dataframe[-1].value
    assert set(shown["Value"]) & SMALL, "exact figures are on screen when the switch is off"
    rows = list(csv.DictReader(io.StringIO(downloads["prosecution.convictions.csv"].decode())))
    result = engine(sample_db).result("prosecution.convictions")
    assert len(rows) == len(privacy.result_values(result, True))
    values = {row["value"] for row in rows}
    assert "<5" in values
    assert not {v for v in values if v and v != "<5" and 1 <= float(v) < 5}


# ----------------------------------------------------------------------------- presentation-safe


def test_presentation_safe_mode_shows_no_small_count(open_page, downloads, sample_db):
    at = open_page()
    at.toggle(key="filter_safe").set_value(True).run()
    assert errors(at) == []
    for metric in at.metric:
        assert metric.value not in SMALL, metric.label
    ev = engine(sample_db)
    counts = {r.name for r in ev.results if r.unit == "count"}
    for name, row in scorecard_rows(at).items():
        if name in counts:
            for heading, cell in row.items():
                if heading.startswith(("Latest", "Baseline")):
                    assert number(cell) not in SMALL, (name, heading, cell)
    scorecard = downloads["cpc-scorecard.csv"].decode()
    for row in csv.DictReader(io.StringIO(scorecard)):
        if row["Indicator"] in counts:
            assert number(row["Latest"]) not in SMALL and number(row["Baseline"]) not in SMALL, row

    at.switch_page("pages/indicators.py").run()
    for indicator in ("prosecution.convictions", "protection.child_victims_identified"):
        at.selectbox(key="indicator").set_value(indicator).run()
        assert errors(at) == []
        figures, data = status_figures(at), at.dataframe[-1].value
        assert len(figures) >= 10
        assert not set(data["Value"]) & SMALL, indicator
        for name, cell in figures.items():
            # Targets and milestones are stated goals, not counts of people: only the
            # figures measured from the data are checked.
            measured = re.search(r"\(value ([^)]*)\)", cell) if name.startswith("Milestone") else (
                None if name == "Target" else re.match(r"^[\d.,]+", cell))
            if measured:
                assert measured.group(measured.lastindex or 0) not in SMALL, (indicator, name, cell)
        for md in at.markdown:
            assert not re.search(r"\bfrom [1-4] in \d{4}|\bto [1-4] in \d{4}", md.value), md.value
            assert not re.search(r"\*\*Baseline\*\*: [1-4] in", md.value), md.value
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        observed = next(t for t in spec["data"] if t["name"] == "Observed")
        assert not [y for y in array(observed["y"]) if 1 <= y < 5], indicator


# ----------------------------------------------------------------------------- a broken indicator


BROKEN_TABLE = "measure: {table: casez, agg: count, date: opened_date}"


@pytest.fixture
def broken_indicators(tmp_path, monkeypatch) -> Path:
    """The project's indicator file with one indicator pointing at a table that does not exist."""
    text = INDICATORS.read_text(encoding="utf-8")
    original = "measure: {table: cases, agg: count, date: opened_date}"
    assert original in text
    path = tmp_path / "indicators.yaml"
    path.write_text(text.replace(original, BROKEN_TABLE, 1), encoding="utf-8")
    monkeypatch.setenv("CPC_INDICATORS", str(path))
    return path


def test_broken_indicator_needs_fixing_and_the_rest_still_work(open_page, broken_indicators, sample_db):
    at = open_page()
    assert [e.value for e in at.exception] == []
    [error] = [seen(e.value) for e in at.error]
    assert "Needs fixing" in error and "prosecution.investigations_opened" in error
    assert "there is no table 'casez'. Did you mean 'cases'?" in error
    assert re.search(r"indicators\.yaml:\d+", error), "the message names the file and line"
    ev = engine(sample_db, path=broken_indicators)
    rows = scorecard_rows(at)
    assert len(rows) == 25
    assert rows["Trafficking investigations opened"]["Status"] == "! Needs fixing"
    for r in ev.results:
        assert rows[r.name]["Status"] == charts.verdict_words(r), r.id

    at.switch_page("pages/indicators.py").run()
    at.selectbox(key="indicator").set_value("prosecution.investigations_opened").run()
    [error] = [e.value for e in at.error]
    assert "Needs fixing" in error and "casez" in error
    at.selectbox(key="indicator").set_value("prosecution.convictions").run()
    assert errors(at) == []
    assert at.get("plotly_chart")


def test_unusable_indicator_file_says_how_to_fix_it(open_page, tmp_path, monkeypatch):
    path = tmp_path / "indicators.yaml"
    path.write_text("indicators: [unclosed", encoding="utf-8")
    monkeypatch.setenv("CPC_INDICATORS", str(path))
    at = open_page()
    assert [e.value for e in at.exception] == []
    assert "cannot show the indicators" in at.error[0].value
    assert "indicators.yaml" in at.error[0].value


def test_pillar_pages_mark_their_inputs(open_page):
    at = open_page("pages/prosecution.py")
    assert errors(at) == []
    lines = seen(" ".join(md.value for md in at.markdown))
    assert "Judges and prosecutors trained (cumulative) (input, not in the pillar's score):" in lines
    assert "Trafficking investigations opened: " in lines
