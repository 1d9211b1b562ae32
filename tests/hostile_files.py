"""Hostile uploads, built small and fast: the files issue 11 found taking the server down
(a cell at XFD1048576, huge merged ranges, a zip bomb, an oversized CSV), and the YAML
bombs of issue 9. Shared by tests/intake/test_limits.py, tests/definitions/test_authoring.py,
benchmarks/hostile_uploads.py and benchmarks/indicator_authoring.py."""
from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import openpyxl

TRAININGS_HEADER = ["training_id", "start_date", "audience", "partner", "participants", "female_participants",
                    "parish", "topic"]
TRAINING_ROW = ["TR-1", "2021-03-04", "police", "iom", 20, 8, "Kingston", "tip"]
SHEET = "xl/worksheets/sheet1.xml"
BOMB_PART = "xl/media/image1.bin"


def workbook(path: Path, *, far_cell: str | None = None) -> Path:
    """A valid trainings workbook: the header, one row and, if given, one more cell far away."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(TRAININGS_HEADER)
    sheet.append(TRAINING_ROW)
    if far_cell:
        sheet[far_cell] = 1
    book.save(path)
    return path


def rewrite_sheet(path: Path, change) -> Path:
    """Rewrite the first sheet's XML with `change(text) -> text`, keeping every other part."""
    with zipfile.ZipFile(path) as old:
        parts = [(info, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in parts:
            new.writestr(info, change(data.decode()).encode() if info.filename == SHEET else data)
    return path


def far_cell(path: Path) -> Path:
    """One cell at XFD1048576, the last cell Excel allows; the sheet declares A1:XFD1048576."""
    return workbook(path, far_cell="XFD1048576")


def far_cell_undeclared(path: Path) -> Path:
    """The same, with the sheet's <dimension> removed: only its cells tell how far it reaches."""
    import re

    return rewrite_sheet(far_cell(path), lambda xml: re.sub(r"<dimension [^>]*/>", "", xml))


def merged(path: Path, ref: str = "A3:L60000") -> Path:
    """A valid workbook with one huge merged range below its data."""
    return rewrite_sheet(workbook(path), lambda xml: xml.replace(
        "</sheetData>", f'</sheetData><mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'))


def zip_bomb(path: Path, declared: int = 4_000_000_000) -> Path:
    """A valid workbook plus a 1 MB part whose zip headers say it inflates to `declared`
    bytes: the file stays a few KB and is built in milliseconds."""
    workbook(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as book:
        book.writestr(BOMB_PART, b"\0" * (1 << 20))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as book:
        local = book.getinfo(BOMB_PART).header_offset
    struct.pack_into("<I", data, local + 22, declared)  # the local header's uncompressed size
    end = data.rfind(b"PK\x05\x06")  # the end record points at the central directory
    entry = struct.unpack_from("<I", data, end + 16)[0]
    while data[entry + 46:entry + 46 + struct.unpack_from("<H", data, entry + 28)[0]] != BOMB_PART.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, declared)  # the central directory's uncompressed size
    path.write_bytes(bytes(data))
    return path


def real_zip_bomb(path: Path, inflated: int = 1 << 30) -> Path:
    """A valid workbook plus a part that really inflates to `inflated` bytes (1 GiB: about
    1 MB on disk, a few seconds to build): for the benchmark, not the tests."""
    workbook(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        info = zipfile.ZipInfo(BOMB_PART)
        info.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo of its own is stored uncompressed by default
        with book.open(info, "w", force_zip64=True) as part:
            chunk = b"\0" * (1 << 24)
            for _ in range(inflated // len(chunk)):
                part.write(chunk)
    return path


def oversized_csv(path: Path, size: int) -> Path:
    """A CSV file of `size` bytes: a trainings header, then a sparse hole (no disk used)."""
    with open(path, "wb") as handle:
        handle.write((",".join(TRAININGS_HEADER) + "\n").encode())
        handle.truncate(size)
    return path


def repeated_columns(path: Path, count: int) -> Path:
    """A valid workbook whose sheet repeats one <col> element `count` times: no limit is
    broken, but a reader that keeps every element it passes needs hundreds of MB."""
    return rewrite_sheet(workbook(path), lambda xml: xml.replace(
        "<sheetData>", "<cols>" + '<col min="1" max="1" width="9"/>' * count + "</cols><sheetData>"))


# ----------------------------------------------------------------------------- YAML bombs

# Billion laughs: nine levels of nine aliases each, 9**9 strings once expanded.
BILLION_LAUGHS = "\n".join(
    ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    + ["indicators: *l9", ""])
# 100,000 levels of brackets: a recursive loader runs out of stack.
DEEP_BRACKETS = "indicators: " + "[" * 100_000 + "]" * 100_000 + "\n"
# Nesting by indentation: each line opens a list and a mapping.
DEEP_BLOCKS = "indicators:\n" + "".join(" " * (2 * i) + f"- k{i}:\n" for i in range(1, 60))
