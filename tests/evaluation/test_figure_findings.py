"""The pillar pages' figures say what they show, truly: the parish map under every filter and
shading, places named from their reference table, titles that never state a hidden number
nor read a hidden year as 0, running totals labelled as such, stacks partly hidden without a
total that would give the hidden parts back, and the spaces listed with dates as dates.
Real sample databases, no mocks (tests/evaluation/test_figures.py has the numbers against SQL)."""
from __future__ import annotations

import html
import json
import re

import plotly.graph_objects as go
import pytest

from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.figures import evaluate_page
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.present import figure_charts as fc
from test_figures import MIN_CELL, figure, iset, sql  # noqa: F401  (iset: the module's fixture)

VICTIMS = "victims_identified"
pytestmark = pytest.mark.timeout(300)


def title_of(fig: go.Figure) -> str:
    """A chart's title as the reader sees it (line breaks as spaces, &lt; as <)."""
    return html.unescape(fig.layout.title.text.replace("<br>", " "))


# ----------------------------------------------------------------------------- the parish map


@pytest.mark.parametrize("filters,safe", [(Filters(parish=("Kingston",)), False), (Filters(), True),
                                          (Filters(parish=("Kingston", "St Andrew")), True)])
def test_the_map_draws_under_a_filter_and_in_safe_mode_for_every_shading(sample_db, iset, filters, safe):
    values = figure(sample_db, iset, "protection", "parish_map", filters, safe)
    for info in values.series:
        fig = fc.draw(values, iset.labels, series=info.ref)
        go.Figure(fig.to_dict())  # validates every property
        legend = {t.name for t in fig.data if t.showlegend is not False and t.name}
        if filters.parish:
            assert "Not in the parish filter" in legend
        if safe and info.ref == VICTIMS and not filters.parish:
            assert f"Fewer than {MIN_CELL} (hidden)" in legend


def test_the_map_title_states_the_period_its_tiles_sum(sample_db, iset):
    for filters in (Filters(), Filters(year_from=2022, year_to=2025)):
        values = figure(sample_db, iset, "protection", "parish_map", filters)
        fig = fc.draw(values, iset.labels, series=VICTIMS)
        first, last = re.search(r"by parish, (\d{4})(?:–(\d{4}))?:", title_of(fig)).groups()
        last = last or first
        tiles = {a.name: int(re.search(r"<b>([\d,]+)</b>", a.text).group(1).replace(",", ""))
                 for a in fig.layout.annotations}
        count = sql(sample_db, "SELECT count(*) FROM victims WHERE year(identified_date) BETWEEN ? AND ?",
                    [int(first), int(last)])[0][0]
        assert sum(tiles.values()) == count, (title_of(fig), filters)
        top = max(tiles, key=tiles.get)
        assert f"most in {top} ({tiles[top]:,})" in title_of(fig)
    assert (first, last) == ("2022", "2025")


@pytest.mark.parametrize("parishes", [(), ("Kingston",)])
def test_the_map_marks_each_child_friendly_space(sample_db, iset, parishes):
    values = figure(sample_db, iset, "protection", "parish_map", Filters(parish=parishes))
    fig = fc.draw(values, iset.labels)
    [marks] = [t for t in fig.data if t.marker and t.marker.symbol == "diamond"]
    where = "WHERE parish IN (SELECT unnest(?::TEXT[]))" if parishes else ""
    names = [r[0] for r in sql(sample_db, f"SELECT name FROM child_friendly_spaces {where}",
                               [list(parishes)] if parishes else [])]
    assert len(marks.x) == len(names) > 0
    assert sorted(re.search(r"<b>(.*?)</b>", t).group(1) for t in marks.text) == sorted(names)
    assert all(re.search(r"Opened: \d{1,2} [A-Z][a-z]{2} \d{4}", t) for t in marks.text)
    caption = values.figure.caption or ""
    assert "◆" not in caption or marks.marker.symbol == "diamond"


# ----------------------------------------------------------------------------- names of places


def test_spaces_are_named_from_their_reference_table(sample_db, iset):
    names = dict(sql(sample_db, "SELECT space_id, name FROM child_friendly_spaces"))
    assert "space_id" not in iset.labels  # names of places are reference data, not hand-written labels
    heat = figure(sample_db, iset, "protection", "cfs_heatmap")
    [trace] = fc.draw(heat, iset.labels).data
    used = figure(sample_db, iset, "protection", "cfs_capacity_by_space")
    [bars] = fc.draw(used, iset.labels).data
    for shown in (trace.y, bars.y):
        assert set(shown) <= set(names.values()) and len(shown) == len(names)
    from cpc_monitor.present import csvfile

    table = csvfile.figure_table(used, iset.labels)
    assert set(table.loc[table["breakdown"] == "space_id", "group"]) == set(names.values())


