"""Figures of the pillar pages, from the frames of pillar_data (after pillar_data.shown:
suppressed cells are NaN with `suppressed` True, and are left out of the marks). Each
title states the finding, built only from cells as shown ("<5" where hidden); axis
titles carry units; Okabe-Ito colours; no pies. Returns figures; never calls Streamlit."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from . import codes, pillar_data, privacy
from .charts import CHART_HEIGHT, OKABE_ITO, PILLAR_NAMES, _layout, code_label, scorecard
from .engine import Evaluation
from .formatting import format_usd, format_value, is_missing
from .parish_map import SCALE

GREY = "#AEB7C2"  # "pending", "not recorded", "not referred": the rest, in a quiet grey
DARK = "#3B4A5A"  # targets and envelopes: dark slate, distinct from the data
# Ordinal blues (ColorBrewer), light to dark, for ordered bands.
BLUES = ("#DEEBF7", "#9ECAE1", "#6BAED6", "#2171B5", "#08306B")

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
    "pending": GREY, "unknown": GREY, "not recorded": GREY, pillar_data.NOT_REFERRED: GREY,
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


def name(code: object) -> str:
    """A code as people read it."""
    text = str(code)
    return NAMES.get(text) or (text[:1].upper() + text[1:] if " " in text else code_label(text))


# Characters of a title line in a half-width chart at 1280 px; longer titles wrap.
TITLE_CHARS = 58


def _wrap(text: str, width: int = TITLE_CHARS) -> tuple[str, int]:
    """`text` broken at word boundaries into lines of at most `width` characters (<br>)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines), len(lines)


def _frame(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = CHART_HEIGHT + 40,
           width_chars: int = TITLE_CHARS, legend: bool = True) -> go.Figure:
    """The overview's look (charts._layout), with the title wrapped to the chart's width and the
    legend between the title and the plot, in the order the traces were added."""
    text, lines = _wrap(title, width_chars)
    fig = _layout(fig, text, x_title, y_title, height)
    names = [t.name for t in fig.data if t.showlegend is not False and t.name]
    legend_rows = 1 + sum(len(n) + 6 for n in names) * 7 // 470 if legend and names else 0
    top = 16 + 22 * lines + 24 * legend_rows + 6
    fig.update_layout(
        title={"y": 1 - 8 / height, "yref": "container", "yanchor": "top"},
        margin={"t": top},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "xanchor": "left",
                "traceorder": "normal", "font": {"size": 12}}, showlegend=legend)
    return fig


def _colour(code: str, i: int) -> str:
    return COLOURS.get(code, OKABE_ITO[i % len(OKABE_ITO)])


def _n(value: float | None, hidden: bool = False, min_cell: int = 5) -> str:
    """A count as shown: 1,234, or '<5' when hidden."""
    return format_value(value, "count", suppressed=bool(hidden), min_cell=min_cell)


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


def _years_axis(fig: go.Figure, years: list[int] | pd.Series) -> None:
    years = sorted({int(y) for y in years})
    fig.update_xaxes(tickformat="d", dtick=1 if len(years) <= 12 else 2, type="linear")


def _latest(frame: pd.DataFrame, dim: str = "") -> int | None:
    """The latest year with anything counted (shown or hidden) in the totals."""
    totals = frame[(frame["dim"] == dim)] if "dim" in frame.columns else frame
    present = totals[(totals["value"].fillna(0) > 0) | totals.get("suppressed", False)]
    return int(present["year"].max()) if not present.empty else None


def _trend(values: dict[int, tuple[float | None, bool]], unit: str = "count", min_cell: int = 5) -> str:
    """'rose from 30 in 2015 to 61 in 2025' over the years shown (hidden cells skipped)."""
    known = [(y, v) for y, (v, hidden) in sorted(values.items()) if v is not None and not hidden]
    if len(known) < 2:
        return ""
    (y0, v0), (y1, v1) = known[0], known[-1]
    show = (lambda v: _n(v, min_cell=min_cell)) if unit == "count" else (lambda v: format_value(v, unit))
    if math.isclose(v0, v1):
        return f"held at {show(v1)} from {y0} to {y1}"
    verb = "rose" if v1 > v0 else "fell"
    return f"{verb} from {show(v0)} in {y0} to {show(v1)} in {y1}"


