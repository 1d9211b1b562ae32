"""Measures to SQL: compile an indicator's measure into one DuckDB query, check it
against the database, and run it.

A YAML fragment (expr, where, segment) may name only the columns of its measure's own
table. Each is parsed by DuckDB itself (`json_serialize_sql`) and must be exactly one
expression with no subquery; the compiled query adds only the joins this module owns
(a space's parish, duplicate exclusions) and runs on a read-only connection with
external access disabled (db.reader). Dashboard filter values are bound parameters."""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from cpc_monitor.store import db
from cpc_monitor.definitions.figures import Dimension
from cpc_monitor.definitions.indicators import FILTER_COLUMNS, Measure

# The derived dimensions the engine provides (indicators-yaml.md).
AGE_GROUP_SQL = ("CASE WHEN age IS NULL THEN 'unknown' WHEN age < 12 THEN '0-11' "
                 "WHEN age < 18 THEN '12-17' ELSE '18+' END")
# Victim records marked as the same person as an earlier record no longer count anywhere.
DUPLICATE_EXCLUSION = ("victim_id NOT IN (SELECT other_victim_id FROM duplicate_decisions "
                       "WHERE decision = 'same_person')")
# Functions that a filter or expression never needs and that reach outside the table.
_FORBIDDEN_FUNCTIONS = ("read_", "glob", "getenv", "query", "sql_", "current_setting", "duckdb_",
                        "pragma_", "json_serialize", "json_deserialize", "parquet_", "iceberg", "delta_")
# Functions that build values of any size from a small argument (a count, a width, a range):
# `repeat('x', 1e9)` ran 27 s to out-of-memory, a range-built value 17 s to 4.2e15 (issue 11).
# DuckDB's memory limit does not count values built row by row, and its interrupt waits for
# a whole chunk of rows, so these are refused outright rather than left to the limits.
_BUILDER_FUNCTIONS = ("repeat", "range", "generate_series", "generate_subscripts", "unnest", "lpad", "rpad",
                      "format", "printf", "bitstring", "bar", "list", "array", "string_agg", "group_concat")
_BUILDER_PREFIXES = ("list_", "array_")  # list and array builders: list_value ([..]), list_resize ...
# Statement keywords that never belong in an expression: refused with a plain message.
_COMMANDS = re.compile(r"\b(attach|detach|install|load|copy|export|import|insert|update|delete|drop|create|"
                       r"alter|pragma|set|reset|call|checkpoint|vacuum|truncate|use)\b", re.IGNORECASE)
# Agg keyword -> SQL template over the expression.
_AGG_SQL = {"count": "count({})", "count_distinct": "count(DISTINCT {})", "sum": "sum({})", "avg": "avg({})",
            "median": "median({})", "min": "min({})", "max": "max({})",
            "p25": "quantile_cont({}, 0.25)", "p75": "quantile_cont({}, 0.75)"}
# Periods finer than a year: the SQL of a row's period label over its date column.
PERIOD_SQL = {"quarter": "CAST(year({0}) AS TEXT) || '-Q' || CAST(quarter({0}) AS TEXT)",
              "month": "strftime({0}, '%Y-%m')"}
# Years of a date by reporting period (indicators' `period:`): the TIP Report year runs from
# April to March and is labelled by the year it ends in (April 2023 - March 2024 is 2024).
TIP_FIRST_MONTH = 4
YEAR_SQL = {"calendar": "CAST(year({0}) AS INTEGER)",
            "tip": f"CAST(year({{0}}) + CASE WHEN month({{0}}) >= {TIP_FIRST_MONTH} THEN 1 ELSE 0 END AS INTEGER)"}
# The last day of a year by period: the date a stock (`until:`) is taken at.
YEAR_END_SQL = {"calendar": "make_date({0}, 12, 31)", "tip": f"make_date({{0}}, {TIP_FIRST_MONTH - 1}, 31)"}
PERIODS = tuple(YEAR_SQL)
# The column a stock measure's expressions may name: the day the stock is taken.
AS_OF = "as_of"
# Aggregates that give 0, not "no value", over no rows.
ZERO_WHEN_EMPTY = ("count", "count_distinct", "sum")

