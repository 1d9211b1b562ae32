"""What heads every page: the title, the SAMPLE DATA notice, how current the data are, the
source tables and which filters apply to which; and the pillars' status box."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import streamlit as st

from cpc_monitor.app.cache import evaluation, table_columns
from cpc_monitor.app.sidebar import FILTER_LABELS, current_filters
from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import Evaluation
from cpc_monitor.evaluation.measures import Filters, source_columns
from cpc_monitor.present.charts import code_label as label


# Shown on every page while the database says its data are synthetic.
SAMPLE_NOTICE = "SAMPLE DATA: synthetic, not real cases"
# Tables whose rows the pages count; the overview's header names them all.
EVENT_TABLES = ("cases", "victims", "prosecutions", "cfs_sessions", "trainings", "funding")
# Set by dashboard.py just before it runs a page: the page then knows the sidebar and the
# navigation exist. Opening /protection on a freshly started server makes Streamlit run the
# page file alone (its old pages/ folder mode, until st.navigation is first called).
ENTRY_MARK = "_cpc_entry_ran"


def mark_entry_script() -> None:
    """Called by dashboard.py before `page.run()`."""
    st.session_state[ENTRY_MARK] = True


def require_entry_script() -> None:
    """Run again through dashboard.py when a page was started without it."""
    if not st.session_state.pop(ENTRY_MARK, False):
        # Calling st.navigation is Streamlit's own, public way out of the pages/ folder mode;
        # the rerun then starts at dashboard.py, which opens this page by its URL.
        from cpc_monitor.app import navigation

        st.navigation(navigation.pages())
        st.rerun()


def page_header(title: str, tables: Sequence[str], subtitle: str = "", filtered: bool = True) -> Evaluation:
    """The page title, the SAMPLE DATA notice while the data is synthetic, 'data to <date>',
    the source tables and which filters in force apply to which of them.

    `filtered=False` for a page whose figures cover every row whatever the sidebar says.
    Returns the evaluation under the filters in force (cached), which most pages need."""
    require_entry_script()
    filters, _ = current_filters()
    ev = evaluation(filters)
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.subheader(title, anchor=False)
    if ev.synthetic:
        right.markdown(f":orange-badge[:material/warning: {SAMPLE_NOTICE}]", text_alignment="right")
    parts = [subtitle] if subtitle else []
    parts.append(f"data to {format_date(ev.as_of)}" if ev.as_of else "no event data yet")
    parts.append("source: " + ", ".join(tables))
    scope = filters_in_force(filters, tables) if filtered else "The sidebar's filters do not apply to this page."
    st.caption(" · ".join(parts) + "  \n" + scope)
    return ev


def format_date(day: date) -> str:
    """31 Dec 2025."""
    return f"{day.day} {day:%b %Y}"


def filters_in_force(filters: Filters, tables: Sequence[str]) -> str:
    """Which filters apply to which of `tables`, in words."""
    parts = []
    if filters.year_from is not None or filters.year_to is not None:
        parts.append(f"Years {filters.year_from or '…'}–{filters.year_to or '…'} (all tables)")
    if filters.period == "tip":
        parts.append("TIP Report years, April to March, named by the year they end in (every dated record)")
    elif filters.period == "calendar":
        parts.append("Calendar years (every dated record)")
    columns = table_columns()
    for name, values in filters.column_values().items():
        shown = ", ".join(label(v) for v in values)
        applies = [t for t in tables if t in columns and name in source_columns(t, columns)]
        skipped = [t for t in tables if t not in applies]
        where = f"applies to {', '.join(applies)}" if applies else "applies to none of these tables"
        if applies and skipped:
            where += f"; not to {', '.join(skipped)} (no {FILTER_LABELS[name].lower()} column)"
        parts.append(f"{FILTER_LABELS[name]} {shown}: {where}")
    return "Filters: " + ("; ".join(parts) if parts else "none (all years, parishes, sexes, ages and forms)")


def pillar_status_box(ev: Evaluation, pillars: Sequence[str], safe: bool) -> None:
    """The pillars' indicators with their status in words, in a two-column box."""
    from cpc_monitor.present import charts

    lines = charts.status_lines(charts.status_strip(ev, tuple(pillars), safe,
                                                    {r.id: privacy.result_values(r, safe) for r in ev.results
                                                     if r.pillar in pillars}))
    with st.container(border=True):
        half = (len(lines) + 1) // 2
        for column, part in zip(st.columns(2, gap="medium"), (lines[:half], lines[half:])):
            column.markdown("  \n".join(part))
