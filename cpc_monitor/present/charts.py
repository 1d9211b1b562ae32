"""Figures and the frames they draw, for the overview and the indicator explorer.

Functions of evaluated indicators (engine.IndicatorResult, engine.Evaluation) and of
privacy.result_values frames; they return plotly figures or pandas frames and never
call Streamlit. Look (design/look.md): a title that states the finding, axis titles
with units, Okabe-Ito colours, the 2030 target dashed, milestones as markers, the
projection dotted, status in words and shapes, suppressed points left out."""
from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from cpc_monitor.evaluation import privacy, progress
from cpc_monitor.evaluation.engine import ERROR, Evaluation, IndicatorResult
from cpc_monitor.present.formatting import format_change, format_status, format_value, is_missing, markdown_text
from cpc_monitor.evaluation.privacy import is_small, min_cell_of, result_counts, result_values, shown_assessment

# Okabe-Ito (colour-blind safe), in the order categories take them.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7", "#F0E442", "#000000")
ACCENT = OKABE_ITO[0]  # observed values: the product's one accent
TARGET_COLOUR = "#3B4A5A"  # targets and milestones: dark slate, distinct from data
PATH_COLOUR = "#8A96A3"  # the path the target needs: quiet grey
PROJECTION_COLOUR = OKABE_ITO[1]
FONT = "Source Sans Pro, Arial, sans-serif"
CHART_HEIGHT = 360  # px: a chart and its legend fit beside the status at 1280x720
# Status groups of the distance-to-2030 view: label, statuses, muted colour, bar pattern
# (a second cue besides colour).
STATUS_GROUPS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("● On track or achieved", ("target_achieved", "on_track"), "#009E73", ""),
    ("◐ Acceleration needed", ("acceleration_needed",), "#E69F00", "/"),
    ("○ Off track", ("limited_progress", "deterioration"), "#D55E00", "x"),
    ("· No judgement", ("monitoring", "insufficient_data", "too_few_cases", "not_judged_subset", ERROR), "#AEB7C2",
     "."),
)
PILLAR_NAMES = {"prosecution": "Prosecution", "protection": "Protection", "prevention": "Prevention",
                "partnership": "Partnership"}
# Axis titles by unit.
AXIS_TITLES = {"count": "Number in the year", "percent": "Percent", "per_100k": "Per 100,000 people",
               "days": "Days", "months": "Months", "usd": "US dollars",
               "jmd": "Jamaican dollars"}
# The explorer's year axis, by reporting period.
YEAR_AXIS = {"calendar": "Year", "tip": "TIP Report year (April to March)"}
# Up to this value a count axis ticks every whole number.
SMALL_AXIS = 8
# Legend entries a row holds at the chart widths used, and the height of a row (px).
LEGEND_PER_ROW = 3
LEGEND_ROW_PX = 24
# Breakdowns with more groups than this are drawn as bars of the latest year, not lines.
MAX_LINES = 6


# Codes whose words are names or acronyms (data-model.md's code lists).
CODE_WORDS = {"cpfsa": "CPFSA", "ngo": "NGO", "ngo_shelter": "NGO shelter", "moj_vsd": "MOJ Victim Services",
              "jcf": "JCF", "indecom": "INDECOM", "iom": "IOM", "goj": "GoJ", "usg": "USG",
              "warnath": "Warnath", "winrock": "Winrock", "tip_act": "TIP Act", "other_law": "Other law",
              "parish_court": "Parish Court", "circuit_court": "Circuit Court"}


def code_label(code: object) -> str:
    """A code as people read it: 'domestic_servitude' -> 'Domestic servitude', 'cpfsa' ->
    'CPFSA'; parishes and ISO codes (JAM) as they are."""
    text = str(code)
    if text in CODE_WORDS:
        return CODE_WORDS[text]
    if text.isupper() or any(ch.isupper() for ch in text[:1]):
        return text
    return text.replace("_", " ").capitalize()


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = CHART_HEIGHT) -> go.Figure:
    """The common look: title stating the finding, axis titles, light grid, and the legend
    at the bottom of the figure, below the x-axis title (room made for its rows)."""
    entries = sum(1 for trace in fig.data if trace.showlegend is not False)
    legend_rows = math.ceil(entries / LEGEND_PER_ROW) if entries > 1 else 0
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        font={"family": FONT, "size": 13, "color": "#1C2733"},
        height=height + LEGEND_ROW_PX * legend_rows,
        margin={"l": 10, "r": 20, "t": 50, "b": 10 + LEGEND_ROW_PX * legend_rows},
        plot_bgcolor="white", paper_bgcolor="white", hovermode="x unified", showlegend=legend_rows > 0,
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0, "title": None},
        colorway=list(OKABE_ITO))
    fig.update_xaxes(title_text=x_title, showgrid=False, linecolor="#AEB7C2", ticks="outside")
    fig.update_yaxes(title_text=y_title, gridcolor="#E6E9ED", zeroline=False, rangemode="tozero")
    return fig


def _whole_ticks(fig: go.Figure, unit: str, horizontal: bool = False) -> None:
    """Counts take whole-number ticks: no '0.5 victims' on an axis of small numbers."""
    if unit != "count":
        return
    arrays = [trace.x if horizontal else trace.y for trace in fig.data]
    values = [float(v) for array in arrays if array is not None for v in array
              if v is not None and not math.isnan(float(v))]
    top = max(values, default=0)
    settings = {"tickformat": ",d"} | ({"dtick": 1} if top <= SMALL_AXIS else {})
    (fig.update_xaxes if horizontal else fig.update_yaxes)(**settings)


