"""The figures of a page, computed: every series through the one compiler (`measures`),
with the same filter binding, year filling and duplicate exclusion as the indicators, and
ratios through the engine's one ratio function. Nothing here knows a table, a threshold
or a country: all of it comes from the indicator file.

A figure's values are one tidy frame: `series, year, period, dim, group, value` (plus
`numerator, denominator` for ratios, and `count, min, p25, median, p75, max` for a box),
where dim '' is the total. `privacy.suppress_figure` hides small counts in it once; the
present layer draws what it is given."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from cpc_monitor.definitions.figures import Figure
from cpc_monitor.definitions.indicators import ADDITIVE_AGGS, IndicatorSet, Issue, Measure
from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import data_span
from cpc_monitor.evaluation.ratios import combine, scale
from cpc_monitor.evaluation.measures import (DATA_SPAN, Filters, MeasureProblem, compile_measure, run, source_columns, source_sql,
                                             unknown_name)
from cpc_monitor.store import db
from cpc_monitor.store.schema import TABLES

# The spread a box shows, beside the series' own aggregate (a median).
BOX_AGGS = ("min", "p25", "median", "p75", "max")


@dataclass(frozen=True)
class SeriesInfo:
    """One series of a figure: what it is called and how its values are suppressed."""

    ref: str
    label: str
    unit: str
    value_is_count: bool
    counted: tuple[str, ...] = ()  # other columns that count records (a ratio's parts, a box's n)
    hidden_with: tuple[str, ...] = ()  # columns hidden whenever a row is
    cumulative: bool = False  # a running total, not a value per period


@dataclass
class Pace:
    """How fast a running total approaches its total (a funding envelope): to date, what is
    left, the average per period over the last periods, and the periods that would take."""

    to_date: float | None
    total: float
    left: float | None
    per_period: float | None
    periods_averaged: int
    periods_to_finish: float | None
    as_of: str | None
    others: dict[str, float | None] = field(default_factory=dict)  # label -> to date, for further series


@dataclass
class FigureValues:
    """One figure with its values, ready for privacy and then for drawing."""

    page: str
    figure: Figure
    frame: pd.DataFrame
    series: list[SeriesInfo]
    min_cell: int  # from the indicator file's defaults
    reference: list[tuple[int, float]] = field(default_factory=list)  # the reference indicator's targets
    reference_label: str = ""
    rows: pd.DataFrame | None = None  # kind table: the listing
    groups: dict[str, list[str]] = field(default_factory=dict)  # dim -> its groups, in order
    pace: Pace | None = None
    problems: list[str] = field(default_factory=list)
    suppressed: bool = False  # privacy.suppress_figure has been applied
    # dim -> code -> name, read from the reference table the dim is the key of (a space's
    # name from child_friendly_spaces): reference data, not labels written by hand.
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    # series -> filtered column -> (the values chosen, the series with that filter lifted, each
    # cell also split by the column): privacy compares them, as it does an indicator's.
    lifted: dict[str, dict[str, tuple[tuple[str, ...], pd.DataFrame]]] = field(default_factory=dict)

    def labels(self, labels: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        """The indicator file's labels with this figure's reference names over them."""
        return {**labels, **{dim: {**labels.get(dim, {}), **names} for dim, names in self.names.items()}}

    def of(self, ref: str) -> pd.DataFrame:
        """The rows of one series."""
        return self.frame[self.frame["series"] == ref].reset_index(drop=True)


# ----------------------------------------------------------------------------- evaluating


def evaluate_page(db_path: str | Path, iset: IndicatorSet, page: str, filters: Filters = Filters()
                  ) -> list[FigureValues]:
    """Every figure the indicator file declares for `page`, on one read-only connection."""
    with db.reading(db_path) as con:
        tables = db.table_columns(con)
        batch: dict = {DATA_SPAN: data_span(con, tables)}  # TIP years: only those the data cover whole
        return [evaluate_figure(con, iset, page, figure, tables, filters, batch)
                for figure in iset.figures.get(page, [])]


def evaluate_kinds(db_path: str | Path, iset: IndicatorSet, kinds: tuple[str, ...], filters: Filters = Filters()
                   ) -> list[FigureValues]:
    """Every declared figure of one of `kinds`, on any page, on one read-only connection (the
    briefing pack takes its funding and map figures this way)."""
    wanted = [(page, f) for page, figures in iset.figures.items() for f in figures if f.kind in kinds]
    if not wanted:
        return []
    with db.reading(db_path) as con:
        tables = db.table_columns(con)
        batch: dict = {DATA_SPAN: data_span(con, tables)}
        return [evaluate_figure(con, iset, page, figure, tables, filters, batch) for page, figure in wanted]


def evaluate_figure(con: db.Connection, iset: IndicatorSet, page: str, figure: Figure,
                    tables: dict[str, tuple[str, ...]], filters: Filters, batch: dict) -> FigureValues:
    """One figure; a series that cannot be computed is a problem of the figure, not an error."""
    out = FigureValues(page, figure, _empty_frame(), [], iset.defaults.min_cell)
    if figure.reference:
        target = iset.indicator(figure.reference)
        if target is not None:
            out.reference = [(t.year, t.value) for t in target.targets]
            out.reference_label = target.name
    if figure.kind == "table":
        out.rows = _listing(con, figure, tables, filters, out.problems)
        return out
    if figure.table and figure.columns:  # a map's places (its markers), listed as a table is
        out.rows = _listing(con, figure, tables, filters, out.problems)
    frames = []
    for series in figure.series:
        info, parts, factor = _resolve(iset, series.ref, series.label, series.unit)
        indicator = iset.indicator(series.ref)  # an indicator's series counts in its own period
        frame, failure = _limited_series(con, iset, figure, parts, factor, tables, filters, batch,
                                         indicator.period if indicator is not None else "calendar")
        if failure:
            out.problems.append(f"{info.label}: {failure}")
            continue
        out.series.append(_boxed(info) if figure.kind == "box" else info)
        frames.append(frame.assign(series=series.ref))
        if info.value_is_count or info.counted or figure.kind == "box":
            out.lifted[series.ref] = _lifted(con, iset, figure, parts, factor, tables, filters, batch,
                                             indicator.period if indicator is not None else "calendar")
    if frames:
        out.frame = _ordered(pd.concat(frames, ignore_index=True))
    out.groups = {dim: _groups(iset, dim, out.frame) for dim in figure.breakdowns}
    out.names = reference_names(con, figure.breakdowns, tables, batch)
    if figure.kind == "pace" and out.series and out.reference:
        out.pace = _pace(out, figure.pace_periods)
    return out


def _limited_series(con, iset: IndicatorSet, figure: Figure, parts: dict[str, Measure], factor: float, tables,
                    filters: Filters, batch: dict, period: str, pairs_with: str | None = None
                    ) -> tuple[pd.DataFrame | None, str]:
    """One series under the query time limit (as an indicator is): its frame, or why not.
    `pairs_with`: a filtered column each breakdown is also split by (see _lifted)."""
    with db.time_limit(con) as watch:
        try:
            return _series_frame(con, iset, figure, parts, factor, tables, filters, batch, period, pairs_with), ""
        except MeasureProblem as problem:
            failure = str(problem).strip().splitlines()[0]
        except db.SqlError as exc:
            if isinstance(exc, db.FileDamaged):  # the file, not this series: db.reading says so
                raise
            failure = db.failure_text(exc)
    return None, watch.message if watch.stopped else failure


def check_figures(con: db.Connection, iset: IndicatorSet, tables: dict[str, tuple[str, ...]]) -> list[Issue]:
    """Every declared figure against the database (tables, columns, breakdowns), as
    `validate --db` reports them: one error per problem, on the figure's line."""
    issues = []
    batch: dict = {}
    for page, figures in iset.figures.items():
        for figure in figures:
            values = evaluate_figure(con, iset, page, figure, tables, Filters(), batch)
            for problem in values.problems:
                issues.append(Issue("error", iset.file, iset.figure_line(page, figure.id), None,
                                    f"figure {page}/{figure.id}: {problem}"))
    return issues


