"""Cached evaluations: every number a page shows comes from here, cached per database
version stamp (db.version_stamp), indicator-file mtime and filters, so a swapped file is
read afresh. No connection is kept: each cached batch opens one short-lived read-only
connection (stack.md, "DuckDB 2.0 across processes")."""
from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from cpc_monitor.app.settings import _mtime, _stamp, db_path, indicators_path
from cpc_monitor.definitions.indicators import Defaults, load_indicators
from cpc_monitor.errors import CpcError
from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import Evaluation, IndicatorResult, evaluate
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.store import db


# Cached results kept per function: enough for a session's filter combinations, small in memory.
CACHE_ENTRIES = 64


def _key(filters: Filters) -> tuple:
    """Filters as a plain tuple, for cache keys."""
    return dataclasses.astuple(filters)


def evaluation(filters: Filters = Filters()) -> Evaluation:
    """Every indicator's yearly totals evaluated under `filters` (cached per database
    version, indicator file version and filters). An unusable database or indicator file
    stops the page with the message saying how to fix it. Breakdowns: indicator_detail."""
    path, ind_path = db_path(), indicators_path()
    try:
        return _evaluation(str(path), _stamp(path), str(ind_path), _mtime(ind_path), _key(filters))
    except CpcError as exc:
        st.error(f"The dashboard cannot show the indicators: {exc}")
        st.stop()


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _evaluation(path: str, stamp: int, ind_path: str, ind_mtime: int, filters: tuple) -> Evaluation:
    # Totals only: what every page but the explorer shows, and several times faster.
    return evaluate(path, load_indicators(ind_path), filters=Filters(*filters), breakdowns=False)


def indicator_detail(filters: Filters, indicator_id: str) -> IndicatorResult | None:
    """One indicator with its totals and every breakdown, under `filters` (cached)."""
    path, ind_path = db_path(), indicators_path()
    try:
        return _detail(str(path), _stamp(path), str(ind_path), _mtime(ind_path), _key(filters), indicator_id)
    except CpcError as exc:
        st.error(f"The dashboard cannot show this indicator: {exc}")
        st.stop()


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _detail(path: str, stamp: int, ind_path: str, ind_mtime: int, filters: tuple, indicator_id: str
            ) -> IndicatorResult | None:
    ev = evaluate(path, load_indicators(ind_path), ids=[indicator_id], filters=Filters(*filters))
    return ev.result(indicator_id)


def shown_values(filters: Filters, safe: bool) -> dict[str, pd.DataFrame]:
    """privacy.result_values of every indicator under `filters` (suppressed when `safe`),
    by indicator id, cached like the evaluation. Call evaluation(filters) first."""
    path, ind_path = db_path(), indicators_path()
    return _shown_values(str(path), _stamp(path), str(ind_path), _mtime(ind_path), _key(filters), safe)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _shown_values(path: str, stamp: int, ind_path: str, ind_mtime: int, filters: tuple, safe: bool
                  ) -> dict[str, pd.DataFrame]:
    ev = _evaluation(path, stamp, ind_path, ind_mtime, filters)
    return {r.id: privacy.result_values(r, safe) for r in ev.results}


def year_span() -> tuple[int | None, int | None]:
    """The first and last year any indicator has a value for, without filters."""
    path, ind_path = db_path(), indicators_path()
    try:
        return _year_span(str(path), _stamp(path), str(ind_path), _mtime(ind_path))
    except CpcError:
        return None, None


@st.cache_data(max_entries=4, show_spinner=False)
def _year_span(path: str, stamp: int, ind_path: str, ind_mtime: int) -> tuple[int | None, int | None]:
    ev = _evaluation(path, stamp, ind_path, ind_mtime, _key(Filters()))
    years = [int(y) for r in ev.results if not r.values.empty for y in r.values["year"]]
    return (min(years), max(years)) if years else (None, None)


