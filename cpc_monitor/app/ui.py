"""The dashboard's Streamlit glue: where the files are, the sidebar filters, cached
evaluations and query batches, the page header and downloads.

The only module with Streamlit caching and shared widgets. Caches are keyed by the
database file's version stamp (db.version_stamp) and the indicator file's mtime, so a
swapped file is read afresh; no connection is ever kept: each cached batch opens one
short-lived read-only connection (stack.md, "DuckDB 2.0 across processes")."""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from cpc_monitor.store import codes, db

from cpc_monitor.present import csvfile as exports

from cpc_monitor.evaluation import privacy
from cpc_monitor.present.charts import code_label as label
from cpc_monitor.evaluation.engine import Evaluation, IndicatorResult, evaluate
from cpc_monitor.errors import CpcError
from cpc_monitor.definitions.indicators import Defaults, load_indicators
from cpc_monitor.evaluation.measures import Filters, source_columns

DB_ENV = "CPC_DB"  # names another database file (tests, benchmarks)
DEFAULT_DB = "data/cpc.duckdb"
INDICATORS_ENV = "CPC_INDICATORS"  # names another indicator file (tests load a broken one)
DEFAULT_INDICATORS = "indicators.yaml"
# Cached results kept per function: enough for a session's filter combinations, small in memory.
CACHE_ENTRIES = 64
EXPLORER_PAGE = "pages/indicators.py"
INDICATOR_KEY = "indicator"  # session-state key (and query parameter) of the explorer's indicator
SAFE_KEY = "filter_safe"
# Sidebar widgets: filter name -> (label, placeholder, options).
_CHOICES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "parish": ("Parish", "All parishes", codes.PARISHES),
    "sex": ("Sex", "All", codes.SEXES),
    "age_group": ("Age group", "All ages", codes.AGE_GROUPS),
    "exploitation_type": ("Form of exploitation", "All forms", codes.EXPLOITATION_TYPES),
}
FILTER_LABELS = {name: text for name, (text, _, _) in _CHOICES.items()}
# Shown on every page while the database says its data are synthetic.
SAMPLE_NOTICE = "SAMPLE DATA: synthetic, not real cases"
# Tables whose rows the pages count; the overview's header names them all.
EVENT_TABLES = ("cases", "victims", "prosecutions", "cfs_sessions", "trainings", "funding")


# ----------------------------------------------------------------------------- files


def db_path() -> Path:
    """The database file: $CPC_DB, else data/cpc.duckdb."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


def indicators_path() -> Path:
    """The indicator file: $CPC_INDICATORS, else indicators.yaml."""
    return Path(os.environ.get(INDICATORS_ENV) or DEFAULT_INDICATORS)


def ensure_database() -> Path:
    """Build the synthetic sample database on first run (never over an existing file)."""
    path = db_path()
    if not path.exists():
        from cpc_monitor.intake.sample import build_sample  # imported here: only a first run needs it

        with st.spinner(f"First run: building the sample database {path} (a few seconds) ..."):
            build_sample(path)
    return path


def _mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def _stamp(path: Path) -> int:
    """The database's version stamp; a page that finds no database says how to build one."""
    try:
        return db.version_stamp(path)
    except FileNotFoundError:
        st.error(f"The database {path} does not exist. Build the sample with "
                 f"`python -m cpc_monitor sample --db {path}`, or start the app with `streamlit run dashboard.py`.")
        st.stop()


# ----------------------------------------------------------------------------- filters


def sidebar_filters() -> tuple[Filters, bool]:
    """Draw the sidebar filters (year range, parish, sex, age group, form of exploitation,
    the presentation-safe switch) and return the Filters in force and whether numbers are safe.

    Called by dashboard.py on every run, so the widgets (keys `filter_*`, kept in
    st.session_state) persist across pages."""
    first, last = year_span()
    with st.sidebar:
        st.markdown("**Filters**")
        if first is not None and last is not None and first < last:
            st.slider("Years", first, last, (first, last), key="filter_years")
        for name, (text, placeholder, options) in _CHOICES.items():
            st.multiselect(text, options, format_func=label, placeholder=placeholder, key=f"filter_{name}")
        st.toggle("Presentation-safe numbers", key=SAFE_KEY,
                  help=f"Hide counts from 1 to {min_cell() - 1} (shown as \"<{min_cell()}\") and leave them "
                       "out of charts, for screens others can see. Downloads are always suppressed.")
    return current_filters()


