"""A pillar page drawn from the indicator file: its header, the status of its pillars'
indicators, then each declared figure in order (sections as headings, half-width figures
side by side), each with its caption and a CSV of its data that is always suppressed.

The page decides nothing about numbers: figures come evaluated and suppressed from
cache.figure_values; this module only lays them out."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from cpc_monitor.app import cache, header, sidebar
from cpc_monitor.evaluation.figures import FigureValues
from cpc_monitor.present import csvfile
from cpc_monitor.present import figure_charts as fc
from cpc_monitor.present.formatting import as_markdown_frame, as_markdown_text, day_words

CONFIG = {"displayModeBar": False}


def render(page: str, title: str, subtitle: str, pillars: Sequence[str]) -> None:
    """The whole page `page` of the indicator file's `figures:`."""
    iset = cache.indicator_set()
    declared = iset.figures.get(page, [])
    filters, safe = sidebar.current_filters()
    ev = header.page_header(title, page_tables(iset, page), subtitle)
    header.pillar_status_box(ev, tuple(pillars), safe)
    shown = cache.figure_values(page, filters, safe)
    protected = shown if safe else cache.figure_values(page, filters, True)
    if safe and any(v.frame["suppressed"].any() for v in shown if "suppressed" in v.frame.columns):
        st.caption(f"Presentation-safe numbers: counts below {iset.defaults.min_cell} read "
                   f"\"<{iset.defaults.min_cell}\" and are left out of the charts.")
    for problem in [i for i in iset.issues if i.severity == "error" and f"figure {page}/" in i.message]:
        st.warning(f"A figure of this page needs fixing in the indicator file: {problem}")
    if not declared:
        st.info(f"The indicator file declares no figures for this page (`figures: {page}:`).")
        return
    row: list[tuple[FigureValues, FigureValues]] = []
    for values, download in zip(shown, protected):
        figure = values.figure
        if figure.section or figure.width == "full":
            _flush(row, iset.labels)
            row = []
        if figure.section:
            st.markdown(f"##### {as_markdown_text(figure.section)}")
        if figure.width == "full":
            _one(values, download, iset.labels)
            continue
        row.append((values, download))
        if len(row) == 2:
            _flush(row, iset.labels)
            row = []
    _flush(row, iset.labels)


def page_tables(iset, page: str) -> list[str]:
    """The tables behind a page's figures, for its header."""
    tables: list[str] = []
    for figure in iset.figures.get(page, []):
        for series in figure.series:
            indicator = iset.indicator(series.ref)
            measures = indicator.parts.values() if indicator else [iset.measures[series.ref]]
            tables += [m.table for m in measures]
        if figure.table:
            tables.append(figure.table)
    return list(dict.fromkeys(tables))


def _flush(row: list[tuple[FigureValues, FigureValues]], labels) -> None:
    if not row:
        return
    for column, (values, download) in zip(st.columns(2, gap="medium"), row):
        with column:
            _one(values, download, labels)


def _one(values: FigureValues, download: FigureValues, labels) -> None:
    """One figure: its chart (with the choices its kind offers), caption and download."""
    figure = values.figure
    key = f"{values.page}_{figure.id}"
    if figure.kind == "table":
        _listing(values, labels)
    elif figure.kind == "pace":
        tiles = fc.pace_tiles(values)
        for column, (label, value, note, help_text) in zip(st.columns(len(tiles) or 1), tiles):
            column.metric(as_markdown_text(label), value, note, delta_color="off", delta_arrow="off",
                          help=as_markdown_text(help_text), border=True)
        st.plotly_chart(fc.draw(values, labels), config=CONFIG, key=key)
    elif figure.kind == "funnel":
        years = sorted({int(y) for y in values.frame["year"]}, reverse=True)
        year = st.selectbox("Year", years, key=f"{key}_year", width=200) if years else None
        st.plotly_chart(fc.draw(values, labels, year=year), config=CONFIG, key=key)
    elif figure.kind == "parish_map" and len(values.series) > 1:
        names = {s.ref: as_markdown_text(s.label) for s in values.series}
        chosen = st.segmented_control("Shade the parishes by", list(names), default=values.series[0].ref,
                                      format_func=names.get, key=f"{key}_series") or values.series[0].ref
        st.plotly_chart(fc.draw(values, labels, series=chosen), config=CONFIG, key=key)
    elif figure.tabs:
        names = [f"By {dim_words(d)}" for d in figure.breakdowns]
        for tab, dim in zip(st.tabs(names), figure.breakdowns):
            tab.plotly_chart(fc.draw(values, labels, by=dim), config=CONFIG, key=f"{key}_{dim}")
    else:
        st.plotly_chart(fc.draw(values, labels), config=CONFIG, key=key)
    for problem in values.problems:
        st.warning(f"Part of this figure could not be computed: {problem}")
    if figure.caption:
        st.caption(as_markdown_text(figure.caption))
    if figure.kind != "table":
        # Made on click (downloads.py says why).
        st.download_button("Download CSV (suppressed)",
                           lambda: csvfile.csv_bytes(csvfile.figure_table(download, labels)),
                           file_name=f"cpc-{values.page}-{figure.id}.csv", mime="text/csv", key=f"{key}_csv",
                           icon=":material/download:", on_click="ignore")


def dim_words(dim: str) -> str:
    """'exploitation_type' -> 'exploitation type', as a tab says it."""
    return {"exploitation_type": "form of exploitation", "age_group": "age group"}.get(dim, dim.replace("_", " "))


def _listing(values: FigureValues, labels) -> None:
    """kind table: the rows listed, codes in words and dates as dates ('15 Nov 2022'), in a
    static table whose long texts wrap instead of being cut off."""
    st.markdown(f"**{as_markdown_text(values.figure.title)}**")
    rows = values.rows
    if rows is None or rows.empty:
        st.info("Nothing to list for these filters.")
        return
    st.table(as_markdown_frame(listing_frame(rows, labels)), hide_index=True)


def listing_frame(rows: pd.DataFrame, labels) -> pd.DataFrame:
    """A listing as people read it: codes in words (ids stay ids), dates as days, empty cells
    as '–', and headings in words."""
    shown = rows.copy()
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]) or column.endswith("_date"):
            shown[column] = shown[column].map(day_words)
        elif column in labels and not column.endswith("_id"):
            shown[column] = shown[column].map(lambda code, c=column: fc.label_of(labels, c, code))
    shown = shown.astype(object).where(shown.notna(), "–")
    return shown.rename(columns={c: c.replace("_", " ").capitalize().replace(" id", " ID") for c in shown.columns})