# Between the two columns of a paired breakdown's name and group ('sex|parish',
# 'female|Kingston'): a character no code or label holds.
PAIR = "|"
# Dashboard filters (FILTER_COLUMNS): each applies to the column of its name in a measure's source.


@dataclass(frozen=True)
class Filters:
    """What the dashboard's sidebar (or `evaluate`) restricts every measure to."""

    year_from: int | None = None
    year_to: int | None = None
    parish: tuple[str, ...] = ()
    sex: tuple[str, ...] = ()
    age_group: tuple[str, ...] = ()
    exploitation_type: tuple[str, ...] = ()
    # A reporting period for every indicator ("calendar" or "tip"); None: each its own.
    period: str | None = None

    def column_values(self) -> dict[str, tuple[str, ...]]:
        """The non-empty column filters, by column."""
        return {c: getattr(self, c) for c in FILTER_COLUMNS if getattr(self, c)}

    def applied_to(self, columns: tuple[str, ...]) -> list[str]:
        """Names of the column filters in force that a source with `columns` takes."""
        return [c for c in self.column_values() if c in columns]


class MeasureProblem(Exception):
    """A measure that cannot be run against this database; `path` points into the measure."""

    def __init__(self, message: str, path: tuple = ()) -> None:
        super().__init__(message)
        self.path = path


# Checks of SQL against a table's columns give the same answer every time for the same text
# and columns, so they are remembered: a filter change then only runs the measures.
_CHECKS: dict[tuple, object] = {}
_CHECKS_KEPT = 5_000  # far more than any indicator file needs; cleared when full


def _remembered(key: tuple, check):
    """check() once per key; a MeasureProblem it raises is remembered and raised again."""
    if key not in _CHECKS:
        if len(_CHECKS) >= _CHECKS_KEPT:
            _CHECKS.clear()
        try:
            _CHECKS[key] = check()
        except MeasureProblem as problem:
            if isinstance(problem.__cause__, db.QueryStopped):
                raise  # stopped by a limit in this run: says nothing about the SQL, so not kept
            _CHECKS[key] = problem
    found = _CHECKS[key]
    if isinstance(found, MeasureProblem):
        raise MeasureProblem(str(found), found.path)
    return found


# --------------------------------------------------------------------- sources and columns


def source_columns(table: str, tables: dict[str, tuple[str, ...]], declared: tuple[str, ...] = ()
                   ) -> tuple[str, ...]:
    """The columns a measure over `table` may use: its own, the derived ones, and the
    file's declared dimensions that fit this table (`declared`)."""
    cols = tables[table]
    derived = ("age_group",) if "age" in cols else ()
    if table == "cfs_sessions" and "parish" not in cols:
        derived += ("parish",)
    return cols + tuple(d for d in derived if d not in declared) + declared


def source_sql(table: str, tables: dict[str, tuple[str, ...]], declared: dict[str, str] | None = None) -> str:
    """A SELECT over `table` with the derived columns, the declared dimensions given
    (name -> SQL) and the engine's own exclusions."""
    cols = tables[table]
    declared = declared or {}
    select = [f"{table}.*"]
    joins = ""
    where = ""
    if "age" in cols and "age_group" not in declared:
        select.append(f"{AGE_GROUP_SQL} AS age_group")
    if table == "cfs_sessions" and "parish" not in cols:
        select.append("cfs_space.parish AS parish")
        joins = " LEFT JOIN child_friendly_spaces AS cfs_space ON cfs_space.space_id = cfs_sessions.space_id"
    if table == "victims" and "duplicate_decisions" in tables:
        where = f" WHERE {DUPLICATE_EXCLUSION}"
    inner = f"SELECT {', '.join(select)} FROM {table}{joins}{where}"
    if not declared:
        return inner
    # Declared dimensions may use the derived columns too (a band over age_group's source ...).
    return f"SELECT base.*{''.join(f', ({sql}) AS {name}' for name, sql in declared.items())} FROM ({inner}) AS base"


