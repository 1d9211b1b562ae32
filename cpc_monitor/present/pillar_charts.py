"""Figures of the pillar pages, from the frames of pillar_data (after pillar_data.shown:
suppressed cells are NaN with `suppressed` True, and are left out of the marks). Each
title states the finding, built only from cells as shown ("<5" where hidden); axis
titles carry units; Okabe-Ito colours; no pies. Returns figures; never calls Streamlit.

Figures are built as plain dicts over the overview's look (charts._layout) and wrapped
once without plotly's per-property validation: a page draws a dozen charts, and
validating each property as it is set cost more than the page's whole time budget.
The tests validate every figure in full."""
from __future__ import annotations

import copy
import functools
import math

import pandas as pd
import plotly.graph_objects as go

from cpc_monitor.store import codes

from cpc_monitor.evaluation import pillar_data, privacy
from cpc_monitor.present.charts import CHART_HEIGHT, LEGEND_ROW_PX, OKABE_ITO, PILLAR_NAMES, _layout, code_label, scorecard
from cpc_monitor.evaluation.engine import Evaluation
from cpc_monitor.present.formatting import format_usd, format_value, is_missing
from cpc_monitor.present.parish_map import SCALE

GREY = "#AEB7C2"  # "pending", "not recorded", "not referred": the rest, in a quiet grey
DARK = "#3B4A5A"  # targets and envelopes: dark slate, distinct from the data
MUTED = "#6B7785"  # notes written on a chart
# Ordinal blues (ColorBrewer), light to dark, for ordered bands.
BLUES = ("#DEEBF7", "#9ECAE1", "#6BAED6", "#2171B5", "#08306B")
HEIGHT = CHART_HEIGHT  # px: a chart without its legend rows and extra title lines
# Characters of a title line in a half-width chart at 1280 px; longer titles wrap.
TITLE_CHARS = 52
LEGEND_WIDTH = 470  # px a legend row has in a half-width chart, to know how many rows it takes

# Codes whose plain label is not enough.
NAMES = {
    "iom": "IOM", "warnath": "Warnath Group", "winrock": "Winrock International", "goj": "Government of Jamaica",
    "usg": "US government", "other": "Other", "sexual": "Sexual exploitation", "labour": "Forced labour",
    "tip_act": "TIP Act", "other_law": "Other law", "forensic_interview": "Forensic interview",
    "medical_exam": "Medical exam", "court_preparation": "Court preparation", "social_workers": "Social workers",
    "labour_inspectors": "Labour inspectors", "unknown": "Not recorded",
    "JAM": "Jamaica", "COL": "Colombia", "CHN": "China", "IND": "India", "VEN": "Venezuela", "HND": "Honduras",
    "HTI": "Haiti", "CUB": "Cuba", "DOM": "Dominican Republic", "USA": "United States",
}
# Fixed colours for codes that recur, so a category keeps its colour across charts.
COLOURS = {
    "investigations": OKABE_ITO[3], "prosecutions": OKABE_ITO[0], "convictions": OKABE_ITO[4],
    "confirmed": OKABE_ITO[0], "suspected": OKABE_ITO[1],
    "convicted": OKABE_ITO[0], "acquitted": OKABE_ITO[1], "dismissed": OKABE_ITO[3], "withdrawn": OKABE_ITO[5],
    "pending": GREY, "unknown": GREY, "other": GREY, "not recorded": GREY, pillar_data.NOT_REFERRED: GREY,
    "same day": "#08519C", "1 to 2 days": "#6BAED6", "3 to 7 days": OKABE_ITO[1], "8 days or more": OKABE_ITO[4],
    "no prison term": BLUES[0], "under 1 year": BLUES[1], "1 to 5 years": BLUES[2], "5 to 10 years": BLUES[3],
    "10 years or more": BLUES[4],
    "committed": DARK, "disbursed": OKABE_ITO[0],
}
# What a breakdown's groups are called in a title.
DIM_WORDS = {"sex": "sex", "age_group": "age group", "nationality": "nationality",
             "exploitation_type": "form of exploitation", "victim_status": "status", "audience": "audience",
             "partner": "partner", "service": "service", "outcome": "outcome", "pillar": "pillar"}
STAGE_NAMES = {"investigations": "Investigations opened", "prosecutions": "Defendants charged",
               "convictions": "Defendants convicted"}
_HOVER = "%{x} · %{fullData.name}: %{customdata}<extra></extra>"


# ----------------------------------------------------------------------------- building blocks


def name(code: object) -> str:
    """A code as people read it."""
    text = str(code)
    return NAMES.get(text) or (text[:1].upper() + text[1:] if " " in text else code_label(text))


def _colour(code: str, i: int) -> str:
    return COLOURS.get(code, OKABE_ITO[i % len(OKABE_ITO)])


def _n(value: float | None, hidden: bool = False, min_cell: int = 5) -> str:
    """A count as shown: 1,234, or '<5' when hidden."""
    return format_value(value, "count", suppressed=bool(hidden), min_cell=min_cell)


def _list(values) -> list:
    """Plain Python values for a trace (NaN stays NaN: plotly writes it as a gap)."""
    return [v.item() if hasattr(v, "item") else v for v in values]


@functools.cache
def _base_layout() -> dict:
    """The overview's look (charts._layout) as a plain layout dict, computed once."""
    layout = _layout(go.Figure(), "", "", "").to_dict()["layout"]
    layout.pop("template", None)
    return layout


