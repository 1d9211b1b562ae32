"""Imports (issue 4): every bad input is refused with the exact message naming file, row,
column, value and fix, and leaves the database byte-identical; good files load all or
nothing, with a batch id, a backup and an audit entry; a killed import or a reader running
beside one never sees a broken database."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpc_monitor.store import audit, db

from cpc_monitor.intake import importer, readers, rules
from cpc_monitor.store import backups
from cpc_monitor import errors
from cpc_monitor.cli.main import main
from cpc_monitor.errors import DatabaseBusy
from helpers import sha256

ROOT = Path(__file__).resolve().parents[2]  # the project root
CASES = "case_id,opened_date,parish,referral_source,exploitation_type,status,closed_date\n"
CASE = "JCF-1,2021-03-04,Kingston,police,sexual,closed,2021-09-01\n"
VICTIMS = ("victim_id,case_id,identified_date,identified_by,victim_status,parish,sex,age,nationality,"
           "exploitation_type,referred_date,care_provider\n")
CASES_COLUMNS = "case_id, opened_date, parish, referral_source, exploitation_type, status, closed_date"
PARISHES = ("Kingston, St Andrew, St Thomas, Portland, St Catherine, St Mary, Clarendon, St Ann, Manchester, "
            "St Elizabeth, Trelawny, St James, Hanover, Westmoreland")
SAVE_AS = "save it as CSV UTF-8 (in Excel: Save As, 'CSV UTF-8 (Comma delimited)')"




@pytest.fixture
def empty_db(fresh_db: Path) -> Path:
    return fresh_db


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def refused(db_path: Path, table: str, *files: Path, mode: str = "append") -> list[str]:
    """Import expecting a refusal; check the database is byte-identical; return the error lines."""
    before = sha256(db_path)
    with pytest.raises(errors.ImportRefused) as caught:
        importer.import_files(db_path, table, list(files), mode=mode, labels=[f.name for f in files])
    assert sha256(db_path) == before
    assert not list(db_path.parent.glob("*.new-*")), "the writer's copy must be removed"
    return [str(p) for p in caught.value.report.errors]


def rows(db_path: Path, sql: str) -> list[tuple]:
    with db.reading(db_path) as con:
        return con.execute(sql).fetchall()


# --------------------------------------------------------------------------- good files


def test_good_csv_imports_with_batch_backup_and_audit(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", CASES + CASE + "JCF-2,2021-04-01,St James,hotline,labour,open,\n")
    report = importer.import_files(empty_db, "cases", [path], labels=["cases.csv"], who="tester")
    assert report.written and report.ok and report.rows_added == 2
    assert report.summary() == (f"imported 2 rows into cases from cases.csv (2 rows read) as batch {report.batch_id}; "
                                "cases now has 2 rows.")
    assert re.fullmatch(r"\d{8}T\d{6}Z-cases-[0-9a-f]{6}", report.batch_id)
    assert rows(empty_db, "SELECT case_id, opened_date, closed_date, import_batch FROM cases ORDER BY 1") == [
        ("JCF-1", date(2021, 3, 4), date(2021, 9, 1), report.batch_id),
        ("JCF-2", date(2021, 4, 1), None, report.batch_id)]
    assert rows(empty_db, "SELECT batch_id, table_name, file_name, sha256, imported_by, mode, rows "
                          "FROM import_batches") == [
        (report.batch_id, "cases", "cases.csv", sha256(path), "tester", "append", 2)]
    assert len(db.list_backups(empty_db)) == 1
    log = audit.entries(empty_db)
    assert log[["who", "action", "table", "file", "sha256", "rows_added", "outcome"]].values.tolist() == [
        ["tester", "import", "cases", "cases.csv", sha256(path), 2, "ok"]]


def test_values_are_trimmed_and_empty_cells_are_null(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", CASES + " JCF-1 , 2021-03-04 ,Kingston,  police,sexual, ,\r\n")
    importer.import_files(empty_db, "cases", [path])
    assert rows(empty_db, "SELECT case_id, opened_date, referral_source, status FROM cases") == [
        ("JCF-1", date(2021, 3, 4), "police", None)]


def test_columns_in_any_order_and_missing_optional_column_is_a_warning(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", "opened_date,case_id\n2021-03-04,JCF-1\n")
    report = importer.import_files(empty_db, "cases", [path], labels=["cases.csv"])
    assert report.written
    assert "cases.csv row 1, column parish: warning: there is no column 'parish'; every row will have it empty." \
        in [str(p) for p in report.warnings]
    assert rows(empty_db, "SELECT case_id, opened_date, parish FROM cases") == [("JCF-1", date(2021, 3, 4), None)]


def test_several_files_load_together(empty_db, tmp_path):
    a = write(tmp_path, "a.csv", CASES + CASE)
    b = write(tmp_path, "b.csv", CASES + CASE.replace("JCF-1", "JCF-2"))
    report = importer.import_files(empty_db, "cases", [a, b], labels=["a.csv", "b.csv"])
    assert report.rows_added == 2
    assert rows(empty_db, "SELECT file_name FROM import_batches") == [("a.csv; b.csv",)]


def test_utf8_bom_and_quoted_commas(empty_db, tmp_path):
    funding = ("entry_id,entry_date,kind,donor,partner,pillar,amount_usd,description\n"
               'F-1,2022-01-05,disbursement,usg,iom,protection,1500.50,"Shelter, phase 2"\n')
    path = write(tmp_path, "funding.csv", b"\xef\xbb\xbf" + funding.encode())
    importer.import_files(empty_db, "funding", [path])
    assert rows(empty_db, "SELECT entry_id, CAST(amount_usd AS VARCHAR), description FROM funding") == [
        ("F-1", "1500.50", "Shelter, phase 2")]


# --------------------------------------------------------------------------- columns


def test_unknown_column(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", CASES.replace("parish", "parsh") + CASE)
    assert refused(empty_db, "cases", path) == [
        "cases.csv row 1, column parsh: 'parsh' is not a column of cases; rename or remove it. Did you mean "
        f"'parish'? Columns of cases: {CASES_COLUMNS}."]


def test_missing_required_column_is_reported_once(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", "case_id,parish\nJCF-1,Kingston\nJCF-2,Kingston\n")
    assert refused(empty_db, "cases", path) == ["cases.csv row 1, column opened_date: the required column 'opened_date' is missing; "
                      "add it to the first row."]


def test_duplicate_unnamed_and_batch_columns(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", "case_id,opened_date,case_id,,import_batch,\n"
                                        "JCF-1,2021-03-04,JCF-1,,b,\nJCF-2,2021-03-04,JCF-2,x,b,\n")
    assert refused(empty_db, "cases", path) == [
        "cases.csv row 1, column case_id: the column 'case_id' appears twice in the first row (A and C); keep one.",
        "cases.csv row 1, column import_batch: 'import_batch' is filled in by the import; remove this column.",
        "cases.csv row 1: column D has no name in the first row but holds values (the first in row 3); name it "
        "or delete the column."]


def test_unnamed_empty_columns_are_ignored(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", "case_id,opened_date,,\nJCF-1,2021-03-04,,\n")
    assert importer.import_files(empty_db, "cases", [path]).written


def test_semicolon_separated_file(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", "case_id;opened_date\nJCF-1;2021-03-04\n")
    assert refused(empty_db, "cases", path) == [
        f"cases.csv row 1: the first row is separated by ';', not commas; {SAVE_AS}."]


def test_rows_with_too_many_or_too_few_values(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", CASES + CASE + "JCF-2,2021-03-04,Kingston,police,sexual,closed,,extra\n"
                 + "JCF-3,2021-03-04\n")
    assert refused(empty_db, "cases", path) == [
        "cases.csv row 3: the row has more values than the 7 columns of the first row; remove the extra values "
        "(a value containing a comma must be in \"double quotes\").",
        "cases.csv row 4: the row has fewer values than the 7 columns of the first row; add the missing commas "
        "(an empty value still needs its comma)."]


# --------------------------------------------------------------------------- values


def test_unknown_codes_list_allowed_values_and_a_guess(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", CASES + "JCF-1,2021-03-04,Kingstn,Police,sex,closed,\n")
    assert refused(empty_db, "cases", path) == [
        f"cases.csv row 2, column parish: 'Kingstn' is not a parish. Did you mean 'Kingston'? Parishes: {PARISHES}.",
        "cases.csv row 2, column referral_source: 'Police' is not an allowed referral_source. Did you mean "
        "'police'? Allowed: police, hotline, cpfsa, ngo, labour_inspector, immigration, other.",
        "cases.csv row 2, column exploitation_type: 'sex' is not an allowed exploitation_type. Did you mean "
        "'sexual'? Allowed: sexual, labour, domestic_servitude, forced_criminality, mixed, other, unknown."]


def test_bad_and_future_dates(empty_db, tmp_path):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    path = write(tmp_path, "cases.csv", CASES + "JCF-1,04/03/2021,,,,,\nJCF-2,2021-02-30,,,,,\n"
                 f"JCF-3,{tomorrow},,,,,\nJCF-4,,,,,,\n")
    assert refused(empty_db, "cases", path) == [
        "cases.csv row 2, column opened_date: '04/03/2021' is not a date in the form YYYY-MM-DD (for example "
        "2021-03-04).",
        "cases.csv row 3, column opened_date: '2021-02-30' is not a real date; check the day and the month.",
        f"cases.csv row 4, column opened_date: '{tomorrow}' is in the future; dates must be on or before today "
        f"({date.today().isoformat()}).",
        "cases.csv row 5, column opened_date: opened_date is empty; every row needs one."]


def test_dates_out_of_order(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", CASES + "JCF-1,2021-03-04,,,,closed,2021-01-01\n")
    assert refused(empty_db, "cases", path) == [
        "cases.csv row 2, column closed_date: closed_date '2021-01-01' is before opened_date '2021-03-04'; it "
        "cannot be earlier. Correct whichever date is wrong."]


def test_negative_amount_and_text_in_number_columns(empty_db, tmp_path):
    path = write(tmp_path, "funding.csv", "entry_id,entry_date,amount_usd\nF-1,2022-01-05,-20\n"
                 "F-2,2022-01-05,\"1,500.00\"\nF-3,2022-01-05,12.345\n")
    assert refused(empty_db, "funding", path)[-3:] == [
        "funding.csv row 2, column amount_usd: '-20' is negative; amount_usd cannot be below 0.",
        "funding.csv row 3, column amount_usd: '1,500.00' is not an amount; write digits with at most two "
        "decimals and no currency sign or thousands separator, such as 1500.50.",
        "funding.csv row 4, column amount_usd: '12.345' is not an amount; write digits with at most two "
        "decimals and no currency sign or thousands separator, such as 1500.50."]


def test_age_range_text_age_and_nationality(empty_db, tmp_path):
    path = write(tmp_path, "victims.csv", VICTIMS + "V-1,,2022-01-05,police,confirmed,,female,twelve,JAM,,,\n"
                 "V-2,,2022-01-05,police,confirmed,,female,121,jam,,,\n")
    assert refused(empty_db, "victims", path) == [
        "victims.csv row 2, column age: 'twelve' is not a whole number; write digits only, such as 12.",
        "victims.csv row 3, column age: '121' is outside 0 to 120; age must be between 0 and 120.",
        "victims.csv row 3, column nationality: 'jam' is not a three-letter ISO 3166-1 alpha-3 code in capitals, "
        "such as JAM."]


def test_female_participants_above_participants_and_booleans(empty_db, tmp_path):
    trainings = write(tmp_path, "trainings.csv", "training_id,start_date,participants,female_participants\n"
                      "T-1,2022-01-05,10,12\nT-2,2022-01-05,-1,\n")
    assert refused(empty_db, "trainings", trainings)[-2:] == [
        "trainings.csv row 2, column female_participants: female_participants '12' is more than participants "
        "'10'; it counts the women among the participants, so it cannot be larger.",
        "trainings.csv row 3, column participants: '-1' is negative; participants cannot be below 0."]
    prosecutions = write(tmp_path, "prosecutions.csv", "prosecution_id,charged_date,child_victim\nP-1,2022-01-05,yes\n")
    assert refused(empty_db, "prosecutions", prosecutions)[-1] == (
        "prosecutions.csv row 2, column child_victim: 'yes' is not true or false; write true or false.")


# --------------------------------------------------------------------------- keys and parents


def test_duplicate_key_in_file_and_across_files(empty_db, tmp_path):
    a = write(tmp_path, "a.csv", CASES + CASE + CASE)
    b = write(tmp_path, "b.csv", CASES + CASE)
    assert refused(empty_db, "cases", a, b) == [
        "a.csv row 3, column case_id: case_id 'JCF-1' appears more than once (first at row 2); each record must "
        "appear once: remove the repeat, or give it its own id.",
        "b.csv row 2, column case_id: case_id 'JCF-1' appears more than once (first at row 2 of a.csv); each "
        "record must appear once: remove the repeat, or give it its own id."]


def test_duplicate_key_against_the_table(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", CASES + CASE)
    importer.import_files(empty_db, "cases", [path])
    assert refused(empty_db, "cases", path) == [
        "cases.csv row 2, column case_id: case_id 'JCF-1' is already in cases; remove this row, or import the "
        "whole table again in replace mode to correct records already loaded."]


def test_child_rows_pointing_to_missing_parents(empty_db, tmp_path):
    victims = write(tmp_path, "victims.csv", VICTIMS + "V-1,JCF-404,2022-01-05,police,confirmed,,,,,,,\n")
    assert refused(empty_db, "victims", victims) == [
        "victims.csv row 2, column case_id: 'JCF-404' is not in cases: there is no case_id 'JCF-404'. Import "
        "that record into cases first, or correct the case_id, or leave case_id empty."]
    sessions = write(tmp_path, "cfs_sessions.csv", "session_id,space_id,session_date\nS-1,CFS-99,2023-05-01\n")
    assert refused(empty_db, "cfs_sessions", sessions) == [
        "cfs_sessions.csv row 2, column space_id: 'CFS-99' is not in child_friendly_spaces: there is no "
        "space_id 'CFS-99'. Import that record into child_friendly_spaces first, or correct the space_id."]


def test_parent_in_the_database_is_accepted(empty_db, tmp_path):
    importer.import_files(empty_db, "cases", [write(tmp_path, "cases.csv", CASES + CASE)])
    importer.import_files(empty_db, "victims", [write(tmp_path, "victims.csv",
                                                    VICTIMS + "V-1,JCF-1,2022-01-05,police,confirmed,,,,,,,\n")])
    importer.import_files(empty_db, "cfs_sessions", [write(tmp_path, "s.csv", "session_id,space_id,session_date,"
                                                         "victim_id\nS-1,CFS-01,2023-05-01,V-1\n")])
    assert rows(empty_db, "SELECT count(*) FROM cfs_sessions") == [(1,)]


# --------------------------------------------------------------------------- replace mode


def test_replace_refused_when_it_would_orphan_rows(empty_db, tmp_path):
    two = CASES + CASE + CASE.replace("JCF-1", "JCF-2")
    importer.import_files(empty_db, "cases", [write(tmp_path, "cases.csv", two)])
    importer.import_files(empty_db, "victims", [write(tmp_path, "victims.csv",
                                                    VICTIMS + "V-1,JCF-2,2022-01-05,police,confirmed,,,,,,,\n")])
    only_first = write(tmp_path, "new.csv", CASES + CASE)
    assert refused(empty_db, "cases", only_first, mode="replace") == [
        "victims, column case_id: replacing cases would leave victims victim_id 'V-1' pointing at case_id "
        "'JCF-2', which is not in the new file; add that cases row to the file, or correct victims first."]


def test_replace_swaps_the_whole_table(empty_db, tmp_path):
    importer.import_files(empty_db, "cases", [write(tmp_path, "old.csv", CASES + CASE + CASE.replace("JCF-1", "JCF-2"))])
    new = write(tmp_path, "new.csv", CASES + CASE.replace("Kingston", "St Ann"))
    report = importer.import_files(empty_db, "cases", [new], mode="replace", labels=["new.csv"])
    assert (report.rows_added, report.rows_replaced) == (1, 2)
    assert report.summary().startswith("imported 1 row into cases, replacing its 2 rows from new.csv")
    assert rows(empty_db, "SELECT case_id, parish FROM cases") == [("JCF-1", "St Ann")]


# --------------------------------------------------------------------------- dry run


def test_dry_run_reports_counts_and_writes_nothing(empty_db, tmp_path):
    before = sha256(empty_db)
    good = write(tmp_path, "cases.csv", CASES + CASE)
    report = importer.import_files(empty_db, "cases", [good], dry_run=True, labels=["cases.csv"])
    assert report.ok and not report.written and report.rows_added == 1
    assert report.summary() == ("dry run: cases.csv (1 row read) would add 1 row to cases (0 now, 1 row after); "
                                "nothing was written.")
    bad = write(tmp_path, "bad.csv", CASES + CASE.replace("Kingston", "Kingstn"))
    report = importer.import_files(empty_db, "cases", [bad], dry_run=True, labels=["bad.csv"])
    assert not report.ok and report.error_count == 1
    assert report.problems_frame().to_dict("records") == [
        {"severity": "error", "file": "bad.csv", "row": 2, "column": "parish", "value": "Kingstn",
         "problem": f"'Kingstn' is not a parish. Did you mean 'Kingston'? Parishes: {PARISHES}."}]
    assert sha256(empty_db) == before
    assert audit.entries(empty_db).empty, "a dry run is not an import and is not logged"


# --------------------------------------------------------------------------- files that are not data


def test_empty_file_and_header_only(empty_db, tmp_path):
    assert refused(empty_db, "cases", write(tmp_path, "empty.csv", "")) == [
        "empty.csv: the file is empty; it needs a first row naming the columns and one row per record."]
    assert refused(empty_db, "cases", write(tmp_path, "header.csv", CASES)) == [
        "header.csv: the file has a header but no data rows; add the records below the first row."]


def test_binary_file_named_csv(empty_db, tmp_path):
    assert refused(empty_db, "cases", write(tmp_path, "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")) == [
        f"photo.csv: this is not a CSV text file (it holds binary data); {SAVE_AS}, or import the workbook as .xlsx."]
    book = openpyxl.Workbook()
    book.save(tmp_path / "book.xlsx")
    renamed = write(tmp_path, "book.csv", (tmp_path / "book.xlsx").read_bytes())
    assert refused(empty_db, "cases", renamed) == [
        f"book.csv: this is an Excel workbook or another zip file, not CSV text; name it .xlsx, or {SAVE_AS}."]
    utf16 = write(tmp_path, "utf16.csv", (CASES + CASE).encode("utf-16"))
    assert refused(empty_db, "cases", utf16) == [f"utf16.csv: the file is saved as UTF-16 text; {SAVE_AS}."]


def test_non_utf8_file(empty_db, tmp_path):
    path = write(tmp_path, "latin1.csv", (CASES + CASE + "JCF-2,2021-03-04,Kingston,police,sexual,closed,\n"
                                          "JCF-3,2021-03-04,Kingston,other,sexual,closed,\n").encode("utf-8")
                 + "JCF-é,2021-03-04,,,,,\n".encode("latin-1"))
    assert refused(empty_db, "cases", path) == [
        f"latin1.csv row 5: the file is not UTF-8 text (byte 0xE9 on line 5); {SAVE_AS}."]


def test_other_kinds_of_file_and_missing_file(empty_db, tmp_path):
    assert refused(empty_db, "cases", write(tmp_path, "cases.xls", b"\xd0\xcf\x11\xe0")) == [
        "cases.xls: only .csv and .xlsx files can be imported; save the sheet as CSV UTF-8 or as an Excel "
        "workbook (.xlsx)."]
    assert refused(empty_db, "cases", tmp_path / "nowhere.csv") == [
        "nowhere.csv: the file does not exist; check its name and folder."]
    assert refused(empty_db, "cases", write(tmp_path, "fake.xlsx", "not a zip"))[0].startswith(
        "fake.xlsx: the file cannot be opened as an Excel workbook (.xlsx): ")


def test_all_problems_of_all_files_are_collected(empty_db, tmp_path):
    problems = refused(empty_db, "cases", write(tmp_path, "empty.csv", ""),
                       write(tmp_path, "bad.csv", CASES + CASE.replace("police", "polce")))
    assert [p.split(":")[0] for p in problems] == ["empty.csv", "bad.csv row 2, column referral_source"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_blank_lines_keep_spreadsheet_row_numbers(empty_db, tmp_path, newline):
    text = (CASES + CASE + "\n\n" + "JCF-2,2021-03-04,Kingstn,,,,\n" + "\n").replace("\n", newline)
    path = write(tmp_path, "cases.csv", text)
    assert refused(empty_db, "cases", path) == [
        f"cases.csv row 5, column parish: 'Kingstn' is not a parish. Did you mean 'Kingston'? Parishes: {PARISHES}."]


@given(st.lists(st.booleans(), max_size=60))
def test_row_numbers_skip_exactly_the_skipped_rows(read):
    """Row 2 onwards, each either read or skipped (blank or unreadable): the n-th row read maps back."""
    rows = list(range(2, 2 + len(read)))
    src = readers.SourceFile(Path("x.csv"), "x.csv", skipped_rows=[r for r, ok in zip(rows, read) if not ok])
    kept = [r for r, ok in zip(rows, read) if ok]
    assert [src.row_of(k) for k in range(len(kept))] == kept


def test_problems_are_capped_per_rule_but_counted(empty_db, tmp_path):
    body = "".join(f"JCF-{i},2021-03-04,Kingstn,,,,\n" for i in range(rules.PROBLEMS_PER_CHECK + 50))
    with pytest.raises(errors.ImportRefused) as caught:
        importer.import_files(empty_db, "cases", [write(tmp_path, "many.csv", CASES + body)], labels=["many.csv"])
    report = caught.value.report
    assert report.error_count == rules.PROBLEMS_PER_CHECK + 50
    assert str(report.problems[-1]) == ("many.csv, column parish: ... and 50 more rows breaking the same rule "
                                        f"(parish is a parish); only the first {rules.PROBLEMS_PER_CHECK} are listed.")


# --------------------------------------------------------------------------- XLSX


def _workbook(path: Path, rows_: list[list], merge: str | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows_:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    book.create_sheet("ignored").append(["only the first sheet is read"])
    book.save(path)
    return path


def _save_formula_value(path: Path, cell: str, value: str) -> None:
    """Give a formula cell a saved value, as Excel does when it saves (openpyxl never does)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    # An empty value is <v/> or <v></v>, as openpyxl writes it with or without lxml installed.
    xml, n = re.subn(rf'(<c r="{cell}"[^>]*>(<f>[^<]*</f>))(<v\s*/>|<v>\s*</v>)', rf"\1<v>{value}</v>", xml)
    assert n == 1
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_xlsx_first_sheet_with_dates_and_numbers(empty_db, tmp_path):
    path = _workbook(tmp_path / "t.xlsx", [
        ["training_id", "start_date", "participants", "female_participants", "parish"],
        ["T-1", date(2023, 5, 2), 20, 11.0, "Kingston"],
        [None, None, None, None, None],
        ["T-2", "2023-06-01", 8, None, None]])
    report = importer.import_files(empty_db, "trainings", [path])
    assert report.rows_added == 2
    assert rows(empty_db, "SELECT training_id, start_date, participants, female_participants FROM trainings "
                          "ORDER BY 1") == [("T-1", date(2023, 5, 2), 20, 11), ("T-2", date(2023, 6, 1), 8, None)]


