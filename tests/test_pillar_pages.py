"""The pillar pages: their figures against direct SQL on a real sample database, the
offline parish map, every chart valid, and AppTest runs of the three pages (filters,
presentation-safe numbers, suppressed downloads)."""
from __future__ import annotations

import csv
import io
import json
import re
import time
import shutil
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from cpc_monitor.store import codes, db

from cpc_monitor.intake import dedupe

from cpc_monitor.present import pillar_charts as pc

from cpc_monitor.evaluation import pillar_data as pdt
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.present.parish_map import TILES, parish_map

PAGES = ("pages/prosecution.py", "pages/protection.py", "pages/prevention_partnership.py")
MIN_CELL = 5
SMALL = {"1", "2", "3", "4"}  # counts presentation-safe numbers never show (min_cell 5)
pytestmark = pytest.mark.timeout(300)


def sql(path: Path, query: str, params: list | None = None) -> list[tuple]:
    with db.reading(path) as con:
        return con.execute(query, params or []).fetchall()


def scalar(path: Path, query: str, params: list | None = None) -> float:
    return sql(path, query, params)[0][0] or 0


def frames(path: Path, fn, filters: Filters = Filters(), *args) -> dict[str, pd.DataFrame]:
    with db.reading(path) as con:
        return fn(con, filters, *args)


def cell(frame: pd.DataFrame, **match) -> float:
    rows = frame
    for column, wanted in match.items():
        rows = rows[rows[column] == wanted]
    assert len(rows) == 1, (match, rows)
    return float(rows.iloc[0]["value"])


# ----------------------------------------------------------------------------- prosecution


def test_funnel_counts_each_stage_as_sql_does(sample_db):
    funnel = frames(sample_db, pdt.prosecution_frames)["funnel"]
    for year in (2018, 2022, 2025):
        assert cell(funnel, year=year, stage="investigations") == scalar(
            sample_db, "SELECT count(*) FROM cases WHERE year(opened_date) = ?", [year])
        assert cell(funnel, year=year, stage="prosecutions") == scalar(
            sample_db, "SELECT count(*) FROM prosecutions WHERE year(charged_date) = ?", [year])
        assert cell(funnel, year=year, stage="convictions") == scalar(
            sample_db, "SELECT count(*) FROM prosecutions WHERE outcome = 'convicted' AND year(outcome_date) = ?",
            [year])
    assert cell(funnel, year=2022, stage="investigations") > 0


def test_a_parish_filter_changes_the_funnel_exactly_as_sql_says(sample_db):
    everything = frames(sample_db, pdt.prosecution_frames)["funnel"]
    kingston = frames(sample_db, pdt.prosecution_frames, Filters(parish=("Kingston",)))["funnel"]
    expected = scalar(sample_db, "SELECT count(*) FROM cases WHERE year(opened_date) = 2022 AND parish = 'Kingston'")
    assert cell(kingston, year=2022, stage="investigations") == expected
    assert expected < cell(everything, year=2022, stage="investigations")
    for year in range(2015, 2026):
        assert cell(kingston, year=year, stage="prosecutions") == scalar(
            sample_db, "SELECT count(*) FROM prosecutions WHERE year(charged_date) = ? AND parish = 'Kingston'", [year])


def test_the_year_range_keeps_only_its_years_with_the_same_figures(sample_db):
    everything = frames(sample_db, pdt.prosecution_frames)
    some = frames(sample_db, pdt.prosecution_frames, Filters(year_from=2020, year_to=2022))
    assert sorted(some["funnel"]["year"].unique()) == [2020, 2021, 2022]
    kept = everything["funnel"][everything["funnel"]["year"].between(2020, 2022)].reset_index(drop=True)
    pd.testing.assert_frame_equal(some["funnel"], kept)
    assert sorted(some["outcomes"]["year"].unique()) == [2020, 2021, 2022]