def _merge(base: dict, over: dict) -> dict:
    """`base` with `over` laid on top, nested dicts merged."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _wrap(text: str, width: int = TITLE_CHARS) -> tuple[str, int]:
    """`text` broken at word boundaries into lines of at most `width` characters (<br>)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines), len(lines)


def _figure(traces: list[dict], title: str, x_title: str, y_title: str, layout: dict | None = None,
            height: int = HEIGHT, legend: bool = True) -> go.Figure:
    """A figure in the overview's look: the title wrapped to the chart's width, the legend at
    the bottom below the x-axis title (in the order the traces come, room made for its rows),
    hover on the nearest mark."""
    text, lines = _wrap(title)
    names = [t.get("name", "") for t in traces if t.get("showlegend", True) and t.get("name")]
    rows = 1 + sum(len(n) + 6 for n in names) * 7 // LEGEND_WIDTH if legend and names else 0
    extra = LEGEND_ROW_PX * rows + 21 * (lines - 1)
    own = {
        # plotly anchors a wrapped title by its first line: move it down by the extra lines
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


def _hline(value: float, text: str) -> tuple[dict, dict]:
    """A dashed horizontal line across the plot at `value`, labelled at its left end."""
    shape = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": value, "y1": value,
             "line": {"color": DARK, "width": 1.5, "dash": "dash"}}
    note = {"xref": "paper", "x": 0, "yref": "y", "y": value, "text": text, "showarrow": False,
            "xanchor": "left", "yanchor": "bottom", "font": {"size": 12, "color": DARK}}
    return shape, note


def _target(target: tuple[int, float] | None, unit: str) -> dict:
    """Layout parts drawing an indicator's last target as a dashed line."""
    if target is None:
        return {}
    shape, note = _hline(target[1], f"{target[0]} target {format_value(target[1], unit)}")
    return {"shapes": [shape], "annotations": [note]}


def _note(text: str) -> dict:
    """Layout parts writing `text` in the middle of an empty chart."""
    return {"annotations": [{"text": text, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper", "showarrow": False,
                             "font": {"size": 15, "color": MUTED}}],
            "xaxis": {"visible": False}, "yaxis": {"visible": False}}


def _years(years) -> dict:
    """A year axis: whole years, every year while they fit."""
    count = len({int(y) for y in years})
    return {"tickformat": "d", "dtick": 1 if count <= 12 else 2, "type": "linear"}


def _counts(top: float) -> dict:
    """A count axis: whole numbers, headroom for the totals written above the bars."""
    axis = {"tickformat": ",d", "range": [0, max(top * 1.12, top + 0.6, 1)]}
    if top <= 10:
        axis["dtick"] = 1
    return axis


def _cell(frame: pd.DataFrame, **match: object) -> tuple[float | None, bool]:
    """(value, suppressed) of the one row matching `match`; (None, False) if none."""
    rows = frame
    for column, wanted in match.items():
        rows = rows[rows[column] == wanted]
    if rows.empty:
        return None, False
    row = rows.iloc[0]
    value = None if is_missing(row["value"]) else float(row["value"])
    return value, bool(row.get("suppressed", False))


def _latest(frame: pd.DataFrame) -> int | None:
    """The latest year with anything counted (shown or hidden) in the totals."""
    totals = frame[frame["dim"] == ""]
    present = totals[(totals["value"].fillna(0) > 0) | totals["suppressed"]]
    return int(present["year"].max()) if not present.empty else None


def _largest(frame: pd.DataFrame, dim: str, year: int) -> tuple[str, float, bool] | None:
    """The largest shown group of `dim` in `year`: (group, value, hidden)."""
    rows = frame[(frame["dim"] == dim) & (frame["year"] == year) & frame["value"].notna()]
    if rows.empty or rows["value"].max() <= 0:
        return None
    top = rows.sort_values("value", ascending=False).iloc[0]
    return str(top["group"]), float(top["value"]), False


def _trend(values: dict[int, tuple[float | None, bool]], unit: str = "count", min_cell: int = 5) -> str:
    """'rose from 30 in 2015 to 61 in 2025' over the years shown (hidden cells skipped)."""
    known = [(y, v) for y, (v, hidden) in sorted(values.items()) if v is not None and not hidden]
    if len(known) < 2:
        return ""
    (y0, v0), (y1, v1) = known[0], known[-1]
    show = (lambda v: _n(v, min_cell=min_cell)) if unit == "count" else (lambda v: format_value(v, unit))
    if math.isclose(v0, v1):
        return f"held at {show(v1)} from {y0} to {y1}"
    return f"{'rose' if v1 > v0 else 'fell'} from {show(v0)} in {y0} to {show(v1)} in {y1}"


def _shown_counts(values, hidden, min_cell: int) -> list[str]:
    return [_n(v, h, min_cell) for v, h in zip(values, hidden)]


