"""Evaluation: every indicator's yearly values and its progress toward 2030.

One read-only connection serves a whole evaluation (stack.md: connect once per batch).
One indicator's problem never stops the others: it comes back with status "error"
and its messages, and the rest are evaluated."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from cpc_monitor.store import db

from cpc_monitor.evaluation import privacy, progress, verdicts
from cpc_monitor.errors import DatabaseUnusable, IdentifierBreakdown
from cpc_monitor.definitions.indicators import Indicator, IndicatorSet, Issue, Measure, Settings, Target
from cpc_monitor.store.schema import SCHEMA_VERSION
from cpc_monitor.evaluation.ratios import combine, scale
from cpc_monitor.evaluation.measures import (DATA_SPAN, Compiled, Filters, MeasureProblem, compile_measure, run,
                                             unknown_name, source_columns)

ERROR = "error"  # the status of an indicator that could not be evaluated

# Tables whose newest date says how current the data is ("data to 31 Dec 2025").
_EVENT_DATES = {"cases": "opened_date", "victims": "identified_date", "prosecutions": "charged_date",
                "cfs_sessions": "session_date", "funding": "entry_date", "trainings": "start_date"}


@dataclass(frozen=True)
class Plan:
    """What an indicator is judged against: its stated baseline and targets, national or, under
    a filter to one part of the country that the file gives targets for, that part's own."""

    baseline: Target | None
    targets: list[Target]
    scope: str = ""  # "" for national; the part, e.g. "parish KIN"; "subset" for a part with no targets

    @classmethod
    def national(cls, ind: Indicator) -> Plan:
        return cls(ind.baseline, list(ind.targets))


def plan_for(ind: Indicator, filters: Filters, applied: set[str]) -> Plan | None:
    """The plan for `ind` under `filters`: national with no filter applied to it; a part's own
    when the one filter applied picks one value the file has targets for; None otherwise (a
    subset with no targets of its own is not judged)."""
    if not applied:
        return Plan.national(ind)
    if len(applied) != 1:
        return None
    column = next(iter(applied))
    chosen = filters.column_values().get(column, ())
    part = ind.targets_by.get(column, {}).get(chosen[0]) if len(chosen) == 1 else None
    return Plan(part.baseline, list(part.targets), f"{column} {chosen[0]}") if part else None


@dataclass
class IndicatorResult:
    """One indicator evaluated: its values, its status and what stands behind it."""

    id: str
    name: str
    pillar: str
    unit: str
    direction: str
    status: str
    indicator: Indicator | None = None
    settings: Settings | None = None
    # year, dim ('' for totals), group, value (+ numerator, denominator for ratios)
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    assessment: progress.Assessment | None = None
    milestones: list[progress.MilestoneCheck] = field(default_factory=list)
    measured_baseline: float | None = None  # the database's value in a stated baseline's year
    errors: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    filters_applied: dict[str, tuple[str, ...]] = field(default_factory=dict)  # role -> filter names
    counted_kinds: dict[str, str] = field(default_factory=dict)  # role -> agg, for suppression
    # For suppression under a column filter (privacy._across_filter): the values chosen for each
    # filtered column, and the values with that one filter lifted, broken down by it as well.
    filter_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lifted: dict[str, pd.DataFrame] = field(default_factory=dict)
    verdict: verdicts.Verdict | None = None  # what the screens say: the status and its evidence
    plan: Plan | None = None  # the baseline and targets judged against (national, or a subset's own)
    period: str = "calendar"  # how its dates became years: its own `period:`, or the sidebar's choice

    @property
    def kind(self) -> str:
        """outcome, or input (money, trainings: kept out of the pillar's outcome score)."""
        return self.indicator.kind if self.indicator is not None else "outcome"

    @property
    def totals(self) -> pd.DataFrame:
        """The yearly totals (no disaggregation)."""
        if self.values.empty:
            return self.values
        return self.values[self.values["dim"] == ""].reset_index(drop=True)

    def series(self) -> dict[int, float | None]:
        """year -> total value (None where there is no value)."""
        totals = self.totals
        if totals.empty:
            return {}
        return {int(y): (None if v != v else float(v))  # v != v: NaN
                for y, v in zip(totals["year"].tolist(), totals["value"].tolist())}

    @property
    def latest(self) -> tuple[int | None, float | None]:
        """The latest year with a value, and that value."""
        known = [(y, v) for y, v in self.series().items() if v is not None]
        return known[-1] if known else (None, None)

    @property
    def target(self) -> tuple[int, float] | None:
        """The last target (the one status is judged against)."""
        targets = self.plan.targets if self.plan else self.indicator.targets if self.indicator else []
        return (targets[-1].year, targets[-1].value) if targets else None

    @property
    def baseline(self) -> tuple[int | None, float | None]:
        """The baseline used for the judgement (stated, or measured)."""
        if self.assessment:
            return self.assessment.base_year, self.assessment.base_value
        return None, None


