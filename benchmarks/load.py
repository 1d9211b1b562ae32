"""Load benchmark (issue 11, parts 5 and 6). Prints figures; it is not a test.

N browser sessions (Playwright's async API: one headless Debian chromium, one context per
session) change the sidebar filters and switch pages for a bounded time, while an import
swaps the database every few seconds. Each step is timed from the click to the page drawn:
the page's link is current, its caption names the filters in force, its plotly charts are
there, nothing is stale and Streamlit's running indicator is gone, for 300 ms on end (the
time recorded is when that began).

    python benchmarks/load.py [--sessions 20] [--duration 120] [--processes 1] [--port P]
    python benchmarks/load.py --processes 3          # behind nginx (deploy/serve.py)
    python benchmarks/load.py --url URL --db PATH [--pid PID]...   # a server already running

It records errors (Streamlit exception elements, browser console errors and page errors,
failed steps, failed imports; the goal is zero; failed requests are listed too), p50/p95 of
the step times and of the server's share of them (a run asked for -> the run finished, from
the WebSocket frames), every import's result, each server process's resident memory every
second (start, max, end), and the CPU the server, the browser and the machine used. Without
--url it builds the sample database in a temporary folder (`python -m cpc_monitor sample`)
and starts the server(s) itself, on loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

from cpc_monitor.present.charts import code_label  # noqa: E402
from cpc_monitor.serving import free_port, streamlit_server  # noqa: E402
from cpc_monitor.store import codes  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-default-apps", "--disable-sync", "--no-first-run"]
# The pages the sessions visit (cpc_monitor/app/navigation.py), by their navigation title.
PAGES = ("Overview", "Prosecution", "Protection", "Prevention & partnership", "Indicator explorer")
# Sidebar filters the sessions change: label -> the options as the sidebar shows them.
FILTERS = {
    "Parish": codes.PARISHES,
    "Sex": tuple(code_label(c) for c in codes.SEXES),
    "Age group": tuple(code_label(c) for c in codes.AGE_GROUPS),
    "Form of exploitation": tuple(code_label(c) for c in codes.EXPLOITATION_TYPES),
}
EXAMPLE = ROOT / "data" / "examples" / "cases.csv"  # the rows each import appends, with new ids
IMPORT_ROWS = 20
STEP_TIMEOUT_MS = 120_000
SETTLED_MS = 300  # the page must stay drawn this long to count as drawn
ERROR = '[data-testid="stException"]'

# Drawn: returns the time (Date.now(): it carries over a page load) at which the page became drawn and stayed so for
# SETTLED_MS, or {exception: text} as soon as Streamlit shows one; false while waiting.
DRAWN_JS = """([title, words, settled]) => {
  const exception = document.querySelector('[data-testid="stException"]');
  if (exception) return {exception: exception.innerText.slice(0, 300)};
  const current = document.querySelector('[data-testid="stSidebarNav"] a[aria-current="page"]');
  const captions = Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'))
    .map(e => e.innerText).join(' ');
  const ok = !!current && current.innerText.trim() === title
    && words.every(w => captions.includes(w))
    && !!document.querySelector('[data-testid="stPlotlyChart"] .main-svg')
    && !document.querySelector('[data-stale="true"]')
    && !document.querySelector('[data-testid="stStatusWidget"]');
  const now = Date.now();
  if (!ok) { window.__cpcDrawnSince = null; return false; }
  if (window.__cpcDrawnSince == null) window.__cpcDrawnSince = now;
  return now - window.__cpcDrawnSince >= settled ? window.__cpcDrawnSince : false;
}"""


@dataclass
class Results:
    steps: list[tuple[str, float]] = field(default_factory=list)  # (kind, seconds) of steps drawn
    server: list[tuple[str, float]] = field(default_factory=list)  # (kind, seconds): rerun asked -> run finished
    failed: list[str] = field(default_factory=list)  # steps not drawn in time, or that raised
    exceptions: list[str] = field(default_factory=list)  # Streamlit exception elements
    console: list[str] = field(default_factory=list)  # console errors and page errors
    imports: list[tuple[int, float, str]] = field(default_factory=list)  # (exit status, seconds, stderr)
    rss: dict[int, list[tuple[float, int]]] = field(default_factory=dict)  # pid -> (t, kB)
    load: list[float] = field(default_factory=list)  # 1-minute load average, every second
    failed_requests: list[str] = field(default_factory=list)  # requests the browser could not complete
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: "server", "browser", "wall"
    browser_cpu: dict[int, float] = field(default_factory=dict)  # chromium pid -> its CPU seconds, last seen


# ----------------------------------------------------------------------------- servers

@contextlib.contextmanager
def one_server(db: Path, port: int, folder: Path):
    """`streamlit run dashboard.py` on 127.0.0.1:port over `db`: yields (url, [pid], [log])."""
    log = folder / "streamlit.log"
    with streamlit_server(db, log, port=port) as (url, proc):
        yield url, [proc.pid], [log]


@contextlib.contextmanager
def behind_nginx(db: Path, port: int, processes: int, folder: Path):
    """deploy/serve.py's deployment: `processes` Streamlit processes behind nginx."""
    import serve  # deploy/serve.py

    os.environ["CPC_INDICATORS"] = str(ROOT / "indicators.yaml")
    with serve.serving(processes, port, "127.0.0.1", str(db), folder / "run") as deployment:
        logs = sorted(deployment.run.glob("streamlit-*.log"))
        yield deployment.url, deployment.app_pids, logs


