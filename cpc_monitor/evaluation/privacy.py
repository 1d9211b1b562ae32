"""Small-cell suppression: the one function that serves the screen's presentation-safe
mode, every download and export, and `evaluate --suppress`.

Counts from 1 to min_cell-1 are hidden ("<5"), and so is a part whose rest (total less
part) is one; a rate is hidden when its numerator or denominator is; a median over too
few records is hidden; and wherever a sum (a breakdown and its total, or under a filter
a cell split over the filtered column's values) would give back a single hidden count,
the next smallest is hidden too, until none would (secondary suppression). Breakdowns by
columns that identify single records are refused. docs/indicators.md, "Privacy"."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

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
    hidden = np.zeros(len(out), dtype=bool)
    if columns and not out.empty:
        cells = _Cells.of(out, columns)
        hidden = _small(cells.counts, min_cell) | _small_rest(cells, min_cell)
        for column, (chosen, whole) in (lifted or {}).items():
            hidden |= _across_filter(cells, column, chosen, _Cells.of(whole, columns), min_cell)
        hidden = _protect(cells.counts, hidden, _breakdown_lines(cells))
    out["suppressed"] = hidden
    # A counted denominator goes with its row; a population or an amount of money stays, as
    # it gives nothing away (a population of 2.7m).
    for column in ["value", "numerator"] + list(counted_parts) + list(hidden_with):
        if column in out.columns:
            out[column] = out[column].astype("float64").where(~out["suppressed"])
    return out


@dataclass
class _Cells:
    """A frame's rows as plain lists and one array of counts: suppression walks many small
    sums, which pandas makes slow (a filtered overview ran for seconds)."""

    times: list
    dims: list[str]
    groups: list[str]
    counts: np.ndarray  # rows x counted columns, 0 where empty

    @classmethod
    def of(cls, frame: pd.DataFrame, columns: list[str]) -> _Cells:
        time = "period" if "period" in frame.columns else "year"
        dims = frame["dim"].tolist() if "dim" in frame.columns else [""] * len(frame)
        groups = frame["group"].tolist() if "group" in frame.columns else [""] * len(frame)
        counts = np.nan_to_num(frame[columns].to_numpy(dtype="float64"), nan=0.0)
        return cls(frame[time].tolist(), dims, groups, counts)


def _small(counts: np.ndarray, min_cell: int) -> np.ndarray:
    """Rows with a small count (1 to min_cell-1) in one of the counted columns."""
    return ((counts >= 1) & (counts < min_cell)).any(axis=1)


def _small_rest(cells: _Cells, min_cell: int) -> np.ndarray:
    """Parts of a breakdown whose rest (the year's total less the part) is a small count:
    shown beside the total, such a part gives that small count back."""
    totals = {t: i for i, (t, d) in enumerate(zip(cells.times, cells.dims)) if d == ""}
    out = np.zeros(len(cells.dims), dtype=bool)
    for i, (t, d) in enumerate(zip(cells.times, cells.dims)):
        if d and t in totals:
            out[i] = _small(cells.counts[totals[t]][None, :] - cells.counts[i][None, :], min_cell)[0]
    return out


def _breakdown_lines(cells: _Cells) -> list[np.ndarray]:
    """Each breakdown (one year or period, one dim) as a sum: the positions of its parts,
    then of its total (the row whose dim is '')."""
    totals, parts = {}, {}
    for i in range(len(cells.dims)):
        if cells.dims[i] == "":
            totals[cells.times[i]] = i
        else:
            parts.setdefault((cells.times[i], cells.dims[i]), []).append(i)
    return [_line(found, totals.get(key[0])) for key, found in parts.items()]


def _line(parts: list[int], total: int | None) -> np.ndarray:
    """A sum's positions as integers: its parts, then its total when it has one."""
    return np.asarray(parts + ([total] if total is not None else []), dtype=np.int64)


def _protect(counts: np.ndarray, hidden: np.ndarray, lines: list[np.ndarray],
             free: np.ndarray | None = None) -> np.ndarray:
    """Secondary suppression. A line is a sum (the positions of its parts and of their total);
    where a single term of a line holds a hidden positive count, the sum of the others gives
    it back, so the shown (and `free`: not fixed by another screen) term with the smallest
    positive count in that column is hidden too. Repeated until no line changes."""
    mask = hidden.copy()
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
    return mask


def _across_filter(out: _Cells, column: str, chosen: tuple[str, ...], whole: _Cells, min_cell: int) -> np.ndarray:
    """The rows of `out` (values under a filter on `column`) that must be hidden because of
    what the screens without that filter show.

    `whole` is the table the filter cuts: every total and breakdown cell without the filter,
    each split by `column` (the splits of the breakdown cells are its 'dim|column' rows).
    What the unfiltered screen shows of it is fixed: hidden as that screen hides it. Every
    split cell is hidden when it is small or when the rest of its cell is; then secondary
    suppression runs over the table's sums (a cell's split over the values of `column`, and
    each value's breakdown), the same on every filtered screen, so that no screen's shown
    numbers less another's give back a count that either hides."""
    shown_dims = set(out.dims) - {""}
    table = [_cut(d, g, column) for d, g in zip(whole.dims, whole.groups)]  # (dim, cell, w)
    n = len(table)
    fixed = np.array([w is None or (d == column and column in shown_dims) for d, _, w in table], dtype=bool)
    at = {(t, cell, w): i for i, (t, (_, cell, w)) in enumerate(zip(whole.times, table))}
    # What the unfiltered screen shows, hidden as it hides it (its own small counts and sums).
    seen = [i for i in range(n) if fixed[i]]
    plain = _Cells([whole.times[i] for i in seen], [table[i][0] for i in seen], [""] * len(seen), whole.counts[seen])
    shown_hidden = _protect(plain.counts, _small(plain.counts, min_cell) | _small_rest(plain, min_cell),
                            _breakdown_lines(plain))
    hidden = _small(whole.counts, min_cell)
    hidden[seen] = shown_hidden
    lines: dict[tuple, list[int]] = {}
    for i, (t, (dim, cell, w)) in enumerate(zip(whole.times, table)):
        if fixed[i]:
            continue
        margin = at.get((t, cell, None))
        if margin is not None:  # the rest of the cell, less this part
            hidden[i] |= _small(whole.counts[margin][None, :] - whole.counts[i][None, :], min_cell)[0]
        lines.setdefault(("cell", t, cell), []).append(i)
        if cell != PAIR:
            lines.setdefault(("value", t, dim, w), []).append(i)
    sums = [_line(found, at.get((key[1], key[2], None)) if key[0] == "cell" else at.get((key[1], PAIR, key[3])))
            for key, found in lines.items()]
    hidden = _protect(whole.counts, hidden, sums, ~fixed)
    # Each row of `out` is the sum of its cell's split over the values chosen.
    picked = {(whole.times[i], table[i][1]) for i in range(n) if hidden[i] and table[i][2] in chosen}
    keys = [(t, PAIR if d in ("", column) else d + PAIR + g) for t, d, g in zip(out.times, out.dims, out.groups)]
    return np.array([key in picked for key in keys], dtype=bool)


def _cut(dim: str, group: str, column: str) -> tuple[str, str, str | None]:
    """A row of the table a filter on `column` cuts, as (its breakdown's dim, the cell it is
    part of or is: PAIR for the total, 'dim|group' for a breakdown's cell, and the value of
    `column` it holds, None for a cell itself)."""
    if PAIR in dim:
        base, (cell, value) = dim.rsplit(PAIR, 1)[0], group.rsplit(PAIR, 1)
        return base, base + PAIR + cell, value
    if dim == column:
        return dim, PAIR, group
    return dim, (dim + PAIR + group) if dim else PAIR, None


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
            rows = suppress(rows, values.min_cell, info.value_is_count, info.counted, info.hidden_with,
                            lifted=values.lifted.get(info.ref))
        parts.append(rows.assign(suppressed=rows.get("suppressed", False)))
    out = pd.concat(parts) if parts else frame.assign(suppressed=False)
    pace = values.pace
    if pace is not None and values.series and values.series[0].value_is_count and is_small(pace.to_date, values.min_cell):
        pace = None  # a running count this small is itself a hidden cell
    return with_frame(values, out.sort_index(), suppressed=True, pace=pace)


def hidden_years(values: pd.DataFrame) -> set[int]:
    """The years whose total a result_values frame hides (none where nothing is suppressed)."""
    if values is None or values.empty:
        return set()
    totals = values[(values["dim"] == "") & values["suppressed"]]
    return set(totals["year"].astype(int))


def shown_assessment(result, safe: bool, shown: pd.DataFrame | None = None):
    """An indicator's assessment as a screen, a download or a slide may show it. In safe
    mode, every figure derived from a hidden value is hidden with it (None): a hidden latest
    value takes with it the distance covered, the yearly change, the projection and the pace
    ratio, which would otherwise give it back through the baseline and target; a hidden
    measured baseline takes the change needed. A stated baseline is the file's, never hidden.
    `shown`: result_values(result, True) where the caller holds it already (a scorecard)."""
    a = result.assessment
    if a is None or not safe:
        return a
    hidden_in = hidden_years(shown if shown is not None else result_values(result, True))
    is_count, _ = result_counts(result.unit, result.counted_kinds)
    limit = min_cell_of(result)

    def hidden(year: int | None, value: float | None) -> bool:
        return year in hidden_in or (is_count and value is not None and is_small(round(value), limit))

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