def declared_dimensions(con: db.Connection, table: str, tables: dict[str, tuple[str, ...]],
                        dimensions: dict[str, Dimension], wanted: tuple[str, ...]) -> dict[str, str]:
    """The declared dimensions among `wanted` whose expression fits `table`'s columns, as
    name -> SQL. One that does not fit is simply not a column of this table."""
    out = {}
    allowed = source_columns(table, tables)
    for name in wanted:
        dimension = dimensions.get(name)
        if dimension is None:
            continue
        try:
            _remembered(("fragment", dimension.expr, table, allowed),
                        lambda: check_fragment(con, dimension.expr, table, allowed))
        except MeasureProblem:
            continue
        out[name] = dimension.sql()
    return out


def unknown_name(kind: str, name: str, known: tuple[str, ...] | list[str]) -> str:
    """'there is no column 'x' ...; did you mean ...' with the known names listed."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"Did you mean '{close[0]}'?" if close else f"Known: {', '.join(known)}."
    return f"there is no {kind} '{name}'. {hint}"


# --------------------------------------------------------------------- fragment checking


def check_fragment(con: db.Connection, fragment: str, table: str, allowed: tuple[str, ...]) -> None:
    """Raise MeasureProblem unless `fragment` is one SQL expression over `allowed` columns."""
    text = str(fragment)
    if not text.strip():
        raise MeasureProblem("the SQL expression is empty; write a condition such as \"age < 18\".")
    for token, what in ((";", "a ';' (only one expression is allowed)"),
                        ("--", "a '--' comment"), ("/*", "a '/*' comment")):
        if token in text:
            raise MeasureProblem(f"the SQL \"{text}\" contains {what}; write a single expression.")
    command = _command_word(text)
    if command:
        raise MeasureProblem(f"the SQL \"{text}\" contains the command {command}; an indicator holds only a "
                             "condition or a value over its table's columns, never a command.")
    if not _balanced(text):
        raise MeasureProblem(f"the SQL \"{text}\" is not one expression: its brackets do not pair up. "
                             "Check every '(' has its ')'.")
    try:
        ast = json.loads(con.execute("SELECT json_serialize_sql(?)",
                                     [f"SELECT ({text}) AS cpc_value FROM {table}"]).fetchone()[0])
    except db.SqlError as exc:
        raise MeasureProblem(f"the SQL \"{text}\" cannot be read: {_first_line(exc)}") from exc
    if ast.get("error"):
        raise MeasureProblem(f"the SQL \"{text}\" is not a valid expression: {ast.get('error_message', '')}. "
                             "Check quotes ('text'), brackets and operator names.")
    statements = ast.get("statements", [])
    node = statements[0]["node"] if len(statements) == 1 else {}
    if (node.get("type") != "SELECT_NODE" or len(node.get("select_list", [])) != 1
            or node.get("from_table", {}).get("table_name") != table
            or node.get("where_clause") or node.get("group_expressions") or node.get("modifiers")
            or node.get("cte_map", {}).get("map")):
        raise MeasureProblem(f"the SQL \"{text}\" is not one expression; write a single condition or value "
                             "over this table's columns.")
    used: set[str] = set()
    _walk(node["select_list"][0], text, used)
    for name in sorted(used):
        if name not in allowed:
            raise MeasureProblem(f"the SQL \"{text}\" names the column '{name}', but "
                                 + unknown_name(f"column in table '{table}' called", name, allowed))


def _command_word(text: str) -> str | None:
    """The first SQL command keyword outside quotes (ATTACH, COPY, DELETE ...), if any."""
    outside = re.sub(r"'[^']*'|\"[^\"]*\"", " ", text)
    found = _COMMANDS.search(outside)
    return found.group(0).upper() if found else None


def _balanced(text: str) -> bool:
    """Brackets pair up outside quotes, never closing more than were opened; otherwise a
    fragment could close the engine's own bracket and change what the query means."""
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not quote


