"""Small-cell suppression: the one function that serves the screen's presentation-safe
mode, every download and export, and `evaluate --suppress`.

Counts from 1 to min_cell-1 are hidden ("<5"); a rate is hidden when its numerator
or denominator is; and where one hidden cell of a breakdown could be worked out
from the total, the next smallest cell is hidden too (secondary suppression)."""
from __future__ import annotations

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
             counted_parts: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy of `values` (year, dim, group, value[, numerator, denominator]) with small
    cells set to NaN and a boolean column `suppressed` saying which were hidden.

    `value_is_count`: the value itself is a count; `counted_parts`: the columns
    ('numerator', 'denominator') that are counts of records."""
    out = values.copy()
    hide = pd.Series(False, index=out.index)
    columns = (["value"] if value_is_count else []) + [p for p in counted_parts if p in out.columns]
    for column in columns:
        hide |= out[column].between(1, min_cell - 1, inclusive="both").fillna(False).astype(bool)
    out["suppressed"] = hide
    if "dim" in out.columns and not out.empty:
        basis = columns[0] if columns else None
        if basis is not None:
            _secondary(out, basis)
    hidden = out["suppressed"]
    for column in ["value"] + [c for c in ("numerator", "denominator") if c in out.columns]:
        out[column] = out[column].astype("float64").where(~hidden)
    return out


def _secondary(out: pd.DataFrame, basis: str) -> None:
    """Hide a second cell where a single hidden cell of a breakdown equals total - the rest."""
    parts = out[out["dim"] != ""]
    for _, cells in parts.groupby(["year", "dim"], sort=False):
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