def current_filters() -> tuple[Filters, bool]:
    """The Filters in force and the presentation-safe switch, as the sidebar last set them."""
    state = st.session_state
    first, last = year_span()
    years = state.get("filter_years")
    year_from = years[0] if years and first is not None and years[0] > first else None
    year_to = years[1] if years and last is not None and years[1] < last else None
    picked = {name: tuple(state.get(f"filter_{name}") or ()) for name in _CHOICES}
    return Filters(year_from=year_from, year_to=year_to, **picked), bool(state.get(SAFE_KEY, False))


def _key(filters: Filters) -> tuple:
    """Filters as a plain tuple, for cache keys."""
    return dataclasses.astuple(filters)


# ----------------------------------------------------------------------------- cached data


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


# ----------------------------------------------------------------------------- header


# Set by dashboard.py just before it runs a page: the page then knows the sidebar and the
# navigation exist. Opening /protection on a freshly started server makes Streamlit run the
# page file alone (its old pages/ folder mode, until st.navigation is first called).
ENTRY_MARK = "_cpc_entry_ran"


def mark_entry_script() -> None:
    """Called by dashboard.py before `page.run()`."""
    st.session_state[ENTRY_MARK] = True


def _require_entry_script() -> None:
    """Run again through dashboard.py when a page was started without it."""
    if not st.session_state.pop(ENTRY_MARK, False):
        # Calling st.navigation is Streamlit's own, public way out of the pages/ folder mode;
        # the rerun then starts at dashboard.py, which opens this page by its URL.
        from cpc_monitor.app import navigation

        st.navigation(navigation.pages())
        st.rerun()


def page_header(title: str, tables: Sequence[str], subtitle: str = "", filtered: bool = True) -> Evaluation:
    """The page title, the SAMPLE DATA notice while the data is synthetic, 'data to <date>',
    the source tables and which filters in force apply to which of them.

    `filtered=False` for a page whose figures cover every row whatever the sidebar says.
    Returns the evaluation under the filters in force (cached), which most pages need."""
    _require_entry_script()
    filters, _ = current_filters()
    ev = evaluation(filters)
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.subheader(title, anchor=False)
    if ev.synthetic:
        right.markdown(f":orange-badge[:material/warning: {SAMPLE_NOTICE}]", text_alignment="right")
    parts = [subtitle] if subtitle else []
    parts.append(f"data to {format_date(ev.as_of)}" if ev.as_of else "no event data yet")
    parts.append("source: " + ", ".join(tables))
    scope = filters_in_force(filters, tables) if filtered else "The sidebar's filters do not apply to this page."
    st.caption(" · ".join(parts) + "  \n" + scope)
    return ev


def format_date(day: date) -> str:
    """31 Dec 2025."""
    return f"{day.day} {day:%b %Y}"


def filters_in_force(filters: Filters, tables: Sequence[str]) -> str:
    """Which filters apply to which of `tables`, in words."""
    parts = []
    if filters.year_from is not None or filters.year_to is not None:
        parts.append(f"Years {filters.year_from or '…'}–{filters.year_to or '…'} (all tables)")
    columns = table_columns()
    for name, values in filters.column_values().items():
        shown = ", ".join(label(v) for v in values)
        applies = [t for t in tables if t in columns and name in source_columns(t, columns)]
        skipped = [t for t in tables if t not in applies]
        where = f"applies to {', '.join(applies)}" if applies else "applies to none of these tables"
        if applies and skipped:
            where += f"; not to {', '.join(skipped)} (no {FILTER_LABELS[name].lower()} column)"
        parts.append(f"{FILTER_LABELS[name]} {shown}: {where}")
    return "Filters: " + ("; ".join(parts) if parts else "none (all years, parishes, sexes, ages and forms)")


# ----------------------------------------------------------------------------- indicators


def open_indicator(indicator_id: str) -> None:
    """Open one indicator in the explorer."""
    st.session_state[INDICATOR_KEY] = indicator_id
    st.switch_page(EXPLORER_PAGE, query_params={INDICATOR_KEY: indicator_id})


