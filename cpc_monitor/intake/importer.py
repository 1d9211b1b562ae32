"""Importing agency exports (CSV or the first sheet of an XLSX) into one table: read,
check every row, and write all or nothing.

Each file is loaded as text into a staging table (CSV by DuckDB's own reader, XLSX by
openpyxl), and every rule of data-model.md is checked in SQL over the whole staging
table at once, so a million rows cost seconds, not minutes. Every problem names the
file, the row as a spreadsheet shows it (the header is row 1), the column, the value
and the fix. Any error: nothing is written. A real import runs its checks on the
writer's own copy of the database (db.rebuild), under the lock, and only a clean one
is swapped in; a dry run checks against a read-only attachment and writes nothing.
Every import, refused ones too, goes to the audit log.

The rooms: readers.py reads the files, rules.py holds the rules and their messages,
staging.py stages and checks the rows in SQL; this module runs an import and reports it."""
from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath

import pandas as pd

from cpc_monitor.errors import (CpcError, DatabaseMissing, DatabaseUnusable, DiskFull, ImportRefused,
                                NoImportFiles, UnknownImportMode, UnknownTable, first_line)
from cpc_monitor.intake.limits import current as current_limits
from cpc_monitor.intake.readers import SUFFIXES, Problem, SourceFile, inspect
from cpc_monitor.intake.rules import IMPORTABLE, MODES, did_you_mean
from cpc_monitor.intake.staging import Run
from cpc_monitor.store import audit, db
from cpc_monitor.store.schema import BATCH_COLUMN, TABLES

# DuckDB may use this much memory while checking; beyond it, it spills to disk.
MEMORY_LIMIT = "1GB"


# ----------------------------------------------------------------------------- the report


@dataclass
class ImportReport:
    """What an import found and did (or, for a dry run, would do)."""

    db: str
    table: str
    mode: str
    dry_run: bool
    files: list[SourceFile]
    problems: list[Problem] = field(default_factory=list)
    error_count: int = 0  # every error found, including those beyond PROBLEMS_PER_CHECK
    rows_in_files: int = 0
    rows_before: int = 0  # rows in the table before the import
    rows_added: int = 0  # rows the import adds (or would add)
    rows_replaced: int = 0  # rows --mode replace removes (or would remove)
    batch_id: str | None = None
    written: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when nothing stops the import."""
        return self.error_count == 0

    @property
    def file_names(self) -> str:
        return "; ".join(f.label for f in self.files)

    @property
    def sha256s(self) -> str:
        return "; ".join(f.sha256 for f in self.files)

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a table: severity, file, row, column, value, problem."""
        frame = pd.DataFrame([{"severity": p.severity, "file": p.file, "row": p.row, "column": p.column,
                               "value": p.value, "problem": p.message} for p in self.problems],
                             columns=["severity", "file", "row", "column", "value", "problem"])
        frame["row"] = frame["row"].astype("Int64")
        return frame

    def summary(self) -> str:
        """One line saying what happened (or, for a dry run, would happen)."""
        source = f"{self.file_names} ({_count(self.rows_in_files, 'row')} read)"
        if not self.ok:
            return (f"{self.table}: {_count(self.error_count, 'problem')} in {source}; nothing was written to "
                    f"{self.db}. Fix them and import again.")
        replaced = f", replacing its {_count(self.rows_replaced, 'row')}" if self.mode == "replace" else ""
        after = _count(self.rows_before - self.rows_replaced + self.rows_added, "row")
        if self.dry_run:
            return (f"dry run: {source} would add {_count(self.rows_added, 'row')} to {self.table}{replaced} "
                    f"({self.rows_before:,} now, {after} after); nothing was written.")
        return (f"imported {_count(self.rows_added, 'row')} into {self.table}{replaced} from {source} as batch "
                f"{self.batch_id}; {self.table} now has {after}.")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


# ----------------------------------------------------------------------------- checking