def _walk(node: object, text: str, used: set[str]) -> None:
    """Collect column names; refuse subqueries, other tables and outside-reaching functions."""
    if isinstance(node, list):
        for item in node:
            _walk(item, text, used)
        return
    if not isinstance(node, dict):
        return
    cls = node.get("class")
    if cls == "SUBQUERY" or node.get("type") in ("SELECT_NODE", "SET_OPERATION_NODE") or "subquery" in node:
        raise MeasureProblem(f"the SQL \"{text}\" contains a subquery; an indicator may only use its own "
                             "table's columns. Write the condition over those columns.")
    if cls == "COLUMN_REF":
        names = node.get("column_names", [])
        if len(names) != 1:
            raise MeasureProblem(f"the SQL \"{text}\" names '{'.'.join(names)}'; name columns alone, "
                                 "without a table in front.")
        used.add(names[0])
    if cls == "FUNCTION":
        fname = str(node.get("function_name", "")).lower()
        if fname.startswith(_FORBIDDEN_FUNCTIONS) or node.get("schema") or node.get("catalog"):
            raise MeasureProblem(f"the SQL \"{text}\" calls {fname}(), which indicators may not use.")
        if fname in _BUILDER_FUNCTIONS or fname.startswith(_BUILDER_PREFIXES):
            raise MeasureProblem(f"the SQL \"{text}\" calls {_shown_name(fname)}, which can build text, lists or "
                                 "ranges of any size and take the server down; indicators may not use it. Compute "
                                 "the value from the table's columns with ordinary functions (date_diff, CASE, "
                                 "arithmetic, comparisons).")
    for key, value in node.items():
        if key not in ("class", "type", "alias"):
            _walk(value, text, used)


def _shown_name(fname: str) -> str:
    """How a function reads in a message: `[a, b]` is DuckDB's list_value, written as brackets."""
    return "a list ([...])" if fname == "list_value" else f"{fname}()"


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


# --------------------------------------------------------------------- compiling


@dataclass
class Compiled:
    """A measure compiled to SQL: one query giving year, dimension, group, value."""

    measure: Measure
    table: str
    sql: str
    params: list
    range_sql: str  # first and last year with any rows in the table (before filters)
    dims: tuple[str, ...]  # disaggregations this table has
    missing_dims: tuple[str, ...]  # asked for but not columns of this table
    filters_applied: tuple[str, ...] = field(default=())
    totals_sql: str = ""  # year, value only: a lighter query when there are no breakdowns
    grain: str = "year"  # year, or quarter / month (then the frame also has a `period` column)
    period: str = "calendar"  # how a date became a year: calendar or tip


