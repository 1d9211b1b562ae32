"""The database schema: one description of every table, from which the DDL, the
importer's checks and the indicator validator's column lists are all derived.

`create_schema` writes the tables, the reference data and the `cfs_capacity` view
into an open connection; `init_database` writes a whole new file with them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cpc_monitor.store import codes

# Stored in schema_info. Bump when a table or column changes, so that a later version can tell
# which files to migrate, and this version refuses files written by a newer one.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    """One column of the data model, with what the importer and the schema check."""

    name: str
    type: str  # DuckDB type: TEXT, DATE, INTEGER, BOOLEAN, DECIMAL(14,2)
    required: bool = False  # NOT NULL (primary keys are always required)
    codes: tuple[str, ...] | None = None  # allowed values, checked on import and by CHECK
    references: str | None = None  # "table.column" that a given value must exist in
    minimum: float | None = None  # smallest allowed number
    maximum: float | None = None  # largest allowed number
    pattern: str | None = None  # regular expression a text must match in full


@dataclass(frozen=True)
class Table:
    """A table of the data model."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    date_column: str | None = None  # the event date of the row, for timeliness and years
    event: bool = True  # filled by imports (and carries import_batch); False: written by `init` only
    # Date pairs that must be in order: (earlier, later).
    ordered_dates: tuple[tuple[str, str], ...] = ()
    extra_checks: tuple[str, ...] = field(default=())  # table-level CHECKs (SQL)

    def column(self, name: str) -> Column | None:
        """The column called `name`, or None."""
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _code(name: str, values: tuple[str, ...], required: bool = False) -> Column:
    return Column(name, "TEXT", required=required, codes=values)


_SEX = _code("sex", codes.SEXES)
_AGE = Column("age", "INTEGER", minimum=0, maximum=120)
_PARISH = Column("parish", "TEXT", references="parishes.parish")
# Filled by the importer (the batch a row came in); never part of an import file.
BATCH_COLUMN = "import_batch"

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("parishes", ("parish",), (
        Column("parish", "TEXT", required=True),
        _code("county", codes.COUNTIES, required=True),
    ), event=False),
    Table("population", ("year", "parish"), (
        Column("year", "INTEGER", required=True, minimum=1900, maximum=2100),
        Column("parish", "TEXT", required=True, references="parishes.parish"),
        Column("population", "INTEGER", required=True, minimum=0),
        Column("child_population", "INTEGER", minimum=0),
    ), event=False),
    Table("child_friendly_spaces", ("space_id",), (
        Column("space_id", "TEXT", required=True),
        Column("name", "TEXT"),
        _PARISH,
        _code("operator", codes.OPERATORS),
        Column("opened_date", "DATE"),
        Column("closed_date", "DATE"),
        Column("monthly_capacity", "INTEGER", minimum=0),
    ), date_column="opened_date", ordered_dates=(("opened_date", "closed_date"),)),
    Table("cases", ("case_id",), (
        Column("case_id", "TEXT", required=True),
        Column("opened_date", "DATE", required=True),
        _PARISH,
        _code("referral_source", codes.REFERRAL_SOURCES),
        _code("exploitation_type", codes.EXPLOITATION_TYPES),
        _code("status", codes.CASE_STATUSES),
        Column("closed_date", "DATE"),
    ), date_column="opened_date", ordered_dates=(("opened_date", "closed_date"),)),
    Table("victims", ("victim_id",), (
        Column("victim_id", "TEXT", required=True),
        Column("case_id", "TEXT", references="cases.case_id"),
        Column("identified_date", "DATE", required=True),
        _code("identified_by", codes.REFERRAL_SOURCES),
        _code("victim_status", codes.VICTIM_STATUSES),
        _PARISH,
        _SEX,
        _AGE,
        Column("nationality", "TEXT", pattern="[A-Z]{3}"),
        _code("exploitation_type", codes.EXPLOITATION_TYPES),
        Column("referred_date", "DATE"),
        _code("care_provider", codes.CARE_PROVIDERS),
    ), date_column="identified_date", ordered_dates=(("identified_date", "referred_date"),)),
    Table("prosecutions", ("prosecution_id",), (
        Column("prosecution_id", "TEXT", required=True),
        Column("case_id", "TEXT", references="cases.case_id"),
        Column("defendant_ref", "TEXT"),
        Column("charged_date", "DATE", required=True),
        _code("court", codes.COURTS),
        _PARISH,
        _code("statute", codes.STATUTES),
        Column("child_victim", "BOOLEAN"),
        _code("outcome", codes.OUTCOMES),
        Column("outcome_date", "DATE"),
        Column("sentence_months", "INTEGER", minimum=0),
        Column("restitution_ordered", "BOOLEAN"),
    ), date_column="charged_date", ordered_dates=(("charged_date", "outcome_date"),)),
    Table("cfs_sessions", ("session_id",), (
        Column("session_id", "TEXT", required=True),
        Column("space_id", "TEXT", required=True, references="child_friendly_spaces.space_id"),
        Column("session_date", "DATE", required=True),
        _code("service", codes.SERVICES),
        _code("crime_type", codes.CRIME_TYPES),
        _SEX,
        _AGE,
        Column("victim_id", "TEXT", references="victims.victim_id"),
        Column("duration_minutes", "INTEGER", minimum=0),
    ), date_column="session_date"),
    Table("funding", ("entry_id",), (
        Column("entry_id", "TEXT", required=True),
        Column("entry_date", "DATE", required=True),
        _code("kind", codes.FUNDING_KINDS),
        _code("donor", codes.DONORS),
        _code("partner", codes.PARTNERS),
        _code("pillar", codes.PILLARS),
        Column("amount_usd", "DECIMAL(14,2)", required=True, minimum=0),
        Column("description", "TEXT"),
    ), date_column="entry_date"),
    Table("trainings", ("training_id",), (
        Column("training_id", "TEXT", required=True),
        Column("start_date", "DATE", required=True),
        _code("audience", codes.AUDIENCES),
        _code("partner", codes.PARTNERS),
        Column("participants", "INTEGER", required=True, minimum=0),
        Column("female_participants", "INTEGER", minimum=0),
        _PARISH,
        Column("topic", "TEXT"),
    ), date_column="start_date",
        extra_checks=("female_participants IS NULL OR female_participants <= participants",)),
)}

