"""The dialogue cycle: each target a dialogue agreed against what was achieved in its year,
and what the next dialogue should agree to stay on the path to 2030.

Both work on an evaluation and on its values as privacy.result_values gives them (already
suppressed where numbers leave the trusted screen): a hidden achieved value hides the
verdict met/missed with it, since a target beside "met" would narrow the hidden count."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from cpc_monitor.definitions.dialogues import Dialogue
from cpc_monitor.evaluation import progress
from cpc_monitor.evaluation.engine import ERROR, Evaluation, IndicatorResult

MET, MISSED, NO_DATA, HIDDEN = "met", "missed", "no data yet", "hidden"


@dataclass(frozen=True)
class Achieved:
    """A year's total as shown: its value, or hidden, or absent."""

    value: float | None
    hidden: bool


def achieved(values: pd.DataFrame | None, year: int) -> Achieved:
    """The total for `year` in a result_values frame."""
    if values is None or values.empty:
        return Achieved(None, False)
    row = values[(values["dim"] == "") & (values["year"] == year)]
    if row.empty:
        return Achieved(None, False)
    hidden = bool(row["suppressed"].iloc[0]) if "suppressed" in row.columns else False
    value = row["value"].iloc[0]
    return Achieved(None if hidden or value is None or value != value else float(value), hidden)


def review(dialogue: Dialogue, ev: Evaluation, values: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per target the dialogue agreed: indicator, its unit, the year, the target,
    the value achieved that year and the outcome (met, missed, no data yet, hidden)."""
    rows = []
    for indicator_id, agreed in dialogue.targets.items():
        result = ev.result(indicator_id)
        year = dialogue.target_year(agreed)
        shown = achieved(values.get(indicator_id), year)
        rows.append({"id": indicator_id, "indicator": result.name if result else indicator_id,
                     "pillar": result.pillar if result else "", "unit": result.unit if result else "",
                     "year": year, "target": agreed.value, "achieved": shown.value,
                     "outcome": _outcome(result, year, agreed.value, shown), "note": agreed.note or ""})
    return pd.DataFrame(rows, columns=["id", "indicator", "pillar", "unit", "year", "target", "achieved",
                                       "outcome", "note"])


def _outcome(result: IndicatorResult | None, year: int, target: float, shown: Achieved) -> str:
    if shown.hidden:
        return HIDDEN
    if result is None or result.status == ERROR or shown.value is None:
        return NO_DATA
    met = progress.milestone_checks({year: shown.value}, [(year, target)], result.direction)[0].met
    return NO_DATA if met is None else MET if met else MISSED


def proposals(ev: Evaluation, values: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """For each indicator with a target: the value the year after its latest one should reach
    to be on the straight path from that latest value to the target (the latest value itself
    where the target is already met), with the latest value and the target it leads to.
    Hidden where the latest value is hidden."""
    rows = []
    for r in ev.results:
        if r.status == ERROR or r.direction == "monitor" or r.target is None or r.assessment is None:
            continue
        year, value = r.assessment.current_year, r.assessment.current_value
        if year is None or value is None:
            continue
        target_year, target = r.target
        if target_year <= year:
            continue
        hidden = achieved(values.get(r.id), year).hidden
        ahead = (value >= target) if r.direction == "increase" else (value <= target)
        # Already past the target: hold what was reached; else one year's share of the way left.
        step = value if ahead else value + (target - value) / (target_year - year)
        if r.unit == "count" and not ahead:  # a count is agreed in whole cases, never short of the path
            step = math.ceil(step - 1e-9) if r.direction == "increase" else math.floor(step + 1e-9)
        if r.verdict is not None and r.verdict.bound is not None:  # never propose the impossible
            step = min(step, r.verdict.bound)
        rows.append({"id": r.id, "indicator": r.name, "pillar": r.pillar, "unit": r.unit,
                     "latest_year": year, "latest": None if hidden else value,
                     "year": year + 1, "proposed": None if hidden or math.isnan(step) else step,
                     "target_year": target_year, "target": target,
                     "status": r.verdict.code if r.verdict is not None else r.status})
    return pd.DataFrame(rows, columns=["id", "indicator", "pillar", "unit", "latest_year", "latest", "year",
                                       "proposed", "target_year", "target", "status"])
