"""Numbers for people: 1,234 · US$1.2m · 71% · "<5" for suppressed counts."""
from __future__ import annotations

import math

import pandas as pd

# Words for units, used in axis titles and tables.
UNIT_LABELS = {"count": "number", "percent": "%", "per_100k": "per 100,000", "days": "days",
               "usd": "US$", "jmd": "J$", "months": "months"}


# Characters that start Markdown (emphasis, links, code, HTML, headings, tables, LaTeX): text
# typed into the indicator file is shown as typed, never as formatting or a link.
_MARKDOWN_SPECIALS = "\\`*_[]<>#~|$!"


def markdown_text(value: object) -> str:
    """`value` escaped for st.markdown, so a name like '<b>x</b> [y](javascript:...)' reads as typed."""
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in str(value))


def is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def day_words(value: object) -> str:
    """A date as people write it: '15 Nov 2022' ('' when empty)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    day = pd.Timestamp(value)
    return f"{day.day} {day:%b %Y}"


def format_value(value: float | None, unit: str, suppressed: bool = False, min_cell: int | None = None) -> str:
    """A value as a person reads it, in its unit; "<min_cell>" when suppressed (min_cell,
    from the indicator file, must then be given)."""
    if suppressed:
        if min_cell is None:
            raise ValueError("a suppressed value needs the indicator file's min_cell to be written")
        return f"<{min_cell}"
    if is_missing(value):
        return "–"
    if unit == "percent":
        return f"{value:,.0f}%" if abs(value) >= 10 else f"{value:,.1f}%"
    if unit == "usd":
        return format_usd(value)
    if unit == "jmd":
        return format_usd(value, "J$")
    if unit == "per_100k":
        return f"{value:,.2f}"
    if unit in ("days", "months"):
        return f"{value:,.1f}"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"


def format_usd(value: float, sign: str = "US$") -> str:
    """US$1.2m, US$450k, US$900 (J$14.0m with sign="J$")."""
    size = abs(value)
    if size >= 1_000_000:
        return f"{sign}{value / 1_000_000:,.1f}m"
    if size >= 10_000:
        return f"{sign}{value / 1_000:,.0f}k"
    return f"{sign}{value:,.0f}"


def format_change(change: float | None, unit: str) -> str:
    """A change against the previous year: '+8 pts', '−1', '='."""
    if is_missing(change):
        return ""
    if abs(change) < 1e-9:
        return "="
    sign = "+" if change > 0 else "−"
    if unit == "percent":
        return f"{sign}{abs(change):,.0f} pts"
    return sign + format_value(abs(change), unit).lstrip("+")


# Status words and shapes (look.md): never colour alone.
STATUS_LABELS = {
    "target_achieved": ("★", "Target achieved"),
    "on_track": ("●", "On track"),
    "acceleration_needed": ("◐", "Acceleration needed"),
    "limited_progress": ("○", "Limited progress"),
    "deterioration": ("✕", "Deterioration"),
    "monitoring": ("·", "Monitoring"),
    "insufficient_data": ("?", "Insufficient data"),
    "too_few_cases": ("◌", "Too few cases to judge"),
    "not_judged_subset": ("–", "Not judged for a subset"),
    "error": ("!", "Needs fixing"),
}


def format_status(status: str | None) -> str:
    """'● On track' for a status code."""
    shape, words = STATUS_LABELS.get(status or "insufficient_data", ("?", str(status)))
    return f"{shape} {words}"
