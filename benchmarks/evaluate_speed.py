"""Benchmark: `evaluate` of every default indicator, all years, totals plus every
disaggregation, on a --scale K sample database (default 1000), then under a parish filter
with safe mode's suppression. Prints figures; it is not a test (timed tests flake on shared
machines).

    python benchmarks/evaluate_speed.py [--scale 1000] [--db PATH]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpc_monitor.evaluation import engine, privacy
from cpc_monitor.evaluation.measures import Filters

from cpc_monitor.definitions import indicators  # noqa: E402
from cpc_monitor.intake.sample import build_sample  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1000)
    parser.add_argument("--db", help="reuse this database instead of building one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.duckdb"
        if not args.db:
            started = time.perf_counter()
            counts = build_sample(path, scale=args.scale)
            print(f"built scale {args.scale}: {sum(counts.values()):,} rows in {time.perf_counter() - started:.1f} s")
        size = os.path.getsize(path)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        iset = indicators.load_indicators(ROOT / "indicators.yaml")
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            ev = engine.evaluate(path, iset)
            runs.append(time.perf_counter() - started)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        breakdowns = sum(len(r.indicator.disaggregations) for r in ev.results if r.indicator)
        print(f"evaluate: {len(ev.results)} indicators, {breakdowns} breakdowns, "
              f"first {runs[0]:.2f} s, then {min(runs[1:]):.2f} s")
        print(f"database {size / 1e6:,.0f} MB; peak RSS {rss / 1024:,.0f} MB "
              f"(before evaluating {rss_before / 1024:,.0f} MB)")
        # Under a filter each filtered indicator also runs with that filter lifted (split by
        # the filtered column), which safe mode's suppression across filters compares it with.
        filtered = []
        for _ in range(2):
            started = time.perf_counter()
            ev = engine.evaluate(path, iset, filters=Filters(parish=("Kingston",)))
            filtered.append(time.perf_counter() - started)
        started = time.perf_counter()
        for result in ev.results:
            privacy.result_values(result, True)
        print(f"under a parish filter: evaluate {min(filtered):.2f} s, then suppress for safe mode "
              f"{time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
