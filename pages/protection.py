"""Protection: victims identified, National Referral Mechanism timeliness, the child-friendly
spaces and the parish map."""
import streamlit as st

from cpc_monitor.present import pillar_charts as pc

from cpc_monitor.evaluation import pillar_data as pdt

from cpc_monitor.app import ui
from cpc_monitor.present.parish_map import OPERATOR_SHORT, parish_map

CONFIG = {"displayModeBar": False}
PAGE = "protection"
BREAKDOWNS = {"sex": "By sex", "age_group": "By age group", "nationality": "By nationality",
              "exploitation_type": "By form of exploitation"}
# Map frame -> (what it counts, colour bar label, the yearly frame whose years it covers).
MAPS = {"parish_sessions": ("Sessions in child-friendly spaces", "Sessions", "cfs_services"),
        "parish_victims": ("Victims identified", "Victims", "victims")}

filters, safe = ui.current_filters()
ev = ui.page_header("Protection", pdt.PAGE_TABLES[PAGE], "victims, referral to care, child-friendly spaces")

ui.pillar_status_box(ev, (PAGE,), safe)

st.markdown("##### Victims identified")
statuses = st.pills("Victims counted", pdt.VICTIM_STATUSES, selection_mode="multi", default=pdt.VICTIM_STATUSES,
                    format_func=str.capitalize, key=f"{PAGE}_statuses",
                    help="Confirmed victims, suspected (potential) victims, or both. Applies to the victims "
                         "charts and to the map's victims.") or pdt.VICTIM_STATUSES
chosen = tuple(s for s in pdt.VICTIM_STATUSES if s in statuses)
shown, protected, limit = ui.pillar_frames(PAGE, filters, safe, chosen)


left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(pc.victims_status_chart(shown["victims"], limit), config=CONFIG, key="victims_status")
    st.caption("Victims of all ages identified each year (victims; records marked as duplicates of an earlier "
               "record are left out).")
with right:
    for tab, dim in zip(st.tabs(list(BREAKDOWNS.values())), BREAKDOWNS):
        tab.plotly_chart(pc.victims_chart(shown["victims"], dim, limit), config=CONFIG, key=f"victims_{dim}")
ui.chart_download(PAGE, "victims", protected, limit)

st.markdown("##### National Referral Mechanism: time to referral")
left, right = st.columns(2, gap="medium")
with left:
    within = ev.result("protection.referred_within_2_days")
    st.plotly_chart(pc.referral_chart(shown["referral"], within.target if within else None, limit),
                    config=CONFIG, key="referral")
    st.caption(f"Confirmed child victims (under 18) referred to care within {pdt.REFERRAL_DAYS} days of "
               "identification, as a share of those identified in the year.")
    ui.chart_download(PAGE, "referral", protected, limit)
with right:
    st.plotly_chart(pc.referral_bands_chart(shown["referral_bands"], limit), config=CONFIG, key="referral_bands")
    st.caption("Days from identification to referral of the same children.")
    ui.chart_download(PAGE, "referral_bands", protected, limit)

st.markdown("##### Child-friendly spaces")
st.plotly_chart(pc.cfs_heatmap(shown["cfs_monthly"], limit), config=CONFIG, key="cfs_heatmap")
st.caption("Sessions held in each space per month (cfs_sessions); blank before a space opened"
           + (" and where a count is hidden." if safe else "."))
ui.chart_download(PAGE, "cfs_monthly", protected, limit)
left, right = st.columns(2, gap="medium")
with left:
    used = ev.result("protection.cfs_capacity_used")
    st.plotly_chart(pc.capacity_chart(shown["cfs_capacity"], used.target if used else None), config=CONFIG,
                    key="cfs_capacity")
    st.caption("Sessions held as a share of the sessions the open spaces could hold (cfs_capacity: each space's "
               "monthly capacity times the months it was open). Sex and age filters narrow the sessions only.")
    ui.chart_download(PAGE, "cfs_capacity", protected, limit)
with right:
    st.plotly_chart(pc.capacity_by_space_chart(shown["cfs_capacity"]), config=CONFIG, key="cfs_capacity_space")
left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(pc.services_chart(shown["cfs_services"], limit), config=CONFIG, key="cfs_services")
    st.caption("Sessions by the service given to the child.")
    ui.chart_download(PAGE, "cfs_services", protected, limit)
with right:
    st.markdown("**The spaces**")
    spaces = shown["spaces"]
    st.dataframe(spaces.assign(operator=spaces["operator"].map(OPERATOR_SHORT).fillna(spaces["operator"]))[
                     ["label", "parish", "operator", "opened_date"]],
                 hide_index=True, width="stretch",
                 column_config={"label": st.column_config.TextColumn("Space", width="medium"), "parish": "Parish",
                                "operator": "Operator",
                                "opened_date": st.column_config.DateColumn("Opened", format="D MMM YYYY")})
    st.caption("child_friendly_spaces: the ten spaces of the public record; names, parishes and capacities the "
               "record does not give are assumptions (docs/data.md).")

st.markdown("##### Parishes")
choice = st.segmented_control("Shade the parishes by", list(MAPS), default="parish_sessions",
                              format_func=lambda k: MAPS[k][0], key=f"{PAGE}_map") or "parish_sessions"
what, unit, yearly = MAPS[choice]
st.plotly_chart(parish_map(pc.parish_values(shown[choice]), shown["spaces"],
                           pc.map_title(shown[choice], what, pc.period_text(shown[yearly]), limit), unit, limit),
                config=CONFIG, key="parish_map")
st.caption("Jamaica's 14 parishes as tiles laid out roughly as on the island, west to east; ◆ marks each "
           "child-friendly space (hover for its name, operator and opening date). Drawn without a base map, "
           "so it works offline. Sessions take the parish of their space.")
ui.chart_download(PAGE, choice, protected, limit)