def compile_measure(con: db.Connection, measure: Measure, segments: dict[str, str],
                    tables: dict[str, tuple[str, ...]], dims: tuple[str, ...] = (),
                    filters: Filters = Filters(), batch: dict | None = None,
                    dimensions: dict[str, Dimension] | None = None, grain: str = "year",
                    period: str = "calendar", pairs_with: str | None = None) -> Compiled:
    """Check `measure` against the database and compile it; raise MeasureProblem if it cannot run.

    `batch`: a dict shared by the measures of one evaluation (one connection), so that what
    they have in common (a table's column types) is read once. `dimensions`: the file's
    declared dimensions; `grain`: year, quarter or month; `period`: how a date becomes a
    year (calendar or tip), unless `filters.period` chooses one for every measure.
    `pairs_with`: one of `dims` that also breaks each other breakdown down (dim 'sex|parish',
    group 'female' PAIR 'Kingston'), which safe mode needs under a filter on that column
    (privacy._across_filter)."""
    period = filters.period or period
    if period not in PERIODS:
        raise MeasureProblem(f"the period '{period}' is not known; use one of: {', '.join(PERIODS)}.", ("period",))
    if measure.table not in tables:
        known = tuple(t for t in tables if not t.startswith(("schema_", "import_", "duplicate_")))
        raise MeasureProblem(unknown_name("table", measure.table, known), ("table",))
    if grain != "year" and measure.date is None:
        raise MeasureProblem(f"a {grain}ly figure needs a measure with a `date:` column; this one is kept by "
                             "year only.", ("year",))
    if grain != "year" and measure.until is not None:
        raise MeasureProblem(f"a measure with `until:` is taken at each year's end, so it has no {grain}ly values; "
                             "show it by year.", ("until",))
    wanted = tuple(dims) + (("age_group",) if filters.age_group else ())
    declared = declared_dimensions(con, measure.table, tables, dimensions or {}, wanted)
    allowed = source_columns(measure.table, tables, tuple(declared))
    time_key = "date" if measure.date else "year"
    if measure.time_column not in allowed:
        raise MeasureProblem(unknown_name(f"column in '{measure.table}' called", measure.time_column, allowed),
                             (time_key,))
    src = source_sql(measure.table, tables, declared)
    batch = batch if batch is not None else {}
    if ("columns", src) not in batch:
        batch[("columns", src)] = _columns_key(con, src)
    columns = batch[("columns", src)]
    kind = _type_of(con, src, measure.time_column, (time_key,), columns)
    if measure.date and not kind.startswith(("DATE", "TIMESTAMP")):
        raise MeasureProblem(f"`date: {measure.date}` is not a date column ({kind.lower()}); name the column "
                             "holding the event's date, or use `year:` for a column of years.", (time_key,))
    if measure.year and kind not in ("INTEGER", "BIGINT", "SMALLINT", "HUGEINT", "UINTEGER", "USMALLINT"):
        raise MeasureProblem(f"`year: {measure.year}` is not a column of whole years ({kind.lower()}).", (time_key,))
    if measure.until is not None:
        if measure.until not in allowed:
            raise MeasureProblem(unknown_name(f"column in '{measure.table}' called", measure.until, allowed),
                                 ("until",))
        until_kind = _type_of(con, src, measure.until, ("until",), columns)
        if not until_kind.startswith(("DATE", "TIMESTAMP")):
            raise MeasureProblem(f"`until: {measure.until}` is not a date column ({until_kind.lower()}); name the "
                                 "column holding the date the record stops being open.", ("until",))
        # One row per record and year-end it is open at; expressions may name `as_of`.
        range_src, range_year = src, YEAR_SQL[period].format(measure.date)
        src = _stock_sql(src, measure.date, measure.until, period)
        allowed = allowed + (AS_OF,)
        if ("columns", src) not in batch:
            batch[("columns", src)] = _columns_key(con, src)
        columns = batch[("columns", src)]
        year_sql = "cpc_stock_year"
    elif measure.date:
        year_sql = YEAR_SQL[period].format(measure.date)
    else:
        year_sql = f"CAST({measure.year} AS INTEGER)"
    if grain != "year":
        year_sql = PERIOD_SQL[grain].format(measure.date)

    if measure.expr is not None:
        _checked(con, measure.expr, measure.table, allowed, ("expr",))
    conditions = [f"{measure.time_column} IS NOT NULL"]
    for i, entry in enumerate(measure.where):
        sql = segments.get(entry, entry)
        label = f"the segment '{entry}' (\"{sql}\")" if entry in segments else f"\"{entry}\""
        _checked(con, sql, measure.table, allowed, ("where", i), entry if entry not in segments else None)
        kind = _type_of(con, src, sql, ("where", i), columns)
        if kind != "BOOLEAN":
            raise MeasureProblem(f"the filter {label} gives {kind.lower()} values, not true/false; "
                                 "write a condition such as \"age < 18\" or \"outcome = 'convicted'\".", ("where", i))
        conditions.append(f"({sql})")
    params: list = []
    applied = []
    for column, values in filters.column_values().items():
        if column in allowed:
            conditions.append(f"list_contains(?::TEXT[], CAST({column} AS TEXT))")
            params.append(list(values))
            applied.append(column)

    have = tuple(d for d in dims if d in allowed)
    missing = tuple(d for d in dims if d not in allowed)
    sub_year = grain != "year"
    pair = pairs_with if pairs_with in have else None
    sql = _filled_query(measure, src, year_sql, conditions, have, sub_year, pair)
    unfiltered = _filled_query(measure, src, year_sql, conditions[:len(conditions) - len(applied)], have, sub_year,
                               pair)
    range_of = measure.date if sub_year else year_sql
    range_sql = (f"WITH src AS ({src}) SELECT min({range_of}), max({range_of}) FROM src")
    if measure.until is not None:  # a stock's years are those of its table's dates
        range_sql = f"WITH src AS ({range_src}) SELECT min({range_year}), max({range_year}) FROM src"
    # Filters only add bound conditions on known text columns: check the query without them once.
    probe = [["2000-01"]] if sub_year else [0, 0]
    _remembered(("query", unfiltered, columns), lambda: _describe_query(con, unfiltered, probe))
    totals_sql = (f"WITH src AS ({src}) SELECT {year_sql} AS year, "
                  f"CAST({_AGG_SQL[measure.agg].format('*' if measure.expr is None else f'({measure.expr})')} AS DOUBLE) "
                  f"FROM src WHERE {' AND '.join(conditions)} GROUP BY ALL")
    # A table kept by `year:` has no dates to move: its years stay as they are.
    return Compiled(measure, measure.table, sql, params, range_sql, have, missing, tuple(applied), totals_sql,
                    grain, period if measure.date else "calendar")


