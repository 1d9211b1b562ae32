"""The pillar pages' figures, declared in indicators.yaml and computed by the one compiler:
their numbers against direct SQL on a real sample database, one number per measure
everywhere (figures and indicators agree), titles that state their own series, suppression
in one place, and AppTest runs of the three pages."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest

from helpers import seen

from cpc_monitor.definitions.indicators import load_indicators, parse_indicators
from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import evaluate
from cpc_monitor.evaluation.figures import evaluate_page
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.present import csvfile
from cpc_monitor.present import figure_charts as fc
from cpc_monitor.store import db
from conftest import ROOT

PAGES = ("pages/prosecution.py", "pages/protection.py", "pages/prevention_partnership.py")
FIGURE_PAGES = ("prosecution", "protection", "prevention_partnership")
MIN_CELL = 5
SMALL = {"1", "2", "3", "4"}  # counts presentation-safe numbers never show (min_cell 5)
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def iset():
    return load_indicators(ROOT / "indicators.yaml")


def sql(path: Path, query: str, params: list | None = None) -> list[tuple]:
    with db.reading(path) as con:
        return con.execute(query, params or []).fetchall()


def scalar(path: Path, query: str, params: list | None = None) -> float:
    return sql(path, query, params)[0][0] or 0


def figure(path: Path, iset, page: str, figure_id: str, filters: Filters = Filters(), safe: bool = False):
    values = next(v for v in evaluate_page(path, iset, page, filters) if v.figure.id == figure_id)
    return privacy.suppress_figure(values, safe)


def cell(values, ref: str, period: str, dim: str = "", group: str = "", column: str = "value") -> float | None:
    rows = values.frame
    rows = rows[(rows["series"] == ref) & (rows["period"] == period) & (rows["dim"] == dim) & (rows["group"] == group)]
    assert len(rows) == 1, (ref, period, dim, group, rows)
    value = rows.iloc[0][column]
    return None if value != value else float(value)


# ----------------------------------------------------------------------------- the declared file


def test_the_default_file_declares_the_three_pillar_pages(iset):
    assert [i for i in iset.issues if i.severity == "error"] == []
    assert list(iset.figures) == list(FIGURE_PAGES)
    assert [f.id for f in iset.figures["prosecution"]] == ["funnel", "stages", "durations", "outcomes", "sentences"]
    kinds = {f.kind for page in iset.figures.values() for f in page}
    assert kinds == {"funnel", "line", "box", "stacked_bar", "bar", "heatmap", "table", "parish_map", "pace"}


def test_no_country_fact_is_left_in_python():
    # The envelope, the referral days, the partners, the parishes' layout live in the file
    # (the reference tables' rows and the synthetic sample's generator are data, in store/ and intake/).
    rooms = ("definitions", "evaluation", "present", "app", "cli")
    for path in [p for room in rooms for p in (ROOT / "cpc_monitor" / room).rglob("*.py")]:
        text = path.read_text()
        for fact in ("6_700_000", "6697000", "30.44", "REFERRAL_DAYS", "Winrock International", "Hanover",
                     "Victim Services Division", "Warnath Group"):
            assert fact not in text, (path, fact)


# ----------------------------------------------------------------------------- against SQL


def test_funnel_stages_are_the_indicators_measures(sample_db, iset):
    values = figure(sample_db, iset, "prosecution", "funnel")
    assert cell(values, "prosecution.investigations_opened", "2022") == scalar(
        sample_db, "SELECT count(*) FROM cases WHERE year(opened_date) = 2022")
    assert cell(values, "prosecution.child_prosecutions_initiated", "2022") == scalar(
        sample_db, "SELECT count(*) FROM prosecutions WHERE year(charged_date) = 2022 AND child_victim")
    assert cell(values, "prosecution.convictions", "2022") == scalar(
        sample_db, "SELECT count(*) FROM prosecutions WHERE year(outcome_date) = 2022 AND child_victim "
                   "AND outcome = 'convicted'")


def test_a_parish_filter_narrows_every_series_by_bound_parameter(sample_db, iset):
    values = figure(sample_db, iset, "prosecution", "stages", Filters(parish=("Kingston",)))
    assert cell(values, "prosecution.investigations_opened", "2022") == scalar(
        sample_db, "SELECT count(*) FROM cases WHERE year(opened_date) = 2022 AND parish = 'Kingston'")


def test_the_box_spread_is_the_indicators_median_and_quartiles(sample_db, iset):
    values = figure(sample_db, iset, "prosecution", "durations")
    months = "date_diff('day', charged_date, outcome_date) / 30.44"
    where = "child_victim AND outcome <> 'pending' AND outcome_date IS NOT NULL AND year(outcome_date) = 2023"
    median, q1, q3, n = sql(sample_db, f"SELECT median({months}), quantile_cont({months}, 0.25), "
                                       f"quantile_cont({months}, 0.75), count(*) FROM prosecutions WHERE {where}")[0]
    assert cell(values, "prosecution.months_charge_to_outcome", "2023", column="median") == pytest.approx(median)
    assert cell(values, "prosecution.months_charge_to_outcome", "2023", column="p25") == pytest.approx(q1)
    assert cell(values, "prosecution.months_charge_to_outcome", "2023", column="p75") == pytest.approx(q3)
    assert cell(values, "prosecution.months_charge_to_outcome", "2023", column="count") == n


def test_declared_bands_cut_the_sentences(sample_db, iset):
    values = figure(sample_db, iset, "prosecution", "sentences")
    long = scalar(sample_db, "SELECT count(*) FROM prosecutions WHERE child_victim AND outcome = 'convicted' "
                             "AND year(outcome_date) = 2023 AND sentence_months >= 12 AND sentence_months < 60")
    assert cell(values, "prosecution.convictions", "2023", "sentence_band", "1 to 5 years") == long
    assert values.groups["sentence_band"][0] == "no prison term"  # the file's order


def test_monthly_sessions_and_capacity_by_space(sample_db, iset):
    heat = figure(sample_db, iset, "protection", "cfs_heatmap")
    assert cell(heat, "protection.cfs_sessions", "2024-03", "space_id", "CFS-02") == scalar(
        sample_db, "SELECT count(*) FROM cfs_sessions WHERE space_id = 'CFS-02' AND strftime(session_date, '%Y-%m') = '2024-03'")
    used = figure(sample_db, iset, "protection", "cfs_capacity_by_space")
    sessions = scalar(sample_db, "SELECT count(*) FROM cfs_sessions WHERE space_id = 'CFS-02'")
    capacity = scalar(sample_db, "SELECT sum(capacity) FROM cfs_capacity WHERE space_id = 'CFS-02'")
    row = used.frame[(used.frame["dim"] == "space_id") & (used.frame["group"] == "CFS-02")].iloc[0]
    assert row["value"] == pytest.approx(sessions / capacity * 100)


def test_every_parish_is_on_the_map_with_zero_where_nothing_was_counted(sample_db, iset):
    values = figure(sample_db, iset, "protection", "parish_map")
    sessions = values.of("protection.cfs_sessions")
    parishes = sessions[sessions["dim"] == "parish"].set_index("group")["value"]
    assert len(parishes) == 14
    assert parishes["Hanover"] == scalar(sample_db, "SELECT count(*) FROM cfs_sessions JOIN child_friendly_spaces "
                                                    "USING (space_id) WHERE parish = 'Hanover'")


def test_funding_pace_uses_the_indicators_target_as_the_envelope(sample_db, iset):
    values = figure(sample_db, iset, "prevention_partnership", "funding_pace")
    envelope = iset.indicator("partnership.usg_disbursed").targets[-1].value
    disbursed = float(scalar(sample_db, "SELECT sum(amount_usd) FROM funding WHERE donor = 'usg' AND kind = 'disbursement'"))
    assert values.pace.total == envelope == 6_697_000
    assert values.pace.to_date == pytest.approx(disbursed)
    assert values.pace.left == pytest.approx(max(envelope - disbursed, 0))
    tiles = {label: value for label, value, _, _ in fc.pace_tiles(values)}
    assert tiles["Total to reach"] == "US$6.7m"


# ----------------------------------------------------------------------------- one measure, one number


def test_one_measure_one_number_across_figures_and_indicators(sample_db, iset):
    """Wherever a figure and an indicator (or two figures) show the same measure for the
    same year and filters, the numbers are equal."""
    for filters in (Filters(), Filters(parish=("Kingston",)), Filters(year_from=2020, sex=("female",))):
        ev = evaluate(sample_db, iset, filters=filters)
        totals: dict[tuple[str, str], float] = {}
        for r in ev.results:
            for year, value in r.series().items():
                totals[(r.id, str(year))] = value
        compared = 0
        for page in FIGURE_PAGES:
            for values in evaluate_page(sample_db, iset, page, filters):
                if values.figure.grain != "year":
                    continue
                for row in values.frame[values.frame["dim"] == ""].itertuples():
                    key = (row.series, row.period)
                    value = None if row.value != row.value else row.value
                    if key in totals:
                        assert value == pytest.approx(totals[key], nan_ok=True), (values.figure.id, key, filters)
                        compared += 1
                    else:
                        totals[key] = value
        assert compared > 50


@pytest.mark.parametrize("safe", [False, True])
def test_every_figure_is_valid_and_its_title_states_its_own_numbers(sample_db, iset, safe):
    for page in FIGURE_PAGES:
        for values in evaluate_page(sample_db, iset, page):
            shown = privacy.suppress_figure(values, safe)
            if shown.figure.kind == "table":
                continue
            fig = fc.draw(shown, iset.labels)
            go.Figure(fig.to_dict())  # validates every property
            title = fig.layout.title.text.replace("<br>", " ")
            # a map is titled by the series it shades (a page offers the choice)
            named = shown.series[0].label if shown.figure.kind == "parish_map" else shown.figure.title
            assert title.startswith(named), title
            cells = {fc.shown(v, s.unit, h, MIN_CELL) for s in shown.series
                     for v, h in zip(shown.of(s.ref)["value"], shown.of(s.ref)["suppressed"])}
            cells |= {fc.shown(v, "count") for v in shown.frame.get("median", [])}
            if shown.pace:
                cells |= {fc.shown(shown.pace.to_date, shown.series[0].unit)}
            finding = title.removeprefix(named)  # the file's own words may hold numbers
            numbers = re.findall(r"(?<![\w.])(<?US\$[\d.,]+[mk]?|<?\d[\d,.]*%?)(?![\w])", finding)
            for number in (n.rstrip(",.") for n in numbers):  # '2025,' is 2025 before a comma
                if re.fullmatch(r"(19|20)\d\d", number) or re.fullmatch(r"\d{4}–\d{4}", number):
                    continue
                assert number in cells, (shown.figure.id, number, title)


# ----------------------------------------------------------------------------- suppression


def test_suppression_hides_small_counts_once_and_downloads_say_so(sample_db, iset):
    values = figure(sample_db, iset, "prosecution", "outcomes", safe=True)
    rows = values.frame
    assert rows["suppressed"].any()
    small = rows[rows["value"].between(1, MIN_CELL - 1)]
    assert small.empty, small
    table = csvfile.figure_table(values, iset.labels)
    assert (table["value"] == f"<{MIN_CELL}").any()
    assert not table["value"].isin([1.0, 2.0, 3.0, 4.0]).any()


def test_a_hidden_ratio_keeps_a_denominator_that_is_not_small(sample_db, iset):
    values = figure(sample_db, iset, "protection", "referral", Filters(parish=("Kingston",)), safe=True)
    hidden = values.frame[values.frame["suppressed"]]
    assert not hidden.empty
    assert hidden["value"].isna().all() and hidden["numerator"].isna().all()
    big = hidden[hidden["denominator"].notna()]
    assert (big["denominator"] >= MIN_CELL).all()


def test_a_box_over_fewer_than_five_cases_is_hidden(sample_db, iset):
    values = figure(sample_db, iset, "prosecution", "durations", safe=True)
    rows = values.frame
    few = rows[rows["suppressed"]]
    assert not few.empty
    assert few[["median", "p25", "p75", "min", "max", "count"]].isna().all().all()


def test_csv_numbers_are_rounded_for_people(sample_db, iset):
    values = figure(sample_db, iset, "protection", "cfs_capacity", safe=True)
    table = csvfile.figure_table(values, iset.labels)
    for text in table["value"].astype(str):
        assert len(text.split(".")[-1]) <= 2 or "." not in text, text


# ----------------------------------------------------------------------------- another country's file


SMALL_FILE = """
version: 1
defaults: {min_cell: 3}
segments: {usg: "donor = 'usg'", disbursed: "kind = 'disbursement'"}
labels:
  parish: {Kingston: Kingston, St Andrew: St Andrew}
