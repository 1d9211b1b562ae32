"""CPC Monitor: `streamlit run dashboard.py`.

Builds the sample database on first run, draws the sidebar filters, and navigates
over the thin pages in pages/ (a page appears once its file exists)."""
from pathlib import Path

import streamlit as st

from cpc_monitor.app import ui

st.set_page_config(layout="wide", page_title="CPC Monitor", page_icon=":material/shield:")

HERE = Path(__file__).resolve().parent
# Less padding than Streamlit's default, so that at 1280x720 the overview's pillars and
# headline fit on the first screen (look.md).
STYLE = """<style>
[data-testid="stMainBlockContainer"] { padding: 3.6rem 2rem 3rem 2rem; }
</style>"""
# Page file -> its title in the navigation, in order; the first is the default.
PAGES = {
    "pages/overview.py": "Overview",
    "pages/prosecution.py": "Prosecution",
    "pages/protection.py": "Protection",
    "pages/prevention_partnership.py": "Prevention & partnership",
    "pages/indicators.py": "Indicator explorer",
    "pages/data.py": "Data",
}

st.html(STYLE)
ui.ensure_database()
available = [(file, title) for file, title in PAGES.items() if (HERE / file).is_file()]
page = st.navigation([st.Page(file, title=title, default=(i == 0)) for i, (file, title) in enumerate(available)])
with st.sidebar:
    st.markdown("### CPC Monitor")
    st.caption("US–Jamaica Child Protection Compact: progress toward 2030")
ui.sidebar_filters()
ui.mark_entry_script()
page.run()