def _stacked(frame: pd.DataFrame, dim: str, order: list[str] | None, title: str, y_title: str,
             x_title: str = "Year", min_cell: int = 5) -> go.Figure:
    """Stacked bars by year of one breakdown (groups in `order`, then any others), the total
    written on top. Groups with nothing in any year are left out of the legend."""
    parts = frame[frame["dim"] == dim].sort_values("year")
    totals = frame[frame["dim"] == ""].sort_values("year")
    present = set(parts.loc[(parts["value"].fillna(0) > 0) | parts["suppressed"], "group"])
    groups = [g for g in (order or []) if g in present] + sorted(g for g in present if g not in (order or []))
    by_group = dict(tuple(parts.groupby("group", sort=False)))
    traces = []
    for i, group in enumerate(groups):
        part = by_group[group]
        traces.append({"type": "bar", "x": _list(part["year"]), "y": _list(part["value"]), "name": name(group),
                       "marker": {"color": _colour(group, i), "line": {"width": 0}},
                       "customdata": _shown_counts(part["value"], part["suppressed"], min_cell),
                       "hovertemplate": _HOVER})
    heights = parts.groupby("year")["value"].sum(min_count=0)
    if not totals.empty:
        traces.append({"type": "scatter", "mode": "text", "x": _list(totals["year"]),
                       "y": [float(heights.get(y, 0.0)) for y in totals["year"]],
                       "text": [_n(v, h, min_cell) if (v or h) else "" for v, h in
                                zip(totals["value"], totals["suppressed"])],
                       "textposition": "top center", "showlegend": False, "hoverinfo": "skip",
                       "textfont": {"size": 12, "color": DARK}, "cliponaxis": False})
    layout = {"barmode": "stack", "bargap": 0.25, "xaxis": _years(frame["year"]),
              "yaxis": _counts(float(heights.max()) if not heights.empty else 0.0)}
    if not groups:
        layout = _merge(layout, _note("Nothing recorded for these filters"))
    elif not (parts["value"].fillna(0) > 0).any():  # every cell hidden: say so instead of empty bars
        note = f"Every count here is below {min_cell}: hidden in presentation-safe mode"
        return _figure([], title, x_title, y_title, _merge(layout, _note(note)), legend=False)
    return _figure(traces, title, x_title, y_title, layout)


# ----------------------------------------------------------------------------- prosecution


def funnel_chart(funnel: pd.DataFrame, year: int, min_cell: int = 5) -> go.Figure:
    """Investigations opened, defendants charged and convicted in one year, as a funnel."""
    rows = funnel[funnel["year"] == year].set_index("stage")
    stages = [s for s, _, _ in pillar_data.FUNNEL_STAGES]
    values = {s: (None if s not in rows.index or is_missing(rows.at[s, "value"]) else float(rows.at[s, "value"]),
                  bool(rows.at[s, "suppressed"]) if s in rows.index else False) for s in stages}
    first = values["investigations"][0]
    text = []
    for s in stages:
        v, hidden = values[s]
        share = (f" ({v / first:.0%} of investigations)" if s != "investigations" and v is not None and not hidden
                 and first else "")
        text.append(_n(v, hidden, min_cell) + share)
    trace = {"type": "funnel", "y": [STAGE_NAMES[s] for s in stages], "x": [values[s][0] or 0 for s in stages],
             "text": text, "textinfo": "text", "textposition": "outside", "cliponaxis": False,
             "marker": {"color": [COLOURS[s] for s in stages]}, "connector": {"fillcolor": "#EEF1F4"},
             "hovertemplate": "%{y}: %{text}<extra></extra>"}
    i, p, c = (values[s] for s in stages)
    title = (f"{year}: {_n(*i, min_cell)} investigations opened, {_n(*p, min_cell)} defendants charged, "
             f"{_n(*c, min_cell)} convicted")
    return _figure([trace], title, "", "", {"margin": {"r": 170}, "yaxis": {"rangemode": "normal"}}, legend=False)


def stages_chart(funnel: pd.DataFrame, min_cell: int = 5) -> go.Figure:
    """The three stages side by side for every year."""
    traces = []
    for stage, _, _ in pillar_data.FUNNEL_STAGES:
        part = funnel[funnel["stage"] == stage].sort_values("year")
        shown = _shown_counts(part["value"], part["suppressed"], min_cell)
        traces.append({"type": "bar", "x": _list(part["year"]), "y": _list(part["value"]), "name": STAGE_NAMES[stage],
                       "marker": {"color": COLOURS[stage]}, "text": shown, "textposition": "outside",
                       "cliponaxis": False, "textfont": {"size": 11}, "customdata": shown, "hovertemplate": _HOVER})
    inv = {int(r.year): (None if is_missing(r.value) else r.value, bool(r.suppressed))
           for r in funnel[funnel["stage"] == "investigations"].itertuples()}
    conv = funnel[funnel["stage"] == "convictions"]
    trend = _trend(inv, min_cell=min_cell)
    title = f"Investigations {trend}" if trend else "Investigations, prosecutions and convictions by year"
    if not conv.empty and not conv["suppressed"].any():
        low, high = int(conv["value"].min()), int(conv["value"].max())
        title += (f"; convictions stayed between {low} and {high} a year" if low != high else
                  f"; {low} convictions a year")
    top = float(funnel["value"].max()) if funnel["value"].notna().any() else 0.0
    return _figure(traces, title, "Year", "People or cases in the year",
                   {"barmode": "group", "bargap": 0.2, "xaxis": _years(funnel["year"]), "yaxis": _counts(top)})


def durations_chart(durations: pd.DataFrame, target: tuple[int, float] | None = None,
                    min_cell: int = 5) -> go.Figure:
    """Months from charge to outcome of the prosecutions concluded each year: a box per year
    (shortest, quartiles, median, longest, computed in the database)."""
    shown = durations[durations["median"].notna()].sort_values("year")
    traces = []
    if not shown.empty:
        traces.append({"type": "box", "x": _list(shown["year"]), "q1": _list(shown["q1"]),
                       "median": _list(shown["median"]), "q3": _list(shown["q3"]),
                       "lowerfence": _list(shown["min"]), "upperfence": _list(shown["max"]),
                       "name": "Concluded in the year", "marker": {"color": OKABE_ITO[0]},
                       "line": {"color": OKABE_ITO[0]}, "fillcolor": "rgba(0,114,178,0.18)", "boxpoints": False,
                       "hovertemplate": "%{x}: median %{median:.1f} months<extra></extra>"})
        medians = {int(r.year): (float(r.median), False) for r in shown.itertuples()}
        trend = _trend(medians, unit="months")
        last = shown.iloc[-1]
        title = (f"Median months from charge to outcome {trend}" if trend else
                 f"Median time from charge to outcome: {last['median']:.1f} months in {int(last['year'])}")
    else:
        title = "No concluded prosecutions to time for these filters"
    ticks = durations.sort_values("year")
    layout = _merge(_target(target, "months"), {"xaxis": {
        "tickmode": "array", "tickvals": _list(ticks["year"]),
        "ticktext": [f"{int(r.year)}<br>n={_n(r.concluded, r.suppressed, min_cell)}" for r in ticks.itertuples()]}})
    return _figure(traces, title, "Year the prosecution concluded", "Months from charge to outcome", layout,
                   legend=False)


