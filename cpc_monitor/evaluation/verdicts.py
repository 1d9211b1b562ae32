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
NOT_JUDGED = "not_judged_subset"
# Units whose values can never pass 100.
SHARE_UNITS = ("percent",)


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

    @property
    def judged(self) -> bool:
        """True when the verdict is the method's judgement (counted in the pillar score)."""
        return self.code in progress.STATUSES and self.code not in ("monitoring", "insufficient_data")


def judge(status: str, assessment: progress.Assessment | None, milestones: list[progress.MilestoneCheck],
          cases: float | None, minimum: int, subset: bool, unit: str, ceiling: float | None) -> Verdict:
    """The verdict for an evaluated indicator. `cases`: the records behind its latest value;
    `subset`: a filter narrows it to part of the country; `ceiling`: its declared `max`."""
    missed = _missed(milestones, assessment)
    projected, bound, bound_year = _bounded(assessment, unit, ceiling)
    common = {"cases": cases, "minimum": minimum, "missed_milestone": missed, "projected": projected,
              "bound": bound, "bound_year": bound_year}
    if assessment is None or status in ("monitoring", "insufficient_data", "error"):
        return Verdict(status, **common)
    if subset:
        return Verdict(NOT_JUDGED, "the filters choose part of the country, and the targets are national; "
                                   "values and trends are shown, the status is not judged", **common)
    if cases is not None and cases < minimum:
        year = assessment.current_year
        return Verdict(TOO_FEW, f"the {year} value rests on {cases:,.0f} case{'s' * (cases != 1)}, fewer than "
                                f"the {minimum} the indicator file asks for before judging", **common)
    return Verdict(status, **common)


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
