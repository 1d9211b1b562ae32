"""The audit log (issue 4): one JSON line per import (refused ones too), restore and
duplicate decision, kept beside the database and only ever appended to; read back as a
table and exported as CSV. A refused import is logged and leaves the database byte-identical."""
from __future__ import annotations

import getpass
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from cpc_monitor.store import audit

from cpc_monitor.intake import importer
from cpc_monitor.store import backups
from cpc_monitor import errors
from cpc_monitor.cli.main import main
from helpers import sha256

CASES = "case_id,opened_date,parish,referral_source,exploitation_type,status,closed_date\n"
CASE = "JCF-1,2021-03-04,Kingston,police,sexual,closed,2021-09-01\n"




@pytest.fixture
def empty_db(fresh_db: Path) -> Path:
    return fresh_db


def test_log_lives_beside_the_database(tmp_path):
    assert audit.log_path(tmp_path / "data" / "cpc.duckdb") == tmp_path / "data" / "audit" / "cpc.audit.jsonl"


def test_record_appends_one_json_line(tmp_path):
    db_path = tmp_path / "cpc.duckdb"
    entry = audit.record(db_path, "restore", who="ana", file="cpc-1.duckdb", sha256="ab" * 32, message="restored")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", entry["at"])
    lines = audit.log_path(db_path).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [entry]
    assert list(entry) == list(audit.FIELDS)
    with pytest.raises(ValueError, match="unknown audit action 'delete'"):
        audit.record(db_path, "delete")


def test_who_is_the_os_user_unless_given():
    assert audit.current_user() == getpass.getuser()
    assert audit.current_user("local") == "local"


def test_the_log_is_only_appended_to(empty_db, tmp_path):
    csv = tmp_path / "cases.csv"
    csv.write_text(CASES + CASE, encoding="utf-8")
    importer.import_files(empty_db, "cases", [csv])
    first = audit.log_path(empty_db).read_bytes()
    with pytest.raises(errors.ImportRefused):
        importer.import_files(empty_db, "cases", [csv])
    assert audit.log_path(empty_db).read_bytes().startswith(first)
    assert audit.entries(empty_db)["action"].tolist() == ["import", "import_refused"]


def test_refused_import_is_logged_and_the_database_is_untouched(empty_db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CASES + CASE.replace("Kingston", "Kingstn"), encoding="utf-8")
    before = sha256(empty_db)
    assert main(["import", "--db", str(empty_db), "cases", str(bad)]) == 1
    assert sha256(empty_db) == before
    entry = audit.entries(empty_db).iloc[-1]
    assert (entry["who"], entry["action"], entry["table"], entry["file"], entry["sha256"], entry["rows_added"],
            entry["outcome"]) == (getpass.getuser(), "import_refused", "cases", str(bad), sha256(bad), 0, "refused")
    assert entry["message"].startswith(f"cases: 1 problem in {bad} (1 row read); nothing was written")
    assert f"First: {bad} row 2, column parish: 'Kingstn' is not a parish." in entry["message"]


def test_imports_restores_and_decisions_are_logged(empty_db, tmp_path):
    csv = tmp_path / "cases.csv"
    csv.write_text(CASES + CASE, encoding="utf-8")
    report = importer.import_upload(empty_db, "cases", "jcf.csv", csv.read_bytes())
    backup, backup_path = backups.backups(empty_db)[["name", "path"]].iloc[0]
    backup_sha = sha256(Path(backup_path))
    backups.restore(empty_db, backup, who="ana")
    log = audit.entries(empty_db)
    assert log[["who", "action", "file", "rows_added", "batch", "outcome"]].iloc[0].tolist() == [
        "local", "import", "jcf.csv", 1, report.batch_id, "ok"]
    assert log[["who", "action", "file", "outcome"]].iloc[1].tolist() == ["ana", "restore", backup, "ok"]
    assert log[["rows_added", "batch"]].iloc[1].isna().all()
    assert log["sha256"].tolist() == [sha256(csv), backup_sha]


def test_unreadable_lines_are_kept_not_dropped(tmp_path):
    db_path = tmp_path / "cpc.duckdb"
    audit.record(db_path, "import", who="ana", table="cases")
    with open(audit.log_path(db_path), "a", encoding="utf-8") as handle:
        handle.write('{"at": "2024-01-01T00:00:00+00:00", "who": "bo\n')  # a line cut short
    audit.record(db_path, "import", who="cy", table="cases")
    log = audit.entries(db_path)
    assert log["action"].tolist() == ["import", "unreadable", "import"]
    assert log["message"][1] == '{"at": "2024-01-01T00:00:00+00:00", "who": "bo'


def test_export_as_csv(tmp_path):
    db_path = tmp_path / "cpc.duckdb"
    assert audit.entries(db_path).columns.tolist() == list(audit.FIELDS)  # empty, but with its columns
    audit.record(db_path, "duplicate_decision", who="ana", table="duplicate_decisions", message="VA kept, VB other")
    out = tmp_path / "audit.csv"
    text = audit.to_csv(db_path, out)
    assert out.read_text(encoding="utf-8") == text
    frame = pd.read_csv(io.StringIO(text))
    assert frame.columns.tolist() == list(audit.FIELDS)
    assert frame[["who", "action", "message"]].values.tolist() == [["ana", "duplicate_decision", "VA kept, VB other"]]