def _empty(fig: go.Figure, message: str) -> go.Figure:
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 15, "color": "#6B7785"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _stacked(frame: pd.DataFrame, dim: str, order: list[str] | None, title: str, y_title: str,
             x_title: str = "Year", min_cell: int = 5, unit: str = "count") -> go.Figure:
    """Stacked bars by year of one breakdown (groups in `order`), the total written on top.
    Groups with nothing in any year are left out of the legend."""
    parts = frame[frame["dim"] == dim]
    totals = frame[frame["dim"] == ""]
    groups = order if order is not None else list(dict.fromkeys(parts["group"]))
    groups = [g for g in groups if (parts.loc[parts["group"] == g, "value"].fillna(0) > 0).any()
              or parts.loc[parts["group"] == g, "suppressed"].any()]
    groups += sorted(g for g in parts["group"].unique() if g not in groups
                     and (parts.loc[parts["group"] == g, "value"].fillna(0) > 0).any())
    fig = go.Figure()
    for i, group in enumerate(groups):
        part = parts[parts["group"] == group].sort_values("year")
        shown = [_n(v, h, min_cell) if unit == "count" else format_value(v, unit, h, min_cell)
                 for v, h in zip(part["value"], part["suppressed"])]
        fig.add_trace(go.Bar(x=part["year"], y=part["value"], name=name(group),
                             marker={"color": _colour(group, i), "line": {"width": 0}},
                             customdata=shown, hovertemplate="%{x} · %{fullData.name}: %{customdata}<extra></extra>"))
    if not totals.empty and unit == "count":
        tops = totals.sort_values("year")
        fig.add_trace(go.Scatter(
            x=tops["year"], y=[_stack_height(parts, y) for y in tops["year"]], mode="text",
            text=[_n(v, h, min_cell) if (v or h) else "" for v, h in zip(tops["value"], tops["suppressed"])],
            textposition="top center", showlegend=False, hoverinfo="skip", textfont={"size": 12, "color": DARK},
            cliponaxis=False))
    fig = _frame(fig, title, x_title, y_title)
    fig.update_layout(barmode="stack", hovermode="closest", bargap=0.25)
    _years_axis(fig, frame["year"])
    _count_axis(fig, max([_stack_height(parts, y) for y in frame["year"].unique()], default=0))
    if not groups:
        _empty(fig, "Nothing recorded for these filters")
    return fig


def _count_axis(fig: go.Figure, top: float) -> None:
    """Whole numbers on a count axis (no 0.5 of a person)."""
    fig.update_yaxes(tickformat=",d", range=[0, max(top * 1.12, top + 0.6, 1)])
    if top <= 10:
        fig.update_yaxes(dtick=1)


def _stack_height(parts: pd.DataFrame, year: int) -> float:
    return float(parts.loc[parts["year"] == year, "value"].fillna(0).sum())


def _largest(frame: pd.DataFrame, dim: str, year: int) -> tuple[str, float | None, bool] | None:
    """The largest shown group of `dim` in `year`: (group, value, hidden)."""
    rows = frame[(frame["dim"] == dim) & (frame["year"] == year) & frame["value"].notna()]
    if rows.empty or rows["value"].max() <= 0:
        return None
    top = rows.sort_values("value", ascending=False).iloc[0]
    return str(top["group"]), float(top["value"]), False


def _target_line(fig: go.Figure, target: tuple[int, float] | None, unit: str) -> None:
    """The indicator's last target as a dashed line, labelled."""
    if target is None:
        return
    year, value = target
    fig.add_hline(y=value, line={"color": DARK, "width": 1.5, "dash": "dash"},
                  annotation={"text": f"{year} target {format_value(value, unit)}", "font": {"size": 12, "color": DARK},
                              "xanchor": "left", "x": 0, "yanchor": "bottom"})


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
    fig = go.Figure(go.Funnel(
        y=[STAGE_NAMES[s] for s in stages], x=[values[s][0] or 0 for s in stages], text=text, textinfo="text",
        textposition="outside", marker={"color": [COLOURS[s] for s in stages]}, connector={"fillcolor": "#EEF1F4"},
        hovertemplate="%{y}: %{text}<extra></extra>", cliponaxis=False))
    i, p, c = (values[s] for s in stages)
    title = (f"{year}: {_n(*i, min_cell)} investigations opened, {_n(*p, min_cell)} defendants charged, "
             f"{_n(*c, min_cell)} convicted")
    fig = _frame(fig, title, "", "", legend=False)
    fig.update_layout(hovermode="closest", margin={"r": 170})
    fig.update_yaxes(rangemode=None)
    return fig


