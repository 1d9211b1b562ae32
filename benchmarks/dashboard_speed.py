"""Benchmark: the dashboard's speed (issue 3). Prints figures; it is not a test.

1. AppTest script runs of every page, cold (Streamlit caches cleared) and warm, on the
   sample database and on a --scale 1000 one (built in a temporary folder).
2. Changing a filter: a new filter combination (not cached yet) and back to one that is.
3. Headless Chromium: a cold `streamlit run dashboard.py` to a fully drawn overview, against
   a bare one-chart Streamlit page started and loaded the same way in the same run.

    python benchmarks/dashboard_speed.py [--scale 1000] [--big-db PATH] [--rounds 3] [--no-browser]

Goals (issue 3): every page's script under 300 ms warm and 1.5 s cold on the sample
(3 s cold at scale 1000); a filter change under 300 ms; the overview in the browser
within 1.5x of the bare page.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from cpc_monitor.intake.sample import build_sample  # noqa: E402

PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
WARM_RUNS = 5  # warm runs per page; the median is reported
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-default-apps", "--disable-sync", "--no-first-run"]
# The bare page the browser figure is compared with: one plotly chart, nothing else.
BARE_APP = """import plotly.graph_objects as go
import streamlit as st
st.plotly_chart(go.Figure(go.Scatter(x=[2018, 2019, 2020], y=[1, 3, 2])))
"""


def _timed(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"the page failed: {at.exception[0].value}")
    return elapsed


def apptest_pages(db: Path, label: str) -> None:
    """Cold and warm script runs of every page on `db`.

    AppTest starts every run after the first at the page file, which reruns through
    dashboard.py (docs/development.md): warm figures include that short false start."""
    os.environ["CPC_DB"] = str(db)
    print(f"\nAppTest script runs on {label} (cold: caches cleared; warm: median of {WARM_RUNS})")
    print(f"  {'page':36} {'cold':>8} {'warm':>8}")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
    at.run()  # imports and AppTest's own start-up are not the page's cost
    for page in PAGES:
        st.cache_data.clear()
        at.switch_page(page)
        cold = _timed(at)
        warm = statistics.median(_timed(at) for _ in range(WARM_RUNS))
        print(f"  {page:36} {cold * 1000:7.0f}ms {warm * 1000:7.0f}ms")
    st.cache_data.clear()


def filter_change(db: Path, label: str) -> None:
    """A sidebar filter changed on the warm overview: new combination, then a cached one."""
    os.environ["CPC_DB"] = str(db)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
    at.run()
    at.run()
    parish = at.multiselect(key="filter_parish")
    parish.set_value(["Kingston"])
    new = _timed(at)
    at.multiselect(key="filter_parish").set_value([])
    back = _timed(at)
    at.multiselect(key="filter_parish").set_value(["Kingston"])
    cached = _timed(at)
    at.toggle(key="filter_safe").set_value(True)
    safe = _timed(at)
    print(f"\nFilter change on the overview ({label}): parish Kingston, not cached yet {new * 1000:.0f} ms; "
          f"back to all {back * 1000:.0f} ms; Kingston again (cached) {cached * 1000:.0f} ms; "
          f"presentation-safe switch {safe * 1000:.0f} ms")
    st.cache_data.clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cold_load(script: Path, env: dict, browser, ready: tuple[str, ...]) -> float:
    """Seconds from starting a server for `script` to the page fully drawn in the browser."""
    port = _free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=script.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.set_default_timeout(120_000)
        page.goto(f"http://127.0.0.1:{port}/")
        for selector in ready:
            page.wait_for_selector(selector)
        page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')")
        elapsed = time.perf_counter() - started
        page.close()
        return elapsed
    finally:
        proc.terminate()
        proc.wait()


def browser_cold(db: Path, rounds: int) -> None:
    """Cold server to a fully drawn overview vs a bare one-chart page, alternating."""
    from playwright.sync_api import sync_playwright

    chart = '[data-testid="stPlotlyChart"] .main-svg >> nth=0'
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        env = {**os.environ, "CPC_DB": str(db)}
        times: dict[str, list[float]] = {"overview": [], "bare": []}
        for _ in range(rounds):
            times["bare"].append(_cold_load(bare, env, browser, (chart,)))
            # The overview is fully drawn when its chart and its last element are there.
            times["overview"].append(_cold_load(ROOT / "dashboard.py", env, browser,
                                                (chart, "text=Download the scorecard (CSV)")))
        browser.close()
    overview, bare_s = statistics.median(times["overview"]), statistics.median(times["bare"])
    print(f"\nHeadless Chromium, cold server to a fully drawn page (median of {rounds}):")
    print(f"  overview {overview:.2f} s  {[round(t, 2) for t in times['overview']]}")
    print(f"  bare one-chart page {bare_s:.2f} s  {[round(t, 2) for t in times['bare']]}")
    print(f"  ratio {overview / bare_s:.2f} (goal: within 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1000, help="scale of the big database (default 1000)")
    parser.add_argument("--big-db", help="reuse this big database instead of building one")
    parser.add_argument("--rounds", type=int, default=3, help="browser cold loads of each kind")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium figures")
    args = parser.parse_args()
    os.environ.setdefault("CPC_INDICATORS", str(ROOT / "indicators.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sample.duckdb"
        build_sample(sample)
        apptest_pages(sample, "the sample database")
        filter_change(sample, "sample")
        if not args.no_browser:
            browser_cold(sample, args.rounds)
        big = Path(args.big_db) if args.big_db else Path(tmp) / "big.duckdb"
        if not args.big_db:
            started = time.perf_counter()
            build_sample(big, scale=args.scale)
            print(f"\nbuilt the --scale {args.scale} database in {time.perf_counter() - started:.0f} s "
                  f"({big.stat().st_size / 1e6:.0f} MB)")
        apptest_pages(big, f"the --scale {args.scale} database")
        filter_change(big, f"scale {args.scale}")


if __name__ == "__main__":
    main()