@dataclass
class Evaluation:
    """Every indicator evaluated against one database."""

    results: list[IndicatorResult]
    issues: list[Issue]
    info: dict[str, str]
    as_of: date | None
    goal_year: int

    def result(self, indicator_id: str) -> IndicatorResult | None:
        return next((r for r in self.results if r.id == indicator_id), None)

    @property
    def synthetic(self) -> bool:
        return self.info.get("synthetic") == "true"

    def pillars(self, kind: str = "outcome") -> dict[str, progress.PillarRollup]:
        """Each pillar's roll-up of its evaluated indicators of `kind`: its outcomes (the
        pillar's score), or its inputs (money, trainings), which are shown beside it."""
        out = {}
        for pillar in ("prosecution", "protection", "prevention", "partnership"):
            # Too few cases, or a subset: shown, but not counted in the pillar's judgement.
            out[pillar] = progress.pillar_rollup(
                [r.assessment for r in self.members(pillar, kind) if r.assessment is not None
                 and (r.verdict is None or r.verdict.code in progress.STATUSES)])
        return out

    def members(self, pillar: str, kind: str | None = None) -> list[IndicatorResult]:
        """The results of `pillar`, of one kind (outcome or input) or of both (None)."""
        return [r for r in self.results if r.pillar == pillar and (kind is None or r.kind == kind)]


def evaluate(db_path: str | Path, iset: IndicatorSet, ids: list[str] | None = None,
             by: str | None = None, filters: Filters = Filters(), breakdowns: bool = True) -> Evaluation:
    """Evaluate the indicators of `iset` (or those in `ids`) on the database at `db_path`.

    `by` breaks every indicator down by that one column; without it each indicator is
    broken down by its own `disaggregations`, unless `breakdowns` is False (totals only:
    what a scorecard needs, several times faster)."""
    if by and privacy.identifier_problem(by):
        raise IdentifierBreakdown(f"cannot break down by {privacy.identifier_problem(by)}")
    with db.reading(db_path) as con:
        tables = db.table_columns(con)
        if "schema_info" not in tables:
            raise DatabaseUnusable(f"{db_path} is not a CPC Monitor database (it has no schema_info table). "
                                   "Build one with `python -m cpc_monitor init` or `sample`.")
        info = db.info(con)
        if int(info.get("schema_version", "0") or 0) > SCHEMA_VERSION:
            raise DatabaseUnusable(f"{db_path} was written by a newer CPC Monitor (schema version "
                                   f"{info['schema_version']}); update this copy of CPC Monitor to read it.")
        data_from, as_of = data_span(con, tables)
        results = []
        # What the measures of this one connection share; the data's span ends TIP years.
        batch: dict = {DATA_SPAN: (data_from, as_of)}
        for key, (label, pillar, issues) in iset.broken.items():
            if ids is None or key in ids:
                results.append(IndicatorResult(key, label, pillar, "", "", ERROR, errors=issues))
        for ind in iset.indicators:
            if ids is None or ind.id in ids:
                dims = (by,) if by else tuple(ind.disaggregations) if breakdowns else ()
                results.append(_evaluate_limited(con, iset, ind, tables, dims, filters, batch))
    order = {key: i for i, key in enumerate(iset.index)}
    results.sort(key=lambda r: order.get(r.id, len(order)))
    issues = list(iset.issues) + [e for r in results if r.indicator is not None for e in r.errors]
    return Evaluation(results, issues, info, as_of, iset.goal.year)


def data_years(db_path: str | Path) -> tuple[int, int] | None:
    """The first and last year the database's events cover (None for a database without events)."""
    with db.reading(db_path) as con:
        first, last = data_span(con, db.table_columns(con))
    return (first.year, last.year) if first is not None and last is not None else None


def data_as_of(con: db.Connection, tables: dict[str, tuple[str, ...]]) -> date | None:
    """The newest event date in the database."""
    return data_span(con, tables)[1]


