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

import pandas as pd

from . import db
from .indicators import Measure

# The derived dimensions the engine provides (indicators-yaml.md).
AGE_GROUP_SQL = ("CASE WHEN age IS NULL THEN 'unknown' WHEN age < 12 THEN '0-11' "
                 "WHEN age < 18 THEN '12-17' ELSE '18+' END")
# Victim records marked as the same person as an earlier record no longer count anywhere.
DUPLICATE_EXCLUSION = ("victim_id NOT IN (SELECT other_victim_id FROM duplicate_decisions "
                       "WHERE decision = 'same_person')")
# Functions that a filter or expression never needs and that reach outside the table.
_FORBIDDEN_FUNCTIONS = ("read_", "glob", "getenv", "query", "sql_", "current_setting", "duckdb_",
                        "pragma_", "json_serialize", "json_deserialize", "parquet_", "iceberg", "delta_")
# Statement keywords that never belong in an expression: refused with a plain message.
_COMMANDS = re.compile(r"\b(attach|detach|install|load|copy|export|import|insert|update|delete|drop|create|"
                       r"alter|pragma|set|reset|call|checkpoint|vacuum|truncate|use)\b", re.IGNORECASE)
# Agg keyword -> SQL template over the expression.
_AGG_SQL = {"count": "count({})", "count_distinct": "count(DISTINCT {})", "sum": "sum({})", "avg": "avg({})",
            "median": "median({})", "min": "min({})", "max": "max({})"}
# Aggregates that give 0, not "no value", over no rows.
ZERO_WHEN_EMPTY = ("count", "count_distinct", "sum")

# Dashboard filters: name -> the column it applies to in a measure's source.
FILTER_COLUMNS = ("parish", "sex", "age_group", "exploitation_type")


@dataclass(frozen=True)
class Filters:
    """What the dashboard's sidebar (or `evaluate`) restricts every measure to."""

    year_from: int | None = None
    year_to: int | None = None
    parish: tuple[str, ...] = ()
    sex: tuple[str, ...] = ()
    age_group: tuple[str, ...] = ()
    exploitation_type: tuple[str, ...] = ()

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


# --------------------------------------------------------------------- sources and columns


