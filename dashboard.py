"""CPC Monitor: `streamlit run dashboard.py`.

Builds the sample database on first run, draws the sidebar filters, and navigates
over the thin pages in pages/ (their list is cpc_monitor/app/navigation.py)."""
import streamlit as st

from cpc_monitor.app import account, header, navigation, settings, sidebar

# An emoji icon: Streamlit draws it in the page. A :material/...: icon would be fetched from
# fonts.gstatic.com, and the dashboard makes no request off this machine.
st.set_page_config(layout="wide", page_title="CPC Monitor", page_icon="🛡️")

# Less padding than Streamlit's default, so that at 1280x720 the overview's pillars and
# headline fit on the first screen (look.md).
STYLE = """<style>
[data-testid="stMainBlockContainer"] { padding: 3.6rem 2rem 3rem 2rem; }
</style>"""

st.html(STYLE)
settings.ensure_database()
page = st.navigation(navigation.pages())
with st.sidebar:
    st.markdown("### CPC Monitor")
    st.caption("US–Jamaica Child Protection Compact: progress toward 2030")
account.sidebar_account()
sidebar.sidebar_filters()
header.mark_entry_script()
page.run()