def _stock_sql(src: str, date: str, until: str, period: str) -> str:
    """`src` with one row per record and year it is open at the year's end: the years
    (`cpc_stock_year`) run from the first to the last year of `date`, and `as_of` is the
    year's last day (31 December, or 31 March for TIP years)."""
    year = YEAR_SQL[period].format(date)
    as_of = YEAR_END_SQL[period].format("cpc_stock_year")
    return (f"SELECT stock.*, years.cpc_stock_year, years.{AS_OF} FROM ({src}) AS stock "
            f"JOIN (SELECT cpc_stock_year, {as_of} AS {AS_OF} FROM (SELECT CAST(unnest(range(min({year}), "
            f"max({year}) + 1)) AS INTEGER) AS cpc_stock_year FROM ({src}))) AS years "
            f"ON stock.{date} <= years.{AS_OF} AND (stock.{until} IS NULL OR stock.{until} > years.{AS_OF})")


def _describe_query(con, sql: str, probe: list) -> None:
    """Bind the whole compiled query once (aggregates misused, types that do not fit ...)."""
    try:
        con.execute(f"DESCRIBE {sql}", probe)
    except db.SqlError as exc:
        raise MeasureProblem(f"this measure cannot be computed: {_first_line(exc)}. "
                             "Check that `agg` fits `expr` (e.g. sum needs numbers).", ("expr",)) from exc


