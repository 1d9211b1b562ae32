"""Prevention and partnership: trainings by audience and partner, and funding committed and
disbursed against the CPC envelope, with the burn rate."""
import streamlit as st

from cpc_monitor.present import pillar_charts as pc

from cpc_monitor.evaluation import pillar_data as pdt

from cpc_monitor.app import ui
from cpc_monitor.present.formatting import format_usd

CONFIG = {"displayModeBar": False}
PAGE = "prevention_partnership"
TRAINING_DIMS = {"audience": "Audience", "partner": "Partner"}

filters, safe = ui.current_filters()
ev = ui.page_header("Prevention & partnership", pdt.PAGE_TABLES[PAGE], "trainings and funding")
shown, protected, limit = ui.pillar_frames(PAGE, filters, safe)

ui.pillar_status_box(ev, ("prevention", "partnership"), safe)


st.markdown("##### Trainings")
dim = st.segmented_control("Break the trainings down by", list(TRAINING_DIMS), default="audience",
                           format_func=TRAINING_DIMS.get, key=f"{PAGE}_training_dim") or "audience"
left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(pc.trainings_chart(shown["trainings"], dim, limit), config=CONFIG, key="trainings")
    st.caption("Participants in anti-trafficking trainings each year (trainings, by start date).")
    ui.chart_download(PAGE, "trainings", protected, limit)
with right:
    st.plotly_chart(pc.trainings_cumulative_chart(shown["trainings_cumulative"], dim, limit), config=CONFIG,
                    key="trainings_cumulative")
    st.caption("Running total of participants since the first recorded training (people trained twice count twice).")
    ui.chart_download(PAGE, "trainings_cumulative", protected, limit)

st.markdown("##### Funding against the CPC envelope")
figures = pc.burn_figures(shown["burn"])
for column, (label, value, note, help_text) in zip(st.columns(len(figures) or 1), figures):
    column.metric(label, value, note, delta_color="off", delta_arrow="off", help=help_text, border=True)
left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(pc.funding_cumulative_chart(shown["funding_cumulative"], shown["burn"]), config=CONFIG,
                    key="funding_cumulative")
    st.caption(f"US government (CPC) money committed and disbursed since the first entry, against the "
               f"{format_usd(pdt.CPC_ENVELOPE_USD)} envelope (dashed). Running totals start before the year filter.")
    ui.chart_download(PAGE, "funding_cumulative", protected, limit)
with right:
    st.plotly_chart(pc.burn_chart(shown["funding_quarterly"], shown["burn"]), config=CONFIG, key="burn")
    st.caption(f"Disbursed per quarter; the dashed line is the average of the last {pdt.BURN_QUARTERS} quarters, "
               "the pace at which the rest of the envelope would be spent.")
    ui.chart_download(PAGE, "funding_quarterly", protected, limit)
left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(pc.funding_by_chart(shown["funding_by"], "partner"), config=CONFIG, key="funding_partner")
with right:
    st.plotly_chart(pc.funding_by_chart(shown["funding_by"], "pillar"), config=CONFIG, key="funding_pillar")
st.caption("US government money committed and disbursed to date, by implementing partner and by pillar. "
           "Government of Jamaica spending is in the indicator \"Government of Jamaica share of disbursements\".")
ui.chart_download(PAGE, "funding_by", protected, limit)
