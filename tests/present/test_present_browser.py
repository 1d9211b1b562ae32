"""The Present page and the HTML pack in Debian's chromium at 1280x720 with the network
blocked: every request that is not for 127.0.0.1 (or the file itself) is refused and
logged, and there must be none. Every slide draws, whole, on the first screen, with the
sidebar closed. Screenshots go to test-artifacts/present-*.png."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from browser_support import ARTIFACTS, ERROR, PROJECTOR, WAIT_MS, chromium, skip_without_chromium
from helpers import run_cli
from cpc_monitor.serving import streamlit_server

pytestmark = [pytest.mark.timeout(900), pytest.mark.browser]
skip_without_chromium()

PORT = 8781  # this work's own port range (8780-8789)
ORDER = ["title", "messages", "scorecard", "pillar-prosecution", "pillar-protection", "pillar-prevention",
         "pillar-partnership", "dialogue", "funding", "map", "acceleration", "method"]
SLIDES = len(ORDER)
LOCAL = ("127.0.0.1", "localhost", "")
# Opened by its address, a page's frontend first looks for the server under the page's own
# path (/present/_stcore/health), gets 404, then finds it at the root: Streamlit's own probe.
STREAMLIT_PROBE = re.compile(r"/present/_stcore/(health|host-config)$")


@pytest.fixture(scope="module")
def server(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("present-server") / "streamlit.log"
    with streamlit_server(sample_db, log, port=PORT) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


def _offline_page(browser, left: list[str]):
    """A page whose requests off this machine are refused and written to `left`."""
    page = browser.new_page(viewport=PROJECTOR)
    page.set_default_timeout(WAIT_MS)

    def only_local(route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "file:")) or urlparse(url).hostname in LOCAL:
            route.continue_()
        else:
            left.append(url)
            route.abort()

    page.route("**/*", only_local)
    return page


def _footer_bottom(page) -> float:
    return page.locator(".cpc-footer").last.bounding_box()["y"] + page.locator(".cpc-footer").last.bounding_box()["height"]


def test_the_present_page_draws_every_slide_offline_at_1280x720(server, browser):
    left: list[str] = []
    page = _offline_page(browser, left)
    errors: list[str] = []
    # Failed loads are judged by their address below; any other console error is a fault.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not STREAMLIT_PROBE.search(response.url) else None)
    page.goto(f"{server}/present")
    page.wait_for_selector(".cpc-slide h1")
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_attribute("data-collapsed") == "true", "the sidebar should start closed on this page"
    ARTIFACTS.mkdir(exist_ok=True)
    below = []
    for number, slide in enumerate(ORDER, start=1):
        page.wait_for_selector(f".cpc-slide[data-key='{slide}']")
        page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)
        if slide in ("scorecard", "funding", "map"):
            page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
        page.wait_for_timeout(400)
        page.screenshot(path=str(ARTIFACTS / f"present-{number:02d}-{slide}.png"))
        assert page.locator(ERROR).count() == 0, slide
        if _footer_bottom(page) > PROJECTOR["height"] + 1:
            below.append(f"{number} {slide}: {_footer_bottom(page):.0f} px")
        if number < SLIDES:
            page.keyboard.press("ArrowRight")  # the Next button's shortcut
    assert below == [], f"slides that run below a 1280x720 screen: {below}"
    assert left == [], f"requests left the machine: {left}"
    assert errors == [], f"the browser's console reported errors: {errors}"


def test_the_html_pack_presents_offline(sample_db, browser, tmp_path):
    out = tmp_path / "pack.html"
    done = run_cli("report", "--db", str(sample_db), "--format", "html", "--out", str(out))
    assert done.returncode == 0, done.stderr
    left: list[str] = []
    page = _offline_page(browser, left)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(out.as_uri())
    page.wait_for_selector(".cpc-slide[data-key='map'] .main-svg")
    assert page.locator("section.cpc-slide").count() == SLIDES
    assert page.locator(".main-svg").count() >= 3  # the charts drew from the inline plotly.js
    page.keyboard.press("ArrowRight")  # steps to the next slide, as a clicker does
    page.wait_for_function("document.querySelectorAll('section.cpc-slide')[1].getBoundingClientRect().top < 100")
    page.screenshot(path=str(ARTIFACTS / "present-html-pack.png"))
    assert left == [] and errors == [], (left, errors)


def test_a_presenter_downloads_the_pack_in_one_click(server, browser, tmp_path):
    from pptx import Presentation

    left: list[str] = []
    page = _offline_page(browser, left)
    page.goto(f"{server}/present")
    page.wait_for_selector(".cpc-slide h1")
    page.get_by_role("button", name="Download the pack").click()
    with page.expect_download(timeout=WAIT_MS) as info:
        page.get_by_role("button", name="PowerPoint (.pptx)").click()
    assert info.value.suggested_filename == "cpc-briefing-2025-final.pptx"
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    deck = Presentation(str(path))
    assert len(deck.slides) == SLIDES
    assert left == [], f"requests left the machine: {left}"