def _filled_query(measure: Measure, src: str, year_sql: str, conditions: list[str], dims: tuple[str, ...],
                  sub_year: bool = False, pair: str | None = None) -> str:
    """One query for the totals and every breakdown, with every year of the range filled in.

    GROUPING SETS computes all breakdowns in one scan; the grid (years x groups seen) gives
    empty years 0 for counts and sums (null otherwise); running totals are a window sum.
    The two last parameters are the first and last year of the table; for a finer grain
    (`sub_year`) the one last parameter is the list of period labels, and `year` holds them."""
    expr = "*" if measure.expr is None else f"({measure.expr})"
    agg = _AGG_SQL[measure.agg].format(expr)
    paired = [d for d in dims if d != pair] if pair else []
    sets = ", ".join(["(cpc_year)"] + [f"(cpc_year, {d})" for d in dims] + [f"(cpc_year, {d}, {pair})" for d in paired])
    flags = "".join(f", grouping({d}) AS g_{d}" for d in dims)
    # A pair's cells come first in each CASE: their rows have both grouping flags at 0.
    pair_when = [(f"g_{d} = 0 AND g_{pair} = 0", f"{d}{PAIR}{pair}",
                  f"{_group_text(d)} || '{PAIR}' || {_group_text(pair)}") for d in paired]
    single_when = [(f"g_{d} = 0", d, _group_text(d)) for d in dims]
    dim_case = "CASE " + "".join(f"WHEN {w} THEN '{name}' " for w, name, _ in pair_when + single_when) + \
        "ELSE '' END" if dims else "''"
    order = [(w, len(dims) + i + 1) for i, (w, _, _) in enumerate(pair_when)] + \
        [(w, i + 1) for i, (w, _, _) in enumerate(single_when)]  # pairs after the single breakdowns
    order_case = "CASE " + "".join(f"WHEN {w} THEN {n} " for w, n in order) + "ELSE 0 END" if dims else "0"
    group_case = ("CASE " + "".join(f"WHEN {w} THEN {text} " for w, _, text in pair_when + single_when)
                  + "ELSE '' END") if dims else "''"
    additive = measure.agg in ZERO_WHEN_EMPTY
    merge = "sum" if additive else "max"  # a NULL group and a literal 'unknown' share one cell
    filled = "coalesce(l.value, 0)" if additive else "l.value"
    # Running totals of money are rounded so that adding cents over the years cannot leave
    # 6,696,999.9999999 where the records add up to 6,697,000.
    value = (f"round(sum({filled}) OVER (PARTITION BY g.dim, g.grp ORDER BY g.year), 6)" if measure.cumulative
             else filled)
    return (
        f"WITH src AS ({src}), "
        f"agg AS (SELECT {year_sql} AS cpc_year{''.join(f', {d}' for d in dims)}, {agg} AS value{flags} "
        f"FROM src WHERE {' AND '.join(conditions)} GROUP BY GROUPING SETS ({sets})), "
        f"long AS (SELECT cpc_year AS year, {dim_case} AS dim, {order_case} AS dim_order, {group_case} AS grp, "
        f"CAST({merge}(value) AS DOUBLE) AS value FROM agg GROUP BY ALL), "
        + ("years AS (SELECT unnest(?::TEXT[]) AS year), " if sub_year else
           "years AS (SELECT CAST(range AS INTEGER) AS year FROM range(CAST(? AS INTEGER), CAST(? AS INTEGER) + 1)), ")
        + "groups AS (SELECT DISTINCT dim, dim_order, grp FROM long UNION SELECT '', 0, ''), "
        "grid AS (SELECT year, dim, dim_order, grp FROM years CROSS JOIN groups) "
        f"SELECT g.year, g.dim, g.grp AS \"group\", CAST({value} AS DOUBLE) AS value "
        "FROM grid g LEFT JOIN long l ON l.year = g.year AND l.dim = g.dim AND l.grp = g.grp "
        "ORDER BY g.dim_order, g.year, g.grp")


def _group_text(dim: str) -> str:
    """A breakdown's group as text: its value, or 'unknown' where the row has none."""
    return f"coalesce(CAST({dim} AS TEXT), 'unknown')"


def _checked(con, sql: str, table: str, allowed: tuple[str, ...], path: tuple, bare: str | None = None) -> None:
    try:
        _remembered(("fragment", sql, table, allowed), lambda: check_fragment(con, sql, table, allowed))
    except MeasureProblem as problem:
        message = str(problem)
        if bare and bare.isidentifier() and bare not in allowed:
            message = (f"'{bare}' is neither a segment (defined under `segments:`) nor a column of "
                       f"'{table}'; define the segment, or write a condition such as \"age < 18\".")
        raise MeasureProblem(message, path) from None


def _type_of(con, src: str, sql: str, path: tuple, columns: tuple) -> str:
    return _remembered(("type", src, sql, path, columns), lambda: _describe_type(con, src, sql, path))


def _columns_key(con, src: str) -> tuple:
    """The types of a source's columns: part of every remembered check's key."""
    return tuple(map(tuple, con.execute(f"DESCRIBE {src}").fetchall()))


def _describe_type(con, src: str, sql: str, path: tuple) -> str:
    try:
        rows = con.execute(f"DESCRIBE WITH src AS ({src}) SELECT ({sql}) AS cpc_value FROM src").fetchall()
    except db.SqlError as exc:
        raise MeasureProblem(f"the filter \"{sql}\" cannot be used: {_first_line(exc)}", path) from exc
    return str(rows[0][1]).upper()


# --------------------------------------------------------------------- running


@dataclass
class MeasureValues:
    """The yearly values of one measure: totals (dim '') and each disaggregation."""

    frame: pd.DataFrame  # columns: year, dim, group, value; every year of the range filled
    first_year: int | None
    last_year: int | None


