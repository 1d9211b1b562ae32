"""The indicators a dialogue needs (issue 8, part 7), on real DuckDB files: each new
indicator equals a direct SQL query over the sample; `kind: input` keeps an indicator out of
its pillar's outcome score (and back in as an outcome); `period: tip` counts April to March,
named by the year it ends in, per indicator and for every indicator at once; `until:` takes
a stock at each year's end; the overview still renders."""
from __future__ import annotations

from pathlib import Path

import pytest

from cpc_monitor.definitions import indicators
from cpc_monitor.errors import IndicatorFileError
from cpc_monitor.evaluation import engine
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.store import db
from helpers import ROOT

DEFAULT = ROOT / "indicators.yaml"


@pytest.fixture(scope="module")
def default_set():
    return indicators.load_indicators(DEFAULT)


def sql(path: Path, query: str) -> list[tuple]:
    with db.reading(path) as con:
        return con.execute(query).fetchall()


def series(path: Path, iset, indicator_id: str, filters: Filters = Filters()) -> dict[int, float | None]:
    result = engine.evaluate(path, iset, ids=[indicator_id], filters=filters).result(indicator_id)
    assert result.status != engine.ERROR, result.errors
    return result.series()


def filled(path: Path, found: list[tuple], years_sql: str, empty: float | None = 0.0) -> dict[int, float | None]:
    """year -> value over every year of the table's range (`years_sql`: its first and last year)."""
    first, last = sql(path, years_sql)[0]
    values = {int(y): (None if v is None else float(v)) for y, v in found}
    return {y: values.get(y, empty) for y in range(first, last + 1)}


def close(got: dict, want: dict) -> bool:
    return got.keys() == want.keys() and all(
        (g is None and w is None) or (g is not None and w is not None and abs(g - w) < 1e-9)
        for g, w in zip(got.values(), want.values()))


# ----------------------------------------------------------------------------- each new indicator = SQL


def test_significant_prison_terms_equal_sql(sample_db, default_set):
    # The file's assumption: a significant prison term is 60 months (5 years) or more.
    want = filled(sample_db, sql(sample_db, "SELECT year(outcome_date), count(*) FROM prosecutions WHERE child_victim "
                                            "AND outcome = 'convicted' AND sentence_months >= 60 GROUP BY 1"),
                  "SELECT min(year(outcome_date)), max(year(outcome_date)) FROM prosecutions")
    assert series(sample_db, default_set, "prosecution.significant_sentences") == want
    # The light sentences of the 2022 and 2024 reports' years are not significant terms.
    assert want[2021] == want[2023] == 0 and want[2024] == 2


def test_judges_and_prosecutors_trained_equal_a_running_sql_total(sample_db, default_set):
    rows = sql(sample_db, "SELECT year(start_date), sum(participants) FROM trainings "
                          "WHERE audience IN ('judiciary', 'prosecutors') GROUP BY 1")
    per_year = filled(sample_db, rows, "SELECT min(year(start_date)), max(year(start_date)) FROM trainings")
    running, want = 0.0, {}
    for year, value in per_year.items():
        running += value
        want[year] = running
    assert series(sample_db, default_set, "prosecution.judges_prosecutors_trained") == want


def test_pending_prosecution_age_is_a_stock_at_each_years_end(sample_db, default_set):
    rows = sql(sample_db, """
        SELECT y, median(date_diff('day', charged_date, make_date(y, 12, 31)) / 30.44)
        FROM prosecutions, range(2000, 2031) AS t(y)
        WHERE child_victim AND charged_date <= make_date(y, 12, 31)
          AND (outcome_date IS NULL OR outcome_date > make_date(y, 12, 31))
        GROUP BY y""")
    want = filled(sample_db, rows, "SELECT min(year(charged_date)), max(year(charged_date)) FROM prosecutions",
                  empty=None)
    assert close(series(sample_db, default_set, "prosecution.pending_prosecution_age"), want)
    # A prosecution convicted in 2024 after a 2021 charge was pending at the ends of 2021-2023.
    pending_2022 = sql(sample_db, "SELECT count(*) FROM prosecutions WHERE child_victim AND charged_date <= "
                                  "DATE '2022-12-31' AND (outcome_date IS NULL OR outcome_date > DATE '2022-12-31')")
    assert pending_2022[0][0] > 0


