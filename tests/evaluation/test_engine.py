"""Evaluation on real databases built by the package: values equal what SQL over the
file says, the JSON of the design README, breakdowns, filters, errors kept to their
indicator, and the database never changed."""
from __future__ import annotations

import json
import math

import pytest

from cpc_monitor.store import db

from cpc_monitor.evaluation import engine

from cpc_monitor.definitions import indicators
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.intake.sample import build_sample
from cpc_monitor.store.schema import init_database
from helpers import BASE_YAML, ROOT, run_cli, sha256


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "cpc.duckdb"
    build_sample(path, seed=7)
    return path


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("empty") / "cpc.duckdb"
    init_database(path)
    return path


@pytest.fixture(scope="module")
def default_set():
    return indicators.load_indicators(ROOT / "indicators.yaml")


def sql(path, query, params=()):
    with db.reading(path) as con:
        return con.execute(query, list(params)).fetchall()


def test_counts_equal_sql_over_the_file(sample_db, default_set):
    ev = engine.evaluate(sample_db, default_set, ids=["protection.child_victims_identified"])
    got = ev.results[0].series()
    want = dict(sql(sample_db, "SELECT year(identified_date), count(*) FROM victims WHERE age < 18 AND "
                               "victim_status = 'confirmed' GROUP BY 1"))
    first, last = sql(sample_db, "SELECT min(year(identified_date)), max(year(identified_date)) FROM victims")[0]
    assert list(got) == list(range(first, last + 1))
    assert got == {y: float(want.get(y, 0)) for y in range(first, last + 1)}  # empty years are 0


def test_breakdown_parts_add_up_to_the_total(sample_db, default_set):
    r = engine.evaluate(sample_db, default_set, ids=["protection.child_victims_identified"]).results[0]
    by_sex = r.values[r.values["dim"] == "sex"].groupby("year")["value"].sum()
    assert by_sex.to_dict() == {y: v for y, v in r.series().items()}
    by_age = r.values[r.values["dim"] == "age_group"]
    assert set(by_age["group"]) <= {"0-11", "12-17"}  # minors only: derived age groups


def test_ratio_is_numerator_over_denominator(sample_db, default_set):
    r = engine.evaluate(sample_db, default_set, ids=["prevention.hotline_share"]).results[0]
    rows = dict((y, (h, n)) for y, h, n in sql(sample_db, "SELECT year(opened_date), count(*) FILTER "
                                               "(referral_source = 'hotline'), count(*) FROM cases GROUP BY 1"))
    for year, value in r.series().items():
        hotline, total = rows[year]
        assert value == pytest.approx(100 * hotline / total)


def test_rate_per_100k_uses_the_population_table(sample_db, default_set):
    r = engine.evaluate(sample_db, default_set, ids=["protection.victims_per_100k"]).results[0]
    (victims,), = sql(sample_db, "SELECT count(*) FROM victims WHERE victim_status = 'confirmed' "
                                 "AND year(identified_date) = 2020")
    (population,), = sql(sample_db, "SELECT sum(population) FROM population WHERE year = 2020")
    assert r.series()[2020] == pytest.approx(victims / population * 100_000)
    assert r.status == "monitoring"
    assert any("each sex is divided by the denominator's total" in n for n in r.notes)


def test_cumulative_runs_through_years_without_data(sample_db, default_set):
    r = engine.evaluate(sample_db, default_set, ids=["prevention.participants_trained"]).results[0]
    yearly = dict(sql(sample_db, "SELECT year(start_date), sum(participants) FROM trainings GROUP BY 1"))
    running = 0
    for year, value in r.series().items():
        running += yearly.get(year, 0)
        assert value == running


def test_median_months_is_elapsed_days_over_30_44(sample_db, default_set):
    r = engine.evaluate(sample_db, default_set, ids=["prosecution.months_charge_to_outcome"]).results[0]
    year = max(y for y, v in r.series().items() if v is not None)
    (want,), = sql(sample_db, "SELECT median(date_diff('day', charged_date, outcome_date) / 30.44) FROM prosecutions "
                              "WHERE child_victim AND outcome <> 'pending' AND year(outcome_date) = ?", [year])
    assert r.series()[year] == pytest.approx(want)


def test_filters_are_applied_where_the_table_has_the_column(sample_db, default_set):
    f = Filters(parish=("St James",), sex=("female",))
    ev = engine.evaluate(sample_db, default_set, ids=["prevention.participants_trained",
                                                       "protection.child_victims_identified"], filters=f)
    victims = ev.result("protection.child_victims_identified")
    want = dict(sql(sample_db, "SELECT year(identified_date), count(*) FROM victims WHERE age < 18 AND "
                               "victim_status = 'confirmed' AND parish = 'St James' AND sex = 'female' GROUP BY 1"))
    assert {y: v for y, v in victims.series().items() if v} == {y: float(n) for y, n in want.items()}
    assert victims.filters_applied == {"measure": ("parish", "sex")}
    trained = ev.result("prevention.participants_trained")
    assert trained.filters_applied == {"measure": ("parish",)}  # trainings have no sex column