def outcomes_chart(outcomes: pd.DataFrame, min_cell: int = 5) -> go.Figure:
    """What became of the defendants charged each year (stacked by outcome)."""
    order = ["convicted", "acquitted", "dismissed", "withdrawn", "pending"]
    year = _latest(outcomes)
    if year is None:
        title = "No defendants charged for these filters"
    else:
        total = _cell(outcomes, year=year, dim="")
        pending = _cell(outcomes, year=year, dim="outcome", group="pending")
        convicted = _cell(outcomes, year=year, dim="outcome", group="convicted")
        if pending == total and not total[1]:
            title = f"All {_n(*total, min_cell)} defendants charged in {year} await an outcome"
        elif pending[0] or pending[1]:
            title = (f"Of the {_n(*total, min_cell)} defendants charged in {year}, "
                     f"{_n(*pending, min_cell)} await an outcome")
        else:
            title = (f"Of the {_n(*total, min_cell)} defendants charged in {year}, "
                     f"{_n(*convicted, min_cell)} were convicted")
    return _stacked(outcomes, "outcome", order, title, "Defendants", "Year charged", min_cell)


def sentences_chart(sentences: pd.DataFrame, min_cell: int = 5) -> go.Figure:
    """Sentences of convicted defendants in bands, by year of conviction."""
    order = [b[0] for b in pillar_data.SENTENCE_BANDS] + [pillar_data.SENTENCE_NOT_RECORDED]
    parts = sentences[sentences["dim"] == "sentence"]
    title = "Sentences of convicted defendants, by year of conviction"
    if not parts.empty and not parts["suppressed"].any() and parts["value"].sum() > 0:
        total = parts["value"].sum()
        long = parts[parts["group"].isin(["5 to 10 years", "10 years or more"])]["value"].sum()
        first, last = int(parts["year"].min()), int(parts["year"].max())
        title = f"{long:,.0f} of the {total:,.0f} sentences handed down {first}–{last} were 5 years or more"
    return _stacked(sentences, "sentence", order, title, "Defendants convicted", "Year of conviction", min_cell)


# ----------------------------------------------------------------------------- protection


def victims_status_chart(victims: pd.DataFrame, min_cell: int = 5) -> go.Figure:
    """Victims identified each year, confirmed and suspected stacked."""
    year = _latest(victims)
    if year is None:
        title = "No victims identified for these filters"
    else:
        total = _cell(victims, year=year, dim="")
        statuses = [s for s in pillar_data.VICTIM_STATUSES
                    if not victims[(victims["dim"] == "victim_status") & (victims["group"] == s)].empty]
        parts = [f"{_n(*_cell(victims, year=year, dim='victim_status', group=s), min_cell)} {s}" for s in statuses]
        title = f"{_n(*total, min_cell)} victims identified in {year}"
        if len(parts) > 1:
            title += ": " + ", ".join(parts)
        else:
            before = _cell(victims, year=year - 1, dim="")
            if before[0] is not None and not before[1] and not total[1]:
                title += f" (against {_n(*before, min_cell)} in {year - 1})"
    return _stacked(victims, "victim_status", list(pillar_data.VICTIM_STATUSES), title, "Victims identified",
                    "Year identified", min_cell)


def victims_chart(victims: pd.DataFrame, dim: str, min_cell: int = 5) -> go.Figure:
    """Victims identified each year by one breakdown (sex, age group, nationality, form)."""
    order = {"sex": list(codes.SEXES), "age_group": list(codes.AGE_GROUPS),
             "exploitation_type": list(codes.EXPLOITATION_TYPES)}.get(dim)
    if dim == "nationality":  # the largest first
        parts = victims[victims["dim"] == dim]
        order = list(parts.groupby("group")["value"].sum().sort_values(ascending=False).index)
    year = _latest(victims)
    top = _largest(victims, dim, year) if year is not None else None
    if top is None:
        title = f"Victims by {DIM_WORDS[dim]}"
    else:
        total = _cell(victims, year=year, dim="")
        group, value, hidden = top
        title = f"{year}: {_n(value, hidden, min_cell)} of {_n(*total, min_cell)} victims {_phrase(dim, group)}"
    return _stacked(victims, dim, order, title, "Victims identified", "Year identified", min_cell)


def _phrase(dim: str, group: str) -> str:
    """How a title says a victim belongs to `group` of `dim`."""
    if dim == "sex":
        return f"were {group}" if group in ("female", "male") else "had no sex recorded"
    if dim == "age_group":
        return {"unknown": "had no age recorded", "18+": "were adults (18+)"}.get(group, f"were aged {group}")
    if dim == "nationality":
        return f"were from {name(group)}"
    if dim == "exploitation_type" and group in ("sexual", "labour", "domestic_servitude", "forced_criminality"):
        return f"suffered {name(group).lower()}"
    return f"were recorded as '{name(group).lower()}'"