def table_columns() -> dict[str, tuple[str, ...]]:
    """Every table of the database with its columns (cached per database version)."""
    path = db_path()
    return _table_columns(str(path), _stamp(path))


@st.cache_data(max_entries=4, show_spinner=False)
def _table_columns(path: str, stamp: int) -> dict[str, tuple[str, ...]]:
    with db.reading(path) as con:
        return db.table_columns(con)


@st.cache_data(max_entries=4, show_spinner=False)
def _min_cell(ind_path: str, mtime: int) -> int:
    try:
        return load_indicators(ind_path).defaults.min_cell
    except CpcError:
        return Defaults().min_cell


def segments() -> dict[str, str]:
    """The indicator file's named segments (name -> SQL condition), for definitions in words."""
    path = indicators_path()
    return _segments(str(path), _mtime(path))


@st.cache_data(max_entries=4, show_spinner=False)
def _segments(ind_path: str, mtime: int) -> dict[str, str]:
    try:
        return dict(load_indicators(ind_path).segments)
    except CpcError:
        return {}


def min_cell() -> int:
    """The indicator file's min_cell (counts below it are suppressed)."""
    path = indicators_path()
    return _min_cell(str(path), _mtime(path))


def indicator_set():
    """The indicator file as loaded (cached per file version); stops the page when unusable."""
    path = indicators_path()
    try:
        return _indicator_set(str(path), _mtime(path))
    except CpcError as exc:
        st.error(f"The dashboard cannot read the indicator file: {exc} The last good version is in version "
                 f"control (`git checkout -- {path.name}`) or your own copy: put it back and reload the page.")
        st.stop()


@st.cache_data(max_entries=4, show_spinner=False)
def _indicator_set(ind_path: str, mtime: int):
    return load_indicators(ind_path)


def figure_values(page: str, filters: Filters, safe: bool) -> list:
    """The figures the indicator file declares for `page`, evaluated under `filters` and
    through privacy.suppress_figure (suppressed when `safe`; `safe=True` for downloads)."""
    path, ind_path = db_path(), indicators_path()
    try:
        return _figure_values(str(path), _stamp(path), str(ind_path), _mtime(ind_path), _key(filters), page, safe)
    except CpcError as exc:
        st.error(f"The dashboard cannot show this page's figures: {exc}")
        st.stop()


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _figure_values(path: str, stamp: int, ind_path: str, ind_mtime: int, filters: tuple, page: str, safe: bool
                   ) -> list:
    exact = _exact_figures(path, stamp, ind_path, ind_mtime, filters, page)
    return [privacy.suppress_figure(values, safe) for values in exact]


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _exact_figures(path: str, stamp: int, ind_path: str, ind_mtime: int, filters: tuple, page: str) -> list:
    from cpc_monitor.evaluation.figures import evaluate_page

    return evaluate_page(path, _indicator_set(ind_path, ind_mtime), page, Filters(*filters))


def briefing_pack(year: int | None, dialogue_id: str | None):
    """The briefing pack (present/briefing.py) for `year` and a dialogue, suppressed whatever
    the sidebar says, cached per database, indicator file and settings file version. A broken
    settings file, year or dialogue stops the page with the message saying how to fix it."""
    from cpc_monitor.present.branding import settings_path

    path, ind_path, settings = db_path(), indicators_path(), settings_path()
    try:
        return _briefing_pack(str(path), _stamp(path), str(ind_path), _mtime(ind_path), str(settings),
                              _mtime(settings), year, dialogue_id)
    except CpcError as exc:
        st.error(f"The briefing pack cannot be made: {exc}")
        st.stop()


@st.cache_data(max_entries=8, show_spinner="Making the briefing pack ...")
def _briefing_pack(path: str, stamp: int, ind_path: str, ind_mtime: int, settings: str, settings_mtime: int,
                   year: int | None, dialogue_id: str | None):
    from cpc_monitor.present import branding, briefing

    return briefing.load_pack(path, ind_path, branding.load_branding(settings if settings_mtime else None), year,
                              dialogue_id)
