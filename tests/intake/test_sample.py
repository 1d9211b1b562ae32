"""The synthetic sample: deterministic, calibrated to the public record, and plausible row by
row (dates in order, keys that resolve), checked on real files built by build_sample."""
from __future__ import annotations

from datetime import date

import pytest

from cpc_monitor.store import db, schema
from cpc_monitor.errors import SampleOptionError, SampleRefused
from cpc_monitor.intake.sample import build_sample

SCALED_TABLES = ("cases", "victims", "prosecutions", "cfs_sessions", "trainings")
EVENT_TABLES = SCALED_TABLES + ("funding",)
# Investigations per calendar year, from the TIP Reports (facts file; 2019 and 2025 assumed).
TIP_INVESTIGATIONS = {2015: 30, 2016: 40, 2017: 30, 2018: 36, 2019: 38, 2020: 43, 2021: 53,
                      2022: 60, 2023: 61, 2024: 58, 2025: 55}


def _fingerprints(path) -> dict[str, tuple[int, str]]:
    """Row count and an md5 of the ordered contents of every table of the data model."""
    with db.reading(path) as con:
        return {
            table: con.execute(
                f"SELECT count(*), md5(string_agg(t::VARCHAR, '|' ORDER BY {', '.join(spec.key)})) "
                f"FROM {table} t").fetchone()
            for table, spec in schema.TABLES.items()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "cpc.duckdb"
    counts = build_sample(path, seed=1, scale=1)
    return path, counts


@pytest.fixture(scope="module")
def con(built):
    with db.reading(built[0]) as connection:
        yield connection


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _by_year(con, sql: str) -> dict[int, int]:
    return dict(_rows(con, sql))


# --- the build ----------------------------------------------------------------------------

def test_every_event_table_has_rows_and_counts_are_returned(built, con):
    path, counts = built
    for table in EVENT_TABLES:
        assert counts[table] > 0, table
    for table in schema.TABLES:
        assert counts[table] == con.execute(f"SELECT count(*) FROM {table}").fetchone()[0], table


def test_schema_info_marks_the_file_synthetic(con):
    info = db.info(con)
    assert (info["synthetic"], info["seed"], info["scale"]) == ("true", "1", "1")
    assert info["schema_version"] == str(schema.SCHEMA_VERSION)


def test_every_generated_row_is_in_the_sample_batch(con):
    for table in EVENT_TABLES:
        assert _rows(con, f"SELECT DISTINCT {schema.BATCH_COLUMN} FROM {table}") == [("sample",)], table


def test_same_seed_gives_identical_contents(built, tmp_path):
    again = tmp_path / "again.duckdb"
    build_sample(again, seed=1)
    assert _fingerprints(again) == _fingerprints(built[0])


def test_another_seed_gives_other_contents(built, tmp_path):
    other = tmp_path / "other.duckdb"
    build_sample(other, seed=2)
    first, second = _fingerprints(built[0]), _fingerprints(other)
    for table in SCALED_TABLES:
        assert first[table][1] != second[table][1], table


def test_scale_multiplies_event_tables_and_keeps_replica_one(built, tmp_path):
    doubled = tmp_path / "doubled.duckdb"
    counts = build_sample(doubled, seed=1, scale=2)
    single = built[1]
    for table in ("prosecutions", "trainings"):  # fixed counts per replica
        assert counts[table] == 2 * single[table], table
    for table in ("cases", "victims", "cfs_sessions"):  # counts jitter per replica
        assert 1.8 * single[table] <= counts[table] <= 2.2 * single[table], table
    for table in ("funding", "child_friendly_spaces", "parishes", "population"):
        assert counts[table] == single[table], table
    with db.reading(doubled) as con2:
        assert con2.execute("SELECT count(*) FROM cases WHERE case_id LIKE '%-2'").fetchone()[0] \
            == counts["cases"] - single["cases"]
        replica_one = con2.execute(
            "SELECT md5(string_agg(c::VARCHAR, '|' ORDER BY case_id)) FROM cases c "
            "WHERE case_id NOT LIKE '%-2'").fetchone()[0]
    assert replica_one == _fingerprints(built[0])["cases"][1]


# --- calibration --------------------------------------------------------------------------

def test_cases_per_year_follow_the_tip_counts(con):
    per_year = _by_year(con, "SELECT year(opened_date), count(*) FROM cases GROUP BY 1")
    assert sorted(per_year) == list(range(2015, 2026))
    for year, expected in TIP_INVESTIGATIONS.items():
        assert 30 <= per_year[year] <= 61, (year, per_year[year])
        assert abs(per_year[year] - expected) <= 2, (year, per_year[year])


def test_cases_are_mostly_sexual_exploitation_in_the_big_parishes(con):
    share_sexual, share_big_four = con.execute(
        "SELECT avg((exploitation_type = 'sexual')::INT), "
        "avg((parish IN ('St Andrew', 'Kingston', 'St Catherine', 'St James'))::INT) FROM cases").fetchone()
    assert share_sexual > 0.8
    assert share_big_four > 0.55


def test_hotline_share_rises_after_2018(con):
    early, late = con.execute(
        "SELECT avg((referral_source = 'hotline')::INT) FILTER (WHERE year(opened_date) <= 2018), "
        "avg((referral_source = 'hotline')::INT) FILTER (WHERE year(opened_date) >= 2021) FROM cases").fetchone()
    assert late > early + 0.15


def test_confirmed_victims_per_year_and_suspected_about_twice(con):
    confirmed = _by_year(con, "SELECT year(identified_date), count(*) FROM victims "
                              "WHERE victim_status = 'confirmed' GROUP BY 1")
    assert sorted(confirmed) == list(range(2015, 2026))
    assert all(6 <= n <= 13 for n in confirmed.values()), confirmed
    suspected = con.execute("SELECT count(*) FROM victims WHERE victim_status = 'suspected'").fetchone()[0]
    assert 1.6 * sum(confirmed.values()) <= suspected <= 2.4 * sum(confirmed.values())
    linked = con.execute("SELECT avg((case_id IS NOT NULL)::INT) FROM victims").fetchone()[0]
    assert linked > 0.6


def test_confirmed_victims_are_mostly_jamaican_girls_and_foreign_men_in_labour(con):
    girls = con.execute("SELECT avg((sex = 'female' AND age BETWEEN 12 AND 17 AND nationality = 'JAM' "
                        "AND exploitation_type = 'sexual')::INT) FROM victims "
                        "WHERE victim_status = 'confirmed'").fetchone()[0]
    assert girls > 0.5
    foreign_labour = {n for (n,) in _rows(con, "SELECT DISTINCT nationality FROM victims WHERE victim_status = "
                                               "'confirmed' AND exploitation_type = 'labour' AND age >= 18")}
    assert {"COL", "IND", "CHN", "HND"} <= foreign_labour


def test_nrm_referrals_get_faster_and_children_go_to_cpfsa(con):
    before, after = (con.execute(
        "SELECT avg((referred_date - identified_date <= 2)::INT), median(referred_date - identified_date) "
        f"FROM victims WHERE age < 18 AND victim_status = 'confirmed' AND year(identified_date) {years}"
    ).fetchone() for years in ("<= 2020", ">= 2022"))
    assert after[0] > before[0] + 0.3  # share referred within 2 days
    assert after[1] < before[1]  # median days to referral
    referred, cpfsa = con.execute(
        "SELECT avg((referred_date IS NOT NULL)::INT), avg((care_provider = 'cpfsa')::INT) "
        "FILTER (WHERE referred_date IS NOT NULL) FROM victims "
        "WHERE age < 18 AND victim_status = 'confirmed'").fetchone()
    assert referred > 0.7 and cpfsa > 0.6


def test_prosecutions_a_few_a_year_with_one_or_two_convictions(con):
    charged = _by_year(con, "SELECT year(charged_date), count(*) FROM prosecutions GROUP BY 1")
    assert sorted(charged) == list(range(2015, 2026))
    assert all(3 <= n <= 8 for n in charged.values()), charged
    convictions = _by_year(con, "SELECT year(outcome_date), count(*) FROM prosecutions "
                                "WHERE outcome = 'convicted' GROUP BY 1")
    assert all(0 <= convictions.get(year, 0) <= 3 for year in range(2016, 2026)), convictions
    assert 10 <= sum(convictions.values()) <= 20
    child_victim, tip_act = con.execute("SELECT avg(child_victim::INT), avg((statute = 'tip_act')::INT) "
                                        "FROM prosecutions").fetchone()
    assert child_victim > 0.5 and tip_act > 0.6


def test_outcome_columns_agree_with_the_outcome(con):
    assert _rows(con, """
        SELECT prosecution_id FROM prosecutions
        WHERE (outcome = 'pending') <> (outcome_date IS NULL)
           OR (outcome = 'convicted') <> (sentence_months IS NOT NULL)
           OR (outcome = 'convicted') <> (restitution_ordered IS NOT NULL)""") == []
    months = con.execute("SELECT median(datediff('month', charged_date, outcome_date)) FROM prosecutions "
                         "WHERE outcome_date IS NOT NULL").fetchone()[0]
    assert 3 <= months <= 36


def test_child_friendly_spaces_ramp_up_to_40_to_80_percent_of_capacity(con):
    shares = _rows(con, """
        SELECT c.space_id, count(s.session_id) / c.capacity FROM cfs_capacity c
        LEFT JOIN cfs_sessions s ON s.space_id = c.space_id AND year(s.session_date) = c.year
        WHERE c.year = 2025 GROUP BY c.space_id, c.capacity""")
    assert len(shares) == 10
    assert all(0.3 <= share <= 0.9 for _, share in shares), shares
    crime, services = con.execute(
        "SELECT mode(crime_type), count(DISTINCT service) FROM cfs_sessions").fetchone()
    assert crime == "sexual_abuse" and services == 5


def test_funding_totals_and_disbursements_never_ahead_of_commitments(con):
    committed = con.execute("SELECT sum(amount_usd) FROM funding WHERE donor = 'usg' "
                            "AND kind = 'commitment'").fetchone()[0]
    assert 6_600_000 <= committed <= 6_750_000
    assert _rows(con, """
        WITH flows AS (
          SELECT donor, partner, entry_date,
                 sum(CASE kind WHEN 'commitment' THEN amount_usd ELSE -amount_usd END) AS net
          FROM funding GROUP BY ALL)
        SELECT * FROM (
          SELECT *, sum(net) OVER (PARTITION BY donor, partner ORDER BY entry_date) AS balance FROM flows)
        WHERE balance < 0""") == []
    assert _rows(con, """
        SELECT donor, partner FROM funding GROUP BY ALL
        HAVING sum(amount_usd) FILTER (WHERE kind = 'commitment')
            <> sum(amount_usd) FILTER (WHERE kind = 'disbursement')""") == []
    goj_2017 = con.execute("SELECT amount_usd FROM funding WHERE donor = 'goj' AND kind = 'commitment' "
                           "AND entry_date = DATE '2017-04-01'").fetchone()[0]
    assert goj_2017 == 232_000  # J$34.8m at J$150 to US$1


def test_trainings_by_audience_and_partner(con):
    assert _rows(con, "SELECT training_id FROM trainings WHERE participants NOT BETWEEN 10 AND 60 "
                      "OR female_participants > participants") == []
    justice, care = con.execute("""
        SELECT avg((partner = 'warnath')::INT) FILTER (WHERE audience IN ('police', 'prosecutors', 'judiciary')),
               avg((partner = 'winrock')::INT) FILTER (WHERE audience IN ('social_workers', 'health', 'educators'))
        FROM trainings WHERE start_date BETWEEN DATE '2019-01-01' AND DATE '2022-12-31'""").fetchone()
    assert justice > 0.5 and care > 0.5
    during, outside = con.execute(
        "SELECT count(*) FILTER (WHERE year(start_date) BETWEEN 2019 AND 2023) / 5, "
        "count(*) FILTER (WHERE year(start_date) NOT BETWEEN 2019 AND 2023) / 6 FROM trainings").fetchone()
    assert during > outside


# --- plausibility of every row ------------------------------------------------------------

def test_dates_are_in_order(con):
    assert _rows(con, """
        SELECT 'cases', case_id FROM cases WHERE closed_date < opened_date
        UNION ALL SELECT 'victims', victim_id FROM victims WHERE referred_date < identified_date
        UNION ALL SELECT 'prosecutions', prosecution_id FROM prosecutions WHERE outcome_date < charged_date
        UNION ALL SELECT 'victim before case', v.victim_id FROM victims v JOIN cases c USING (case_id)
                  WHERE v.identified_date < c.opened_date
        UNION ALL SELECT 'charge before case', p.prosecution_id FROM prosecutions p JOIN cases c USING (case_id)
                  WHERE p.charged_date < c.opened_date
        UNION ALL SELECT 'session before victim', s.session_id FROM cfs_sessions s JOIN victims v USING (victim_id)
                  WHERE s.session_date < v.identified_date""") == []


def test_no_date_outside_2015_to_2025(con):
    for table, spec in schema.TABLES.items():
        if table in EVENT_TABLES:
            for column in (c.name for c in spec.columns if c.type == "DATE"):
                first, last = con.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
                assert first >= date(2015, 1, 1) and last <= date(2025, 12, 31), (table, column)


def test_foreign_keys_resolve(con):
    assert _rows(con, """
        SELECT 'victims.case_id', v.victim_id FROM victims v ANTI JOIN cases c USING (case_id)
          WHERE v.case_id IS NOT NULL
        UNION ALL SELECT 'prosecutions.case_id', p.prosecution_id FROM prosecutions p
          ANTI JOIN cases c USING (case_id)
        UNION ALL SELECT 'cfs_sessions.space_id', s.session_id FROM cfs_sessions s
          ANTI JOIN child_friendly_spaces f USING (space_id)
        UNION ALL SELECT 'cfs_sessions.victim_id', s.session_id FROM cfs_sessions s
          ANTI JOIN (SELECT victim_id FROM victims WHERE age < 18) v USING (victim_id)
          WHERE s.victim_id IS NOT NULL""") == []
    for table, spec in schema.TABLES.items():
        if spec.column("parish") and table in EVENT_TABLES:
            assert _rows(con, f"SELECT t.parish FROM {table} t ANTI JOIN parishes p USING (parish) "
                              "WHERE t.parish IS NOT NULL") == [], table


def test_sessions_never_before_their_space_opened_and_only_children(con):
    assert _rows(con, "SELECT s.session_id FROM cfs_sessions s JOIN child_friendly_spaces f USING (space_id) "
                      "WHERE s.session_date < f.opened_date OR s.age >= 18") == []
    linked = con.execute("SELECT count(*), count(*) FILTER (WHERE crime_type <> 'trafficking') "
                         "FROM cfs_sessions WHERE victim_id IS NOT NULL").fetchone()
    assert linked[0] > 0 and linked[1] == 0


# --- refusals -----------------------------------------------------------------------------

def test_refuses_to_overwrite_a_database_that_is_not_synthetic(tmp_path):
    real = tmp_path / "real.duckdb"
    schema.init_database(real)
    before = real.read_bytes()
    with pytest.raises(SampleRefused) as caught:
        build_sample(real)
    assert str(caught.value) == (
        f"Refusing to write the sample over {real}: its schema_info does not say synthetic='true', "
        f"so it may hold real data. Write the sample to another file (--db PATH), or move {real} "
        "away yourself if you really mean to replace it.")
    assert real.read_bytes() == before


def test_refuses_to_overwrite_a_file_that_is_not_a_database(tmp_path):
    notes = tmp_path / "notes.duckdb"
    notes.write_text("not a database")
    with pytest.raises(SampleRefused, match=r"^Refusing to write the sample over .*cannot be read"):
        build_sample(notes)
    assert notes.read_text() == "not a database"


def test_replaces_an_existing_sample(tmp_path):
    path = tmp_path / "cpc.duckdb"
    build_sample(path, seed=1)
    build_sample(path, seed=3)
    with db.reading(path) as con:
        assert db.info(con)["seed"] == "3"


@pytest.mark.parametrize(("seed", "scale", "message"), [
    (-1, 1, "The seed must be a whole number from 0 to 9223372036854775807, not -1. Pass for example --seed 1."),
    (1, 0, "The scale must be a whole number from 1 to 100000, not 0. Pass --scale 1 for the calibrated "
           "sample, or for example --scale 1000 for a benchmark."),
    (1, 100_001, "The scale must be a whole number from 1 to 100000, not 100001. Pass --scale 1 for the "
                 "calibrated sample, or for example --scale 1000 for a benchmark."),
])
def test_rejects_bad_seed_or_scale(tmp_path, seed, scale, message):
    with pytest.raises(SampleOptionError) as caught:
        build_sample(tmp_path / "x.duckdb", seed=seed, scale=scale)
    assert str(caught.value) == message
    assert not (tmp_path / "x.duckdb").exists()