def referral_chart(referral: pd.DataFrame, target: tuple[int, float] | None = None,
                   min_cell: int = 5) -> go.Figure:
    """Share of confirmed child victims referred to care within REFERRAL_DAYS, by year identified."""
    frame = referral.sort_values("year")
    shown = frame[frame["value"].notna()]
    traces = [{"type": "bar", "x": _list(shown["year"]), "y": _list(shown["value"]), "name": "Referred within 2 days",
               "marker": {"color": OKABE_ITO[0]}, "text": [format_value(v, "percent") for v in shown["value"]],
               "textposition": "outside", "cliponaxis": False,
               "customdata": [f"{format_value(v, 'percent')} ({_n(n, min_cell=min_cell)} of {_n(d, min_cell=min_cell)})"
                              for v, n, d in zip(shown["value"], shown["numerator"], shown["denominator"])],
               "hovertemplate": "%{x}: %{customdata}<extra></extra>"}]
    hidden = frame[frame["suppressed"]]
    if not hidden.empty:
        traces.append({"type": "scatter", "mode": "text", "x": _list(hidden["year"]), "y": [2] * len(hidden),
                       "text": [f"n<{min_cell}"] * len(hidden), "textposition": "top center", "showlegend": False,
                       "hoverinfo": "skip", "textfont": {"size": 11, "color": MUTED}})
    values = {int(r.year): (float(r.value), False) for r in shown.itertuples()}
    if values:
        year = max(values)
        trend = _trend(values, unit="percent")
        days = pillar_data.REFERRAL_DAYS
        title = (f"Referrals within {days} days {trend}" if trend else
                 f"{format_value(values[year][0], 'percent')} referred within {days} days in {year}")
    else:
        title = "No confirmed child victims to time for these filters"
    layout = _merge(_target(target, "percent"), {"yaxis": {"ticksuffix": "%", "range": [0, 110]},
                                                 "xaxis": _years(frame["year"])})
    return _figure(traces, title, "Year identified", "Percent of confirmed child victims", layout, legend=False)


def referral_bands_chart(bands: pd.DataFrame, min_cell: int = 5) -> go.Figure:
    """Days from identification to referral, in bands, by year identified."""
    order = [b[0] for b in pillar_data.REFERRAL_BANDS] + [pillar_data.NOT_REFERRED]
    year = _latest(bands)
    if year is None:
        title = "Days from identification to referral"
    else:
        total = _cell(bands, year=year, dim="")
        late = [_cell(bands, year=year, dim="referral", group=g) for g in order[2:]]
        if any(h for _, h in late):
            title = f"{year}: days to referral of {_n(*total, min_cell)} confirmed child victims"
        else:
            slow = sum(v or 0 for v, _ in late)
            title = (f"{year}: {_n(slow, min_cell=min_cell)} of {_n(*total, min_cell)} confirmed child victims waited "
                     f"more than {pillar_data.REFERRAL_DAYS} days or were not referred")
    return _stacked(bands, "referral", order, title, "Confirmed child victims", "Year identified", min_cell)


def cfs_heatmap(monthly: pd.DataFrame, min_cell: int = 5) -> go.Figure:
    """Sessions per child-friendly space and month; blank before a space opened and where hidden."""
    if monthly.empty:
        return _figure([], "No child-friendly-space sessions for these filters", "", "", _note("No sessions"),
                       legend=False)
    frame = monthly.assign(month=pd.to_datetime(monthly["month"]))
    spaces = list(dict.fromkeys(frame.sort_values("month")["space"]))
    grid = frame.pivot_table(index="space", columns="month", values="value", aggfunc="sum", dropna=False)
    grid = grid.reindex(index=spaces)
    hidden = (frame.pivot_table(index="space", columns="month", values="suppressed", aggfunc="max")
              .reindex(index=spaces, columns=grid.columns).fillna(False).astype(bool))
    text = [[f"<{min_cell}" if h else ("not open" if is_missing(v) else f"{v:,.0f}") for v, h in zip(rv, rh)]
            for rv, rh in zip(grid.to_numpy(), hidden.to_numpy())]
    z = [[None if is_missing(v) else float(v) for v in row] for row in grid.to_numpy()]
    trace = {"type": "heatmap", "z": z, "x": [m.strftime("%Y-%m-%d") for m in grid.columns], "y": spaces,
             "colorscale": SCALE, "zmin": 0, "xgap": 1, "ygap": 2, "customdata": text,
             "hovertemplate": "%{y}<br>%{x|%b %Y}: %{customdata} sessions<extra></extra>",
             "colorbar": {"title": {"text": "Sessions in the month", "side": "right"}, "thickness": 12,
                          "outlinewidth": 0}}
    visible = frame[frame["value"].notna()]
    if not visible.empty:
        best = visible.sort_values(["value", "month"], ascending=[False, False]).iloc[0]
        title = (f"{len(spaces)} spaces in use; the busiest month was {best['month']:%b %Y} at "
                 f"{best['space']}: {best['value']:,.0f} sessions")
    else:
        title = "Sessions per space and month"
    layout = {"yaxis": {"autorange": "reversed", "rangemode": "normal", "showgrid": False, "automargin": True},
              "xaxis": {"dtick": "M6", "tickformat": "%b %Y", "type": "date"}}
    return _figure([trace], title, "Month", "", layout, height=max(CHART_HEIGHT, 34 * len(spaces) + 110),
                   legend=False)


