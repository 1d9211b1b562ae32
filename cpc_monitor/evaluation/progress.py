"""Progress toward a target year (contract: design/progress.md). `assess` judges one
series; scores, pillar roll-ups and milestone checks are built on its result.

Pure arithmetic: no data access, no Streamlit. Any finite numbers give an answer;
only an unknown direction or method raises."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum


class Status(str, Enum):
    """The judgement on one series (or one pillar)."""

    TARGET_ACHIEVED = "target_achieved"
    ON_TRACK = "on_track"
    ACCELERATION_NEEDED = "acceleration_needed"
    LIMITED_PROGRESS = "limited_progress"
    DETERIORATION = "deterioration"
    INSUFFICIENT_DATA = "insufficient_data"
    MONITORING = "monitoring"


STATUSES: tuple[str, ...] = tuple(status.value for status in Status)
DIRECTIONS = ("increase", "decrease", "monitor")
METHODS = ("opensdg", "linear")

# Lower edges of on_track, acceleration_needed and limited_progress; below the last is deterioration.
RATIO_EDGES = (0.95, 0.60, 0.0)  # R: the observed rate over the rate the target needs
PACE_EDGES = (0.015, 0.005, 0.0)  # P: the yearly rate itself, when there is no target
SCORE_EDGES = (2.5, 0.0, -2.5)  # a pillar's mean score
# Open SDG takes a target of 0 as 0.001 so that a growth rate toward it exists.
ZERO_TARGET = 0.001
# Scores of statuses with no R to map: 5 for an achieved target, else Open SDG's band
# midpoints. A deterioration against a target equal to the base value has no R either
# (the needed rate is 0), so it takes the deterioration midpoint, -3.75.
BAND_SCORES = {
    Status.TARGET_ACHIEVED: 5.0,
    Status.ON_TRACK: 3.75,
    Status.ACCELERATION_NEEDED: 1.25,
    Status.LIMITED_PROGRESS: -1.25,
    Status.DETERIORATION: -3.75,
}


@dataclass(frozen=True)
class Assessment:
    """One series judged against its target, with the figures and data behind the status."""

    status: Status
    ratio: float | None  # R with a target, P without; None where not computed
    projected: float | None  # value at target_year on the observed trend
    status_to_date: float | None  # share of the base-to-target distance covered so far
    base_year: int | None
    current_year: int | None
    base_value: float | None
    current_value: float | None
    target: float | None
    target_year: int
    direction: str
    method_used: str  # "linear" when growth rates could not be used
    rate: float | None  # observed yearly change: growth rate (opensdg) or slope (linear)
    required_rate: float | None  # the yearly change that reaches the target on time
    note: str | None  # why the method changed or why there is no judgement
    years_used: tuple[int, ...]
    values_used: tuple[float, ...]
    score: float | None = None  # roll-up score, see score()

    def explain(self) -> str:
        """One or two plain-English sentences on how the status was reached, with the figures."""
        label = self.status.value.replace("_", " ")
        parts = [self.note] if self.note else []
        if self.status is Status.INSUFFICIENT_DATA:
            parts.append(f"Status: {label}.")
        elif self.status is Status.TARGET_ACHIEVED:
            parts.append(f"The latest value, {_fmt(self.current_value)} in {self.current_year}, "
                         f"meets the target of {_fmt(self.target)}: {label}.")
        elif self.rate is None:  # monitoring with fewer than two years
            parts.append("This indicator is monitored without a judgement.")
        else:
            trend = (f"From {_fmt(self.base_value)} in {self.base_year} to {_fmt(self.current_value)} "
                     f"in {self.current_year} the value {'grew' if self.rate >= 0 else 'fell'} "
                     f"{_per_year(self.rate, self.method_used)}")
            if self.status is Status.MONITORING:
                parts.append(f"{trend}; this indicator is monitored without a judgement.")
            elif self.target is None:
                parts.append(f"{trend}, with no target set: {label}.")
            elif self.ratio is None:  # target equal to the base value: the note says why
                parts.append(f"{trend}: {label}.")
            else:
                need = "" if self.required_rate >= 0 else "a fall of "
                parts.append(f"{trend}; reaching {_fmt(self.target)} by {self.target_year} needs "
                             f"{need}{_per_year(self.required_rate, self.method_used)} "
                             f"(ratio {_fmt(self.ratio)}): {label}.")
        return " ".join(parts)


@dataclass(frozen=True)
class PillarRollup:
    """A pillar's mean score over its scored indicators, its band and its status counts."""

    score: float | None
    status: Status | None  # None when no indicator has a score
    scored: int
    counts: dict[str, int]  # every status in STATUSES order, zeros included