def test_child_victims_per_100k_children_use_the_child_population(sample_db, default_set):
    rows = sql(sample_db, """
        SELECT v.y, v.n * 100000.0 / p.children
        FROM (SELECT year(identified_date) AS y, count(*) AS n FROM victims
              WHERE age < 18 AND victim_status = 'confirmed' GROUP BY 1) AS v
        JOIN (SELECT year AS y, sum(child_population) AS children FROM population GROUP BY 1) AS p USING (y)""")
    want = filled(sample_db, rows, "SELECT min(year(identified_date)), max(year(identified_date)) FROM victims")
    assert close(series(sample_db, default_set, "protection.child_victims_per_100k_children"), want)
    result = engine.evaluate(sample_db, default_set, ids=["protection.child_victims_per_100k_children"]).results[0]
    children = dict(sql(sample_db, "SELECT year, sum(child_population) FROM population GROUP BY 1"))
    assert {int(y): d for y, d in zip(result.totals["year"], result.totals["denominator"])} == \
        {y: float(children[y]) for y in want}  # the denominator is the children, not everyone


def test_children_referred_at_all_equal_sql(sample_db, default_set):
    rows = sql(sample_db, "SELECT year(identified_date), 100.0 * count(referred_date) / count(*) FROM victims "
                          "WHERE age < 18 GROUP BY 1")
    want = filled(sample_db, rows, "SELECT min(year(identified_date)), max(year(identified_date)) FROM victims",
                  empty=None)
    assert close(series(sample_db, default_set, "protection.children_referred"), want)


def test_goj_victim_protection_spending_in_jmd_by_tip_year(sample_db, default_set):
    # The file converts at J$150 to US$1 and counts TIP years: April to March, named by the March.
    rows = sql(sample_db, """
        SELECT year(entry_date) + CASE WHEN month(entry_date) >= 4 THEN 1 ELSE 0 END, sum(amount_usd * 150)
        FROM funding WHERE kind = 'disbursement' AND donor = 'goj' AND pillar = 'protection' GROUP BY 1""")
    first, last = sql(sample_db, "SELECT min(year(entry_date) + CASE WHEN month(entry_date) >= 4 THEN 1 ELSE 0 END), "
                                 "max(year(entry_date) + CASE WHEN month(entry_date) >= 4 THEN 1 ELSE 0 END) "
                                 "FROM funding")[0]
    found = {int(y): float(v) for y, v in rows}
    want = {y: found.get(y, 0.0) for y in range(first, last + 1)}
    got = series(sample_db, default_set, "protection.goj_victim_protection_jmd")
    assert close(got, want)
    # The TIP Reports' figures: J$14m (2019 report), J$7m (2020), J$2m (2021), to the J$ (the
    # data hold US$ in cents, converted at J$150).
    assert (got[2019], got[2020], got[2021]) == pytest.approx((14_000_000, 7_000_000, 2_000_000), abs=1)


def test_every_new_indicator_evaluates_and_inputs_are_marked(sample_db, default_set):
    ev = engine.evaluate(sample_db, default_set)
    assert [r.id for r in ev.results if r.status == engine.ERROR] == []
    inputs = {r.id for r in ev.results if r.kind == "input"}
    assert inputs == {"prosecution.judges_prosecutors_trained", "protection.goj_victim_protection_jmd",
                      "prevention.participants_trained", "prevention.educators_trained",
                      "partnership.usg_disbursed_share", "partnership.usg_disbursed", "partnership.goj_share"}


# ----------------------------------------------------------------------------- kind: input, both ways

PILLAR_YAML = """\
version: 1
indicators:
  - id: prosecution.investigations
    name: Investigations opened
    pillar: prosecution
    unit: count
    direction: increase
    measure: {table: cases, agg: count, date: opened_date}
    targets: [{year: 2030, value: 400, source: assumed}]
  - id: prosecution.people_trained
    name: People trained
    pillar: prosecution
    KIND
    unit: count
    direction: increase
    measure: {table: trainings, agg: sum, expr: participants, date: start_date, cumulative: true}
    targets: [{year: 2030, value: 6000, source: assumed}]
"""


def _pillar_set(kind_line: str):
    return indicators.parse_indicators(PILLAR_YAML.replace("KIND", kind_line))


