"""Starting and stopping `streamlit run dashboard.py` processes: what deploy/serve.py (several
processes behind nginx), benchmarks/load.py and the browser tests share."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the folder of dashboard.py
START_TIMEOUT = 90  # s for a process to answer its health check (a cold start on 2 busy cores)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start_streamlit(port: int, env: dict[str, str], log: Path, address: str = "127.0.0.1",
                    options: Sequence[str] = ()) -> subprocess.Popen:
    """`python -m streamlit run dashboard.py` on address:port, its output in `log`."""
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
             "--server.address", address, "--server.port", str(port), *options],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_healthy(url: str, procs: Sequence[subprocess.Popen], logs: Sequence[Path],
                 timeout: float = START_TIMEOUT) -> None:
    """Wait until `url`/_stcore/health answers 200; fail when one of `procs` stops or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        for proc, log in zip(procs, logs):
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} stopped while starting; its log {log}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s; logs: {', '.join(map(str, logs))}")
        time.sleep(0.2)


def stop(procs: Sequence[subprocess.Popen]) -> None:
    """Terminate each process, then kill any still running after 20 s."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def streamlit_server(db: Path, log: Path, address: str = "127.0.0.1", port: int | None = None,
                     options: Sequence[str] = (), indicators: Path | None = None
                     ) -> Iterator[tuple[str, subprocess.Popen]]:
    """One dashboard on address:port over `db` and `indicators` (default: the project's
    indicator file); yields its URL and process, and stops it afterwards."""
    env = {**os.environ, "CPC_DB": str(db), "CPC_INDICATORS": str(indicators or ROOT / "indicators.yaml")}
    proc = start_streamlit(port or free_port(), env, log, address, options)
    try:
        url = f"http://{address}:{proc.args[proc.args.index('--server.port') + 1]}"
        wait_healthy(url, [proc], [log])
        yield url, proc
    finally:
        stop([proc])