@dataclass(frozen=True)
class MilestoneCheck:
    """Whether the value of a milestone's year meets it (None while there is no value)."""

    year: int
    target: float
    value: float | None
    met: bool | None


def assess(series: Mapping[int, float | None], direction: str, base_year: int | None = None,
           target: float | None = None, target_year: int = 2030, method: str = "opensdg") -> Assessment:
    """Judge one series' progress toward target by target_year, or its pace when there is no target.

    >>> assess({2018: 30, 2019: 36, 2021: 43, 2024: 61}, "increase", 2018, 100).status.value
    'on_track'
    """
    _check_choice("direction", direction, DIRECTIONS)
    _check_choice("method", method, METHODS)
    points = _points(series)
    # A NaN target is a missing one, as a NaN value is.
    target = float(target) if target is not None and math.isfinite(target) else None
    years = sorted(points)
    current_year = years[-1] if years else None
    start = _base_year(years, base_year)
    used = tuple(year for year in years if start is not None and year >= start)
    base_value = points[start] if start is not None else None
    current_value = points[current_year] if current_year is not None else None
    notes: list[str] = []

    method_used, rate, required = method, None, None
    if len(used) > 1:  # t - t0 >= 1: a trend exists
        blocker = _growth_blocker(base_value, current_value, _goal(target, method)) if method == "opensdg" else None
        if blocker:
            method_used = "linear"
            notes.append(f"{blocker}, so growth rates cannot be used: judged by the linear method.")
        rate = _rate(method_used, base_value, current_value, current_year - start)
        if target is not None and target_year > start:
            required = _rate(method_used, base_value, _goal(target, method_used), target_year - start)

    ratio = None
    if direction == "monitor":
        status = Status.MONITORING
    elif len(used) < 2:
        status = Status.INSUFFICIENT_DATA
        notes.append(_missing_note(years, base_year, start))
    elif target is None:
        # P is relative to the base value for linear, so that it compares with a growth rate.
        ratio = rate / (max(abs(base_value), 1.0) if method_used == "linear" else 1.0)
        ratio = -ratio if direction == "decrease" else ratio
        status = _band(ratio, PACE_EDGES)
    elif _reached(current_value, target, direction):
        status = Status.TARGET_ACHIEVED
    elif required is None:
        status = Status.INSUFFICIENT_DATA
        notes.append(f"The target year {target_year} is not after the base year {start}, "
                     "so no yearly rate can be required.")
    elif required == 0:
        # Also catches targets that differ from the base value by less than rounding.
        status = Status.DETERIORATION
        notes.append(f"The target equals the base value ({_fmt(base_value)}) and has not been met, "
                     "so the value moved the wrong way.")
    elif math.isnan(rate / required):  # both rates overflowed to infinity
        status = Status.INSUFFICIENT_DATA
        notes.append("The values are too large to compare their rates.")
    else:
        ratio = rate / required
        status = _band(ratio, RATIO_EDGES)

    share = None
    if target is not None and base_value is not None and target != base_value:
        share = _finite((current_value - base_value) / (target - base_value))
    assessment = Assessment(
        status=status, ratio=ratio,
        projected=_project(method_used, rate, current_value, target_year - current_year) if rate is not None else None,
        status_to_date=share, base_year=start, current_year=current_year, base_value=base_value,
        current_value=current_value, target=target, target_year=target_year, direction=direction,
        method_used=method_used, rate=rate, required_rate=required, note=" ".join(notes) or None,
        years_used=used, values_used=tuple(points[year] for year in used))
    return replace(assessment, score=score(assessment))


def score(a: Assessment) -> float | None:
    """Open SDG roll-up score in [-5, 5]: R mapped when there is one, else the band's score."""
    if a.target is not None and a.ratio is not None:
        # Open SDG's two lines: R 0.6 -> 0, 0.95 -> 2.5, 1.3 -> 5; R 0 -> -2.5, -0.6 -> -5.
        if a.ratio >= 0.6:
            return min(7.1429 * a.ratio - 4.2857, 5.0)
        return max(4.1667 * a.ratio - 2.5, -5.0)
    return BAND_SCORES.get(a.status)


def pillar_rollup(assessments: Iterable[Assessment]) -> PillarRollup:
    """Mean score of the scored assessments, its band, and how many have each status."""
    items = list(assessments)
    scores = [s for s in map(score, items) if s is not None]
    mean = math.fsum(scores) / len(scores) if scores else None
    counts = dict.fromkeys(STATUSES, 0)
    for a in items:
        counts[a.status.value] += 1
    return PillarRollup(mean, None if mean is None else _band(mean, SCORE_EDGES), len(scores), counts)


