"""Prevention and partnership: trainings by audience and partner, and funding committed and
disbursed against the CPC envelope, with the burn rate."""
import streamlit as st

from cpc_monitor import pillar_charts as pc, pillar_data as pdt, ui
from cpc_monitor.formatting import format_usd

CONFIG = {"displayModeBar": False}
PAGE = "prevention_partnership"
TRAINING_DIMS = {"audience": "Audience", "partner": "Partner"}

filters, safe = ui.current_filters()
ev = ui.page_header("Prevention & partnership", pdt.PAGE_TABLES[PAGE], "trainings and funding")
limit = ui.min_cell()
exact, protected = pdt.split(ui.cached_frames(pdt.pillar_frames, filters, PAGE, limit))
shown = protected if safe else exact

lines = pc.status_lines(pc.status_strip(ev, ("prevention", "partnership"), safe))
with st.container(border=True):
    half = (len(lines) + 1) // 2
    for column, part in zip(st.columns(2, gap="medium"), (lines[:half], lines[half:])):
        column.markdown("  \n".join(part))
if safe and any(f["suppressed"].any() for f in shown.values()):
    st.caption(f"Presentation-safe numbers: counts below {limit} read \"<{limit}\" and are left out of the charts.")


def download(name: str) -> None:
    """This chart's data as CSV, always suppressed."""
    ui.download_csv(pdt.download_table(name, protected[name], limit), f"cpc-{PAGE}-{name}",
                    key=f"{PAGE}_{name}_csv")


st.markdown("##### Trainings")
dim = st.segmented_control("Break the trainings down by", list(TRAINING_DIMS), default="audience",
                           format_func=TRAINING_DIMS.get, key=f"{PAGE}_training_dim") or "audience"
left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(pc.trainings_chart(shown["trainings"], dim, limit), config=CONFIG, key="trainings")
    st.caption("Participants in anti-trafficking trainings each year (trainings, by start date).")
    download("trainings")
with right:
    st.plotly_chart(pc.trainings_cumulative_chart(shown["trainings_cumulative"], dim, limit), config=CONFIG,
                    key="trainings_cumulative")
    st.caption("Running total of participants since the first recorded training (people trained twice count twice).")
    download("trainings_cumulative")

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
    download("funding_cumulative")
with right:
    st.plotly_chart(pc.burn_chart(shown["funding_quarterly"], shown["burn"]), config=CONFIG, key="burn")
    st.caption(f"Disbursed per quarter; the dashed line is the average of the last {pdt.BURN_QUARTERS} quarters, "
               "the pace at which the rest of the envelope would be spent.")
    download("funding_quarterly")
left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(pc.funding_by_chart(shown["funding_by"], "partner"), config=CONFIG, key="funding_partner")
with right:
    st.plotly_chart(pc.funding_by_chart(shown["funding_by"], "pillar"), config=CONFIG, key="funding_pillar")
st.caption("US government money committed and disbursed to date, by implementing partner and by pillar. "
           "Government of Jamaica spending is in the indicator \"Government of Jamaica share of disbursements\".")
download("funding_by")