def test_xlsx_row_numbers_skip_nothing(empty_db, tmp_path):
    path = _workbook(tmp_path / "t.xlsx", [
        ["training_id", "start_date", "participants"], ["T-1", "2023-05-02", 20], [], ["T-2", "2023-05-02", -3]])
    assert refused(empty_db, "trainings", path)[-1] == (
        "t.xlsx row 4, column participants: '-3' is negative; participants cannot be below 0.")


def test_xlsx_merged_cells(empty_db, tmp_path):
    path = _workbook(tmp_path / "v.xlsx", [
        ["training_id", "start_date", "participants", "parish"],
        ["T-1", "2023-05-02", 20, "St Ann"], ["T-2", "2023-05-03", 5, None], ["T-3", "2023-05-04", 7, None]],
        merge="D2:D4")
    report = importer.import_files(empty_db, "trainings", [path], labels=["v.xlsx"])
    assert "v.xlsx row 2: warning: cells D2:D4 are merged; every cell of the range takes the value 'St Ann'." \
        in [str(p) for p in report.warnings]
    assert rows(empty_db, "SELECT DISTINCT parish FROM trainings") == [("St Ann",)]
    header = _workbook(tmp_path / "h.xlsx", [["training_id", "start_date", None], ["T-9", "2023-05-02", 20]],
                       merge="B1:C1")
    assert refused(empty_db, "trainings", header)[0] == (
        "h.xlsx row 1: cells B1:C1 of the first row are merged; the first row needs one column name per cell: "
        "unmerge them.")


