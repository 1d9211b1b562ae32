"""Draw a declared figure (evaluation.figures.FigureValues, already through privacy) by its
kind: bar, stacked bar, line, funnel, heatmap, box, parish map, pace. Every number on a
chart, in its title or hover, is a cell of the frame it is given: hidden cells are gaps
marked "<5", never zeros. Titles are the file's title and a finding built from the shown
cells; the reference line is an indicator's target. Returns plotly figures; no Streamlit.

Figures are built as plain dicts and wrapped once without plotly's per-property
validation (a page draws a dozen charts); the tests validate every figure in full."""
from __future__ import annotations

import copy
import functools
import math

import pandas as pd
import plotly.graph_objects as go

from cpc_monitor.evaluation.figures import FigureValues, SeriesInfo
from cpc_monitor.present.charts import AXIS_TITLES, CHART_HEIGHT, LEGEND_ROW_PX, OKABE_ITO, _layout, code_label
from cpc_monitor.present.formatting import as_chart_text, format_usd, format_value, is_missing
from cpc_monitor.present.parish_map import HIDDEN_FILL, SCALE, parish_map

GREY = "#AEB7C2"  # groups that are the rest ("unknown", "not recorded"), in a quiet grey
DARK = "#3B4A5A"  # reference lines and totals: dark slate, distinct from the data
MUTED = "#6B7785"  # notes written on a chart
BLUES = ("#DEEBF7", "#9ECAE1", "#6BAED6", "#2171B5", "#08306B")  # ordered bands, light to dark
TITLE_CHARS = 52  # characters of a title line in a half-width chart at 1280 px
FULL_TITLE_CHARS = 110
LEGEND_WIDTH = 470  # px a legend row has in a half-width chart
_HOVER = "%{x} · %{fullData.name}: %{customdata}<extra></extra>"
# Groups that mean "the rest": drawn grey whatever the order.
REST = ("unknown", "not recorded", "not referred", "other", "pending")


# ----------------------------------------------------------------------------- words


def label_of(labels: dict[str, dict[str, str]], dim: str, code: object) -> str:
    """A group as people read it: the file's label for it, else the code in plain words."""
    text = str(code)
    return labels.get(dim, {}).get(text) or (text[:1].upper() + text[1:] if " " in text else code_label(text))


def shown(value: float | None, unit: str, hidden: bool = False, min_cell: int | None = None) -> str:
    """A value as a chart writes it: 1,234 · 71% · US$1.2m · "<5" where hidden."""
    return format_value(value, unit, suppressed=bool(hidden), min_cell=min_cell)


def _series_unit(info: SeriesInfo) -> str:
    return info.unit if info.unit in AXIS_TITLES else "count"


def trend(points: list[tuple], unit: str, min_cell: int, running: bool = False) -> str:
    """What a series did, in words true of every point the chart shows: the latest value,
    the peak where it differs ("1 in 2025; peak 2 in 2021–2024"), and the periods hidden.

    `points`: (x, value, hidden[, below]); `below` bounds a hidden value (a hidden count is
    below min_cell; a total withheld because a part of it is hidden has no bound, None).
    A hidden point is never read as 0 nor named as a number, and a peak is claimed only
    where every hidden point is surely below it. A running total (`running`) is said as
    what it had reached ("3,942 by 2025"): its peak is its latest value by construction."""
    pts = []
    for point in points:
        x, value, hidden = point[:3]
        below = point[3] if len(point) > 3 else (min_cell if unit == "count" else None)
        if hidden:
            pts.append((x, None, True, below))
        elif value is not None and not is_missing(value):
            pts.append((x, float(value), False, None))
    if not pts:
        return ""
    fmt = (lambda v: shown(v, unit, min_cell=min_cell))  # noqa: E731
    none = (lambda v: unit == "count" and math.isclose(v, 0.0))  # noqa: E731
    known = [(x, v) for x, v, hidden, _ in pts if not hidden]
    hidden = [(x, below) for x, _, h, below in pts if h]
    first_x, (last_x, last_v, last_hidden, last_below) = pts[0][0], pts[-1]
    if not hidden and len(known) >= 2 and all(math.isclose(v, known[0][1]) for _, v in known) and not running:
        value = known[0][1]
        return (f"none in any year from {first_x} to {last_x}" if none(value)
                else f"{fmt(value)} every year from {first_x} to {last_x}")
    order = [p[0] for p in points]  # every period, empty ones too: a run is a run of periods
    words = []
    if last_hidden:
        words.append(f"<{min_cell} in {last_x}" if last_below == min_cell else f"hidden in {last_x}")
    elif running:
        words.append(f"{fmt(last_v)} by {last_x}")
    else:
        words.append(f"none in {last_x}" if none(last_v) else f"{fmt(last_v)} in {last_x}")
    if known and len(pts) >= 2 and not running:
        peak = max(v for _, v in known)
        surely = all(below is not None and peak >= below for _, below in hidden)
        at = [x for x, v in known if math.isclose(v, peak)]
        if peak > 0 and surely:
            if last_hidden or last_v < peak:
                words.append(f"peak {fmt(peak)} in {_periods(at, order)}")
            elif len(at) == 1:
                words[0] += f", the {'most' if unit == 'count' else 'highest'} since {first_x}"
            else:
                words[0] += f", matching the peak of {_periods(at[:-1], order)}"
    earlier = hidden[:-1] if last_hidden else hidden
    small = [x for x, below in earlier if below == min_cell]
    withheld = [x for x, below in earlier if below != min_cell]
    again = " also" if last_hidden else ""
    if small:
        words.append(f"<{min_cell}{again if last_below == min_cell else ''} in {_periods(small, order)}")
    if withheld:
        words.append(f"hidden{again if last_below != min_cell else ''} in {_periods(withheld, order)}")
    return "; ".join(words)


