"""Data-quality figures (issue 4): completeness, timeliness and rule violations per table,
source and import batch; monthly counts with robust outlier flags; likely duplicates;
the indicators each gap affects. Built on small databases made by the package itself."""
from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cpc_monitor.store import db

from cpc_monitor.definitions import indicators

from cpc_monitor.intake import importer, quality, rules
from cpc_monitor.store.schema import init_database

ROOT = Path(__file__).resolve().parents[2]  # the project root
CASES = "case_id,opened_date,parish,referral_source,exploitation_type,status,closed_date\n"
YAML = """\
version: 1
indicators:
  - id: protection.referred
    name: Victims referred to care
    pillar: protection
    unit: count
    direction: increase
    measure: {table: victims, agg: count, date: identified_date, where: ["referred_date IS NOT NULL"]}
  - id: prosecution.cases_by_parish
    name: Cases opened
    pillar: prosecution
    unit: count
    direction: monitor
    measure: {table: cases, agg: count, date: opened_date, where: ["status <> 'unfounded'"]}
    disaggregations: [parish]
"""


@pytest.fixture(scope="module")
def quality_db(tmp_path_factory) -> Path:
    """Two batches of cases from several sources (with gaps), and two victims."""
    folder = tmp_path_factory.mktemp("quality")
    path = folder / "cpc.duckdb"
    init_database(path)
    first = folder / "police.csv"
    first.write_text(CASES + "JCF-1,2024-01-10,Kingston,police,sexual,open,\n"
                             "JCF-2,2024-02-10,Kingston,police,sexual,closed,2024-03-01\n"
                             "JCF-3,2024-03-10,,hotline,labour,open,\n"
                             "JCF-4,2024-03-20,St Ann,hotline,labour,open,\n", encoding="utf-8")
    second = folder / "ngo.csv"
    second.write_text(CASES + "NGO-1,2024-04-02,Portland,ngo,sexual,open,\n"
                              "NGO-2,2024-05-02,Portland,ngo,sexual,open,\n", encoding="utf-8")
    victims = folder / "victims.csv"
    victims.write_text("victim_id,identified_date,identified_by,sex,age,parish,exploitation_type,referred_date\n"
                       "JCF-V-1,2024-01-10,police,female,15,Kingston,sexual,2024-01-11\n"
                       "CPFSA-V-1,2024-01-12,cpfsa,female,15,Kingston,sexual,\n", encoding="utf-8")
    for table, csv in (("cases", first), ("cases", second), ("victims", victims)):
        importer.import_files(path, table, [csv])
    return path


@pytest.fixture(scope="module")
def report(quality_db) -> quality.QualityReport:
    return quality.quality_report(quality_db, indicators.parse_indicators(YAML), today=date(2024, 6, 30))


def batches(db_path: Path) -> list[str]:
    with db.reading(db_path) as con:
        return [r[0] for r in con.execute("SELECT batch_id FROM import_batches WHERE table_name = 'cases' "
                                          "ORDER BY imported_at").fetchall()]


# --------------------------------------------------------------------------- modified z-score


def test_modified_z_uses_the_median_absolute_deviation():
    z = quality.modified_z([1, 2, 3, 4, 100])  # median 3, MAD 1
    assert z.tolist() == pytest.approx([-1.349, -0.6745, 0.0, 0.6745, 65.4265])


def test_modified_z_when_mad_is_zero_uses_the_mean_absolute_deviation():
    z = quality.modified_z([5, 5, 5, 5, 5, 9])  # median 5, MAD 0, mean absolute deviation 4/6
    assert z[-1] == pytest.approx(4 / (1.253314 * 4 / 6))
    assert z[:5].tolist() == [0.0] * 5
    assert quality.modified_z([3, 3, 3]).tolist() == [0.0, 0.0, 0.0]
    assert quality.modified_z([]).size == 0


def test_modified_z_floor_keeps_small_counts_from_being_outliers():
    counts = [0, 0, 1, 0, 0, 0, 3, 0]
    assert abs(quality.modified_z(counts)[6]) > quality.OUTLIER_Z  # without the floor, 3 looks extreme
    assert quality.modified_z(counts, min_spread=1.0)[6] == pytest.approx(3.0)


# --------------------------------------------------------------------------- completeness and timeliness


def test_completeness_per_table_source_and_batch(report, quality_db):
    c = report.completeness
    parish = c[(c["table"] == "cases") & (c["column"] == "parish")]
    got = {(r.by, r.group): (r.rows, r.filled) for r in parish.itertuples()}
    first, second = batches(quality_db)
    assert got == {("all", ""): (6, 5), ("source", "police"): (2, 2), ("source", "hotline"): (2, 1),
                   ("source", "ngo"): (2, 2), ("batch", first): (4, 3), ("batch", second): (2, 2)}
    overall = parish[parish["by"] == "all"].iloc[0]
    assert overall["percent_filled"] == pytest.approx(500 / 6)
    assert parish["by"].tolist()[:2] == ["all", "source"], "all rows first, then sources, then batches"
    victims = c[(c["table"] == "victims") & (c["by"] == "source")]
    assert set(victims["group"]) == {"police", "cpfsa"}
    empty = c[(c["table"] == "funding") & (c["by"] == "all")]
    assert set(empty["rows"]) == {0} and empty["percent_filled"].isna().all()