def test_an_input_stays_out_of_the_pillars_outcome_score(sample_db):
    from cpc_monitor.evaluation import progress

    ev = engine.evaluate(sample_db, _pillar_set("kind: input"))
    outcome, money = ev.result("prosecution.investigations"), ev.result("prosecution.people_trained")
    assert (outcome.kind, money.kind) == ("outcome", "input")
    assert outcome.verdict.judged and money.verdict.judged
    rollup = ev.pillars()["prosecution"]
    assert rollup.scored == 1 and rollup.score == pytest.approx(progress.score(outcome.assessment))
    inputs = ev.pillars("input")["prosecution"]
    assert inputs.scored == 1 and inputs.score == pytest.approx(progress.score(money.assessment))
    assert [r.id for r in ev.members("prosecution", "input")] == ["prosecution.people_trained"]


def test_the_same_indicator_as_an_outcome_counts_in_the_score(sample_db):
    from cpc_monitor.evaluation import progress

    for kind_line in ("kind: outcome", "# kind left out: an outcome"):
        ev = engine.evaluate(sample_db, _pillar_set(kind_line))
        scores = [progress.score(r.assessment) for r in ev.results]
        rollup = ev.pillars()["prosecution"]
        assert rollup.scored == 2 and rollup.score == pytest.approx(sum(scores) / 2)
        assert ev.pillars("input")["prosecution"].scored == 0


# ----------------------------------------------------------------------------- validation

@pytest.mark.parametrize("line, words", [
    ("kind: inptu", "`kind` is 'inptu', which is not allowed; use one of: outcome, input. Did you mean 'input'?"),
    ("period: fiscal", "`period` is 'fiscal', which is not allowed; use one of: calendar, tip."),
])
def test_kind_and_period_are_checked_with_their_line(line, words):
    iset = _pillar_set(line)
    [issue] = [i for i in iset.issues if i.severity == "error"]
    assert issue.line == PILLAR_YAML.splitlines().index("    KIND") + 1
    assert issue.indicator == "prosecution.people_trained" and words in issue.message
    assert str(issue).startswith(f"indicators.yaml:{issue.line}: error: indicator prosecution.people_trained:")


def test_until_needs_a_date_and_a_date_column(sample_db):
    text = PILLAR_YAML.replace("KIND", "").replace(
        "measure: {table: cases, agg: count, date: opened_date}",
        "measure: {table: population, agg: count, year: year, until: year}")
    iset = indicators.parse_indicators(text)
    [issue] = [i for i in iset.issues if i.severity == "error"]
    assert "`until:` counts what is still open at each year's end" in issue.message and issue.line == 8
    text = PILLAR_YAML.replace("KIND", "").replace(
        "measure: {table: cases, agg: count, date: opened_date}",
        "measure: {table: cases, agg: count, date: opened_date, until: status}")
    ev = engine.evaluate(sample_db, indicators.parse_indicators(text), ids=["prosecution.investigations"])
    [error] = ev.results[0].errors
    assert "`until: status` is not a date column" in error.message and error.line == 8


# ----------------------------------------------------------------------------- reporting periods

PERIOD_YAML = """\
version: 1
indicators:
  - id: protection.victims_calendar
    name: Victims (calendar years)
    pillar: protection
    unit: count
    direction: monitor
    measure: {table: victims, agg: count, date: identified_date}
  - id: protection.victims_tip
    name: Victims (TIP years)
    pillar: protection
    unit: count
    direction: monitor
    period: tip
    measure: {table: victims, agg: count, date: identified_date}
  - id: prosecution.pending_tip
    name: Prosecutions pending at the end of a TIP year
    pillar: prosecution
    unit: count
    direction: monitor
    period: tip
    measure: {table: prosecutions, agg: count, date: charged_date, until: outcome_date, where: ["as_of IS NOT NULL"]}
"""


@pytest.fixture
def dated_db(fresh_db: Path) -> Path:
    """Victims on 15 March 2024 and 15 April 2024, inside data that run from January 2023
    to December 2025 (two cases mark the span), and one prosecution charged in March 2024
    with an outcome in May 2024."""
    with db.rebuild(fresh_db) as con:
        con.execute("INSERT INTO cases (case_id, opened_date) VALUES ('JCF-A', DATE '2023-01-02'), "
                    "('JCF-B', DATE '2025-12-30')")
        con.execute("INSERT INTO victims (victim_id, identified_date) VALUES ('V-MARCH', DATE '2024-03-15'), "
                    "('V-APRIL', DATE '2024-04-15')")
        con.execute("INSERT INTO prosecutions (prosecution_id, charged_date, outcome, outcome_date) "
                    "VALUES ('ODPP-1', DATE '2024-03-20', 'convicted', DATE '2024-05-02')")
    return fresh_db