# Tables that imports fill (the spaces too: new ones open); `init` fills the others.
EVENT_TABLES = tuple(t for t, spec in TABLES.items() if spec.event)

# The derived view's columns (data-model.md), for validation of indicators over it.
VIEW_COLUMNS: dict[str, tuple[str, ...]] = {"cfs_capacity": ("year", "space_id", "parish", "capacity")}


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _column_ddl(col: Column) -> str:
    parts = [col.name, col.type]
    if col.required:
        parts.append("NOT NULL")
    checks = []
    if col.codes:
        checks.append(f"{col.name} IN ({_sql_list(col.codes)})")
    if col.minimum is not None:
        checks.append(f"{col.name} >= {col.minimum:g}")
    if col.maximum is not None:
        checks.append(f"{col.name} <= {col.maximum:g}")
    if col.pattern:
        checks.append(f"regexp_full_match({col.name}, '{col.pattern}')")
    if checks:
        parts.append("CHECK (" + " AND ".join(checks) + ")")
    return " ".join(parts)


def table_ddl(table: Table) -> str:
    """CREATE TABLE statement for one table of the data model."""
    lines = [_column_ddl(c) for c in table.columns]
    if table.event:
        lines.append(f"{BATCH_COLUMN} TEXT")
    lines.append(f"PRIMARY KEY ({', '.join(table.key)})")
    lines += [f"CHECK ({a} IS NULL OR {b} IS NULL OR {b} >= {a})" for a, b in table.ordered_dates]
    lines += [f"CHECK ({c})" for c in table.extra_checks]
    return f"CREATE TABLE {table.name} (\n  " + ",\n  ".join(lines) + "\n)"