def test_timeliness_latest_date_per_source(report):
    t = report.timeliness[report.timeliness["table"] == "cases"]
    got = {(r.by, r.group): (r.latest_date, r.days_since) for r in t.itertuples() if r.by != "batch"}
    assert got == {("all", ""): (date(2024, 5, 2), 59), ("source", "hotline"): (date(2024, 3, 20), 102),
                   ("source", "ngo"): (date(2024, 5, 2), 59), ("source", "police"): (date(2024, 2, 10), 141)}


# --------------------------------------------------------------------------- violations


def test_violations_of_stored_rows(quality_db, tmp_path):
    path = tmp_path / "cpc.duckdb"
    shutil.copyfile(quality_db, path)
    with db.rebuild(path) as con:  # rows that came in before a rule held: an orphan, a late parent
        con.execute("INSERT INTO victims (victim_id, case_id, identified_date, identified_by) "
                    "VALUES ('V-9', 'JCF-GONE', DATE '2024-02-01', 'ngo')")
    found = quality.quality_report(path, today=date(2024, 4, 1)).violations
    assert found[found["by"] == "all"][["table", "column", "rule", "rows"]].values.tolist() == [
        ["cases", "opened_date", "opened_date is not in the future", 2],
        ["victims", "case_id", "case_id is in cases", 1]]
    per_source = found[(found["table"] == "victims") & (found["by"] == "source")]
    assert per_source[["group", "rows"]].values.tolist() == [["ngo", 1]]
    assert quality.quality_report(quality_db, today=date(2024, 6, 30)).violations.empty


# --------------------------------------------------------------------------- monthly counts


def test_monthly_counts_fill_gaps_and_flag_a_spike(tmp_path):
    path = tmp_path / "cpc.duckdb"
    init_database(path)
    rows = [f"C-{m}-{i},2023-{m:02d}-05,,police,,,\n" for m in (1, 2, 3, 5, 6, 7, 8) for i in range(2)]
    rows += [f"C-9-{i},2023-09-05,,hotline,,,\n" for i in range(30)]
    csv = tmp_path / "cases.csv"
    csv.write_text(CASES + "".join(rows), encoding="utf-8")
    importer.import_files(path, "cases", [csv])
    monthly = quality.quality_report(path).monthly
    overall = monthly[(monthly["table"] == "cases") & (monthly["by"] == "all")]
    assert overall["rows"].tolist() == [2, 2, 2, 0, 2, 2, 2, 2, 30]
    assert overall["month"].tolist()[3] == date(2023, 4, 1)
    assert overall[overall["outlier"]]["month"].tolist() == [date(2023, 9, 1)]
    hotline = monthly[(monthly["by"] == "source") & (monthly["group"] == "hotline")]
    assert hotline["rows"].tolist() == [30] and not hotline["outlier"].any(), "one month is no baseline"


# --------------------------------------------------------------------------- duplicates and impact


def test_likely_duplicates_are_counted_per_source(report):
    assert report.duplicates.values.tolist() == [["all", "", 1, False], ["source", "cpfsa", 1, False],
                                                 ["source", "police", 1, False]]


def test_indicator_columns_and_the_gaps_they_are_hit_by(report):
    uses = quality.indicator_columns(indicators.parse_indicators(YAML))
    assert uses[["indicator", "table", "column", "use"]].values.tolist() == [
        ["protection.referred", "victims", "identified_date", "date"],
        ["protection.referred", "victims", "referred_date", "filter"],
        ["prosecution.cases_by_parish", "cases", "opened_date", "date"],
        ["prosecution.cases_by_parish", "cases", "status", "filter"],
        ["prosecution.cases_by_parish", "cases", "parish", "breakdown"]]
    hit = report.impact[["table", "column", "missing", "indicator", "use"]].values.tolist()
    assert hit == [["victims", "referred_date", 1, "protection.referred", "filter"],
                   ["cases", "parish", 1, "prosecution.cases_by_parish", "breakdown"]]
    assert report.impact["percent_filled"].tolist() == pytest.approx([50.0, 500 / 6])


# --------------------------------------------------------------------------- the sample


def test_quality_report_on_the_sample(sample_db):
    iset = indicators.load_indicators(ROOT / "indicators.yaml")
    report = quality.quality_report(sample_db, iset)
    assert set(report.completeness["table"]) == set(rules.IMPORTABLE)
    assert report.violations.empty, report.violations
    assert not report.impact.empty and set(report.impact["indicator"]) <= {i.id for i in iset.indicators}
    assert report.monthly["z"].map(math.isfinite).all()
    assert np.isin(report.timeliness["by"], ["all", "source", "batch"]).all()