def _fmt(value: float | None, unit: str) -> str:
    return format_value(value, unit)


def _hidden(result: IndicatorResult, value: float | None, safe: bool) -> bool:
    """Whether a figure derived from the data must be hidden in presentation-safe mode."""
    if not safe or value is None or result.settings is None:
        return False
    is_count, _ = result_counts(result.unit, result.counted_kinds)
    return is_count and is_small(round(value), result.settings.min_cell)


def shown_value(result: IndicatorResult, value: float | None, safe: bool) -> str:
    """A figure of the indicator as shown: formatted, or '<5' when safe mode hides it."""
    return cell(result, value, _hidden(result, value, safe))


def cell(result: IndicatorResult, value: float | None, suppressed: bool = False) -> str:
    """A value of the indicator for people: '1,234', '71%'; a hidden count reads '<5', a
    hidden rate (its numerator or denominator is a small count) 'hidden (<5)'."""
    limit = min_cell_of(result)
    if suppressed and not result_counts(result.unit, result.counted_kinds)[0]:
        return f"hidden (<{limit})"
    return format_value(value, result.unit, suppressed=suppressed, min_cell=limit)


# ----------------------------------------------------------------------------- indicator series


def _path(method: str, rate: float, start_year: int, start_value: float, end_year: int
          ) -> tuple[list[int], list[float]]:
    """Yearly points from (start_year, start_value) at `rate` to end_year (progress's formula)."""
    years = list(range(start_year, end_year + 1))
    values = [progress._project(method, rate, start_value, y - start_year) for y in years]
    kept = [(y, v) for y, v in zip(years, values) if v is not None]
    return [y for y, _ in kept], [v for _, v in kept]


def series_title(result: IndicatorResult, values: pd.DataFrame, safe: bool = False) -> str:
    """The finding of a series, e.g. 'Rose from 30 in 2018 to 54 in 2025; target 90 by 2030'
    ('2025: below 5, hidden; ...' when safe mode hides the latest value)."""
    target = result.target
    goal = f"; target {format_value(target[1], result.unit)} by {target[0]}" if target is not None else ""
    totals = values[values["dim"] == ""] if not values.empty else values
    totals = totals[totals["value"].notna() | totals["suppressed"]] if not totals.empty else totals
    if totals.empty:
        return "No values yet" + goal
    last = totals.iloc[-1]
    year = int(last["year"])
    if bool(last["suppressed"]):
        limit = min_cell_of(result)
        what = "a count" if result_counts(result.unit, result.counted_kinds)[0] else "based on a count"
        return f"{year}: {what} below {limit}, hidden" + goal
    value = float(last["value"])
    text = f"{format_value(value, result.unit)} in {year}"
    # The title describes the line drawn: the observed value of the baseline's year (a stated
    # baseline that differs from the data is shown beside it, not put in its place).
    a = shown_assessment(result, safe)
    known = totals[totals["value"].notna()]
    start = known[known["year"] == a.base_year] if a is not None and a.base_year is not None else known.iloc[0:0]
    if not start.empty and a.base_year != year:
        before = float(start["value"].iloc[0])
        change = value - before
        verb = "Rose" if change > 0 else "Fell" if change < 0 else ""
        text = (f"{verb} from {format_value(before, result.unit)} in {a.base_year} to {text}" if verb
                else f"{text[:1].upper()}{text[1:]}, as in {a.base_year}")
    else:
        text = "Reached " + text
    return text + goal


