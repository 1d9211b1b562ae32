"""Benchmark: the Data page at scale (issues 7 and 11). Prints figures; it is not a test.

1. AppTest script runs of the Data page, cold (Streamlit caches cleared) and warm (median of
   5), with the presentation-safe switch off and on, on the sample database and on a
   --scale 1000 one (built in a temporary folder unless --big-db names one).
2. What a cold run spends its time on: the calls the page makes (the first page of likely
   duplicate pairs and their bounded count, the quality figures of the table shown, the
   audit log), each timed alone on a fresh connection.

    python benchmarks/data_page.py [--scale 1000] [--big-db PATH] [--rounds 3]

Goals (issue 7): the Data page under 2 s cold at scale 1000, warm runs within 300 ms on the
sample.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from benchmarks.dashboard_speed import _entry_always_runs  # noqa: E402
from cpc_monitor.definitions.indicators import load_indicators  # noqa: E402
from cpc_monitor.intake import dedupe, quality  # noqa: E402
from cpc_monitor.intake.sample import build_sample  # noqa: E402
from cpc_monitor.store import audit  # noqa: E402

PAGE = "pages/data.py"
WARM_RUNS = 5  # warm runs per round; the median is reported
SHOWN_PAIRS = 20  # as pages/data.py draws them


def _timed(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"the page failed: {at.exception[0].value}")
    return elapsed


def page_runs(db: Path, label: str, rounds: int) -> None:
    """Cold and warm script runs of the Data page on `db`, safe switch off then on."""
    os.environ["CPC_DB"] = str(db)
    print(f"\nData page on {label}: AppTest script runs, ms (cold: caches cleared; warm: median of {WARM_RUNS}), "
          f"{rounds} round(s)")
    print(f"  {'safe switch':12} {'cold':>16} {'warm':>16}")
    for safe in (False, True):
        colds, warms = [], []
        for _ in range(rounds):
            at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
            at.session_state["filter_safe"] = safe
            at.run()  # imports, AppTest's start-up and the overview are not the Data page's cost
            st.cache_data.clear()
            at.switch_page(PAGE)
            colds.append(_timed(at))
            warms.append(statistics.median(_timed(at) for _ in range(WARM_RUNS)))
        print(f"  {'on' if safe else 'off':12} {_spread(colds):>16} {_spread(warms):>16}")
    st.cache_data.clear()


def _spread(seconds: list[float]) -> str:
    """'median (min-max)' in ms."""
    ms = sorted(s * 1000 for s in seconds)
    return f"{statistics.median(ms):.0f}" + (f" ({ms[0]:.0f}-{ms[-1]:.0f})" if len(ms) > 1 else "")


def calls(db: Path, label: str) -> None:
    """Each call of a cold Data page alone, on its own connection."""
    iset = load_indicators(ROOT / "indicators.yaml")
    timings = [("first 20 pairs and their count (bounded)", lambda: dedupe.review(db, SHOWN_PAIRS)),
               ("decisions taken", lambda: dedupe.decisions(db)),
               ("quality figures of victims (the tab's first view)",
                lambda: quality.quality_report(db, iset, date.today(), only=("victims",))),
               ("quality figures of every table", lambda: quality.quality_report(db, iset, date.today())),
               ("audit log", lambda: audit.entries(db)),
               ("every pair counted (the command line's count)", lambda: dedupe.pending_review(db, SHOWN_PAIRS))]
    print(f"\nThe page's calls on {label}, one each, s:")
    for name, call in timings:
        started = time.perf_counter()
        result = call()
        elapsed = time.perf_counter() - started
        extra = f"  ({result[1]} pairs)" if name.startswith(("first", "every")) else ""
        print(f"  {name:50} {elapsed:6.3f}{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1000, help="scale of the big database (default 1000)")
    parser.add_argument("--big-db", type=Path, help="use this scaled database instead of building one")
    parser.add_argument("--rounds", type=int, default=3, help="cold runs per switch position (default 3)")
    args = parser.parse_args()
    _entry_always_runs()
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sample.duckdb"
        build_sample(sample)
        big = args.big_db
        if big is None:
            big = Path(tmp) / "big.duckdb"
            started = time.perf_counter()
            build_sample(big, scale=args.scale)
            print(f"built the scale {args.scale} database in {time.perf_counter() - started:.1f} s")
        page_runs(sample, "the sample", args.rounds)
        page_runs(big, f"scale {args.scale}", args.rounds)
        calls(big, f"scale {args.scale}")
    print(f"\nload after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