def test_xlsx_formulas_read_as_saved_values(empty_db, tmp_path):
    path = _workbook(tmp_path / "f.xlsx", [["training_id", "start_date", "participants", "female_participants"],
                                           ["T-1", "2023-05-02", 20, "=C2/2"]])
    _save_formula_value(path, "D2", "10")
    importer.import_files(empty_db, "trainings", [path])
    assert rows(empty_db, "SELECT female_participants FROM trainings") == [(10,)]


def test_xlsx_formula_without_saved_value_names_the_cell(empty_db, tmp_path):
    path = _workbook(tmp_path / "f.xlsx", [["training_id", "start_date", "participants", "female_participants"],
                                           ["T-1", "2023-05-02", 20, "=C2/2"]])
    assert refused(empty_db, "trainings", path)[0] == (
        "f.xlsx row 2: cell D2 holds the formula =C2/2 but no saved value; open the workbook in Excel, let it "
        "calculate, save it, then import again.")


# --------------------------------------------------------------------------- uploads


def test_upload_name_is_only_a_label(empty_db, tmp_path, monkeypatch):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    data = (CASES + CASE).encode()
    report = importer.import_upload(empty_db, "cases", "../../x.csv", data, dry_run=True)
    assert report.ok and report.files[0].label == "x.csv"
    assert not (tmp_path / "x.csv").exists()
    report = importer.import_upload(empty_db, "cases", "../../x.csv", data)
    assert report.written and not (tmp_path / "x.csv").exists()
    assert not report.files[0].path.exists(), "the upload's temporary copy is removed"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and "data" not in p.parts) == []
    entry = audit.entries(empty_db).iloc[-1]
    assert (entry["who"], entry["file"], entry["sha256"]) == ("local", "x.csv", hashlib.sha256(data).hexdigest())
    assert importer.upload_label("..\\..\\evil\nname.csv") == "evil?name.csv"


