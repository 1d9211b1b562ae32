"""The Present page (AppTest): every slide of the pack, one at a time with previous and next,
always suppressed whatever the sidebar's switch says, the pack for another year or dialogue,
and the pack's download."""
from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest

from browser_support import CHROMIUM
from conftest import INDICATORS
from cpc_monitor.definitions.indicators import load_indicators
from cpc_monitor.evaluation.engine import evaluate

pytestmark = pytest.mark.timeout(300)
PAGE = "pages/present.py"
SLIDES = 12


def _slide_text(at) -> str:
    """What the slide shows: its HTML parts, unescaped."""
    return html.unescape(" ".join(h.proto.body for h in at.get("html")))


def _errors(at) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


def test_every_slide_draws_with_previous_and_next(open_page):
    at = open_page(PAGE)
    titles = []
    for number in range(1, SLIDES + 1):
        assert _errors(at) == [], number
        assert at.markdown[0].value.startswith(f"**{number} / {SLIDES}**")
        text = _slide_text(at)
        titles.append(re.search(r"<h1>(.*?)</h1>", text).group(1))
        assert "Data to 31 Dec 2025" in text, number
        if number < SLIDES:
            at.button(key="present_next").click().run()
    assert at.button(key="present_next").disabled
    assert titles[2] == "The 2030 scorecard" and titles[-1] == "Data notes and method"
    at.button(key="present_previous").click().run()
    assert at.markdown[0].value.startswith(f"**{SLIDES - 1} / {SLIDES}**")
    assert "SAMPLE DATA" in at.markdown[0].value


def test_the_page_hides_small_counts_whatever_the_switch_says(open_page, sample_db):
    exact = evaluate(sample_db, load_indicators(INDICATORS)).result("prosecution.convictions")
    year, value = exact.latest
    assert 1 <= value <= 4, "the sample's latest convictions are a small count: the test needs one"
    at = open_page(PAGE, {"filter_safe": False})
    for _ in range(3):  # title, key messages, scorecard, then Prosecution
        at.button(key="present_next").click().run()
    raw = " ".join(h.proto.body for h in at.get("html"))
    assert "<h1>Prosecution</h1>" in raw
    row = re.search(r"<td>Child-trafficking convictions</td><td[^>]*>([^<]*)</td>", raw)
    assert row and html.unescape(row.group(1)) == "<5", raw[-3000:]


def test_another_year_and_dialogue_make_another_pack(open_page):
    at = open_page(PAGE, {"present_year": 2022, "present_dialogue": "first"})
    assert _errors(at) == []
    assert "Where we stand in 2022" in _slide_text(at)
    assert "First bilateral dialogue" in _slide_text(at)


def test_the_pack_downloads_in_each_format_on_click(open_page, downloads):
    if os.environ.get("CI") != "true" and not CHROMIUM.exists():
        pytest.skip("the PowerPoint and PDF packs draw their charts with chromium")
    at = open_page(PAGE)
    assert _errors(at) == []
    names = sorted(n for n in downloads if n.startswith("cpc-briefing"))  # the overview ran first
    assert names == ["cpc-briefing-2025-final.html", "cpc-briefing-2025-final.pdf", "cpc-briefing-2025-final.pptx"]
    assert downloads["cpc-briefing-2025-final.pdf"].startswith(b"%PDF-")
    assert downloads["cpc-briefing-2025-final.pptx"].startswith(b"PK")  # a zip, as .pptx files are
    assert downloads["cpc-briefing-2025-final.html"].count(b"<section") == SLIDES


def test_present_is_in_the_navigation():
    from cpc_monitor.app.navigation import PAGES

    assert PAGES[PAGE] == "Present" and (Path(__file__).resolve().parents[2] / PAGE).is_file()


def test_choosing_another_year_takes_that_year_default_dialogue(open_page):
    at = open_page(PAGE)
    assert "Final bilateral dialogue" in _slide_text(at)
    at.selectbox(key="present_year").set_value(2022).run()
    assert _errors(at) == []
    assert at.session_state["present_dialogue"] == "first"  # the third's targets fall due in 2023
    assert "Where we stand in 2022" in _slide_text(at) and "First bilateral dialogue" in _slide_text(at)
    at.selectbox(key="present_year").set_value(2019).run()
    assert _errors(at) == [] and at.session_state["present_dialogue"] is None
    assert "bilateral dialogue" not in _slide_text(at)  # none had been held