def _resolve(iset: IndicatorSet, ref: str, label: str | None, unit: str | None
             ) -> tuple[SeriesInfo, dict[str, Measure], float]:
    """A series reference as its measures (one, or a ratio's two), factor and suppression."""
    indicator = iset.indicator(ref)
    if indicator is not None:
        parts, factor, unit = indicator.parts, indicator.factor, indicator.unit
        label = label or indicator.name
    else:
        measure = iset.measures[ref]
        parts, factor = {"measure": measure}, 1.0
        unit = unit or ("count" if measure.agg in privacy.COUNTING_AGGS else "value")
        label = label or ref.replace("_", " ").capitalize()
    is_count, counted = privacy.result_counts(unit, {role: m.agg for role, m in parts.items()})
    cumulative = bool(parts.get("measure", parts.get("numerator")).cumulative)
    return SeriesInfo(ref, label, unit, is_count, counted, cumulative=cumulative), parts, factor


def _boxed(info: SeriesInfo) -> SeriesInfo:
    """A box's series: judged by how many records stand behind it, its spread hidden with it."""
    return replace(info, counted=info.counted + ("count",), hidden_with=BOX_AGGS)


def _lifted(con, iset: IndicatorSet, figure: Figure, parts: dict[str, Measure], factor: float, tables,
            filters: Filters, batch: dict, period: str) -> dict[str, tuple[tuple[str, ...], pd.DataFrame]]:
    """For each column filter the series takes: the values chosen, and the series with that
    one filter lifted, each cell also split by the column. A figure under a filter is then
    suppressed against what the same figure shows without it (privacy._across_filter), so
    that no screen less another gives back a hidden count."""
    declared = tuple(iset.dimensions)
    taken = {c for m in parts.values() for c in filters.applied_to(source_columns(m.table, tables, declared))}
    out = {}
    for column in sorted(taken):
        wider = replace(filters, **{column: ()})
        frame, failure = _limited_series(con, iset, figure, parts, factor, tables, wider, batch, period,
                                         pairs_with=column)
        if frame is not None:
            out[column] = (filters.column_values()[column], frame)
    return out


