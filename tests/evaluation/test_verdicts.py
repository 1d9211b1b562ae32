"""Verdicts that state their evidence (issue 8): too few cases, missed milestones,
projections within bounds, subsets not judged against national targets. The progress
method's own status is unchanged; the verdict is what screens show and the pillar counts."""
from __future__ import annotations

import json

import pytest

from cpc_monitor.definitions.indicators import load_indicators, parse_indicators
from cpc_monitor.evaluation import progress, verdicts
from cpc_monitor.evaluation.engine import evaluate
from cpc_monitor.evaluation.measures import Filters
from helpers import BASE_YAML, ROOT, run_cli


def share(series: dict[int, float]) -> progress.Assessment:
    return progress.assess(series, direction="increase", base_year=2018, target=70, target_year=2030)


def test_the_same_rate_on_one_case_is_too_few_and_on_forty_is_judged():
    a = share({2018: 33, 2025: 100})
    one = verdicts.judge(a.status.value, a, [], cases=1, minimum=10, subset=False, unit="percent", ceiling=None)
    forty = verdicts.judge(a.status.value, a, [], cases=40, minimum=10, subset=False, unit="percent", ceiling=None)
    assert a.status.value == "target_achieved"
    assert one.code == "too_few_cases" and not one.judged
    assert one.reason == "the 2025 value rests on 1 case, fewer than the 10 the indicator file asks for before judging"
    assert forty.code == "target_achieved" and forty.judged


def test_a_missed_milestone_is_never_hidden_under_on_track():
    a = progress.assess({2018: 40, 2022: 60, 2025: 67}, direction="increase", base_year=2018, target=95,
                        target_year=2030)
    checks = progress.milestone_checks({2018: 40, 2022: 60, 2025: 67}, [(2025, 80)], "increase")
    v = verdicts.judge(a.status.value, a, checks, cases=40, minimum=10, subset=False, unit="percent", ceiling=None)
    assert v.code == a.status.value and v.missed_milestone == (2025, 80)
    met = progress.milestone_checks({2018: 40, 2025: 85}, [(2025, 80)], "increase")
    assert verdicts.judge(a.status.value, a, met, 40, 10, False, "percent", None).missed_milestone is None


def test_a_share_never_projects_past_100_percent():
    a = share({2018: 20, 2021: 60, 2024: 90})
    assert a.projected > 100
    v = verdicts.judge(a.status.value, a, [], 40, 10, False, "percent", None)
    assert v.projected == 100 and v.bound == 100
    assert 2024 < v.bound_year <= 2030


def test_a_running_total_stops_at_its_declared_ceiling():
    a = progress.assess({2018: 1e6, 2022: 5e6, 2024: 6.5e6}, direction="increase", base_year=2018, target=6.697e6,
                        target_year=2030)
    v = verdicts.judge(a.status.value, a, [], None, 10, False, "usd", 6_697_000)
    assert a.projected > 6_697_000 and v.projected == 6_697_000


def test_a_subset_is_not_judged_against_national_targets():
    a = share({2018: 33, 2025: 60})
    v = verdicts.judge(a.status.value, a, [], 40, 10, subset=True, unit="percent", ceiling=None)
    assert v.code == "not_judged_subset" and not v.judged


@pytest.fixture(scope="module")
def iset():
    return load_indicators(ROOT / "indicators.yaml")


def test_on_the_sample_no_verdict_rests_on_fewer_cases_than_the_file_allows(sample_db, iset):
    ev = evaluate(sample_db, iset, breakdowns=False)
    for r in ev.results:
        v = r.verdict
        if v.cases is not None and v.cases < iset.defaults.min_events and r.status not in ("monitoring",
                                                                                            "insufficient_data"):
            assert v.code == "too_few_cases", r.id
    rate = ev.result("prosecution.conviction_rate")
    assert rate.status == "target_achieved" and rate.verdict.code == "too_few_cases"
    # the pillar's score leaves out what was not judged, and inputs (money, trainings)
    prosecution = ev.pillars()["prosecution"]
    judged = [r for r in ev.results if r.pillar == "prosecution" and r.kind == "outcome"
              and r.verdict.code in progress.STATUSES
              and r.verdict.code not in ("monitoring", "insufficient_data")]
    assert prosecution.scored == len(judged) < 6
    envelope = ev.result("partnership.usg_disbursed")
    assert envelope.assessment.projected > 6_697_000 and envelope.verdict.projected == 6_697_000
    for r in ev.results:
        if r.unit == "percent" and r.verdict.projected is not None:
            assert 0 <= r.verdict.projected <= 100, r.id