def stages_chart(funnel: pd.DataFrame, min_cell: int = 5) -> go.Figure:
    """The three stages side by side for every year."""
    fig = go.Figure()
    for stage, _, _ in pillar_data.FUNNEL_STAGES:
        part = funnel[funnel["stage"] == stage].sort_values("year")
        shown = [_n(v, h, min_cell) for v, h in zip(part["value"], part["suppressed"])]
        fig.add_trace(go.Bar(x=part["year"], y=part["value"], name=STAGE_NAMES[stage], marker={"color": COLOURS[stage]},
                             text=shown, textposition="outside", cliponaxis=False, textfont={"size": 11},
                             customdata=shown, hovertemplate="%{x} · %{fullData.name}: %{customdata}<extra></extra>"))
    inv = {int(r.year): (None if is_missing(r.value) else r.value, bool(r.suppressed))
           for r in funnel[funnel["stage"] == "investigations"].itertuples()}
    conv = funnel[(funnel["stage"] == "convictions")]
    trend = _trend(inv, min_cell=min_cell)
    title = f"Investigations {trend}" if trend else "Investigations, prosecutions and convictions by year"
    if not conv.empty and not conv["suppressed"].any():
        low, high = int(conv["value"].min()), int(conv["value"].max())
        title += f"; convictions stayed between {low} and {high} a year" if low != high else \
            f"; {low} convictions a year"
    fig = _frame(fig, title, "Year", "People or cases in the year")
    fig.update_layout(barmode="group", hovermode="closest", bargap=0.2)
    _years_axis(fig, funnel["year"])
    return fig


def durations_chart(durations: pd.DataFrame, target: tuple[int, float] | None = None,
                    min_cell: int = 5) -> go.Figure:
    """Months from charge to outcome of the prosecutions concluded each year: a box per year
    (minimum, quartiles, median, maximum, computed in the database)."""
    shown = durations[durations["median"].notna()].sort_values("year")
    fig = go.Figure()
    if not shown.empty:
        fig.add_trace(go.Box(
            x=shown["year"], q1=shown["q1"], median=shown["median"], q3=shown["q3"], lowerfence=shown["min"],
            upperfence=shown["max"], name="Concluded in the year", marker={"color": OKABE_ITO[0]},
            line={"color": OKABE_ITO[0]}, fillcolor="rgba(0,114,178,0.18)", boxpoints=False,
            hovertemplate="%{x}: median %{median:.1f} months<extra></extra>"))
    _target_line(fig, target, "months")
    last = shown.iloc[-1] if not shown.empty else None
    if last is not None:
        medians = {int(r.year): (float(r.median), False) for r in shown.itertuples()}
        trend = _trend(medians, unit="months")
        title = (f"Median months from charge to outcome {trend}" if trend else
                 f"Median time from charge to outcome: {last['median']:.1f} months in {int(last['year'])}")
    else:
        title = "No concluded prosecutions to time for these filters"
    fig = _frame(fig, title, "Year the prosecution concluded", "Months from charge to outcome", legend=False)
    fig.update_layout(hovermode="closest")
    ticks = durations.sort_values("year")
    fig.update_xaxes(tickmode="array", tickvals=list(ticks["year"]),
                     ticktext=[f"{int(r.year)}<br>n={_n(r.concluded, r.suppressed, min_cell)}" for r in ticks.itertuples()])
    return fig


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
        title = (f"All {_n(*total, min_cell)} defendants charged in {year} await an outcome"
                 if pending == total and not total[1] else
                 f"Of the {_n(*total, min_cell)} defendants charged in {year}, {_n(*pending, min_cell)} await an outcome"
                 if (pending[0] or pending[1]) else
                 f"Of the {_n(*total, min_cell)} defendants charged in {year}, {_n(*convicted, min_cell)} were convicted")
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
        parts = [f"{_n(*_cell(victims, year=year, dim='victim_status', group=s), min_cell)} {s}"
                 for s in pillar_data.VICTIM_STATUSES
                 if not victims[(victims["dim"] == "victim_status") & (victims["group"] == s)].empty]
        title = f"{_n(*total, min_cell)} victims identified in {year}" + (f": {', '.join(parts)}" if len(parts) > 1 else "")
        before = _cell(victims, year=year - 1, dim="")
        if before[0] is not None and not before[1] and not total[1] and len(parts) <= 1:
            title += f" (against {_n(*before, min_cell)} in {year - 1})"
    return _stacked(victims, "victim_status", list(pillar_data.VICTIM_STATUSES), title, "Victims identified",
                    "Year identified", min_cell)