def _check(con: db.Connection, report: ImportReport, today: date) -> Run:
    """Stage the report's files in `con` and fill the report with every problem and the counts."""
    spec = TABLES[report.table]
    have = db.table_columns(con).get(spec.name, ())
    missing = [c for c in spec.column_names + (BATCH_COLUMN,) if c not in have]
    if missing:
        raise DatabaseUnusable(f"{report.db} has no table {spec.name} with the columns this version needs "
                               f"(missing: {', '.join(missing)}); build a database with `python -m cpc_monitor init`.")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = true")  # rowid follows the file's order: row numbers rely on it
    report.rows_before = con.execute(f"SELECT count(*) FROM {spec.name}").fetchall()[0][0]
    run = Run(con, spec, report.files, report.mode, today)
    run.stage()
    found = run.problems()
    for src in report.files:
        report.problems.extend(src.problems)
    report.problems.extend(found)
    if report.mode == "replace":
        report.problems.extend(run.orphans())
    report.error_count = len(report.errors) + run.unlisted
    report.rows_in_files = sum(src.rows for src in report.files)
    report.rows_added = report.rows_in_files
    report.rows_replaced = report.rows_before if report.mode == "replace" else 0
    return run


@contextmanager
def _read_only_copy_of(db_path: Path) -> Iterator[db.Connection]:
    """A scratch connection that can read files, with the database attached read-only as default."""
    with tempfile.TemporaryDirectory(prefix="cpc-check-") as spill:
        con = db.scratch()
        try:
            con.execute(f"SET temp_directory = '{_sql_text(spill)}'")
            try:
                con.execute(f"ATTACH '{_sql_text(str(db_path))}' AS cpc_current (READ_ONLY)")
            except db.SqlError as exc:
                raise DatabaseUnusable(f"{db_path} cannot be opened as a CPC Monitor database: "
                                       f"{first_line(exc)}") from exc
            con.execute("USE cpc_current")
            yield con
        finally:
            con.close()


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


# ----------------------------------------------------------------------------- the entry points


def import_files(db_path: str | os.PathLike, table: str, files: Sequence[str | os.PathLike], *,
                 mode: str = "append", dry_run: bool = False, who: str | None = None,
                 labels: Sequence[str] | None = None, today: date | None = None) -> ImportReport:
    """Check CSV/XLSX `files` for `table` and, unless `dry_run`, load them all or nothing.

    Returns the report (for a dry run, also when it found problems). A real import that
    finds any error raises ImportRefused carrying the report; the database is untouched.
    `labels` are the names shown for the files (default: the paths as given); `who` is
    recorded in the audit log (default: the operating-system user). Example:

        report = import_files("data/cpc.duckdb", "cases", ["jcf-2024.csv"], dry_run=True)
        print(report.summary()); report.problems_frame()
    """
    db_path = Path(db_path)
    labels = list(labels) if labels is not None else [str(f) for f in files]
    report = ImportReport(str(db_path), table, mode, dry_run,
                          [SourceFile(Path(f), _clean_label(label)) for f, label in zip(files, labels)])
    try:
        _check_request(db_path, table, mode, report.files)
        limits = current_limits()
        for src in report.files:
            inspect(src, limits)
        today = today or date.today()
        if dry_run:
            with _read_only_copy_of(db_path) as con:
                _check(con, report, today)
            return report
        user = audit.current_user(who)
        with db.rebuild(db_path) as con:
            run = _check(con, report, today)
            if not report.ok:
                raise ImportRefused(report)
            report.batch_id = _batch_id(table)
            try:
                run.write(report.batch_id, report, user)
            except db.SqlError as exc:  # a rule the checks missed: refuse rather than half-write
                if db.is_disk_full(exc):
                    raise  # not the rows' fault: db.rebuild says so, and removes the copy
                report.error_count += 1
                report.problems.append(Problem(report.file_names, None, None, None,
                                               f"the database refused the rows: {first_line(exc)}"))
                raise ImportRefused(report) from exc
            run.drop()
        report.written = True
    except ImportRefused:
        unlogged = _audit_refused(db_path, report, who, report.summary() + _first_errors(report))
        if unlogged:
            report.problems.append(Problem(report.file_names, None, None, None, unlogged, "warning"))
        raise
    except CpcError as exc:
        unlogged = "" if dry_run else _audit_refused(db_path, report, who, str(exc))
        if unlogged:  # the refusal still reaches the user, with the log's failure added
            raise type(exc)(f"{exc} {unlogged}") from exc
        raise
    unlogged = _logged(lambda: audit.record(
        db_path, "import", who=who, table=table, file=report.file_names, sha256=report.sha256s,
        rows_added=report.rows_added, rows_replaced=report.rows_replaced, batch=report.batch_id,
        message=report.summary()), "this import")
    if unlogged:
        report.problems.append(Problem(report.file_names, None, None, None, unlogged, "warning"))
    return report