def test_time_to_outcome_outcomes_and_sentences_follow_the_records(sample_db):
    out = frames(sample_db, pdt.prosecution_frames)
    rows = sql(sample_db, "SELECT year(outcome_date), count(*), median(date_diff('day', charged_date, outcome_date) "
                          "/ 30.44) FROM prosecutions WHERE outcome <> 'pending' AND outcome_date IS NOT NULL "
                          "GROUP BY ALL")
    durations = out["durations"].set_index("year")
    for year, concluded, median in rows:
        assert durations.at[year, "concluded"] == concluded
        assert durations.at[year, "median"] == pytest.approx(median)
    outcomes = out["outcomes"]
    by_outcome = "SELECT year(charged_date), outcome, count(*) FROM prosecutions GROUP BY ALL"
    for year, outcome, n in sql(sample_db, by_outcome):
        assert cell(outcomes, year=year, dim="outcome", group=outcome) == n
    sentences = out["sentences"]
    convicted = scalar(sample_db, "SELECT count(*) FROM prosecutions WHERE outcome = 'convicted'")
    assert sentences.loc[sentences["dim"] == "", "value"].sum() == convicted
    assert sentences.loc[sentences["dim"] == "sentence", "value"].sum() == convicted
    long = scalar(sample_db, "SELECT count(*) FROM prosecutions WHERE outcome = 'convicted' AND sentence_months >= 120")
    assert sentences.loc[sentences["group"] == "10 years or more", "value"].sum() == long


# ----------------------------------------------------------------------------- protection


def test_victims_by_breakdown_match_sql(sample_db):
    victims = frames(sample_db, pdt.protection_frames)["victims"]
    for year, n in sql(sample_db, "SELECT year(identified_date), count(*) FROM victims GROUP BY ALL"):
        assert cell(victims, year=year, dim="") == n
    for year, sex, n in sql(sample_db, "SELECT year(identified_date), sex, count(*) FROM victims GROUP BY ALL"):
        assert cell(victims, year=year, dim="sex", group=sex) == n
    for year, nat, n in sql(sample_db, "SELECT year(identified_date), nationality, count(*) FROM victims GROUP BY ALL"):
        assert cell(victims, year=year, dim="nationality", group=nat) == n
    teens = scalar(sample_db, "SELECT count(*) FROM victims WHERE age BETWEEN 12 AND 17 "
                              "AND year(identified_date) = 2024")
    assert cell(victims, year=2024, dim="age_group", group="12-17") == teens
    confirmed = frames(sample_db, pdt.protection_frames, Filters(sex=("female",)), ("confirmed",))["victims"]
    assert cell(confirmed, year=2024, dim="") == scalar(
        sample_db, "SELECT count(*) FROM victims WHERE year(identified_date) = 2024 AND sex = 'female' "
                   "AND victim_status = 'confirmed'")
    assert set(confirmed.loc[confirmed["dim"] == "victim_status", "group"]) == {"confirmed"}


def test_victims_marked_as_duplicates_are_not_counted(sample_db, tmp_path):
    path = tmp_path / "dedup.duckdb"
    shutil.copyfile(sample_db, path)
    kept, other = sql(path, "SELECT victim_id FROM victims WHERE year(identified_date) = 2024 "
                            "ORDER BY identified_date, victim_id LIMIT 2")
    before = frames(path, pdt.protection_frames)
    dedupe.decide(path, kept[0], other[0], "same_person")
    after = frames(path, pdt.protection_frames)
    assert cell(after["victims"], year=2024, dim="") == cell(before["victims"], year=2024, dim="") - 1
    assert after["parish_victims"].iloc[0]["value"] == before["parish_victims"].iloc[0]["value"] - 1


def test_referral_timeliness_counts_confirmed_child_victims(sample_db):
    referral = frames(sample_db, pdt.protection_frames)["referral"].set_index("year")
    rows = sql(sample_db, "SELECT year(identified_date), count(*), count(*) FILTER (WHERE date_diff('day', "
                          "identified_date, referred_date) <= 2) FROM victims WHERE age < 18 AND "
                          "victim_status = 'confirmed' GROUP BY ALL")
    for year, identified, within in rows:
        assert referral.at[year, "denominator"] == identified
        assert referral.at[year, "numerator"] == within
        assert referral.at[year, "value"] == pytest.approx(100 * within / identified)
    bands = frames(sample_db, pdt.protection_frames)["referral_bands"]
    not_referred = scalar(sample_db, "SELECT count(*) FROM victims WHERE age < 18 AND victim_status = 'confirmed' "
                                     "AND referred_date IS NULL AND year(identified_date) = 2025")
    assert cell(bands, year=2025, dim="referral", group=pdt.NOT_REFERRED) == not_referred