def victims_chart(victims: pd.DataFrame, dim: str, min_cell: int = 5) -> go.Figure:
    """Victims identified each year by one breakdown (sex, age group, nationality, form)."""
    order = {"sex": list(codes.SEXES), "age_group": list(codes.AGE_GROUPS),
             "exploitation_type": list(codes.EXPLOITATION_TYPES)}.get(dim)
    if dim == "nationality":
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
    if dim == "exploitation_type":
        return f"suffered {name(group).lower()}" if group not in ("unknown", "other", "mixed") else \
            f"were in the '{name(group).lower()}' form"
    return f"were {name(group)}"


def referral_chart(referral: pd.DataFrame, target: tuple[int, float] | None = None,
                   min_cell: int = 5) -> go.Figure:
    """Share of confirmed child victims referred to care within REFERRAL_DAYS, by year identified."""
    frame = referral.sort_values("year")
    shown = frame[frame["value"].notna()]
    fig = go.Figure()
    hover = [f"{format_value(v, 'percent')} ({_n(n, min_cell=min_cell)} of {_n(d, min_cell=min_cell)})"
             for v, n, d in zip(shown["value"], shown["numerator"], shown["denominator"])]
    fig.add_trace(go.Bar(x=shown["year"], y=shown["value"], name="Referred within 2 days",
                         marker={"color": OKABE_ITO[0]}, text=[format_value(v, "percent") for v in shown["value"]],
                         textposition="outside", cliponaxis=False, customdata=hover,
                         hovertemplate="%{x}: %{customdata}<extra></extra>"))
    hidden = frame[frame["suppressed"]]
    if not hidden.empty:
        fig.add_trace(go.Scatter(x=hidden["year"], y=[2] * len(hidden), mode="text", text=[f"n<{min_cell}"] * len(hidden),
                                 textposition="top center", showlegend=False, hoverinfo="skip",
                                 textfont={"size": 11, "color": "#6B7785"}))
    _target_line(fig, target, "percent")
    values = {int(r.year): (float(r.value), False) for r in shown.itertuples()}
    if values:
        year = max(values)
        trend = _trend(values, unit="percent")
        title = (f"Referrals within {pillar_data.REFERRAL_DAYS} days {trend}" if trend else
                 f"{format_value(values[year][0], 'percent')} referred within {pillar_data.REFERRAL_DAYS} days in {year}")
    else:
        title = "No confirmed child victims to time for these filters"
    fig = _frame(fig, title, "Year identified", "Percent of confirmed child victims", legend=False)
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(ticksuffix="%", range=[0, 110])
    _years_axis(fig, frame["year"])
    return fig


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
    fig = go.Figure()
    if monthly.empty:
        return _empty(_frame(fig, "No child-friendly-space sessions for these filters", "", ""), "No sessions")
    frame = monthly.copy()
    frame["month"] = pd.to_datetime(frame["month"])
    spaces = list(dict.fromkeys(frame.sort_values(["month"])["space"]))
    grid = frame.pivot_table(index="space", columns="month", values="value", aggfunc="sum", dropna=False)
    grid = grid.reindex(index=spaces)
    hidden = frame.pivot_table(index="space", columns="month", values="suppressed", aggfunc="max").reindex(
        index=spaces, columns=grid.columns)
    text = [[("<%d" % min_cell if bool(h) else ("" if is_missing(v) else f"{v:,.0f}"))
             if not (is_missing(v) and not bool(h)) else "not open"
             for v, h in zip(row_v, row_h)] for row_v, row_h in zip(grid.to_numpy(), hidden.fillna(False).to_numpy())]
    fig.add_trace(go.Heatmap(
        z=grid.to_numpy(), x=grid.columns, y=spaces, colorscale=SCALE, zmin=0, xgap=1, ygap=2,
        customdata=text, hovertemplate="%{y}<br>%{x|%b %Y}: %{customdata} sessions<extra></extra>",
        colorbar={"title": {"text": "Sessions in the month", "side": "right"}, "thickness": 12, "outlinewidth": 0}))
    visible = frame[frame["value"].notna()]
    if not visible.empty:
        best = visible.sort_values(["value", "month"], ascending=[False, False]).iloc[0]
        title = (f"{len(spaces)} spaces in use; the busiest month was {best['month']:%b %Y} at "
                 f"{best['space']}: {best['value']:,.0f} sessions")
    else:
        title = "Sessions per space and month"
    fig = _frame(fig, title, "Month", "", height=max(CHART_HEIGHT, 34 * len(spaces) + 110), legend=False)
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(autorange="reversed", rangemode=None, showgrid=False, automargin=True)
    fig.update_xaxes(dtick="M6", tickformat="%b %Y")
    return fig


