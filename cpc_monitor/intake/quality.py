"""Data-quality figures for the Data quality page: per table, per source (who reported
the record) and per import batch.

Completeness of each column, the latest record date (timeliness), rule violations (the
importer's own rules, run over the rows already stored), monthly counts with outliers
flagged by the modified z-score, likely duplicate victims, and which indicators each gap
affects. Everything comes back as DataFrames from one read-only connection; nothing here
draws or calls Streamlit."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from cpc_monitor.store import db

from cpc_monitor.intake import dedupe
from cpc_monitor.definitions.indicators import IndicatorSet
from cpc_monitor.intake.rules import IMPORTABLE, rule_checks
from cpc_monitor.store.schema import BATCH_COLUMN, TABLES, VIEW_COLUMNS

# The column naming who reported a record, for the per-source figures (issue 4).
SOURCE_COLUMNS = {"cases": "referral_source", "victims": "identified_by"}
# Shown as the group of rows whose source or batch is empty.
NO_SOURCE = "(empty)"
NO_BATCH = "(none)"
# Modified z-score (Iglewicz and Hoaglin): 0.6745 * (x - median) / MAD; |z| above 3.5 is an outlier.
Z_SCALE = 0.6745
OUTLIER_Z = 3.5
# When more than half the months share one count, MAD is 0: use the mean absolute deviation
# instead, scaled so both estimate the same spread for normal data (IBM SPSS's rule).
MEAN_AD_SCALE = 1.253314
# Fewer months than this give no flags: a spread from a handful of points is not a baseline.
MIN_MONTHS = 6
# Monthly counts are small: the spread is never taken below the chance (Poisson) variation of
# the median count, sqrt(max(median, 1)), so 3 cases in a month that usually has 0 or 1 is
# not an outlier, while 30 is.


@dataclass
class QualityReport:
    """Every data-quality figure of one database."""

    completeness: pd.DataFrame  # table, by, group, column, rows, filled, percent_filled
    timeliness: pd.DataFrame  # table, by, group, rows, latest_date, days_since
    violations: pd.DataFrame  # table, by, group, column, rule, rows (only rules with breaking rows)
    monthly: pd.DataFrame  # table, by, group, month, rows, z, outlier
    duplicates: pd.DataFrame  # by, group, pairs, at_least (likely duplicate victims waiting for review)
    impact: pd.DataFrame  # table, column, percent_filled, missing, indicator, name, role, use
    as_of: date


def quality_report(db_path: str | os.PathLike, iset: IndicatorSet | None = None,
                   today: date | None = None, only: tuple[str, ...] | None = None) -> QualityReport:
    """Every figure for the Data quality page, on one read-only connection: of every table, or
    of the tables in `only` (a page shows one table at a time, so it asks for that one).
    Example: quality_report("data/cpc.duckdb", load_indicators("indicators.yaml"))"""
    today = today or date.today()
    with db.reading(db_path) as con:
        tables = [t for t in present_tables(con) if only is None or t in only]
        complete = _concat([completeness(con, t) for t in tables])
        timely = _concat([timeliness(con, t, today) for t in tables])
        broken = _concat([violations(con, t, today) for t in tables], _empty_violations())
        months = _concat([monthly_counts(con, t) for t in tables], _empty_monthly())
        dupes = duplicate_counts(con) if "victims" in tables else _empty_duplicates()
    uses = indicator_columns(iset) if iset is not None else _empty_uses()
    return QualityReport(complete, timely, broken, months, dupes, impact(complete, uses), today)


def present_tables(con: db.Connection) -> list[str]:
    """The importable tables the database holds, in the order the page lists them."""
    return [t for t in IMPORTABLE if t in db.table_columns(con)]


def quality_tables(db_path: str | os.PathLike) -> list[str]:
    """present_tables of the database at `db_path`."""
    with db.reading(db_path) as con:
        return present_tables(con)


# --------------------------------------------------------------------------- groupings


def groupings(table: str) -> list[tuple[str, str]]:
    """(by, SQL of the group) for a table: all rows, per source where it has one, per import batch."""
    out = [("all", "''")]
    if table in SOURCE_COLUMNS:
        out.append(("source", f"coalesce(CAST({SOURCE_COLUMNS[table]} AS VARCHAR), '{NO_SOURCE}')"))
    out.append(("batch", f"coalesce({BATCH_COLUMN}, '{NO_BATCH}')"))
    return out


def _grouped(table: str, select: str, where: str = "") -> str:
    """One SELECT over `table` with columns by, "group", then `select`, a row per grouping (all
    rows, each source, each batch): GROUPING SETS, so the table is scanned once, not once per
    grouping."""
    keyed = [(by, expr) for by, expr in groupings(table) if by != "all"]
    keys = ", ".join(f"{expr} AS cpc_{by}" for by, expr in keyed)
    by = "CASE " + " ".join(f"WHEN grouping(cpc_{b}) = 0 THEN '{b}'" for b, _ in keyed) + " ELSE 'all' END"
    group = "coalesce(" + ", ".join(f"cpc_{b}" for b, _ in keyed) + ", '')"
    sets = ", ".join(["()"] + [f"(cpc_{b})" for b, _ in keyed])
    return (f"SELECT {by} AS by, {group} AS \"group\", {select} FROM (SELECT *, {keys} FROM {table}"
            + (f" WHERE {where}" if where else "") + f") GROUP BY GROUPING SETS ({sets})")


# --------------------------------------------------------------------------- figures


def completeness(con: db.Connection, table: str) -> pd.DataFrame:
    """Share of rows with a value in each column, per grouping."""
    columns = TABLES[table].column_names
    counts = ", ".join(f'count({c}) AS "{c}"' for c in columns)
    wide = con.execute(_grouped(table, f"count(*) AS rows, {counts}")).df()
    long = wide.melt(id_vars=["by", "group", "rows"], value_vars=list(columns), var_name="column", value_name="filled")
    long.insert(0, "table", table)
    long["rows"] = long["rows"].astype("int64")
    long["filled"] = long["filled"].astype("int64")
    long["percent_filled"] = np.where(long["rows"] > 0, 100.0 * long["filled"] / long["rows"].clip(lower=1), np.nan)
    return _in_order(long, table)[["table", "by", "group", "column", "rows", "filled", "percent_filled"]]


def timeliness(con: db.Connection, table: str, today: date) -> pd.DataFrame:
    """The latest record date per grouping, and how many days before `today` it is."""
    column = TABLES[table].date_column
    frame = con.execute(_grouped(table, f"count(*) AS rows, max({column}) AS latest_date")).df()
    frame.insert(0, "table", table)
    latest = pd.to_datetime(frame["latest_date"])
    frame["latest_date"] = latest.dt.date
    frame["days_since"] = (pd.Timestamp(today) - latest).dt.days.astype("Int64")
    frame["rows"] = frame["rows"].astype("int64")
    return _in_order(frame, table)[["table", "by", "group", "rows", "latest_date", "days_since"]]


def violations(con: db.Connection, table: str, today: date) -> pd.DataFrame:
    """Rows already stored that break a rule of the importer (a parent gone missing, a date in
    the future ...), counted per grouping and rule. Rules no row breaks are left out."""
    rules = rule_checks(TABLES[table], today)
    if not rules:
        return _empty_violations()
    parts = [_grouped(table, f"'{r.column}' AS column, '{_sql_text(r.name)}' AS rule, count(*) AS rows",
                      where=r.condition) for r in rules]
    frame = con.execute(" UNION ALL ".join(f"({p})" for p in parts)).df()
    frame = frame[frame["rows"] > 0]
    frame.insert(0, "table", table)
    frame["rows"] = frame["rows"].astype("int64")
    return _in_order(frame, table)[["table", "by", "group", "column", "rule", "rows"]]


def monthly_counts(con: db.Connection, table: str) -> pd.DataFrame:
    """Records per month (by the table's date) for all rows and per source, every month of each
    series' span filled (0 when none), with the modified z-score and an outlier flag."""
    column = TABLES[table].date_column
    sets = [g for g in groupings(table) if g[0] != "batch"]
    sql = " UNION ALL ".join(
        f"SELECT '{by}' AS by, {expr} AS \"group\", CAST(date_trunc('month', {column}) AS DATE) AS month, "
        f"count(*) AS rows FROM {table} WHERE {column} IS NOT NULL GROUP BY 1, 2, 3" for by, expr in sets)
    raw = con.execute(sql + " ORDER BY 1, 2, 3").df()  # series in the same order on every run
    frames = []
    for (by, group), part in raw.groupby(["by", "group"], sort=False):
        months = pd.date_range(pd.Timestamp(part["month"].min()), pd.Timestamp(part["month"].max()), freq="MS")
        series = part.assign(month=pd.to_datetime(part["month"])).set_index("month")["rows"].reindex(months, fill_value=0)
        counts = series.to_numpy(dtype="float64")
        z = modified_z(counts, min_spread=float(np.sqrt(max(np.median(counts), 1.0))))
        frames.append(pd.DataFrame({"table": table, "by": by, "group": group, "month": months.date,
                                    "rows": series.to_numpy(dtype="int64"), "z": z,
                                    "outlier": (np.abs(z) > OUTLIER_Z) if len(z) >= MIN_MONTHS else False}))
    if not frames:
        return _empty_monthly()
    return pd.concat(frames, ignore_index=True)


def modified_z(values: np.ndarray | list[float], min_spread: float = 0.0) -> np.ndarray:
    """Modified z-score of each value: 0.6745 * (x - median) / MAD, that is (x - median) / spread
    with spread = MAD / 0.6745; when MAD is 0, spread = 1.253314 * mean absolute deviation.
    The spread is never below `min_spread`; all 0 when every value is equal and no floor is set."""
    x = np.asarray(values, dtype="float64")
    if x.size == 0:
        return x
    median = np.median(x)
    deviation = np.abs(x - median)
    mad = np.median(deviation)
    spread = mad / Z_SCALE if mad > 0 else MEAN_AD_SCALE * deviation.mean()
    spread = max(spread, min_spread)
    return (x - median) / spread if spread > 0 else np.zeros_like(x)


def duplicate_counts(con: db.Connection, cap: int | None = dedupe.COUNT_CAP) -> pd.DataFrame:
    """Likely duplicate victim pairs waiting for review, in all and per agency involved,
    counted up to `cap` (`at_least` says a count stopped there)."""
    return dedupe.count_by_agency(con, cap)


# --------------------------------------------------------------------------- indicators affected


def indicator_columns(iset: IndicatorSet) -> pd.DataFrame:
    """Which columns each indicator reads, and how: date (its time), value (expr), filter
    (where, segments included) or breakdown (disaggregations)."""
    rows = []
    for ind in iset.indicators:
        for role, measure in ind.parts.items():
            known = TABLES[measure.table].column_names if measure.table in TABLES else VIEW_COLUMNS.get(measure.table, ())
            used = [(measure.time_column, "date")]
            used += [(c, "value") for c in _names(measure.expr or "")]
            for entry in measure.where:
                used += [(c, "filter") for c in _names(iset.segments.get(entry, entry))]
            used += [("age" if d == "age_group" else d, "breakdown") for d in ind.disaggregations]
            for column, use in used:
                if column in known:
                    rows.append({"indicator": ind.id, "name": ind.name, "role": role, "table": measure.table,
                                 "column": column, "use": use})
    return pd.DataFrame(rows, columns=list(_empty_uses().columns)).drop_duplicates(ignore_index=True)


def impact(complete: pd.DataFrame, uses: pd.DataFrame) -> pd.DataFrame:
    """Each incomplete column (over all rows; an empty table counts as wholly missing) with the
    indicators that read it."""
    columns = ["table", "column", "percent_filled", "missing", "indicator", "name", "role", "use"]
    if complete.empty or uses.empty:
        return pd.DataFrame(columns=columns)
    overall = complete[complete["by"] == "all"]
    gaps = overall[(overall["rows"] == 0) | (overall["filled"] < overall["rows"])]
    gaps = gaps.assign(missing=gaps["rows"] - gaps["filled"])
    merged = gaps.merge(uses, on=["table", "column"], how="inner")
    return merged[columns].sort_values(["percent_filled", "table", "column", "indicator"],
                                       na_position="first").reset_index(drop=True)


_QUOTED = re.compile(r"'(?:[^']|'')*'")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names(sql: str) -> list[str]:
    """Identifiers in a SQL fragment, with quoted text left out."""
    return _NAME.findall(_QUOTED.sub(" ", str(sql)))


# --------------------------------------------------------------------------- helpers


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _concat(frames: list[pd.DataFrame], empty: pd.DataFrame | None = None) -> pd.DataFrame:
    kept = [f for f in frames if not f.empty]
    if kept:
        return pd.concat(kept, ignore_index=True)
    return empty if empty is not None else (frames[0] if frames else pd.DataFrame())


def _in_order(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Rows in the order all, source, batch; groups alphabetical within each."""
    rank = {by: i for i, (by, _) in enumerate(groupings(table))}
    ordered = frame.assign(_rank=frame["by"].map(rank)).sort_values(["_rank", "group"], kind="stable")
    return ordered.drop(columns="_rank").reset_index(drop=True)


def _empty_uses() -> pd.DataFrame:
    return pd.DataFrame(columns=["indicator", "name", "role", "table", "column", "use"])


def _empty_violations() -> pd.DataFrame:
    return pd.DataFrame(columns=["table", "by", "group", "column", "rule", "rows"])


def _empty_duplicates() -> pd.DataFrame:
    return pd.DataFrame({"by": pd.Series([], dtype=object), "group": pd.Series([], dtype=object),
                         "pairs": pd.Series([], dtype="int64"), "at_least": pd.Series([], dtype=bool)})


def _empty_monthly() -> pd.DataFrame:
    return pd.DataFrame(columns=["table", "by", "group", "month", "rows", "z", "outlier"])
