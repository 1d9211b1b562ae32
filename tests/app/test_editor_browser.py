"""The editor in a real browser (issue 9): the code editor draws with line numbers and asks
nothing of any other machine; a program manager changes one 2030 target with the form,
saves, and the overview's scorecard shows the new target. Runs on its own copies of the
indicator file and the database."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import CHROMIUM_ARGS, WAIT_MS, chromium, serving, skip_without_chromium
from conftest import INDICATORS

pytestmark = pytest.mark.timeout(900)
skip_without_chromium()

ROW = "Child-trafficking convictions"
ERROR = '[data-testid="stException"]'


@pytest.fixture(scope="module")
def editable(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A dashboard over private copies of the indicator file and the database; (URL, file)."""
    folder = tmp_path_factory.mktemp("editor")
    (folder / "data").mkdir()
    indicators, db = folder / "indicators.yaml", folder / "data" / "cpc.duckdb"
    shutil.copyfile(INDICATORS, indicators)
    shutil.copyfile(sample_db, db)
    with serving(db, folder / "streamlit.log", indicators=indicators) as url:
        yield url, indicators


def _settle(page) -> None:
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)
    page.wait_for_timeout(500)


def _nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    page.wait_for_selector(f'[data-testid="stSidebarNav"] a[aria-current="page"]:has-text("{title}")')
    _settle(page)


def _target_2030(page) -> str:
    """The 2030 target cell of the convictions row of the overview's scorecard."""
    table = page.locator("table").filter(has_text=ROW).first
    headings = [h.strip() for h in table.locator("th").all_inner_texts()]
    row = table.locator("tr").filter(has_text=ROW).first
    return row.locator("td").nth(headings.index("2030 target")).inner_text().strip()


def test_edit_a_2030_target_save_and_see_the_scorecard_change(editable):
    url, indicators = editable
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        page.set_default_timeout(WAIT_MS)
        outside = []
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith((url, "data:", "blob:", "about:")) else None)
        page.goto(url)
        page.get_by_text(ROW).first.wait_for()
        _settle(page)
        assert _target_2030(page) == "6"

        _nav(page, "Edit indicators")
        editor = page.frame_locator('iframe[title*="cpc_yaml_editor"]')
        editor.locator(".ace_gutter-cell").first.wait_for()  # the code editor, with line numbers
        assert editor.locator(".ace_gutter-cell").first.inner_text() == "1"

        page.get_by_role("tab", name="Change targets").click()
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Indicator").first.click()
        page.get_by_role("option", name=f"Prosecution · {ROW}", exact=True).click()
        _settle(page)
        value = page.get_by_label("Value", exact=True).nth(1)  # the second target row: 2030
        value.fill("9")
        page.get_by_role("button", name="Put these targets in the draft").click()
        page.get_by_text("are in the draft").wait_for()
        _settle(page)
        assert "value: 6, source: assumed}" in indicators.read_text(encoding="utf-8")  # not saved yet
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text("Saved as version 2").wait_for()
        assert "      - {year: 2030, value: 9, source: assumed}\n" in indicators.read_text(encoding="utf-8")

        _nav(page, "Overview")
        page.get_by_text(ROW).first.wait_for()
        # The overview's table from before may still stand while its new run draws: wait for it.
        for _ in range(60):
            if _target_2030(page) == "9":
                break
            page.wait_for_timeout(500)
        assert _target_2030(page) == "9"
        assert page.locator(ERROR).count() == 0
        assert outside == []
        page.close()


def test_what_is_typed_just_before_save_is_saved_and_the_next_save_works(editable):
    """Typing in the code editor and pressing Save at once saves what is on screen (the last
    keystrokes too), says so, and a second change saves without a false conflict."""
    url, indicators = editable
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.set_default_timeout(WAIT_MS)
        page.goto(url + "/editor")
        frame = page.frame_locator('iframe[title*="cpc_yaml_editor"]')
        frame.locator(".ace_content").click(position={"x": 200, "y": 40})  # line 2: a comment
        for words, wait in ((" # first change", 0), (" # second change", 3000)):
            page.keyboard.press("End")
            page.keyboard.type(words, delay=40)
            page.wait_for_timeout(wait)
            page.get_by_role("button", name="Save", exact=True).click()
            page.get_by_text("Saved as version").first.wait_for(timeout=WAIT_MS)
            _settle(page)
            assert words in indicators.read_text(encoding="utf-8").splitlines()[1]
            assert page.locator(ERROR).count() == 0
            assert page.get_by_text("was changed by someone else").count() == 0
            frame.locator(".ace_content").click(position={"x": 200, "y": 40})
        assert indicators.read_text(encoding="utf-8").splitlines()[1].endswith("# first change # second change")
