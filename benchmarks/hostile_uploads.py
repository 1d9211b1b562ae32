"""Benchmark: what refusing each hostile upload of issue 11 costs, at the default limits.
Each file is imported by the real command in its own process; the script prints the wall
time and that process's peak memory, and checks the database stayed byte-identical. Last,
a dry run of the largest workbook the default limits accept.
Prints figures; it is not a test (timed tests flake on shared machines).

    python benchmarks/hostile_uploads.py
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the hostile files are built as the tests build them

import hostile_files as hostile  # noqa: E402

from cpc_monitor.intake.limits import Limits  # noqa: E402
from cpc_monitor.store.schema import init_database  # noqa: E402

FILES = {
    "one cell at XFD1048576 (range declared)": ("far.xlsx", hostile.far_cell),
    "one cell at XFD1048576 (no range declared)": ("far-undeclared.xlsx", hostile.far_cell_undeclared),
    "merged range A3:XFD1048576": ("merged.xlsx", lambda p: hostile.merged(p, "A3:XFD1048576")),
    "zip bomb: headers declare 4 GB": ("bomb.xlsx", hostile.zip_bomb),
    "zip bomb: really inflates to 1 GiB": ("real-bomb.xlsx", hostile.real_zip_bomb),
    "CSV of 1 GB (sparse file)": ("huge.csv", lambda p: hostile.oversized_csv(p, 1_000_000_000)),
}


def run_import(db: Path, path: Path, *options: str) -> tuple[int, float, float, str]:
    """Exit status, seconds, peak RSS in MB and the first line of `import trainings FILE` in a new process."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cpc_monitor", "import", "--db", str(db), "trainings", str(path),
                             *options], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak memory, not the script's
    elapsed = time.perf_counter() - started
    return os.waitstatus_to_exitcode(status), elapsed, usage.ru_maxrss / 1024, out.strip().splitlines()[0]


def largest_workbook(path: Path, rows: int) -> Path:
    """A trainings workbook of `rows` rows of 8 cells, written as Excel would (openpyxl's writer)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(hostile.TRAININGS_HEADER)
    for i in range(rows):
        sheet.append([f"TR-{i}", *hostile.TRAINING_ROW[1:]])
    book.save(path)
    return path


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cpc.duckdb"
        init_database(db)
        before = hashlib.sha256(db.read_bytes()).hexdigest()
        print(f"{'file':44} {'size':>12} {'seconds':>8} {'peak MB':>8}")
        for label, (name, build) in FILES.items():
            path = build(Path(tmp) / name)
            status, seconds, peak, line = run_import(db, path)
            assert status == 1, f"{path.name} was not refused: {line}"
            print(f"{label:44} {path.stat().st_size:>12,} {seconds:>8.2f} {peak:>8.0f}")
            print(f"    {line}")
            path.unlink()
        unchanged = hashlib.sha256(db.read_bytes()).hexdigest() == before
        print(f"database byte-identical after every refusal: {unchanged}")
        rows = Limits().xlsx_cells // len(hostile.TRAININGS_HEADER) - 1  # the header row counts too
        path = largest_workbook(Path(tmp) / "largest.xlsx", rows)
        status, seconds, peak, line = run_import(db, path, "--dry-run")
        print(f"\nthe largest workbook within the limits ({rows + 1:,} rows of 8 cells, dry run): "
              f"{seconds:.1f} s, peak {peak:.0f} MB, exit {status}\n    {line}")


if __name__ == "__main__":
    main()
