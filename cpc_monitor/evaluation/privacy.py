"""Small-cell suppression: the one function that serves the screen's presentation-safe
mode, every download and export, and `evaluate --suppress`.

Counts from 1 to min_cell-1 are hidden ("<5"); a rate is hidden when its numerator
or denominator is; and where one hidden cell of a breakdown could be worked out
from the total, the next smallest cell is hidden too (secondary suppression)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from cpc_monitor.evaluation.measures import PAIR  # between the two columns of a paired breakdown

# Aggregates that count records (people, cases, sessions): their small values identify people.
COUNTING_AGGS = ("count", "count_distinct")
# Units whose values are counts of people or records (a sum of participants is such a count).
COUNT_UNITS = ("count",)


def identifier_columns() -> frozenset[str]:
    """Columns that name one record: the key of a table of events (a child, a case, a
    prosecution, a session ...) and every column that refers to one. A place (space_id) or
    a code is not one."""
    from cpc_monitor.store.schema import TABLES

    events = {t.name: t for t in TABLES.values() if t.event}
    keys = {f"{t.name}.{k}" for t in events.values() for k in t.key}
    return frozenset([k.split(".")[1] for k in keys] + [c.name for t in TABLES.values() for c in t.columns
                                                          if c.references in keys])


def identifier_problem(column: str) -> str | None:
    """Why a breakdown by `column` is refused, or None. Such a breakdown lists records one
    by one, each a count of 1: no suppression makes a list of children a statistic."""
    if column not in identifier_columns():
        return None
    return (f"'{column}' identifies single records (a child, a case, a prosecution or a session), so a breakdown "
            "by it would list them one by one; break down by a column that groups records, such as sex, parish "
            "or age_group.")


def is_small(value: float | None, min_cell: int) -> bool:
    """True for a count from 1 to min_cell-1: the ones suppression hides."""
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and 1 <= value < min_cell


def suppress(values: pd.DataFrame, min_cell: int, value_is_count: bool,
             counted_parts: tuple[str, ...] = (), hidden_with: tuple[str, ...] = (),
             lifted: dict[str, tuple[tuple[str, ...], pd.DataFrame]] | None = None) -> pd.DataFrame:
    """A copy of `values` (year, dim, group, value[, numerator, denominator]) with hidden
    rows' counts set to NaN and a boolean column `suppressed` saying which rows were hidden.

    `value_is_count`: the value itself is a count; `counted_parts`: the columns
    ('numerator', 'denominator', 'count': the records behind a median) that are counts of
    records; `hidden_with`: further columns hidden with a hidden row (a box's quartiles).
    `lifted`: for values under a column filter, that column -> (the values chosen, the same
    values with that filter lifted, each cell also split by the column): see _across_filter.

    A row is hidden when one of its counts is small; then, line by line (the parts of each
    breakdown), where a single hidden row holds a count that the line's total less its shown
    parts would give back, the row with the smallest such count is hidden too, until none is."""
    out = values.copy()
    columns = (["value"] if value_is_count else []) + [p for p in counted_parts if p in out.columns]
    for column in columns:
        out[column] = out[column].astype("float64")
    hidden = _small(out, columns, min_cell) | _small_rest(out, columns, min_cell)
    for column, (chosen, whole) in (lifted or {}).items():
        hidden |= _across_filter(out, column, chosen, whole, columns, min_cell)
    if "dim" in out.columns and columns:
        hidden = _protect(out, hidden, _breakdown_lines(out), columns)
    out["suppressed"] = hidden
    # A counted denominator goes with its row; a population or an amount of money stays, as
    # it gives nothing away (a population of 2.7m).
    for column in ["value", "numerator"] + list(counted_parts) + list(hidden_with):
        if column in out.columns:
            out[column] = out[column].astype("float64").where(~hidden)
    return out


def _small(frame: pd.DataFrame, columns: list[str], min_cell: int) -> pd.Series:
    """Rows with a small count (1 to min_cell-1) in one of `columns`."""
    small = pd.Series(False, index=frame.index)
    for column in columns:
        small |= frame[column].astype("float64").between(1, min_cell - 1, inclusive="both").fillna(False)
    return small.astype(bool)


def _small_rest(frame: pd.DataFrame, columns: list[str], min_cell: int) -> pd.Series:
    """Parts of a breakdown whose rest (the year's total less the part) is a small count:
    shown beside the total, such a part gives that small count back."""
    if "dim" not in frame.columns or frame.empty:
        return pd.Series(False, index=frame.index)
    time = "period" if "period" in frame.columns else "year"
    totals = frame[frame["dim"] == ""][[time] + columns]
    beside = frame[[time]].merge(totals, on=time, how="left")
    rest = pd.Series(False, index=frame.index)
    for column in columns:
        left = pd.Series(beside[column].to_numpy() - frame[column].to_numpy(), index=frame.index)
        rest |= left.between(1, min_cell - 1).fillna(False)
    return rest & (frame["dim"] != "")


def _breakdown_lines(frame: pd.DataFrame) -> list[np.ndarray]:
    """Each breakdown (one year or period, one dim) as a sum: the positions of its parts,
    then of its total (the row whose dim is '')."""
    time = "period" if "period" in frame.columns else "year"
    rows = frame.reset_index(drop=True)
    totals = {t: i for i, t in zip(rows.index[rows["dim"] == ""], rows.loc[rows["dim"] == "", time])}
    parts = rows[rows["dim"] != ""]
    if parts.empty:
        return []
    return [_line(parts.index[found], totals.get(key[0]))
            for key, found in parts.groupby([time, "dim"], sort=False).indices.items()]


def _line(parts: pd.Index, total: int | None) -> np.ndarray:
    """A sum's positions as integers: its parts, then its total when it has one."""
    return np.asarray(list(parts) + ([total] if total is not None else []), dtype=np.int64)


def _protect(frame: pd.DataFrame, hidden: pd.Series, lines: list[np.ndarray], columns: list[str],
             free: np.ndarray | None = None) -> pd.Series:
    """Secondary suppression. A line is a sum (the positions of its parts and of their total,
    as integers); where a single term of a line holds a hidden positive count, the sum of
    the others gives it back, so the shown (and `free`: not fixed by another screen) term
    with the smallest positive count in that column is hidden too. Repeated until no line
    changes."""
    counts = frame[columns].to_numpy(dtype="float64", na_value=0.0)
    mask = hidden.to_numpy(dtype=bool).copy()
    can_hide = np.ones(len(mask), dtype=bool) if free is None else free
    changed = True
    while changed:
        changed = False
        for rows in lines:
            for k in range(counts.shape[1]):
                positive = counts[rows, k] > 0
                if (mask[rows] & positive).sum() != 1:
                    continue
                candidates = rows[~mask[rows] & positive & can_hide[rows]]
                if candidates.size:
                    mask[candidates[np.argmin(counts[candidates, k])]] = True
                    changed = True
    return pd.Series(mask, index=frame.index)


def _across_filter(out: pd.DataFrame, column: str, chosen: tuple[str, ...], whole: pd.DataFrame,
                   columns: list[str], min_cell: int) -> pd.Series:
    """The rows of `out` (values under a filter on `column`) that must be hidden because of
    what the screens without that filter show.

    `whole` is the table the filter cuts: every total and breakdown cell without the filter,
    each split by `column` (the splits of the breakdown cells are its 'dim|column' rows).
    What the unfiltered screen shows of it is fixed: hidden as that screen hides it. Every
    split cell is then hidden when it is small or when the rest of its cell is; then
    secondary suppression runs over the table's lines (a cell's split over the values of
    `column`, and each value's breakdown), the same on every filtered screen, so no screen's
    shown numbers less another's give back a count either hides."""
    time = "period" if "period" in out.columns else "year"
    table = _cut_table(whole.reset_index(drop=True), column, time)
    shown_dims = set(out["dim"]) - {""}
    fixed = table["w"].isna().to_numpy() | (table["dim"].eq(column) & (column in shown_dims)).to_numpy()
    # Hidden as the unfiltered screen hides it (its own small counts and breakdown lines).
    unfiltered = table[table["dim"].isin(shown_dims | {""}) & table["w"].isna() | table["dim"].eq(column)]
    unfiltered = unfiltered if column in shown_dims else unfiltered[unfiltered["dim"] != column]
    seen = _protect(unfiltered, _small(unfiltered, columns, min_cell) | _small_rest(unfiltered, columns, min_cell),
                    _breakdown_lines(unfiltered), columns)
    hidden = _small(table, columns, min_cell)
    hidden.loc[seen.index] = seen
    margins = table[table["w"].isna()][[time, "cell"] + columns]
    rest = table[[time, "cell"]].merge(margins, on=[time, "cell"], how="left")
    for name in columns:
        leftover = pd.Series(rest[name].to_numpy() - table[name].to_numpy(), index=table.index)
        hidden |= ~pd.Series(fixed, index=table.index) & leftover.between(1, min_cell - 1).fillna(False)
    split = table[~fixed]
    # Each sum: a cell's parts over the values of `column` (its total: the cell), and each
    # value's breakdown (its total: the value's total).
    at = {key: i for i, key in enumerate(zip(table[time], table["cell"], table["w"].fillna("")))}
    lines = [_line(split.index[rows], at.get((key[0], key[1], "")))
             for key, rows in split.groupby([time, "cell"], sort=False).indices.items()]
    interior = split[split["cell"] != PAIR]
    lines += [_line(interior.index[rows], at.get((key[0], PAIR, key[2])))
              for key, rows in interior.groupby([time, "dim", "w"], sort=False).indices.items()]
    hidden = _protect(table, hidden, lines, columns, ~fixed)
    # Each row of `out` is the sum of its cell's split over the values chosen.
    picked = table[table["w"].isin(chosen) & hidden][[time, "cell"]].drop_duplicates()
    keys = out[[time]].assign(cell=(out["dim"] + PAIR + out["group"]).where(out["dim"] != column, PAIR))
    found = keys.reset_index().merge(picked, on=[time, "cell"])
    return pd.Series(out.index.isin(found["index"]), index=out.index)


def _cut_table(whole: pd.DataFrame, column: str, time: str) -> pd.DataFrame:
    """`whole` as the table a filter on `column` cuts: each row's `cell` (PAIR for the total,
    'dim|group' for a breakdown's cell), `w` (the value of `column` for a part of that cell,
    None for the cell itself) and `dim`."""
    is_pair = whole["dim"].str.contains(PAIR, regex=False)
    by_column = whole["dim"] == column
    cell = (whole["dim"] + PAIR + whole["group"]).where(~is_pair & ~by_column & (whole["dim"] != ""), PAIR)
    w = pd.Series(None, index=whole.index, dtype="object")
    w[by_column] = whole.loc[by_column, "group"]
    pairs = whole.loc[is_pair, "group"].str.rsplit(PAIR, n=1)
    cell[is_pair] = whole.loc[is_pair, "dim"].str.rsplit(PAIR, n=1).str[0] + PAIR + pairs.str[0]
    w[is_pair] = pairs.str[1]
    dim = whole["dim"].where(~is_pair, whole["dim"].str.rsplit(PAIR, n=1).str[0])
    return whole.assign(cell=cell, w=w, dim=dim)


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
    if "count" in frame.columns:  # the records behind a median or an average (engine)
        parts += ("count",)
    lifted = {column: (result.filter_values[column], whole) for column, whole in result.lifted.items()}
    return suppress(frame, result.settings.min_cell, is_count, parts, lifted=lifted)


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

    stated = result.indicator is not None and result.indicator.baseline is not None
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