def _series_frame(con, iset: IndicatorSet, figure: Figure, parts: dict[str, Measure], factor: float,
                  tables, filters: Filters, batch: dict, period: str = "calendar", pairs_with: str | None = None
                  ) -> pd.DataFrame:
    """One series' values: compiled and run per part, combined, cut to the years chosen."""
    grain = "year" if figure.grain == "period" else figure.grain
    dims = ("parish",) if figure.kind == "parish_map" else figure.breakdowns
    if pairs_with is not None and pairs_with not in dims:
        dims += (pairs_with,)

    def values(measure: Measure, check: bool = False):
        compiled = compile_measure(con, measure, iset.segments, tables, dims, filters, batch, iset.dimensions, grain,
                                   period, pairs_with=pairs_with)
        if check and compiled.missing_dims:  # a figure that asks for a breakdown must get it
            columns = source_columns(measure.table, tables, tuple(iset.dimensions))
            raise MeasureProblem(f"cannot break down by '{compiled.missing_dims[0]}': "
                                 + unknown_name(f"column in '{measure.table}' called", compiled.missing_dims[0], columns))
        return run(con, compiled, batch)

    ran = {role: values(m, check=role in ("measure", "numerator")) for role, m in parts.items()}
    frame = combine(ran, factor) if "numerator" in ran else scale(ran["measure"].frame, factor)
    if "numerator" not in ran and parts["measure"].agg in ADDITIVE_AGGS and figure.kind != "box":
        frame = _fill_groups(frame, iset, dims, filters)
    if figure.kind == "box":
        measure = parts["measure"]
        for agg in BOX_AGGS:
            spread = values(measure.model_copy(update={"agg": agg})).frame
            frame = frame.merge(spread.rename(columns={"value": agg}), how="left")
        counted = Measure(table=measure.table, agg="count", date=measure.date, year=measure.year,
                          where=measure.where, until=measure.until)
        frame = frame.merge(values(counted).frame.rename(columns={"value": "count"}), how="left")
    if filters.year_from is not None:
        frame = frame[frame["year"] >= filters.year_from]
    if filters.year_to is not None:
        frame = frame[frame["year"] <= filters.year_to]
    if "period" not in frame.columns:
        frame = frame.assign(period=frame["year"].astype("str"))
    if figure.grain == "period":
        frame = _over_period(frame, factor)
    return frame.reset_index(drop=True)


def _fill_groups(frame: pd.DataFrame, iset: IndicatorSet, dims: tuple[str, ...], filters: Filters) -> pd.DataFrame:
    """Every group the file knows for each breakdown (a dimension's bands, the labels listed
    for a column) present in every period, 0 where nothing was counted: a parish with no
    sessions reads 0, not "outside the filter". Groups a filter leaves out stay out."""
    chosen = filters.column_values()
    key = ["year", "period"] if "period" in frame.columns else ["year"]
    missing = []
    periods = frame.loc[frame["dim"] == "", key].drop_duplicates()
    for dim in dims:
        declared = iset.dimensions.get(dim)
        known = declared.groups if declared else list(iset.labels.get(dim, {}))
        if dim in chosen:
            known = [g for g in known if g in chosen[dim]]
        seen = set(frame.loc[frame["dim"] == dim, "group"])
        if dim not in set(frame["dim"]) or not known:
            continue  # this table has no such column: nothing to fill
        absent = [g for g in known if g not in seen]
        if absent:
            missing.append(periods.merge(pd.DataFrame({"dim": dim, "group": absent}), how="cross").assign(value=0.0))
    return pd.concat([frame, *missing], ignore_index=True) if missing else frame