# ----------------------------------------------------------------------------- background work

def rss_kb(pid: int) -> int | None:
    """Resident memory of `pid` in kB (psutil if installed, else /proc/PID/status)."""
    try:
        import psutil  # noqa: PLC0415

        return psutil.Process(pid).memory_info().rss // 1024
    except ImportError:
        pass
    except Exception:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of `pid` so far, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def browser_pids() -> list[int]:
    """This process's chromium descendants."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    mine, found = {os.getpid()}, True
    while found:
        found = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                found = True
    return [pid for pid in mine if "chrom" in _cmdline(pid)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def sample_memory(pids: list[int], results: Results, stop: threading.Event, started: float) -> None:
    while not stop.is_set():
        now = time.monotonic() - started
        for pid in pids:
            kb = rss_kb(pid)
            if kb is not None:
                results.rss.setdefault(pid, []).append((now, kb))
        results.load.append(os.getloadavg()[0])
        for pid in browser_pids():
            results.browser_cpu[pid] = cpu_seconds(pid)
        stop.wait(1.0)


def import_rows(path: Path, round_no: int) -> None:
    """IMPORT_ROWS cases from the example file, each with a new id."""
    with open(EXAMPLE, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        for i in range(IMPORT_ROWS):
            row = dict(rows[i % len(rows)])
            row["case_id"] = f"JCF-LOAD-{os.getpid()}-{round_no:04d}-{i:03d}"
            out.writerow(row)


def keep_importing(db: Path, folder: Path, every: float, results: Results, stop: threading.Event) -> None:
    """Append new cases every `every` seconds with the real command: each swaps the file."""
    round_no = 0
    while not stop.wait(every):
        round_no += 1
        rows = folder / f"cases-{round_no}.csv"
        import_rows(rows, round_no)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "cpc_monitor", "import", "--db", str(db), "cases", str(rows),
                               "--mode", "append"], cwd=ROOT, capture_output=True, text=True)
        results.imports.append((done.returncode, time.monotonic() - started, done.stderr.strip()[-500:]))
        rows.unlink()


# ----------------------------------------------------------------------------- sessions

def expected_words(chosen: dict[str, str | None]) -> list[str]:
    """What the page's caption says for the filters in force (header.filters_in_force)."""
    words = [f"{name} {value}:" for name, value in chosen.items() if value]
    return words or ["Filters: none"]


# Which part of "drawn" is missing, for the message of a step that timed out.
MISSING_JS = """([title, words]) => {
  const current = document.querySelector('[data-testid="stSidebarNav"] a[aria-current="page"]');
  const captions = Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'))
    .map(e => e.innerText).join(' ');
  const missing = [];
  if (!current || current.innerText.trim() !== title) missing.push('current page ' + (current && current.innerText));
  for (const w of words) if (!captions.includes(w)) missing.push('caption lacks ' + w);
  if (!document.querySelector('[data-testid="stPlotlyChart"] .main-svg')) missing.push('no chart');
  if (document.querySelector('[data-stale="true"]')) missing.push('stale elements');
  if (document.querySelector('[data-testid="stStatusWidget"]')) missing.push('still running: '
    + document.querySelector('[data-testid="stStatusWidget"]').innerText.slice(0, 80));
  return missing.join('; ') + ' | ' + document.querySelector('[data-testid="stMain"]')?.innerText.slice(0, 300);
}"""


