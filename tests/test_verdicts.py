"""Verdicts that state their evidence (issue 8): too few cases, missed milestones,
projections within bounds, subsets not judged against national targets. The progress
method's own status is unchanged; the verdict is what screens show and the pillar counts."""
from __future__ import annotations

import json

import pytest

from cpc_monitor.definitions.indicators import load_indicators
from cpc_monitor.evaluation import progress, verdicts
from cpc_monitor.evaluation.engine import evaluate
from cpc_monitor.evaluation.measures import Filters
from helpers import ROOT, run_cli


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