def data_span(con: db.Connection, tables: dict[str, tuple[str, ...]]) -> tuple[date | None, date | None]:
    """The oldest and the newest event date in the database."""
    parts = [f"SELECT min({col}) AS f, max({col}) AS d FROM {t}" for t, col in _EVENT_DATES.items() if t in tables]
    if not parts:
        return None, None
    first, last = con.execute(f"SELECT min(f), max(d) FROM ({' UNION ALL '.join(parts)})").fetchone()
    return first, last


def check_meaning(con: db.Connection, iset: IndicatorSet) -> list[Issue]:
    """Problems of each indicator against the database: tables, columns, SQL."""
    from cpc_monitor.evaluation.figures import check_figures  # figures builds on this module

    tables = db.table_columns(con)
    out = []
    batch: dict = {}
    for ind in iset.indicators:
        _, issues, _ = compile_indicator(con, iset, ind, tables, tuple(ind.disaggregations), Filters())
        out += issues
        if not issues and ind.baseline is not None:
            result = _evaluate_limited(con, iset, ind, tables, (), Filters(), batch)
            out += result.errors if result.status == ERROR else _baseline_check(result, iset)
    return out + check_figures(con, iset, tables)


def _baseline_check(result: IndicatorResult, iset: IndicatorSet) -> list[Issue]:
    """A warning when a stated baseline is far from what the data give for its year."""
    ind, measured = result.indicator, result.measured_baseline
    if ind is None or ind.baseline is None or measured is None or math.isnan(measured):
        return []
    stated = ind.baseline.value
    tolerance = iset.defaults.baseline_tolerance
    if abs(stated - measured) <= tolerance * max(abs(measured), 1.0):
        return []
    source = f" (source: {ind.baseline.source})" if ind.baseline.source else ""
    return [Issue("warning", iset.file, iset.line(ind.id, "baseline"), ind.id,
                  f"the stated baseline {stated:,.6g}{source} differs from what the database gives for "
                  f"{ind.baseline.year}, {measured:,.6g}, by more than {tolerance:.0%}; check which is right. The "
                  "stated value is the one judged against.")]


def compile_indicator(con: db.Connection, iset: IndicatorSet, ind: Indicator,
                      tables: dict[str, tuple[str, ...]], dims: tuple[str, ...], filters: Filters,
                      batch: dict | None = None, pairs_with: str | None = None
                      ) -> tuple[dict[str, Compiled], list[Issue], list[str]]:
    """Compile each part of `ind`; return the compiled parts, the issues and notes.
    `batch` is shared by the indicators of one evaluation; `pairs_with`: see
    measures.compile_measure."""
    compiled: dict[str, Compiled] = {}
    issues: list[Issue] = []
    for role, measure in ind.parts.items():
        path = (role,) if ind.is_ratio else ("measure",)
        try:
            compiled[role] = compile_measure(con, measure, iset.segments, tables, dims, filters, batch,
                                             iset.dimensions, period=ind.period, pairs_with=pairs_with)
        except MeasureProblem as problem:
            issues.append(Issue("error", iset.file, iset.line(ind.id, *path, *problem.path), ind.id, str(problem)))
    for d in ind.disaggregations:
        if privacy.identifier_problem(d):
            issues.append(Issue("error", iset.file, iset.line(ind.id, "disaggregations"), ind.id,
                                f"cannot break down by {privacy.identifier_problem(d)}"))
    notes = []
    first = compiled.get("measure") or compiled.get("numerator")
    if first is not None:
        for d in first.missing_dims:
            if d in ind.disaggregations:
                cols = source_columns(first.table, tables)
                issues.append(Issue("error", iset.file, iset.line(ind.id, "disaggregations"), ind.id,
                                    f"cannot break down by '{d}': "
                                    + unknown_name(f"column in '{first.table}' called", d, cols)))
            else:
                notes.append(f"'{first.table}' has no column '{d}', so only the totals are shown.")
        den = compiled.get("denominator")
        if den is not None:
            for d in first.dims:
                if d not in den.dims:
                    notes.append(f"The denominator ('{den.table}') has no '{d}': each {d} is divided "
                                 "by the denominator's total.")
    if (filters.period or ind.period) == "tip" and any(c.measure.date for c in compiled.values()):
        for c in compiled.values():
            if c.measure.year:
                notes.append(f"'{c.table}' is kept by year, not by date: its year N is set against TIP year N "
                             "(April of N-1 to March of N).")
    return compiled, issues, notes


