"""Downloads: every CSV a page offers is suppressed, whatever the screen's switch says.

Each file is made when its button is clicked (a callable as `data`), not on every run: a file
made on a run is dropped when the next run ends, and the browser, which checks each file as
soon as it draws the button, then logged a 404 under load (benchmarks/load.py)."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from cpc_monitor.app.cache import min_cell
from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import IndicatorResult
from cpc_monitor.present import csvfile as exports


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
    st.download_button(label_text, lambda: exports.csv_bytes(out), file_name=f"{name}.csv",
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
