"""The dashboard's pages, in order, as one list: dashboard.py navigates over it, and a page
that Streamlit started without dashboard.py hands it to st.navigation (header.page_header);
and the way into the indicator explorer for one indicator."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from cpc_monitor.evaluation.engine import Evaluation, IndicatorResult

ROOT = Path(__file__).resolve().parents[2]  # the folder of dashboard.py and pages/
# Page file -> its title in the navigation, in order; the first is the default.
PAGES = {
    "pages/overview.py": "Overview",
    "pages/prosecution.py": "Prosecution",
    "pages/protection.py": "Protection",
    "pages/prevention_partnership.py": "Prevention & partnership",
    "pages/dialogues.py": "Dialogues",
    "pages/present.py": "Present",
    "pages/indicators.py": "Indicator explorer",
    "pages/data.py": "Data",
    "pages/editor.py": "Edit indicators",
}


def pages() -> list[st.Page]:
    """A st.Page for every page file that exists (a page appears once its file exists)."""
    available = [(file, title) for file, title in PAGES.items() if (ROOT / file).is_file()]
    return [st.Page(file, title=title, default=(i == 0)) for i, (file, title) in enumerate(available)]


# ----------------------------------------------------------------------------- the explorer

EXPLORER_PAGE = "pages/indicators.py"
INDICATOR_KEY = "indicator"  # session-state key (and query parameter) of the explorer's indicator


def open_indicator(indicator_id: str) -> None:
    """Open one indicator in the explorer."""
    st.session_state[INDICATOR_KEY] = indicator_id
    st.switch_page(EXPLORER_PAGE, query_params={INDICATOR_KEY: indicator_id})


def indicator_selector(ev: Evaluation, label_text: str = "Indicator") -> IndicatorResult | None:
    """A select box over the evaluated indicators (the one opened from the overview or the
    URL's ?indicator= first); returns the chosen result."""
    ids = [r.id for r in ev.results]
    if not ids:
        return None
    wanted = st.query_params.get(INDICATOR_KEY)
    if st.session_state.get(INDICATOR_KEY) not in ids:
        st.session_state[INDICATOR_KEY] = wanted if wanted in ids else ids[0]
    names = {r.id: f"{r.pillar.capitalize()} · {r.name}" for r in ev.results}
    chosen = st.selectbox(label_text, ids, format_func=names.get, key=INDICATOR_KEY)
    if wanted != chosen:
        st.query_params[INDICATOR_KEY] = chosen
    return ev.result(chosen)