def test_child_friendly_space_figures_match_sessions_and_capacity(sample_db):
    out = frames(sample_db, pdt.protection_frames)
    monthly, capacity = out["cfs_monthly"], out["cfs_capacity"]
    for year, n in sql(sample_db, "SELECT year(session_date), count(*) FROM cfs_sessions GROUP BY ALL"):
        assert monthly.loc[monthly["year"] == year, "value"].sum() == n
        total = capacity[(capacity["dim"] == "") & (capacity["year"] == year)].iloc[0]
        assert total["numerator"] == n
        assert total["denominator"] == scalar(sample_db, "SELECT sum(capacity) FROM cfs_capacity WHERE year = ?",
                                              [year])
    opened = monthly[monthly["space_id"] == "CFS-10"]
    assert str(opened["month"].min()) == "2024-02-01"  # the heat map starts in the month a space opened
    assert (opened["value"] >= 0).all()
    services = out["cfs_services"]
    assert cell(services, year=2025, dim="service", group="counselling") == scalar(
        sample_db, "SELECT count(*) FROM cfs_sessions WHERE service = 'counselling' AND year(session_date) = 2025")
    sessions = out["parish_sessions"].set_index("group")
    by_parish = dict(sql(sample_db, "SELECT s.parish, count(*) FROM cfs_sessions c JOIN child_friendly_spaces s "
                                    "USING (space_id) GROUP BY ALL"))
    for parish in codes.PARISHES:
        assert sessions.at[parish, "value"] == by_parish.get(parish, 0)


def test_parish_and_sex_filters_apply_only_where_the_column_exists(sample_db):
    out = frames(sample_db, pdt.protection_frames, Filters(parish=("St Andrew",), sex=("female",)))
    victims = out["parish_victims"]
    assert list(victims.loc[victims["dim"] == "parish", "group"]) == ["St Andrew"]
    assert victims.iloc[0]["value"] == scalar(
        sample_db, "SELECT count(*) FROM victims WHERE parish = 'St Andrew' AND sex = 'female'")
    assert set(out["spaces"]["parish"]) == {"St Andrew"}
    sessions = out["cfs_capacity"][out["cfs_capacity"]["dim"] == ""].set_index("year")
    assert sessions.at[2025, "numerator"] == scalar(
        sample_db, "SELECT count(*) FROM cfs_sessions c JOIN child_friendly_spaces s USING (space_id) "
                   "WHERE s.parish = 'St Andrew' AND c.sex = 'female' AND year(session_date) = 2025")
    # capacity has no sex column: the whole capacity of St Andrew's spaces
    assert sessions.at[2025, "denominator"] == scalar(
        sample_db, "SELECT sum(capacity) FROM cfs_capacity WHERE parish = 'St Andrew' AND year = 2025")


# ----------------------------------------------------------------------------- prevention and partnership


def test_trainings_and_their_running_total_match_sql(sample_db):
    out = frames(sample_db, pdt.prevention_partnership_frames)
    trainings, running = out["trainings"], out["trainings_cumulative"]
    for year, audience, n in sql(sample_db, "SELECT year(start_date), audience, sum(participants) FROM trainings "
                                            "GROUP BY ALL"):
        assert cell(trainings, year=year, dim="audience", group=audience) == n
    assert cell(running, year=2025, dim="") == scalar(sample_db, "SELECT sum(participants) FROM trainings "
                                                                 "WHERE year(start_date) <= 2025")
    later = frames(sample_db, pdt.prevention_partnership_frames, Filters(year_from=2022))
    assert later["trainings"]["year"].min() == 2022
    assert cell(later["trainings_cumulative"], year=2023, dim="") == cell(running, year=2023, dim="")


