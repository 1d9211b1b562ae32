"""Upload limits (issue 11, part 2): a hostile or huge file is refused before it is read,
with a message naming the limit, the value found and the setting, and the database stays
byte-identical. The files are built in tmp_path and stay a few KB (tests/hostile_files.py);
benchmarks/hostile_uploads.py prints the time and memory each refusal costs."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import hostile_files as hostile
from cpc_monitor import errors
from cpc_monitor.cli.main import main
from cpc_monitor.intake import importer, limits
from cpc_monitor.store import audit
from helpers import ROOT, sha256

AS_CSV = "or save the sheet as CSV UTF-8 and import that."


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from the defaults, whatever the machine's environment sets."""
    for name in limits.Limits.__dataclass_fields__:
        monkeypatch.delenv(limits.env_name(name), raising=False)


def refusal(db_path: Path, table: str, path: Path) -> str:
    """Import `path` expecting a refusal for its size; the one error line (the database unchanged)."""
    before = sha256(db_path)
    with pytest.raises(errors.ImportRefused) as caught:
        importer.import_files(db_path, table, [path], labels=[path.name])
    assert sha256(db_path) == before
    assert not list(db_path.parent.glob("*.new-*")), "no copy of the database is left"
    report = caught.value.report
    assert report.error_count == 1 and report.rows_in_files == 0
    refused = audit.entries(db_path).iloc[-1]
    assert refused["action"] == "import_refused" and str(report.errors[0]) in refused["message"]
    return str(report.errors[0])


# --------------------------------------------------------------------------- XLSX


def test_a_cell_at_xfd1048576_is_refused_by_the_declared_range(fresh_db, tmp_path):
    path = hostile.far_cell(tmp_path / "far.xlsx")
    assert refusal(fresh_db, "trainings", path) == (
        "far.xlsx: the first sheet declares the range A1:XFD1048576, 1,048,576 rows; the limit is 100,000 rows "
        f"(CPC_LIMIT_XLSX_ROWS). Delete the empty rows and columns around the data, {AS_CSV}")


def test_a_far_cell_is_found_when_the_sheet_declares_no_range(fresh_db, tmp_path):
    path = hostile.far_cell_undeclared(tmp_path / "far.xlsx")
    assert b"<dimension" not in zipfile.ZipFile(path).read(hostile.SHEET)
    assert refusal(fresh_db, "trainings", path) == (
        "far.xlsx: cell XFD1048576 of the first sheet is in row 1,048,576; the limit is 100,000 rows "
        f"(CPC_LIMIT_XLSX_ROWS). Delete what lies outside the data, {AS_CSV}")


def test_huge_merged_ranges_are_refused(fresh_db, tmp_path):
    path = hostile.merged(tmp_path / "merged.xlsx", "A3:L60000")
    assert refusal(fresh_db, "trainings", path) == (
        "merged.xlsx: the merged ranges of the first sheet cover at least 719,976 cells (the largest is A3:L60000); "
        "the limit is 100,000 merged cells (CPC_LIMIT_XLSX_MERGED_CELLS). Unmerge the cells (in Excel: Home, "
        "Merge & Center), then import again.")


def test_a_zip_bomb_is_refused_by_its_declared_sizes(fresh_db, tmp_path):
    path = hostile.zip_bomb(tmp_path / "bomb.xlsx", declared=4_000_000_000)
    assert path.stat().st_size < 20_000
    with zipfile.ZipFile(path) as book:
        unpacked = sum(info.file_size for info in book.infolist())
    assert unpacked > 4_000_000_000
    assert refusal(fresh_db, "trainings", path) == (
        f"bomb.xlsx: the workbook unpacks to {unpacked:,} bytes; the limit is 100,000,000 bytes "
        "(CPC_LIMIT_XLSX_UNZIPPED_BYTES). A workbook this large is unusual, or built to overload the server: "
        f"split it, {AS_CSV}")


def test_a_cell_limit_set_in_the_environment_is_named(fresh_db, tmp_path, monkeypatch):
    monkeypatch.setenv("CPC_LIMIT_XLSX_CELLS", "10")
    path = hostile.workbook(tmp_path / "small.xlsx")
    assert refusal(fresh_db, "trainings", path) == (
        "small.xlsx: the first sheet declares the range A1:H2, 16 cells; the limit is 10 cells "
        f"(CPC_LIMIT_XLSX_CELLS). Delete the empty rows and columns around the data, {AS_CSV}")