def capacity_chart(capacity: pd.DataFrame, target: tuple[int, float] | None = None) -> go.Figure:
    """Sessions as a share of the sessions the open spaces could hold, per year."""
    totals = capacity[(capacity["dim"] == "")].sort_values("year")
    shown = totals[totals["value"].notna()]
    fig = go.Figure(go.Bar(
        x=shown["year"], y=shown["value"], marker={"color": OKABE_ITO[0]}, name="Capacity used",
        text=[format_value(v, "percent") for v in shown["value"]], textposition="outside", cliponaxis=False,
        customdata=[f"{format_value(v, 'percent')} ({n:,.0f} sessions of {d:,.0f} possible)"
                    for v, n, d in zip(shown["value"], shown["numerator"], shown["denominator"])],
        hovertemplate="%{x}: %{customdata}<extra></extra>"))
    _target_line(fig, target, "percent")
    values = {int(r.year): (float(r.value), False) for r in shown.itertuples()}
    trend = _trend(values, unit="percent")
    title = (f"Capacity used {trend}" if trend else
             f"Capacity used: {format_value(shown['value'].iloc[-1], 'percent')} in {int(shown['year'].iloc[-1])}"
             if not shown.empty else "No capacity to compare for these filters")
    fig = _frame(fig, title, "Year", "Percent of monthly capacity", legend=False)
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(ticksuffix="%", range=[0, max(100.0, float(shown["value"].max() if not shown.empty else 0) * 1.15)])
    _years_axis(fig, totals["year"])
    return fig


