"""What the pillar pages show beyond indicator cards, declared in the indicator file:
derived dimensions (bands and mappings), and figures per page. The models here say what
a figure is; `evaluation.figures` computes it with the one compiler, and `present`
draws it. Checks against the database (columns, SQL) live in the compiler, as for
indicators.

A figure names what it shows by reference: an indicator id (its measure or ratio) or a
named measure from `measures:`. It never holds a number of its own: a reference line is an
indicator's targets."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Unit = Literal["count", "percent", "per_100k", "days", "usd", "jmd", "months"]
Kind = Literal["bar", "stacked_bar", "line", "funnel", "heatmap", "parish_map", "table", "box", "pace"]
# year: one value per year; quarter, month: per calendar quarter or month; period: one value
# over the whole span the filters choose (a sum, or a ratio of sums).
Grain = Literal["year", "quarter", "month", "period"]
# What each kind needs, checked when the file loads (a message names the figure and the key).
KIND_RULES = {
    "funnel": "needs at least two series, the stages in order",
    "heatmap": "needs `by:` (the rows) and `grain: month` or `grain: quarter` (the columns)",
    "parish_map": "needs `by: parish`, `grain: period` and `tiles:` (each parish's [column, row])",
    "table": "needs `table:` and `columns:` (a listing of a reference table), and no series",
    "box": "needs exactly one series: a named measure or an indicator whose measure has `agg: median`",
    "pace": "needs `reference:` (the indicator whose last target is the total to reach) and a running total "
            "(cumulative) as its first series",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """One band of a banded dimension: values below `below` (and at or above the band before)."""

    label: Annotated[str, Field(min_length=1)]
    below: float | None = None


class Dimension(_Strict):
    """A derived dimension: an expression over a table's columns, cut into bands or mapped
    code by code. It can break down any measure whose table has the columns it names."""

    expr: Annotated[str, Field(min_length=1)]
    bands: list[Band] = []
    map: dict[str, str] = {}
    missing: str = "unknown"  # the group of rows where the expression is empty
    other: str = "other"  # for a mapping: the group of codes the mapping does not list

    @model_validator(mode="after")
    def _bands_or_map(self) -> Dimension:
        if bool(self.bands) == bool(self.map):
            raise ValueError("a dimension needs either `bands:` (a list of {label, below}) or `map:` "
                             "(code: label), not both and not neither")
        if self.bands:
            bounds = [b.below for b in self.bands]
            if any(b is None for b in bounds[:-1]):
                raise ValueError("only the last band may leave out `below:` (it takes every value above)")
            given = [b for b in bounds if b is not None]
            if given != sorted(set(given)):
                raise ValueError("the bands' `below:` values must increase from one band to the next")
        return self

    @property
    def groups(self) -> list[str]:
        """Every group this dimension can give, in order (the missing one last)."""
        labels = [b.label for b in self.bands] if self.bands else list(dict.fromkeys(self.map.values()))
        extra = [self.other] if self.map else []
        return labels + extra + [self.missing]

    def sql(self) -> str:
        """The CASE expression giving each row's group."""
        quote = lambda text: "'" + str(text).replace("'", "''") + "'"  # noqa: E731
        value = f"({self.expr})"
        if self.bands:
            cases = "".join(f"WHEN {value} < {b.below!r} THEN {quote(b.label)} " for b in self.bands
                            if b.below is not None)
            last = self.bands[-1]
            rest = quote(last.label) if last.below is None else "NULL"
            return f"CASE WHEN {value} IS NULL THEN {quote(self.missing)} {cases}ELSE {rest} END"
        cases = "".join(f"WHEN CAST({value} AS TEXT) = {quote(code)} THEN {quote(label)} "
                        for code, label in self.map.items())
        return f"CASE WHEN {value} IS NULL THEN {quote(self.missing)} {cases}ELSE {quote(self.other)} END"


class SeriesRef(_Strict):
    """One thing a figure shows: an indicator id or a named measure, with the name it goes by."""

    ref: Annotated[str, Field(min_length=1)]
    label: str | None = None
    # What a named measure's values are (an indicator says so itself): count for counts of
    # people or records (suppressed when small), usd for money ...
    unit: Unit | None = None


def _series_list(value: object) -> object:
    """Let `series:` hold plain names beside {ref, label} mappings, or be a single name."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return items
    return [{"ref": item} if isinstance(item, str) else item for item in items]


class Figure(_Strict):
    """One chart, map or table on a page, in the order the page shows them."""

    id: Annotated[str, Field(pattern=NAME_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    kind: Kind
    series: list[SeriesRef] = []
    by: str | None = None  # the breakdown: a column of the series' table or a declared dimension
    tabs: list[str] = []  # further breakdowns offered beside `by`, one tab each
    grain: Grain = "year"
    reference: str | None = None  # an indicator id: its targets are drawn as the reference line
    section: str | None = None  # a heading shown above this figure
    caption: str | None = None
    width: Literal["half", "full"] = "half"
    table: str | None = None  # kind table: the reference table listed
    columns: list[str] = []  # kind table: its columns, in order
    pace_periods: Annotated[int, Field(ge=1, le=40)] = 4  # kind pace: periods the recent rate averages
    # kind parish_map: each parish's tile as [column, row], laid out roughly as on the map
    # (drawn offline, with no base map); `table:` and `columns:` may list places to mark on it.
    tiles: dict[str, Annotated[list[Annotated[int, Field(ge=0, le=50)]], Field(min_length=2, max_length=2)]] = {}

    _series = field_validator("series", mode="before")(_series_list)

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Figure:
        rule = KIND_RULES.get(self.kind)
        ok = {
            "funnel": len(self.series) >= 2,
            "heatmap": self.by is not None and self.grain in ("month", "quarter"),
            "parish_map": self.by == "parish" and self.grain == "period" and bool(self.tiles) and bool(self.series),
            "table": bool(self.table and self.columns) and not self.series,
            "box": len(self.series) == 1,
            "pace": self.reference is not None and bool(self.series),
        }.get(self.kind, bool(self.series))
        if not ok:
            raise ValueError(f"a figure of kind '{self.kind}' {rule or 'needs at least one series'}")
        if self.tabs and self.by is None:
            raise ValueError("`tabs:` are further breakdowns beside `by:`; give `by:` first")
        return self

    @property
    def breakdowns(self) -> tuple[str, ...]:
        """`by` and the tabs: every breakdown this figure computes."""
        return tuple(dict.fromkeys(([self.by] if self.by else []) + list(self.tabs)))