def series_chart(result: IndicatorResult, values: pd.DataFrame, safe: bool = False) -> go.Figure:
    """The yearly totals of one indicator with its baseline, milestones, target, the path
    the target needs and the projected path. `values` come from privacy.result_values
    (suppressed points are NaN and left out)."""
    fig = go.Figure()
    unit = result.unit
    totals = values[values["dim"] == ""] if not values.empty else values
    shown = totals[totals["value"].notna()] if not totals.empty else totals
    hover = "%{x}: %{customdata}<extra>%{fullData.name}</extra>"
    if not shown.empty:
        # Every year, hidden ones as gaps: a line never runs across a hidden year as if it were known.
        fig.add_trace(go.Scatter(
            x=totals["year"], y=totals["value"], name="Observed", mode="lines+markers", connectgaps=False,
            line={"color": ACCENT, "width": 3}, marker={"size": 8},
            customdata=[cell(result, v, bool(h)) for v, h in zip(totals["value"], totals["suppressed"])],
            hovertemplate=hover))
    hidden = totals[totals["suppressed"]] if not totals.empty else totals
    if not hidden.empty:
        fig.add_trace(go.Scatter(
            x=hidden["year"], y=[0] * len(hidden), mode="text", text=[f"<{min_cell_of(result)}"] * len(hidden),
            textposition="top center", showlegend=False, hoverinfo="skip", textfont={"size": 11, "color": "#6B7785"}))
    a = shown_assessment(result, safe)
    if a is not None and a.base_year is not None and a.base_value is not None:
        fig.add_trace(go.Scatter(
            x=[a.base_year], y=[a.base_value], name=f"Baseline {a.base_year}", mode="markers",
            marker={"symbol": "diamond", "size": 13, "color": "white", "line": {"color": TARGET_COLOUR, "width": 2}},
            customdata=[_fmt(a.base_value, unit)], hovertemplate=hover))
        if a.target is not None and a.required_rate is not None:
            xs, ys = _path(a.method_used, a.required_rate, a.base_year, a.base_value, a.target_year)
            fig.add_trace(go.Scatter(
                x=xs, y=ys, name="Path the target needs", mode="lines",
                line={"color": PATH_COLOUR, "width": 2, "dash": "dash"},
                customdata=[_fmt(v, unit) for v in ys], hovertemplate=hover))
    if (a is not None and a.rate is not None and a.current_year is not None and a.current_value is not None
            and a.current_year < a.target_year):
        xs, ys = _path(a.method_used, a.rate, a.current_year, a.current_value, a.target_year)
        bound = result.verdict.bound if result.verdict is not None else None
        if bound is not None:  # the projection stops at what is possible (100%, the envelope)
            ys = [min(v, bound) if bound > 0 else max(v, bound) for v in ys]
        # A runaway trend (growth from a small start) would flatten everything else: the line
        # stops where it leaves the chart, and its name says when.
        top = 1.5 * max([float(v) for v in shown["value"]] + ([result.target[1]] if result.target else []) + [0])
        name = "Projected at the current pace"
        if top > 0 and any(v > top for v in ys):
            first = next(i for i, v in enumerate(ys) if v > top)
            name += f" (passes {_fmt(top, unit)} in {xs[first]})"
            xs, ys = xs[:first], ys[:first]
        if not any(_hidden(result, v, safe) for v in ys):
            fig.add_trace(go.Scatter(
                x=xs, y=ys, name=name, mode="lines",
                line={"color": PROJECTION_COLOUR, "width": 3, "dash": "dot"},
                customdata=[_fmt(v, unit) for v in ys], hovertemplate=hover))
    if result.milestones:
        fig.add_trace(go.Scatter(
            x=[m.year for m in result.milestones], y=[m.target for m in result.milestones],
            name="Milestones", mode="markers",
            marker={"symbol": "circle-open", "size": 13, "color": TARGET_COLOUR, "line": {"width": 2}},
            customdata=[_fmt(m.target, unit) for m in result.milestones], hovertemplate=hover))
    target = result.target
    if target is not None:
        fig.add_hline(y=target[1], line={"color": TARGET_COLOUR, "width": 1.5, "dash": "dash"})
        fig.add_trace(go.Scatter(
            x=[target[0]], y=[target[1]], name=f"{target[0]} target: {_fmt(target[1], unit)}", mode="markers",
            marker={"symbol": "star", "size": 15, "color": TARGET_COLOUR},
            customdata=[_fmt(target[1], unit)], hovertemplate=hover))
    fig = _layout(fig, series_title(result, values, safe), YEAR_AXIS.get(result.period, "Year"),
                  AXIS_TITLES.get(unit, unit))
    fig.update_xaxes(dtick=1 if _span(fig) <= 8 else 2, tickformat="d")
    _whole_ticks(fig, unit)
    if unit == "percent":
        fig.update_yaxes(ticksuffix="%")
    return fig


def _span(fig: go.Figure) -> int:
    years = [x for trace in fig.data for x in (trace.x if trace.x is not None else ())]
    return int(max(years) - min(years)) if years else 0


# ----------------------------------------------------------------------------- breakdowns


def breakdown_title(frame: pd.DataFrame, dim: str, unit: str, min_cell: int,
                    labels: dict[str, str] | None = None) -> str:
    """The finding of a breakdown: the largest group of the latest year (or that some of
    its cells are hidden, when safe mode hides any: the largest shown may not be largest)."""
    shown = frame[frame["value"].notna()]
    by = f"By {code_label(dim).lower()}"
    if shown.empty:
        return f"{by}: no values to show"
    year = int(frame["year"].max())
    if frame[(frame["year"] == year)]["suppressed"].any():
        return f"{by}: in {year}, counts below {min_cell} are hidden"
    year = int(shown["year"].max())
    latest = shown[shown["year"] == year].sort_values("value", ascending=False)
    top = latest.iloc[0]
    name = (labels or {}).get(str(top["group"])) or code_label(top["group"])  # the file's label: JAM -> Jamaica
    if unit in ("count", "usd", "jmd") and not top["value"] > 0:
        return f"{by}: none in {year}"  # no group is largest among zeros
    if unit in ("count", "usd", "jmd"):
        total = latest["value"].sum()
        share = f" ({top['value'] / total:.0%})" if total > 0 and len(latest) > 1 else ""
        return f"{by}: {name} largest in {year}{share}"
    return f"{by}: {name} highest in {year} ({format_value(top['value'], unit)})"