def milestone_checks(series: Mapping[int, float | None], milestones: Sequence[tuple[int, float]],
                     direction: str) -> list[MilestoneCheck]:
    """Each (year, target) milestone against the value of that year, in the given order."""
    _check_choice("direction", direction, DIRECTIONS)
    points = _points(series)
    return [MilestoneCheck(year, target, points.get(year), _reached(points.get(year), target, direction))
            for year, target in milestones]


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raise ValueError naming the allowed values when value is not one of them."""
    if value not in allowed:
        raise ValueError(f"Unknown {name} {value!r}: use one of {', '.join(allowed)}.")


def _points(series: Mapping[int, float | None]) -> dict[int, float]:
    """The usable points: None and NaN values are gaps, not zeros, so they are dropped."""
    return {int(year): float(value) for year, value in series.items()
            if value is not None and math.isfinite(value)}


def _base_year(years: list[int], base_year: int | None) -> int | None:
    """The base year used: base_year if it has a value, else the next year that has one."""
    if base_year is None:
        return years[0] if years else None
    return next((year for year in years if year >= base_year), None)  # None: base after the data


def _missing_note(years: list[int], base_year: int | None, start: int | None) -> str:
    """Why there are fewer than two years to judge from."""
    if not years:
        return "There are no values."
    if start is None:
        return f"The base year {base_year} is after the latest year with a value, {years[-1]}."
    return f"Only {start} has a value from the base year on; at least two years are needed."


def _goal(target: float | None, method: str) -> float | None:
    """The target the rates aim at: a 0 target is 0.001 for growth rates (Open SDG)."""
    return ZERO_TARGET if target == 0 and method == "opensdg" else target


def _growth_blocker(base: float, current: float, goal: float | None) -> str | None:
    """Why growth rates cannot be computed from base to these values, or None when they can."""
    if base == 0:
        return "The base value is 0"
    for name, value in (("latest value", current), ("target", goal)):
        if value is not None and (value < 0 < base or base < 0 < value):
            return f"The base value and the {name} have opposite signs"
    return None


def _rate(method: str, start: float, end: float, years: int) -> float:
    """Yearly change from start to end: compound growth rate (opensdg) or slope (linear)."""
    if method == "linear":
        return (end - start) / years
    # Same signs are guaranteed by _growth_blocker, so the power is real; it cannot
    # overflow because the exponent is at most 1.
    return (end / start) ** (1 / years) - 1


def _project(method: str, rate: float, value: float, years: int) -> float | None:
    """The value `years` after `value` at the observed rate, None when it cannot be computed."""
    try:
        projected = value * (1 + rate) ** years if method == "opensdg" else value + rate * years
    except (OverflowError, ZeroDivisionError):  # a huge power, or 0 raised to a negative power
        return None
    return _finite(projected)


def _reached(value: float | None, target: float, direction: str) -> bool | None:
    """Whether value meets target in the desired direction; None without a value or a direction."""
    if value is None or direction == "monitor":
        return None
    return value >= target if direction == "increase" else value <= target


def _band(value: float, edges: tuple[float, float, float]) -> Status:
    """The status band of value, given the lower edges of on_track, acceleration and limited."""
    on_track, acceleration, limited = edges
    # Float noise must not cross an edge: 1000 -> 1005 in a year is exactly 0.5% growth
    # but computes as 0.004999999999999893.
    value = round(value, 9)
    if value >= on_track:
        return Status.ON_TRACK
    if value >= acceleration:
        return Status.ACCELERATION_NEEDED
    if value >= limited:
        return Status.LIMITED_PROGRESS
    return Status.DETERIORATION


def _finite(value: float) -> float | None:
    """value, or None when it overflowed to infinity or NaN."""
    return value if math.isfinite(value) else None


def _per_year(rate: float, method: str) -> str:
    """The size of a yearly change: a percentage for growth rates, units for slopes."""
    return f"{_fmt(abs(rate) * 100)}% a year" if method == "opensdg" else f"{_fmt(abs(rate))} a year"


def _fmt(x: float) -> str:
    """A figure to 3 significant digits, as a presenter would say it (61, 124, 0.443, 1,230)."""
    if x == 0 or not 1e-4 <= abs(x) < 1e15:  # zero, infinities and extremes: short exponent form
        return "0" if x == 0 else f"{x:.3g}"
    digits = 2 - math.floor(math.log10(abs(x)))
    text = f"{round(x, digits):,.{max(digits, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
