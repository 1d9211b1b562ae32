"""Overview: where the partnership stands against 2030 (the scorecard)."""
import streamlit as st

from cpc_monitor import charts, privacy, ui

# The four headline figures (look.md); an id missing from the indicator file is skipped.
HEADLINE_IDS = ("prosecution.investigations_opened", "protection.child_victims_identified",
                "prosecution.convictions", "protection.referred_within_2_days")
OPEN_KEY = "overview_open"  # set by the table or the select box: the indicator to open

if st.session_state.pop(OPEN_KEY, None):
    ui.open_indicator(st.session_state[ui.INDICATOR_KEY])

filters, safe = ui.current_filters()
ev = ui.evaluation(filters)
values = {r.id: privacy.result_values(r, safe) for r in ev.results}
latest_year = max((y for y in (r.latest[0] for r in ev.results) if y is not None), default=None)
title = "Where the partnership stands" + (f" — {latest_year}" if latest_year else "")
years_left = f"{ev.goal_year - latest_year} years to {ev.goal_year}" if latest_year else f"goal {ev.goal_year}"
ui.page_header(title, ui.EVENT_TABLES, f"{years_left} · {len(ev.results)} indicators")

# Pillars: status in words and shape, score, how many on track.
pillars = ev.pillars()
for column, (pillar, rollup) in zip(st.columns(len(pillars)), pillars.items()):
    members = [r for r in ev.results if r.pillar == pillar]
    on_track = charts.status_counts(members)[charts.STATUS_GROUPS[0][0]]
    with column.container(border=True):
        st.markdown(f"**{charts.PILLAR_NAMES[pillar].upper()}**  \n"
                    f"#### {charts.pillar_status(rollup.status)}\n"
                    f"{charts.score_text(rollup.score)}  \n{on_track} of {len(members)} on track or achieved")

# Headline figures: the latest year with the change against the year before.
chosen = [ev.result(i) for i in HEADLINE_IDS if ev.result(i) is not None and ev.result(i).status != "error"]
for column, result in zip(st.columns(max(len(chosen), 1)), chosen):
    h = charts.headline(result, values[result.id], safe)
    arrow = "off" if not h.change or h.change.startswith("=") else ("down" if h.change.startswith("−") else "up")
    column.metric(f"{h.label} ({h.year})" if h.year else h.label, h.value, h.change or None,
                  delta_color="off", delta_arrow=arrow, border=True,
                  help=f"Latest year; the change is against {h.year - 1}." if h.year else None)

# Distance to 2030 and every indicator.
left, right = st.columns([2, 3])
left.plotly_chart(charts.distance_chart(ev, latest_year), config={"displayModeBar": False})
broken = [r for r in ev.results if r.status == "error"]
with right:
    if broken:
        st.error("**Needs fixing**: these indicators could not be evaluated; the others are shown.\n\n"
                 + "\n".join(f"- **{r.name}** ({r.id}): " + "; ".join(str(e) for e in r.errors) for r in broken))
    counts = charts.status_counts(ev.results)
    st.markdown("**Distance to 2030**  \n" + "  \n".join(f"{name}: **{n}**" for name, n in counts.items()))
    st.caption("Distance covered: the share of the way from the baseline to the 2030 target reached by the "
               "latest value. Status follows the Open SDG method: the pace so far against the pace the "
               "target needs. Select a row to open the indicator in the explorer.")

table = charts.scorecard(ev, safe, values)


def _open_selected() -> None:
    rows = st.session_state["scorecard"].selection.rows
    if rows:
        st.session_state[ui.INDICATOR_KEY] = table.iloc[rows[0]]["id"]
        st.session_state[OPEN_KEY] = True


def _open_chosen() -> None:
    if st.session_state.get("overview_choice"):
        st.session_state[ui.INDICATOR_KEY] = st.session_state["overview_choice"]
        st.session_state[OPEN_KEY] = True


st.dataframe(
    table, hide_index=True, key="scorecard", on_select=_open_selected, selection_mode="single-row",
    column_order=["Pillar", "Indicator", "Latest", "Baseline", "Next milestone", "2030 target", "Status",
                  "Distance covered"],
    column_config={
        "Indicator": st.column_config.TextColumn(width="large", pinned=True),
        "Status": st.column_config.TextColumn(width="medium"),
        "Distance covered": st.column_config.ProgressColumn(
            min_value=0, max_value=100, format="%d%%", width="small",
            help="Share of the way from the baseline to the 2030 target covered so far"),
    },
    height=min(38 + 35 * len(table), 720))
names = {r.id: r.name for r in ev.results}
st.selectbox("Open an indicator in the explorer", list(names), index=None, format_func=names.get,
             placeholder="Choose an indicator", key="overview_choice", on_change=_open_chosen)
# Downloads are always suppressed, whatever the switch says.
safe_table = table if safe else charts.scorecard(ev, True, {r.id: privacy.result_values(r, True) for r in ev.results})
ui.download_csv(safe_table.drop(columns=["id"]), "cpc-scorecard", label_text="Download the scorecard (CSV)")
