"""What the browser tests share: Debian's chromium driven by Playwright (recipe:
design/stack.md) against a `streamlit run dashboard.py` server on loopback.

When CI=true the browser tests must run: a missing browser is then a failure, not a skip."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT
from cpc_monitor.serving import streamlit_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"  # screenshots (git-ignored)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-default-apps", "--disable-sync", "--no-first-run"]
PROJECTOR = {"width": 1280, "height": 720}  # look.md: readable on a projector at 1280x720
WAIT_MS = 90_000  # a cold server evaluates every indicator on first load (2 cores, busy CI)
ERROR = '[data-testid="stException"]'


def skip_without_chromium() -> None:
    """Skip the calling module when chromium is missing, unless CI=true (then it must run)."""
    if os.environ.get("CI") != "true" and not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (`apt-get install chromium`); CI=true makes this a failure",
                    allow_module_level=True)


@contextlib.contextmanager
def serving(db_path: Path, log: Path, address: str = "127.0.0.1", *options: str,
            indicators: Path | None = None) -> Iterator[str]:
    """`streamlit run dashboard.py` listening on `address` over `db_path` and `indicators`
    (default: the project's file), plus any further `--name value` options; yields its URL.
    CPC_TEST_PORT chooses the port (on a shared machine); by default any free one."""
    port = int(os.environ.get("CPC_TEST_PORT") or 0) or None
    with streamlit_server(db_path, log, address, port=port, options=options, indicators=indicators) as (url, _):
        yield url


@contextlib.contextmanager
def chromium(*extra_args: str) -> Iterator[object]:
    """Debian's chromium, headless (plus any further command-line switches)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield launched
        finally:
            launched.close()
