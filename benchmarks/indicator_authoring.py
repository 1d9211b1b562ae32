"""Benchmark: what the editor's steps cost on the default indicator file and the sample
database: refusing hostile text (a 1 MB paste, billion laughs, 100,000 levels of nesting),
checking the file as `validate` does, a form edit, a preview of one changed indicator and
a save. Prints the median of 5 runs of each, and the load average; it is not a test.

    python benchmarks/indicator_authoring.py
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hostile_files import BILLION_LAUGHS, DEEP_BRACKETS  # noqa: E402  the hostile texts the tests use

from cpc_monitor.definitions import authoring, versions  # noqa: E402
from cpc_monitor.definitions.indicators import parse_indicators  # noqa: E402
from cpc_monitor.errors import IndicatorFileError  # noqa: E402
from cpc_monitor.evaluation.checking import check_text  # noqa: E402
from cpc_monitor.evaluation.preview import preview  # noqa: E402
from cpc_monitor.intake.sample import build_sample  # noqa: E402

RUNS = 5
TEXT = (ROOT / "indicators.yaml").read_text(encoding="utf-8")
EDITED = authoring.set_plan(TEXT, "prosecution.convictions", authoring.Point(2018, 1, "TIP Report 2019: one conviction"),
                            [authoring.Point(2025, 4, "assumed"), authoring.Point(2030, 9, "assumed")])


def median_ms(step) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def refused(text: str):
    def step() -> None:
        try:
            parse_indicators(text)
        except IndicatorFileError:
            return
        raise AssertionError("the text was accepted")
    return step


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="cpc-authoring-"))
    try:
        db = folder / "data" / "cpc.duckdb"
        db.parent.mkdir()
        build_sample(db)
        path = folder / "indicators.yaml"
        iset = parse_indicators(EDITED)

        def save() -> None:
            path.write_text(TEXT, encoding="utf-8")
            versions.save(path, EDITED, loaded=TEXT, who="benchmark", db_path=db)

        steps = {
            "refuse a 1 MB paste": refused(TEXT + "# " + "x" * 1_000_000 + "\n"),
            "refuse billion laughs": refused(BILLION_LAUGHS),
            "refuse 100,000 levels of nesting": refused(DEEP_BRACKETS),
            "check the default file (structure and meaning)": lambda: check_text(TEXT, "indicators.yaml", db),
            "target form edit (set_plan)": lambda: authoring.set_plan(
                TEXT, "prosecution.convictions", None, [authoring.Point(2030, 9)]),
            "preview one changed indicator and its 3 figures": lambda: preview(db, iset, ["prosecution.convictions"],
                                                                              False),
            "save (check, history, swap, audit)": save,
        }
        print(f"load average {os.getloadavg()[0]:.2f}; median of {RUNS} runs")
        for name, step in steps.items():
            print(f"{name:<50} {median_ms(step):8.1f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