def capacity_chart(capacity: pd.DataFrame, target: tuple[int, float] | None = None) -> go.Figure:
    """Sessions as a share of the sessions the open spaces could hold, per year."""
    totals = capacity[capacity["dim"] == ""].sort_values("year")
    shown = totals[totals["value"].notna()]
    trace = {"type": "bar", "x": _list(shown["year"]), "y": _list(shown["value"]), "name": "Capacity used",
             "marker": {"color": OKABE_ITO[0]}, "text": [format_value(v, "percent") for v in shown["value"]],
             "textposition": "outside", "cliponaxis": False,
             "customdata": [f"{format_value(v, 'percent')} ({n:,.0f} sessions of {d:,.0f} possible)"
                            for v, n, d in zip(shown["value"], shown["numerator"], shown["denominator"])],
             "hovertemplate": "%{x}: %{customdata}<extra></extra>"}
    values = {int(r.year): (float(r.value), False) for r in shown.itertuples()}
    trend = _trend(values, unit="percent")
    if trend:
        title = f"Capacity used {trend}"
    elif not shown.empty:
        title = f"Capacity used: {format_value(shown['value'].iloc[-1], 'percent')} in {int(shown['year'].iloc[-1])}"
    else:
        title = "No capacity to compare for these filters"
    top = max(100.0, float(shown["value"].max()) * 1.15 if not shown.empty else 0.0)
    layout = _merge(_target(target, "percent"), {"yaxis": {"ticksuffix": "%", "range": [0, top]},
                                                 "xaxis": _years(totals["year"])})
    return _figure([trace], title, "Year", "Percent of monthly capacity", layout, legend=False)


def capacity_by_space_chart(capacity: pd.DataFrame) -> go.Figure:
    """Capacity used by each space in the latest year."""
    spaces = capacity[capacity["dim"] == "space"]
    year = int(spaces["year"].max()) if not spaces.empty else None
    latest = spaces[(spaces["year"] == year) & spaces["value"].notna()].sort_values("value") if year else spaces
    trace = {"type": "bar", "orientation": "h", "y": _list(latest["group"]), "x": _list(latest["value"]),
             "marker": {"color": OKABE_ITO[0]}, "text": [format_value(v, "percent") for v in latest["value"]],
             "textposition": "outside", "cliponaxis": False, "hovertemplate": "%{y}: %{text}<extra></extra>"}
    if len(latest) >= 2:
        low, high = latest.iloc[0], latest.iloc[-1]
        title = (f"{year}: use ranged from {format_value(low['value'], 'percent')} ({low['group']}) "
                 f"to {format_value(high['value'], 'percent')} ({high['group']})")
    else:
        title = f"Capacity used by space{f', {year}' if year else ''}"
    top = max(100.0, float(latest["value"].max()) * 1.1 if not latest.empty else 0.0)
    layout = {"margin": {"r": 50}, "xaxis": {"ticksuffix": "%", "showgrid": True, "gridcolor": "#E6E9ED",
                                             "range": [0, top]},
              "yaxis": {"rangemode": "normal", "showgrid": False, "automargin": True}}
    return _figure([trace], title, f"Percent of capacity used{f', {year}' if year else ''}", "", layout,
                   height=max(CHART_HEIGHT, 30 * len(latest) + 110), legend=False)


def services_chart(services: pd.DataFrame, min_cell: int = 5) -> go.Figure:
    """Sessions in the child-friendly spaces each year by the service given."""
    year = _latest(services)
    top = _largest(services, "service", year) if year is not None else None
    if top is None:
        title = "Services given in the child-friendly spaces"
    else:
        total = _cell(services, year=year, dim="")
        title = (f"{name(top[0])} was the most common service in {year}: {_n(top[1], top[2], min_cell)} of "
                 f"{_n(*total, min_cell)} sessions")
    return _stacked(services, "service", list(codes.SERVICES), title, "Sessions", "Year", min_cell)


def parish_values(frame: pd.DataFrame) -> pd.DataFrame:
    """The map's input (parish, value, suppressed) from a per-parish frame of pillar_data."""
    rows = frame[frame["dim"] == "parish"]
    return pd.DataFrame({"parish": rows["group"], "value": rows["value"], "suppressed": rows["suppressed"]})


def period_text(yearly: pd.DataFrame) -> str:
    """'2015–2025': the years a yearly frame covers."""
    if yearly.empty:
        return "no years"
    first, last = int(yearly["year"].min()), int(yearly["year"].max())
    return str(first) if first == last else f"{first}–{last}"


def map_title(frame: pd.DataFrame, what: str, period: str, min_cell: int = 5) -> str:
    """'Victims identified by parish, 2015–2025: most in St Andrew (78)'."""
    rows = parish_values(frame)
    rows = rows[rows["value"].notna() & (rows["value"] > 0)]
    if rows.empty:
        return f"{what} by parish, {period}: none recorded"
    top = rows.sort_values("value", ascending=False).iloc[0]
    return f"{what} by parish, {period}: most in {top['parish']} ({_n(top['value'], min_cell=min_cell)})"


# ----------------------------------------------------------------------------- prevention and partnership


def trainings_chart(trainings: pd.DataFrame, dim: str = "audience", min_cell: int = 5) -> go.Figure:
    """Participants trained each year, by audience (or partner)."""
    order = list(codes.AUDIENCES if dim == "audience" else codes.PARTNERS)
    year = _latest(trainings)
    top = _largest(trainings, dim, year) if year is not None else None
    if top is None:
        title = "No trainings recorded for these filters"
    else:
        total = _cell(trainings, year=year, dim="")
        who = name(top[0])
        rest = f"{who.lower()} were the largest audience" if dim == "audience" else f"{who} trained the most"
        title = f"{_n(*total, min_cell)} people trained in {year}; {rest} ({_n(top[1], top[2], min_cell)})"
    return _stacked(trainings, dim, order, title, "Participants", "Year", min_cell)