@pytest.mark.parametrize("setting, value, found", [
    ("CPC_LIMIT_XLSX_BYTES", "1000", "the workbook is {size:,} bytes; the limit is 1,000 bytes for an XLSX file "
                                     "(CPC_LIMIT_XLSX_BYTES). Split it, " + AS_CSV),
    ("CPC_LIMIT_XLSX_PARTS", "5", "the workbook holds 9 parts; the limit is 5 parts (CPC_LIMIT_XLSX_PARTS). Save it "
                                  "again from Excel, " + AS_CSV),
    ("CPC_LIMIT_XLSX_SHEET_LIST_BYTES", "100", "the workbook's part xl/workbook.xml is {part} bytes; the limit is 100 "
                                               "bytes (CPC_LIMIT_XLSX_SHEET_LIST_BYTES). Save it again from Excel, "
                                               + AS_CSV),
    ("CPC_LIMIT_XLSX_COLUMNS", "4", "the first sheet declares the range A1:H2, 8 columns; the limit is 4 columns "
                                    "(CPC_LIMIT_XLSX_COLUMNS). Delete the empty rows and columns around the data, "
                                    + AS_CSV),
])
def test_each_workbook_limit_names_its_setting(fresh_db, tmp_path, monkeypatch, setting, value, found):
    monkeypatch.setenv(setting, value)
    path = hostile.workbook(tmp_path / "w.xlsx")
    assert len(zipfile.ZipFile(path).infolist()) == 9
    part = zipfile.ZipFile(path).getinfo("xl/workbook.xml").file_size  # openpyxl's output varies with lxml
    assert refusal(fresh_db, "trainings", path) == "w.xlsx: " + found.format(size=path.stat().st_size, part=part)


def test_a_sheet_that_is_not_xml_is_refused_before_openpyxl_reads_it(fresh_db, tmp_path):
    def cut(xml: str) -> str:  # the sheet ends right after <sheetData>, as a download cut short would
        return xml[:xml.index("<sheetData>") + len("<sheetData>")]

    path = hostile.rewrite_sheet(hostile.workbook(tmp_path / "cut.xlsx"), cut)
    length = len(zipfile.ZipFile(path).read(hostile.SHEET))
    assert refusal(fresh_db, "trainings", path) == (
        f"cut.xlsx: the first sheet cannot be read (no element found: line 1, column {length}); save the workbook "
        f"again from Excel, {AS_CSV}")


def test_a_workbook_within_the_limits_still_imports(fresh_db, tmp_path):
    report = importer.import_files(fresh_db, "trainings", [hostile.workbook(tmp_path / "ok.xlsx")])
    assert report.written and report.rows_added == 1


# --------------------------------------------------------------------------- CSV


def test_an_oversized_csv_is_refused_unread(fresh_db, tmp_path):
    path = hostile.oversized_csv(tmp_path / "huge.csv", limits.Limits().csv_bytes + 1)
    assert refusal(fresh_db, "trainings", path) == (
        "huge.csv: the file is 250,000,001 bytes; the limit is 250,000,000 bytes for a CSV file "
        "(CPC_LIMIT_CSV_BYTES). Split it into smaller files and import them one after another.")


def test_a_csv_with_too_many_rows_is_refused(fresh_db, tmp_path, monkeypatch):
    monkeypatch.setenv("CPC_LIMIT_CSV_ROWS", "3")
    rows = "".join(f"TR-{i},2021-03-04,police,iom,20,8,Kingston,tip\n" for i in range(4))
    path = tmp_path / "long.csv"
    path.write_text(",".join(hostile.TRAININGS_HEADER) + "\n" + rows)
    assert refusal(fresh_db, "trainings", path) == (
        "long.csv: the file has 4 rows; the limit is 3 rows for a CSV file (CPC_LIMIT_CSV_ROWS). Split it into "
        "smaller files and import them one after another.")
    monkeypatch.setenv("CPC_LIMIT_CSV_ROWS", "4")  # the last row has no newline: still counted
    path.write_text(path.read_text().rstrip("\n"))
    assert importer.import_files(fresh_db, "trainings", [path]).rows_added == 4


def test_a_bad_limit_setting_is_one_clear_line(fresh_db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CPC_LIMIT_CSV_ROWS", "lots")
    path = tmp_path / "t.csv"
    path.write_text(",".join(hostile.TRAININGS_HEADER) + "\n")
    before = sha256(fresh_db)
    assert main(["import", "--db", str(fresh_db), "trainings", str(path)]) == 1
    assert capsys.readouterr().err == (
        "error: the environment variable CPC_LIMIT_CSV_ROWS is 'lots', not a whole number above 0; set it to "
        "one, such as 2000000, or unset it to use the default (2,000,000).\n")
    assert sha256(fresh_db) == before


def test_the_sheet_scan_keeps_memory_flat(tmp_path):
    """1,500,000 repeated elements (48 MB of XML, within every limit) are scanned in a process
    capped at 250 MB of address space: a scan that kept what it passed would need ~500 MB."""
    path = hostile.repeated_columns(tmp_path / "cols.xlsx", 1_500_000)
    probe = ("import resource, sys\n"
             "resource.setrlimit(resource.RLIMIT_AS, (250 << 20, 250 << 20))\n"
             "from pathlib import Path\n"
             "from cpc_monitor.intake import limits, sizes\n"
             "print(sizes.xlsx_problem(Path(sys.argv[1]), limits.Limits()))")
    done = subprocess.run([sys.executable, "-c", probe, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "None\n", "")