def _periods(chosen: list, order: list) -> str:
    """Periods as a phrase: '2021', '2021–2024' (a run of three or more), '2015 and
    2021–2023', '2019, 2020 and 2023'; more than three items: 'several years'."""
    runs: list[list] = []
    for x in chosen:
        if runs and order.index(x) == order.index(runs[-1][-1]) + 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    words = [w for run in runs for w in ([f"{run[0]}–{run[-1]}"] if len(run) > 2 else [str(x) for x in run])]
    if len(words) > 3:
        return "several years" if all(str(x).isdigit() for x in chosen) else "several periods"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" and {words[-1]}"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_words(period: object) -> str:
    """A period as people say it: '2025-04' -> 'Apr 2025', '2024-Q1' -> '2024 Q1', years as they are."""
    text = str(period)
    if len(text) == 7 and text[4] == "-" and text[5:].isdigit():
        return f"{MONTHS[int(text[5:]) - 1]} {text[:4]}"
    return text.replace("-Q", " Q")


def _points(rows: pd.DataFrame) -> list[tuple[object, float | None, bool]]:
    return [(period_words(p), None if is_missing(v) else float(v), bool(h))
            for p, v, h in zip(rows["period"], rows["value"], rows["suppressed"])]


def _totals(values: FigureValues, ref: str) -> pd.DataFrame:
    rows = values.of(ref)
    return rows[rows["dim"] == ""].sort_values("period").reset_index(drop=True)


# ----------------------------------------------------------------------------- layout


@functools.cache
def _base_layout() -> dict:
    layout = _layout(go.Figure(), "", "", "").to_dict()["layout"]
    layout.pop("template", None)
    return layout


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _wrap(text: str, width: int) -> tuple[str, int]:
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines), len(lines)


def _figure(traces: list[dict], title: str, x_title: str, y_title: str, layout: dict | None = None,
            height: int = CHART_HEIGHT, legend: bool = True, full: bool = False) -> go.Figure:
    """A figure in the overview's look: the title wrapped to the chart's width, the legend
    below the x-axis title with room made for its rows."""
    text, lines = _wrap(as_chart_text(title), FULL_TITLE_CHARS if full else TITLE_CHARS)
    for trace in traces:  # names come from the indicator file: shown as typed, never as markup
        if trace.get("name"):
            trace["name"] = as_chart_text(trace["name"])
    names = [t.get("name", "") for t in traces if t.get("showlegend", True) and t.get("name")]
    width = LEGEND_WIDTH * (2 if full else 1)
    rows = 1 + sum(len(n) + 6 for n in names) * 7 // width if legend and names else 0
    extra = LEGEND_ROW_PX * rows + 21 * (lines - 1)
    own = {
        "title": {"text": text, "y": 1 - (8 + 21 * (lines - 1)) / (height + extra), "yref": "container",
                  "yanchor": "top"},
        "height": height + extra, "margin": {"t": 50 + 21 * (lines - 1), "b": 10 + LEGEND_ROW_PX * rows},
        "hovermode": "closest", "showlegend": bool(rows),
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0, "xanchor": "left",
                   "traceorder": "normal", "font": {"size": 12}},
        "xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}},
    }
    spec = _merge(_merge(copy.deepcopy(_base_layout()), own), layout or {})
    return go.Figure({"data": traces, "layout": spec}, _validate=False)