def capacity_by_space_chart(capacity: pd.DataFrame) -> go.Figure:
    """Capacity used by each space in the latest year."""
    spaces = capacity[(capacity["dim"] == "space")]
    year = int(spaces["year"].max()) if not spaces.empty else None
    latest = spaces[(spaces["year"] == year) & spaces["value"].notna()].sort_values("value") if year else spaces
    fig = go.Figure(go.Bar(
        y=latest["group"], x=latest["value"], orientation="h", marker={"color": OKABE_ITO[0]},
        text=[format_value(v, "percent") for v in latest["value"]], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{text}<extra></extra>"))
    if len(latest) >= 2:
        low, high = latest.iloc[0], latest.iloc[-1]
        title = (f"{year}: use ranged from {format_value(low['value'], 'percent')} ({low['group']}) "
                 f"to {format_value(high['value'], 'percent')} ({high['group']})")
    else:
        title = f"Capacity used by space{f', {year}' if year else ''}"
    fig = _frame(fig, title, f"Percent of capacity used{f', {year}' if year else ''}", "",
                  height=max(CHART_HEIGHT, 30 * len(latest) + 110), legend=False)
    fig.update_layout(hovermode="closest", margin={"r": 50})
    fig.update_xaxes(ticksuffix="%", showgrid=True, gridcolor="#E6E9ED", rangemode="tozero")
    fig.update_yaxes(rangemode=None, showgrid=False, automargin=True)
    return fig


def services_chart(services: pd.DataFrame, min_cell: int = 5) -> go.Figure:
    """Sessions in the child-friendly spaces each year by the service given."""
    year = _latest(services)
    top = _largest(services, "service", year) if year is not None else None
    if top is None:
        title = "Services given in the child-friendly spaces"
    else:
        total = _cell(services, year=year, dim="")
        title = f"{name(top[0])} was the most common service in {year}: {_n(top[1], top[2], min_cell)} of " \
                f"{_n(*total, min_cell)} sessions"
    return _stacked(services, "service", list(codes.SERVICES), title, "Sessions", "Year", min_cell)


def parish_values(frame: pd.DataFrame) -> pd.DataFrame:
    """The map's input (parish, value, suppressed) from a per-parish frame of pillar_data."""
    rows = frame[frame["dim"] == "parish"]
    return pd.DataFrame({"parish": rows["group"], "value": rows["value"], "suppressed": rows["suppressed"]})


def map_title(frame: pd.DataFrame, what: str, period: str, min_cell: int = 5) -> str:
    """'Victims identified, 2015–2025: most in St Andrew (78)'."""
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
        title = (f"{_n(*total, min_cell)} people trained in {year}; {name(top[0]).lower() if dim == 'audience' else name(top[0])} "
                 f"{'were the largest audience' if dim == 'audience' else 'trained the most'} "
                 f"({_n(top[1], top[2], min_cell)})")
    return _stacked(trainings, dim, order, title, "Participants", "Year", min_cell)


def trainings_cumulative_chart(cumulative: pd.DataFrame, dim: str = "partner", min_cell: int = 5) -> go.Figure:
    """Participants trained since the first recorded training: the total and each partner (or audience)."""
    fig = go.Figure()
    total = cumulative[cumulative["dim"] == ""].sort_values("year")
    fig.add_trace(go.Scatter(x=total["year"], y=total["value"], name="All partners" if dim == "partner" else "All",
                             mode="lines+markers", line={"color": DARK, "width": 3},
                             customdata=[_n(v, h, min_cell) for v, h in zip(total["value"], total["suppressed"])],
                             hovertemplate="%{x} · %{fullData.name}: %{customdata}<extra></extra>"))
    parts = cumulative[cumulative["dim"] == dim]
    groups = [g for g in (codes.PARTNERS if dim == "partner" else codes.AUDIENCES)
              if (parts.loc[parts["group"] == g, "value"].fillna(0) > 0).any()]
    for i, group in enumerate(groups):
        part = parts[parts["group"] == group].sort_values("year")
        fig.add_trace(go.Scatter(x=part["year"], y=part["value"], name=name(group), mode="lines+markers",
                                 line={"color": OKABE_ITO[i % len(OKABE_ITO)], "width": 2},
                                 customdata=[_n(v, h, min_cell) for v, h in zip(part["value"], part["suppressed"])],
                                 hovertemplate="%{x} · %{fullData.name}: %{customdata}<extra></extra>"))
    shown = total[total["value"].notna()]
    if shown.empty:
        title = "No trainings recorded for these filters"
    else:
        last = shown.iloc[-1]
        first_year = int(total["year"].min())
        title = f"{_n(last['value'], min_cell=min_cell)} people trained from {first_year} to {int(last['year'])}"
        latest = parts[(parts["year"] == last["year"]) & parts["value"].notna()].sort_values("value")
        if not latest.empty:
            title += f"; {name(latest.iloc[-1]['group'])} trained the most ({_n(latest.iloc[-1]['value'], min_cell=min_cell)})"
    fig = _frame(fig, title, "Year", "Participants since the first training")
    fig.update_layout(hovermode="closest")
    _years_axis(fig, total["year"])
    return fig


def _usd_axis(fig: go.Figure, top: float, axis: str = "y") -> None:
    """Money ticks as people read them: US$0, US$2m, US$4m ..."""
    step = 1_000_000 if top > 3_000_000 else 500_000 if top > 1_000_000 else 100_000 if top > 200_000 else 20_000
    ticks = [step * i for i in range(int(top // step) + 2)]
    update = {"tickmode": "array", "tickvals": ticks, "ticktext": [format_usd(t) for t in ticks]}
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(**update)


def funding_cumulative_chart(cumulative: pd.DataFrame, burn: pd.DataFrame) -> go.Figure:
    """US government money committed and disbursed since the first entry, against the CPC envelope."""
    fig = go.Figure()
    for kind, label in (("committed", "Committed (US government)"), ("disbursed", "Disbursed (US government)")):
        fig.add_trace(go.Scatter(
            x=cumulative["quarter"], y=cumulative[kind], name=label, mode="lines", line_shape="hv",
            line={"color": COLOURS[kind], "width": 3 if kind == "disbursed" else 2},
            customdata=[f"{q}: {format_usd(v)}" for q, v in zip(cumulative["label"], cumulative[kind])],
            hovertemplate="%{customdata}<extra>%{fullData.name}</extra>"))
    envelope = pillar_data.CPC_ENVELOPE_USD
    fig.add_hline(y=envelope, line={"color": DARK, "width": 1.5, "dash": "dash"},
                  annotation={"text": f"CPC envelope {format_usd(envelope)}", "xanchor": "left", "x": 0,
                              "yanchor": "bottom", "font": {"size": 12, "color": DARK}})
    row = burn.iloc[0] if not burn.empty else None
    if row is not None and row["as_of"] is not None:
        share = row["disbursed"] / envelope
        title = (f"{format_usd(row['disbursed'])} of the {format_usd(envelope)} CPC envelope disbursed by "
                 f"{row['as_of']} ({share:.0%})")
    else:
        title = "No funding recorded for these filters"
    fig = _frame(fig, title, "Quarter", "US dollars, cumulative")
    fig.update_layout(hovermode="closest")
    top = max([envelope] + [float(cumulative[k].max()) for k in ("committed", "disbursed") if not cumulative.empty])
    _usd_axis(fig, top)
    fig.update_yaxes(range=[0, top * 1.1])
    return fig


def burn_chart(quarterly: pd.DataFrame, burn: pd.DataFrame) -> go.Figure:
    """US government disbursements per quarter, the recent average as a dashed line, and in
    the title how long the rest of the envelope would last at that pace."""
    fig = go.Figure(go.Bar(
        x=quarterly["quarter"], y=quarterly["disbursed"], name="Disbursed in the quarter (US government)",
        marker={"color": OKABE_ITO[0]}, customdata=[f"{q}: {format_usd(v)}" for q, v in
                                                    zip(quarterly["label"], quarterly["disbursed"])],
        hovertemplate="%{customdata}<extra></extra>"))
    row = burn.iloc[0] if not burn.empty else None
    title = "US government disbursements per quarter"
    if row is not None and row["as_of"] is not None:
        rate, remaining = float(row["rate_per_quarter"]), float(row["remaining"])
        recent = quarterly.tail(int(row["quarters_averaged"]))
        if rate > 0:
            fig.add_trace(go.Scatter(
                x=recent["quarter"], y=[rate] * len(recent), mode="lines", name=f"Average of the last {len(recent)} quarters",
                line={"color": OKABE_ITO[1], "width": 2.5, "dash": "dash"},
                hovertemplate=f"Recent average: {format_usd(rate)} a quarter<extra></extra>"))
        title = burn_finding(row)
    fig = _frame(fig, title, "Quarter", "US dollars in the quarter")
    fig.update_layout(hovermode="closest", bargap=0.15)
    top = float(quarterly["disbursed"].max()) if not quarterly.empty else 0.0
    if top > 0:
        _usd_axis(fig, top)
    return fig


def burn_finding(row: pd.Series) -> str:
    """The burn rate in one sentence."""
    rate, remaining, envelope = float(row["rate_per_quarter"]), float(row["remaining"]), float(row["envelope"])
    quarters = int(row["quarters_averaged"])
    if remaining <= envelope * 0.005:
        return f"The CPC envelope is spent: {format_usd(row['disbursed'])} disbursed by {row['as_of']}"
    if rate <= 0:
        return (f"No US government disbursements in the last {quarters} quarters; "
                f"{format_usd(remaining)} of the envelope is unspent")
    months = float(row["months_to_spend_rest"])
    return (f"At the recent pace ({format_usd(rate)} a quarter), the remaining {format_usd(remaining)} "
            f"would take {months:,.0f} months")


def funding_by_chart(funding_by: pd.DataFrame, dim: str) -> go.Figure:
    """US government money committed and disbursed by partner (or pillar)."""
    rows = funding_by[funding_by["dim"] == dim]
    fig = go.Figure()
    for kind, label in (("committed", "Committed"), ("disbursed", "Disbursed")):
        fig.add_trace(go.Bar(
            y=[name(g) if dim == "partner" else PILLAR_NAMES.get(g, name(g)) for g in rows["group"]], x=rows[kind],
            name=label, orientation="h", marker={"color": COLOURS[kind]},
            text=[format_usd(v) for v in rows[kind]], textposition="outside", cliponaxis=False,
            hovertemplate="%{y} · %{fullData.name}: %{text}<extra></extra>"))
    if rows.empty:
        title = f"No US government funding by {dim} for these filters"
    else:
        top = rows.sort_values("committed", ascending=False).iloc[0]
        who = name(top["group"]) if dim == "partner" else PILLAR_NAMES.get(top["group"], name(top["group"]))
        share = f" ({top['disbursed'] / top['committed']:.0%} disbursed)" if top["committed"] > 0 else ""
        title = f"{who} holds the largest commitment: {format_usd(top['committed'])}{share}"
    fig = _frame(fig, title, "US dollars, to date", "", height=max(260, 55 * len(rows) + 120))
    fig.update_layout(barmode="group", hovermode="closest", margin={"r": 60})
    fig.update_yaxes(autorange="reversed", rangemode=None, showgrid=False)
    fig.update_xaxes(showgrid=True, gridcolor="#E6E9ED")
    top = float(rows[["committed", "disbursed"]].to_numpy().max()) if not rows.empty else 0.0
    if top > 0:
        _usd_axis(fig, top, "x")
        fig.update_xaxes(range=[0, top * 1.2])
    return fig


def burn_figures(burn: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The funding headline as (label, value, help) for metric tiles."""
    if burn.empty or burn.iloc[0]["as_of"] is None:
        return []
    row = burn.iloc[0]
    envelope = float(row["envelope"])
    months = row["months_to_spend_rest"]
    if float(row["remaining"]) <= envelope * 0.005:
        pace = "spent"
    elif is_missing(months):
        pace = "no recent disbursements"
    else:
        pace = f"{float(months):,.0f} months"
    return [
        ("CPC envelope", format_usd(envelope), "The US government's CPC Partnership envelope (about US$6.7m)."),
        ("Committed (US government)", format_usd(row["committed"]), f"Awards recorded to {row['as_of']}."),
        ("Disbursed (US government)", f"{format_usd(row['disbursed'])} · {row['disbursed'] / envelope:.0%}",
         f"Money paid out to {row['as_of']}, and its share of the envelope."),
        ("Time to spend the rest", pace,
         f"The envelope not yet disbursed ({format_usd(row['remaining'])}) divided by the average of the last "
         f"{int(row['quarters_averaged'])} quarters ({format_usd(row['rate_per_quarter'])} a quarter)."),
    ]


# ----------------------------------------------------------------------------- indicator status strip


def status_strip(ev: Evaluation, pillars: tuple[str, ...], safe: bool) -> pd.DataFrame:
    """The scorecard rows of the indicators of `pillars` (latest value, target, status in words)."""
    results = [r for r in ev.results if r.pillar in pillars]
    subset = Evaluation(results, [], ev.info, ev.as_of, ev.goal_year)
    values = {r.id: privacy.result_values(r, safe) for r in results}
    return scorecard(subset, safe, values)