def test_funding_against_the_envelope_and_the_burn_rate(sample_db):
    out = frames(sample_db, pdt.prevention_partnership_frames)
    cumulative, burn = out["funding_cumulative"], out["burn"].iloc[0]
    disbursed = scalar(sample_db, "SELECT sum(amount_usd) FROM funding WHERE donor = 'usg' AND kind = 'disbursement'")
    committed = scalar(sample_db, "SELECT sum(amount_usd) FROM funding WHERE donor = 'usg' AND kind = 'commitment'")
    assert cumulative["disbursed"].iloc[-1] == pytest.approx(float(disbursed))
    assert burn["committed"] == pytest.approx(float(committed))
    assert (cumulative["envelope"] == pdt.CPC_ENVELOPE_USD).all()
    assert burn["remaining"] == pytest.approx(max(pdt.CPC_ENVELOPE_USD - float(disbursed), 0))
    recent = out["funding_quarterly"].tail(pdt.BURN_QUARTERS)["disbursed"].mean()
    assert burn["rate_per_quarter"] == pytest.approx(recent)
    if burn["rate_per_quarter"] > 0:
        assert burn["months_to_spend_rest"] == pytest.approx(burn["remaining"] / (burn["rate_per_quarter"] / 3))
    else:
        assert burn["months_to_spend_rest"] is None
    assert burn["as_of"] == "2025 Q4"  # quarters run to the database's newest event
    by = out["funding_by"]
    for partner, amount in sql(sample_db, "SELECT partner, sum(amount_usd) FROM funding WHERE donor = 'usg' AND "
                                          "kind = 'disbursement' GROUP BY ALL"):
        row = by[(by["dim"] == "partner") & (by["group"] == partner)].iloc[0]
        assert row["disbursed"] == pytest.approx(float(amount))


def test_the_burn_rate_projects_the_rest_of_the_envelope(sample_db):
    early = frames(sample_db, pdt.prevention_partnership_frames, Filters(year_to=2021))["burn"].iloc[0]
    assert early["as_of"] == "2021 Q4"
    assert 0 < early["rate_per_quarter"] and early["remaining"] > 0
    assert early["months_to_spend_rest"] == pytest.approx(early["remaining"] / early["rate_per_quarter"] * 3)
    assert pc.burn_finding(early).startswith("At the recent pace")


# ----------------------------------------------------------------------------- suppression


def test_suppression_hides_small_counts_and_downloads_say_so(sample_db):
    for page in pdt.PAGE_BATCHES:
        with db.reading(sample_db) as con:
            exact, protected = pdt.split(pdt.pillar_frames(con, Filters(), page, MIN_CELL))
        for name, frame in protected.items():
            rule = pdt.PRIVACY[name]
            for column in (["value"] if rule.value_is_count else []) + list(rule.counted):
                values = frame[column].dropna()
                assert not values.between(1, MIN_CELL - 1).any(), (page, name, column)
            table = pdt.download_table(name, frame, MIN_CELL)
            text = table.to_csv(index=False)
            if frame["suppressed"].any() and (rule.value_is_count or rule.counted):
                assert f"<{MIN_CELL}" in text, name
            assert not exact[name]["suppressed"].any()
    referral = protected_frames(sample_db, "protection")["referral"]
    assert referral.loc[referral["suppressed"], ["value", "median_days"]].isna().all().all()


def protected_frames(path: Path, page: str) -> dict[str, pd.DataFrame]:
    with db.reading(path) as con:
        return pdt.split(pdt.pillar_frames(con, Filters(), page, MIN_CELL))[1]


# ----------------------------------------------------------------------------- the map


SPACES = pd.DataFrame({"space_id": ["A", "B", "C"], "name": ["Falmouth", "Kingston one", "Kingston two"],
                       "parish": ["Trelawny", "Kingston", "Kingston"], "operator": ["jcf", "indecom", "jcf"],
                       "opened_date": pd.to_datetime(["2022-03-04", "2022-11-15", "2024-02-20"]),
                       "closed_date": pd.NaT})


