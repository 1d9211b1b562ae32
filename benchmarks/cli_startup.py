"""Benchmark: how fast the command line starts. Prints the median wall time of several
runs of `python -m cpc_monitor --help` and of `python -c "import cpc_monitor.cli.main"`,
each in a new process, beside a bare `python -c pass` for the interpreter's own share.
Prints figures; it is not a test (timed tests flake on shared machines).

    python benchmarks/cli_startup.py [--runs 15]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -m cpc_monitor --help": [sys.executable, "-m", "cpc_monitor", "--help"],
    'python -c "import cpc_monitor.cli.main"': [sys.executable, "-c", "import cpc_monitor.cli.main"],
}


def median_seconds(argv: list[str], runs: int) -> float:
    """Median wall time of `runs` runs of `argv` from the project root (after one warm-up run)."""
    times = []
    for n in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        if n:  # the first run fills the file cache and writes the .pyc files
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; median of {args.runs} runs")
    for label, argv in COMMANDS.items():
        print(f"{label:42} {median_seconds(argv, args.runs) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