def test_filter_values_are_bound_not_pasted(sample_db, default_set):
    evil = Filters(parish=("x') OR true OR ('",))
    r = engine.evaluate(sample_db, default_set, ids=["prosecution.investigations_opened"], filters=evil).results[0]
    assert set(r.series().values()) == {0.0}


def test_year_range_filter_keeps_running_totals_from_the_start(sample_db, default_set):
    whole = engine.evaluate(sample_db, default_set, ids=["prevention.participants_trained"]).results[0].series()
    part = engine.evaluate(sample_db, default_set, ids=["prevention.participants_trained"],
                           filters=Filters(year_from=2020, year_to=2022)).results[0].series()
    assert part == {y: whole[y] for y in (2020, 2021, 2022)}


def test_stated_baseline_wins_and_measured_is_kept(sample_db, default_set):
    r = engine.evaluate(sample_db, default_set, ids=["prosecution.investigations_opened"]).results[0]
    assert r.assessment.base_year == 2018 and r.assessment.base_value == 30
    (measured,), = sql(sample_db, "SELECT count(*) FROM cases WHERE year(opened_date) = 2018")
    assert r.measured_baseline == measured


def test_every_default_indicator_evaluates_on_the_sample(sample_db, default_set):
    ev = engine.evaluate(sample_db, default_set)
    assert len(ev.results) == len(default_set.indicators) >= 16
    assert {r.pillar for r in ev.results} == {"prosecution", "protection", "prevention", "partnership"}
    assert all(r.status != engine.ERROR for r in ev.results), [r.errors for r in ev.results]
    assert ev.synthetic


