"""Small-cell suppression: the one function that serves the screen's presentation-safe
mode, every download and export, and `evaluate --suppress`.

Counts from 1 to min_cell-1 are hidden ("<5"); a rate is hidden when its numerator
or denominator is; and where one hidden cell of a breakdown could be worked out
from the total, the next smallest cell is hidden too (secondary suppression)."""
from __future__ import annotations

import dataclasses
import math

import pandas as pd

# Aggregates that count records (people, cases, sessions): their small values identify people.
COUNTING_AGGS = ("count", "count_distinct")
# Units whose values are counts of people or records (a sum of participants is such a count).
COUNT_UNITS = ("count",)


def is_small(value: float | None, min_cell: int) -> bool:
    """True for a count from 1 to min_cell-1: the ones suppression hides."""
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and 1 <= value < min_cell


def suppress(values: pd.DataFrame, min_cell: int, value_is_count: bool,
             counted_parts: tuple[str, ...] = (), hidden_with: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy of `values` (year, dim, group, value[, numerator, denominator]) with small
    cells set to NaN and a boolean column `suppressed` saying which were hidden.

    `value_is_count`: the value itself is a count; `counted_parts`: the columns
    ('numerator', 'denominator', a box's 'count') that are counts of records;
    `hidden_with`: further columns hidden with a hidden row (a box's quartiles)."""
    out = values.copy()
    hide = pd.Series(False, index=out.index)
    columns = (["value"] if value_is_count else []) + [p for p in counted_parts if p in out.columns]
    for column in columns:
        out[column] = out[column].astype("float64")
    for column in columns:
        hide |= out[column].between(1, min_cell - 1, inclusive="both").fillna(False).astype(bool)
    out["suppressed"] = hide
    if "dim" in out.columns and not out.empty:
        basis = columns[0] if columns else None
        if basis is not None:
            _secondary(out, basis)
    hidden = out["suppressed"]
    for column in ["value", "numerator"] + [p for p in counted_parts if p != "denominator"] + list(hidden_with):
        if column in out.columns:
            out[column] = out[column].astype("float64").where(~hidden)
    if "denominator" in out.columns:
        # A hidden row keeps its denominator unless that is itself a small count: a
        # population of 2.7m or US$500,000 committed gives nothing away.
        small = out["denominator"].between(1, min_cell - 1, inclusive="both").fillna(False).astype(bool)
        counted = "denominator" in counted_parts
        out["denominator"] = out["denominator"].astype("float64").where(~(hidden & (small if counted else False)))
    return out


def _secondary(out: pd.DataFrame, basis: str) -> None:
    """Hide a second cell where a single hidden cell of a breakdown equals total - the rest."""
    parts = out[out["dim"] != ""]
    for _, cells in parts.groupby(["period" if "period" in out.columns else "year", "dim"], sort=False):
        if cells["suppressed"].sum() != 1 or len(cells) < 2:
            continue
        shown = cells[~cells["suppressed"] & (cells[basis] > 0)]
        if not shown.empty:
            out.loc[shown[basis].idxmin(), "suppressed"] = True


def result_counts(unit: str, counted_kinds: dict[str, str]) -> tuple[bool, tuple[str, ...]]:
    """For an indicator: is its value a count, and which ratio parts count records."""
    parts = tuple(role for role, agg in counted_kinds.items() if role != "measure" and agg in COUNTING_AGGS)
    value_is_count = unit in COUNT_UNITS and "measure" in counted_kinds
    return value_is_count, parts


def min_cell_of(result) -> int:
    """An evaluated indicator's min_cell: its own setting, else the file's documented default
    (an indicator that needs fixing has no settings and no values to hide)."""
    if result.settings is not None:
        return result.settings.min_cell
    from cpc_monitor.definitions.indicators import Defaults

    return Defaults().min_cell


def result_values(result, safe: bool) -> pd.DataFrame:
    """An evaluated indicator's values (engine.IndicatorResult), suppressed when `safe`,
    with a `suppressed` column either way: what screens, downloads and exports show."""
    frame = result.values
    if frame.empty:
        return frame.assign(suppressed=pd.Series([], dtype=bool))
    if not safe or result.settings is None:
        return frame.assign(suppressed=False)
    is_count, parts = result_counts(result.unit, result.counted_kinds)
    return suppress(frame, result.settings.min_cell, is_count, parts)


def suppress_figure(values, safe: bool):
    """A figure's values (evaluation.figures.FigureValues) as a screen, a download or a slide
    shows them: each series suppressed on its own when `safe`, with a `suppressed` column
    either way. The one place a figure's small counts are hidden."""
    from cpc_monitor.evaluation.figures import with_frame  # figures imports privacy

    frame = values.frame
    if frame.empty or not safe:
        return with_frame(values, frame.assign(suppressed=False), suppressed=safe)
    parts = []
    for info in values.series:
        rows = frame[frame["series"] == info.ref]
        if info.value_is_count or info.counted:
            rows = suppress(rows, values.min_cell, info.value_is_count, info.counted, info.hidden_with)
        parts.append(rows.assign(suppressed=rows.get("suppressed", False)))
    out = pd.concat(parts) if parts else frame.assign(suppressed=False)
    pace = values.pace
    if pace is not None and values.series and values.series[0].value_is_count and is_small(pace.to_date, values.min_cell):
        pace = None  # a running count this small is itself a hidden cell
    return with_frame(values, out.sort_index(), suppressed=True, pace=pace)


def shown_assessment(result, safe: bool):
    """An indicator's assessment as a screen, a download or a slide may show it. In safe
    mode, every figure derived from a hidden value is hidden with it (None): a hidden latest
    value takes with it the distance covered, the yearly change, the projection and the pace
    ratio, which would otherwise give it back through the baseline and target; a hidden
    measured baseline takes the change needed. A stated baseline is the file's, never hidden."""
    a = result.assessment
    if a is None or not safe:
        return a
    values = result_values(result, True)
    totals = values[values["dim"] == ""] if not values.empty else values
    hidden_years = set(totals.loc[totals["suppressed"], "year"].astype(int)) if not totals.empty else set()
    is_count, _ = result_counts(result.unit, result.counted_kinds)
    limit = min_cell_of(result)

    def hidden(year: int | None, value: float | None) -> bool:
        return year in hidden_years or (is_count and value is not None and is_small(round(value), limit))

    stated = result.plan is not None and result.plan.baseline is not None
    changes: dict = {}
    if a.current_value is not None and hidden(a.current_year, a.current_value):
        changes.update(current_value=None, ratio=None, projected=None, status_to_date=None, rate=None,
                       values_used=(), years_used=())
    if a.base_value is not None and not stated and hidden(a.base_year, a.base_value):
        changes.update(base_value=None, status_to_date=None, required_rate=None, ratio=None)
    if a.projected is not None and is_count and is_small(round(a.projected), limit):
        changes.update(projected=None)
    return dataclasses.replace(a, **changes) if changes else a


def hide_small_counts(frame: pd.DataFrame, columns: list[str] | tuple[str, ...], min_cell: int,
                      within: list[str] | tuple[str, ...] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A copy of `frame` with its counts from 1 to min_cell-1 in `columns` set to NaN, and the
    mask of hidden cells (a boolean frame of `columns`, same index).

    `within`: columns whose equal values make the parts of one total shown elsewhere (say the
    months of a series beside its row count); where a single part of one is hidden, its
    smallest other positive part is hidden too, so the total cannot give it back."""
    out = frame.copy()
    mask = pd.DataFrame(False, index=frame.index, columns=list(columns))
    groups = (frame.groupby(list(within), sort=False, dropna=False).indices.values() if within and not frame.empty
              else [range(len(frame))])
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce").astype("float64").to_numpy()
        hidden = (values >= 1) & (values < min_cell)
        for rows in groups if within else ():
            rows = list(rows)
            if hidden[rows].sum() == 1:
                others = [r for r in rows if not hidden[r] and values[r] > 0]
                if others:
                    hidden[min(others, key=lambda r: values[r])] = True
        mask[column] = hidden
        out[column] = pd.Series(values, index=frame.index).where(~hidden)
    return out, mask
