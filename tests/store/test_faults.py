"""Faults (issue 11, part 7): what a killed writer leaves behind never blocks the next one,
and a disk that fills up during an import gives one clear line, an audit entry and no
partial file, with the database byte-identical. The disk is filled without root: the
import runs in a process whose file-size limit (RLIMIT_FSIZE) is set just so, which
makes every write beyond it fail as a full disk does."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cpc_monitor.intake import importer
from cpc_monitor.store import audit
from helpers import ROOT, run_cli, sha256

CASES = "case_id,opened_date,parish,referral_source,exploitation_type,status,closed_date\n"


def _cases(folder: Path, n: int) -> Path:
    path = folder / "cases.csv"
    path.write_text(CASES + "".join(f"JCF-{i},2021-03-04,Kingston,police,sexual,closed,2021-09-01\n"
                                    for i in range(n)))
    return path


def _import_on_a_full_disk(db_path: Path, rows: Path, limit: int) -> subprocess.CompletedProcess:
    """`import cases ROWS` in a process where no file may grow beyond `limit` bytes."""
    probe = ("import resource, signal, sys\n"
             "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write with EFBIG, as a full disk fails it\n"
             f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
             "from cpc_monitor.cli.main import main\n"
             f"sys.exit(main(['import', '--db', {str(db_path)!r}, 'cases', {str(rows)!r}]))")
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _disk_full(db_path: Path) -> str:
    return (f"there is not enough disk space to write the new version of {db_path} (File too large); nothing was "
            f"changed and no partial file was left. Free at least {2 * db_path.stat().st_size / 1e6:,.0f} MB on "
            "that disk (a change writes a whole new copy of the database, and keeps a backup), then try again.")


def _finished_pid() -> int:
    """The pid of a process that has run and been reaped: no process has it now."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_copies_left_by_killed_writers_are_removed_and_never_block(fresh_db, tmp_path):
    dead = _finished_pid()
    folder = fresh_db.parent
    spill = folder / f"{fresh_db.name}.new-{dead}.tmp"  # DuckDB's spill folder of the killed copy
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"\0" * 4096)
    (folder / f"{fresh_db.name}.new-{dead}").write_bytes(b"half a database")
    (folder / f"{fresh_db.name}.new-{dead}.wal").write_bytes(b"wal")
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        theirs = folder / f"{fresh_db.name}.new-{alive.pid}"
        theirs.write_bytes(b"a running writer's copy")
        report = importer.import_files(fresh_db, "cases", [_cases(tmp_path, 2)])
        assert report.written and report.rows_added == 2
        assert sorted(p.name for p in folder.glob("*.new-*")) == [theirs.name], "only the live writer's copy stays"
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.parametrize("room", [
    pytest.param(-1, id="the-copy-of-the-database-does-not-fit"),
    pytest.param(64 * 1024, id="the-new-rows-do-not-fit"),
])
def test_a_full_disk_during_import_is_one_clear_line_an_audit_entry_and_no_partial_file(fresh_db, tmp_path, room):
    rows = _cases(tmp_path, 20_000)
    size = fresh_db.stat().st_size
    limit = size + room  # bytes any one file of the import may reach
    before = sha256(fresh_db)
    done = _import_on_a_full_disk(fresh_db, rows, limit)
    message = _disk_full(fresh_db)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"error: {message}\n")
    assert sha256(fresh_db) == before
    assert not list(fresh_db.parent.glob("*.new-*")), "no partial copy is left"
    backups = fresh_db.parent / "backups"
    assert not backups.exists() or not any(backups.iterdir()), "no backup is kept of a change not made"
    last = audit.entries(fresh_db).iloc[-1]
    assert (last["action"], last["outcome"], last["message"]) == ("import_refused", "refused", message)


def test_a_disk_too_full_for_the_audit_log_too_still_gives_one_clear_line(fresh_db, tmp_path):
    """The log has reached the size limit, so its append fails as well: the user still
    reads why the import failed, told that the log is missing it, and never a traceback."""
    importer.import_files(fresh_db, "cases", [_cases(tmp_path, 1)])
    log = audit.log_path(fresh_db)
    limit = log.stat().st_size  # the next line cannot be appended; the database copy cannot be made
    rows = _cases(tmp_path, 2).rename(tmp_path / "more.csv")
    rows.write_text(rows.read_text().replace("JCF-", "JCF-B"))
    before, logged = sha256(fresh_db), log.read_bytes()
    done = _import_on_a_full_disk(fresh_db, rows, limit)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"error: {_disk_full(fresh_db)} The audit log could not record this refusal (File too "
                           "large): free disk space beside the database.\n")
    assert sha256(fresh_db) == before and log.read_bytes() == logged
    assert not list(fresh_db.parent.glob("*.new-*"))


@pytest.mark.parametrize("kept, what", [(8192, "cannot be opened"), (0.4, "cannot be read")])
def test_a_damaged_database_gives_one_line_with_the_way_back(sample_db, tmp_path, kept, what):
    damaged = tmp_path / "cpc.duckdb"
    whole = sample_db.read_bytes()
    # cut short, as by a failing disk: before its header is whole (no open) or part-way (opens, then fails)
    damaged.write_bytes(whole[:kept if isinstance(kept, int) else int(len(whole) * kept)])
    r = run_cli("evaluate", "--db", str(damaged))
    assert r.returncode != 0 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert what in r.stderr and f"python -m cpc_monitor restore --db {damaged}" in r.stderr
    assert "indicators.yaml" not in r.stderr  # never blamed on an indicator


def test_pages_with_a_damaged_database_or_a_deleted_indicator_file_say_so(open_page, sample_db, tmp_path,
                                                                         monkeypatch):
    damaged = tmp_path / "cpc.duckdb"
    whole = sample_db.read_bytes()
    damaged.write_bytes(whole[:int(len(whole) * 0.4)])  # opens, then fails part-way
    monkeypatch.setenv("CPC_DB", str(damaged))
    for page in (None, "pages/protection.py"):
        at = open_page(page)
        assert not at.exception
        assert any("cannot be read" in e.value and "restore --db" in e.value for e in at.error), page
    monkeypatch.setenv("CPC_DB", str(sample_db))
    gone = tmp_path / "indicators.yaml"  # named, then deleted while the dashboard runs
    monkeypatch.setenv("CPC_INDICATORS", str(gone))
    at = open_page("pages/prosecution.py")
    assert not at.exception
    assert any("does not exist" in e.value and "git checkout -- indicators.yaml" in e.value for e in at.error)