measures:
  sessions: {table: cfs_sessions, agg: count, date: session_date}
figures:
  protection:
    - {id: sessions, title: Sessions held, kind: bar, series: [sessions]}
  prevention_partnership:
    - id: money
      title: Money out
      kind: pace
      series: [funds.out]
      reference: funds.out
      grain: quarter
indicators:
  - id: funds.out
    name: Funds paid out
    pillar: partnership
    unit: usd
    direction: increase
    measure: {table: funding, agg: sum, expr: amount_usd, date: entry_date, where: [usg, disbursed], cumulative: true}
    targets: [{year: 2030, value: 9000000}]
"""


def test_the_pages_follow_another_indicator_file(open_page, tmp_path, monkeypatch):
    other = tmp_path / "other.yaml"
    other.write_text(SMALL_FILE)
    monkeypatch.setenv("CPC_INDICATORS", str(other))
    at = open_page("pages/prevention_partnership.py")
    assert [e.value for e in at.exception] == []
    assert {m.label: m.value for m in at.metric}["Total to reach"] == "US$9.0m"
    assert len(at.get("plotly_chart")) == 1
    at = open_page("pages/protection.py")
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert [c["layout"]["title"]["text"].split(":")[0] for c in charts] == ["Sessions held"]
    at = open_page("pages/prosecution.py")
    assert any("declares no figures for this page" in i.value for i in at.info)


def test_a_figure_that_names_nothing_is_refused_with_its_line():
    text = SMALL_FILE.replace("series: [sessions]", "series: [sesions]")
    iset = parse_indicators(text)
    [issue] = [i for i in iset.issues if i.severity == "error"]
    assert issue.line == text[:text.index("series: [sesions]")].count("\n") + 1
    assert issue.message == ("figure protection/sessions: 'sesions' is neither an indicator id nor a name under "
                             "`measures:`. Did you mean 'sessions'?")
    assert iset.figures["protection"] == []


# ----------------------------------------------------------------------------- the pages


def page_text(at) -> list[str]:
    """Every text a user reads on the page: markdown, captions, metrics, tables, chart titles,
    chart annotations and mark labels."""
    out = [m.value for m in at.markdown] + [c.value for c in at.caption]
    out += [f"{m.label} {m.value}" for m in at.metric]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        layout = spec["layout"]
        out.append(layout.get("title", {}).get("text", ""))
        out += [a.get("text", "") for a in layout.get("annotations", [])]
        for trace in spec["data"]:
            for key in ("text", "customdata"):
                value = trace.get(key)
                if isinstance(value, list):
                    out += [str(v) for row in value for v in (row if isinstance(row, list) else [row])]
    return out


def counts_in(text: str) -> set[str]:
    """Numbers a text gives as counts: not years, percentages, money, months, days, ids or '<5'."""
    text = re.sub(r"<br>|<[^>]+>", " ", text)
    text = re.sub(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b", " ", text)  # dates: 4 Mar 2022
    text = re.sub(r"\b\d{4}-(Q\d|\d\d)\b", " ", text)  # periods: 2024-Q1, 2024-03
    text = re.sub(r"milestone \([\d,.]+%?\)|target [\d,.]+", " ", text)  # the file's targets are not data
    text = re.sub(r"\b\d+ to \d+ (days|years)\b|\bwithin \d+ days\b|\bunder \d+\b|\b\d+-\d+\b|\d+\+", " ", text)
    found = set()
    for m in re.finditer(r"(?<![\w<.$%,-])(\d[\d,]*)(?![\w.%,-])( (?:days?|months?|quarters?|years?))?", text):
        if not m.group(2):
            found.add(m.group(1))
    return found


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_their_figures(open_page, page, iset):
    at = open_page(page)
    assert [e.value for e in at.exception] == [] and [e.value for e in at.error] == []
    assert [w.value for w in at.warning] == []
    declared = iset.figures[Path(page).stem]
    charts = sum(len(f.breakdowns) if f.tabs else 1 for f in declared if f.kind != "table")
    assert len(at.get("plotly_chart")) == charts
    assert any("SAMPLE DATA" in m.value for m in at.markdown)
    for f in declared:
        if f.section:
            assert any(seen(m.value) == f"##### {f.section}" for m in at.markdown), f.section


def test_prosecution_page_follows_the_parish_filter(open_page, sample_db):
    at = open_page("pages/prosecution.py", {"filter_parish": ["Kingston"]})
    stages = json.loads(at.get("plotly_chart")[1].proto.spec)
    trace = next(t for t in stages["data"] if t["name"] == "Investigations opened (all cases)")
    shown = dict(zip(trace["x"], trace["customdata"]))
    expected = scalar(sample_db, "SELECT count(*) FROM cases WHERE year(opened_date) = 2022 AND parish = 'Kingston'")
    assert shown[2022] == f"{expected:,}"
    assert any("Parish Kingston" in c.value for c in at.caption)


def test_protection_map_switches_to_victims(open_page, sample_db):
    at = open_page("pages/protection.py")
    at.segmented_control(key="protection_parish_map_series").set_value("victims_identified").run()
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert spec["layout"]["title"]["text"].startswith("Victims identified (all ages, confirmed and suspected) by parish")
    texts = {a["name"]: a["text"] for a in spec["layout"]["annotations"]}
    st_andrew = scalar(sample_db, "SELECT count(*) FROM victims WHERE parish = 'St Andrew'")
    assert f"<b>{st_andrew:,}</b>" in texts["St Andrew"]


@pytest.mark.parametrize("page", PAGES)
def test_presentation_safe_shows_no_count_below_five(open_page, downloads, page):
    at = open_page(page, {"filter_safe": True})
    assert [e.value for e in at.exception] == []
    for text in page_text(at):
        assert not counts_in(text) & SMALL, text
    assert any(name.startswith(f"cpc-{Path(page).stem}-") for name in downloads), "no download was offered"


@pytest.mark.parametrize("page", PAGES)
def test_downloads_are_suppressed_even_with_exact_numbers_on_screen(open_page, downloads, page):
    at = open_page(page)
    assert [e.value for e in at.exception] == []
    prefix = f"cpc-{Path(page).stem}-"
    mine = {name: data for name, data in downloads.items() if name.startswith(prefix)}
    assert len(mine) >= 4, sorted(downloads)
    hidden = 0
    for name, data in mine.items():
        for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
            for column in ("value", "numerator", "count"):
                text = row.get(column) or ""
                hidden += text == f"<{MIN_CELL}"
                if text and text != f"<{MIN_CELL}" and column != "value":
                    assert not 1 <= float(text) < MIN_CELL, (name, column, row)
    if page != "pages/prevention_partnership.py":
        assert hidden, "the sample has small counts: some must read <5"


def test_validate_checks_each_figure_against_the_database(sample_db, tmp_path):
    from helpers import run_cli

    path = tmp_path / "other.yaml"
    text = SMALL_FILE.replace("series: [sessions]}", "series: [sessions], by: colour}")
    path.write_text(text)
    r = run_cli("validate", "--db", str(sample_db), str(path))
    assert r.returncode == 1
    line = text[:text.index("- {id: sessions")].count("\n") + 1
    assert (f"other.yaml:{line}: error: figure protection/sessions: Sessions: cannot break down by 'colour': "
            "there is no column in 'cfs_sessions' called 'colour'.") in r.stdout
