"""Prosecution: investigations to prosecutions to convictions, time from charge to outcome,
outcomes and sentences."""
import streamlit as st

from cpc_monitor import pillar_charts as pc, pillar_data as pdt, ui

CONFIG = {"displayModeBar": False}
PAGE = "prosecution"

filters, safe = ui.current_filters()
ev = ui.page_header("Prosecution", pdt.PAGE_TABLES[PAGE], "from investigation to conviction")
limit = ui.min_cell()
exact, protected = pdt.split(ui.cached_frames(pdt.pillar_frames, filters, PAGE, limit))
shown = protected if safe else exact

lines = pc.status_lines(pc.status_strip(ev, (PAGE,), safe))
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
download("funnel")

left, right = st.columns(2, gap="medium")
with left:
    duration = ev.result("prosecution.months_charge_to_outcome")
    st.plotly_chart(pc.durations_chart(shown["durations"], duration.target if duration else None, limit),
                    config=CONFIG, key="durations")
    st.caption("Months from charge to verdict, dismissal or withdrawal (elapsed days / 30.44), for the "
               "prosecutions concluded each year: the box spans the middle half, the line is the median, the "
               "whiskers the shortest and longest; n = prosecutions concluded.")
    download("durations")
with right:
    st.plotly_chart(pc.outcomes_chart(shown["outcomes"], limit), config=CONFIG, key="outcomes")
    st.caption("What became of the defendants charged each year, as recorded to date.")
    download("outcomes")

left, right = st.columns(2, gap="medium")
with left:
    st.plotly_chart(pc.sentences_chart(shown["sentences"], limit), config=CONFIG, key="sentences")
    st.caption("Sentences of the defendants convicted each year, in bands of the prison term (months).")
    download("sentences")