def test_upload_with_unknown_suffix(empty_db):
    report = importer.import_upload(empty_db, "cases", "notes.txt", b"hello", dry_run=True)
    assert [str(p) for p in report.problems] == [
        "notes.txt: only .csv and .xlsx files can be imported; save the sheet as CSV UTF-8 or as an Excel "
        "workbook (.xlsx)."]


# --------------------------------------------------------------------------- request errors


def test_unknown_table_mode_and_database(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", CASES + CASE)
    with pytest.raises(errors.UnknownTable, match=r"^'case' is not a table an import can fill\. Did you mean "
                                                   r"'cases'\? Tables: child_friendly_spaces, cases, "):
        importer.import_files(empty_db, "case", [path])
    with pytest.raises(errors.UnknownTable, match="It is a reference table, written by `init`."):
        importer.import_files(empty_db, "parishes", [path])
    with pytest.raises(errors.UnknownImportMode, match="'merge' is not an import mode"):
        importer.import_files(empty_db, "cases", [path], mode="merge")
    with pytest.raises(errors.DatabaseMissing, match="does not exist"):
        importer.import_files(tmp_path / "none.duckdb", "cases", [path])


def test_a_second_writer_is_refused_while_one_holds_the_lock(empty_db, tmp_path):
    path = write(tmp_path, "cases.csv", CASES + CASE)
    before = sha256(empty_db)
    with db.writer_lock(empty_db):
        with pytest.raises(DatabaseBusy, match="Another import or decision is writing"):
            importer.import_files(empty_db, "cases", [path])
        assert importer.import_files(empty_db, "cases", [path], dry_run=True).ok, "a dry run needs no lock"
    assert sha256(empty_db) == before
    assert audit.entries(empty_db)[["action", "outcome"]].values.tolist() == [["import_refused", "refused"]]


# --------------------------------------------------------------------------- command line


def test_cli_import_exit_codes_and_messages(empty_db, tmp_path, capsys):
    path = write(tmp_path, "cases.csv", CASES + CASE)
    assert main(["import", "--db", str(empty_db), "cases", str(path), "--dry-run"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"dry run: {path} (1 row read) would add 1 row to cases")
    assert main(["import", "--db", str(empty_db), "cases", str(path)]) == 0
    assert capsys.readouterr().out.startswith("imported 1 row into cases from")
    before = sha256(empty_db)
    assert main(["import", "--db", str(empty_db), "cases", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{path} row 2, column case_id: case_id 'JCF-1' is already in cases; remove this row, or import "
                   "the whole table again in replace mode to correct records already loaded.",
                   f"cases: 1 problem in {path} (1 row read); nothing was written to {empty_db}. Fix them and "
                   "import again."]
    assert sha256(empty_db) == before
    assert main(["import", "--db", str(empty_db), "victim", str(path)]) == 1
    assert capsys.readouterr().err.startswith("error: 'victim' is not a table an import can fill. Did you mean "
                                              "'victims'?")
    log = audit.entries(empty_db)
    assert log["action"].tolist() == ["import", "import_refused", "import_refused"]
    assert set(log["who"]) == {audit.current_user()}


# --------------------------------------------------------------------------- backups and restore


def test_restore_brings_back_a_backup(empty_db, tmp_path, capsys):
    importer.import_files(empty_db, "cases", [write(tmp_path, "a.csv", CASES + CASE)])
    importer.import_files(empty_db, "cases", [write(tmp_path, "b.csv", CASES + CASE.replace("JCF-1", "JCF-2"))])
    kept = backups.backups(empty_db)
    assert len(kept) == 2  # the empty database, then the one with JCF-1
    assert main(["restore", "--db", str(empty_db)]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith(f"backups of {empty_db}, newest first") and kept["name"][0] in listing
    assert main(["restore", "--db", str(empty_db), kept["name"][0]]) == 0
    assert rows(empty_db, "SELECT case_id FROM cases") == [("JCF-1",)]
    with db.reading(empty_db) as con:  # the restored file is whole: view, constraints, support tables
        assert con.execute("SELECT count(*) FROM cfs_capacity").fetchone()[0] >= 0
        assert con.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 1
    assert len(backups.backups(empty_db)) == 3, "the replaced version is kept, so a restore can be undone"
    with pytest.raises(errors.BackupNotFound, match=r"^'nope.duckdb' is not a backup of "):
        backups.restore(empty_db, "nope.duckdb")
    assert audit.entries(empty_db)["action"].tolist()[-1] == "restore"
    # the restored database still refuses bad rows through its constraints and checks
    assert refused(empty_db, "cases", write(tmp_path, "c.csv", CASES + CASE))[0].endswith(
        "correct records already loaded.")
    elsewhere = tmp_path / kept["name"][1]
    shutil.copyfile(kept["path"][1], elsewhere)
    with pytest.raises(errors.BackupNotFound):  # a path must be one of the kept backups, not any file
        backups.restore(empty_db, elsewhere)
    backups.restore(empty_db, kept["path"][1])  # the empty database, named by its path
    assert rows(empty_db, "SELECT count(*) FROM cases") == [(0,)]


# --------------------------------------------------------------------------- kill -9 and readers


def _big_cases(path: Path, n: int) -> Path:
    with open(path, "w") as handle:
        handle.write(CASES)
        handle.writelines(f"BIG-{i},2021-03-04,Kingston,police,sexual,closed,2021-09-01\n" for i in range(n))
    return path


def _start_import(db_path: Path, csv_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "cpc_monitor", "import", "--db", str(db_path), "cases",
                             str(csv_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


# Phases of an import a test can see from outside: the writer's copy appears (copy, load,
# checks), then its write-ahead log (the insert), then the swap.
KILL_MOMENTS = {"while checking": "*.new-*", "while inserting": "*.new-*.wal"}


@pytest.mark.parametrize("moment", sorted(KILL_MOMENTS))
def test_import_killed_with_sigkill_leaves_the_database_whole(empty_db, tmp_path, moment):
    importer.import_files(empty_db, "cases", [write(tmp_path, "first.csv", CASES + CASE)])
    before = sha256(empty_db)
    proc = _start_import(empty_db, _big_cases(tmp_path / "big.csv", 400_000))
    deadline = time.monotonic() + 60
    while not list(empty_db.parent.glob(KILL_MOMENTS[moment])) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    assert sha256(empty_db) == before
    assert rows(empty_db, "SELECT case_id FROM cases") == [("JCF-1",)]
    # The lock died with the process: the next import goes through.
    importer.import_files(empty_db, "cases", [write(tmp_path, "next.csv", CASES + CASE.replace("JCF-1", "JCF-2"))])
    assert rows(empty_db, "SELECT count(*) FROM cases") == [(2,)]


def test_readers_keep_working_while_an_import_runs(empty_db, tmp_path):
    proc = _start_import(empty_db, _big_cases(tmp_path / "big.csv", 200_000))
    seen = set()
    reads = 0
    while proc.poll() is None:
        with db.reading(empty_db) as con:
            seen.add(con.execute("SELECT count(*) FROM cases").fetchone()[0])
        reads += 1
    assert proc.returncode == 0, proc.stderr.read().decode()
    assert reads > 3 and seen <= {0, 200_000}
    assert rows(empty_db, "SELECT count(*) FROM cases") == [(200_000,)]


def test_the_example_files_import_into_an_empty_database(empty_db):
    """data/examples/ holds one template per table; each imports cleanly, parents first."""
    from helpers import ROOT

    order = ["cases", "victims", "prosecutions", "child_friendly_spaces", "cfs_sessions", "funding", "trainings"]
    assert sorted(order) == sorted(rules.IMPORTABLE)
    for table in order:
        report = importer.import_files(empty_db, table, [ROOT / "data" / "examples" / f"{table}.csv"])
        assert report.ok and report.rows_added >= 1, report.summary()