def trainings_cumulative_chart(cumulative: pd.DataFrame, dim: str = "partner", min_cell: int = 5) -> go.Figure:
    """Participants trained since the first recorded training: the total and each partner (or audience)."""
    total = cumulative[cumulative["dim"] == ""].sort_values("year")
    traces = [{"type": "scatter", "x": _list(total["year"]), "y": _list(total["value"]), "mode": "lines+markers",
               "name": "All partners" if dim == "partner" else "All audiences", "line": {"color": DARK, "width": 3},
               "customdata": _shown_counts(total["value"], total["suppressed"], min_cell), "hovertemplate": _HOVER}]
    parts = cumulative[cumulative["dim"] == dim]
    groups = [g for g in (codes.PARTNERS if dim == "partner" else codes.AUDIENCES)
              if (parts.loc[parts["group"] == g, "value"].fillna(0) > 0).any()]
    for i, group in enumerate(groups):
        part = parts[parts["group"] == group].sort_values("year")
        traces.append({"type": "scatter", "x": _list(part["year"]), "y": _list(part["value"]), "mode": "lines+markers",
                       "name": name(group), "line": {"color": _colour(group, i), "width": 2},
                       "customdata": _shown_counts(part["value"], part["suppressed"], min_cell),
                       "hovertemplate": _HOVER})
    shown = total[total["value"].notna()]
    if shown.empty:
        title = "No trainings recorded for these filters"
    else:
        last = shown.iloc[-1]
        title = (f"{_n(last['value'], min_cell=min_cell)} people trained from {int(total['year'].min())} "
                 f"to {int(last['year'])}")
        latest = parts[(parts["year"] == last["year"]) & parts["value"].notna()].sort_values("value")
        if not latest.empty:
            top = latest.iloc[-1]
            who = name(top["group"])
            title += (f"; {who} trained the most" if dim == "partner" else f"; {who.lower()} were the largest group") \
                + f" ({_n(top['value'], min_cell=min_cell)})"
    return _figure(traces, title, "Year", "Participants, cumulative",
                   {"xaxis": _years(total["year"]), "yaxis": {"tickformat": ",d"}})