# Book-keeping tables the product adds beside the data model.
SUPPORT_DDL = (
    """CREATE TABLE schema_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    # One row per import that wrote data; rows carry its id in `import_batch`.
    """CREATE TABLE import_batches (
      batch_id TEXT PRIMARY KEY, table_name TEXT NOT NULL, file_name TEXT, sha256 TEXT,
      imported_at TIMESTAMP NOT NULL, imported_by TEXT, mode TEXT, rows INTEGER)""",
    # Reviewed pairs of victim records from different agencies (likely duplicates).
    # 'same_person' removes other_victim_id from every indicator; 'different' keeps both.
    """CREATE TABLE duplicate_decisions (
      kept_victim_id TEXT NOT NULL, other_victim_id TEXT NOT NULL,
      decision TEXT NOT NULL CHECK (decision IN ('same_person', 'different')),
      decided_at TIMESTAMP NOT NULL, decided_by TEXT,
      PRIMARY KEY (kept_victim_id, other_victim_id))""",
)

# Months a space was open in a year (a month counts when it was open on any day of it);
# a space with no closed_date runs to the last month with any event data.
CFS_CAPACITY_VIEW = """
CREATE VIEW cfs_capacity AS
WITH last_event AS (
  SELECT max(d) AS d FROM (
    SELECT max(opened_date) AS d FROM cases UNION ALL
    SELECT max(identified_date) FROM victims UNION ALL
    SELECT max(charged_date) FROM prosecutions UNION ALL
    SELECT max(session_date) FROM cfs_sessions UNION ALL
    SELECT max(entry_date) FROM funding UNION ALL
    SELECT max(start_date) FROM trainings)
),
months AS (
  SELECT s.space_id, s.parish, s.monthly_capacity, m.month
  FROM child_friendly_spaces s, last_event e,
       LATERAL (SELECT unnest(generate_series(date_trunc('month', s.opened_date),
                date_trunc('month', coalesce(s.closed_date, e.d, s.opened_date)),
                INTERVAL 1 MONTH)) AS month) m
  WHERE s.opened_date IS NOT NULL
    AND (s.closed_date IS NOT NULL OR e.d IS NOT NULL)
)
SELECT CAST(year(month) AS INTEGER) AS year, space_id, parish,
       CAST(sum(monthly_capacity) AS INTEGER) AS capacity
FROM months GROUP BY ALL
"""


@dataclass(frozen=True)
class Space:
    """A child-friendly space of the public record (or an assumption where it is silent)."""

    space_id: str
    name: str
    parish: str
    operator: str
    opened: date
    monthly_capacity: int
    assumed: str = ""  # what this row assumes where the public record is silent


# The ten spaces counted by February 2024 (facts file, "Child-friendly spaces").
# Capacity is an assumption: 20 sessions a month, 12 at INDECOM's smaller offices.
CHILD_FRIENDLY_SPACES: tuple[Space, ...] = (
    Space("CFS-01", "Falmouth Police Station", "Trelawny", "jcf", date(2022, 3, 4), 20),
    Space("CFS-02", "INDECOM Kingston office", "Kingston", "indecom", date(2022, 11, 15), 12),
    Space("CFS-03", "INDECOM Montego Bay office", "St James", "indecom", date(2022, 11, 15), 12),
    Space("CFS-04", "Victim Services Division, Port Antonio", "Portland", "moj_vsd", date(2023, 1, 26), 20),
    Space("CFS-05", "Victim Services Division, Mandeville", "Manchester", "moj_vsd", date(2023, 8, 18), 20,
          "opening date: JIS gives 18 August 2023, Warnath 19 August; JIS is used"),
    Space("CFS-06", "National Children's Registry (CPFSA)", "St Andrew", "cpfsa", date(2023, 12, 15), 20,
          "parish: the public record says 'Corporate Area'; taken as St Andrew"),
    Space("CFS-07", "Glenhope Child Care Facility (CPFSA)", "St Andrew", "cpfsa", date(2023, 12, 15), 20,
          "parish: the public record says 'Corporate Area'; taken as St Andrew"),
    Space("CFS-08", "Space 8 (not named in the public record)", "St Catherine", "moj_vsd", date(2023, 12, 20), 20,
          "assumed: a Victim Services Division space in Spanish Town, opened December 2023 "
          "(the CPFSA said 8 were operating that month)"),
    Space("CFS-09", "Space 9 (not named in the public record)", "St Ann", "moj_vsd", date(2024, 1, 25), 20,
          "assumed: a Victim Services Division space in St Ann's Bay, opened January 2024"),
    Space("CFS-10", "JCF C-TOC Branch", "Kingston", "jcf", date(2024, 2, 20), 20,
          "parish: not in the public record; taken as Kingston (JCF headquarters area)"),
)


def create_schema(con) -> None:
    """Write every table, the reference data and the cfs_capacity view into `con`."""
    for table in TABLES.values():
        con.execute(table_ddl(table))
    for ddl in SUPPORT_DDL:
        con.execute(ddl)
    con.execute(CFS_CAPACITY_VIEW)
    con.executemany("INSERT INTO parishes VALUES (?, ?)", list(codes.PARISH_COUNTY.items()))
    con.execute(
        """INSERT INTO population
           SELECT y.range::INTEGER, p.parish,
                  round(p.census * pow(1 + ?, y.range - 2011))::INTEGER,
                  round(p.census * pow(1 + ?, y.range - 2011) * ?)::INTEGER
           FROM (SELECT unnest(?::TEXT[]) AS parish, unnest(?::INTEGER[]) AS census) p,
                range(?, ?) y""",
        [codes.POPULATION_GROWTH_PER_YEAR, codes.POPULATION_GROWTH_PER_YEAR, codes.CHILD_SHARE,
         list(codes.CENSUS_2011), list(codes.CENSUS_2011.values()),
         codes.POPULATION_YEARS.start, codes.POPULATION_YEARS.stop],
    )
    con.executemany(
        "INSERT INTO child_friendly_spaces VALUES (?, ?, ?, ?, ?, NULL, ?, 'reference')",
        [(s.space_id, s.name, s.parish, s.operator, s.opened, s.monthly_capacity)
         for s in CHILD_FRIENDLY_SPACES],
    )
    set_info(con, schema_version=str(SCHEMA_VERSION), synthetic="false")


def set_info(con, **values: str) -> None:
    """Store key/value facts about the file (schema version, whether the data is synthetic)."""
    for key, value in values.items():
        con.execute("INSERT OR REPLACE INTO schema_info VALUES (?, ?)", [key, value])


def init_database(path) -> None:
    """Write a new database at `path` with the schema and reference data; event tables empty."""
    from cpc_monitor.store import db  # the writer lives in db; imported here to keep schema free of I/O at import

    with db.rebuild(path, start_empty=True, keep_backup=False) as con:
        create_schema(con)
