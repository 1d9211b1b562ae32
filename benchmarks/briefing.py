"""Benchmark: the briefing pack on the sample database (default indicators), each format made
the way a presenter makes it: `python -m cpc_monitor report --format F --out FILE`, a fresh
process each time (imports, evaluation, charts as pictures with one kaleido browser,
writing). Also the parts in one process: the slides (evaluation included) and each format's
bytes from them. Prints medians of --runs runs and the machine's load; it is not a test.
Goals (issue 10): pptx under 20 s, html under 5 s.

    python benchmarks/briefing.py [--runs 3] [--scale 1] [--db PATH]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpc_monitor.intake.sample import build_sample  # noqa: E402
from cpc_monitor.present import branding, briefing, export  # noqa: E402

GOALS = {"pptx": 20.0, "html": 5.0, "pdf": None}


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--db", help="reuse this database instead of building the sample")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "sample.duckdb"
        if not args.db:
            build_sample(db, scale=args.scale)
        print(f"load average before: {_load()}  (2 cores)")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        print("\nend to end (`report`, a fresh process each run):")
        for fmt, goal in GOALS.items():
            out = Path(tmp) / f"pack.{fmt}"
            seconds = [_timed(lambda: subprocess.run(
                [sys.executable, "-m", "cpc_monitor", "report", "--db", str(db), "--format", fmt, "--out", str(out)],
                check=True, capture_output=True, cwd=ROOT, env=env)) for _ in range(args.runs)]
            verdict = "" if goal is None else f"  goal < {goal:.0f} s: {'met' if max(seconds) < goal else 'MISSED'}"
            print(f"  {fmt:5} median {statistics.median(seconds):5.2f} s  (runs {', '.join(f'{s:.2f}' for s in seconds)};"
                  f" {out.stat().st_size / 1024:,.0f} KB){verdict}")
        print("\nin one process:")
        settings = branding.load_branding(ROOT / "briefing.yaml")
        packs = []
        slides = [_timed(lambda: packs.append(briefing.load_pack(db, ROOT / "indicators.yaml", settings)))
                  for _ in range(args.runs)]
        print(f"  slides (evaluation, figures, {len(packs[0].slides)} slides) median {statistics.median(slides):.2f} s")
        for fmt in GOALS:
            seconds = [_timed(lambda: export.pack_bytes(packs[0], fmt)) for _ in range(args.runs)]
            print(f"  {fmt:5} bytes from the slides median {statistics.median(seconds):.2f} s")
        print(f"\nload average after: {_load()}")


if __name__ == "__main__":
    main()