def _evaluate_limited(con, iset: IndicatorSet, ind: Indicator, tables, dims: tuple[str, ...], filters: Filters,
                      batch: dict) -> IndicatorResult:
    """One indicator under the query time limit: over it, the indicator is an error naming
    the limit (whatever its queries said when interrupted), and the next one starts afresh."""
    with db.time_limit(con) as watch:
        result = _evaluate_one(con, iset, ind, tables, dims, filters, batch)
    if not watch.stopped:
        return result
    return IndicatorResult(ind.id, ind.name, ind.pillar, ind.unit, ind.direction, ERROR, indicator=ind,
                           settings=result.settings,
                           errors=[Issue("error", iset.file, iset.line(ind.id), ind.id, watch.message)])


def _evaluate_one(con, iset: IndicatorSet, ind: Indicator, tables, dims: tuple[str, ...], filters: Filters,
                  batch: dict) -> IndicatorResult:
    settings = iset.settings(ind)
    result = IndicatorResult(ind.id, ind.name, ind.pillar, ind.unit, ind.direction, ERROR,
                             indicator=ind, settings=settings)
    result.period = filters.period or ind.period
    compiled, issues, notes = compile_indicator(con, iset, ind, tables, dims, filters, batch)
    result.notes = notes
    if issues:
        result.errors = issues
        return result
    result.filters_applied = {role: c.filters_applied for role, c in compiled.items()}
    result.counted_kinds = {role: c.measure.agg for role, c in compiled.items()}
    chosen = filters.column_values()
    result.filter_values = {c: chosen[c] for names in result.filters_applied.values() for c in names}
    try:
        result.values = _values(con, iset, ind, compiled, tables, dims, filters, batch)
        result.lifted = _lifted(con, iset, ind, tables, dims, filters, tuple(result.filter_values), batch)
    except db.SqlError as exc:
        if isinstance(exc, db.FileDamaged):  # the file, not this indicator: db.reading says so
            raise
        result.errors = [Issue("error", iset.file, iset.line(ind.id), ind.id,
                               f"this indicator could not be computed: {db.failure_text(exc)}")]
        return result
    applied = {name for names in result.filters_applied.values() for name in names}
    plan = plan_for(ind, filters, applied)
    # A subset without targets of its own is shown with its trend, never held against national
    # baselines, milestones or targets.
    result.plan = plan or Plan(None, [], "subset")
    _assess(result, ind, settings)
    try:
        cases = _cases_behind(con, iset, ind, result, tables, filters, batch)
    except (MeasureProblem, db.SqlError):
        cases = None
    subset = plan is None
    result.verdict = verdicts.judge(result.status, result.assessment, result.milestones, cases,
                                    settings.min_events, subset, ind.unit, ind.max,
                                    _interval(result, ind, settings))
    return result


def _interval(result: IndicatorResult, ind: Indicator, settings: Settings) -> verdicts.Interval | None:
    """The exact 95% interval around the latest value where it is a count of records or a
    share or rate built on one, with the method's status at both ends. None for amounts,
    medians and running totals, whose evidence is the number of cases alone."""
    a = result.assessment
    if a is None or a.current_year is None or a.current_value is None or a.target is None:
        return None
    latest = result.totals[result.totals["year"] == a.current_year]
    counting = privacy.COUNTING_AGGS
    if latest.empty or (not ind.is_ratio and (ind.parts["measure"].agg not in counting
                                              or ind.parts["measure"].cumulative)):
        return None
    if ind.is_ratio:
        if ind.numerator.agg not in counting:
            return None
        k, n = float(latest["numerator"].iloc[0]), float(latest["denominator"].iloc[0])
        if k != k or n != n or n <= 0:
            return None
        share = ind.denominator.agg in counting and ind.unit == "percent" and k <= n
        low, high = verdicts.exact_interval(k, n if share else None)
        per = ind.factor if share else ind.factor / n  # value = per * (share or count)
    else:
        k = a.current_value / ind.factor
        low, high = verdicts.exact_interval(k)
        per = ind.factor
    ends = [per * low, per * high]
    statuses = [_assess_series({**result.series(), a.current_year: end}, ind, settings, result.plan)[0].status
                for end in ends]
    return verdicts.Interval(ends[0], ends[1], str(getattr(statuses[0], "value", statuses[0])),
                             str(getattr(statuses[1], "value", statuses[1])))