def test_the_heatmap_lists_only_spaces_with_sessions_under_the_filter(sample_db, iset):
    heat = figure(sample_db, iset, "protection", "cfs_heatmap", Filters(parish=("Kingston",)))
    [trace] = fc.draw(heat, iset.labels).data
    busy = sql(sample_db, "SELECT DISTINCT f.name FROM cfs_sessions s JOIN child_friendly_spaces f USING (space_id) "
                          "WHERE f.parish = 'Kingston'")
    assert sorted(trace.y) == sorted(r[0] for r in busy)
    assert len(trace.y) < len(sql(sample_db, "SELECT * FROM child_friendly_spaces"))


# ----------------------------------------------------------------------------- findings in titles


def test_a_finding_describes_the_whole_series_not_its_two_ends():
    years = [str(y) for y in range(2016, 2026)]
    convicted = [(y, v, False) for y, v in zip(years, [1, 0, 0, 1, 1, 2, 2, 2, 2, 1])]
    assert fc.trend(convicted, "count", MIN_CELL) == "1 in 2025; peak 2 in 2021–2024"
    flat = [(y, 3.0, False) for y in years[:3]]
    assert fc.trend(flat, "count", MIN_CELL) == "3 every year from 2016 to 2018"
    assert fc.trend([(y, 0.0, False) for y in years[:3]], "count", MIN_CELL) == "none in any year from 2016 to 2018"
    rising = [(y, float(v), False) for y, v in zip(years, range(10))]
    assert fc.trend(rising, "count", MIN_CELL) == "9 in 2025, the most since 2016"
    assert fc.trend(rising, "count", MIN_CELL, running=True) == "9 by 2025"


def test_a_finding_never_states_a_hidden_number_nor_reads_it_as_zero():
    years = [str(y) for y in range(2018, 2025)]
    charged = [(y, v, v is None) for y, v in zip(years, [6, 5, None, None, 5, None, 6])]
    words = fc.trend(charged, "count", MIN_CELL)
    assert words == "6 in 2024, matching the peak of 2018; <5 in 2020, 2021 and 2023"
    zeros = [(y, v, v is None) for y, v in zip(range(2018, 2026), [0, 0, 0, None, None, 0, None, 0])]
    assert fc.trend(zeros, "count", MIN_CELL) == "none in 2025; <5 in 2021, 2022 and 2024"
    # a peak below min_cell is no peak when hidden years could be higher
    low = [("2020", 2.0, False), ("2021", None, True), ("2022", 1.0, False)]
    assert "peak" not in fc.trend(low, "count", MIN_CELL)
    # a hidden ratio has no bound: no peak is claimed over it
    share = [("2020", 80.0, False), ("2021", None, True), ("2022", 60.0, False)]
    assert fc.trend(share, "percent", MIN_CELL) == "60% in 2022; hidden in 2021"
    assert fc.trend([("2024", 7.0, False), ("2025", None, True)], "count", MIN_CELL) == "<5 in 2025; peak 7 in 2024"


@pytest.mark.parametrize("filters", [Filters(), Filters(parish=("Kingston",)), Filters(year_from=2018, year_to=2024)])
def test_safe_titles_state_only_numbers_the_chart_shows(sample_db, iset, filters):
    for page in ("prosecution", "protection", "prevention_partnership"):
        for values in evaluate_page(sample_db, iset, page, filters):
            shown = privacy.suppress_figure(values, True)
            if shown.figure.kind in ("table", "funnel", "parish_map", "heatmap") or shown.figure.grain == "period":
                continue
            for dim in shown.figure.breakdowns or (None,):
                fig = fc.draw(shown, iset.labels, by=dim)
                title = title_of(fig)
                assert "held at" not in title, title
                finding = title.removeprefix(shown.figure.title)
                written = {str(t) for trace in fig.data for t in (trace.text or ()) if t}
                for number in re.findall(r"(?<![\w.<])(US\$[\d.,]+[mk]?|\d[\d,.]*%?)(?![\w–])", finding):
                    number = number.rstrip(",.")
                    if re.fullmatch(r"(19|20)\d\d", number):
                        continue
                    drawn = written | {str(c) for trace in fig.data for c in (trace.customdata or ())}
                    assert number in drawn, (shown.figure.id, dim, number, title)
                marks = [t for t in fig.data if t.type == "bar" or (t.type == "scatter" and t.mode != "text")]
                if shown.figure.kind != "box" and not any(v == v and v is not None for t in marks for v in t.y):
                    assert finding == "" or "hidden" in finding or "<" in finding or "none" in finding, title