def test_parish_map_draws_fourteen_tiles_with_their_figures():
    values = pd.DataFrame({"parish": list(codes.PARISHES), "value": [float(10 * i) for i in range(14)],
                           "suppressed": False})
    values.loc[values["parish"] == "Hanover", ["value", "suppressed"]] = [float("nan"), True]
    fig = parish_map(values, SPACES, "Sessions by parish", "Sessions")
    go.Figure(fig.to_dict())  # every property valid
    tiles = [s for s in fig.layout.shapes if s.type == "rect"]
    assert sorted(s.name for s in tiles) == sorted(codes.PARISHES) and len(tiles) == 14
    text = {a.name: a.text for a in fig.layout.annotations}
    assert "<b>130</b>" in text["Westmoreland"]  # index 13 in codes.PARISHES
    assert "<b><5</b>" in text["Hanover"]
    assert set(TILES) == set(codes.PARISHES)
    spaces = next(t for t in fig.data if t.name == "Child-friendly space")
    assert len(spaces.x) == 3
    assert any("Kingston two" in h and "Jamaica Constabulary Force" in h and "20 Feb 2024" in h for h in spaces.text)
    assert any(t.name == "Fewer than 5 (hidden)" for t in fig.data)
    assert any(getattr(t.marker, "showscale", False) for t in fig.data)  # the colour bar


def test_parish_map_greys_out_parishes_outside_the_filter():
    fig = parish_map(pd.DataFrame({"parish": ["Kingston"], "value": [12.0]}), SPACES.iloc[1:], "t", "Victims")
    text = {a.name: a.text for a in fig.layout.annotations}
    assert "<b>12</b>" in text["Kingston"] and "<b>–</b>" in text["Portland"]
    assert any(t.name == "Not in the parish filter" for t in fig.data)


# ----------------------------------------------------------------------------- every chart


def all_figures(path: Path, safe: bool) -> dict[str, go.Figure]:
    out = {}
    with db.reading(path) as con:
        P, R, V = (pdt.split(pdt.pillar_frames(con, Filters(), page, MIN_CELL))[1 if safe else 0]
                   for page in ("prosecution", "protection", "prevention_partnership"))
    out["funnel"] = pc.funnel_chart(P["funnel"], 2025)
    out["stages"] = pc.stages_chart(P["funnel"])
    out["durations"] = pc.durations_chart(P["durations"], (2030, 12.0))
    out["outcomes"] = pc.outcomes_chart(P["outcomes"])
    out["sentences"] = pc.sentences_chart(P["sentences"])
    out["victims"] = pc.victims_status_chart(R["victims"])
    for dim in ("sex", "age_group", "nationality", "exploitation_type"):
        out[f"victims_{dim}"] = pc.victims_chart(R["victims"], dim)
    out["referral"] = pc.referral_chart(R["referral"], (2030, 95.0))
    out["referral_bands"] = pc.referral_bands_chart(R["referral_bands"])
    out["heatmap"] = pc.cfs_heatmap(R["cfs_monthly"])
    out["capacity"] = pc.capacity_chart(R["cfs_capacity"], (2030, 75.0))
    out["capacity_space"] = pc.capacity_by_space_chart(R["cfs_capacity"])
    out["services"] = pc.services_chart(R["cfs_services"])
    out["map"] = parish_map(pc.parish_values(R["parish_victims"]), R["spaces"], "t", "Victims")
    for dim in ("audience", "partner"):
        out[f"trainings_{dim}"] = pc.trainings_chart(V["trainings"], dim)
        out[f"cumulative_{dim}"] = pc.trainings_cumulative_chart(V["trainings_cumulative"], dim)
    out["funding"] = pc.funding_cumulative_chart(V["funding_cumulative"], V["burn"])
    out["burn"] = pc.burn_chart(V["funding_quarterly"], V["burn"])
    out["funding_partner"] = pc.funding_by_chart(V["funding_by"], "partner")
    out["funding_pillar"] = pc.funding_by_chart(V["funding_by"], "pillar")
    return out


@pytest.mark.parametrize("safe", [False, True])
def test_every_chart_is_valid_with_a_title_and_axis_titles(sample_db, safe):
    for name, fig in all_figures(sample_db, safe).items():
        go.Figure(fig.to_dict())  # built unvalidated for speed: validate every property here
        layout = fig.to_dict()["layout"]
        assert layout["title"]["text"], name
        if name not in ("map", "funnel"):
            titled = [layout.get(a, {}).get("title", {}).get("text") for a in ("xaxis", "yaxis")]
            assert any(titled), name