def test_empty_database_gives_no_values_and_exit_0(empty_db):
    before = sha256(empty_db)
    r = run_cli("evaluate", "--db", str(empty_db), "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["indicators"]
    assert {i["status"] for i in out} <= {"insufficient_data", "monitoring"}
    assert all(i["values"] == [] for i in out)
    assert sha256(empty_db) == before


def test_division_by_zero_is_a_null_value(tmp_path, empty_db):
    text = BASE_YAML + """\
  - id: prosecution.always_zero
    name: Nothing over nothing
    pillar: prosecution
    unit: percent
    direction: increase
    numerator:   {table: cases, agg: count, date: opened_date}
    denominator: {table: cases, agg: count, date: opened_date, where: ["status = 'nothing'"]}
    factor: 100
"""
    (tmp_path / "i.yaml").write_text(text)
    db_path = tmp_path / "s.duckdb"
    build_sample(db_path)
    r = run_cli("evaluate", "--db", str(db_path), "--indicators", str(tmp_path / "i.yaml"), "--id",
                "prosecution.always_zero", "--format", "json")
    assert r.returncode == 0, r.stderr
    values = json.loads(r.stdout)["indicators"][0]["values"]
    assert values and all(v["value"] is None for v in values)
    assert json.loads(r.stdout)["indicators"][0]["status"] == "insufficient_data"


def test_json_follows_the_contract(sample_db):
    r = run_cli("evaluate", "--db", str(sample_db), "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for ind in out["indicators"]:
        assert {"id", "name", "pillar", "unit", "status", "values"} <= set(ind)
        years = [v["year"] for v in ind["values"]]
        assert years == sorted(set(years))  # one entry per year
        assert all("value" in v for v in ind["values"])


def test_by_column_and_missing_column_note(sample_db):
    r = run_cli("evaluate", "--db", str(sample_db), "--id", "protection.child_victims_identified", "--id",
                "prevention.participants_trained", "--by", "sex", "--format", "json")
    victims, trained = json.loads(r.stdout)["indicators"]
    assert {v["sex"] for v in victims["values"]} <= {"female", "male", "other", "unknown"}
    assert trained["note"] == "'sex' is not a column of this indicator's table; totals are shown."
    assert all("sex" not in v for v in trained["values"])


def test_a_broken_indicator_does_not_stop_the_others(tmp_path, sample_db):
    (tmp_path / "i.yaml").write_text(BASE_YAML.replace("table: victims", "table: victimz"))
    before = sha256(sample_db)
    r = run_cli("evaluate", "--db", str(sample_db), "--indicators", str(tmp_path / "i.yaml"), "--format", "json")
    assert r.returncode == 0
    broken, rate = json.loads(r.stdout)["indicators"]
    assert broken["status"] == "error"
    assert broken["errors"] == ["i.yaml:11: error: indicator protection.child_victims: there is no table 'victimz'. "
                                "Did you mean 'victims'?"]
    assert rate["status"] != "error" and rate["values"]
    assert "there is no table 'victimz'" in r.stderr
    assert sha256(sample_db) == before


def test_exit_1_when_every_indicator_failed(tmp_path, sample_db):
    text = BASE_YAML.replace("table: victims", "table: victimz").replace("table: prosecutions", "table: nope")
    (tmp_path / "i.yaml").write_text(text)
    r = run_cli("evaluate", "--db", str(sample_db), "--indicators", str(tmp_path / "i.yaml"))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("text,code", [("- not a mapping\n", 1), ("indicators: [1, 2]\nversion: 1\n", 0)])
def test_unusable_file_exits_1(tmp_path, sample_db, text, code):
    (tmp_path / "i.yaml").write_text(text)
    r = run_cli("evaluate", "--db", str(sample_db), "--indicators", str(tmp_path / "i.yaml"))
    assert r.returncode == (1 if code else 1)  # two non-mapping indicators: every one failed
    assert "Traceback" not in r.stderr


def test_unknown_id_and_bad_usage(sample_db):
    r = run_cli("evaluate", "--db", str(sample_db), "--id", "prosecution.convictons")
    assert r.returncode == 1
    assert r.stderr.strip() == ("error: there is no indicator 'prosecution.convictons' in indicators.yaml. "
                                "Did you mean 'prosecution.convictions'?")
    assert run_cli("evaluate", "--format", "xml").returncode == 2


def test_missing_database(tmp_path):
    r = run_cli("evaluate", "--db", str(tmp_path / "none.duckdb"))
    assert r.returncode == 1
    assert "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_a_file_that_is_not_a_database(tmp_path):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("hello")
    r = run_cli("evaluate", "--db", str(bogus))
    assert r.returncode == 1
    assert r.stderr.startswith("error:") and "Traceback" not in r.stderr


def test_suppress_hides_small_counts(sample_db):
    r = run_cli("evaluate", "--db", str(sample_db), "--id", "protection.child_victims_identified", "--by", "sex",
                "--suppress", "--format", "json")
    values = json.loads(r.stdout)["indicators"][0]["values"]
    shown = [v["value"] for v in values if v["value"] is not None]
    assert all(v == 0 or v >= 5 for v in shown)
    assert any(v.get("suppressed") for v in values)


def test_schema_file_is_current(tmp_path):
    r = run_cli("schema", "--out", str(tmp_path / "s.json"))
    assert r.returncode == 0
    assert json.loads((tmp_path / "s.json").read_text()) == json.loads((ROOT / "indicators.schema.json").read_text())


def test_help_lists_every_command_with_an_example():
    r = run_cli("--help")
    for command in ("sample", "init", "validate", "evaluate", "schema"):
        assert command in r.stdout
        sub = run_cli(command, "--help")
        assert sub.returncode == 0 and "Example: python -m cpc_monitor" in sub.stdout


def test_init_writes_reference_tables_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "new.duckdb"
    assert run_cli("init", "--db", str(path)).returncode == 0
    assert sql(path, "SELECT count(*) FROM parishes")[0][0] == 14
    assert sql(path, "SELECT sum(population) FROM population WHERE year = 2011")[0][0] == 2_697_983
    assert sql(path, "SELECT count(*) FROM child_friendly_spaces")[0][0] == 10
    assert sql(path, "SELECT value FROM schema_info WHERE key = 'schema_version'")[0][0] == "1"
    before = sha256(path)
    r = run_cli("init", "--db", str(path))
    assert r.returncode == 1 and "already exists" in r.stderr
    assert sha256(path) == before


def test_schema_constraints_hold(empty_db, tmp_path):
    import duckdb

    copy = tmp_path / "c.duckdb"
    copy.write_bytes(empty_db.read_bytes())
    con = duckdb.connect(str(copy))
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO cases (case_id, opened_date, status) VALUES ('A', DATE '2020-01-01', 'bogus')")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO cases (case_id, opened_date, closed_date) VALUES ('A', DATE '2020-02-01', DATE '2020-01-01')")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO funding (entry_id, entry_date, amount_usd) VALUES ('F', DATE '2020-01-01', -1)")
    con.close()


def test_cfs_capacity_counts_months_open(sample_db):
    rows = dict(((y, s), c) for y, s, c in sql(sample_db, "SELECT year, space_id, capacity FROM cfs_capacity"))
    assert rows[(2022, "CFS-01")] == 10 * 20  # opened 4 March 2022: March to December
    assert (2021, "CFS-01") not in rows
    assert math.isclose(rows[(2023, "CFS-01")], 12 * 20)


def test_running_totals_of_money_add_up_exactly(sample_db, default_set):
    r = engine.evaluate(sample_db, default_set, ids=["partnership.usg_disbursed"]).results[0]
    (total,), = sql(sample_db, "SELECT sum(amount_usd) FROM funding WHERE donor = 'usg' AND kind = 'disbursement'")
    assert r.latest[1] == float(total)  # exactly: no 6,696,999.9999999 for 6,697,000
    assert r.status == "target_achieved"


@pytest.mark.parametrize("filters", [Filters(), Filters(parish=("St James",), sex=("female",), year_from=2019)])
def test_totals_only_agrees_with_the_full_evaluation(sample_db, default_set, filters):
    """Scorecards take a lighter path (no breakdowns); it must give the same totals and statuses."""
    light = engine.evaluate(sample_db, default_set, filters=filters, breakdowns=False)
    full = engine.evaluate(sample_db, default_set, filters=filters)
    for a, b in zip(light.results, full.results):
        assert a.series() == b.series(), a.id
        assert a.status == b.status, a.id
        assert set(a.values["dim"]) == {""}
