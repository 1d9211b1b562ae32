"""What the dashboard may say about an indicator, beside the progress method's status.

The method (progress.md) judges the series toward 2030 and stays as it is. A verdict adds
what an auditor asks next: is there enough evidence to say so (a share of 1 case is not
"target achieved"), was a milestone missed on the way, does the projection stay within what
is possible (a share never passes 100%, money never passes its envelope), and is this a
subset of the country judged against national targets (it is not). The pillar score counts
only indicators whose verdict is a judgement."""
from __future__ import annotations

import math
from dataclasses import dataclass

from cpc_monitor.evaluation import progress

TOO_FEW = "too_few_cases"
# The statuses that say "on course for the target"; an interval whose ends fall on both
# sides of this line cannot carry a judgement.
ON_COURSE = ("target_achieved", "on_track")
NOT_JUDGED = "not_judged_subset"
# Units whose values can never pass 100.
SHARE_UNITS = ("percent",)


@dataclass(frozen=True)
class Interval:
    """The exact 95% interval around the latest value (Poisson for a count, binomial for a
    share of counts) and the method's status at each of its ends."""

    low: float
    high: float
    status_low: str
    status_high: str

    @property
    def spans_the_line(self) -> bool:
        """True when one end is on course for the target and the other is not."""
        return (self.status_low in ON_COURSE) != (self.status_high in ON_COURSE)


@dataclass(frozen=True)
class Verdict:
    """The status shown for one indicator and the evidence behind it."""

    code: str  # a progress status, TOO_FEW, NOT_JUDGED or "error"
    reason: str = ""  # why it is not the method's status, in plain words
    cases: float | None = None  # the records behind the latest value (None: not a count of records)
    minimum: int | None = None  # the fewest records the file allows a judgement on
    missed_milestone: tuple[int, float] | None = None  # the latest milestone missed: (year, target)
    projected: float | None = None  # the projection for the target year, within bounds
    bound: float | None = None  # the ceiling the projection met, if it did
    bound_year: int | None = None  # the year the projection reaches that bound
    interval: Interval | None = None  # the exact 95% interval around the latest value, where one exists

    @property
    def judged(self) -> bool:
        """True when the verdict is the method's judgement (counted in the pillar score)."""
        return self.code in progress.STATUSES and self.code not in ("monitoring", "insufficient_data")


def judge(status: str, assessment: progress.Assessment | None, milestones: list[progress.MilestoneCheck],
          cases: float | None, minimum: int, subset: bool, unit: str, ceiling: float | None,
          interval: Interval | None = None) -> Verdict:
    """The verdict for an evaluated indicator. `cases`: the records behind its latest value;
    `subset`: a filter narrows it to part of the country; `ceiling`: its declared `max`;
    `interval`: the exact interval around the latest value, with the status at each end."""
    missed = _missed(milestones, assessment)
    projected, bound, bound_year = _bounded(assessment, unit, ceiling)
    common = {"cases": cases, "minimum": minimum, "missed_milestone": missed, "projected": projected,
              "bound": bound, "bound_year": bound_year, "interval": interval}
    if subset and status != "error":
        return Verdict(NOT_JUDGED, "the filters choose part of the country, and the targets are national; "
                                   "values and trends are shown, the status is not judged", **common)
    if assessment is None or status in ("monitoring", "insufficient_data", "error"):
        return Verdict(status, **common)
    if cases is not None and cases < minimum:
        year = assessment.current_year
        return Verdict(TOO_FEW, f"the {year} value rests on {cases:,.0f} case{'s' * (cases != 1)}, fewer than "
                                f"the {minimum} the indicator file asks for before judging", **common)
    if interval is not None and interval.spans_the_line and status != "target_achieved":
        year = assessment.current_year
        return Verdict(TOO_FEW, f"chance alone could move the {year} value between {_short(interval.low, unit)} and "
                                f"{_short(interval.high, unit)} (exact 95% interval), which is on track at one end "
                                "and off track at the other", **common)
    return Verdict(status, **common)


def _short(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.1f}"
    return text + "%" if unit in SHARE_UNITS else text


def exact_interval(count: float, total: float | None = None, level: float = 0.95) -> tuple[float, float]:
    """The exact interval of a count (Poisson, Garwood) or, given `total`, of the share
    count/total (binomial, Clopper-Pearson), at `level`. Counts are whole numbers of records."""
    from scipy import stats  # only when an interval is asked for: it costs a third of a second to import

    k = round(count)
    tail = (1 - level) / 2
    if total is None:
        low = 0.0 if k == 0 else stats.chi2.ppf(tail, 2 * k) / 2
        return float(low), float(stats.chi2.ppf(1 - tail, 2 * k + 2) / 2)
    n = round(total)
    low = 0.0 if k == 0 else stats.beta.ppf(tail, k, n - k + 1)
    high = 1.0 if k >= n else stats.beta.ppf(1 - tail, k + 1, n - k)
    return float(low), float(high)


def _missed(milestones: list[progress.MilestoneCheck], assessment: progress.Assessment | None
            ) -> tuple[int, float] | None:
    """The latest milestone whose year has a value that did not meet it."""
    missed = [m for m in milestones if m.met is False]
    return (missed[-1].year, missed[-1].target) if missed else None


def _bounded(assessment: progress.Assessment | None, unit: str, ceiling: float | None
             ) -> tuple[float | None, float | None, int | None]:
    """The projection for the target year kept within 0-100 for shares and under a declared
    ceiling; when it would leave them, the bound and the year the trend reaches it."""
    if assessment is None or assessment.projected is None:
        return None, None, None
    upper = 100.0 if unit in SHARE_UNITS else None
    if ceiling is not None:
        upper = ceiling if upper is None else min(upper, ceiling)
    projected = assessment.projected
    if upper is not None and projected > upper:
        return upper, upper, _year_reaching(assessment, upper)
    if projected < 0:
        return 0.0, 0.0, _year_reaching(assessment, 0.0)
    return projected, None, None


def _year_reaching(a: progress.Assessment, bound: float) -> int | None:
    """The first year the observed trend passes `bound`, from the latest value on."""
    if a.rate is None or a.current_value is None or a.current_year is None:
        return None
    for year in range(a.current_year + 1, a.target_year + 1):
        value = progress._project(a.method_used, a.rate, a.current_value, year - a.current_year)
        if value is not None and not math.isnan(value) and ((bound > 0 and value >= bound) or
                                                            (bound <= 0 and value <= bound)):
            return year
    return None