def indicator_selector(ev: Evaluation, label_text: str = "Indicator") -> IndicatorResult | None:
    """A select box over the evaluated indicators (the one opened from the overview or the
    URL's ?indicator= first); returns the chosen result."""
    ids = [r.id for r in ev.results]
    if not ids:
        return None
    wanted = st.query_params.get(INDICATOR_KEY)
    if st.session_state.get(INDICATOR_KEY) not in ids:
        st.session_state[INDICATOR_KEY] = wanted if wanted in ids else ids[0]
    names = {r.id: f"{r.pillar.capitalize()} · {r.name}" for r in ev.results}
    chosen = st.selectbox(label_text, ids, format_func=names.get, key=INDICATOR_KEY)
    if wanted != chosen:
        st.query_params[INDICATOR_KEY] = chosen
    return ev.result(chosen)


# ----------------------------------------------------------------------------- tables and downloads


def _hidden_cells(frame: pd.DataFrame, counts: Sequence[str], within: Sequence[str], limit: int
                  ) -> dict[str, pd.Series]:
    """Per count column, which cells privacy.suppress hides (small counts, and a second cell
    of a breakdown where one hidden cell could be worked out from the total)."""
    key = ("part|" + frame[list(within)].astype(str).agg("|".join, axis=1)) if within else ""
    out = {}
    for column in counts:
        cells = pd.DataFrame({"year": 0, "dim": key, "group": "",
                              "value": frame[column].astype("float64")}, index=frame.index)
        out[column] = privacy.suppress(cells, limit, value_is_count=True)["suppressed"].astype(bool)
    return out


def download_csv(frame: pd.DataFrame, name: str, counts: Sequence[str] = (), within: Sequence[str] = (),
                 label_text: str = "Download CSV (suppressed)", key: str | None = None) -> None:
    """A CSV download of `frame`, ALWAYS suppressed whatever the presentation-safe switch says:
    the `counts` columns' values from 1 to min_cell-1 read "<5". `within`: columns whose
    equal values make one breakdown (e.g. ("year",)): where one hidden cell of it could be
    worked out from the total, a second is hidden too. Pass a frame that is already
    suppressed with no `counts`."""
    limit = min_cell()
    out = frame.copy()
    for column, hidden in _hidden_cells(frame, counts, within, limit).items():
        out[column] = out[column].astype(object).where(~hidden, f"<{limit}")
    st.download_button(label_text, exports.csv_bytes(out), file_name=f"{name}.csv",
                       mime="text/csv", key=key or f"download_{name}", icon=":material/download:",
                       on_click="ignore")


def download_result_csv(result: IndicatorResult, key: str | None = None) -> None:
    """One indicator's values as CSV, suppressed by privacy.result_values(result, True)."""
    limit = result.settings.min_cell if result.settings else min_cell()
    frame = privacy.result_values(result, True)
    is_count, parts = privacy.result_counts(result.unit, result.counted_kinds)
    table = exports.result_table(frame, (["value"] if is_count else []) + list(parts), limit)
    st.download_button("Download CSV (suppressed)", exports.csv_bytes(table),
                       file_name=f"{result.id}.csv", mime="text/csv", key=key or f"download_{result.id}",
                       icon=":material/download:", on_click="ignore")


# ----------------------------------------------------------------------------- pillar pages


def indicator_set():
    """The indicator file as loaded (cached per file version); stops the page when unusable."""
    path = indicators_path()
    try:
        return _indicator_set(str(path), _mtime(path))
    except CpcError as exc:
        st.error(f"The dashboard cannot read the indicator file: {exc}")
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


def pillar_status_box(ev: Evaluation, pillars: Sequence[str], safe: bool) -> None:
    """The pillars' indicators with their status in words, in a two-column box."""
    from cpc_monitor.present import charts

    lines = charts.status_lines(charts.status_strip(ev, tuple(pillars), safe,
                                                    {r.id: privacy.result_values(r, safe) for r in ev.results
                                                     if r.pillar in pillars}))
    with st.container(border=True):
        half = (len(lines) + 1) // 2
        for column, part in zip(st.columns(2, gap="medium"), (lines[:half], lines[half:])):
            column.markdown("  \n".join(part))
