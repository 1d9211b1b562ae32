"""Downloads: every CSV a page offers is suppressed, whatever the screen's switch says.

Each file is made when its button is clicked (a callable as `data`), not on every run: a file
made on a run is dropped when the next run ends, and the browser, which checks each file as
soon as it draws the button, then logged a 404 under load (benchmarks/load.py)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cpc_monitor.app.cache import min_cell
from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import IndicatorResult
from cpc_monitor.present import csvfile as exports


def download_csv(frame: pd.DataFrame, name: str, label_text: str = "Download CSV (suppressed)",
                 key: str | None = None) -> None:
    """A CSV download of `frame`, which the caller has already suppressed through privacy
    (downloads are suppressed whatever the presentation-safe switch says; this module never
    decides what to hide)."""
    st.download_button(label_text, lambda: exports.csv_bytes(frame), file_name=f"{name}.csv",
                       mime="text/csv", key=key or f"download_{name}", icon=":material/download:",
                       on_click="ignore")


def download_result_csv(result: IndicatorResult, key: str | None = None) -> None:
    """One indicator's values as CSV, suppressed by privacy.result_values(result, True)."""
    limit = result.settings.min_cell if result.settings else min_cell()
    frame = privacy.result_values(result, True)
    is_count, parts = privacy.result_counts(result.unit, result.counted_kinds)
    table = exports.result_table(frame, (["value"] if is_count else []) + list(parts), limit)
    st.download_button("Download CSV (suppressed)", lambda: exports.csv_bytes(table),
                       file_name=f"{result.id}.csv", mime="text/csv", key=key or f"download_{result.id}",
                       icon=":material/download:", on_click="ignore")