def _note(text: str) -> dict:
    return {"annotations": [{"text": text, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper", "showarrow": False,
                             "font": {"size": 15, "color": MUTED}}],
            "xaxis": {"visible": False}, "yaxis": {"visible": False}}


def _reference(values: FigureValues, unit: str) -> dict:
    """The reference indicator's last target as a dashed line, labelled with its year and value."""
    if not values.reference:
        return {}
    year, value = values.reference[-1]
    shape = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": value, "y1": value,
             "line": {"color": DARK, "width": 1.5, "dash": "dash"}}
    note = {"xref": "paper", "x": 0, "yref": "y", "y": value, "text": f"{year} target {shown(value, unit)}",
            "showarrow": False, "xanchor": "left", "yanchor": "bottom", "font": {"size": 12, "color": DARK}}
    return {"shapes": [shape], "annotations": [note]}


def _x(values: FigureValues, periods) -> list:
    """The x values of periods: years as numbers, quarters and months as their first day."""
    grain = values.figure.grain
    if grain == "quarter":
        return [f"{p[:4]}-{(int(p[-1]) - 1) * 3 + 1:02d}-01" for p in periods]
    if grain == "month":
        return [f"{p}-01" for p in periods]
    return [int(p) if str(p).isdigit() else p for p in periods]


def _x_axis(values: FigureValues, periods) -> dict:
    if values.figure.grain in ("quarter", "month"):
        return {"type": "date", "tickformat": "%Y" if values.figure.grain == "quarter" else "%b %Y"}
    count = len(set(periods))
    return {"tickformat": "d", "dtick": 1 if count <= 12 else 2, "type": "linear"}


