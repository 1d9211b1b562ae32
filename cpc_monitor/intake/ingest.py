"""Importing agency exports (CSV or the first sheet of an XLSX) into one table: read,
check every row, and write all or nothing.

Each file is loaded as text into a staging table (CSV by DuckDB's own reader, XLSX by
openpyxl), and every rule of data-model.md is checked in SQL over the whole staging
table at once, so a million rows cost seconds, not minutes. Every problem names the
file, the row as a spreadsheet shows it (the header is row 1), the column, the value
and the fix. Any error: nothing is written. A real import runs its checks on the
writer's own copy of the database (db.rebuild), under the lock, and only a clean one
is swapped in; a dry run checks against a read-only attachment and writes nothing.
Every import, refused ones too, and every restore goes to the audit log."""
from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import os
import re
import tempfile
import uuid
import zipfile
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path, PurePosixPath

import pandas as pd

from cpc_monitor.store import audit, codes, db
from cpc_monitor.errors import CpcError, DatabaseMissing, DatabaseUnusable
from cpc_monitor.store.schema import BATCH_COLUMN, TABLES, Column, Table

MODES = ("append", "replace")
SUFFIXES = (".csv", ".xlsx")
# Tables an import may fill: the event tables (reference tables come from `init`).
IMPORTABLE = tuple(name for name, spec in TABLES.items() if spec.event)
# Rows listed per check; the rest are counted in one line, so a file that is wrong on
# every row still gives a short report.
PROBLEMS_PER_CHECK = 200
# Bytes read at a time when hashing and checking the encoding: memory stays bounded.
_CHUNK = 1 << 20
# DuckDB may use this much memory while checking; beyond it, it spills to disk.
MEMORY_LIMIT = "1GB"
# Whitespace trimmed from both ends of every value (space, tab, CR, LF, no-break space).
_TRIM = "' ' || chr(9) || chr(13) || chr(10) || chr(160)"
_DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_INT_RE = r"[+-]?[0-9]{1,10}"
_DECIMAL_RE = r"[+-]?[0-9]{1,12}(\.[0-9]{1,2})?"
# How a pattern of the schema reads in a message.
_PATTERN_TEXT = {"[A-Z]{3}": "a three-letter ISO 3166-1 alpha-3 code in capitals, such as JAM"}
_SAVE_AS_CSV = "save it as CSV UTF-8 (in Excel: Save As, 'CSV UTF-8 (Comma delimited)')"


class UnknownTable(CpcError):
    """The table named for an import is not one an import can fill."""


class ImportRefused(CpcError):
    """The files have problems; nothing was written. `report` lists every one."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(report.summary())


class BackupNotFound(CpcError):
    """The backup named for a restore is not one of the database's backups."""


# ----------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import: where, the value, and how to fix it."""

    file: str  # the file's name as the user knows it (for rows an import would orphan: the table)
    row: int | None  # as a spreadsheet shows it: the header is row 1
    column: str | None
    value: str | None
    message: str  # what is wrong and how to fix it
    severity: str = "error"  # "error" refuses the import; "warning" does not

    def __str__(self) -> str:
        where = self.file + (f" row {self.row}" if self.row else "") + (f", column {self.column}" if self.column else "")
        return f"{where}: {'warning: ' if self.severity == 'warning' else ''}{self.message}"