async def drawn(page, title: str, chosen: dict[str, str | None], started: float) -> float:
    """Seconds from `started` (the browser's Date.now(), in ms) to the page drawn."""
    try:
        handle = await page.wait_for_function(DRAWN_JS, arg=[title, expected_words(chosen), SETTLED_MS],
                                              polling=100, timeout=STEP_TIMEOUT_MS)
    except Exception as exc:
        missing = "?"
        with contextlib.suppress(Exception):
            missing = await page.evaluate(MISSING_JS, [title, expected_words(chosen)])
        raise TimeoutError(f"not drawn in {STEP_TIMEOUT_MS / 1000:.0f} s: {missing}") from exc
    value = await handle.json_value()
    if isinstance(value, dict):
        raise StreamlitException(value["exception"])
    return (value - started) / 1000


def watch_frames(ws, frames: list[tuple[float, str]]) -> None:
    """Note when the page asks for a script run and when a run finishes (Streamlit's protobuf
    frames), to tell the server's time from the browser's: not counted are the drawing and
    the wait for a busy renderer."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    def sent(payload) -> None:
        with contextlib.suppress(Exception):
            if isinstance(payload, bytes) and BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
                frames.append((time.monotonic(), "rerun"))

    def received(payload) -> None:
        # A script_finished message is a few bytes; deltas (the charts) are far larger.
        with contextlib.suppress(Exception):
            if isinstance(payload, bytes) and len(payload) < 256 and \
                    ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished":
                frames.append((time.monotonic(), "finished"))

    ws.on("framesent", sent)
    ws.on("framereceived", received)


class StreamlitException(Exception):
    pass


async def now_ms(page) -> float:
    return await page.evaluate("() => { window.__cpcDrawnSince = null; return Date.now(); }")


async def session(number: int, browser, url: str, deadline: float, think: float, results: Results,
                  rng: random.Random) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.on("console", lambda msg: results.console.append(
        f"session {number}: {msg.text[:300]} ({msg.location.get('url', '')[:120]})") if msg.type == "error" else None)
    page.on("requestfailed", lambda req: results.failed_requests.append(f"{req.url[:160]} {req.failure}"))
    page.on("pageerror", lambda exc: results.console.append(f"session {number} page error: {str(exc)[:300]}"))
    frames: list[tuple[float, str]] = []  # (time.monotonic(), "rerun" asked | "finished" run)
    page.on("websocket", lambda ws: watch_frames(ws, frames))
    title = "Overview"
    chosen: dict[str, str | None] = {name: None for name in FILTERS}

    async def step(kind: str, action) -> None:
        started, since = await now_ms(page), time.monotonic()
        await action()
        results.steps.append((kind, await drawn(page, title, chosen, started)))
        asked = [t for t, what in frames if what == "rerun" and t >= since]
        finished = [t for t, what in frames if what == "finished" and t >= since]
        if asked and finished and finished[-1] > asked[0]:
            results.server.append((kind, finished[-1] - asked[0]))
        frames.clear()

    async def open_page() -> None:
        await page.goto(url)

    try:
        await step("first load", open_page)
    except Exception as exc:  # noqa: BLE001: any failure is a recorded error
        results.failed.append(f"session {number} first load: {type(exc).__name__}: {str(exc)[:200]}")
        await context.close()
        return
    while time.monotonic() < deadline:
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))
        if time.monotonic() >= deadline:
            break
        try:
            if rng.random() < 0.5:
                title = rng.choice([p for p in PAGES if p != title])
                link = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True)
                await step("page switch", link.click)
            else:
                name = rng.choice(list(FILTERS))
                # The sidebar's box whose input is labelled `name` ("Sex" is also in "Sexual").
                combo = page.get_by_role("combobox", name=name, exact=True)
                box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has=combo)
                old = chosen[name]
                if old is not None:
                    chosen[name] = None

                    async def remove(box=box, old=old) -> None:
                        await box.get_by_role("button", name=f"Remove {old}", exact=True).click()

                    await step("filter change", remove)
                else:
                    value = rng.choice(FILTERS[name])
                    chosen[name] = value

                    async def pick(combo=combo, value=value) -> None:
                        # Typed first: the list shows only its first few options until scrolled.
                        await combo.click()
                        await combo.fill(value)
                        await page.get_by_role("option", name=value, exact=True).click()
                        await page.keyboard.press("Escape")

                    await step("filter change", pick)
        except StreamlitException as exc:
            results.exceptions.append(f"session {number} on {title}: {exc}")
            broken = True
        except Exception as exc:  # noqa: BLE001: a step not drawn in time, or a click that failed
            results.failed.append(f"session {number} on {title}: {type(exc).__name__}: {str(exc)[:600]}")
            broken = True
        else:
            broken = False
        if broken:  # start afresh from a clean page, so one error is counted once
            title, chosen = "Overview", {name: None for name in FILTERS}
            with contextlib.suppress(Exception):
                await page.goto(url)
                await drawn(page, title, chosen, await now_ms(page))
    await context.close()


async def run_sessions(url: str, sessions: int, duration: float, ramp: float, think: float, results: Results,
                       seed: int) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        deadline = time.monotonic() + duration
        tasks = []
        for n in range(sessions):
            tasks.append(asyncio.create_task(
                session(n, browser, url, deadline, think, results, random.Random(seed * 1000 + n))))
            await asyncio.sleep(ramp / max(sessions, 1))
        # Bounded: a step still waiting after the deadline has STEP_TIMEOUT_MS more, then it is cut.
        done, pending = await asyncio.wait(tasks, timeout=duration + STEP_TIMEOUT_MS / 1000 + 30)
        for task in pending:
            task.cancel()
            results.failed.append("a session still running past the deadline was stopped")
        await browser.close()


# ----------------------------------------------------------------------------- report

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def report(results: Results, args, url: str, before: str, after: str, logs: list[Path]) -> dict:
    times = [t for _, t in results.steps]
    by_kind = collections.defaultdict(list)
    for kind, t in results.steps:
        by_kind[kind].append(t)
    figures: dict = {"url": url, "sessions": args.sessions, "duration_s": args.duration,
                     "processes": args.processes if not args.url else None, "uptime_before": before,
                     "uptime_after": after, "steps": len(times)}
    print(f"\nLoad: {args.sessions} sessions for {args.duration:.0f} s on {url}"
          f" ({'external server' if args.url else f'{args.processes} process(es)'}), import every {args.import_every:.0f} s")
    print(f"  before: {before}\n  after:  {after}")
    if results.load:
        print(f"  1-min load average during the run: max {max(results.load):.2f}")
        figures["load_max"] = round(max(results.load), 2)
    if results.cpu:
        wall = results.cpu["wall"]
        print(f"  CPU over the {wall:.0f} s: server(s) {results.cpu['server']:.0f} s "
              f"({results.cpu['server'] / wall:.2f} cores), browser {results.cpu.get('browser', 0):.0f} s "
              f"({results.cpu.get('browser', 0) / wall:.2f} cores); the whole machine {results.cpu['machine']:.0f} s "
              f"({results.cpu['machine'] / wall:.2f} of {os.cpu_count()} cores, other work and imports included)")
        figures["cpu_s"] = {k: round(v, 1) for k, v in results.cpu.items()}
    print(f"\nSteps drawn: {len(times)}")
    for kind, values in [("all", times), *sorted(by_kind.items())]:
        if values:
            line = (f"p50 {statistics.median(values):.2f} s, p95 {percentile(values, 95):.2f} s, "
                    f"max {max(values):.2f} s ({len(values)})")
            print(f"  {kind:14} {line}")
            figures[f"{kind}"] = {"n": len(values), "p50": round(statistics.median(values), 3),
                                  "p95": round(percentile(values, 95), 3), "max": round(max(values), 3)}
    server_kind = collections.defaultdict(list)
    for kind, t in results.server:
        server_kind[kind].append(t)
    print("Server time (a run asked for -> the run finished, as the browser's network saw it):")
    for kind, values in [("all", [t for _, t in results.server]), *sorted(server_kind.items())]:
        if values:
            print(f"  {kind:14} p50 {statistics.median(values):.2f} s, p95 {percentile(values, 95):.2f} s, "
                  f"max {max(values):.2f} s ({len(values)})")
            figures[f"server {kind}"] = {"n": len(values), "p50": round(statistics.median(values), 3),
                                         "p95": round(percentile(values, 95), 3), "max": round(max(values), 3)}
    ok_imports = [t for rc, t, _ in results.imports if rc == 0]
    bad_imports = [(rc, err) for rc, _, err in results.imports if rc != 0]
    print(f"\nImports: {len(results.imports)}, succeeded {len(ok_imports)}"
          + (f", median {statistics.median(ok_imports):.2f} s" if ok_imports else ""))
    for rc, err in bad_imports:
        print(f"  FAILED (exit {rc}): {err}")
    errors = len(results.exceptions) + len(results.console) + len(results.failed) + len(bad_imports)
    print(f"\nErrors: {errors} (exceptions {len(results.exceptions)}, console {len(results.console)}, "
          f"failed steps {len(results.failed)}, failed imports {len(bad_imports)})")
    for label, items in (("exception", results.exceptions), ("console", results.console),
                         ("failed step", results.failed)):
        for text, count in collections.Counter(items).most_common(8):
            print(f"  {label} x{count}: {text}")
    for text, count in collections.Counter(results.failed_requests).most_common(8):
        print(f"  failed request x{count}: {text}")
    figures.update(imports=len(results.imports), failed_requests=results.failed_requests, imports_ok=len(ok_imports), errors=errors,
                   exceptions=results.exceptions, console=results.console, failed=results.failed,
                   failed_imports=bad_imports)
    print("\nServer memory (RSS, MB): start / max / end")
    figures["rss_mb"] = {}
    for pid, samples in results.rss.items():
        kbs = [kb for _, kb in samples]
        start, peak, end = kbs[0] / 1024, max(kbs) / 1024, kbs[-1] / 1024
        # Flat: the last third's mean against the middle third's, after the warm-up.
        third = max(1, len(kbs) // 3)
        mid, last = statistics.mean(kbs[third:2 * third] or kbs), statistics.mean(kbs[-third:])
        print(f"  pid {pid}: {start:.0f} / {peak:.0f} / {end:.0f}  "
              f"(mean of the middle third {mid / 1024:.0f}, of the last third {last / 1024:.0f}; {len(kbs)} samples)")
        figures["rss_mb"][pid] = {"start": round(start), "max": round(peak), "end": round(end),
                                  "mid_third_mean": round(mid / 1024), "last_third_mean": round(last / 1024)}
    tracebacks = [log.name for log in logs if log.exists() and "Traceback" in log.read_text(errors="replace")]
    if tracebacks:
        print(f"\nServer logs with a traceback: {', '.join(tracebacks)}")
    figures["server_logs_with_traceback"] = tracebacks
    return figures


def upstream_spread(run: Path) -> None:
    """How the sessions' WebSockets spread over the upstreams (nginx's access log)."""
    log = run / "access.log"
    if not log.exists():
        return
    counts = collections.Counter(line.split("upstream=")[1].split()[0] for line in log.read_text().splitlines()
                                 if "/_stcore/stream" in line and "upstream=" in line)
    if counts:
        print("WebSockets per Streamlit process: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20, help="concurrent browser sessions (default 20)")
    parser.add_argument("--duration", type=float, default=120, help="seconds of load (default 120)")
    parser.add_argument("--processes", type=int, default=1,
                        help="Streamlit processes: 1 (default) serves directly; more go behind nginx (deploy/serve.py)")
    parser.add_argument("--port", type=int, help="the port browsers use (default: a free one)")
    parser.add_argument("--url", help="load a server already running instead (then --db names its database)")
    parser.add_argument("--db", type=Path, help="with --url: the database the server reads, which imports swap")
    parser.add_argument("--pid", type=int, action="append", default=[], help="with --url: a server pid to watch")
    parser.add_argument("--import-every", type=float, default=10, help="seconds between imports (default 10)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a session's steps (s)")
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which the sessions start")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.url and not args.db:
        parser.error("--url needs --db (the database the imports swap)")
    with tempfile.TemporaryDirectory(prefix="cpc-load-") as tmp:
        folder = Path(tmp)
        db = args.db or folder / "cpc.duckdb"
        if not args.url:
            subprocess.run([sys.executable, "-m", "cpc_monitor", "sample", "--db", str(db)], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
        port = args.port or free_port()
        if args.url:
            server = contextlib.nullcontext((args.url.rstrip("/"), args.pid, []))
        elif args.processes == 1:
            server = one_server(db, port, folder)
        else:
            server = behind_nginx(db, port, args.processes, folder)
        results = Results()
        with server as (url, pids, logs):
            before = uptime()
            stop = threading.Event()
            started = time.monotonic()
            workers = [threading.Thread(target=sample_memory, args=(pids, results, stop, started), daemon=True),
                       threading.Thread(target=keep_importing, args=(db, folder, args.import_every, results, stop),
                                        daemon=True)]
            for worker in workers:
                worker.start()
            server_cpu = sum(cpu_seconds(pid) for pid in pids)
            machine_cpu = machine_busy_seconds()
            try:
                asyncio.run(run_sessions(url, args.sessions, args.duration, args.ramp, args.think, results,
                                         args.seed))
            finally:
                results.cpu["server"] = sum(cpu_seconds(pid) for pid in pids) - server_cpu
                results.cpu["wall"] = time.monotonic() - started
                results.cpu["machine"] = machine_busy_seconds() - machine_cpu
                # Seen once a second: a renderer's last second before it closed is missed.
                results.cpu["browser"] = sum(results.browser_cpu.values())
                stop.set()
                for worker in workers:
                    worker.join(timeout=60)
            after = uptime()
            figures = report(results, args, url, before, after, logs)
            if args.processes > 1 and not args.url:
                upstream_spread(folder / "run")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
