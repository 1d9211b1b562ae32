"""A map of a country's parishes (or districts) that draws with no internet: a tile grid laid out roughly
as the parishes lie on the island (plotly's geo base maps come from a CDN and draw blank
offline, stack.md). Each tile is shaded by its figure on a sequential, colour-blind-safe
scale with a colour bar, the figure is written in the tile ("<5" where suppressed), and
each child-friendly space is a marker in its parish's tile. Returns a figure; no Streamlit."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from cpc_monitor.present.charts import FONT
from cpc_monitor.present.formatting import as_chart_text, day_words, format_value

# ColorBrewer Blues (sequential, readable with any colour vision, prints in grey).
SCALE = [[0.0, "#F0F6FB"], [0.25, "#C6DBEF"], [0.5, "#6BAED6"], [0.75, "#2171B5"], [1.0, "#08306B"]]
HIDDEN_FILL = "#D5DAE0"  # a suppressed figure: neutral grey with "<5"
ABSENT_FILL = "#F7F8FA"  # a parish outside the filter
SPACE_COLOUR = "#D55E00"  # Okabe-Ito vermillion: stands out on every blue
TEXT_DARK, TEXT_LIGHT = "#1C2733", "#FFFFFF"
GAP = 0.04  # the white gap around each tile, in tile widths
MAP_HEIGHT = 430  # px: three rows of tiles, the title and the legend


def parish_map(values: pd.DataFrame, spaces: pd.DataFrame, title: str, value_label: str,
               min_cell: int, tiles: dict[str, tuple[int, int]], operators: dict[str, str] | None = None
               ) -> go.Figure:
    """The tile map. `values`: parish, value[, suppressed] (parishes missing are outside the
    filter); `spaces`: space_id, name, parish, operator, opened_date[, closed_date];
    `tiles`: parish -> (column, row) of its tile, and `operators`: code -> name, both from
    the indicator file."""
    title, value_label = as_chart_text(title), as_chart_text(value_label)  # the file's words, never markup
    grid = {parish: (int(cell[0]), int(cell[1])) for parish, cell in tiles.items()}
    figures = _figures(values, grid)
    known = [v for v, hidden in figures.values() if v is not None and not hidden]
    top = max(known) if known and max(known) > 0 else 1.0
    shapes, annotations = [], []
    hover_x, hover_y, hover_text = [], [], []
    for parish, (col, row) in grid.items():
        value, hidden = figures.get(parish, (None, False))
        absent = parish not in figures
        if absent:
            fill, shown, ink = ABSENT_FILL, "–", "#6B7785"
        elif hidden:
            fill, shown, ink = HIDDEN_FILL, f"<{min_cell}", TEXT_DARK
        else:
            level = min(max((value or 0) / top, 0.0), 1.0)
            fill = sample_colorscale(SCALE, [level])[0]
            shown, ink = format_value(value, "count"), TEXT_LIGHT if level > 0.45 else TEXT_DARK
        shapes.append({"type": "rect", "x0": col + GAP, "x1": col + 1 - GAP, "y0": row + GAP, "y1": row + 1 - GAP,
                       "xref": "x", "yref": "y", "fillcolor": fill, "layer": "below", "name": parish,
                       "line": {"color": "#AEB7C2" if absent else fill, "width": 1}})
        annotations.append({"x": col + 0.5, "y": row + 0.36, "xref": "x", "yref": "y", "showarrow": False,
                            "text": f"{parish}<br><span style='font-size:20px'><b>{shown}</b></span>",
                            "font": {"color": ink, "size": 13}, "align": "center", "name": parish})
        hover_x.append(col + 0.5)
        hover_y.append(row + 0.5)
        hover_text.append(f"<b>{parish}</b><br>{value_label}: {'not in the filter' if absent else shown}")
    traces = [{"type": "scatter", "x": hover_x, "y": hover_y, "mode": "markers", "name": "parishes",
               "marker": {"size": 40, "opacity": 0}, "text": hover_text, "showlegend": False,
               "hovertemplate": "%{text}<extra></extra>"}]
    traces += _space_traces(spaces, grid, operators or {})
    traces.append({  # the colour bar: a marker no one sees
        "type": "scatter", "x": [None], "y": [None], "mode": "markers", "showlegend": False, "hoverinfo": "skip",
        "name": "scale",
        "marker": {"color": [0, top], "cmin": 0, "cmax": top, "colorscale": SCALE, "showscale": True,
                   "colorbar": {"title": {"text": value_label, "side": "right"}, "thickness": 14, "len": 0.85,
                                "outlinewidth": 0, "tickformat": ",d" if top >= 5 else ",.1f"}}})
    if any(hidden for _, hidden in figures.values()):
        traces.append(_legend_square(HIDDEN_FILL, f"Fewer than {min_cell} (hidden)"))
    if len(figures) < len(grid):
        traces.append(_legend_square(ABSENT_FILL, "Not in the parish filter"))
    width = max(c for c, _ in grid.values()) + 1
    height = max(r for _, r in grid.values()) + 1
    layout = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 17}},
        "font": {"family": FONT, "size": 13, "color": TEXT_DARK}, "annotations": annotations, "shapes": shapes,
        "height": MAP_HEIGHT, "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "plot_bgcolor": "white", "paper_bgcolor": "white", "hovermode": "closest", "hoverdistance": 60,
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0, "title": {"text": ""}},
        "xaxis": {"range": [-0.05, width + 0.05], "visible": False, "fixedrange": True},
        "yaxis": {"range": [height + 0.05, -0.05], "visible": False, "fixedrange": True},
    }
    # Built as plain dicts and wrapped once without per-property validation (speed; the
    # tests validate the figure in full), as figure_charts does.
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


def _legend_square(colour: str, name: str) -> dict:
    """A legend entry (a square of `colour`) with no marks on the map."""
    return {"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": name, "hoverinfo": "skip",
            "marker": {"symbol": "square", "size": 14, "color": colour, "line": {"color": "#AEB7C2", "width": 1}}}


def _figures(values: pd.DataFrame, grid: dict) -> dict[str, tuple[float | None, bool]]:
    """parish -> (value, suppressed) for the parishes in `values`."""
    out = {}
    for row in values.itertuples(index=False):
        parish = getattr(row, "parish")
        if parish not in grid:
            continue
        value = getattr(row, "value")
        value = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
        hidden = bool(getattr(row, "suppressed", False))
        out[parish] = (value, hidden or value is None)
    return out


def _space_traces(spaces: pd.DataFrame, grid: dict, operators: dict[str, str]) -> list[dict]:
    """One marker per child-friendly space, side by side along the bottom of its parish's tile."""
    xs, ys, text = [], [], []
    for parish, group in spaces.groupby("parish", sort=False):
        if parish not in grid:
            continue
        col, row = grid[parish]
        n = len(group)
        step = min(0.14, 0.8 / max(n, 1))
        for i, space in enumerate(group.itertuples(index=False)):
            xs.append(col + 0.5 + (i - (n - 1) / 2) * step)
            ys.append(row + 0.8)
            text.append(_space_hover(space, operators))
    if not xs:
        return []
    return [{"type": "scatter", "x": xs, "y": ys, "mode": "markers", "name": "Child-friendly space", "text": text,
             "hovertemplate": "%{text}<extra></extra>",
             "marker": {"symbol": "diamond", "size": 13, "color": SPACE_COLOUR,
                        "line": {"color": "white", "width": 1.5}}}]


def _space_hover(space, operators: dict[str, str]) -> str:
    """Name, operator and opening date of one space, for its marker's hover."""
    name = getattr(space, "name", None) or getattr(space, "space_id", "")
    code = getattr(space, "operator", None) or ""
    operator = operators.get(code, code or "–")
    opened = getattr(space, "opened_date", None)
    closed = getattr(space, "closed_date", None)
    lines = [f"<b>{as_chart_text(name)}</b>", f"Operator: {as_chart_text(operator)}", f"Opened: {(day_words(opened) or 'not recorded')}"]
    if closed is not None and not pd.isna(closed):
        lines.append(f"Closed: {day_words(closed)}")
    return "<br>".join(lines)


def _legend_square(colour: str, name: str) -> dict:
    """A legend entry (a square of `colour`) with no marks on the map."""
    return {"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": name, "hoverinfo": "skip",
            "marker": {"symbol": "square", "size": 14, "color": colour, "line": {"color": "#AEB7C2", "width": 1}}}