def test_a_parish_filter_shows_values_but_does_not_judge(sample_db, iset):
    ev = evaluate(sample_db, iset, breakdowns=False, filters=Filters(parish=("Kingston",)))
    kingston = ev.result("prosecution.investigations_opened")
    assert kingston.verdict.code == "not_judged_subset" and kingston.latest[1] is not None
    # funding has no parish: the filter does not touch it, so it is still judged
    assert ev.result("partnership.usg_disbursed").verdict.code == "target_achieved"


def test_evaluate_json_carries_the_verdict_and_keeps_the_method_status(sample_db):
    r = run_cli("evaluate", "--db", str(sample_db), "--id", "prosecution.conviction_rate", "--format", "json")
    row = json.loads(r.stdout)["indicators"][0]
    assert row["status"] == "target_achieved"
    assert row["verdict"]["status"] == "too_few_cases" and row["verdict"]["min_events"] == 10
    hidden = run_cli("evaluate", "--db", str(sample_db), "--id", "prosecution.conviction_rate", "--suppress",
                     "--format", "json")
    verdict = json.loads(hidden.stdout)["indicators"][0]["verdict"]
    assert verdict["cases"] is None and "1 case" not in verdict["reason"]


def test_exact_intervals_are_the_textbook_ones():
    low, high = verdicts.exact_interval(54)  # Garwood's Poisson interval
    assert (round(low, 2), round(high, 2)) == (40.57, 70.46)
    low, high = verdicts.exact_interval(1, 1)  # Clopper-Pearson: 1 of 1
    assert (round(low, 4), high) == (0.025, 1.0)
    assert verdicts.exact_interval(0, 12)[0] == 0.0 and verdicts.exact_interval(0)[0] == 0.0


def test_an_interval_that_spans_on_and_off_track_cannot_be_judged():
    a = progress.assess({2018: 30, 2025: 54}, direction="increase", base_year=2018, target=90, target_year=2030)
    spans = verdicts.Interval(41, 70, "acceleration_needed", "on_track")
    v = verdicts.judge(a.status.value, a, [], cases=54, minimum=10, subset=False, unit="count", ceiling=None,
                       interval=spans)
    assert v.code == "too_few_cases" and not v.judged
    assert v.reason == ("chance alone could move the 2025 value between 41 and 70 (exact 95% interval), which is "
                        "on track at one end and off track at the other")
    inside = verdicts.Interval(41, 70, "acceleration_needed", "limited_progress")
    assert verdicts.judge(a.status.value, a, [], 54, 10, False, "count", None, inside).code == a.status.value


def test_on_the_sample_an_interval_decides_the_investigations(sample_db, iset):
    r = evaluate(sample_db, iset, breakdowns=False, ids=["prosecution.investigations_opened"]).results[0]
    year, value = r.latest
    low, high = verdicts.exact_interval(value)
    assert (r.verdict.interval.low, r.verdict.interval.high) == pytest.approx((low, high))
    on_course = [s in verdicts.ON_COURSE for s in (r.verdict.interval.status_low, r.verdict.interval.status_high)]
    assert r.verdict.code == ("too_few_cases" if len(set(on_course)) == 2 else r.status)
    shown = json.loads(run_cli("evaluate", "--db", str(sample_db), "--id", r.id, "--format", "json").stdout)
    assert shown["indicators"][0]["verdict"]["interval"]["low"] == pytest.approx(low, abs=0.01)


SUBSET_YAML = BASE_YAML.replace("""    targets:
      - {year: 2025, value: 15, source: assumed}
      - {year: 2030, value: 25, source: assumed}
""", """    targets:
      - {year: 2025, value: 15, source: assumed}
      - {year: 2030, value: 25, source: assumed}
    targets_by:
      sex:
        female:
          baseline: {year: 2018, value: 3, source: assumed}
          targets: [{year: 2030, value: 18, source: assumed}]
""")


def test_a_subset_with_targets_of_its_own_is_judged_against_them(sample_db):
    iset = parse_indicators(SUBSET_YAML)
    assert not iset.errors, [str(e) for e in iset.errors]
    girls = evaluate(sample_db, iset, breakdowns=False, filters=Filters(sex=("female",))).results[0]
    assert girls.plan.scope == "sex female" and girls.target == (2030, 18)
    assert girls.verdict.code != "not_judged_subset" and girls.assessment.target == 18
    assert girls.assessment.base_value == 3 and girls.assessment.base_year == 2018
    boys = evaluate(sample_db, iset, breakdowns=False, filters=Filters(sex=("male",))).results[0]
    both = evaluate(sample_db, iset, breakdowns=False, filters=Filters(sex=("female", "male"))).results[0]
    assert boys.verdict.code == both.verdict.code == "not_judged_subset"
    national = evaluate(sample_db, iset, breakdowns=False).results[0]
    assert national.plan.scope == "" and national.target == (2030, 25)