def source_columns(table: str, tables: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The columns a measure over `table` may use: its own plus the derived ones."""
    cols = tables[table]
    derived = ("age_group",) if "age" in cols else ()
    if table == "cfs_sessions" and "parish" not in cols:
        derived += ("parish",)
    return cols + derived


def source_sql(table: str, tables: dict[str, tuple[str, ...]]) -> str:
    """A SELECT over `table` with the derived columns and the engine's own exclusions."""
    cols = tables[table]
    select = [f"{table}.*"]
    joins = ""
    where = ""
    if "age" in cols:
        select.append(f"{AGE_GROUP_SQL} AS age_group")
    if table == "cfs_sessions" and "parish" not in cols:
        select.append("cfs_space.parish AS parish")
        joins = " LEFT JOIN child_friendly_spaces AS cfs_space ON cfs_space.space_id = cfs_sessions.space_id"
    if table == "victims" and "duplicate_decisions" in tables:
        where = f" WHERE {DUPLICATE_EXCLUSION}"
    return f"SELECT {', '.join(select)} FROM {table}{joins}{where}"


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
    for key, value in node.items():
        if key not in ("class", "type", "alias"):
            _walk(value, text, used)


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


def compile_measure(con: db.Connection, measure: Measure, segments: dict[str, str],
                    tables: dict[str, tuple[str, ...]], dims: tuple[str, ...] = (),
                    filters: Filters = Filters()) -> Compiled:
    """Check `measure` against the database and compile it; raise MeasureProblem if it cannot run."""
    if measure.table not in tables:
        known = tuple(t for t in tables if not t.startswith(("schema_", "import_", "duplicate_")))
        raise MeasureProblem(unknown_name("table", measure.table, known), ("table",))
    allowed = source_columns(measure.table, tables)
    time_key = "date" if measure.date else "year"
    if measure.time_column not in allowed:
        raise MeasureProblem(unknown_name(f"column in '{measure.table}' called", measure.time_column, allowed),
                             (time_key,))
    src = source_sql(measure.table, tables)
    kind = _type_of(con, src, measure.time_column, (time_key,))
    if measure.date and not kind.startswith(("DATE", "TIMESTAMP")):
        raise MeasureProblem(f"`date: {measure.date}` is not a date column ({kind.lower()}); name the column "
                             "holding the event's date, or use `year:` for a column of years.", (time_key,))
    if measure.year and kind not in ("INTEGER", "BIGINT", "SMALLINT", "HUGEINT", "UINTEGER", "USMALLINT"):
        raise MeasureProblem(f"`year: {measure.year}` is not a column of whole years ({kind.lower()}).", (time_key,))
    year_sql = f"CAST(year({measure.date}) AS INTEGER)" if measure.date else f"CAST({measure.year} AS INTEGER)"

    expr = "*"
    if measure.expr is not None:
        _checked(con, measure.expr, measure.table, allowed, ("expr",))
        expr = f"({measure.expr})"
    conditions = [f"{measure.time_column} IS NOT NULL"]
    for i, entry in enumerate(measure.where):
        sql = segments.get(entry, entry)
        label = f"the segment '{entry}' (\"{sql}\")" if entry in segments else f"\"{entry}\""
        _checked(con, sql, measure.table, allowed, ("where", i), entry if entry not in segments else None)
        kind = _type_of(con, src, sql, ("where", i))
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
    agg = _AGG_SQL[measure.agg].format(expr)
    sets = ", ".join(["(cpc_year)"] + [f"(cpc_year, {d})" for d in have])
    group_cols = "".join(f", CAST({d} AS TEXT) AS {d}" for d in have)
    grouping = "".join(f", grouping({d}) AS g_{d}" for d in have)
    sql = (f"WITH src AS ({src}) SELECT {year_sql} AS cpc_year{''.join(f', {d}' for d in have)}, "
           f"{agg} AS value{grouping} FROM src WHERE {' AND '.join(conditions)} "
           f"GROUP BY GROUPING SETS ({sets})")
    # Wrap so the GROUP BY sees raw columns and the outer query casts groups to text.
    sql = (f"SELECT cpc_year AS year{group_cols}, value{''.join(f', g_{d}' for d in have)} FROM ({sql})")
    range_sql = (f"WITH src AS ({src}) SELECT min({year_sql}), max({year_sql}) FROM src")
    try:
        con.execute(f"DESCRIBE {sql}", params)
    except db.SqlError as exc:
        raise MeasureProblem(f"this measure cannot be computed: {_first_line(exc)}. "
                             "Check that `agg` fits `expr` (e.g. sum needs numbers).", ("expr",)) from exc
    return Compiled(measure, measure.table, sql, params, range_sql, have, missing, tuple(applied))


def _checked(con, sql: str, table: str, allowed: tuple[str, ...], path: tuple, bare: str | None = None) -> None:
    try:
        check_fragment(con, sql, table, allowed)
    except MeasureProblem as problem:
        message = str(problem)
        if bare and bare.isidentifier() and bare not in allowed:
            message = (f"'{bare}' is neither a segment (defined under `segments:`) nor a column of "
                       f"'{table}'; define the segment, or write a condition such as \"age < 18\".")
        raise MeasureProblem(message, path) from None


def _type_of(con, src: str, sql: str, path: tuple) -> str:
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


def run(con: db.Connection, compiled: Compiled, ranges: dict[str, tuple] | None = None) -> MeasureValues:
    """Run a compiled measure: one query, then fill the years of the table's range."""
    ranges = ranges if ranges is not None else {}
    if compiled.range_sql not in ranges:
        ranges[compiled.range_sql] = con.execute(compiled.range_sql).fetchone()
    first, last = ranges[compiled.range_sql]
    raw = con.execute(compiled.sql, compiled.params).df()
    frames = [_fill(raw[_is_set(raw, compiled.dims, None)], "", None, first, last, compiled.measure)]
    for d in compiled.dims:
        part = raw[_is_set(raw, compiled.dims, d)]
        frames.append(_fill(part, d, d, first, last, compiled.measure))
    frame = pd.concat(frames, ignore_index=True) if frames else _empty()
    return MeasureValues(frame, first, last)


def _is_set(raw: pd.DataFrame, dims: tuple[str, ...], dim: str | None) -> pd.Series:
    """Rows of the grouping set for `dim` (None: the yearly totals)."""
    mask = pd.Series(True, index=raw.index)
    for d in dims:
        mask &= raw[f"g_{d}"] == (0 if d == dim else 1)
    return mask


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"year": pd.Series([], dtype="int64"), "dim": pd.Series([], dtype="str"),
                         "group": pd.Series([], dtype="str"), "value": pd.Series([], dtype="float64")})


def _fill(part: pd.DataFrame, dim: str, column: str | None, first: int | None, last: int | None,
          measure: Measure) -> pd.DataFrame:
    """Every year of the range (x every group seen), 0 for empty counts, running totals."""
    if first is None or last is None:
        return _empty()
    years = range(int(first), int(last) + 1)
    groups = (sorted(g for g in part[column].dropna().unique()) + (["unknown"] if part[column].isna().any() else [])
              if column else [""])
    values = part.assign(group=part[column].fillna("unknown") if column else "")
    values = values.groupby(["year", "group"], as_index=False)["value"].sum(min_count=1)
    grid = pd.MultiIndex.from_product([list(years), groups], names=["year", "group"]).to_frame(index=False)
    out = grid.merge(values, on=["year", "group"], how="left")
    out["value"] = out["value"].astype("float64")
    if measure.agg in ZERO_WHEN_EMPTY:
        out["value"] = out["value"].fillna(0.0)
    if measure.cumulative:
        out = out.sort_values(["group", "year"])
        out["value"] = out.groupby("group")["value"].cumsum()
    out.insert(1, "dim", dim)
    return out[["year", "dim", "group", "value"]].sort_values(["year", "group"]).reset_index(drop=True)