# Under this key the batch dict given to `run` may hold the first and last date of the data
# (the oldest and newest event dates): a TIP year the data do not cover whole is then left out.
DATA_SPAN = "data_span"


def whole_tip_years(data_from: date | None, as_of: date | None) -> tuple[int | None, int | None]:
    """The first and last TIP year the data cover from April to March: data from 1 Jan 2015
    to 31 Dec 2025 cover TIP years 2016 to 2025 whole (None where a date is unknown)."""
    first = None if data_from is None else (
        data_from.year + 1 if (data_from.month, data_from.day) <= (TIP_FIRST_MONTH, 1) else data_from.year + 2)
    last = None if as_of is None else (
        as_of.year if (as_of.month, as_of.day) >= (TIP_FIRST_MONTH - 1, 31) else as_of.year - 1)
    return first, last


def run(con: db.Connection, compiled: Compiled, ranges: dict | None = None) -> MeasureValues:
    """Run a compiled measure: one query, every year of the table's range filled in.

    `ranges`: the batch dict of one evaluation; when it holds DATA_SPAN, TIP years are cut to
    those the data cover whole (data to 31 Dec 2025: TIP year 2026, with only April to
    December, is left out rather than read as a fall)."""
    ranges = ranges if ranges is not None else {}
    if compiled.range_sql not in ranges:
        ranges[compiled.range_sql] = con.execute(compiled.range_sql).fetchone()
    first, last = ranges[compiled.range_sql]
    if compiled.period == "tip" and compiled.grain == "year" and first is not None and last is not None:
        whole_from, whole_to = whole_tip_years(*ranges.get(DATA_SPAN, (None, None)))
        first = max(int(first), whole_from) if whole_from is not None else first
        last = min(int(last), whole_to) if whole_to is not None else last
    if first is None or last is None or (compiled.grain == "year" and int(first) > int(last)):
        return MeasureValues(_empty(), None, None)
    if compiled.grain != "year":
        labels = period_labels(first, last, compiled.grain)
        frame = con.execute(compiled.sql, compiled.params + [labels]).df()
        frame.insert(1, "period", frame.pop("year").astype("str"))
        frame.insert(0, "year", frame["period"].str[:4].astype("int64"))
        return MeasureValues(frame, int(first.year), int(last.year))
    if not compiled.dims:
        return MeasureValues(_totals(con, compiled, int(first), int(last)), int(first), int(last))
    frame = con.execute(compiled.sql, compiled.params + [first, last]).df()
    frame["year"] = frame["year"].astype("int64")
    return MeasureValues(frame, int(first), int(last))


def period_labels(first, last, grain: str) -> list[str]:
    """Every quarter ('2024-Q1') or month ('2024-01') from the date `first` to `last`."""
    freq = "Q" if grain == "quarter" else "M"
    periods = pd.period_range(pd.Timestamp(first), pd.Timestamp(last), freq=freq)
    if grain == "quarter":
        return [f"{p.year}-Q{p.quarter}" for p in periods]
    return [p.strftime("%Y-%m") for p in periods]


def _totals(con: db.Connection, compiled: Compiled, first: int, last: int) -> pd.DataFrame:
    """Yearly totals only, filled as the full query fills them (0 for counts and sums over
    no rows, running totals when cumulative)."""
    found = dict(con.execute(compiled.totals_sql, compiled.params).fetchall())
    years = list(range(first, last + 1))
    empty = 0.0 if compiled.measure.agg in ZERO_WHEN_EMPTY else None
    values = [found.get(year, empty) for year in years]
    if compiled.measure.cumulative:
        running = 0.0
        values = [running := round(running + (v or 0.0), 6) for v in values]
    return pd.DataFrame({"year": pd.Series(years, dtype="int64"), "dim": "", "group": "",
                         "value": pd.Series(values, dtype="float64")})


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"year": pd.Series([], dtype="int64"), "dim": pd.Series([], dtype="str"),
                         "group": pd.Series([], dtype="str"), "value": pd.Series([], dtype="float64")})