def _usd_axis(top: float) -> dict:
    """Money ticks as people read them: US$0, US$2m, US$4m ..."""
    step = 1_000_000 if top > 3_000_000 else 500_000 if top > 1_000_000 else 100_000 if top > 200_000 else 20_000
    ticks = [step * i for i in range(int(top // step) + 2)]
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [format_usd(t) for t in ticks]}


def funding_cumulative_chart(cumulative: pd.DataFrame, burn: pd.DataFrame) -> go.Figure:
    """US government money committed and disbursed since the first entry, against the CPC envelope."""
    quarters = [q.strftime("%Y-%m-%d") for q in pd.to_datetime(cumulative["quarter"])]
    traces = [{"type": "scatter", "x": quarters, "y": _list(cumulative[kind]), "name": label, "mode": "lines",
               "line": {"color": COLOURS[kind], "width": 3 if kind == "disbursed" else 2, "shape": "hv"},
               "customdata": [f"{q}: {format_usd(v)}" for q, v in zip(cumulative["label"], cumulative[kind])],
               "hovertemplate": "%{customdata}<extra>%{fullData.name}</extra>"}
              for kind, label in (("committed", "Committed (US government)"),
                                  ("disbursed", "Disbursed (US government)"))]
    envelope = pillar_data.CPC_ENVELOPE_USD
    shape, note = _hline(envelope, f"CPC envelope {format_usd(envelope)}")
    row = burn.iloc[0] if not burn.empty else None
    if row is not None and row["as_of"] is not None:
        title = (f"{format_usd(row['disbursed'])} of the {format_usd(envelope)} CPC envelope disbursed by "
                 f"{row['as_of']} ({row['disbursed'] / envelope:.0%})")
    else:
        title = "No funding recorded for these filters"
    top = max([envelope] + [float(cumulative[k].max()) for k in ("committed", "disbursed") if not cumulative.empty])
    layout = {"shapes": [shape], "annotations": [note], "xaxis": {"type": "date"},
              "yaxis": _merge(_usd_axis(top), {"range": [0, top * 1.1]})}
    return _figure(traces, title, "Quarter", "US dollars, cumulative", layout)


def burn_chart(quarterly: pd.DataFrame, burn: pd.DataFrame) -> go.Figure:
    """US government disbursements per quarter, the recent average as a dashed line, and in
    the title how long the rest of the envelope would last at that pace."""
    quarters = [q.strftime("%Y-%m-%d") for q in pd.to_datetime(quarterly["quarter"])]
    traces = [{"type": "bar", "x": quarters, "y": _list(quarterly["disbursed"]),
               "name": "Disbursed in the quarter (US government)", "marker": {"color": OKABE_ITO[0]},
               "customdata": [f"{q}: {format_usd(v)}" for q, v in zip(quarterly["label"], quarterly["disbursed"])],
               "hovertemplate": "%{customdata}<extra></extra>"}]
    row = burn.iloc[0] if not burn.empty else None
    title = "US government disbursements per quarter"
    if row is not None and row["as_of"] is not None:
        rate = float(row["rate_per_quarter"])
        recent = quarters[-int(row["quarters_averaged"]):]
        if rate > 0:
            traces.append({"type": "scatter", "x": recent, "y": [rate] * len(recent), "mode": "lines",
                           "name": f"Average of the last {len(recent)} quarters",
                           "line": {"color": OKABE_ITO[1], "width": 2.5, "dash": "dash"},
                           "hovertemplate": f"Recent average: {format_usd(rate)} a quarter<extra></extra>"})
        title = burn_finding(row)
    top = float(quarterly["disbursed"].max()) if not quarterly.empty else 0.0
    layout = {"bargap": 0.15, "xaxis": {"type": "date"}, "yaxis": _usd_axis(top) if top > 0 else {}}
    return _figure(traces, title, "Quarter", "US dollars in the quarter", layout)


def burn_finding(row: pd.Series) -> str:
    """The burn rate in one sentence."""
    rate, remaining, envelope = float(row["rate_per_quarter"]), float(row["remaining"]), float(row["envelope"])
    if remaining <= envelope * 0.005:
        return f"The CPC envelope is spent: {format_usd(row['disbursed'])} disbursed by {row['as_of']}"
    if rate <= 0:
        return (f"No US government disbursements in the last {int(row['quarters_averaged'])} quarters; "
                f"{format_usd(remaining)} of the envelope is unspent")
    return (f"At the recent pace ({format_usd(rate)} a quarter), the remaining {format_usd(remaining)} "
            f"would take {float(row['months_to_spend_rest']):,.0f} months")


def funding_by_chart(funding_by: pd.DataFrame, dim: str) -> go.Figure:
    """US government money committed and disbursed by partner (or pillar)."""
    rows = funding_by[funding_by["dim"] == dim]
    labels = [name(g) if dim == "partner" else PILLAR_NAMES.get(g, name(g)) for g in rows["group"]]
    traces = [{"type": "bar", "orientation": "h", "y": labels, "x": _list(rows[kind]), "name": label,
               "marker": {"color": COLOURS[kind]}, "text": [format_usd(v) for v in rows[kind]],
               "textposition": "outside", "cliponaxis": False,
               "hovertemplate": "%{y} · %{fullData.name}: %{text}<extra></extra>"}
              for kind, label in (("committed", "Committed"), ("disbursed", "Disbursed"))]
    if rows.empty:
        title = f"No US government funding by {dim} for these filters"
    else:
        top = rows.sort_values("committed", ascending=False).iloc[0]
        who = labels[list(rows["group"]).index(top["group"])]
        share = f" ({top['disbursed'] / top['committed']:.0%} disbursed)" if top["committed"] > 0 else ""
        title = f"{who} holds the largest commitment: {format_usd(top['committed'])}{share}"
    top_value = float(rows[["committed", "disbursed"]].to_numpy().max()) if not rows.empty else 0.0
    xaxis = {"showgrid": True, "gridcolor": "#E6E9ED"}
    if top_value > 0:
        xaxis = _merge(xaxis, _merge(_usd_axis(top_value), {"range": [0, top_value * 1.2]}))
    layout = {"barmode": "group", "margin": {"r": 60}, "xaxis": xaxis,
              "yaxis": {"autorange": "reversed", "rangemode": "normal", "showgrid": False}}
    return _figure(traces, title, "US dollars, to date", "", layout, height=max(260, 55 * len(rows) + 120))


def burn_figures(burn: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """The funding headline as (label, value, note, help) for metric tiles."""
    if burn.empty or burn.iloc[0]["as_of"] is None:
        return []
    row = burn.iloc[0]
    envelope = float(row["envelope"])
    months = row["months_to_spend_rest"]
    quarters = int(row["quarters_averaged"])
    if float(row["remaining"]) <= envelope * 0.005:
        pace, note = "Spent", f"{format_usd(row['remaining'])} left"
    elif is_missing(months):
        pace, note = "Stalled", f"nothing disbursed in the last {quarters} quarters"
    else:
        pace, note = f"{float(months):,.0f} months", f"at {format_usd(row['rate_per_quarter'])} a quarter"
    return [
        ("CPC envelope", format_usd(envelope), "US government",
         "The US government's CPC Partnership envelope: about US$6.7m with the final-year awards."),
        ("Committed", format_usd(row["committed"]), f"{row['committed'] / envelope:.0%} of the envelope",
         f"US government awards recorded to {row['as_of']}."),
        ("Disbursed", format_usd(row["disbursed"]), f"{row['disbursed'] / envelope:.0%} of the envelope",
         f"US government money paid out to {row['as_of']}."),
        ("Time to spend the rest", pace, note,
         f"The envelope not yet disbursed ({format_usd(row['remaining'])}) divided by the average of the last "
         f"{quarters} quarters ({format_usd(row['rate_per_quarter'])} a quarter)."),
    ]


# ----------------------------------------------------------------------------- indicator status strip


def status_strip(ev: Evaluation, pillars: tuple[str, ...], safe: bool) -> pd.DataFrame:
    """The scorecard rows of the indicators of `pillars` (latest value, target, status in words)."""
    results = [r for r in ev.results if r.pillar in pillars]
    subset = Evaluation(results, [], ev.info, ev.as_of, ev.goal_year)
    return scorecard(subset, safe, {r.id: privacy.result_values(r, safe) for r in results})


def status_lines(strip: pd.DataFrame) -> list[str]:
    """One Markdown line per indicator of a status strip: status in words, name, latest value
    against the target."""
    return [f"**{row['Status']}** · {row['Indicator']}: {row['Latest']} (target {row['Target']})"
            for _, row in strip.iterrows()]
