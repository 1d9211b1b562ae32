"""Measuring a file against the limits (intake/limits.py) before anything reads it.

An XLSX file is a zip of XML parts. Its size, its parts' declared sizes (zipfile never
inflates a part beyond them, so a zip bomb is caught by its header) and its first
sheet's declared range are checked first; then the sheet's XML is streamed once, element
by element, to find the cells and merged ranges it really holds. openpyxl, which builds
every cell of the rectangle in memory, only ever sees a file that passed. A CSV file is
checked by its size, and by its rows as readers.py streams it.

Each check returns None, or the one line the user reads: what was found, the limit,
the setting that holds it, and the fix."""
from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from cpc_monitor.intake.limits import Limits, env_name

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,9})")
_AS_CSV = "or save the sheet as CSV UTF-8 and import that"
_END_OF_DIRECTORY = b"PK\x05\x06"
_WORKBOOK, _WORKBOOK_RELS = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"


def _over(found: str, limit: int, unit: str, field: str, fix: str) -> str:
    return f"{found}; the limit is {limit:,} {unit} ({env_name(field)}). {fix}"


# ----------------------------------------------------------------------------- CSV


def csv_size_problem(size: int, limits: Limits) -> str | None:
    """A CSV file larger than the limit (checked before a byte is read)."""
    if size <= limits.csv_bytes:
        return None
    return _over(f"the file is {size:,} bytes", limits.csv_bytes, "bytes for a CSV file", "csv_bytes",
                 "Split it into smaller files and import them one after another.")


def csv_rows_problem(rows: int, limits: Limits) -> str | None:
    """A CSV file with more data rows than the limit."""
    if rows <= limits.csv_rows:
        return None
    return _over(f"the file has {rows:,} rows", limits.csv_rows, "rows for a CSV file", "csv_rows",
                 "Split it into smaller files and import them one after another.")


# ----------------------------------------------------------------------------- XLSX


def xlsx_problem(path: Path, limits: Limits) -> str | None:
    """The first limit an XLSX file breaks, or None. A file that is not a zip at all, or has
    no worksheet, passes: the reader then says it is not a workbook."""
    size = path.stat().st_size
    if size > limits.xlsx_bytes:
        return _over(f"the workbook is {size:,} bytes", limits.xlsx_bytes, "bytes for an XLSX file", "xlsx_bytes",
                     f"Split it, {_AS_CSV}.")
    parts = _declared_parts(path)
    if parts is not None and parts > limits.xlsx_parts:
        return _over(f"the workbook holds {parts:,} parts", limits.xlsx_parts, "parts", "xlsx_parts",
                     f"Save it again from Excel, {_AS_CSV}.")
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    with book:
        unzipped = sum(info.file_size for info in book.infolist())
        if unzipped > limits.xlsx_unzipped_bytes:
            return _over(f"the workbook unpacks to {unzipped:,} bytes", limits.xlsx_unzipped_bytes, "bytes",
                         "xlsx_unzipped_bytes", "A workbook this large is unusual, or built to overload the "
                                                f"server: split it, {_AS_CSV}.")
        for name in (_WORKBOOK, _WORKBOOK_RELS):
            declared = _part_size(book, name)
            if declared > limits.xlsx_sheet_list_bytes:
                return _over(f"the workbook's part {name} is {declared:,} bytes", limits.xlsx_sheet_list_bytes,
                             "bytes", "xlsx_sheet_list_bytes", f"Save it again from Excel, {_AS_CSV}.")
        sheet = _first_sheet(book)
        if sheet is None:
            return None
        try:
            with book.open(sheet) as stream:
                return _SheetScan(limits).run(stream)
        except (ElementTree.ParseError, zipfile.BadZipFile, OSError, EOFError) as exc:
            return f"the first sheet cannot be read ({exc}); save the workbook again from Excel, {_AS_CSV}."


def _declared_parts(path: Path) -> int | None:
    """The number of parts the zip's end record declares, read before zipfile builds an
    object for each (a zip of a million empty parts would cost hundreds of MB)."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        length = handle.tell()
        handle.seek(max(0, length - 65_557))  # the end record, plus a comment of at most 64 KiB
        tail = handle.read()
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) < at + 22:
        return None
    total = struct.unpack("<H", tail[at + 10:at + 12])[0]
    return None if total == 0xFFFF else total  # 0xFFFF: a zip64 count; zipfile's sizes then decide


def _part_size(book: zipfile.ZipFile, name: str) -> int:
    try:
        return book.getinfo(name).file_size
    except KeyError:
        return 0


def _first_sheet(book: zipfile.ZipFile) -> str | None:
    """The zip path of the workbook's first worksheet (the one the reader imports)."""
    try:
        workbook = ElementTree.fromstring(book.read(_WORKBOOK))
        rels = ElementTree.fromstring(book.read(_WORKBOOK_RELS))
    except (KeyError, ElementTree.ParseError):
        return None
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PACKAGE_REL}Relationship")
               if r.get("Type", "").endswith("/worksheet")}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"))
        if target:
            name = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            return name if name in book.namelist() else None
    return None


