"""Text from the indicator file is shown as text, never run as markup (issue 9's bad input):
an indicator name, a figure's section, title, caption and series label, the goal statement
and a dialogue's name holding HTML, Markdown, LaTeX and a `javascript:` link, in a real
browser on every page that shows them."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from browser_support import WAIT_MS, chromium, serving, skip_without_chromium
from conftest import ROOT

pytestmark = pytest.mark.timeout(600)
skip_without_chromium()

# Each part would do something if it were read as markup: an image whose error runs script,
# bold, a link that runs script, LaTeX, an HTML tag, a Streamlit colour directive.
HOSTILE = ('Probe <img src=x onerror="window.pwned=1"> **bold** [click](javascript:window.pwned=2) '
           '$x^2$ <b>tag</b> :red[red]')
# What a reader must see, character for character.
LITERAL_PARTS = ("<img src=x", "**bold**", "[click](javascript:", "$x^2$", "<b>tag</b>", ":red[red]")
INDICATOR = "prosecution.investigations_opened"


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's indicator file with hostile text in every kind of free text a page shows."""
    data = yaml.safe_load((ROOT / "indicators.yaml").read_text(encoding="utf-8"))
    data["goal"]["statement"] = HOSTILE
    first = next(i for i in data["indicators"] if i["id"] == INDICATOR)
    first["name"] = HOSTILE
    figure = data["figures"]["prosecution"][0]
    figure.update(section=HOSTILE, title=HOSTILE, caption=HOSTILE)
    figure["series"][0]["label"] = HOSTILE
    data["dialogues"][-1]["name"] = HOSTILE
    path = tmp_path_factory.mktemp("hostile") / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def page(sample_db: Path, hostile_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with serving(sample_db, log, indicators=hostile_file) as url, chromium() as browser:
        tab = browser.new_page(viewport={"width": 1440, "height": 2400})
        tab.set_default_timeout(WAIT_MS)
        tab.base_url = url
        yield tab


# The page's text, with what its select boxes show (an input's value is not in innerText).
SHOWN_TEXT = ("document.body.innerText + '\\n' + [...document.querySelectorAll('[data-testid=\"stSelectbox\"] input')]"
              ".map(e => e.value).join('\\n')")


def _visit(tab, path: str) -> None:
    """Open `path` and wait until its run has drawn the hostile text and finished."""
    tab.goto(tab.base_url + path)
    tab.wait_for_function(f"({SHOWN_TEXT}).includes('Probe')", timeout=WAIT_MS)
    tab.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)
    tab.wait_for_timeout(1000)


@pytest.mark.parametrize("path", ["/", f"/indicators?indicator={INDICATOR}", "/prosecution", "/dialogues"])
def test_free_text_is_shown_as_text_on_every_page(page, path: str) -> None:
    _visit(page, path)
    assert page.evaluate("window.pwned") is None, "markup from the indicator file ran as script"
    assert page.locator('a[href^="javascript"]').count() == 0
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("[...document.querySelectorAll('strong, b')].some(e => e.textContent.trim() === 'bold')") is False
    assert page.locator(".katex").count() == 0, "a $...$ from the indicator file was typeset as LaTeX"
    text = page.evaluate(SHOWN_TEXT)
    for line in (ln for ln in text.splitlines() if "Probe" in ln):
        for part in LITERAL_PARTS:
            assert part in line, f"{path}: {part!r} is not shown as written in {line!r}"


@pytest.mark.parametrize("path", ["/prosecution"])
def test_chart_text_is_shown_as_written(page, path: str) -> None:
    _visit(page, path)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
    texts = page.evaluate("[...document.querySelectorAll('.main-svg text')].map(t => t.textContent)")
    probes = [t for t in texts if "Probe" in t]
    assert probes, f"no chart text on {path} carries the name: the test would prove nothing"
    for text in probes:
        assert "<b>tag</b>" in text or text.endswith("…"), f"chart text lost its characters: {text!r}"
        assert "&lt;" not in text and "&amp;" not in text, f"chart text escaped twice: {text!r}"
