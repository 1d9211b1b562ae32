"""Progress assessment against design/progress.md: the worked examples, every threshold
on both sides, the base-year and fallback rules, scores, pillar bands and milestones."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpc_monitor.evaluation.progress import (
    STATUSES, Assessment, MilestoneCheck, PillarRollup, Status, assess, milestone_checks, pillar_rollup, score,
)

EXAMPLE = {2018: 30, 2019: 36, 2021: 43, 2024: 61}  # the worked example of progress.md


# --- worked examples -------------------------------------------------------------------

def test_example_opensdg_on_track() -> None:
    a = assess(EXAMPLE, "increase", base_year=2018, target=100, target_year=2030)
    assert a.status is Status.ON_TRACK
    assert a.method_used == "opensdg"
    assert a.rate == pytest.approx(0.1256, abs=5e-5)
    assert a.required_rate == pytest.approx(0.1055, abs=5e-5)
    assert a.ratio == pytest.approx(1.190, abs=5e-4)
    assert a.projected == pytest.approx(124.0, abs=0.05)
    assert a.status_to_date == pytest.approx(31 / 70)
    assert round(a.status_to_date, 3) == 0.443
    assert (a.base_year, a.base_value, a.current_year, a.current_value) == (2018, 30, 2024, 61)
    assert a.years_used == (2018, 2019, 2021, 2024)
    assert a.values_used == (30, 36, 43, 61)
    assert a.note is None
    assert a.explain() == ("From 30 in 2018 to 61 in 2024 the value grew 12.6% a year; reaching 100 by 2030 "
                           "needs 10.6% a year (ratio 1.19): on track.")


def test_example_linear_acceleration_needed() -> None:
    a = assess(EXAMPLE, "increase", base_year=2018, target=100, method="linear")
    assert a.status is Status.ACCELERATION_NEEDED
    assert a.ratio == pytest.approx((31 / 6) / (70 / 12))
    assert round(a.ratio, 3) == 0.886
    assert a.projected == pytest.approx(92.0)
    assert a.status_to_date == pytest.approx(31 / 70)
    assert a.explain() == ("From 30 in 2018 to 61 in 2024 the value grew 5.17 a year; reaching 100 by 2030 "
                           "needs 5.83 a year (ratio 0.886): acceleration needed.")


@pytest.mark.parametrize("method", ["opensdg", "linear"])
def test_example_target_50_achieved(method: str) -> None:
    a = assess(EXAMPLE, "increase", base_year=2018, target=50, method=method)
    assert a.status is Status.TARGET_ACHIEVED
    assert a.ratio is None
    assert a.score == 5.0
    assert a.explain() == "The latest value, 61 in 2024, meets the target of 50: target achieved."


def test_example_single_value_insufficient_even_when_met() -> None:
    a = assess({2024: 61}, "increase", target=50)
    assert a.status is Status.INSUFFICIENT_DATA
    assert (a.ratio, a.projected, a.score) == (None, None, None)
    assert a.years_used == (2024,)
    assert a.note == "Only 2024 has a value from the base year on; at least two years are needed."
    assert a.explain() == a.note + " Status: insufficient data."


# --- thresholds: at and either side, both methods ----------------------------------------
# Linear: base 100 in 2020, target 300 in 2030 needs 20 a year; one year later R = (y - 100) / 20.
# Opensdg: base 1 in 2028, target 441 in 2030 needs sqrt(441) - 1 = 20 (exact); R = (y - 1) / 20.
RATIO_CASES = [
    # method, current value, exact R (None: only near it), status
    ("linear", 119.0, 0.95, Status.ON_TRACK),
    ("linear", 119.1, None, Status.ON_TRACK),
    ("linear", 118.9, None, Status.ACCELERATION_NEEDED),
    ("linear", 112.0, 0.6, Status.ACCELERATION_NEEDED),
    ("linear", 112.1, None, Status.ACCELERATION_NEEDED),
    ("linear", 111.9, None, Status.LIMITED_PROGRESS),
    ("linear", 100.0, 0.0, Status.LIMITED_PROGRESS),
    ("linear", 100.1, None, Status.LIMITED_PROGRESS),
    ("linear", 99.9, None, Status.DETERIORATION),
    ("opensdg", 20.0, 0.95, Status.ON_TRACK),
    ("opensdg", 20.1, None, Status.ON_TRACK),
    ("opensdg", 19.9, None, Status.ACCELERATION_NEEDED),
    ("opensdg", 13.0, 0.6, Status.ACCELERATION_NEEDED),
    ("opensdg", 13.1, None, Status.ACCELERATION_NEEDED),
    ("opensdg", 12.9, None, Status.LIMITED_PROGRESS),
    ("opensdg", 1.0, 0.0, Status.LIMITED_PROGRESS),
    ("opensdg", 1.01, None, Status.LIMITED_PROGRESS),
    ("opensdg", 0.99, None, Status.DETERIORATION),
]


@pytest.mark.parametrize("method,current,exact,status", RATIO_CASES)
def test_ratio_thresholds(method: str, current: float, exact: float | None, status: Status) -> None:
    if method == "linear":
        a = assess({2020: 100, 2021: current}, "increase", target=300, target_year=2030, method="linear")
        expected = (current - 100) / 20
    else:
        a = assess({2028: 1, 2029: current}, "increase", target=441, target_year=2030)
        expected = (current - 1) / 20
    assert a.method_used == method
    assert a.ratio == (exact if exact is not None else pytest.approx(expected))
    assert a.status is status


@pytest.mark.parametrize("current,status", [
    (281.0, Status.ON_TRACK), (280.9, Status.ON_TRACK), (281.1, Status.ACCELERATION_NEEDED),
    (288.0, Status.ACCELERATION_NEEDED), (288.1, Status.LIMITED_PROGRESS),
    (300.0, Status.LIMITED_PROGRESS), (300.1, Status.DETERIORATION),
])
def test_ratio_thresholds_decrease_linear(current: float, status: Status) -> None:
    # Base 300 in 2020, target 100 in 2030 needs -20 a year; one year later R = (300 - y) / 20.
    a = assess({2020: 300, 2021: current}, "decrease", target=100, method="linear")
    assert a.ratio == pytest.approx((300 - current) / 20)
    assert a.status is status


@pytest.mark.parametrize("current,status", [
    (21.0, Status.ON_TRACK), (40.0, Status.ON_TRACK), (100.0, Status.ACCELERATION_NEEDED),
    (300.0, Status.LIMITED_PROGRESS), (441.0, Status.LIMITED_PROGRESS), (500.0, Status.DETERIORATION),
])
def test_ratio_decrease_opensdg(current: float, status: Status) -> None:
    # Base 441 in 2028, target 1 in 2030: the growth rates are both negative, so R is positive.
    a = assess({2028: 441, 2029: current}, "decrease", target=1)
    expected = (current / 441 - 1) / ((1 / 441) ** 0.5 - 1)
    assert a.ratio == pytest.approx(expected)
    assert a.status is status


# Without a target. Linear: base 100, P = (y - 100) / 100. Opensdg: base 1, P = y - 1
# (a yearly growth rate, which cannot be exactly 0.015 in floating point: 1.015 - 1 is
# 0.015000000000000124; the edges absorb that noise, so an exact 0.5% growth is not limited).
PACE_CASES = [
    ("linear", 101.5, Status.ON_TRACK),
    ("linear", 101.6, Status.ON_TRACK),
    ("linear", 101.4, Status.ACCELERATION_NEEDED),
    ("linear", 100.5, Status.ACCELERATION_NEEDED),
    ("linear", 100.6, Status.ACCELERATION_NEEDED),
    ("linear", 100.4, Status.LIMITED_PROGRESS),
    ("linear", 100.0, Status.LIMITED_PROGRESS),
    ("linear", 100.1, Status.LIMITED_PROGRESS),
    ("linear", 99.9, Status.DETERIORATION),
    ("opensdg", 1.015, Status.ON_TRACK),
    ("opensdg", 1.016, Status.ON_TRACK),
    ("opensdg", 1.014, Status.ACCELERATION_NEEDED),
    ("opensdg", 1.005, Status.ACCELERATION_NEEDED),
    ("opensdg", 1.006, Status.ACCELERATION_NEEDED),
    ("opensdg", 1.004, Status.LIMITED_PROGRESS),
    ("opensdg", 1.0, Status.LIMITED_PROGRESS),
    ("opensdg", 1.001, Status.LIMITED_PROGRESS),
    ("opensdg", 0.999, Status.DETERIORATION),
]


@pytest.mark.parametrize("method,current,status", PACE_CASES)
def test_pace_thresholds_without_target(method: str, current: float, status: Status) -> None:
    base = 100.0 if method == "linear" else 1.0
    a = assess({2020: base, 2021: current}, "increase", method=method)
    assert a.ratio == pytest.approx((current - base) / base)
    assert a.status is status
    assert a.target is None and a.status_to_date is None


def test_pace_thresholds_exact_for_linear() -> None:
    assert assess({2020: 100, 2021: 101.5}, "increase", method="linear").ratio == 0.015
    assert assess({2020: 100, 2021: 100.5}, "increase", method="linear").ratio == 0.005
    assert assess({2020: 100, 2021: 100}, "increase", method="linear").ratio == 0.0


@pytest.mark.parametrize("method,base,current,status", [
    ("linear", 100.0, 98.5, Status.ON_TRACK),
    ("linear", 100.0, 99.5, Status.ACCELERATION_NEEDED),
    ("linear", 100.0, 99.8, Status.LIMITED_PROGRESS),
    ("linear", 100.0, 100.1, Status.DETERIORATION),
    ("opensdg", 1.0, 0.985, Status.ON_TRACK),
    ("opensdg", 1.0, 0.995, Status.ACCELERATION_NEEDED),
    ("opensdg", 1.0, 0.998, Status.LIMITED_PROGRESS),
    ("opensdg", 1.0, 1.001, Status.DETERIORATION),
])
def test_pace_decrease_is_negated(method: str, base: float, current: float, status: Status) -> None:
    a = assess({2020: base, 2021: current}, "decrease", method=method)
    assert a.ratio == pytest.approx((base - current) / base)
    assert a.status is status


def test_pace_linear_is_relative_to_at_least_one() -> None:
    # A base below 1 in absolute value divides by 1, so small counts do not explode.
    a = assess({2020: 0.5, 2022: 0.52}, "increase", method="linear")
    assert a.ratio == pytest.approx(0.01)
    assert a.status is Status.ACCELERATION_NEEDED


# --- order of checks, direction, base years ---------------------------------------------

@pytest.mark.parametrize("series", [EXAMPLE, {2024: 61}, {}, {2018: 0, 2024: 5}])
def test_monitor_comes_first_whatever_the_data(series: dict) -> None:
    a = assess(series, "monitor", target=50)
    assert a.status is Status.MONITORING
    assert a.ratio is None and a.score is None


def test_monitor_still_shows_trend_and_projection() -> None:
    a = assess(EXAMPLE, "monitor")
    assert a.projected == pytest.approx(124.03, abs=0.01)
    assert a.explain() == ("From 30 in 2018 to 61 in 2024 the value grew 12.6% a year; "
                           "this indicator is monitored without a judgement.")
    assert assess({2024: 61}, "monitor").explain() == "This indicator is monitored without a judgement."


def test_decrease_target_achieved_and_not() -> None:
    assert assess({2018: 90, 2024: 40}, "decrease", target=40).status is Status.TARGET_ACHIEVED
    a = assess({2018: 90, 2024: 70}, "decrease", target=40)
    assert a.status is Status.ACCELERATION_NEEDED
    assert a.ratio == pytest.approx(((70 / 90) ** (1 / 6) - 1) / ((40 / 90) ** (1 / 12) - 1))
    assert a.status_to_date == pytest.approx(0.4)
    assert a.explain() == ("From 90 in 2018 to 70 in 2024 the value fell 4.1% a year; reaching 40 by 2030 "
                           "needs a fall of 6.53% a year (ratio 0.628): acceleration needed.")


def test_negative_values_use_growth_rates() -> None:
    # -10 to -5 is an increase; the growth rate of the magnitude is negative, as is the needed one.
    a = assess({2018: -10, 2024: -5}, "increase", target=-1)
    assert a.method_used == "opensdg"
    assert a.ratio == pytest.approx((0.5 ** (1 / 6) - 1) / (0.1 ** (1 / 12) - 1))
    assert a.status is Status.ACCELERATION_NEEDED


def test_base_year_none_is_first_year_with_a_value() -> None:
    a = assess({2016: None, 2017: math.nan, 2019: 30, 2024: 60}, "increase")
    assert (a.base_year, a.base_value) == (2019, 30)
    assert a.years_used == (2019, 2024)


def test_base_year_without_value_moves_to_next_year_with_one() -> None:
    a = assess({2016: 10, 2017: 20, 2019: 30, 2024: 60}, "increase", base_year=2018)
    assert (a.base_year, a.base_value) == (2019, 30)
    assert a.years_used == (2019, 2024)


def test_base_year_with_value_drops_earlier_years() -> None:
    a = assess(EXAMPLE, "increase", base_year=2019, target=100)
    assert a.years_used == (2019, 2021, 2024)
    assert a.values_used == (36, 43, 61)


def test_base_year_before_all_data_takes_first_year() -> None:
    assert assess(EXAMPLE, "increase", base_year=2000).base_year == 2018


def test_base_year_after_latest_value_is_insufficient() -> None:
    a = assess(EXAMPLE, "increase", base_year=2026, target=100)
    assert a.status is Status.INSUFFICIENT_DATA
    assert a.base_year is None and a.years_used == ()
    assert a.note == "The base year 2026 is after the latest year with a value, 2024."


def test_base_year_equal_to_latest_year_is_insufficient() -> None:
    a = assess(EXAMPLE, "increase", base_year=2024, target=50)  # met, but one year only
    assert a.status is Status.INSUFFICIENT_DATA
    assert a.status_to_date == 0.0


def test_no_values_is_insufficient() -> None:
    a = assess({2020: None, 2021: math.nan}, "increase", target=5)
    assert a.status is Status.INSUFFICIENT_DATA
    assert a.note == "There are no values."
    assert a.current_year is None and a.status_to_date is None


def test_target_year_not_after_base_year_is_insufficient() -> None:
    a = assess(EXAMPLE, "increase", target=100, target_year=2018)
    assert a.status is Status.INSUFFICIENT_DATA
    assert a.note == "The target year 2018 is not after the base year 2018, so no yearly rate can be required."


def test_none_and_nan_are_ignored() -> None:
    series = {2018: 30, 2019: None, 2020: math.nan, 2021: 43, 2024: 61, 2025: None}
    a = assess(series, "increase", target=100)
    assert a.years_used == (2018, 2021, 2024)
    assert a.current_year == 2024
    assert a.ratio == assess({2018: 30, 2021: 43, 2024: 61}, "increase", target=100).ratio


def test_nan_target_is_no_target() -> None:
    a = assess(EXAMPLE, "increase", target=math.nan)
    assert a.target is None
    assert a.ratio == pytest.approx((61 / 30) ** (1 / 6) - 1)


@pytest.mark.parametrize("kwargs,message", [
    ({"direction": "up"}, "Unknown direction 'up': use one of increase, decrease, monitor."),
    ({"direction": "increase", "method": "cagr"}, "Unknown method 'cagr': use one of opensdg, linear."),
])
def test_invalid_choice_raises(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        assess(EXAMPLE, **kwargs)
    assert str(error.value) == message


# --- zero targets, fallbacks, target equal to base ---------------------------------------

def test_zero_target_is_0_001_for_growth_rates() -> None:
    a = assess({2018: 10, 2024: 5}, "decrease", target=0)
    assert a.target == 0
    assert a.required_rate == pytest.approx((0.001 / 10) ** (1 / 12) - 1)
    assert a.ratio == pytest.approx((0.5 ** (1 / 6) - 1) / ((0.0001) ** (1 / 12) - 1))
    assert a.status is Status.LIMITED_PROGRESS
    assert a.status_to_date == pytest.approx(0.5)  # against the real target, 0


def test_zero_target_stays_zero_for_linear() -> None:
    a = assess({2018: 10, 2024: 5}, "decrease", target=0, method="linear")
    assert a.ratio == 1.0
    assert a.status is Status.ON_TRACK
    assert a.projected == pytest.approx(0.0)


def test_zero_target_reached() -> None:
    assert assess({2018: 10, 2024: 0}, "decrease", target=0).status is Status.TARGET_ACHIEVED


def test_base_zero_falls_back_to_linear_with_note() -> None:
    a = assess({2018: 0, 2024: 6}, "increase", target=12)
    assert a.method_used == "linear"
    assert a.note == "The base value is 0, so growth rates cannot be used: judged by the linear method."
    assert a.ratio == 1.0
    assert a.status is Status.ON_TRACK
    assert a.projected == pytest.approx(12.0)
    assert a.explain().startswith(a.note + " From 0 in 2018 to 6 in 2024 the value grew 1 a year;")


def test_opposite_signs_fall_back_to_linear() -> None:
    a = assess({2018: -4, 2024: 2}, "increase")
    assert a.method_used == "linear"
    assert a.note == ("The base value and the latest value have opposite signs, so growth rates "
                      "cannot be used: judged by the linear method.")
    assert a.ratio == pytest.approx(1 / 4)


def test_target_of_opposite_sign_after_substitution_falls_back() -> None:
    # A target of 0 becomes 0.001 for growth rates: positive against a negative base.
    a = assess({2018: -10, 2024: -5}, "increase", target=0)
    assert a.method_used == "linear"
    assert a.note.startswith("The base value and the target have opposite signs")
    assert a.ratio == pytest.approx((5 / 6) / (10 / 12))


def test_linear_requested_has_no_fallback_note() -> None:
    assert assess({2018: 0, 2024: 6}, "increase", method="linear").note is None


@pytest.mark.parametrize("method", ["opensdg", "linear"])
def test_target_equal_to_base_not_met_is_deterioration(method: str) -> None:
    a = assess({2018: 30, 2024: 25}, "increase", target=30, method=method)
    assert a.status is Status.DETERIORATION
    assert a.ratio is None and a.status_to_date is None
    assert a.score == -3.75
    assert a.note == "The target equals the base value (30) and has not been met, so the value moved the wrong way."


def test_target_equal_to_base_and_met_is_achieved() -> None:
    assert assess({2018: 30, 2024: 30}, "increase", target=30).status is Status.TARGET_ACHIEVED


# --- projection and status to date ------------------------------------------------------

def test_projection_none_when_it_overflows() -> None:
    assert assess({2020: 1, 2021: 1e200}, "increase").projected is None


def test_projection_none_for_zero_to_a_negative_power() -> None:
    # Eradicated by 2024, projected back to 2020 at a growth rate of -100%: undefined.
    a = assess({2018: 10, 2024: 0}, "decrease", target_year=2020)
    assert a.projected is None
    assert a.status is Status.ON_TRACK


def test_status_to_date_can_be_negative() -> None:
    assert assess({2018: 30, 2024: 20}, "increase", target=50).status_to_date == pytest.approx(-0.5)


# --- scores and pillar roll-up ----------------------------------------------------------

def _linear_with_ratio(current: float) -> Assessment:
    """A linear assessment whose R is (current - 100) / 20 (see RATIO_CASES)."""
    return assess({2020: 100, 2021: current}, "increase", target=300, method="linear")


@pytest.mark.parametrize("current,expected", [
    (119.0, 7.1429 * 0.95 - 4.2857),  # R 0.95 -> 2.5
    (112.0, 7.1429 * 0.6 - 4.2857),  # R 0.6 -> 0
    (100.0, -2.5),  # R 0
    (150.0, 5.0),  # R 2.5, capped
    (80.0, -5.0),  # R -1, floored
    (110.0, 4.1667 * 0.5 - 2.5),
])
def test_score_maps_ratio(current: float, expected: float) -> None:
    a = _linear_with_ratio(current)
    assert score(a) == pytest.approx(expected)
    assert a.score == score(a)


def test_score_edges_meet_pillar_bands() -> None:
    assert score(_linear_with_ratio(119.0)) == pytest.approx(2.5, abs=1e-4)
    assert score(_linear_with_ratio(112.0)) == pytest.approx(0.0, abs=1e-4)


def _paced(status: Status) -> Assessment:
    """An assessment without a target with the given band (linear P from base 100)."""
    current = {Status.ON_TRACK: 102, Status.ACCELERATION_NEEDED: 100.8,
               Status.LIMITED_PROGRESS: 100.2, Status.DETERIORATION: 99}[status]
    a = assess({2020: 100, 2021: current}, "increase", method="linear")
    assert a.status is status
    return a


@pytest.mark.parametrize("status,expected", [
    (Status.ON_TRACK, 3.75), (Status.ACCELERATION_NEEDED, 1.25),
    (Status.LIMITED_PROGRESS, -1.25), (Status.DETERIORATION, -3.75),
])
def test_score_without_target_is_band_midpoint(status: Status, expected: float) -> None:
    assert score(_paced(status)) == expected


def test_no_score_for_monitoring_and_insufficient() -> None:
    assert score(assess(EXAMPLE, "monitor", target=100)) is None
    assert score(assess({2024: 61}, "increase", target=100)) is None


ON, ACC, LIM, DET = Status.ON_TRACK, Status.ACCELERATION_NEEDED, Status.LIMITED_PROGRESS, Status.DETERIORATION


@pytest.mark.parametrize("statuses,mean,band", [
    ([ON, ACC], 2.5, ON),
    ([ON, ON, ACC], pytest.approx(8.75 / 3), ON),
    ([ON, ACC, ACC], pytest.approx(6.25 / 3), ACC),
    ([ACC, LIM], 0.0, ACC),
    ([ACC, ACC, LIM], pytest.approx(1.25 / 3), ACC),
    ([ACC, LIM, LIM], pytest.approx(-1.25 / 3), LIM),
    ([LIM, DET], -2.5, LIM),
    ([LIM, LIM, DET], pytest.approx(-6.25 / 3), LIM),
    ([LIM, DET, DET], pytest.approx(-8.75 / 3), DET),
])
def test_pillar_band_edges(statuses: list[Status], mean: float, band: Status) -> None:
    rollup = pillar_rollup(_paced(s) for s in statuses)
    assert rollup.score == mean
    assert rollup.status is band


def test_pillar_rollup_skips_unscored_and_counts_all() -> None:
    items = [assess(EXAMPLE, "increase", target=50), _paced(ACC), assess(EXAMPLE, "monitor"),
             assess({2024: 1}, "increase")]
    rollup = pillar_rollup(items)
    assert rollup == PillarRollup(score=3.125, status=ON, scored=2, counts={
        "target_achieved": 1, "on_track": 0, "acceleration_needed": 1, "limited_progress": 0,
        "deterioration": 0, "insufficient_data": 1, "monitoring": 1})


def test_pillar_rollup_of_nothing_scored() -> None:
    rollup = pillar_rollup([assess(EXAMPLE, "monitor")])
    assert (rollup.score, rollup.status, rollup.scored) == (None, None, 0)
    assert pillar_rollup([]).counts == dict.fromkeys(STATUSES, 0)


# --- milestones -------------------------------------------------------------------------

MILESTONES = [(2020, 10.0), (2022, 20.0), (2024, 30.0), (2026, 40.0)]
MILESTONE_SERIES = {2020: 10, 2022: 15, 2024: None}


def test_milestones_increase() -> None:
    assert milestone_checks(MILESTONE_SERIES, MILESTONES, "increase") == [
        MilestoneCheck(2020, 10.0, 10.0, True), MilestoneCheck(2022, 20.0, 15.0, False),
        MilestoneCheck(2024, 30.0, None, None), MilestoneCheck(2026, 40.0, None, None)]


def test_milestones_decrease_and_monitor() -> None:
    assert [c.met for c in milestone_checks(MILESTONE_SERIES, MILESTONES, "decrease")] == [True, True, None, None]
    assert [c.met for c in milestone_checks(MILESTONE_SERIES, MILESTONES, "monitor")] == [None] * 4


def test_milestones_reject_unknown_direction() -> None:
    with pytest.raises(ValueError, match="Unknown direction 'down'"):
        milestone_checks(MILESTONE_SERIES, MILESTONES, "down")


# --- property: any finite input gives an answer ----------------------------------------

def test_statuses_in_order() -> None:
    assert STATUSES == ("target_achieved", "on_track", "acceleration_needed", "limited_progress",
                        "deterioration", "insufficient_data", "monitoring")


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(
    series=st.dictionaries(st.integers(1990, 2040), st.one_of(st.none(), st.just(math.nan), finite), max_size=8),
    direction=st.sampled_from(["increase", "decrease", "monitor"]),
    method=st.sampled_from(["opensdg", "linear"]),
    base_year=st.one_of(st.none(), st.integers(1985, 2045)),
    target=st.one_of(st.none(), st.just(0.0), finite),
    target_year=st.integers(1985, 2050),
)
def test_assess_never_raises(series: dict, direction: str, method: str, base_year: int | None,
                             target: float | None, target_year: int) -> None:
    a = assess(series, direction, base_year=base_year, target=target, target_year=target_year, method=method)
    assert a.status.value in STATUSES
    assert (a.status is Status.MONITORING) == (direction == "monitor")
    assert a.ratio is None or a.status in (ON, ACC, LIM, DET)
    assert a.projected is None or math.isfinite(a.projected)
    assert a.status_to_date is None or math.isfinite(a.status_to_date)
    assert a.score is None or -5.0 <= a.score <= 5.0
    assert a.explain()
    assert pillar_rollup([a]).scored == (a.score is not None)