def _values(con, iset: IndicatorSet, ind: Indicator, compiled: dict[str, Compiled], tables,
            dims: tuple[str, ...], filters: Filters, batch: dict, pairs_with: str | None = None) -> pd.DataFrame:
    """The compiled parts run and combined, in the years chosen. A median, average, minimum
    or maximum carries `count`, the records behind each value, so that privacy can hide one
    taken over too few of them (a median over one child is that child's value)."""
    parts = {role: run(con, c, batch) for role, c in compiled.items()}
    values = combine(parts, ind.factor) if ind.is_ratio else scale(parts["measure"].frame, ind.factor)
    measure = ind.parts.get("measure")
    if measure is not None and measure.agg not in privacy.COUNTING_AGGS + ("sum",):
        counted = measure.model_copy(update={"agg": "count", "cumulative": False})
        behind = run(con, compile_measure(con, counted, iset.segments, tables, dims, filters, batch,
                                          iset.dimensions, period=ind.period, pairs_with=pairs_with), batch).frame
        values = values.merge(behind.rename(columns={"value": "count"}), how="left", on=["year", "dim", "group"])
    if filters.year_from is not None:
        values = values[values["year"] >= filters.year_from]
    if filters.year_to is not None:
        values = values[values["year"] <= filters.year_to]
    return values.reset_index(drop=True)


def _lifted(con, iset: IndicatorSet, ind: Indicator, tables, dims: tuple[str, ...], filters: Filters,
            columns: tuple[str, ...], batch: dict) -> dict[str, pd.DataFrame]:
    """For each filtered column: the indicator's values with that one filter lifted, broken
    down by the column as well. Safe mode compares the filtered values with them, so that no
    total less a filtered value gives back a hidden count (privacy._across_filter)."""
    out = {}
    for column in columns:
        wider = dims + ((column,) if column not in dims else ())
        lifted = dataclasses.replace(filters, **{column: ()})
        compiled, issues, _ = compile_indicator(con, iset, ind, tables, wider, lifted, batch, pairs_with=column)
        if not issues:
            out[column] = _values(con, iset, ind, compiled, tables, wider, lifted, batch, pairs_with=column)
    return out


def _cases_behind(con, iset: IndicatorSet, ind: Indicator, result: IndicatorResult, tables, filters: Filters,
                  batch: dict) -> float | None:
    """How many records stand behind the latest value: the value of a count; a ratio's
    denominator (its numerator when only that counts records, as for a rate per 100,000);
    the records a median or average is taken over. None for money and other amounts."""
    a = result.assessment
    if a is None or a.current_year is None:
        return None
    latest = result.totals[result.totals["year"] == a.current_year]
    if latest.empty:
        return None
    counting = privacy.COUNTING_AGGS
    if ind.is_ratio:
        for role in ("denominator", "numerator"):
            if ind.parts[role].agg in counting:
                value = latest[role].iloc[0]
                return None if value != value else float(value)
        return None
    measure = ind.parts["measure"]
    if measure.agg in counting or (measure.agg == "sum" and ind.unit == "count"):
        return float(latest["value"].iloc[0])
    if measure.agg in ("sum",) or measure.cumulative:
        return None  # an amount (money): not a count of records
    counted = Measure(table=measure.table, agg="count", date=measure.date, year=measure.year, where=measure.where,
                      until=measure.until)
    compiled = compile_measure(con, counted, iset.segments, tables, (), filters, batch, iset.dimensions,
                               period=ind.period)
    frame = run(con, compiled, batch).frame
    row = frame[frame["year"] == a.current_year]
    return float(row["value"].iloc[0]) if not row.empty else None


def _assess_series(series: dict[int, float | None], ind: Indicator, settings: Settings, plan: Plan
                   ) -> tuple[progress.Assessment, float | None]:
    """The method's assessment of `series` against `plan` (a stated baseline in place of its
    year's value), and what the data gave for the baseline's year."""
    series = dict(series)
    baseline = plan.baseline
    base_year = baseline.year if baseline else settings.base_year
    measured = series.get(base_year) if baseline else None
    if baseline:
        series[base_year] = baseline.value
    target = plan.targets[-1] if plan.targets else None
    assessment = progress.assess(
        {y: v for y, v in sorted(series.items()) if v is not None and not math.isnan(v)},
        direction=ind.direction, base_year=base_year,
        target=target.value if target else None,
        target_year=target.year if target else settings.target_year, method=settings.method)
    return assessment, measured


def _assess(result: IndicatorResult, ind: Indicator, settings: Settings) -> None:
    plan = result.plan or Plan.national(ind)
    result.assessment, result.measured_baseline = _assess_series(result.series(), ind, settings, plan)
    result.status = str(getattr(result.assessment.status, "value", result.assessment.status))
    result.milestones = progress.milestone_checks(
        result.series(), [(t.year, t.value) for t in plan.targets[:-1]], ind.direction)