def _y_axis(unit: str, top: float) -> dict:
    if unit in ("usd", "jmd"):
        step = next((s for s in (10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000,
                                 10_000_000) if top / s <= 4), 20_000_000)
        ticks = [step * i for i in range(int(top // step) + 2)]
        sign = "J$" if unit == "jmd" else "US$"
        return {"tickmode": "array", "tickvals": ticks, "ticktext": [format_usd(t, sign) for t in ticks],
                "range": [0, max(top * 1.12, 1)]}
    if unit == "percent":
        return {"ticksuffix": "%", "range": [0, max(105.0, top * 1.12)]}
    axis = {"range": [0, max(top * 1.15, top + 0.6, 1)]}
    if unit == "count":
        axis["tickformat"] = ",d"
        if top <= 10:
            axis["dtick"] = 1
    return axis


def _top(frames: list[pd.DataFrame], column: str = "value") -> float:
    tops = [float(f[column].max()) for f in frames if not f.empty and f[column].notna().any()]
    return max(tops) if tops else 0.0


def _colour(group: str, i: int, order: list[str], banded: bool) -> str:
    if group in REST:
        return GREY
    if banded:
        return BLUES[min(i, len(BLUES) - 1)] if len(order) <= len(BLUES) + 1 else OKABE_ITO[i % len(OKABE_ITO)]
    return OKABE_ITO[i % len(OKABE_ITO)]


def _hidden_marks(x: list, hidden: list[bool], min_cell: int) -> list[dict]:
    """'<5' written where a hidden value would stand: a gap, never a zero."""
    xs = [xv for xv, h in zip(x, hidden) if h]
    if not xs:
        return []
    return [{"type": "scatter", "mode": "text", "x": xs, "y": [0] * len(xs), "text": [f"<{min_cell}"] * len(xs),
             "textposition": "top center", "showlegend": False, "hoverinfo": "skip",
             "textfont": {"size": 11, "color": MUTED}, "cliponaxis": False}]


# ----------------------------------------------------------------------------- kinds


def draw(values: FigureValues, labels: dict[str, dict[str, str]], by: str | None = None,
         year: int | None = None, series: str | None = None) -> go.Figure:
    """The figure of `values` as its kind draws it. `by`: the breakdown chosen (a tab);
    `year`: the year a funnel shows; `series`: the series a map shades."""
    figure = values.figure
    labels = values.labels(labels)
    if values.frame.empty or not values.series:
        why = "; ".join(values.problems) or "Nothing recorded for these filters"
        return _figure([], figure.title, "", "", _note(why), legend=False, full=figure.width == "full")
    kind = figure.kind
    if kind == "funnel":
        return _funnel(values, labels, year)
    if kind == "box":
        return _box(values)
    if kind == "heatmap":
        return _heatmap(values, labels)
    if kind == "parish_map":
        return _map(values, labels, series)
    dim = by if by is not None else figure.by
    if figure.grain == "period":
        return _bars_by_group(values, labels, dim)
    if kind == "line" or kind == "pace":
        return _lines(values, labels, dim)
    if dim:
        return _stacked(values, labels, dim)
    return _bars(values)


def _title(values: FigureValues, finding: str, sep: str = ": ") -> str:
    return f"{values.figure.title}{sep}{finding}" if finding else values.figure.title


def _y_title(values: FigureValues, info: SeriesInfo) -> str:
    """The value axis: a running total says so; a count per quarter or month says its period."""
    unit = _series_unit(info)
    if info.cumulative:
        return "Running total" if unit == "count" else f"{AXIS_TITLES.get(unit, '')}, running total"
    if unit == "count" and values.figure.grain in ("quarter", "month"):
        return f"Number in the {values.figure.grain}"
    return AXIS_TITLES.get(unit, "")


def _bars(values: FigureValues) -> go.Figure:
    """One bar per period for each series (side by side), the value written on each."""
    traces, frames = [], []
    unit = _series_unit(values.series[0])
    for i, info in enumerate(values.series):
        rows = _totals(values, info.ref)
        frames.append(rows)
        x = _x(values, rows["period"])
        text = [shown(v, unit, h, values.min_cell) for v, h in zip(rows["value"], rows["suppressed"])]
        traces.append({"type": "bar", "x": x, "y": rows["value"].tolist(), "name": info.label,
                       "marker": {"color": OKABE_ITO[i % len(OKABE_ITO)]},
                       "text": text if len(rows) <= 16 else None, "textposition": "outside", "cliponaxis": False,
                       "customdata": text, "hovertemplate": _HOVER})
        traces += _hidden_marks(x, rows["suppressed"].tolist(), values.min_cell)
    first = frames[0]
    finding = trend(_points(first), unit, values.min_cell, values.series[0].cumulative)
    if values.figure.grain in ("quarter", "month"):  # flows per period: the peak says more than two ends
        known = first[first["value"].notna() & ~first["suppressed"]]
        finding = ""
        if not known.empty and known["value"].max() > 0:
            peak = known.loc[known["value"].idxmax()]
            finding = (f"peaked at {shown(peak['value'], unit, min_cell=values.min_cell)} in "
                       f"{period_words(peak['period'])}")
    layout = _merge({"barmode": "group", "bargap": 0.2, "xaxis": _x_axis(values, first["period"]),
                     "yaxis": _y_axis(unit, max(_top(frames), values.reference[-1][1] if values.reference else 0))},
                    _reference(values, unit))
    return _figure(traces, _title(values, finding), _x_title(values), _y_title(values, values.series[0]), layout,
                   legend=len(values.series) > 1, full=values.figure.width == "full")


def _x_title(values: FigureValues) -> str:
    return {"quarter": "Quarter", "month": "Month"}.get(values.figure.grain, "Year")


def _stacked(values: FigureValues, labels, dim: str) -> go.Figure:
    """The first series' breakdown stacked by period, its total written on top. A stack
    whose every part is hidden is drawn as one grey bar of its total ("parts hidden"); a
    stack partly hidden has no total written on it nor stated in the title: the gap between
    the parts shown and the total would give the hidden parts' sum back."""
    info = values.series[0]
    unit = _series_unit(info)
    rows = values.of(info.ref)
    parts = rows[rows["dim"] == dim].sort_values("period")
    totals = rows[rows["dim"] == ""].sort_values("period").reset_index(drop=True)
    order = values.groups.get(dim, [])
    visible = parts["value"].fillna(0) > 0
    present = [g for g in order if ((parts["group"] == g) & visible).any()]
    banded = dim in labels.get("_banded", {}) or dim.endswith("_band")
    traces = []
    for i, group in enumerate(present):
        part = parts[parts["group"] == group]
        text = [shown(v, unit, h, values.min_cell) for v, h in zip(part["value"], part["suppressed"])]
        traces.append({"type": "bar", "x": _x(values, part["period"]), "y": part["value"].tolist(),
                       "name": label_of(labels, dim, group), "marker": {"color": _colour(group, i, present, banded),
                                                                        "line": {"width": 0}},
                       "customdata": text, "hovertemplate": _HOVER})
    part_hidden = set(parts.loc[parts["suppressed"].astype(bool), "period"])
    part_shown = set(parts.loc[visible, "period"])
    total_shown = ~totals["suppressed"].astype(bool) & totals["value"].fillna(0).gt(0)
    withheld = [p in part_hidden and p in part_shown and s for p, s in zip(totals["period"], total_shown)]
    all_hidden = [p in part_hidden and p not in part_shown and s for p, s in zip(totals["period"], total_shown)]
    heights = parts.groupby("period")["value"].sum(min_count=0)
    heights = {p: (float(v) if a else float(heights.get(p, 0.0)))
               for p, v, a in zip(totals["period"], totals["value"], all_hidden)}
    x = _x(values, totals["period"])
    if any(all_hidden):
        y = [float(v) if a else None for v, a in zip(totals["value"], all_hidden)]
        traces.append({"type": "bar", "x": x, "y": y, "name": "Parts hidden",
                       "marker": {"color": HIDDEN_FILL, "line": {"color": GREY, "width": 1}},
                       "customdata": [shown(v, unit) if a else "" for v, a in zip(totals["value"], all_hidden)],
                       "hovertemplate": "%{x} · total %{customdata}, its parts hidden<extra></extra>"})
    traces.append({"type": "scatter", "mode": "text", "x": x, "y": [heights.get(p, 0.0) for p in totals["period"]],
                   "text": ["" if w else shown(v, unit, h, values.min_cell) if (v or h) else ""
                            for v, h, w in zip(totals["value"], totals["suppressed"], withheld)],
                   "textposition": "top center", "showlegend": False, "hoverinfo": "skip",
                   "textfont": {"size": 12, "color": DARK}, "cliponaxis": False})
    points = [(period_words(p), None if is_missing(v) or w else float(v), bool(h) or w,
               None if w else (values.min_cell if unit == "count" else None))
              for p, v, h, w in zip(totals["period"], totals["value"], totals["suppressed"], withheld)]
    finding = trend(points, unit, values.min_cell, info.cumulative)
    layout = {"barmode": "stack", "bargap": 0.25, "xaxis": _x_axis(values, totals["period"]),
              "yaxis": _y_axis(unit, max(heights.values(), default=0.0))}
    if not visible.any() and not any(all_hidden):
        hidden_all = bool(parts["suppressed"].any() or totals["suppressed"].any())
        why = (f"Every count here is below {values.min_cell}: hidden in presentation-safe mode" if hidden_all
               else "Nothing recorded for these filters")
        return _figure([], _title(values, ""), "", "", _merge(layout, _note(why)), legend=False)
    return _figure(traces, _title(values, finding), _x_title(values), _y_title(values, info), layout,
                   full=values.figure.width == "full")


def _lines(values: FigureValues, labels, dim: str | None) -> go.Figure:
    """A line per series (its total), or the first series' total and each group of `dim`;
    a hidden point breaks the line and is marked "<5"."""
    traces, frames = [], []
    unit = _series_unit(values.series[0])
    lines: list[tuple[str, pd.DataFrame, str, float]] = []
    if dim:
        info = values.series[0]
        rows = values.of(info.ref)
        lines.append((info.label, rows[rows["dim"] == ""].sort_values("period"), DARK, 3.0))
        for i, group in enumerate(values.groups.get(dim, [])):
            part = rows[(rows["dim"] == dim) & (rows["group"] == group)].sort_values("period")
            if (part["value"].fillna(0) > 0).any() or part["suppressed"].any():
                lines.append((label_of(labels, dim, group), part, OKABE_ITO[i % len(OKABE_ITO)], 2.0))
    else:
        for i, info in enumerate(values.series):
            lines.append((info.label, _totals(values, info.ref), OKABE_ITO[i % len(OKABE_ITO)], 3.0 if i == 0 else 2.0))
    for name, rows, colour, width in lines:
        frames.append(rows)
        x = _x(values, rows["period"])
        text = [shown(v, unit, h, values.min_cell) for v, h in zip(rows["value"], rows["suppressed"])]
        traces.append({"type": "scatter", "mode": "lines+markers" if len(rows) <= 24 else "lines", "x": x,
                       "y": rows["value"].tolist(), "name": name, "connectgaps": False,
                       "line": {"color": colour, "width": width, "shape": "hv" if values.figure.grain == "quarter"
                                else "linear"},
                       "customdata": text, "hovertemplate": _HOVER})
        traces += _hidden_marks(x, rows["suppressed"].tolist(), values.min_cell)
    first = frames[0]
    finding = trend(_points(first), unit, values.min_cell, values.series[0].cumulative)
    top = max(_top(frames), values.reference[-1][1] if values.reference else 0.0)
    layout = _merge({"xaxis": _x_axis(values, first["period"]), "yaxis": _y_axis(unit, top)},
                    _reference(values, unit))
    return _figure(traces, _title(values, finding), _x_title(values), _y_title(values, values.series[0]), layout,
                   legend=len(lines) > 1, full=values.figure.width == "full")


def _bars_by_group(values: FigureValues, labels, dim: str | None) -> go.Figure:
    """Over the whole period: a horizontal bar per group for each series."""
    traces, frames = [], []
    unit = _series_unit(values.series[0])
    order = values.groups.get(dim or "", [])
    period = str(values.frame["period"].iloc[0]) if not values.frame.empty else ""
    if dim:  # groups with nothing in any series (a partner with no US money) are left out
        cells = values.frame[values.frame["dim"] == dim]
        order = [g for g in order if ((cells["group"] == g) & ((cells["value"].fillna(0) != 0) | cells["suppressed"])).any()]
    for i, info in enumerate(values.series):
        rows = values.of(info.ref)
        rows = rows[rows["dim"] == (dim or "")].set_index("group").reindex(order if dim else [""]).reset_index()
        frames.append(rows)
        text = [shown(v, unit, h, values.min_cell) for v, h in zip(rows["value"], rows["suppressed"].fillna(False))]
        traces.append({"type": "bar", "orientation": "h",
                       "y": [as_chart_text(label_of(labels, dim or "", g)) for g in rows["group"]],
                       "x": rows["value"].tolist(), "name": info.label,
                       "marker": {"color": [DARK, OKABE_ITO[0]][i % 2] if len(values.series) > 1 else OKABE_ITO[0]},
                       "text": text, "textposition": "outside", "cliponaxis": False,
                       "hovertemplate": "%{y} · %{fullData.name}: %{text}<extra></extra>"})
    first = frames[0].dropna(subset=["value"])
    finding = ""
    if not first.empty:
        top = first.sort_values("value", ascending=False).iloc[0]
        finding = (f"{period}: the most in {label_of(labels, dim or '', top['group'])} "
                   f"({shown(top['value'], unit, min_cell=values.min_cell)})")
    top_value = _top(frames)
    xaxis = _merge({"showgrid": True, "gridcolor": "#E6E9ED"}, _y_axis(unit, top_value * 1.1) if top_value else {})
    layout = {"barmode": "group", "margin": {"r": 60}, "xaxis": xaxis,
              "yaxis": {"autorange": "reversed", "rangemode": "normal", "showgrid": False, "automargin": True}}
    title = f"{values.figure.title}, {finding}" if finding else values.figure.title
    axis = "Number" if unit == "count" else AXIS_TITLES.get(unit, "")
    return _figure(traces, title, f"{axis}, {period}", "", layout,
                   height=max(260, 40 * len(order) * max(1, len(values.series)) // 2 + 140),
                   legend=len(values.series) > 1, full=values.figure.width == "full")


def _funnel(values: FigureValues, labels, year: int | None) -> go.Figure:
    """The series as stages of one year, each as a share of the first."""
    years = sorted(int(y) for y in values.frame["year"].unique())
    year = year if year in years else (years[-1] if years else None)
    stages = []
    for info in values.series:
        rows = _totals(values, info.ref)
        row = rows[rows["year"] == year]
        v = None if row.empty or is_missing(row["value"].iloc[0]) else float(row["value"].iloc[0])
        stages.append((info.label, v, bool(row["suppressed"].iloc[0]) if not row.empty else False))
    first = stages[0][1]
    text = [shown(v, "count", h, values.min_cell) + (f" ({v / first:.0%} of the first)" if i and v is not None
                                                      and not h and first else "")
            for i, (_, v, h) in enumerate(stages)]
    trace = {"type": "funnel", "y": [as_chart_text(s[0]) for s in stages], "x": [s[1] or 0 for s in stages], "text": text,
             "textinfo": "text", "textposition": "outside", "cliponaxis": False,
             "marker": {"color": [OKABE_ITO[(3, 0, 4)[i % 3]] for i in range(len(stages))]},
             "connector": {"fillcolor": "#EEF1F4"}, "hovertemplate": "%{y}: %{text}<extra></extra>"}
    finding = ", ".join(f"{shown(v, 'count', h, values.min_cell)} {name[:1].lower() + name[1:]}"
                        for name, v, h in stages)
    return _figure([trace], f"{values.figure.title}, {year}: {finding}", "", "", {"margin": {"r": 170}, "yaxis": {"rangemode": "normal"}},
                   legend=False)


def _box(values: FigureValues) -> go.Figure:
    """A box per year: shortest, quartiles, median, longest; n under each year."""
    info = values.series[0]
    unit = _series_unit(info)
    rows = _totals(values, info.ref)
    known = rows[rows["median"].notna()]
    traces = []
    if not known.empty:
        traces.append({"type": "box", "x": known["year"].tolist(), "q1": known["p25"].tolist(),
                       "median": known["median"].tolist(), "q3": known["p75"].tolist(),
                       "lowerfence": known["min"].tolist(), "upperfence": known["max"].tolist(),
                       "name": info.label, "marker": {"color": OKABE_ITO[0]}, "line": {"color": OKABE_ITO[0]},
                       "fillcolor": "rgba(0,114,178,0.18)", "boxpoints": False,
                       "hovertemplate": "%{x}: median %{median:.1f}<extra></extra>"})
    finding = trend(_points(rows.assign(value=rows["median"])), unit, values.min_cell)
    layout = _merge(_reference(values, unit), {"xaxis": {
        "tickmode": "array", "tickvals": rows["year"].tolist(),
        "ticktext": [f"{int(y)}<br>n={shown(n, 'count', h, values.min_cell)}"
                     for y, n, h in zip(rows["year"], rows["count"], rows["suppressed"])]}})
    return _figure(traces, _title(values, finding), "Year", _y_title(values, info), layout, legend=False)


def _heatmap(values: FigureValues, labels) -> go.Figure:
    """The first series by group (rows) and period (columns); blank before a group's first
    record and where a count is hidden."""
    info = values.series[0]
    dim = str(values.figure.by)
    rows = values.of(info.ref)
    parts = rows[rows["dim"] == dim]
    # Groups with nothing under the filters (a space in another parish) are left out.
    busy = parts[(parts["value"].fillna(0) > 0) | parts["suppressed"].astype(bool)]
    order = [g for g in values.groups.get(dim, []) if g in set(busy["group"])]
    if not order:
        return _figure([], values.figure.title, "", "", _note("Nothing recorded for these filters"), legend=False,
                       full=values.figure.width == "full")
    grid = parts.pivot_table(index="group", columns="period", values="value", aggfunc="sum", dropna=False)
    grid = grid.reindex(index=order)
    hidden = (parts.pivot_table(index="group", columns="period", values="suppressed", aggfunc="max")
              .reindex(index=order, columns=grid.columns).fillna(False).astype(bool))
    z, text = [], []
    for group, row_values, row_hidden in zip(order, grid.to_numpy(), hidden.to_numpy()):
        started = False
        z_row, text_row = [], []
        for v, h in zip(row_values, row_hidden):
            started = started or h or (not is_missing(v) and v > 0)
            z_row.append(None if (not started or h or is_missing(v)) else float(v))
            text_row.append(f"<{values.min_cell}" if h else ("none yet" if not started else f"{v:,.0f}"))
        z.append(z_row)
        text.append(text_row)
    names = [as_chart_text(label_of(labels, dim, g)) for g in order]
    trace = {"type": "heatmap", "z": z, "x": _x(values, list(grid.columns)), "y": names, "colorscale": SCALE,
             "zmin": 0, "xgap": 1, "ygap": 2, "customdata": text,
             "hovertemplate": "%{y}<br>%{x|%b %Y}: %{customdata}<extra></extra>",
             "colorbar": {"title": {"text": as_chart_text(info.label), "side": "right"}, "thickness": 12, "outlinewidth": 0}}
    visible = parts[parts["value"].notna() & ~parts["suppressed"]]
    finding = ""
    if not visible.empty:
        best = visible.sort_values(["value", "period"], ascending=[False, False]).iloc[0]
        finding = (f"· busiest: {label_of(labels, dim, best['group'])} in {period_words(best['period'])} "
                   f"({best['value']:,.0f})")
    layout = {"yaxis": {"autorange": "reversed", "rangemode": "normal", "showgrid": False, "automargin": True},
              "xaxis": {"type": "date", "tickformat": "%b %Y"}}
    return _figure([trace], _title(values, finding, " "), _x_title(values), "", layout,
                   height=max(CHART_HEIGHT, 34 * len(order) + 110), legend=False, full=values.figure.width == "full")


def _map(values: FigureValues, labels, series: str | None) -> go.Figure:
    """The parish tile map shaded by one series over the period; the listed places as markers."""
    info = next((s for s in values.series if s.ref == series), values.series[0])
    rows = values.of(info.ref)
    rows = rows[rows["dim"] == "parish"]
    shade = pd.DataFrame({"parish": rows["group"], "value": rows["value"], "suppressed": rows["suppressed"]})
    period = str(rows["period"].iloc[0]) if not rows.empty else ""
    known = shade[shade["value"].notna() & (shade["value"] > 0)]
    if known.empty:
        title = f"{info.label} by parish, {period}: none recorded"
    else:
        top = known.sort_values("value", ascending=False).iloc[0]
        title = f"{info.label} by parish, {period}: most in {top['parish']} ({shown(top['value'], 'count')})"
    places = values.rows if values.rows is not None else pd.DataFrame(columns=["space_id", "name", "parish"])
    return parish_map(shade, places, title, info.label, values.min_cell, dict(values.figure.tiles),
                      labels.get("operator", {}))


# ----------------------------------------------------------------------------- pace


def pace_tiles(values: FigureValues) -> list[tuple[str, str, str, str]]:
    """A running total against its total as (label, value, note, help) metric tiles."""
    pace = values.pace
    if pace is None or pace.to_date is None:
        return []
    unit = _series_unit(values.series[0])
    total = pace.total
    money = (lambda v: shown(v, unit))  # noqa: E731
    share = (lambda v: f"{v / total:.0%} of the total" if total else "")  # noqa: E731
    periods = values.figure.grain if values.figure.grain in ("quarter", "month") else "year"
    if pace.left is not None and pace.left <= total * 0.005:
        speed, note = "Reached", f"{money(pace.left)} left"
    elif not pace.per_period:
        speed, note = "Stalled", f"nothing added in the last {pace.periods_averaged} {periods}s"
    else:
        speed, note = f"{pace.periods_to_finish:,.1f} {periods}s", f"at {money(pace.per_period)} a {periods}"
    tiles = [(values.reference_label and "Total to reach", money(total), f"{values.reference[-1][0]} target",
              f"The last target of “{values.reference_label}”.")]
    for label, value in pace.others.items():
        tiles.append((label, money(value), share(value) if value is not None else "", f"{label} to {pace.as_of}."))
    tiles.append((values.series[0].label, money(pace.to_date), share(pace.to_date), f"To {pace.as_of}."))
    tiles.append(("Time to reach the total", speed, note,
                  f"What is left ({money(pace.left)}) divided by the average of the last {pace.periods_averaged} "
                  f"{periods}s ({money(pace.per_period or 0)} a {periods})."))
    return tiles
