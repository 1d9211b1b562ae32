"""The sidebar's filters and the presentation-safe switch: drawn by dashboard.py on every
run (widgets keyed `filter_*` in st.session_state, so they persist across pages) and read
by every page. Only a role allowed to (access.current().exact_numbers) may turn the
presentation-safe switch off."""
from __future__ import annotations

import streamlit as st

from cpc_monitor.app import access
from cpc_monitor.app.cache import min_cell, year_span
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.present.charts import code_label as label
from cpc_monitor.store import codes


SAFE_KEY = "filter_safe"
# Sidebar widgets: filter name -> (label, placeholder, options).
_CHOICES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "parish": ("Parish", "All parishes", codes.PARISHES),
    "sex": ("Sex", "All", codes.SEXES),
    "age_group": ("Age group", "All ages", codes.AGE_GROUPS),
    "exploitation_type": ("Form of exploitation", "All forms", codes.EXPLOITATION_TYPES),
}
FILTER_LABELS = {name: text for name, (text, _, _) in _CHOICES.items()}
PERIOD_KEY = "filter_period"
# The sidebar's reporting periods: "" leaves each indicator its own `period:`.
PERIOD_CHOICES = {"": "As each indicator says", "calendar": "Calendar years (January–December)",
                  "tip": "TIP Report years (April–March)"}


def sidebar_filters() -> tuple[Filters, bool]:
    """Draw the sidebar filters (year range, parish, sex, age group, form of exploitation,
    the presentation-safe switch) and return the Filters in force and whether numbers are safe.

    Called by dashboard.py on every run, so the widgets (keys `filter_*`, kept in
    st.session_state) persist across pages."""
    first, last = year_span()
    with st.sidebar:
        st.markdown("**Filters**")
        if first is not None and last is not None and first < last:
            st.slider("Years", first, last, (first, last), key="filter_years")
        for name, (text, placeholder, options) in _CHOICES.items():
            st.multiselect(text, options, format_func=label, placeholder=placeholder, key=f"filter_{name}")
        st.selectbox("Years counted as", list(PERIOD_CHOICES), format_func=PERIOD_CHOICES.get, key=PERIOD_KEY,
                     help="A TIP Report year runs from April to March and is named by the year it ends in: "
                          "April 2023 to March 2024 is TIP year 2024. By default each indicator uses the "
                          "period its file gives (most use calendar years).")
        decision = access.current()
        if not decision.exact_numbers:  # a viewer: the switch stays on, whatever the browser sends
            st.session_state[SAFE_KEY] = True
        st.toggle("Presentation-safe numbers", key=SAFE_KEY, disabled=not decision.exact_numbers,
                  help=f"Hide counts from 1 to {min_cell() - 1} (shown as \"<{min_cell()}\") and leave them "
                       "out of charts, for screens others can see. Downloads are always suppressed.")
        if not decision.exact_numbers:
            st.caption(access.suppression_notice(decision))
    return current_filters()


def current_filters() -> tuple[Filters, bool]:
    """The Filters in force and whether numbers are presentation-safe: as the sidebar last set
    them, and always safe for a request whose role may not turn suppression off (every page
    reads the flag here, so none can show a viewer an exact small count)."""
    state = st.session_state
    first, last = year_span()
    years = state.get("filter_years")
    year_from = years[0] if years and first is not None and years[0] > first else None
    year_to = years[1] if years and last is not None and years[1] < last else None
    picked = {name: tuple(state.get(f"filter_{name}") or ()) for name in _CHOICES}
    period = state.get(PERIOD_KEY) or None
    return (Filters(year_from=year_from, year_to=year_to, **picked, period=period),
            bool(state.get(SAFE_KEY, False)) or not access.current().exact_numbers)
