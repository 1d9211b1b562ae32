"""Reading an import's files: the file-level checks (kind, encoding, separators, binary
content), the CSV header and an XLSX's first sheet as text cells, and the problems found
on the way, each naming the file, the row as a spreadsheet shows it and the fix.

CSV files are only inspected here (streamed in chunks, so memory stays bounded); DuckDB's
own reader loads them later (staging.py). XLSX files are read by openpyxl into a frame."""
from __future__ import annotations

import codecs
import csv
import hashlib
import re
import zipfile
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from cpc_monitor.intake.limits import Limits
from cpc_monitor.intake.rules import did_you_mean
from cpc_monitor.intake.sizes import column_letter, csv_rows_problem, csv_size_problem, xlsx_problem
from cpc_monitor.store.schema import BATCH_COLUMN, Table

SUFFIXES = (".csv", ".xlsx")
# Bytes read at a time when hashing and checking the encoding: memory stays bounded.
_CHUNK = 1 << 20
SAVE_AS_CSV = "save it as CSV UTF-8 (in Excel: Save As, 'CSV UTF-8 (Comma delimited)')"


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


def letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    return column_letter(index + 1)


def _inspect_csv(src: SourceFile, limits: Limits) -> None:
    """Hash the file and check it is UTF-8 comma-separated text within the limits; read its header row.

    Streams the file in chunks, so memory stays bounded whatever its size. Also notes the
    blank lines, which DuckDB's reader skips, so row numbers stay as a spreadsheet shows them."""
    too_big = csv_size_problem(src.path.stat().st_size, limits)
    if too_big:  # refused unread: not even hashed, so a huge file costs nothing
        src.problem(too_big)
        src.readable = False
        return
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
                                f"{SAVE_AS_CSV}.", row=bad_line)
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
                            f"{SAVE_AS_CSV}.", row=bad_line)
    src.sha256 = digest.hexdigest()
    too_long = csv_rows_problem(lines_before + (not tail.endswith(b"\n")) - 1, limits)  # lines after the header
    if too_long:
        src.problem(too_long)
        src.readable = False
        return
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
        src.problem(f"the first row cannot be read as column names ({exc}); {SAVE_AS_CSV}.", row=1)
        src.readable = False
        return
    if len(src.header) == 1 and (";" in line or "\t" in line):
        sep = "';'" if ";" in line else "tabs"
        src.problem(f"the first row is separated by {sep}, not commas; {SAVE_AS_CSV}.", row=1)
        src.readable = False


def _refuse_binary(src: SourceFile, chunk: bytes) -> bool:
    """Record a problem and return True when the file is not text at all."""
    if chunk.startswith(b"PK\x03\x04"):
        message = f"this is an Excel workbook or another zip file, not CSV text; name it .xlsx, or {SAVE_AS_CSV}."
    elif chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = f"the file is saved as UTF-16 text; {SAVE_AS_CSV}."
    elif b"\x00" in chunk[:8192]:
        message = f"this is not a CSV text file (it holds binary data); {SAVE_AS_CSV}, or import the workbook as .xlsx."
    else:
        return False
    src.problem(message)
    src.readable = False
    return True


def _hash_rest(handle, digest) -> str:
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def read_xlsx(src: SourceFile) -> pd.DataFrame | None:
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
                    f"Save it again from Excel as .xlsx, or {SAVE_AS_CSV}.")
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


def check_header(src: SourceFile, spec: Table) -> None:
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
            src.problem(f"the column '{name}' appears twice in the first row ({letter(seen[name])} and "
                        f"{letter(j)}); keep one.", row=1, column=name)
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


def inspect(src: SourceFile, limits: Limits) -> None:
    """File-level checks before anything is staged: it exists, has a known kind, is text,
    and is within the limits (a workbook is measured here, before the database is copied)."""
    if src.kind not in SUFFIXES:
        src.problem("only .csv and .xlsx files can be imported; save the sheet as CSV UTF-8 or as an Excel "
                    "workbook (.xlsx).")
        src.readable = False
        if src.path.is_file():
            with open(src.path, "rb") as handle:  # in chunks: the file may be of any size
                src.sha256 = _hash_rest(handle, hashlib.sha256())
        return
    if not src.path.is_file():
        src.problem("the file does not exist; check its name and folder.")
        src.readable = False
        return
    if src.kind == ".csv":
        _inspect_csv(src, limits)
        return
    too_big = xlsx_problem(src.path, limits)
    if too_big:
        src.problem(too_big)
        src.readable = False
        if src.path.stat().st_size <= limits.xlsx_bytes:  # the audit log names what was refused
            with open(src.path, "rb") as handle:
                src.sha256 = _hash_rest(handle, hashlib.sha256())