def test_march_and_april_2024_by_calendar_and_by_tip_year(dated_db):
    iset = indicators.parse_indicators(PERIOD_YAML)
    calendar = series(dated_db, iset, "protection.victims_calendar")
    tip = series(dated_db, iset, "protection.victims_tip")
    assert calendar == {2024: 2.0}  # March and April 2024: calendar 2024
    # March 2024 is in TIP year 2024 (April 2023 - March 2024), April 2024 in TIP year 2025.
    assert tip == {2024: 1.0, 2025: 1.0}


def test_the_sidebar_period_overrides_every_indicator(dated_db):
    iset = indicators.parse_indicators(PERIOD_YAML)
    for ind in ("protection.victims_calendar", "protection.victims_tip"):
        assert series(dated_db, iset, ind, Filters(period="tip")) == {2024: 1.0, 2025: 1.0}
        assert series(dated_db, iset, ind, Filters(period="calendar")) == {2024: 2.0}


def test_a_stock_is_taken_at_the_end_of_march_in_tip_years(dated_db):
    iset = indicators.parse_indicators(PERIOD_YAML)
    # Charged 20 March 2024, convicted 2 May 2024: pending on 31 March 2024 (TIP 2024 ends),
    # no longer on 31 March 2025; in calendar years it was never pending at a year's end.
    assert series(dated_db, iset, "prosecution.pending_tip") == {2024: 1.0}
    assert series(dated_db, iset, "prosecution.pending_tip", Filters(period="calendar")) == {2024: 0.0}


def test_tip_years_the_data_do_not_cover_whole_are_left_out(sample_db, default_set):
    # The sample runs from 1 January 2015 to 31 December 2025: TIP years 2016 to 2025 are whole.
    calendar = series(sample_db, default_set, "protection.child_victims_identified")
    tip = series(sample_db, default_set, "protection.child_victims_identified", Filters(period="tip"))
    assert list(calendar) == list(range(2015, 2026))
    assert list(tip) == list(range(2016, 2026))
    want = sql(sample_db, "SELECT count(*) FROM victims WHERE age < 18 AND victim_status = 'confirmed' "
                          "AND identified_date BETWEEN DATE '2024-04-01' AND DATE '2025-03-31'")[0][0]
    assert tip[2025] == want


def test_unknown_period_in_the_sidebar_is_refused(sample_db, default_set):
    r = engine.evaluate(sample_db, default_set, ids=["protection.child_victims_identified"],
                        filters=Filters(period="fiscal")).results[0]
    assert r.status == engine.ERROR and "the period 'fiscal' is not known" in r.errors[0].message


def test_the_default_file_still_loads():
    try:
        iset = indicators.load_indicators(DEFAULT)
    except IndicatorFileError as exc:  # pragma: no cover - the message is the point
        pytest.fail(str(exc))
    assert iset.errors == []
    assert iset.indicator("protection.goj_victim_protection_jmd").period == "tip"


def test_a_table_kept_by_year_says_so_in_tip_years(sample_db, default_set):
    r = engine.evaluate(sample_db, default_set, ids=["protection.cfs_capacity_used"],
                        filters=Filters(period="tip")).results[0]
    assert r.period == "tip"
    assert "'cfs_capacity' is kept by year, not by date: its year N is set against TIP year N" in " ".join(r.notes)
    calendar = engine.evaluate(sample_db, default_set, ids=["protection.cfs_capacity_used"]).results[0]
    assert calendar.period == "calendar" and not any("kept by year" in n for n in calendar.notes)


def test_evaluate_counts_tip_years_on_request_and_gives_each_kind(sample_db):
    import json

    from helpers import run_cli

    out = run_cli("evaluate", "--db", str(sample_db), "--id", "protection.child_victims_identified",
                  "--period", "tip", "--format", "json")
    assert out.returncode == 0, out.stderr
    [ind] = json.loads(out.stdout)["indicators"]
    assert ind["kind"] == "outcome" and [v["year"] for v in ind["values"]] == list(range(2016, 2026))
    out = run_cli("evaluate", "--db", str(sample_db), "--id", "partnership.goj_share")
    assert "[partnership, input (not scored), percent, increase]" in out.stdout