def _over_period(frame: pd.DataFrame, factor: float) -> pd.DataFrame:
    """One value per group over the whole span: a sum, or a ratio of summed parts."""
    if frame.empty:
        return frame
    first, last = int(frame["year"].min()), int(frame["year"].max())
    span = str(first) if first == last else f"{first}–{last}"
    keys = ["dim", "group"]
    if "numerator" in frame.columns:
        summed = frame.groupby(keys, as_index=False, sort=False)[["numerator", "denominator"]].sum(min_count=1)
        summed["value"] = (summed["numerator"] / summed["denominator"].where(summed["denominator"] != 0)
                           * factor).round(9)
    else:
        summed = frame.groupby(keys, as_index=False, sort=False)["value"].sum(min_count=1)
    return summed.assign(year=last, period=span)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["series", "year", "period", "dim", "group", "value"]
    return frame[columns + [c for c in frame.columns if c not in columns]]


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({"series": pd.Series([], dtype="str"), "year": pd.Series([], dtype="int64"),
                         "period": pd.Series([], dtype="str"), "dim": pd.Series([], dtype="str"),
                         "group": pd.Series([], dtype="str"), "value": pd.Series([], dtype="float64")})


def _groups(iset: IndicatorSet, dim: str, frame: pd.DataFrame) -> list[str]:
    """A breakdown's groups in the order the file gives them (a dimension's bands, the
    labels' order), then any other group the data holds."""
    declared = iset.dimensions.get(dim)
    known = declared.groups if declared else list(iset.labels.get(dim, {}))
    seen = frame.loc[frame["dim"] == dim, "group"].drop_duplicates().tolist() if not frame.empty else []
    present = [g for g in known if g in seen]
    return present + sorted(g for g in seen if g not in known)


def reference_names(con, dims: tuple[str, ...], tables: dict[str, tuple[str, ...]], batch: dict | None = None
                    ) -> dict[str, dict[str, str]]:
    """dim -> code -> name for each breakdown that is the whole key of a reference table
    with a `name` column (space_id -> child_friendly_spaces.name): names of places are
    reference data, read from the database rather than written into the indicator file."""
    out: dict[str, dict[str, str]] = {}
    cache = batch if batch is not None else {}
    for dim in dims:
        table = next((t for t in TABLES.values() if t.key == (dim,) and "name" in t.column_names
                      and t.name in tables and "name" in tables[t.name]), None)
        if table is None:
            continue
        key = ("reference_names", table.name)
        if key not in cache:
            rows = con.execute(f'SELECT CAST("{dim}" AS TEXT), "name" FROM "{table.name}" '
                               f'WHERE "name" IS NOT NULL').fetchall()
            cache[key] = {str(code): str(name) for code, name in rows}
        if cache[key]:
            out[dim] = cache[key]
    return out


def _listing(con, figure: Figure, tables, filters: Filters, problems: list[str]) -> pd.DataFrame | None:
    """kind table: the chosen columns of a reference table, in the parishes the filter allows."""
    table = str(figure.table)
    if table not in tables:
        problems.append(f"there is no table '{table}' in this database.")
        return None
    missing = [c for c in figure.columns if c not in tables[table]]
    if missing:
        problems.append(f"the table '{table}' has no column {', '.join(repr(c) for c in missing)}.")
        return None
    conditions, params = ["TRUE"], []
    for column, chosen in filters.column_values().items():
        if column in tables[table]:
            conditions.append(f"list_contains(?::TEXT[], CAST({column} AS TEXT))")
            params.append(list(chosen))
    columns = ", ".join(f'"{c}"' for c in figure.columns)
    return con.execute(f"SELECT {columns} FROM ({source_sql(table, tables)}) WHERE {' AND '.join(conditions)} "
                       f"ORDER BY ALL", params).df()


def _pace(values: FigureValues, periods: int) -> Pace:
    """The first series' running total against the reference's last target."""
    total = values.reference[-1][1]
    first = values.series[0]
    totals = values.of(first.ref)
    totals = totals[totals["dim"] == ""]
    known = totals.dropna(subset=["value"])
    to_date = float(known["value"].iloc[-1]) if not known.empty else None
    steps = totals["value"].diff()
    if not totals.empty:
        steps.iloc[0] = totals["value"].iloc[0]
    recent = steps.tail(periods).dropna()
    per_period = float(recent.mean()) if not recent.empty else None
    left = max(total - to_date, 0.0) if to_date is not None else None
    finish = left / per_period if left is not None and per_period and per_period > 0 else None
    others = {}
    for info in values.series[1:]:
        rows = values.of(info.ref)
        rows = rows[(rows["dim"] == "")].dropna(subset=["value"])
        others[info.label] = float(rows["value"].iloc[-1]) if not rows.empty else None
    return Pace(to_date, total, left, per_period, len(recent), finish,
                str(totals["period"].iloc[-1]) if not totals.empty else None, others)


def with_frame(values: FigureValues, frame: pd.DataFrame, **changes: object) -> FigureValues:
    """A copy of `values` with another frame (privacy's result)."""
    return replace(values, frame=frame, **changes)
