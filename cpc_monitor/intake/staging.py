"""An import's files staged as temporary tables in one DuckDB connection, and every check
over them as one SQL query: the whole file at once, so a million rows cost seconds.

`cpc_clean` holds every value as trimmed text (empty -> NULL) beside its typed value;
the view `cpc_typed` shows the typed values under the columns' own names, which is what
the rules (rules.py) and the insert read."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

from cpc_monitor.errors import first_line
from cpc_monitor.intake.readers import SAVE_AS_CSV, Problem, SourceFile, check_header, letter, read_xlsx
from cpc_monitor.intake.rules import PROBLEMS_PER_CHECK, format_checks, rule_checks, typed_sql
from cpc_monitor.store import db
from cpc_monitor.store.schema import BATCH_COLUMN, TABLES, Table

if TYPE_CHECKING:  # the importer imports this module: only type checkers read the report's type
    from cpc_monitor.intake.importer import ImportReport

# Whitespace trimmed from both ends of every value (space, tab, CR, LF, no-break space).
_TRIM = "' ' || chr(9) || chr(13) || chr(10) || chr(160)"


class Run:
    """One import's files staged as temp tables in one connection, and the checks over them.

    `cpc_clean` holds every value as trimmed text (empty -> NULL) beside its typed value
    `<column>__v`; the view `cpc_typed` shows the typed values under the columns' own names,
    which is what the rules and the insert read, and the text as written as `<column>__text`."""

    def __init__(self, con: db.Connection, spec: Table, files: list[SourceFile], mode: str, today: date) -> None:
        self.con, self.spec, self.files, self.mode, self.today = con, spec, files, mode, today
        self.key = spec.key[0]  # every importable table has a one-column key
        self.unlisted = 0  # errors found beyond PROBLEMS_PER_CHECK, counted but not listed

    # -- loading

    def stage(self) -> None:
        """Load every readable file and build `cpc_clean` and `cpc_typed`."""
        selects = []
        for i, src in enumerate(self.files):
            if src.readable:
                (self._load_csv if src.kind == ".csv" else self._load_xlsx)(src, i)
            if not src.readable:
                continue
            src.rows = self.con.execute(f"SELECT count(*) FROM cpc_raw_{i}").fetchall()[0][0]
            for j in src.unnamed:
                used = self.con.execute(f"SELECT min(rowid) FROM cpc_raw_{i} "
                                        f"WHERE NULLIF(trim(c{j}, {_TRIM}), '') IS NOT NULL").fetchall()[0][0]
                if used is not None:
                    src.problem(f"column {letter(j)} has no name in the first row but holds values (the first "
                                f"in row {src.row_of(used)}); name it or delete the column.", row=1)
            if src.rows == 0 and not any(p.row and p.row > 1 for p in src.problems):
                src.problem("the file has a header but no data rows; add the records below the first row.")
            position = {name: j for j, name in reversed(list(enumerate(src.header)))}
            cols = ", ".join(f"NULLIF(trim(c{position[c.name]}, {_TRIM}), '') AS {c.name}" if c.name in position
                             else f"CAST(NULL AS VARCHAR) AS {c.name}" for c in self.spec.columns)
            selects.append(f"SELECT {i} AS _file, rowid AS _rec, {cols} FROM cpc_raw_{i}")
        if not selects:
            nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {c.name}" for c in self.spec.columns)
            selects.append(f"SELECT 0 AS _file, 0 AS _rec, {nulls} WHERE false")
        typed = "".join(f", {typed_sql(c)} AS {c.name}__v" for c in self.spec.columns if c.type != "TEXT")
        self.con.execute(f"CREATE TEMP TABLE cpc_clean AS SELECT *{typed} FROM ({' UNION ALL '.join(selects)})")
        plain = ", ".join(c.name if c.type == "TEXT" else f"{c.name}__v AS {c.name}" for c in self.spec.columns)
        text = ", ".join(f"{c.name} AS {c.name}__text" for c in self.spec.columns)
        self.con.execute(f"CREATE TEMP VIEW cpc_typed AS SELECT _file, _rec, {plain}, {text} FROM cpc_clean")

    def _load_csv(self, src: SourceFile, i: int) -> None:
        """Read a CSV file as text with DuckDB's reader; unreadable lines become problems."""
        check_header(src, self.spec)
        if not src.readable:
            return
        width = max(len(src.header), 1)
        columns = ", ".join(f"'c{j}': 'VARCHAR'" for j in range(width))
        try:
            self.con.execute(
                f"CREATE TEMP TABLE cpc_raw_{i} AS SELECT * FROM read_csv(?, columns={{{columns}}}, header=true, "
                "delim=',', quote='\"', escape='\"', auto_detect=false, store_rejects=true, "
                f"rejects_table='cpc_rej_{i}', rejects_scan='cpc_rejscan_{i}')", [str(src.path)])
        except db.SqlError as exc:
            src.problem(f"the file cannot be read as CSV ({first_line(exc)}); {SAVE_AS_CSV}.")
            src.readable = False
            return
        rejected = self.con.execute(
            f"SELECT line, any_value(error_type) FROM cpc_rej_{i} GROUP BY line ORDER BY line").fetchall()
        src.skipped_rows = sorted(set(src.skipped_rows) | {int(line) for line, _ in rejected})
        for line, kind in rejected[:PROBLEMS_PER_CHECK]:
            if kind == "TOO MANY COLUMNS":
                text = (f"the row has more values than the {width} columns of the first row; remove the extra "
                        "values (a value containing a comma must be in \"double quotes\").")
            elif kind == "MISSING COLUMNS":
                text = (f"the row has fewer values than the {width} columns of the first row; add the missing "
                        "commas (an empty value still needs its comma).")
            else:
                text = f"the row cannot be read as CSV ({str(kind).lower()}); check its quotes."
            src.problem(text, row=int(line))
        if len(rejected) > PROBLEMS_PER_CHECK:
            src.problem(f"... and {len(rejected) - PROBLEMS_PER_CHECK:,} more rows that cannot be read as CSV; "
                        f"only the first {PROBLEMS_PER_CHECK} are listed.")
        self.con.execute(f"DROP TABLE IF EXISTS cpc_rej_{i}")
        self.con.execute(f"DROP TABLE IF EXISTS cpc_rejscan_{i}")

    def _load_xlsx(self, src: SourceFile, i: int) -> None:
        """Read the first sheet with openpyxl and stage its cells as text."""
        frame = read_xlsx(src)
        if frame is None:
            return
        check_header(src, self.spec)
        if not src.readable:
            return
        name = f"cpc_frame_{i}"
        self.con.register(name, frame)
        casts = ", ".join(f"CAST(c{j} AS VARCHAR) AS c{j}" for j in range(len(frame.columns))) or "NULL AS c0"
        self.con.execute(f"CREATE TEMP TABLE cpc_raw_{i} AS SELECT {casts} FROM {name}")
        self.con.unregister(name)

    # -- checking

    def problems(self) -> list[Problem]:
        """Every check over the staged rows as one SQL query; at most PROBLEMS_PER_CHECK each."""
        lacking = {c: [i for i, src in enumerate(self.files) if src.readable and c not in src.header]
                   for c in self.spec.column_names}
        checks = [(r, "cpc_clean") for r in format_checks(self.spec, lacking)]
        checks += [(r, "cpc_typed") for r in rule_checks(self.spec, self.today)]
        key = self.key
        # The value is shown as written: cpc_typed keeps each column's text as <column>__text.
        selects = [f"SELECT {n} AS check_id, _file, _rec, "
                   f"{r.column or key}{'__text' if relation == 'cpc_typed' else ''} AS value, "
                   f"CAST({r.detail} AS VARCHAR) AS detail FROM {relation} WHERE {r.condition}"
                   for n, (r, relation) in enumerate(checks)]
        repeated, present = len(checks), len(checks) + 1
        selects.append(
            f"SELECT {repeated}, _file, _rec, {key}, first_file || ':' || first_rec FROM ("
            f"SELECT _file, _rec, {key}, row_number() OVER w AS n, first_value(_file) OVER w AS first_file, "
            f"first_value(_rec) OVER w AS first_rec FROM cpc_clean WHERE {key} IN ("
            f"SELECT {key} FROM cpc_clean WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1) "
            f"WINDOW w AS (PARTITION BY {key} ORDER BY _file, _rec)) WHERE n > 1")
        if self.mode == "append":
            selects.append(f"SELECT {present}, _file, _rec, {key}, NULL FROM cpc_clean "
                           f"WHERE {key} IN (SELECT {key} FROM {self.spec.name})")
        rows = self.con.execute(
            "SELECT check_id, _file, _rec, value, detail, total FROM (SELECT *, row_number() OVER "
            "(PARTITION BY check_id ORDER BY _file, _rec) AS n, count(*) OVER (PARTITION BY check_id) AS total "
            f"FROM ({' UNION ALL '.join(selects)})) WHERE n <= {PROBLEMS_PER_CHECK} "
            "ORDER BY _file, _rec, check_id").fetchall()
        problems, totals = [], {}
        for check_id, i, rec, value, detail, total in rows:
            src = self.files[i]
            totals[check_id] = total
            if check_id == repeated:
                first_file, first_rec = (int(x) for x in detail.split(":"))
                first = self.files[first_file]
                where = f"row {first.row_of(first_rec)}" + ("" if first_file == i else f" of {first.label}")
                column, message = key, (f"{key} '{value}' appears more than once (first at {where}); each record "
                                        "must appear once: remove the repeat, or give it its own id.")
            elif check_id == present:
                column, message = key, (f"{key} '{value}' is already in {self.spec.name}; remove this row, or "
                                        "import the whole table again in replace mode to correct records "
                                        "already loaded.")
            else:
                rule = checks[check_id][0]
                column, message = rule.column or None, rule.message(value, detail)
            problems.append(Problem(src.label, src.row_of(rec), column, value, message))
        for check_id, total in sorted(totals.items()):
            if total > PROBLEMS_PER_CHECK:
                extra = total - PROBLEMS_PER_CHECK
                self.unlisted += extra - 1  # the line below is itself counted once
                rule_name = "each key once" if check_id >= repeated else checks[check_id][0].name
                column = key if check_id >= repeated else checks[check_id][0].column or None
                problems.append(Problem(_labels(self.files), None, column, None,
                                        f"... and {extra:,} more rows breaking the same rule ({rule_name}); "
                                        f"only the first {PROBLEMS_PER_CHECK} are listed."))
        return problems

    def orphans(self) -> list[Problem]:
        """Rows of other tables that replacing this table would leave pointing at nothing."""
        key, name = self.key, self.spec.name
        problems = []
        for child in TABLES.values():
            for col in child.columns:
                if col.references != f"{name}.{key}":
                    continue
                child_key = child.key[0]
                rows = self.con.execute(
                    f"SELECT {child_key}, {col.name}, count(*) OVER () FROM {child.name} "
                    f"WHERE {col.name} IS NOT NULL AND {col.name} NOT IN "
                    f"(SELECT {key} FROM cpc_typed WHERE {key} IS NOT NULL) "
                    f"ORDER BY {child_key} LIMIT {PROBLEMS_PER_CHECK}").fetchall()
                for ck, value, _ in rows:
                    problems.append(Problem(child.name, None, col.name, value,
                                            f"replacing {name} would leave {child.name} {child_key} '{ck}' "
                                            f"pointing at {col.name} '{value}', which is not in the new file; add "
                                            f"that {name} row to the file, or correct {child.name} first."))
                if rows and rows[0][2] > PROBLEMS_PER_CHECK:
                    extra = rows[0][2] - PROBLEMS_PER_CHECK
                    self.unlisted += extra - 1
                    problems.append(Problem(child.name, None, col.name, None,
                                            f"... and {extra:,} more {child.name} rows pointing at {name} rows "
                                            "that are not in the new file."))
        return problems

    # -- writing

    def write(self, batch_id: str, report: ImportReport, who: str) -> None:
        """Put the staged rows into the table (after emptying it in replace mode) and log the batch."""
        cols = ", ".join(self.spec.column_names)
        if self.mode == "replace":
            self.con.execute(f"DELETE FROM {self.spec.name}")
        self.con.execute(f"INSERT INTO {self.spec.name} ({cols}, {BATCH_COLUMN}) "
                         f"SELECT {cols}, ? FROM cpc_typed ORDER BY _file, _rec", [batch_id])
        self.con.execute("INSERT INTO import_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [batch_id, self.spec.name, report.file_names, report.sha256s,
                          datetime.now(timezone.utc).replace(tzinfo=None), who, self.mode, report.rows_added])

    def drop(self) -> None:
        """Remove the staging tables (they are temporary, but a swapped-in file stays clean of them)."""
        self.con.execute("DROP VIEW IF EXISTS cpc_typed")
        self.con.execute("DROP TABLE IF EXISTS cpc_clean")
        for i in range(len(self.files)):
            self.con.execute(f"DROP TABLE IF EXISTS cpc_raw_{i}")


def _labels(files: list[SourceFile]) -> str:
    return "; ".join(f.label for f in files)