def test_titles_state_findings(sample_db):
    figs = all_figures(sample_db, False)
    investigations = scalar(sample_db, "SELECT count(*) FROM cases WHERE year(opened_date) = 2025")
    assert figs["funnel"].layout.title.text.startswith(f"2025: {investigations:,} investigations opened")
    assert "victims identified in 2025" in figs["victims"].layout.title.text
    assert "CPC envelope" in figs["funding"].layout.title.text


# ----------------------------------------------------------------------------- the pages (AppTest)


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
    found = set()
    for m in re.finditer(r"(?<![\w<.$%,-])(\d[\d,]*)(?![\w.%,-])( (?:days?|months?|quarters?|years?))?", text):
        if not m.group(2):
            found.add(m.group(1))
    return found


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_their_charts(open_page, page):
    at = open_page(page)
    assert [e.value for e in at.exception] == [] and [e.value for e in at.error] == []
    expected = {"pages/prosecution.py": 5, "pages/protection.py": 12, "pages/prevention_partnership.py": 6}[page]
    assert len(at.get("plotly_chart")) == expected
    assert any("SAMPLE DATA" in m.value for m in at.markdown)
    assert any("On track" in m.value or "Acceleration" in m.value or "progress" in m.value for m in at.markdown)


def test_prosecution_page_shows_what_sql_counts_and_follows_the_parish_filter(open_page, sample_db):
    at = open_page("pages/prosecution.py", {"filter_parish": ["Kingston"]})
    stages = json.loads(at.get("plotly_chart")[1].proto.spec)
    trace = next(t for t in stages["data"] if t["name"] == "Investigations opened")
    shown = dict(zip(trace["x"], trace["customdata"]))
    expected = scalar(sample_db, "SELECT count(*) FROM cases WHERE year(opened_date) = 2022 AND parish = 'Kingston'")
    assert shown[2022] == f"{expected:,}"
    assert any("Parish Kingston" in c.value for c in at.caption)


def test_protection_map_switches_to_victims(open_page, sample_db):
    at = open_page("pages/protection.py")
    at.segmented_control(key="protection_map").set_value("parish_victims").run()
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert spec["layout"]["title"]["text"].startswith("Victims identified by parish")
    texts = {a["name"]: a["text"] for a in spec["layout"]["annotations"]}
    st_andrew = scalar(sample_db, "SELECT count(*) FROM victims WHERE parish = 'St Andrew'")
    assert f"<b>{st_andrew:,}</b>" in texts["St Andrew"]


@pytest.mark.parametrize("page", PAGES)
def test_presentation_safe_shows_no_count_below_five(open_page, downloads, page):
    at = open_page(page, {"filter_safe": True})
    assert [e.value for e in at.exception] == []
    for text in page_text(at):
        assert not counts_in(text) & SMALL, text
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for trace in spec["data"]:
            if trace.get("type") == "bar" and isinstance(trace.get("y"), list) and "%" not in json.dumps(
                    spec["layout"].get("yaxis", {})) and "US$" not in json.dumps(spec["layout"].get("yaxis", {})):
                assert not {v for v in trace["y"] if isinstance(v, (int, float)) and 1 <= v < MIN_CELL}, trace["name"]
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
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
        key = name.removeprefix(prefix).removesuffix(".csv")
        rule = pdt.PRIVACY[key]
        for column in (["value"] if rule.value_is_count else []) + list(rule.counted):
            for row in rows:
                cell_text = row.get(column, "")
                hidden += cell_text == f"<{MIN_CELL}"
                if cell_text and cell_text != f"<{MIN_CELL}":
                    assert not 1 <= float(cell_text) < MIN_CELL, (name, column, row)
    if page != "pages/prevention_partnership.py":
        assert hidden, "the sample has small counts: some must read <5"


def test_warm_reruns_are_fast(open_page):
    for page in PAGES:
        at = open_page(page)
        start = time.perf_counter()
        at.run()
        assert time.perf_counter() - start < 1.5, page  # budget 0.3 s; generous for a busy CI machine