def _cell(ref: str) -> tuple[int, int] | None:
    """(row, column) of a reference such as XFD1048576, or None if it is not one."""
    match = _CELL.fullmatch(ref.strip())
    if not match:
        return None
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)), column


def _corner(ref: str) -> tuple[int, int] | None:
    """The bottom-right (row, column) of a range such as A1:XFD1048576 (or one cell)."""
    return _cell(ref.split(":")[-1])


def _area(ref: str) -> int:
    start, end = _cell(ref.split(":")[0]), _corner(ref)
    if start is None or end is None:
        return 0
    return (abs(end[0] - start[0]) + 1) * (abs(end[1] - start[1]) + 1)


def column_letter(column: int) -> str:
    """Spreadsheet letters of a 1-based column number (1 -> A, 16384 -> XFD)."""
    out = ""
    while column:
        column, rem = divmod(column - 1, 26)
        out = chr(65 + rem) + out
    return out


class _SheetScan:
    """One pass over a sheet's XML: its declared range, the cells it holds and its merged
    ranges, stopping at the first limit broken. Each element is dropped once it ends, so
    memory stays small whatever the sheet holds (a cell's end comes before its row's)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rows = self.columns = 0  # the rectangle from A1 that the reader will visit
        self.merged, self.largest_merge, self.largest_ref = 0, 0, ""

    def run(self, stream) -> str | None:
        row = column = 0  # for the rare cells written without a reference
        open_elements = []  # from the root down to the element being read
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            if event == "start":
                open_elements.append(element)
                continue
            open_elements.pop()
            if open_elements:  # an element that ends is its parent's last child: drop it, so
                del open_elements[-1][-1]  # memory stays flat whatever the sheet repeats
            problem = self._ended(element, row, column)
            if isinstance(problem, str):
                return problem
            row, column = problem or (row, column)
        return None

    def _ended(self, element, row: int, column: int) -> str | tuple[int, int] | None:
        """Check one element whose attributes are complete: a problem, or the (row, column)
        reached so far (kept for cells written without a reference), or None."""
        tag = element.tag
        if tag == f"{_MAIN}c":
            ref = element.get("r")
            at = _cell(ref) if ref else (row + 1, column + 1)
            if at is None:
                return None  # openpyxl refuses a bad reference itself
            return self._reach(at, ref or f"{column_letter(at[1])}{at[0]}", "cell") or (row, at[1])
        if tag == f"{_MAIN}row":
            return int(element.get("r") or row + 1), 0
        if tag == f"{_MAIN}dimension":
            return self._declared(element.get("ref", ""))
        if tag == f"{_MAIN}mergeCell":
            return self._merge(element.get("ref", ""))
        return None

    def _declared(self, ref: str) -> str | None:
        corner = _corner(ref)
        if corner is None:
            return None
        rows, columns = corner
        limits = self.limits
        fix = f"Delete the empty rows and columns around the data, {_AS_CSV}."
        if rows > limits.xlsx_rows:
            return _over(f"the first sheet declares the range {ref}, {rows:,} rows", limits.xlsx_rows, "rows",
                         "xlsx_rows", fix)
        if columns > limits.xlsx_columns:
            return _over(f"the first sheet declares the range {ref}, {columns:,} columns", limits.xlsx_columns,
                         "columns", "xlsx_columns", fix)
        if rows * columns > limits.xlsx_cells:
            return _over(f"the first sheet declares the range {ref}, {rows * columns:,} cells", limits.xlsx_cells,
                         "cells", "xlsx_cells", fix)
        return None

    def _reach(self, at: tuple[int, int], ref: str, what: str) -> str | None:
        """Grow the rectangle to `at`; the first limit it then breaks."""
        self.rows, self.columns = max(self.rows, at[0]), max(self.columns, at[1])
        limits = self.limits
        fix = f"Delete what lies outside the data, {_AS_CSV}."
        if self.rows > limits.xlsx_rows:
            return _over(f"{what} {ref} of the first sheet is in row {at[0]:,}", limits.xlsx_rows, "rows",
                         "xlsx_rows", fix)
        if self.columns > limits.xlsx_columns:
            return _over(f"{what} {ref} of the first sheet is in column {column_letter(at[1])} (column "
                         f"{at[1]:,})", limits.xlsx_columns, "columns", "xlsx_columns", fix)
        if self.rows * self.columns > limits.xlsx_cells:
            return _over(f"the first sheet spans A1:{column_letter(self.columns)}{self.rows}, "
                         f"{self.rows * self.columns:,} cells", limits.xlsx_cells, "cells", "xlsx_cells", fix)
        return None

    def _merge(self, ref: str) -> str | None:
        area, corner = _area(ref), _corner(ref)
        if corner is None:
            return None
        self.merged += area
        if area > self.largest_merge:
            self.largest_merge, self.largest_ref = area, ref
        if self.merged > self.limits.xlsx_merged_cells:
            return _over(f"the merged ranges of the first sheet cover at least {self.merged:,} cells (the "
                         f"largest is {self.largest_ref})", self.limits.xlsx_merged_cells, "merged cells",
                         "xlsx_merged_cells", "Unmerge the cells (in Excel: Home, Merge & Center), then import "
                                              "again.")
        return self._reach(corner, ref, "the merged range")
