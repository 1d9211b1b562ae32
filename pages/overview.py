"""Overview: where the partnership stands against 2030 (the scorecard)."""
from functools import partial

import streamlit as st

from cpc_monitor import charts, privacy, ui

# The four headline figures (look.md) with their short labels; an id missing from the
# indicator file (or broken) is skipped.
HEADLINES = {"prosecution.investigations_opened": "Investigations opened",
             "protection.child_victims_identified": "Child victims identified",
             "prosecution.convictions": "Convictions",
             "protection.referred_within_2_days": "Referred to care within 2 days"}
OPEN_KEY = "overview_open"  # set by a table row or the select box: open ui.INDICATOR_KEY


def _open_row(key: str, ids: list[str]) -> None:
    rows = st.session_state[key].selection.rows
    if rows:
        st.session_state[ui.INDICATOR_KEY] = ids[rows[0]]
        st.session_state[OPEN_KEY] = True


def _open_chosen() -> None:
    if st.session_state.get("overview_choice"):
        st.session_state[ui.INDICATOR_KEY] = st.session_state["overview_choice"]
        st.session_state[OPEN_KEY] = True


if st.session_state.pop(OPEN_KEY, None):
    ui.open_indicator(st.session_state[ui.INDICATOR_KEY])

filters, safe = ui.current_filters()
ev = ui.evaluation(filters)
values = {r.id: privacy.result_values(r, safe) for r in ev.results}
table = charts.scorecard(ev, safe, values)
latest_year = table.attrs["latest_year"]
title = "Where the partnership stands" + (f" — {latest_year}" if latest_year else "")
years_left = f"{ev.goal_year - latest_year} years to {ev.goal_year}" if latest_year else f"goal {ev.goal_year}"
ui.page_header(title, ui.EVENT_TABLES, f"{years_left} · {len(ev.results)} indicators")

# Pillars: status in words and shape, score, how many on track.
pillars = ev.pillars()
for column, (pillar, rollup) in zip(st.columns(len(pillars), border=True), pillars.items()):
    members = [r for r in ev.results if r.pillar == pillar]
    on_track = charts.status_counts(members)[charts.STATUS_GROUPS[0][0]]
    column.markdown(f"**{charts.PILLAR_NAMES[pillar].upper()}**\n"
                    f"##### {charts.pillar_status(rollup.status)}\n"
                    f"{on_track} of {len(members)} on track · {charts.score_text(rollup.score)}")

# Headline figures: the latest year, with the change against the year before.
chosen = [(ev.result(i), label) for i, label in HEADLINES.items()
          if ev.result(i) is not None and ev.result(i).status != "error"]
for column, (result, label) in zip(st.columns(max(len(chosen), 1)), chosen):
    h = charts.headline(result, values[result.id], safe)
    arrow = "off" if not h.change or h.change.startswith("=") else ("down" if h.change.startswith("−") else "up")
    column.metric(f"{label}, {h.year}" if h.year else label, h.value, h.change or None,
                  delta_color="off", delta_arrow=arrow, border=True, help=result.name)

# Distance to 2030.
counts = charts.status_counts(ev.results)
left, right = st.columns([3, 2], vertical_alignment="center")
left.plotly_chart(charts.distance_chart(ev, latest_year), config={"displayModeBar": False})
with right:
    st.markdown(f"**Distance to 2030: {years_left}**  \n"
                + "  \n".join(f"{name}: **{n}**" for name, n in counts.items()))
    st.caption("Status compares the pace since the baseline with the pace the 2030 target needs "
               "(Open SDG method). Distance covered: the share of the way from the baseline to the "
               "target reached so far.")

broken = [r for r in ev.results if r.status == "error"]
if broken:
    st.error("**Needs fixing**: these indicators could not be evaluated; the others are shown.\n\n"
             + "\n".join(f"- **{r.name}** ({r.id}): " + "; ".join(str(e) for e in r.errors) for r in broken))

# Every indicator, by pillar; selecting a row opens it in the explorer.
st.markdown("##### Every indicator  \nSelect a row to open the indicator in the explorer.")
columns = {
    "Indicator": st.column_config.TextColumn(width=270, help="Hover to read a long name"),
    "Latest": st.column_config.TextColumn(f"Latest ({latest_year})" if latest_year else "Latest", width=85),
    "Baseline": st.column_config.TextColumn(f"Baseline ({table.attrs['base_year']})", width=85),
    "Next milestone": st.column_config.TextColumn(width=125),
    "Target": st.column_config.TextColumn(f"{ev.goal_year} target", width=75),
    "Status": st.column_config.TextColumn(width=165),
    "Distance covered": st.column_config.ProgressColumn(
        "Covered", min_value=0, max_value=100, format="%d%%", width=95,
        help="Share of the way from the baseline to the target covered so far"),
}
for pillar in pillars:
    part = table[table["pillar"] == pillar]
    if part.empty:
        continue
    key = f"scorecard_{pillar}"
    st.markdown(f"**{charts.PILLAR_NAMES[pillar]}**")
    st.dataframe(part, hide_index=True, key=key, on_select=partial(_open_row, key, list(part["id"])),
                 selection_mode="single-row", column_order=list(columns), column_config=columns,
                 height=38 + 35 * len(part))

names = {r.id: r.name for r in ev.results}
st.selectbox("Open an indicator in the explorer", list(names), index=None, format_func=names.get,
             placeholder="Choose an indicator", key="overview_choice", on_change=_open_chosen)
# Downloads are always suppressed, whatever the switch says.
safe_table = table if safe else charts.scorecard(ev, True, {r.id: privacy.result_values(r, True) for r in ev.results})
ui.download_csv(safe_table.drop(columns=["id", "pillar"]), "cpc-scorecard", label_text="Download the scorecard (CSV)")
