"""The dashboard in a real browser: Debian's chromium driven by Playwright against a
`streamlit run` server on the sample database (recipe: design/stack.md).

Screenshots go to test-artifacts/ (git-ignored). When CI=true these tests must run: a
missing browser is then a failure, not a skip."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import ARTIFACTS, ERROR, PROJECTOR, WAIT_MS, chromium, serving, skip_without_chromium
from conftest import ROOT

LAPTOP = {"width": 1440, "height": 900}
TALL = 2600  # px: Streamlit scrolls inside the page, so full_page screenshots miss content
CHART = '[data-testid="stPlotlyChart"] .main-svg'
# Navigation titles of the pages in dashboard.py, and the file that must exist for each.
PAGES = {"Overview": "overview", "Prosecution": "prosecution", "Protection": "protection",
         "Prevention & partnership": "prevention_partnership", "Indicator explorer": "indicators", "Data": "data",
         "Edit indicators": "editor"}
WITHOUT_CHART = ("Data", "Edit indicators")  # pages whose first screen has no chart

pytestmark = pytest.mark.timeout(900)

skip_without_chromium()


@pytest.fixture(scope="module")
def server(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `streamlit run dashboard.py` on the sample database; its URL."""
    with serving(sample_db, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless."""
    with chromium() as launched:
        yield launched


def _open(browser, url: str, viewport: dict) -> object:
    page = browser.new_page(viewport=viewport, accept_downloads=True)
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.wait_for_selector(CHART)
    return page


def _settle(page) -> None:
    """Wait until Streamlit has finished the run (no 'running' status) and charts are drawn."""
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)
    page.wait_for_timeout(500)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()


def _existing_pages() -> list[str]:
    return [title for title, stem in PAGES.items() if (ROOT / "pages" / f"{stem}.py").is_file()]


def test_a_page_opened_by_its_address_on_a_fresh_server(server, browser):
    """First in this module, so the server has not yet run st.navigation: Streamlit's old
    pages/ folder mode would run the page alone, without the sidebar or its filters."""
    page = browser.new_page(viewport=PROJECTOR)
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{server}/protection")
    page.wait_for_selector('[data-testid="stSidebarNav"] a:has-text("Prevention & partnership")')
    page.wait_for_selector('[data-testid="stSidebarNav"] a[aria-current="page"]:has-text("Protection")')
    _settle(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Prevention & partnership" in nav and "dashboard" not in nav
    page.get_by_text("Presentation-safe numbers").wait_for()  # the sidebar filters are there
    assert page.locator(ERROR).count() == 0
    page.close()


def test_every_page_loads_from_the_sidebar_without_errors(server, browser):
    page = _open(browser, server, {"width": PROJECTOR["width"], "height": TALL})
    for title in _existing_pages():
        _nav(page, title)
        page.wait_for_selector(f'[data-testid="stSidebarNav"] a[aria-current="page"]:has-text("{title}")')
        _settle(page)
        assert page.locator(ERROR).count() == 0, f"{title}: {page.locator(ERROR).first.inner_text()}"
        # A run can start after _settle looked (a busy machine): wait for the notice, then count it.
        page.get_by_text("SAMPLE DATA").first.wait_for(timeout=WAIT_MS)
        assert page.get_by_text("SAMPLE DATA").count() >= 1, f"{title}: no sample-data notice"
        if title not in WITHOUT_CHART:
            page.wait_for_selector(CHART)
            assert page.locator(CHART).count() >= 1, f"{title}: no chart drawn"
        _shot(page, f"page-{PAGES[title]}-1280-tall")
    page.close()


def test_no_request_leaves_this_machine(server, browser):
    """Offline use, and nothing about who looks at the dashboard reaches a third party: every
    request a page makes goes to the dashboard itself. The favicon was once a material icon,
    which the browser fetched from fonts.gstatic.com (found by benchmarks/load.py)."""
    page = browser.new_page(viewport=PROJECTOR)
    page.set_default_timeout(WAIT_MS)
    outside = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith((server, "data:", "blob:")) else None)
    page.goto(server)
    page.wait_for_selector(CHART)
    for title in [t for t in _existing_pages() if t != "Data"]:
        _nav(page, title)
        page.wait_for_selector(f'[data-testid="stSidebarNav"] a[aria-current="page"]:has-text("{title}")')
        _settle(page)
    assert outside == []
    page.close()


@pytest.mark.parametrize("size", [PROJECTOR, LAPTOP], ids=["1280x720", "1440x900"])
def test_overview_first_screen_shows_pillars_and_headline(server, browser, size):
    page = _open(browser, server, size)
    _settle(page)
    _shot(page, f"overview-{size['width']}x{size['height']}")
    for text in ("PROSECUTION", "PROTECTION", "PREVENTION", "PARTNERSHIP", "Investigations opened"):
        box = page.get_by_text(text, exact=False).first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= size["height"], f"{text} is below the fold"
    metrics = page.locator('[data-testid="stMetric"]')
    assert metrics.count() == 4
    last = metrics.nth(3).bounding_box()
    assert last["y"] + last["height"] <= size["height"], "the headline figures need scrolling"
    page.close()


def test_explorer_first_screen(server, browser):
    page = _open(browser, server, PROJECTOR)
    _nav(page, "Indicator explorer")
    page.wait_for_selector('[data-testid="stSidebarNav"] a[aria-current="page"]:has-text("Indicator explorer")')
    _settle(page)
    _shot(page, "explorer-1280x720")
    assert page.locator(ERROR).count() == 0
    page.close()


def test_a_filter_changes_the_page(server, browser):
    page = _open(browser, server, {"width": PROJECTOR["width"], "height": TALL})
    _settle(page)
    before = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    page.locator('[data-testid="stMultiSelect"]').filter(has_text="Parish").click()
    page.get_by_role("option", name="Kingston", exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_text("Parish Kingston: applies to").wait_for()
    _settle(page)
    after = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    assert after != before, "the parish filter should change the investigations opened"
    assert page.locator(ERROR).count() == 0
    _shot(page, "overview-filtered-kingston")
    page.close()


def test_a_download_is_suppressed(server, browser, tmp_path):
    page = _open(browser, server, {"width": PROJECTOR["width"], "height": TALL})
    _nav(page, "Indicator explorer")
    page.wait_for_selector('[data-testid="stSidebarNav"] a[aria-current="page"]:has-text("Indicator explorer")')
    _settle(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Indicator").click()
    page.get_by_role("option", name="Prosecution · Child-trafficking convictions", exact=True).click()
    page.get_by_text("Defendants convicted in the year", exact=False).wait_for()  # its definition
    _settle(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV (suppressed)").click()
    path = tmp_path / "download.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("year,dim,group,value")
    assert "<5" in text
    _shot(page, "explorer-convictions")
    page.close()


def test_presentation_safe_switch(server, browser):
    page = _open(browser, server, {"width": PROJECTOR["width"], "height": TALL})
    _settle(page)
    page.get_by_text("Presentation-safe numbers").click()
    page.get_by_text("<5").first.wait_for()
    _settle(page)
    assert page.locator(ERROR).count() == 0
    _shot(page, "overview-presentation-safe")
    _nav(page, "Indicator explorer")
    page.wait_for_selector('[data-testid="stSidebarNav"] a[aria-current="page"]:has-text("Indicator explorer")')
    _settle(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Indicator").click()
    page.get_by_role("option", name="Prosecution · Child-trafficking convictions", exact=True).click()
    page.get_by_text("Defendants convicted in the year", exact=False).wait_for()
    _settle(page)
    assert page.locator(ERROR).count() == 0
    _shot(page, "explorer-convictions-presentation-safe")
    page.close()