def breakdown_chart(values: pd.DataFrame, dim: str, unit: str, min_cell: int,
                    labels: dict[str, str] | None = None) -> go.Figure:
    """One disaggregation of an indicator: lines by group over the years (few groups), or
    bars of the latest year (many). Suppressed cells (NaN) are left out."""
    frame = values[(values["dim"] == dim)].copy()
    frame["label"] = frame["group"].map(lambda g: (labels or {}).get(str(g)) or code_label(g))
    shown = frame[frame["value"].notna()]
    y_title = AXIS_TITLES.get(unit, unit)
    fig = go.Figure()
    groups = list(dict.fromkeys(shown.sort_values("value", ascending=False)["label"]))
    if len(groups) <= MAX_LINES:
        for i, group in enumerate(groups):
            part = shown[shown["label"] == group].sort_values("year")
            fig.add_trace(go.Scatter(x=part["year"], y=part["value"], name=group, mode="lines+markers",
                                     line={"color": OKABE_ITO[i % len(OKABE_ITO)], "width": 2},
                                     customdata=[format_value(v, unit) for v in part["value"]],
                                     hovertemplate="%{x}: %{customdata}<extra>%{fullData.name}</extra>"))
        fig = _layout(fig, breakdown_title(frame, dim, unit, min_cell, labels), "Year", y_title)
        fig.update_xaxes(tickformat="d", dtick=1 if shown["year"].nunique() <= 8 else 2)
        _whole_ticks(fig, unit)
    else:
        year = int(shown["year"].max()) if not shown.empty else None
        latest = shown[shown["year"] == year].sort_values("value") if year else shown
        fig.add_trace(go.Bar(x=latest["value"], y=latest["label"], orientation="h", marker={"color": ACCENT},
                             text=[format_value(v, unit) for v in latest["value"]], textposition="outside",
                             cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>", showlegend=False))
        fig = _layout(fig, breakdown_title(frame, dim, unit, min_cell, labels), y_title + (f", {year}" if year else ""), "",
                      height=max(CHART_HEIGHT, 28 * len(latest) + 90))
        fig.update_yaxes(rangemode=None, showgrid=False)
        fig.update_xaxes(gridcolor="#E6E9ED", showgrid=True, rangemode="tozero")
        _whole_ticks(fig, unit, horizontal=True)
    if unit == "percent":
        fig.update_yaxes(ticksuffix="%") if len(groups) <= MAX_LINES else fig.update_xaxes(ticksuffix="%")
    return fig


# ----------------------------------------------------------------------------- scorecard frames


@dataclass(frozen=True)
class Headline:
    """One headline figure: the latest year's value and its change against the year before."""

    id: str
    label: str
    value: str
    change: str
    year: int | None
    direction: str


def headline(result: IndicatorResult, values: pd.DataFrame, safe: bool) -> Headline:
    """The latest value of `result` and the change against the year before (hidden in safe
    mode when either year's figure is a small count)."""
    totals = values[(values["dim"] == "")] if not values.empty else values
    known = totals[totals["value"].notna()] if not totals.empty else totals
    suppressed = totals[totals["suppressed"]] if not totals.empty else totals
    if known.empty and suppressed.empty:
        return Headline(result.id, result.name, "–", "", None, result.direction)
    last_year = int(max(list(known["year"]) + list(suppressed["year"])))
    row = totals[totals["year"] == last_year].iloc[0]
    value = cell(result, row["value"], bool(row["suppressed"]))
    before = totals[totals["year"] == last_year - 1]
    change = ""
    if not before.empty and not bool(row["suppressed"]) and not bool(before.iloc[0]["suppressed"]):
        change = format_change(float(row["value"]) - float(before.iloc[0]["value"]), result.unit)
        if change:
            change += f" on {last_year - 1}"
    return Headline(result.id, result.name, value, change, last_year, result.direction)


def next_milestone(result: IndicatorResult, latest_year: int | None, hidden: Collection[int] = ()) -> str:
    """The next milestone after the latest year ('80 (2027)'), else the last one passed
    with its verdict ('70 (2025) missed'). `hidden`: the years safe mode hides."""
    if not result.milestones:
        return "–"
    for m in result.milestones:
        if latest_year is None or m.year > latest_year:
            return f"{format_value(m.target, result.unit)} ({m.year})"
    m = result.milestones[-1]
    verdict = milestone_verdict(result, m, hidden)
    return f"{format_value(m.target, result.unit)} ({m.year})" + (f" {verdict}" if verdict else "")


def milestone_verdict(result: IndicatorResult, m: progress.MilestoneCheck, hidden: Collection[int] = ()) -> str:
    """'met', 'missed', 'not yet known'; 'value hidden' where the year is in `hidden` (the
    years safe mode hides: met or missed would narrow the value); '' for an indicator that is
    monitored, not judged."""
    if result.direction == "monitor":
        return ""
    if m.value is not None and m.year in hidden:
        return "value hidden"
    return {True: "met", False: "missed", None: "not yet known"}[m.met]


def scorecard(ev: Evaluation, safe: bool, values: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per indicator: id, pillar, name, latest value, baseline, next milestone,
    target, status, and the share of the base-to-target distance covered (0-100).
    `values`: each result's privacy.result_values frame, by id.

    A year is written beside a value only where it differs from the common one, kept in
    frame.attrs["latest_year"] and ["base_year"] for the column headings."""
    latest = {r.id: _latest_shown(values.get(r.id)) for r in ev.results}
    latest_year = max((y for y, _ in latest.values() if y is not None), default=None)
    base_years = [r.assessment.base_year for r in ev.results if r.assessment and r.assessment.base_year]
    base_year = max(set(base_years), key=base_years.count) if base_years else None
    rows = []
    for r in ev.results:
        a = shown_assessment(r, safe, values.get(r.id) if safe else None)
        year, (value, hidden) = latest[r.id]
        hidden_in = privacy.hidden_years(values.get(r.id)) if safe else set()
        target = r.target
        covered = distance_covered(a)
        rows.append({
            "id": r.id,
            "pillar": r.pillar,
            "Indicator": r.name,
            "Kind": r.kind,
            "Latest": "–" if year is None else cell(r, value, hidden) + _year_note(year, latest_year),
            "Baseline": _figure_cell(r, r.assessment and r.assessment.base_value, a and a.base_value, safe)
                        + (_year_note(a.base_year, base_year) if a is not None and a.base_value is not None else ""),
            "Next milestone": next_milestone(r, year, hidden_in),
            "Target": "–" if target is None else format_value(target[1], r.unit) + _year_note(target[0], ev.goal_year),
            "Status": verdict_words(r, hidden_in),
            "Distance covered": covered,
            "code": shown_status(r),
            "missed": shown_missed_milestone(r, hidden_in) is not None,
        })
    frame = pd.DataFrame(rows, columns=["id", "pillar", "Indicator", "Kind", "Latest", "Baseline", "Next milestone",
                                        "Target", "Status", "Distance covered"] + SCORECARD_KEYS)
    frame.attrs.update(latest_year=latest_year, base_year=base_year, goal_year=ev.goal_year)
    return frame


# The scorecard's columns for machines, not people (views and tiles read them; CSVs drop them):
# the status code shown, and whether a missed milestone is stated.
SCORECARD_KEYS = ["code", "missed"]
# The scorecard's views: name -> which of its rows it keeps (an auditor's first questions).
SCORECARD_VIEWS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "all": lambda t: pd.Series(True, index=t.index),
    "missed a milestone": lambda t: t["missed"],
    "off track or slowing": lambda t: t["code"].isin(("acceleration_needed", "limited_progress", "deterioration")),
    "too few cases to judge": lambda t: t["code"] == "too_few_cases",
}


def scorecard_rows(table: pd.DataFrame, view: str) -> pd.DataFrame:
    """The scorecard's rows that `view` (a SCORECARD_VIEWS name) keeps, in the table's order."""
    return table[SCORECARD_VIEWS[view](table).astype(bool)]


def distance_covered(a) -> float | None:
    """The share of the way from the baseline to the target covered, 0-100: a value past the
    target has covered all of it, one that moved away none (the words say which)."""
    if a is None or a.status_to_date is None:
        return None
    return max(0.0, min(100.0, a.status_to_date * 100))


def distance_words(a) -> str:
    """'40%', '100% (past the target)', '0% (moved away from the target)', or '–'."""
    covered = distance_covered(a)
    if covered is None:
        return "–"
    note = " (past the target)" if a.status_to_date > 1 else " (moved away from the target)" if a.status_to_date < 0 else ""
    return f"{covered:.0f}%{note}"


def _year_note(year: int | None, common: int | None) -> str:
    return "" if year is None or year == common else f" ({year})"


def _latest_shown(values: pd.DataFrame | None) -> tuple[int | None, tuple[float | None, bool]]:
    """The latest year with a value (or a hidden one) and (value, suppressed)."""
    if values is None or values.empty:
        return None, (None, False)
    totals = values[values["dim"] == ""]
    present = totals[totals["value"].notna() | totals["suppressed"]]
    if present.empty:
        return None, (None, False)
    row = present.iloc[-1]
    return int(row["year"]), (None if is_missing(row["value"]) else float(row["value"]), bool(row["suppressed"]))


def pillar_tile(results: list[IndicatorResult], rollup: progress.PillarRollup,
                missed_ids: Collection[str] = ()) -> str:
    """What a pillar's tile says under its status: its outcomes on track and its score, the
    outcomes with too few cases or a missed milestone (`missed_ids`: the scorecard's), and
    its inputs (money, trainings) on a line of their own, since they are not scored."""
    outcomes = [r for r in results if r.kind == "outcome"]
    inputs = [r for r in results if r.kind == "input"]
    on_track = STATUS_GROUPS[0][0]
    text = (f"{status_counts(outcomes)[on_track]} of {len(outcomes)} on track · {score_text(rollup.score)}"
            if outcomes else "no outcome indicators · no score")
    too_few = sum(shown_status(r) == "too_few_cases" for r in outcomes)
    if too_few:
        text += f"  \n{too_few} with too few cases to judge"
    missed = sum(r.id in missed_ids for r in outcomes)
    if missed:
        text += f"  \n{missed} missed {'a milestone' if missed == 1 else 'milestones'}"
    if inputs:
        text += f"  \ninputs (not scored): {status_counts(inputs)[on_track]} of {len(inputs)} on track"
    return text


def status_counts(results: Iterable[IndicatorResult]) -> dict[str, int]:
    """How many indicators fall in each STATUS_GROUPS group."""
    statuses = [shown_status(r) for r in results]
    return {name: sum(s in members for s in statuses) for name, members, _, _ in STATUS_GROUPS}


def shown_status(result: IndicatorResult) -> str:
    """The status a screen shows: the verdict (which knows its evidence), else the method's."""
    return result.verdict.code if result.verdict is not None else result.status


def shown_missed_milestone(result: IndicatorResult, hidden: Collection[int] = ()) -> tuple[int, float] | None:
    """The missed milestone a screen states: none where its year is in `hidden` (safe mode)."""
    v = result.verdict
    if v is None or v.missed_milestone is None or v.missed_milestone[0] in hidden:
        return None
    return v.missed_milestone


def verdict_words(result: IndicatorResult, hidden: Collection[int] = ()) -> str:
    """'● On track · missed the 2025 milestone (80%)': the status with what it must not hide
    (a milestone whose year safe mode hides, `hidden`, is not called missed)."""
    text = format_status(shown_status(result))
    missed = shown_missed_milestone(result, hidden)
    if missed is not None:
        year, target = missed
        text += f" · missed the {year} milestone ({format_value(target, result.unit)})"
    return text


def distance_chart(ev: Evaluation, latest_year: int | None) -> go.Figure:
    """Distance to 2030: per pillar, how many indicators are on track, need acceleration,
    are off track or have no judgement, as stacked bars with counts and words."""
    pillars = list(PILLAR_NAMES)
    fig = go.Figure()
    for name, members, colour, pattern in STATUS_GROUPS:
        counts = [sum(shown_status(r) in members for r in ev.results if r.pillar == p) for p in pillars]
        fig.add_trace(go.Bar(
            y=[PILLAR_NAMES[p] for p in pillars], x=counts, name=name, orientation="h",
            marker={"color": colour, "pattern": {"shape": pattern, "fgcolor": "rgba(255,255,255,0.55)",
                                                "size": 7, "fillmode": "overlay"}},
            text=[str(c) if c else "" for c in counts], textposition="inside", insidetextanchor="middle",
            textfont={"color": "white", "size": 14},
            hovertemplate="%{y}: %{x} " + name[2:].lower() + "<extra></extra>"))
    total = status_counts(ev.results)
    on_track = total[STATUS_GROUPS[0][0]]
    years_left = ev.goal_year - latest_year if latest_year else None
    when = f" · {years_left} years left" if years_left is not None else ""
    title = f"{on_track} of {len(ev.results)} on track or achieved{when}"
    fig = _layout(fig, title, "Number of indicators", "", height=260)
    fig.update_layout(barmode="stack", hovermode="closest", legend={"traceorder": "normal"})
    fig.update_yaxes(autorange="reversed", rangemode=None)
    fig.update_xaxes(showgrid=True, gridcolor="#E6E9ED", dtick=1)
    return fig


def pillar_status(status: progress.Status | None) -> str:
    """A pillar's status in words with its shape; 'No judgement yet' when unscored."""
    return format_status(getattr(status, "value", status)) if status is not None else "· No judgement yet"


def score_text(score: float | None) -> str:
    """A pillar score as presenters say it: 'score +1.4' (on Open SDG's −5 to +5)."""
    return "no score" if score is None or math.isnan(score) else f"score {score:+.1f}"


# ----------------------------------------------------------------------------- an indicator in words

# How each aggregate reads in a sentence, over its expression.
AGG_WORDS = {"count": "Counts the records", "count_distinct": "Counts the distinct values of {}",
             "sum": "Adds up {}", "avg": "Averages {}", "median": "Takes the median of {}",
             "min": "Takes the smallest {}", "max": "Takes the largest {}"}
DIRECTION_WORDS = {"increase": "higher is better", "decrease": "lower is better",
                   "monitor": "monitored without a judgement"}
ROLE_WORDS = {"measure": "What is counted", "numerator": "Numerator", "denominator": "Denominator"}
PERIOD_WORDS = {"calendar": "calendar years, January to December",
                "tip": "TIP Report years, April to March, named by the year they end in (TIP year 2024: "
                       "April 2023 to March 2024); a TIP year the data do not cover whole is left out"}


def measure_words(measure, segments: dict[str, str]) -> str:
    """A measure in plain words, its SQL fragments quoted: 'Counts the records of `victims`
    by the year of `identified_date`, where minor (`age < 18`) and ...'."""
    agg = AGG_WORDS.get(measure.agg, measure.agg)
    if measure.agg == "count" and measure.expr:
        agg = f"Counts the records with a value of `{measure.expr}`"
    text = agg.format(f"`{measure.expr}`") + f" in the table `{measure.table}`"
    if measure.until:
        text += (f", open at each year's end (`as_of`): from `{measure.date}` until `{measure.until}`, an empty "
                 f"`{measure.until}` meaning still open")
    else:
        text += (f", by the year of `{measure.date}`" if measure.date else f", by the year in `{measure.year}`")
    if measure.where:
        conditions = [f"{w} (`{segments[w]}`)" if w in segments else f"`{w}`" for w in measure.where]
        text += ", where " + " and ".join(conditions)
    if measure.cumulative:
        text += "; a running total since the first year"
    return text + "."


def definition(result: IndicatorResult, segments: dict[str, str], in_force: Iterable[str] = (),
               safe: bool = False) -> list[tuple[str, str]]:
    """The indicator's definition from the YAML as (label, words) pairs; `in_force`: the
    names of the column filters in force (parish, sex ...). A stated baseline that is a
    small count is hidden in safe mode, as measured figures are."""
    ind = result.indicator
    if ind is None:
        return []
    rows = [("Description", ind.description or "–")]
    rows += [(ROLE_WORDS[role], measure_words(m, segments)) for role, m in ind.parts.items()]
    if ind.is_ratio:
        rows.append(("Value", "Numerator ÷ denominator" + (f" × {ind.factor:,.0f}" if ind.factor != 1 else "")))
    rows.append(("Unit and direction", f"{AXIS_TITLES.get(ind.unit, ind.unit)}; {DIRECTION_WORDS[ind.direction]}"))
    if ind.kind == "input":
        rows.append(("Kind", "an input (money or trainings): judged and shown beside the pillar's outcomes, "
                             "not counted in its score"))
    rows.append(("Years", PERIOD_WORDS.get(result.period, result.period)
                 + (" (chosen in the sidebar)" if result.period != ind.period else "")))
    applied = sorted({f for names in result.filters_applied.values() for f in names})
    ignored = [f for f in in_force if f not in applied]
    words = "the year range" + "".join(f", {code_label(f).lower()}" for f in applied)
    if ignored:
        words += "; not " + ", ".join(code_label(f).lower() for f in ignored) + " (its tables have no such column)"
    rows.append(("Sidebar filters applied", words))
    if ind.disaggregations:
        rows.append(("Broken down by", ", ".join(code_label(d).lower() for d in ind.disaggregations)))
    if ind.baseline:
        rows.append(("Baseline", f"{shown_value(result, ind.baseline.value, safe)} in {ind.baseline.year} (stated)"))
    rows.append(("Targets", "; ".join(f"{format_value(t.value, ind.unit)} by {t.year}" for t in ind.targets) or "none"))
    if result.plan is not None and result.plan.scope not in ("", "subset"):
        rows.append((f"Targets for {code_label(result.plan.scope.split(' ')[0]).lower()} "
                     f"{code_label(result.plan.scope.split(' ', 1)[1])}",
                     "; ".join(f"{format_value(t.value, ind.unit)} by {t.year}" for t in result.plan.targets)
                     + " (the status is judged against these)"))
    for name, value in (("Source", ind.source), ("Owner", ind.owner), ("SDG targets", ", ".join(ind.sdg))):
        if value:
            rows.append((name, value))
    return rows


def _rate_words(rate: float | None, method: str, unit: str) -> str:
    if rate is None:
        return "–"
    if method == "opensdg":
        return f"{rate * 100:+.1f}% a year"
    return f"{'+' if rate >= 0 else '−'}{format_value(abs(rate), unit)} a year"


def _figure_cell(result: IndicatorResult, exact: float | None, shown: float | None, safe: bool) -> str:
    """A figure of the assessment as shown: '–' when there is none, hidden when privacy hid it."""
    if exact is None:
        return "–"
    if shown is None:
        return cell(result, None, True)
    return shown_value(result, shown, safe)


def _projection(result: IndicatorResult, exact, shown, safe: bool) -> str:
    """The projection within its bounds: 'reaches 100% in 2027' rather than an impossible 221%."""
    v = result.verdict
    if shown.projected is None or v is None or v.bound is None:
        return _figure_cell(result, exact.projected, shown.projected, safe)
    when = f" in {v.bound_year}" if v.bound_year else f" by {shown.target_year}"
    return f"reaches {format_value(v.bound, result.unit)}{when} (the most it can be)"


def _provenance(result: IndicatorResult, safe: bool) -> str:
    """Where a baseline comes from, stated beside what the data give for its year."""
    stated = result.plan.baseline if result.plan is not None else None
    if stated is None:
        return " (the data's own value: no baseline is recorded)"
    where = stated.source or stated.agreed or "no source given"
    measured = result.measured_baseline
    data = "" if measured is None or is_missing(measured) else f"; the data give {shown_value(result, measured, safe)}"
    return f" (stated: {where}{data})"


def evidence_words(result: IndicatorResult, safe: bool) -> str:
    """'9 cases behind the 2025 value (10 needed to judge)', or '' when the value is an amount.
    In safe mode a small number of cases reads "<5"."""
    v = result.verdict
    if v is None or v.cases is None or result.assessment is None:
        return ""
    limit = min_cell_of(result)
    count = f"<{limit}" if safe and is_small(v.cases, limit) else f"{v.cases:,.0f}"
    plural = "" if count == "1" else "s"
    text = f"{count} case{plural} behind the {result.assessment.current_year} value ({v.minimum} needed to judge)"
    shown = shown_assessment(result, safe)
    if v.interval is not None and shown is not None and shown.current_value is not None:
        text += (f"; exact 95% interval {format_value(v.interval.low, result.unit)} to "
                 f"{format_value(v.interval.high, result.unit)}")
    return text


def verdict_reason(result: IndicatorResult, safe: bool) -> str:
    """Why the status shown is not the method's, in plain words ('' when it is)."""
    v = result.verdict
    if v is None or v.code == result.status:
        return ""
    if v.code == "too_few_cases" and v.cases is not None and v.cases >= v.minimum:  # chance, not the count
        return (f"Too few cases to judge: {v.reason}. The method alone would say "
                f"\u201c{format_status(result.status)}\u201d; it is shown, not counted in the pillar's score.")
    if v.code == "too_few_cases":
        return (f"Too few cases to judge: {evidence_words(result, safe)}. The method alone would say "
                f"\u201c{format_status(result.status)}\u201d; it is shown, not counted in the pillar's score.")
    return v.reason[:1].upper() + v.reason[1:] + "."


def status_figures(result: IndicatorResult, safe: bool) -> pd.DataFrame:
    """The figures behind the status (base, latest, target, projection, pace, distance,
    milestones); in safe mode every figure derived from a hidden value is hidden with it
    (privacy.shown_assessment)."""
    exact = result.assessment
    if exact is None:
        return pd.DataFrame(columns=["Figure", "Value"])
    a = shown_assessment(result, safe)
    unit = result.unit
    gone = f"hidden (<{min_cell_of(result)})"

    def derived(before: object, after: object, text: str) -> str:
        return gone if before is not None and after is None else text

    hidden = privacy.hidden_years(result_values(result, True)) if safe else set()
    rows = [("Status", verdict_words(result, hidden)),
            ("Evidence", evidence_words(result, safe) or "an amount, not a count of cases"),
            ("Baseline", _figure_cell(result, exact.base_value, a.base_value, safe)
             + (f" in {a.base_year}" if a.base_value is not None else "") + _provenance(result, safe)),
            ("Latest", _figure_cell(result, exact.current_value, a.current_value, safe)
             + (f" in {a.current_year}" if a.current_value is not None else "")),
            ("Target", "none" if a.target is None else f"{format_value(a.target, unit)} by {a.target_year}"),
            (f"Projected for {a.target_year}", _projection(result, exact, a, safe)),
            ("Distance covered", derived(exact.status_to_date, a.status_to_date, distance_words(a))),
            ("Yearly change so far", derived(exact.rate, a.rate, _rate_words(a.rate, a.method_used, unit))),
            ("Yearly change needed", derived(exact.required_rate, a.required_rate,
                                             _rate_words(a.required_rate, a.method_used, unit))),
            ("Pace ratio (so far ÷ needed)", derived(exact.ratio, a.ratio, "–" if a.ratio is None else f"{a.ratio:.2f}")),
            ("Method", "growth rates (Open SDG)" if a.method_used == "opensdg" else "linear trend")]
    for m in result.milestones:
        verdict = milestone_verdict(result, m, hidden)
        seen = "" if m.value is None else f" (value {shown_value(result, m.value, safe)})"
        rows.append((f"Milestone {m.year}", f"{format_value(m.target, unit)}" + (f": {verdict}" if verdict else "")
                     + seen))
    return pd.DataFrame(rows, columns=["Figure", "Value"])


def explanation(result: IndicatorResult, safe: bool) -> str:
    """What happened, in plain words with units: 'Rose from 40% in 2018 to 67% in 2025, about
    3.9 points a year. Reaching 95% by 2030 needs a rise of 5.6 points a year from now.' No
    ratios or method notes (the figures table has them), and nothing derived
    from a value that safe mode hides."""
    a = result.assessment
    if a is None or a.current_value is None or a.current_year is None:
        return ""
    if shown_assessment(result, safe) is not a:
        return ("The status is judged on the exact figures; some of them rest on counts below "
                f"{min_cell_of(result)}, hidden in presentation-safe mode.")
    unit = result.unit
    now = f"{format_value(a.current_value, unit)} in {a.current_year}"
    sentences = []
    # The observed value of the baseline's year, as the chart's title and line show it.
    before = result.series().get(a.base_year) if a.base_year is not None else None
    if before is not None and a.base_year < a.current_year:
        change = a.current_value - before
        verb = "Rose" if change > 0 else "Fell" if change < 0 else "Held"
        per_year = _per_year_words(abs(change) / (a.current_year - a.base_year), unit)
        sentences.append(f"Held at {now} since {a.base_year}." if verb == "Held" else
                         f"{verb} from {format_value(before, unit)} in {a.base_year} to {now}, "
                         f"about {per_year} a year.")
    else:
        sentences.append(f"{now[:1].upper()}{now[1:]}; no earlier value to compare with.")
    target = result.target
    if target is not None and result.direction != "monitor":
        year, value = target
        met = a.current_value >= value if result.direction == "increase" else a.current_value <= value
        if met:
            sentences.append(f"The {year} target of {format_value(value, unit)} is already met.")
        elif year > a.current_year:
            need = _per_year_words(abs(value - a.current_value) / (year - a.current_year), unit)
            move = "rise" if value > a.current_value else "fall"
            sentences.append(f"Reaching {format_value(value, unit)} by {year} needs a {move} of {need} a year "
                             "from now.")
    return " ".join(sentences).replace("$", "\\$")  # $ would start LaTeX in Markdown


def _per_year_words(step: float, unit: str) -> str:
    """A yearly change in its unit: '3.9 points' for shares, else the unit's own words."""
    if unit == "percent":
        return f"{step:,.1f} points"
    words = format_value(step, unit)
    return words + {"days": " days", "months": " months", "per_100k": " per 100,000"}.get(unit, "")


def values_table(result: IndicatorResult, values: pd.DataFrame) -> pd.DataFrame:
    """A result_values frame as people read it: year, breakdown, group, formatted value
    (and numerator, denominator for ratios); hidden cells read '<5'."""
    limit = min_cell_of(result)
    out = pd.DataFrame({
        "Year": values["year"].astype(int),
        "Breakdown": [code_label(d) if d else "Total" for d in values["dim"]],
        "Group": ["" if g is None or (isinstance(g, float) and math.isnan(g)) else code_label(g)
                  for g in values["group"]],
        "Value": [cell(result, v, bool(s)) for v, s in zip(values["value"], values["suppressed"])],
    })
    for part in ("numerator", "denominator"):
        if part in values.columns:
            out[part.capitalize()] = [format_value(v, "count", bool(s), limit)
                                      for v, s in zip(values[part], values["suppressed"])]
    return out


def progress_bar(share: float | None, width: int = 8) -> str:
    """Distance covered as a text bar in Streamlit Markdown, ':blue[████]░░░░░░ 40%'
    (look.md's sketch); '–' without one."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    filled = round(share / 100 * width)
    return f":blue[{'█' * filled}]{'░' * (width - filled)} {share:.0f}%"


# Columns holding text typed into the indicator file (names): shown as typed, never as Markdown.
TYPED_COLUMNS = ("Indicator",)


def markdown_table(frame: pd.DataFrame, columns: dict[str, str]) -> str:
    """`frame`'s `columns` (name -> heading) as a Markdown table; long text wraps on screen."""
    def text(value: object, column: str) -> str:
        if column in TYPED_COLUMNS:
            return markdown_text(value).replace("\n", " ")
        return str(value).replace("|", "\\|").replace("$", "\\$").replace("\n", " ")  # $ would start LaTeX

    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(text(row[c], c) for c in columns) + " |" for _, row in frame.iterrows()]
    return "\n".join(lines)


def status_strip(ev: Evaluation, pillars: tuple[str, ...], safe: bool, values: dict[str, pd.DataFrame]
                 ) -> pd.DataFrame:
    """The scorecard rows of the indicators of `pillars` (latest value, target, status in words);
    `values`: their privacy.result_values, by id."""
    results = [r for r in ev.results if r.pillar in pillars]
    subset = Evaluation(results, [], ev.info, ev.as_of, ev.goal_year)
    return scorecard(subset, safe, values)


def status_lines(strip: pd.DataFrame) -> list[str]:
    """One Markdown line per indicator of a status strip: status in words, name, latest value
    against the target."""
    return [f"**{row['Status']}** · {markdown_text(row['Indicator'])}"
            + (" (input, not in the pillar's score)" if row.get("Kind") == "input" else "")
            + f": {row['Latest']} (target {row['Target']})"
            for _, row in strip.iterrows()]
