"""The Present page: the briefing pack's slides one at a time, big enough for a projector at
1280x720, with previous and next (← and → on the keyboard), the year and dialogue to brief
on, and the pack to download. The slides are present/briefing.py's, drawn with the HTML
pack's own slide parts: the page, the .pptx, the .pdf and the .html say the same.

Small counts are always hidden here, whatever the sidebar's switch says: a projector is
the least trusted screen there is."""
from __future__ import annotations

import streamlit as st

from cpc_monitor.app import cache, header
from cpc_monitor.present import briefing, export, export_html

SLIDE_KEY = "present_slide"
YEAR_KEY, DIALOGUE_KEY = "present_year", "present_dialogue"
CHART_CONFIG = {"displayModeBar": False}
DOWNLOADS = {"pptx": "PowerPoint (.pptx)", "pdf": "PDF", "html": "HTML (one file, works offline)"}
# The page's own look: the slide fills the width, with less padding than the other pages so a
# whole slide fits a 1280x720 projector.
PAGE_CSS = """
[data-testid="stMainBlockContainer"] { padding: 2.9rem 1.6rem 0.5rem 1.6rem; }
.cpc-slide { width: 100%; min-height: 0; padding: 0; }
.cpc-slide .cpc-footer { margin-top: 0; }
.cpc-slide h1 { font-size: 34px; margin-bottom: 0; }
.cpc-slide .cpc-message { font-size: 23px; margin-bottom: 0; }
.cpc-slide .cpc-logo { height: 54px; }
"""


def show() -> None:
    """Draw the page."""
    header.require_entry_script()
    # Streamlit's supported way to set the sidebar per page: set_page_config may be called
    # again in a run, and each call overrides what it names (dashboard.py set the rest).
    st.set_page_config(initial_sidebar_state="collapsed", page_title="Present · CPC Monitor")
    st.html(f"<style>{export_html.SLIDE_CSS}{PAGE_CSS}</style>")
    year, dialogue_id = _choices()
    pack = cache.briefing_pack(year, dialogue_id)
    count = len(pack.slides)
    index = min(max(st.session_state.get(SLIDE_KEY, 0), 0), count - 1)
    st.session_state[SLIDE_KEY] = index
    _controls(pack, index)
    _slide(pack, index)


def _choices() -> tuple[int | None, str | None]:
    """The year and dialogue the pack is for, as chosen in the page's settings (default: the
    latest year, and the last dialogue held by then)."""
    first, last = cache.year_span()
    iset = cache.indicator_set()
    years = list(range(last, first - 1, -1)) if first is not None and last is not None else []
    if st.session_state.get(YEAR_KEY) not in years:
        st.session_state[YEAR_KEY] = years[0] if years else None
    year = st.session_state[YEAR_KEY]
    ids = [d.id for d in iset.dialogues]
    if DIALOGUE_KEY not in st.session_state or st.session_state[DIALOGUE_KEY] not in ids + [None]:
        held = briefing.choose_dialogue(iset, None, year)
        st.session_state[DIALOGUE_KEY] = held.id if held else None
    # The latest year is asked for as None: the same pack `report` makes without --year.
    return (None if years and year == years[0] else year), st.session_state[DIALOGUE_KEY]


def _step(by: int) -> None:
    st.session_state[SLIDE_KEY] = st.session_state.get(SLIDE_KEY, 0) + by


def _controls(pack: briefing.Pack, index: int) -> None:
    """Previous, next, the slide's number; the pack's settings and its downloads."""
    count = len(pack.slides)
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.button("Previous", icon=":material/chevron_left:", on_click=_step, args=(-1,), disabled=index == 0,
                  key="present_previous", shortcut="Left", help="Previous slide (← on the keyboard)")
        st.button("Next", icon=":material/chevron_right:", icon_position="right", on_click=_step, args=(1,),
                  disabled=index == count - 1, key="present_next", shortcut="Right",
                  help="Next slide (→ on the keyboard)")
        notice = f"  :orange-badge[:material/warning: {header.SAMPLE_NOTICE}]" if pack.synthetic else ""
        st.markdown(f"**{index + 1} / {count}**{notice}", width="stretch")
        with st.popover("Year and dialogue", icon=":material/tune:"):
            first, last = cache.year_span()
            if first is not None:
                st.selectbox("Brief on the year", list(range(last, first - 1, -1)), key=YEAR_KEY,
                             on_change=_new_year)
            iset = cache.indicator_set()
            if iset.dialogues:
                names = {d.id: f"{d.name} · {d.when}" for d in iset.dialogues}
                st.selectbox("Targets agreed at", list(names), format_func=names.get, key=DIALOGUE_KEY,
                             on_change=_restart)
            st.caption("Small counts are always hidden on this page and in the pack, whatever the sidebar's "
                       "switch says.")
        with st.popover("Download the pack", icon=":material/download:"):
            for fmt, words in DOWNLOADS.items():
                st.download_button(words, _maker(pack, fmt), file_name=f"{pack.file_stem}.{fmt}",
                                   mime=export.MIME[fmt], key=f"present_download_{fmt}", on_click="ignore",
                                   width="stretch")
            st.caption("The same slides, with speaker notes (PowerPoint) and the data's date and source on each. "
                       "PowerPoint and PDF take a few seconds: their charts are drawn as pictures.")


def _restart() -> None:
    """Another dialogue starts again at the first slide."""
    st.session_state[SLIDE_KEY] = 0


def _new_year() -> None:
    """Another year starts again at the first slide, with that year's default dialogue."""
    st.session_state.pop(DIALOGUE_KEY, None)
    _restart()


def _maker(pack: briefing.Pack, fmt: str):
    """The pack's bytes in `fmt`, made when the button is clicked (not on every run)."""
    return lambda: export.pack_bytes(pack, fmt)


def _slide(pack: briefing.Pack, index: int) -> None:
    """One slide: the HTML pack's parts, with its chart drawn by Streamlit's plotly."""
    slide = pack.slides[index]
    with st.container(key=f"slide_{slide.key}", gap="small"):
        st.html(f'<div class="cpc-slide" data-key="{slide.key}">{export_html.slide_top(slide, pack)}</div>')
        if export_html.chart_beside_bullets(slide):
            left, right = st.columns([2, 1], vertical_alignment="center")
            left.plotly_chart(slide.figure, config=CHART_CONFIG, key="slide_chart", width="content", theme=None)
            right.html(f'<div class="cpc-slide">{export_html.slide_bullets(slide)}</div>')
        else:
            if slide.table is not None:
                st.html(f'<div class="cpc-slide">{export_html.slide_table(slide)}</div>')
            if slide.figure is not None:
                st.plotly_chart(slide.figure, config=CHART_CONFIG, key="slide_chart", width="content", theme=None)
            bullets = export_html.slide_bullets(slide)
            if bullets:
                st.html(f'<div class="cpc-slide">{bullets}</div>')
        st.html(f'<div class="cpc-slide">{export_html.slide_footer(slide, pack, index + 1)}</div>')
    with st.expander("Speaker notes"):
        st.markdown(slide.notes.replace("$", "\\$"))