@dataclass
class SourceFile:
    """One file of an import: where it is, what it is called, and what was read from it."""

    path: Path
    label: str  # the name shown in messages (an upload's name is only ever a label)
    sha256: str = ""
    size: int = 0
    header: list[str] = field(default_factory=list)  # column names of the first row, in order
    rows: int = 0  # data rows read
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True  # False: nothing could be staged from this file
    # CSV: rows the reader skipped (blank or unreadable lines); XLSX: the sheet row of each record.
    skipped_rows: list[int] = field(default_factory=list)
    sheet_rows: list[int] | None = None
    unnamed: list[int] = field(default_factory=list)  # columns with no name: an error only if they hold values

    @property
    def kind(self) -> str:
        return Path(self.label).suffix.lower()

    def row_of(self, record: int) -> int:
        """The spreadsheet row of the `record`-th data row read (0-based)."""
        if self.sheet_rows is not None:
            return self.sheet_rows[record]
        # The smallest row r >= 2 with record + 1 rows in 2..r that were read (not skipped).
        skipped, before = self.skipped_rows, bisect_left(self.skipped_rows, 2)
        low, high = record + 2, record + 2 + len(skipped)
        while low < high:
            mid = (low + high) // 2
            if (mid - 1) - (bisect_right(skipped, mid) - before) >= record + 1:
                high = mid
            else:
                low = mid + 1
        return low

    def problem(self, message: str, row: int | None = None, column: str | None = None,
                value: str | None = None, severity: str = "error") -> None:
        self.problems.append(Problem(self.label, row, column, value, message, severity))


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


# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One rule of the data model over a table's columns, checked in SQL.

    `condition` is true for a row that breaks the rule; it reads the columns by their own
    names and types, so the same rule checks an import's staging rows and, for the data
    quality page, the rows already in the database."""

    column: str
    name: str  # the rule in a few words, e.g. "parish is a parish"
    condition: str
    message: Callable[[str, str | None], str]  # (value, detail) -> what is wrong and the fix
    detail: str = "NULL"  # SQL text shown in the message beside the value


def rule_checks(spec: Table, today: date) -> list[Rule]:
    """The rules every row of `spec` must keep (codes, ranges, dates, order, parents)."""
    rules: list[Rule] = []
    for col in spec.columns:
        c = col.name
        if col.codes:
            rules.append(Rule(c, f"{c} is an allowed code", f"{c} NOT IN ({_sql_list(col.codes)})",
                              _code_message(c, col.codes)))
        if col.pattern:
            form = _PATTERN_TEXT.get(col.pattern, f"of the form {col.pattern}")
            rules.append(Rule(c, f"{c} is {form}", f"NOT regexp_full_match({c}, '{col.pattern}')",
                              lambda v, d, form=form: f"'{v}' is not {form}."))
        if col.minimum is not None and col.maximum is not None:
            lo, hi = f"{col.minimum:g}", f"{col.maximum:g}"
            rules.append(Rule(c, f"{c} is {lo} to {hi}", f"({c} < {lo} OR {c} > {hi})",
                              lambda v, d, c=c, lo=lo, hi=hi: f"'{v}' is outside {lo} to {hi}; {c} must be "
                                                              f"between {lo} and {hi}."))
        elif col.minimum is not None:
            lo = f"{col.minimum:g}"
            rules.append(Rule(c, f"{c} is at least {lo}", f"{c} < {lo}",
                              (lambda v, d, c=c: f"'{v}' is negative; {c} cannot be below 0.") if col.minimum == 0
                              else (lambda v, d, c=c, lo=lo: f"'{v}' is below {lo}, the smallest {c} allowed.")))
        elif col.maximum is not None:
            hi = f"{col.maximum:g}"
            rules.append(Rule(c, f"{c} is at most {hi}", f"{c} > {hi}",
                              lambda v, d, c=c, hi=hi: f"'{v}' is above {hi}, the largest {c} allowed."))
        if col.type == "DATE":
            rules.append(Rule(c, f"{c} is not in the future", f"{c} > DATE '{today.isoformat()}'",
                              lambda v, d, t=today: f"'{v}' is in the future; dates must be on or before "
                                                    f"today ({t.isoformat()})."))
        if col.references:
            rules.append(_reference_rule(col))
    for earlier, later in spec.ordered_dates:
        rules.append(Rule(later, f"{later} is not before {earlier}", f"{later} < {earlier}",
                          lambda v, d, a=earlier, b=later: f"{b} '{v}' is before {a} '{d}'; it cannot be earlier. "
                                                           "Correct whichever date is wrong.",
                          detail=f"CAST({earlier} AS VARCHAR)"))
    for check in spec.extra_checks:
        rules.append(_extra_rule(check))
    return rules


def _reference_rule(col: Column) -> Rule:
    parent, key = col.references.split(".")  # type: ignore[union-attr]
    c = col.name
    # The NULL test matters: in SQL, NULL NOT IN (an empty set) is true.
    condition = f"{c} IS NOT NULL AND {c} NOT IN (SELECT {key} FROM {parent} WHERE {key} IS NOT NULL)"
    if parent == "parishes":
        return Rule(c, f"{c} is a parish", condition, _code_message(c, codes.PARISHES, what="a parish"))
    empty = "" if col.required else f", or leave {c} empty"
    return Rule(c, f"{c} is in {parent}", condition,
                lambda v, d: f"'{v}' is not in {parent}: there is no {key} '{v}'. Import that record into "
                             f"{parent} first, or correct the {c}{empty}.")


# Table-level rules in words: the SQL CHECK -> (column, what is wrong, detail SQL).
_EXTRA_TEXT = {
    "female_participants IS NULL OR female_participants <= participants": (
        "female_participants", "CAST(participants AS VARCHAR)",
        lambda v, d: f"female_participants '{v}' is more than participants '{d}'; it counts the women among "
                     "the participants, so it cannot be larger."),
}


def _extra_rule(check: str) -> Rule:
    column, detail, message = _EXTRA_TEXT.get(
        check, (None, "NULL", lambda v, d, check=check: f"the row breaks the rule {check}; correct its values."))
    return Rule(column or "", check, f"NOT coalesce(({check}), true)", message, detail=detail)


def _code_message(column: str, allowed: Sequence[str], what: str | None = None) -> Callable[[str, str | None], str]:
    what = what or f"an allowed {column}"
    label = "Parishes" if what == "a parish" else "Allowed"
    return lambda v, d: f"'{v}' is not {what}.{did_you_mean(v, allowed)} {label}: {', '.join(allowed)}."


def did_you_mean(value: str, allowed: Sequence[str]) -> str:
    """' Did you mean 'x'?' for the allowed value closest to `value`, or ''."""
    folded = {a.casefold().replace(" ", "").replace("_", ""): a for a in allowed}
    key = value.casefold().replace(" ", "").replace("_", "").replace("-", "").replace(".", "")
    close = [folded[key]] if key in folded else difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    if not close:
        close = [folded[k] for k in difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)]
    return f" Did you mean '{close[0]}'?" if close else ""


def _sql_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# ----------------------------------------------------------------------------- reading files


def _letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _inspect_csv(src: SourceFile) -> None:
    """Hash the file and check it is UTF-8 comma-separated text; read its header row.

    Streams the file in chunks, so memory stays bounded whatever its size. Also notes the
    blank lines, which DuckDB's reader skips, so row numbers stay as a spreadsheet shows them."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    first = b""
    lines_before = 0  # newlines before the current buffer
    tail = b""  # the last bytes of the previous chunk, for blank lines across chunk borders
    bad_line = None
    with open(src.path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            src.size += len(chunk)
            if not first:
                first = chunk
                if _refuse_binary(src, chunk):
                    src.sha256 = _hash_rest(handle, digest)
                    return
            if bad_line is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad_line = lines_before + tail.count(b"\n") + chunk.count(b"\n", 0, exc.start) + 1
                    src.problem(f"the file is not UTF-8 text (byte 0x{chunk[exc.start]:02X} on line {bad_line}); "
                                f"{_SAVE_AS_CSV}.", row=bad_line)
            buffer = tail + chunk
            counted, seen = 0, lines_before
            for match in re.finditer(rb"\n\r?(?=\n)", buffer):
                if match.end() <= len(tail):
                    continue  # found with the previous chunk
                seen += buffer.count(b"\n", counted, match.start() + 1)
                counted = match.start() + 1
                src.skipped_rows.append(seen + 1)
            lines_before += chunk.count(b"\n")
            tail = chunk[-2:]
        if bad_line is None and src.size:
            try:
                decoder.decode(b"", final=True)  # a character cut off at the very end
            except UnicodeDecodeError:
                bad_line = lines_before + 1
                src.problem(f"the file is not UTF-8 text (its last character is cut off on line {bad_line}); "
                            f"{_SAVE_AS_CSV}.", row=bad_line)
    src.sha256 = digest.hexdigest()
    if src.size == 0:
        src.problem("the file is empty; it needs a first row naming the columns and one row per record.")
        src.readable = False
        return
    if bad_line is not None:
        src.readable = False
        return
    text = first.decode("utf-8", errors="replace").lstrip("\ufeff")
    line = re.split(r"\r\n|\n|\r", text, maxsplit=1)[0]
    try:
        src.header = [name.strip() for name in next(csv.reader([line]), [])]
    except csv.Error as exc:
        src.problem(f"the first row cannot be read as column names ({exc}); {_SAVE_AS_CSV}.", row=1)
        src.readable = False
        return
    if len(src.header) == 1 and (";" in line or "\t" in line):
        sep = "';'" if ";" in line else "tabs"
        src.problem(f"the first row is separated by {sep}, not commas; {_SAVE_AS_CSV}.", row=1)
        src.readable = False


def _refuse_binary(src: SourceFile, chunk: bytes) -> bool:
    """Record a problem and return True when the file is not text at all."""
    if chunk.startswith(b"PK\x03\x04"):
        message = f"this is an Excel workbook or another zip file, not CSV text; name it .xlsx, or {_SAVE_AS_CSV}."
    elif chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = f"the file is saved as UTF-16 text; {_SAVE_AS_CSV}."
    elif b"\x00" in chunk[:8192]:
        message = f"this is not a CSV text file (it holds binary data); {_SAVE_AS_CSV}, or import the workbook as .xlsx."
    else:
        return False
    src.problem(message)
    src.readable = False
    return True


def _hash_rest(handle, digest) -> str:
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _read_xlsx(src: SourceFile) -> pd.DataFrame | None:
    """The first sheet as text cells (saved values of formulas; merged ranges filled)."""
    import openpyxl  # only imports of XLSX files need it
    from openpyxl.utils.exceptions import InvalidFileException

    data = src.path.read_bytes()
    src.sha256 = hashlib.sha256(data).hexdigest()
    src.size = len(data)
    if not data:
        src.problem("the file is empty; it needs a first row naming the columns and one row per record.")
        src.readable = False
        return None
    try:
        book = openpyxl.load_workbook(src.path, data_only=True)
        formulas = openpyxl.load_workbook(src.path, data_only=False, read_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        src.problem(f"the file cannot be opened as an Excel workbook (.xlsx): {str(exc) or type(exc).__name__}. "
                    f"Save it again from Excel as .xlsx, or {_SAVE_AS_CSV}.")
        src.readable = False
        return None
    sheet = book.worksheets[0]
    cells: dict[tuple[int, int], object] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                cells[(cell.row, cell.column)] = cell.value
            if cell.data_type == "e":
                src.problem(f"cell {cell.coordinate} shows the error {cell.value}; correct the formula or the value.",
                            row=cell.row, value=str(cell.value))
    for row in formulas.worksheets[0].iter_rows():
        for cell in row:
            if getattr(cell, "data_type", None) == "f" and (cell.row, cell.column) not in cells:
                src.problem(f"cell {cell.coordinate} holds the formula {cell.value} but no saved value; open the "
                            "workbook in Excel, let it calculate, save it, then import again.",
                            row=cell.row, value=str(cell.value))
    formulas.close()
    for merged in sheet.merged_cells.ranges:
        value = cells.get((merged.min_row, merged.min_col))
        if merged.min_row == 1:
            src.problem(f"cells {merged.coord} of the first row are merged; the first row needs one column name "
                        "per cell: unmerge them.", row=1)
            continue
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                if value is not None:
                    cells[(r, c)] = value
        if value is not None:
            src.problem(f"cells {merged.coord} are merged; every cell of the range takes the value '{_cell_text(value)}'.",
                        row=merged.min_row, value=_cell_text(value), severity="warning")
    width = max((c for (_, c) in cells), default=0)
    src.header = [_cell_text(cells.get((1, c))) or "" for c in range(1, width + 1)]
    last_row = max((r for (r, _) in cells), default=1)
    records, src.sheet_rows = [], []
    for r in range(2, last_row + 1):
        values = [_cell_text(cells.get((r, c))) for c in range(1, width + 1)]
        if any(v not in (None, "") for v in values):
            records.append(values)
            src.sheet_rows.append(r)
    book.close()
    return pd.DataFrame(records, columns=[f"c{j}" for j in range(width)], dtype=object)


def _cell_text(value: object) -> str | None:
    """A cell's saved value as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_header(src: SourceFile, spec: Table) -> None:
    """Unknown, duplicated, unnamed and missing columns of the first row."""
    names = spec.column_names
    if not any(src.header):
        src.problem(f"the first row is empty; it must name the columns ({', '.join(names)}).", row=1)
        src.readable = False
        return
    seen: dict[str, int] = {}
    for j, name in enumerate(src.header):
        if not name:
            src.unnamed.append(j)
        elif name in seen:
            src.problem(f"the column '{name}' appears twice in the first row ({_letter(seen[name])} and "
                        f"{_letter(j)}); keep one.", row=1, column=name)
        elif name == BATCH_COLUMN:
            src.problem(f"'{BATCH_COLUMN}' is filled in by the import; remove this column.", row=1, column=name)
        elif name not in names:
            src.problem(f"'{name}' is not a column of {spec.name}; rename or remove it.{did_you_mean(name, names)} "
                        f"Columns of {spec.name}: {', '.join(names)}.", row=1, column=name, value=name)
        seen.setdefault(name, j)
    for col in spec.columns:
        if col.name in seen:
            continue
        if col.required:
            src.problem(f"the required column '{col.name}' is missing; add it to the first row.", row=1,
                        column=col.name)
        else:
            src.problem(f"there is no column '{col.name}'; every row will have it empty.", row=1,
                        column=col.name, severity="warning")


# ----------------------------------------------------------------------------- staging and checking


def _typed_sql(col: Column) -> str:
    """SQL giving the typed value of a text column, NULL when the text is not of that type."""
    c = col.name
    if col.type == "DATE":
        return f"CASE WHEN regexp_full_match({c}, '{_DATE_RE}') THEN TRY_CAST({c} AS DATE) END"
    if col.type == "INTEGER":
        return f"CASE WHEN regexp_full_match({c}, '{_INT_RE}') THEN TRY_CAST({c} AS INTEGER) END"
    if col.type.startswith("DECIMAL"):
        return f"CASE WHEN regexp_full_match({c}, '{_DECIMAL_RE}') THEN TRY_CAST({c} AS {col.type}) END"
    if col.type == "BOOLEAN":
        return f"CASE lower({c}) WHEN 'true' THEN true WHEN 'false' THEN false END"
    raise ValueError(f"no import conversion for the type {col.type} of {c}")


# What a badly written value of each type is told (dates have their own two checks).
_FORMAT_TEXT: dict[str, Callable[[str, str | None], str]] = {
    "INTEGER": lambda v, d: f"'{v}' is not a whole number; write digits only, such as 12.",
    "BOOLEAN": lambda v, d: f"'{v}' is not true or false; write true or false.",
    "DECIMAL": lambda v, d: (f"'{v}' is not an amount; write digits with at most two decimals and no currency "
                             "sign or thousands separator, such as 1500.50."),
}


def _format_checks(spec: Table, lacking: dict[str, list[int]]) -> list[Rule]:
    """Checks of the text itself: required values given; dates, numbers and booleans well formed.

    `lacking` names, per column, the files without it: their header problem says so once."""
    rules = []
    for col in spec.columns:
        c = col.name
        if col.required:
            skip = f" AND _file NOT IN ({', '.join(map(str, lacking[c]))})" if lacking.get(c) else ""
            rules.append(Rule(c, f"{c} is given", f"{c} IS NULL{skip}",
                              lambda v, d, c=c: f"{c} is empty; every row needs one."))
        if col.type == "DATE":
            rules.append(Rule(c, f"{c} is YYYY-MM-DD",
                              f"{c} IS NOT NULL AND NOT regexp_full_match({c}, '{_DATE_RE}')",
                              lambda v, d: f"'{v}' is not a date in the form YYYY-MM-DD (for example 2021-03-04)."))
            rules.append(Rule(c, f"{c} is a real date",
                              f"{c} IS NOT NULL AND {c}__v IS NULL AND regexp_full_match({c}, '{_DATE_RE}')",
                              lambda v, d: f"'{v}' is not a real date; check the day and the month."))
        elif col.type != "TEXT":
            rules.append(Rule(c, f"{c} is a {col.type.lower()}", f"{c} IS NOT NULL AND {c}__v IS NULL",
                              _FORMAT_TEXT[col.type.split("(")[0]]))
    return rules


class _Run:
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
                    src.problem(f"column {_letter(j)} has no name in the first row but holds values (the first "
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
        typed = "".join(f", {_typed_sql(c)} AS {c.name}__v" for c in self.spec.columns if c.type != "TEXT")
        self.con.execute(f"CREATE TEMP TABLE cpc_clean AS SELECT *{typed} FROM ({' UNION ALL '.join(selects)})")
        plain = ", ".join(c.name if c.type == "TEXT" else f"{c.name}__v AS {c.name}" for c in self.spec.columns)
        text = ", ".join(f"{c.name} AS {c.name}__text" for c in self.spec.columns)
        self.con.execute(f"CREATE TEMP VIEW cpc_typed AS SELECT _file, _rec, {plain}, {text} FROM cpc_clean")

    def _load_csv(self, src: SourceFile, i: int) -> None:
        """Read a CSV file as text with DuckDB's reader; unreadable lines become problems."""
        _check_header(src, self.spec)
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
            src.problem(f"the file cannot be read as CSV ({_first_line(exc)}); {_SAVE_AS_CSV}.")
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
        frame = _read_xlsx(src)
        if frame is None:
            return
        _check_header(src, self.spec)
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
        checks = [(r, "cpc_clean") for r in _format_checks(self.spec, lacking)]
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


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _check(con: db.Connection, report: ImportReport, today: date) -> _Run:
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
    run = _Run(con, spec, report.files, report.mode, today)
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
                                       f"{_first_line(exc)}") from exc
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
        for src in report.files:
            _inspect(src)
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
                report.error_count += 1
                report.problems.append(Problem(report.file_names, None, None, None,
                                               f"the database refused the rows: {_first_line(exc)}"))
                raise ImportRefused(report) from exc
            run.drop()
        report.written = True
    except ImportRefused:
        _audit_refused(db_path, report, who, report.summary() + _first_errors(report))
        raise
    except CpcError as exc:
        if not dry_run:
            _audit_refused(db_path, report, who, str(exc))
        raise
    audit.record(db_path, "import", who=who, table=table, file=report.file_names, sha256=report.sha256s,
                 rows_added=report.rows_added, rows_replaced=report.rows_replaced, batch=report.batch_id,
                 message=report.summary())
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
        path.write_bytes(data)
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
        raise CpcError(f"'{mode}' is not an import mode; use append (add rows) or replace (the whole table).")
    if not files:
        raise CpcError("no file to import; name at least one CSV or XLSX file.")
    if not db_path.is_file():
        raise DatabaseMissing(f"The database {db_path} does not exist. Build an empty one with "
                              f"`python -m cpc_monitor init --db {db_path}` first.")


def _inspect(src: SourceFile) -> None:
    """File-level checks before anything is staged: it exists, has a known kind, is text."""
    if src.kind not in SUFFIXES:
        src.problem("only .csv and .xlsx files can be imported; save the sheet as CSV UTF-8 or as an Excel "
                    "workbook (.xlsx).")
        src.readable = False
        if src.path.is_file():
            src.sha256 = hashlib.sha256(src.path.read_bytes()).hexdigest()
        return
    if not src.path.is_file():
        src.problem("the file does not exist; check its name and folder.")
        src.readable = False
        return
    if src.kind == ".csv":
        _inspect_csv(src)


def _batch_id(table: str) -> str:
    """A new import batch id: when (UTC), what, and a random part so two never collide."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{table}-{uuid.uuid4().hex[:6]}"


def _first_errors(report: ImportReport, n: int = 3) -> str:
    errors = report.errors[:n]
    return (" First: " + " | ".join(str(p) for p in errors)) if errors else ""


def _audit_refused(db_path: Path, report: ImportReport, who: str | None, message: str) -> None:
    if db_path.parent.is_dir():
        audit.record(db_path, "import_refused", who=who, table=report.table, file=report.file_names or None,
                     sha256=report.sha256s or None, rows_added=0, rows_replaced=0, outcome="refused",
                     message=message)


# ----------------------------------------------------------------------------- backups


def backups(db_path: str | os.PathLike) -> pd.DataFrame:
    """The kept earlier versions of the database, newest first: name, saved_at (UTC), size, path."""
    rows = [{"name": p.name, "saved_at": datetime.fromtimestamp(p.stat().st_mtime, timezone.utc),
             "size_bytes": p.stat().st_size, "path": str(p)} for p in db.list_backups(db_path)]
    return pd.DataFrame(rows, columns=["name", "saved_at", "size_bytes", "path"])


def restore(db_path: str | os.PathLike, backup: str | os.PathLike, *, who: str | None = None) -> Path:
    """Bring back a kept backup (named by file name or path) as the database, atomically.

    The version it replaces is itself kept as a backup, so a restore can be undone. Returns
    the backup used. Example: restore("data/cpc.duckdb", "cpc-1735689600000000000.duckdb")"""
    db_path = Path(db_path)
    kept = db.list_backups(db_path)
    wanted = Path(backup)
    # A bare name is looked up among the backups; a path must be one of them, not any file.
    chosen = next((p for p in kept if (p.name == str(backup) if wanted.name == str(backup)
                                       else p.resolve() == wanted.resolve())), None)
    if chosen is None:
        names = ", ".join(p.name for p in kept) or "none yet"
        raise BackupNotFound(f"'{backup}' is not a backup of {db_path}; backups: {names}. "
                             f"List them with `python -m cpc_monitor restore --db {db_path}`.")
    digest = hashlib.sha256(chosen.read_bytes()).hexdigest()
    with db.reading(chosen) as con:
        if "schema_info" not in db.table_columns(con):
            raise DatabaseUnusable(f"the backup {chosen.name} is not a CPC Monitor database.")
    with db.rebuild(db_path, start_empty=True) as con:
        target = con.execute("SELECT current_database()").fetchall()[0][0]
        con.execute(f"ATTACH '{_sql_text(str(chosen))}' AS cpc_backup (READ_ONLY)")
        con.execute(f'COPY FROM DATABASE cpc_backup TO "{target}"')
        con.execute("DETACH cpc_backup")
    audit.record(db_path, "restore", who=who, file=chosen.name, sha256=digest,
                 message=f"restored {db_path.name} from the backup {chosen.name}")
    return chosen