def import_upload(db_path: str | os.PathLike, table: str, filename: str, data: bytes, *, mode: str = "append",
                  dry_run: bool = False, who: str | None = "local", today: date | None = None) -> ImportReport:
    """Import a browser upload: `data` goes to a temporary file of our own; `filename` is
    only ever a label (its folders are dropped; it is never used as a path). Example:

        report = import_upload(db, "victims", upload.name, upload.getvalue(), dry_run=True)
    """
    label = upload_label(filename)
    suffix = Path(label).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="cpc-upload-") as folder:
        path = Path(folder) / f"upload{suffix if suffix in SUFFIXES else '.bin'}"
        try:
            path.write_bytes(data)
        except OSError as exc:
            if not db.is_disk_full(exc):
                raise
            raise DiskFull(f"there is not enough disk space in the temporary folder {folder} to receive "
                           f"{label} ({exc.strerror}); nothing was changed. Free some space there, then "
                           "upload it again.") from exc
        return import_files(db_path, table, [path], mode=mode, dry_run=dry_run, who=who, labels=[label],
                            today=today)


def upload_label(filename: str) -> str:
    """The name an upload is shown under: its last path part, without control characters."""
    name = PurePosixPath(str(filename).replace("\\", "/")).name
    return _clean_label(name) or "upload"


def _clean_label(label: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in str(label))


def _check_request(db_path: Path, table: str, mode: str, files: list[SourceFile]) -> None:
    if table not in IMPORTABLE:
        hint = did_you_mean(table, IMPORTABLE)
        reference = " It is a reference table, written by `init`." if table in TABLES else ""
        raise UnknownTable(f"'{table}' is not a table an import can fill.{reference}{hint} "
                           f"Tables: {', '.join(IMPORTABLE)}.")
    if mode not in MODES:
        raise UnknownImportMode(f"'{mode}' is not an import mode; use append (add rows) or replace (the whole table).")
    if not files:
        raise NoImportFiles("no file to import; name at least one CSV or XLSX file.")
    if not db_path.is_file():
        raise DatabaseMissing(f"The database {db_path} does not exist. Build an empty one with "
                              f"`python -m cpc_monitor init --db {db_path}` first.")


def _batch_id(table: str) -> str:
    """A new import batch id: when (UTC), what, and a random part so two never collide."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{table}-{uuid.uuid4().hex[:6]}"


def _first_errors(report: ImportReport, n: int = 3) -> str:
    errors = report.errors[:n]
    return (" First: " + " | ".join(str(p) for p in errors)) if errors else ""


def _audit_refused(db_path: Path, report: ImportReport, who: str | None, message: str) -> str:
    """Log a refusal; '' or, when the disk is too full for the log too, the words saying so."""
    if not db_path.parent.is_dir():
        return ""
    return _logged(lambda: audit.record(
        db_path, "import_refused", who=who, table=report.table, file=report.file_names or None,
        sha256=report.sha256s or None, rows_added=0, rows_replaced=0, outcome="refused", message=message),
        "this refusal")


def _logged(write: Callable[[], object], what: str) -> str:
    """Run an audit write. On a full disk it cannot succeed: rather than hide what happened
    behind that error, return a sentence for the user saying the log is missing `what`."""
    try:
        write()
    except OSError as exc:
        if not db.is_disk_full(exc):
            raise
        return f"The audit log could not record {what} ({exc.strerror}): free disk space beside the database."
    return ""
