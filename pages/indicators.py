"""Indicator explorer: one indicator's definition, series, status and breakdowns."""
import streamlit as st

from cpc_monitor.present import charts

from cpc_monitor.evaluation import privacy

from cpc_monitor.app import cache, downloads, header, navigation, sidebar
from cpc_monitor.present.formatting import as_markdown_text, format_status

CHART_CONFIG = {"displayModeBar": False}

filters, safe = sidebar.current_filters()
ev = cache.evaluation(filters)
top = st.container()
result = navigation.indicator_selector(ev)
if result is not None and result.status != "error":
    result = cache.indicator_detail(filters, result.id) or result  # with its breakdowns
tables = sorted({m.table for m in result.indicator.parts.values()}) if result and result.indicator else []
with top:
    header.page_header("Indicator explorer", tables or ["indicators.yaml"])

if result is None:
    st.info("The indicator file has no indicators yet. Add one to indicators.yaml.")
    st.stop()

if result.status == "error":
    st.error(f"**{format_status('error')}**: {as_markdown_text(result.name)} ({result.id}) could not be evaluated."
             "\n\n" + "\n".join(f"- {as_markdown_text(e)}" for e in result.errors)
             + "\n\nFix the indicator file and reload; the other indicators keep working.")
    st.stop()

values = privacy.result_values(result, safe)
chart_col, status_col = st.columns([3, 2], gap="medium")
chart_col.plotly_chart(charts.series_chart(result, values, safe), config=CHART_CONFIG, key="series")
with status_col:
    st.markdown(f"#### {charts.verdict_words(result, privacy.hidden_years(values))}")
    reason = charts.verdict_reason(result, safe)
    if reason:
        st.markdown(reason)
    st.markdown(charts.explanation(result, safe))
    st.markdown(charts.markdown_table(charts.status_figures(result, safe), {"Figure": "Figure", "Value": ""}))
for note in result.notes:
    st.caption(note)

with st.expander("Definition: what is counted, from which table, with which filters", expanded=True):
    st.markdown("\n".join(f"- **{name}**: {words}"
                          for name, words in charts.definition(result, cache.segments(), filters.column_values(), safe)))

dims = [d for d in dict.fromkeys(values["dim"]) if d] if not values.empty else []
if dims:
    st.markdown("##### Breakdowns")
    for start in range(0, len(dims), 2):
        for column, dim in zip(st.columns(2, gap="medium"), dims[start:start + 2]):
            figure = charts.breakdown_chart(values, dim, result.unit, result.settings.min_cell,
                                            cache.indicator_set().labels.get(dim))
            column.plotly_chart(figure, config=CHART_CONFIG, key=f"breakdown_{dim}")

st.markdown("##### The data")
if safe and values["suppressed"].any():
    st.caption(f"Counts below {result.settings.min_cell} are shown as \"<{result.settings.min_cell}\" "
               "and left out of the charts (presentation-safe numbers).")
st.dataframe(charts.values_table(result, values), hide_index=True, height=300)
downloads.download_result_csv(result)
