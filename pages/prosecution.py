"""Prosecution: investigations to prosecutions to convictions, time from charge to outcome,
outcomes and sentences."""
import streamlit as st

from cpc_monitor.present import pillar_charts as pc

from cpc_monitor.evaluation import pillar_data as pdt

from cpc_monitor.app import ui

CONFIG = {"displayModeBar": False}
PAGE = "prosecution"

filters, safe = ui.current_filters()
ev = ui.page_header("Prosecution", pdt.PAGE_TABLES[PAGE], "from investigation to conviction")
shown, protected, limit = ui.pillar_frames(PAGE, filters, safe)

ui.pillar_status_box(ev, (PAGE,), safe)


st.markdown("##### From investigation to conviction")
years = sorted(shown["funnel"]["year"].unique(), reverse=True)
year = st.selectbox("Year of the funnel", years, key=f"{PAGE}_funnel_year", width=200) if years else None
left, right = st.columns(2, gap="medium")
with left:
    if year is not None:
        st.plotly_chart(pc.funnel_chart(shown["funnel"], int(year), limit), config=CONFIG, key="funnel")
    else:
        st.info("No investigations or prosecutions for these filters.")
with right:
    st.plotly_chart(pc.stages_chart(shown["funnel"], limit), config=CONFIG, key="stages")
st.caption("Each stage is counted by its own date: investigations by the date opened (cases), defendants by the "
           "date charged, convictions by the date of the verdict (prosecutions), so a year's convictions mostly "
           "come from earlier years' cases. All defendants, whether or not the case has a child victim; the "
           "parish filter applies to the case's parish and to the court's parish.")
ui.chart_download(PAGE, "funnel", protected, limit)

left, right = st.columns(2, gap="medium")
with left:
    duration = ev.result("prosecution.months_charge_to_outcome")
    st.plotly_chart(pc.durations_chart(shown["durations"], duration.target if duration else None, limit),
                    config=CONFIG, key="durations")
    st.caption("Months from charge to verdict, dismissal or withdrawal (elapsed days / 30.44), for the "
               "prosecutions concluded each year: the box spans the middle half, the line is the median, the "
               "whiskers the shortest and longest; n = prosecutions concluded.")
    ui.chart_download(PAGE, "durations", protected, limit)
with right:
    st.plotly_chart(pc.outcomes_chart(shown["outcomes"], limit), config=CONFIG, key="outcomes")
    st.caption("What became of the defendants charged each year, as recorded to date.")
    ui.chart_download(PAGE, "outcomes", protected, limit)

left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(pc.sentences_chart(shown["sentences"], limit), config=CONFIG, key="sentences")
    st.caption("Sentences of the defendants convicted each year, in bands of the prison term (months).")
    ui.chart_download(PAGE, "sentences", protected, limit)