def test_a_stack_partly_hidden_writes_no_total(sample_db, iset):
    # privacy may hide a whole year's parts; the drawing must hold for a year only partly hidden too
    values = figure(sample_db, iset, "protection", "referral_bands", safe=False)
    frame = values.frame.copy()
    parts = frame[(frame["dim"] == "referral_band") & (frame["value"] > 0)]
    year = int(parts["year"].max())
    hide = parts[parts["year"] == year].index[0]
    frame.loc[hide, "suppressed"], frame.loc[hide, "value"] = True, float("nan")
    values.frame = frame
    fig = fc.draw(values, iset.labels)
    partly = [year]
    [totals] = [t for t in fig.data if t.type == "scatter" and t.mode == "text"]
    written = dict(zip(totals.x, totals.text))
    for year in partly:
        total = frame[(frame["dim"] == "") & (frame["year"] == year)]["value"].iloc[0]
        assert written[year] == "", (year, total)
        assert not re.search(rf"\b{int(total)} in {year}\b", title_of(fig))


def test_running_totals_are_labelled_as_running_totals(sample_db, iset):
    values = figure(sample_db, iset, "prevention_partnership", "trainings_cumulative")
    fig = fc.draw(values, iset.labels)
    assert fig.layout.yaxis.title.text == "Running total"
    assert " by 20" in title_of(fig)
    yearly = fc.draw(figure(sample_db, iset, "prevention_partnership", "trainings"), iset.labels)
    assert yearly.layout.yaxis.title.text == "Number in the year"


# ----------------------------------------------------------------------------- the spaces listed


def test_the_spaces_list_dates_as_days(sample_db, iset):
    from cpc_monitor.app.figure_page import listing_frame

    values = figure(sample_db, iset, "protection", "spaces")
    table = listing_frame(values.rows, iset.labels)
    assert list(table.columns) == ["Space ID", "Name", "Parish", "Operator", "Opened date"]
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", d) for d in table["Opened date"])
    assert set(table["Operator"]) <= set(iset.labels["operator"].values())


def test_protection_page_with_a_parish_filter_and_safe_victims_map(open_page):
    at = open_page("pages/protection.py", {"filter_parish": ["Kingston"]})
    assert [e.value for e in at.exception] == []
    at = open_page("pages/protection.py", {"filter_safe": True})
    at.segmented_control(key="protection_parish_map_series").set_value(VICTIMS).run()
    assert [e.value for e in at.exception] == []
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert any(t.get("name") == f"Fewer than {MIN_CELL} (hidden)" for t in spec["data"])
    [table] = at.table
    cells = table.value.astype(str).to_numpy().ravel().tolist()
    assert not any("00:00" in c for c in cells) and any(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", c) for c in cells)


# ----------------------------------------------------------------------------- the explorer's breakdowns


def test_explorer_breakdowns_name_groups_by_their_labels_and_no_largest_among_zeros(sample_db, iset):
    from cpc_monitor.evaluation.engine import evaluate
    from cpc_monitor.present import charts

    for filters in (Filters(), Filters(parish=("Kingston",))):
        result = next(r for r in evaluate(sample_db, iset, filters=filters).results
                      if r.id == "protection.child_victims_identified")
        values = privacy.result_values(result, False)
        latest = int(values["year"].max())
        for dim in ("sex", "nationality"):
            fig = charts.breakdown_chart(values, dim, result.unit, MIN_CELL, iset.labels.get(dim))
            title = title_of(fig)
            cells = values[(values["dim"] == dim) & (values["year"] == latest)]
            if not (cells["value"] > 0).any():
                assert title == f"By {dim}: none in {latest}", title
            else:
                assert "largest" in title and not re.search(r"\b[A-Z]{3}\b", title), title
                names = {t.name for t in fig.data if t.name}
                assert names <= set(iset.labels[dim].values()), names


def test_a_run_of_hidden_years_does_not_span_empty_years():
    points = [("2015", None, True), ("2016", None, True), ("2017", None, False), ("2018", None, True),
              ("2019", 50.0, False)]
    assert fc.trend(points, "percent", MIN_CELL) == "50% in 2019; hidden in 2015, 2016 and 2018"


def test_periods_are_said_as_runs():
    years = [str(y) for y in range(2015, 2026)]
    assert fc._periods(["2015", "2021", "2022", "2023"], years) == "2015 and 2021–2023"
    assert fc._periods(["2017", "2019", "2021"], years) == "2017, 2019 and 2021"
    assert fc._periods(["2015", "2017", "2019", "2021"], years) == "several years"
