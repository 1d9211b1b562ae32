"""Overview: where the partnership stands against 2030 (the scorecard)."""
import streamlit as st

from cpc_monitor.present import charts
from cpc_monitor.present.formatting import as_markdown_text as text

from cpc_monitor.app import cache, downloads, header, navigation, sidebar

# The scorecard's tables: fixed column widths so the four pillars' tables line up.
TABLE_STYLE = """<style>
.st-key-scorecard table { table-layout: fixed; width: 100%; }
.st-key-scorecard th:nth-child(1) { width: 28%; } .st-key-scorecard th:nth-child(2) { width: 9%; }
.st-key-scorecard th:nth-child(3) { width: 9%; } .st-key-scorecard th:nth-child(4) { width: 12%; }
.st-key-scorecard th:nth-child(5) { width: 8%; } .st-key-scorecard th:nth-child(6) { width: 18%; }
.st-key-scorecard th:nth-child(7) { width: 16%; }
</style>"""
OPEN_KEY = "overview_open"  # set by the select box: open navigation.INDICATOR_KEY in the explorer


def _open_chosen() -> None:
    if st.session_state.get("overview_choice"):
        st.session_state[navigation.INDICATOR_KEY] = st.session_state["overview_choice"]
        st.session_state[OPEN_KEY] = True


if st.session_state.pop(OPEN_KEY, None):
    navigation.open_indicator(st.session_state[navigation.INDICATOR_KEY])

filters, safe = sidebar.current_filters()
ev = cache.evaluation(filters)
values = cache.shown_values(filters, safe)
table = charts.scorecard(ev, safe, values)
latest_year = table.attrs["latest_year"]
title = "Where the partnership stands" + (f" — {latest_year}" if latest_year else "")
years_left = f"{ev.goal_year - latest_year} years to {ev.goal_year}" if latest_year else f"goal {ev.goal_year}"
header.page_header(title, header.EVENT_TABLES, f"{years_left} · {len(ev.results)} indicators")
goal = cache.indicator_set().goal
if goal.statement:
    st.markdown(f"**Goal for {goal.year}:** {text(goal.statement)}")

# Pillars: status in words and shape, score, how many outcomes on track; inputs apart.
pillars = ev.pillars()
for column, (pillar, rollup) in zip(st.columns(len(pillars), border=True), pillars.items()):
    column.markdown(f"**{charts.PILLAR_NAMES[pillar].upper()}**\n"
                    f"##### {charts.pillar_status(rollup.status)}\n"
                    + charts.pillar_tile(ev.members(pillar), rollup, set(table.loc[table["missed"], "id"])),
                    help="Score: the mean of the outcome indicators' Open SDG scores, from −5 to +5. Inputs "
                         "(money spent, people trained) are shown apart and never scored.")

# Headline figures: the latest year, with the change against the year before.
# The headlines the indicator file names (look.md: four); one missing or broken is skipped.
chosen = [(ev.result(h.ref), h.label or ev.result(h.ref).name) for h in cache.indicator_set().headlines
          if ev.result(h.ref) is not None and ev.result(h.ref).status != "error"]
for column, (result, label) in zip(st.columns(max(len(chosen), 1)), chosen):
    h = charts.headline(result, values[result.id], safe)
    arrow = "off" if not h.change or h.change.startswith("=") else ("down" if h.change.startswith("−") else "up")
    column.metric(text(f"{label}, {h.year}" if h.year else label), h.value, h.change or None,
                  delta_color="off", delta_arrow=arrow, border=True, help=text(result.name))

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
             + "\n".join(f"- **{text(r.name)}** ({r.id}): " + text("; ".join(str(e) for e in r.errors))
                         for r in broken))

# Every indicator, by pillar.
headings = {"Indicator": "Indicator", "Latest": f"Latest ({latest_year})" if latest_year else "Latest",
            "Baseline": f"Baseline ({table.attrs['base_year']})", "Next milestone": "Next milestone",
            "Target": f"{ev.goal_year} target", "Status": "Status", "Covered": "Distance covered"}
shown = table.assign(Covered=table["Distance covered"].map(charts.progress_bar))
st.markdown("##### Every indicator")
names = {r.id: r.name for r in ev.results}
st.selectbox("Open an indicator in the explorer", list(names), index=None, format_func=names.get,
             placeholder="Choose an indicator to see its definition, series and breakdowns",
             key="overview_choice", on_change=_open_chosen)
view = st.segmented_control("Show", list(charts.SCORECARD_VIEWS), default="all", key="scorecard_view")
shown = charts.scorecard_rows(shown, view or "all")
if shown.empty:
    st.caption(f"No indicator is in \"{view}\" under these filters.")
st.html(TABLE_STYLE)
with st.container(key="scorecard"):
    for pillar in pillars:
        part = shown[shown["pillar"] == pillar]
        outcomes, inputs = part[part["Kind"] == "outcome"], part[part["Kind"] == "input"]
        if not outcomes.empty:
            st.markdown(f"**{charts.PILLAR_NAMES[pillar]}**\n\n" + charts.markdown_table(outcomes, headings, own_markup=["Covered"]))
        if not inputs.empty:
            st.markdown(f"**{charts.PILLAR_NAMES[pillar]}: inputs** (money and trainings, not in the score)\n\n"
                        + charts.markdown_table(inputs, headings, own_markup=["Covered"]))

# Downloads are always suppressed, whatever the switch says.
safe_table = table if safe else charts.scorecard(ev, True, cache.shown_values(filters, True))
downloads.download_csv(safe_table.drop(columns=["id", "pillar", *charts.SCORECARD_KEYS], errors="ignore"),
                       "cpc-scorecard", label_text="Download the scorecard (CSV)")
