"""Benchmark: importing a 1,000,000-row cases CSV (issue 4: under 15 s, memory bounded).

Builds an empty database and two files in a temporary folder: one with a bad row at the very
end (an unknown parish), which must be refused with that row named, and a good one, which
must load. Each import runs as the command a data manager would type, in its own process,
and is timed; its peak resident memory comes from the kernel (wait4). Run from the project
root:

    python benchmarks/import_million.py [--rows N]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpc_monitor.store.schema import init_database  # noqa: E402

HEADER = "case_id,opened_date,parish,referral_source,exploitation_type,status,closed_date\n"
PARISHES = ("Kingston", "St Andrew", "St Catherine", "St James", "Clarendon", "Manchester")
SOURCES = ("police", "hotline", "cpfsa", "ngo")


def write_cases(path: Path, rows: int, bad_last: bool) -> None:
    """`rows` cases; with `bad_last`, the last one has a misspelt parish."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for i in range(rows - 1):
            month = i % 12 + 1
            handle.write(f"JCF-{i:07d},2021-{month:02d}-15,{PARISHES[i % 6]},{SOURCES[i % 4]},sexual,closed,"
                         f"2022-{month:02d}-01\n")
        parish = "Kingstn" if bad_last else "Kingston"
        handle.write(f"JCF-{rows - 1:07d},2021-03-04,{parish},police,sexual,open,\n")


def run_import(db: Path, csv: Path, *extra: str) -> tuple[int, float, float, str]:
    """Run `python -m cpc_monitor import`; return exit status, seconds, peak RSS (MB), its output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as output:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "cpc_monitor", "import", "--db", str(db), "cases", str(csv),
                                 *extra], env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)  # reaps the child and gives its own peak memory
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().strip()
    return proc.returncode, seconds, usage.ru_maxrss / 1024, text  # Linux reports kilobytes


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cpc-bench-") as folder:
        folder = Path(folder)
        db = folder / "cpc.duckdb"
        init_database(db)
        bad, good = folder / "bad.csv", folder / "good.csv"
        start = time.perf_counter()
        write_cases(bad, args.rows, bad_last=True)
        write_cases(good, args.rows, bad_last=False)
        print(f"wrote 2 files of {args.rows:,} rows ({good.stat().st_size / 1e6:.0f} MB each) "
              f"in {time.perf_counter() - start:.1f} s")
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        results = []
        before = sha256(db)
        code, seconds, peak, message = run_import(db, bad)
        assert code == 1, f"the bad file must be refused: {message}"
        assert f"row {args.rows + 1}, column parish: 'Kingstn' is not a parish" in message, message
        assert sha256(db) == before, "a refused import must leave the database byte-identical"
        results.append(("refused (bad last row)", seconds, peak))
        code, seconds, peak, message = run_import(db, good, "--dry-run")
        assert code == 0, message
        results.append(("dry run (good file)", seconds, peak))
        code, seconds, peak, message = run_import(db, good)
        assert code == 0, f"the good file must load: {message}"
        results.append(("import (good file)", seconds, peak))
        print(f"{'run':<26}{'seconds':>9}{'peak RSS MB':>13}")
        for name, seconds, peak in results:
            print(f"{name:<26}{seconds:>9.2f}{peak:>13.0f}")
        worst = max(r[1] for r in results)
        print("under 15 s: " + ("yes" if worst < 15 else f"NO ({worst:.1f} s)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
