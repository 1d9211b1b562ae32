"""The dashboard's pages, in order, as one list: dashboard.py navigates over it, and a page
that Streamlit started without dashboard.py hands it to st.navigation (ui.page_header)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[2]  # the folder of dashboard.py and pages/
# Page file -> its title in the navigation, in order; the first is the default.
PAGES = {
    "pages/overview.py": "Overview",
    "pages/prosecution.py": "Prosecution",
    "pages/protection.py": "Protection",
    "pages/prevention_partnership.py": "Prevention & partnership",
    "pages/indicators.py": "Indicator explorer",
    "pages/data.py": "Data",
}


def pages() -> list[st.Page]:
    """A st.Page for every page file that exists (a page appears once its file exists)."""
    available = [(file, title) for file, title in PAGES.items() if (ROOT / file).is_file()]
    return [st.Page(file, title=title, default=(i == 0)) for i, (file, title) in enumerate(available)]