def test_a_subsets_targets_follow_the_same_rules_on_their_lines():
    text = SUBSET_YAML.replace("targets: [{year: 2030, value: 18, source: assumed}]",
                               "targets: [{year: 2030, value: 18, source: assumed}, {year: 2025, value: 9, source: assumed}]")
    iset = parse_indicators(text)
    line = text[:text.index("{year: 2025, value: 9")].count("\n") + 1
    assert [(e.line, e.message) for e in iset.errors] == [
        (line, "target years must increase: 2025 comes after 2030. List the targets from the earliest year to the latest.")]
    wrong = parse_indicators(SUBSET_YAML.replace("      sex:\n        female:", "      gender:\n        female:"))
    assert [e.message for e in wrong.errors] == [
        "the key under `targets_by` is 'gender', which is not allowed; "
        "use one of: parish, sex, age_group, exploitation_type."]


def test_the_explorer_says_what_happened_in_plain_words_with_units(sample_db, iset):
    from cpc_monitor.evaluation import privacy
    from cpc_monitor.present import charts
    ev = evaluate(sample_db, iset, breakdowns=False)
    r = ev.result("protection.referred_within_2_days")
    a = r.assessment
    before = r.series()[a.base_year]  # the observed value, as the chart's line shows it
    per_year = (a.current_value - before) / (a.current_year - a.base_year)
    need = (r.target[1] - a.current_value) / (r.target[0] - a.current_year)
    assert charts.explanation(r, False) == (
        f"Rose from {before:.1f}% in {a.base_year} to {a.current_value:.0f}% in {a.current_year}, about "
        f"{per_year:.1f} points a year. Reaching {r.target[1]:.0f}% by {r.target[0]} needs a rise of {need:.1f} "
        "points a year from now.")
    inv = ev.result("prosecution.investigations_opened")
    observed = inv.series()[inv.assessment.base_year]
    assert charts.explanation(inv, False).startswith(f"Rose from {observed:.0f} in 2018")
    assert charts.series_title(inv, privacy.result_values(inv, False)).startswith(f"Rose from {observed:.0f} in 2018")
    money = charts.explanation(ev.result("partnership.usg_disbursed"), False)
    assert money.endswith("is already met.") and "US\\$" in money and "ratio" not in money


def test_the_scorecard_can_show_only_the_missed_milestones(sample_db, iset):
    from cpc_monitor.present import charts
    from cpc_monitor.evaluation import privacy
    ev = evaluate(sample_db, iset, breakdowns=False)
    table = charts.scorecard(ev, False, {r.id: privacy.result_values(r, False) for r in ev.results})
    missed = charts.scorecard_rows(table, "missed a milestone")
    expected = [r.id for r in ev.results if r.verdict is not None and r.verdict.missed_milestone]
    assert missed["id"].tolist() == expected and expected
    assert all("missed the" in s for s in missed["Status"])
    too_few = charts.scorecard_rows(table, "too few cases to judge")
    assert too_few["id"].tolist() == [r.id for r in ev.results if r.verdict.code == "too_few_cases"]
    assert len(charts.scorecard_rows(table, "all")) == len(ev.results)


def test_safe_mode_states_no_missed_milestone_whose_year_it_hides(sample_db, iset):
    from cpc_monitor.evaluation import privacy
    from cpc_monitor.present import charts
    ev = evaluate(sample_db, iset, breakdowns=False)
    convictions = ev.result("prosecution.convictions")
    year, _ = convictions.verdict.missed_milestone
    shown = {r.id: privacy.result_values(r, True) for r in ev.results}
    assert year in privacy.hidden_years(shown[convictions.id])  # the sample's convictions are small counts
    table = charts.scorecard(ev, True, shown).set_index("id")
    assert "missed" not in table.loc[convictions.id, "Status"] and not table.loc[convictions.id, "missed"]
    assert table.loc[convictions.id, "Next milestone"].endswith("value hidden")
    exact = charts.scorecard(ev, False, {r.id: privacy.result_values(r, False) for r in ev.results}).set_index("id")
    assert f"missed the {year} milestone" in exact.loc[convictions.id, "Status"] and exact.loc[convictions.id, "missed"]
