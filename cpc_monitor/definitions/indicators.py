"""The indicator file (indicators-yaml.md): pydantic models of its contract, loading
with line numbers, and the structural checks. Checks against the database (tables,
columns, SQL) live in `measures`, which compiles what these models describe.

Every problem becomes an `Issue` with severity, file, line, indicator id and a message
that says how to fix it; checking never stops at the first one."""
from __future__ import annotations

import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cpc_monitor.store import codes

from cpc_monitor.definitions import yamlfile
from cpc_monitor.definitions.dialogues import Dialogue, unknown_indicator_message
from cpc_monitor.definitions.figures import Dimension, Figure, SeriesRef, Unit, _series_list
from cpc_monitor.errors import IndicatorFileError

Severity = Literal["error", "warning"]
Direction = Literal["increase", "decrease", "monitor"]
Agg = Literal["count", "count_distinct", "sum", "avg", "median", "min", "max", "p25", "p75"]
Method = Literal["opensdg", "linear"]
Pillar = Literal["prosecution", "protection", "prevention", "partnership"]
# outcome: what the partnership is judged on; input: money and trainings put in, shown
# beside a pillar's outcomes and kept out of its score.
Kind = Literal["outcome", "input"]
# How a date becomes a year: calendar (January-December) or tip, the US TIP Report's
# April-March, labelled by the year it ends in (April 2023 to March 2024 is TIP year 2024).
Period = Literal["calendar", "tip"]
assert typing.get_args(Pillar) == codes.PILLARS  # the pillar codes are one list everywhere

ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Year = Annotated[int, Field(ge=1900, le=2100)]
# Aggregates whose yearly results can be added up into a running total.
ADDITIVE_AGGS = ("count", "count_distinct", "sum")


@dataclass(frozen=True)
class Issue:
    """One problem found in an indicator file."""

    severity: Severity
    file: str
    line: int
    indicator: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" indicator {self.indicator}:" if self.indicator else ""
        return f"{where}: {self.severity}:{who} {self.message}"


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value: Any) -> Any:
    """Let a single value stand where a list is expected (`where: "age < 18"`)."""
    return [value] if isinstance(value, (str, int, float, bool)) else value


class Measure(_Strict):
    """What to aggregate: a table, an aggregate over an expression, a time column, filters."""

    table: str
    agg: Agg = "count"
    expr: str | None = None
    date: str | None = None
    year: str | None = None
    where: list[str] = []
    cumulative: bool = False
    # A stock at each year's end instead of events in the year: a row counts in every year
    # whose last day falls on or after its `date` and before its `until` date (empty: still
    # open). Expressions may then name `as_of`, that last day.
    until: str | None = None

    _where_list = field_validator("where", mode="before")(_as_list)

    @model_validator(mode="after")
    def _time_and_expr(self) -> Measure:
        if (self.date is None) == (self.year is None):
            raise ValueError("a measure needs exactly one time column: `date: <date column>` "
                             "or, for tables keyed by year, `year: <year column>`")
        if self.expr is None and self.agg != "count":
            raise ValueError(f"agg '{self.agg}' needs `expr:`, the column or expression to aggregate")
        if self.cumulative and self.agg not in ADDITIVE_AGGS:
            raise ValueError(f"a running total (cumulative: true) needs agg count, count_distinct or sum, "
                             f"not '{self.agg}'")
        if self.until is not None and self.date is None:
            raise ValueError("`until:` counts what is still open at each year's end, from `date:` to `until:`; "
                             "it needs `date: <date column>`, not `year:`")
        if self.until is not None and self.cumulative:
            raise ValueError("`until:` already counts what is open at each year's end; remove `cumulative: true`")
        return self

    @property
    def time_column(self) -> str:
        return self.date or self.year or ""


class Target(_Strict):
    """A value to reach by a year (or, as a baseline, the value a year had), with where it
    comes from: `source` (a report and its date, or "assumed") and `agreed` (the dialogue or
    document that agreed it)."""

    year: Year
    value: float
    source: str | None = None
    agreed: str | None = None


# The sidebar's filters: a subset of the country by one of these may have targets of its own.
FILTER_COLUMNS = ("parish", "sex", "age_group", "exploitation_type")
FilterColumn = Literal["parish", "sex", "age_group", "exploitation_type"]


class SubsetPlan(_Strict):
    """The baseline and targets agreed for one part of the country (one parish, sex, age
    group or form of exploitation): a filter to exactly that part is judged against them."""

    baseline: Target | None = None
    targets: Annotated[list[Target], Field(min_length=1)]


class Goal(_Strict):
    year: Year = 2030
    statement: str = ""


class Defaults(_Strict):
    base_year: Year = 2018
    target_year: Year = 2030
    method: Method = "opensdg"
    min_cell: Annotated[int, Field(ge=1, le=1000)] = 5
    # The fewest records (cases, children, sessions) a status may rest on; below it the
    # indicator reads "too few cases to judge" and stays out of the pillar score.
    min_events: Annotated[int, Field(ge=1, le=100000)] = 10
    # How far a stated baseline may be from what the data give for its year before
    # `validate` warns (a share of the measured value).
    baseline_tolerance: Annotated[float, Field(ge=0, le=10)] = 0.2


class Indicator(_Strict):
    """One indicator: a measure (or a ratio of two), its targets and its metadata."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: Annotated[str, Field(min_length=1)]
    pillar: Pillar
    kind: Kind = "outcome"  # input: money or trainings, kept out of the pillar's outcome score
    description: str | None = None
    unit: Unit
    direction: Direction
    period: Period = "calendar"  # tip: years run April to March (TIP Report years)
    measure: Measure | None = None  # or the name of a measure under `measures:` (resolved on loading)
    numerator: Measure | None = None
    denominator: Measure | None = None
    factor: Annotated[float, Field(gt=0)] = 1
    disaggregations: list[str] = []
    baseline: Target | None = None
    targets: list[Target] = []
    # Targets for a part of the country: {parish: {KIN: {baseline: ..., targets: [...]}}}.
    targets_by: dict[FilterColumn, dict[str, SubsetPlan]] = {}
    source: str | None = None
    owner: str | None = None
    sdg: list[str] = []
    base_year: Year | None = None
    target_year: Year | None = None
    method: Method | None = None
    min_cell: Annotated[int, Field(ge=1, le=1000)] | None = None
    min_events: Annotated[int, Field(ge=1, le=100000)] | None = None
    # The most the value can be (an envelope of money): a projection never passes it.
    max: float | None = None

    _lists = field_validator("disaggregations", "sdg", mode="before")(_as_list)

    @model_validator(mode="after")
    def _one_kind_of_measure(self) -> Indicator:
        ratio = (self.numerator is not None, self.denominator is not None)
        if self.measure is not None and any(ratio):
            raise ValueError("give either `measure:` or `numerator:` and `denominator:`, not both")
        if self.measure is None and ratio != (True, True):
            missing = "denominator" if ratio[0] else "numerator" if ratio[1] else "measure"
            raise ValueError(f"missing `{missing}:`; an indicator needs `measure:` "
                             "or both `numerator:` and `denominator:`")
        return self

    @property
    def is_ratio(self) -> bool:
        return self.measure is None

    @property
    def parts(self) -> dict[str, Measure]:
        """The measures to run, by role: {'measure': m} or {'numerator': n, 'denominator': d}."""
        if self.measure is not None:
            return {"measure": self.measure}
        return {"numerator": self.numerator, "denominator": self.denominator}  # type: ignore[dict-item]


Name = Annotated[str, Field(pattern=NAME_PATTERN)]


class IndicatorFile(_Strict):
    """The top level of indicators.yaml; indicators and figures are checked one by one (below)."""

    version: Literal[1] = 1
    goal: Goal = Goal()
    defaults: Defaults = Defaults()
    segments: dict[Name, str] = {}
    # Named measures: an indicator (`measure: <name>`) or a figure may refer to one by name.
    measures: dict[Name, Measure] = {}
    # Derived dimensions (bands, mappings) any measure over the right columns can break down by.
    dimensions: dict[Name, Dimension] = {}
    # How codes read on screen, per column or dimension: {partner: {iom: IOM, ...}}.
    labels: dict[Name, dict[str, str]] = {}
    # Per page, in order, the figures it shows.
    figures: dict[Name, list[Any]] = {}
    # The overview's headline figures: indicator ids, with the short label each goes by.
    headlines: list[SeriesRef] = []
    # The bilateral dialogues and the annual targets each agreed (definitions/dialogues.py).
    dialogues: list[Any] = []
    indicators: list[Any]

    _headlines = field_validator("headlines", mode="before")(_series_list)


@dataclass
class Settings:
    """An indicator's effective settings: its own where given, else the file's defaults."""

    base_year: int
    target_year: int
    method: str
    min_cell: int
    min_events: int = 10


@dataclass
class IndicatorSet:
    """A loaded indicator file: the indicators that passed structure, and every issue."""

    file: str
    goal: Goal
    defaults: Defaults
    segments: dict[str, str]
    indicators: list[Indicator]
    issues: list[Issue]
    lines: yamlfile.LoadedYaml
    index: dict[str, int]  # indicator id -> its position in the file (for line look-ups)
    # Indicators whose structure is broken, by id (or "#n"), with their errors: shown as
    # "needs fixing" while the rest still work.
    broken: dict[str, tuple[str, str, list[Issue]]]
    measures: dict[str, Measure] = field(default_factory=dict)
    dimensions: dict[str, Dimension] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # page -> its figures that passed the checks, in order (a broken one is left out, with its issue)
    figures: dict[str, list[Figure]] = field(default_factory=dict)
    headlines: list[SeriesRef] = field(default_factory=list)
    dialogues: list[Dialogue] = field(default_factory=list)  # in the file's order (oldest first)

    def dialogue(self, dialogue_id: str) -> Dialogue | None:
        return next((d for d in self.dialogues if d.id == dialogue_id), None)

    def settings(self, ind: Indicator) -> Settings:
        d = self.defaults
        return Settings(ind.base_year or d.base_year, ind.target_year or d.target_year,
                        ind.method or d.method, ind.min_cell or d.min_cell, ind.min_events or d.min_events)

    def line(self, indicator_id: str, *path: str | int) -> int:
        """The line of `path` inside the indicator `indicator_id`."""
        return self.lines.line_of(("indicators", self.index.get(indicator_id, 0), *path))

    def indicator(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)

    def figure_line(self, page: str, figure_id: str, *path: str | int) -> int:
        """The line of `path` inside the figure `figure_id` of `page`."""
        raw = self.lines.data.get("figures", {}).get(page, []) if isinstance(self.lines.data, dict) else []
        position = next((i for i, f in enumerate(raw) if isinstance(f, dict) and f.get("id") == figure_id), 0)
        return self.lines.line_of(("figures", page, position, *path))

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


# ----------------------------------------------------------------------------- loading


def load_indicators(path: str | Path) -> IndicatorSet:
    """Read and check the structure of an indicator file.

    Raises IndicatorFileError when the file as a whole is unusable (missing, not YAML,
    not a mapping, `indicators` not a list, duplicate ids); otherwise each broken
    indicator is reported in `issues` and left out of `indicators`."""
    return parse_indicators(read_text(path), Path(path).name)


def read_text(path: str | Path) -> str:
    """The text of an indicator file, or IndicatorFileError saying why it cannot be read."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IndicatorFileError([Issue("error", str(path), 0, None,
                                        "the indicator file does not exist; check the path.")]) from None
    except UnicodeDecodeError:
        raise IndicatorFileError([Issue("error", path.name, 0, None,
                                        "the file is not UTF-8 text; save it as UTF-8 in your editor.")]) from None
    except OSError as exc:
        raise IndicatorFileError([Issue("error", str(path), 0, None,
                                        f"the file cannot be read: {exc.strerror}.")]) from None


def parse_indicators(text: str, name: str = "indicators.yaml") -> IndicatorSet:
    """Like load_indicators, for text already in memory (the dashboard's editor)."""
    try:
        loaded = yamlfile.load(text)
    except yamlfile.YamlProblem as problem:
        raise IndicatorFileError([Issue("error", name, problem.line, None, problem.message)]) from None
    data = loaded.data
    if data is None:
        raise IndicatorFileError([Issue("error", name, 1, None,
                                        "the file is empty; it needs at least `indicators:` with a list of indicators.")])
    if not isinstance(data, dict):
        raise IndicatorFileError([Issue("error", name, 1, None,
                                        f"the file must be a mapping with keys such as `indicators:`, "
                                        f"not {_kind(data)}. Start the file with `indicators:`.")])
    issues: list[Issue] = []
    top = {k: v for k, v in data.items() if k != "indicators"}
    top["indicators"] = data.get("indicators", [])
    if "indicators" not in data:
        raise IndicatorFileError([Issue("error", name, 1, None,
                                        "the file has no `indicators:` list; add `indicators:` followed by the indicators.")])
    if not isinstance(top["indicators"], list):
        raise IndicatorFileError([Issue("error", name, loaded.line_of(("indicators",)), None,
                                        "`indicators:` must be a list; start each indicator with `- id: ...`.")])
    try:
        header = IndicatorFile.model_validate(top)
    except ValidationError as exc:
        issues += _issues_from(exc, IndicatorFile, (), loaded, name, None)
        header = IndicatorFile.model_validate({"indicators": top["indicators"]})
    unusable = [i for i in issues if i.severity == "error"]
    duplicates = _duplicate_ids(data["indicators"], loaded, name)
    if duplicates:
        raise IndicatorFileError(unusable + duplicates)

    indicators: list[Indicator] = []
    index: dict[str, int] = {}
    broken: dict[str, tuple[str, str, list[Issue]]] = {}
    for position, raw in enumerate(data["indicators"]):
        ind_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        if ind_id:
            index[ind_id] = position
        raw, named = _named_measures(raw, header, position, loaded, name, ind_id)
        found = named + _check_indicator(raw, position, header, loaded, name, ind_id)
        issues += found
        if any(i.severity == "error" for i in found):
            key = ind_id or f"#{position + 1}"
            label = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else key
            pillar = raw.get("pillar") if isinstance(raw, dict) and raw.get("pillar") in codes.PILLARS else ""
            broken[key] = (label, pillar, found)
        else:
            indicators.append(Indicator.model_validate(raw))
    figures, found = _check_figures(header, indicators, broken, loaded, name)
    issues += found
    ids = {i.id for i in indicators} | set(broken)
    for position, headline in enumerate(header.headlines):
        if headline.ref not in ids:
            close = difflib.get_close_matches(headline.ref, sorted(ids), n=1, cutoff=0.6)
            issues.append(Issue("warning", name, loaded.line_of(("headlines", position)), None,
                                f"the headline '{headline.ref}' names no indicator, so the overview leaves it out."
                                + (f" Did you mean '{close[0]}'?" if close else "")))
    dialogues, found = _check_dialogues(header, ids, loaded, name)
    issues += found
    return IndicatorSet(name, header.goal, header.defaults, dict(header.segments), indicators,
                        issues, loaded, index, broken, dict(header.measures), dict(header.dimensions),
                        {k: dict(v) for k, v in header.labels.items()}, figures, list(header.headlines),
                        dialogues)


def _check_dialogues(header: IndicatorFile, ids: set[str], loaded: yamlfile.LoadedYaml, name: str
                     ) -> tuple[list[Dialogue], list[Issue]]:
    """Each dialogue on its own: a broken one is left out with its messages, a target that
    names no indicator is an error on its line, and ids are unique."""
    out: list[Dialogue] = []
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(header.dialogues):
        base = ("dialogues", position)
        try:
            dialogue = Dialogue.model_validate(raw)
        except ValidationError as exc:
            label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{position + 1}"
            issues += [Issue("error", i.file, i.line, None, f"dialogue '{label}': {i.message}")
                       for i in _issues_from(exc, Dialogue, base, loaded, name, None)]
            continue
        line = loaded.line_of((*base, "id"))
        if dialogue.id in seen:
            issues.append(Issue("error", name, line, None, f"the dialogue id '{dialogue.id}' is already used on "
                                                           f"line {seen[dialogue.id]}; give each dialogue its own id."))
            continue
        seen[dialogue.id] = line
        unknown = [key for key in dialogue.targets if key not in ids]
        issues += [Issue("error", name, loaded.line_of((*base, "targets", key)), None,
                         unknown_indicator_message(dialogue.id, key, sorted(ids))) for key in unknown]
        if not unknown:
            out.append(dialogue)
    return out, issues


def _kind(value: Any) -> str:
    return {list: "a list", str: "a single text", int: "a number", float: "a number",
            bool: "true/false"}.get(type(value), type(value).__name__)


def _duplicate_ids(raw: list[Any], loaded: yamlfile.LoadedYaml, name: str) -> list[Issue]:
    seen: dict[str, int] = {}
    out = []
    for position, item in enumerate(raw):
        ind_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(ind_id, str):
            continue
        line = loaded.line_of(("indicators", position, "id"))
        if ind_id in seen:
            out.append(Issue("error", name, line, ind_id,
                             f"the id '{ind_id}' is already used on line {seen[ind_id]}; ids must be unique "
                             "and are never reused: give this indicator a new id."))
        else:
            seen[ind_id] = line
    return out


_MEASURE_ROLES = ("measure", "numerator", "denominator")


def _named_measures(raw: Any, header: IndicatorFile, position: int, loaded: yamlfile.LoadedYaml, name: str,
                    ind_id: str | None) -> tuple[Any, list[Issue]]:
    """`raw` with each `measure: <name>` (or numerator, denominator) replaced by the named
    measure from `measures:`; an unknown name is an error on its line."""
    if not isinstance(raw, dict):
        return raw, []
    out, issues = dict(raw), []
    for role in _MEASURE_ROLES:
        ref = raw.get(role)
        if not isinstance(ref, str):
            continue
        if ref in header.measures:
            out[role] = header.measures[ref].model_dump(exclude_defaults=True)
        else:
            known = list(header.measures)
            close = difflib.get_close_matches(ref, known, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else (
                f" Known: {', '.join(known)}." if known else " There is no `measures:` section in this file.")
            issues.append(Issue("error", name, loaded.line_of(("indicators", position, role)), ind_id,
                                f"`{role}: {ref}` names no measure under `measures:`.{hint} Name one of "
                                f"them, or write the measure here as {{table: ..., agg: ..., date: ...}}."))
            out.pop(role)
    return out, issues


def _check_figures(header: IndicatorFile, indicators: list[Indicator], broken: dict, loaded: yamlfile.LoadedYaml,
                   name: str) -> tuple[dict[str, list[Figure]], list[Issue]]:
    """Each page's figures: their structure, then what they refer to (indicators, measures,
    dimensions). A broken figure is left out with its messages; the page draws the rest."""
    by_id = {i.id: i for i in indicators}
    out: dict[str, list[Figure]] = {}
    issues: list[Issue] = []
    for page, raws in header.figures.items():
        out[page] = []
        seen: set[str] = set()
        for position, raw in enumerate(raws if isinstance(raws, list) else []):
            base = ("figures", page, position)
            fig_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            where = f"figure {page}/{fig_id or '#' + str(position + 1)}"
            if not isinstance(raw, dict):
                issues.append(Issue("error", name, loaded.line_of(base), None,
                                    f"{where}: each figure must be a mapping (id:, title:, kind:, series: ...)."))
                continue
            try:
                figure = Figure.model_validate(raw)
            except ValidationError as exc:
                for issue in _issues_from(exc, Figure, base, loaded, name, None):
                    issues.append(Issue("error", issue.file, issue.line, None,
                                        f"{where}: {issue.message.replace('this indicator', 'this figure')}"))
                continue
            found = _figure_references(figure, header, by_id, broken, base, loaded, name, where)
            if figure.id in seen:
                found.append(Issue("error", name, loaded.line_of(base + ("id",)), None,
                                   f"{where}: the id '{figure.id}' is used twice on this page; give each figure "
                                   "its own id."))
            seen.add(figure.id)
            issues += found
            if not found:
                out[page].append(figure)
    return out, issues


def _figure_references(figure: Figure, header: IndicatorFile, by_id: dict[str, Indicator], broken: dict,
                       base: tuple, loaded: yamlfile.LoadedYaml, name: str, where: str) -> list[Issue]:
    """Every series and reference of `figure` names an indicator or a measure that exists
    and fits the figure's kind and grain."""
    issues = []
    known = list(by_id) + list(header.measures)
    for i, series in enumerate(figure.series):
        line = loaded.line_of(base + ("series", i))
        if series.ref in broken:
            issues.append(Issue("error", name, line, None, f"{where}: the indicator '{series.ref}' it shows needs "
                                                           "fixing first (see its own messages)."))
            continue
        measures = _series_measures(series.ref, header, by_id)
        if measures is None:
            close = difflib.get_close_matches(series.ref, known, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            issues.append(Issue("error", name, line, None,
                                f"{where}: '{series.ref}' is neither an indicator id nor a name under "
                                f"`measures:`.{hint}"))
            continue
        if figure.grain == "period" and any(m.agg not in ADDITIVE_AGGS for m in measures):
            issues.append(Issue("error", name, line, None,
                                f"{where}: `grain: period` adds the years up, which only counts and sums allow; "
                                f"'{series.ref}' uses {', '.join(sorted({m.agg for m in measures}))}. Use "
                                "`grain: year`, or a measure with agg count or sum."))
        if figure.grain in ("quarter", "month") and any(m.date is None for m in measures):
            issues.append(Issue("error", name, line, None,
                                f"{where}: `grain: {figure.grain}` needs a measure with a `date:` column; "
                                f"'{series.ref}' is kept by year only. Use `grain: year`."))
        if figure.grain in ("quarter", "month") and len(measures) > 1:
            issues.append(Issue("error", name, line, None,
                                f"{where}: a ratio ('{series.ref}') is shown by year or over the whole period; "
                                f"use `grain: year` or `grain: period` instead of `grain: {figure.grain}`."))
        if figure.kind == "box" and (len(measures) != 1 or measures[0].expr is None):
            issues.append(Issue("error", name, line, None,
                                f"{where}: a box shows the spread of a value, so its series must be one measure "
                                f"with `expr:` (such as a median); '{series.ref}' is not."))
    if figure.reference is not None:
        line = loaded.line_of(base + ("reference",))
        target = by_id.get(figure.reference)
        if target is None:
            close = difflib.get_close_matches(figure.reference, list(by_id), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            issues.append(Issue("error", name, line, None,
                                f"{where}: `reference: {figure.reference}` names no indicator; a reference line "
                                f"is an indicator's targets.{hint}"))
        elif not target.targets:
            issues.append(Issue("error", name, line, None,
                                f"{where}: the indicator '{figure.reference}' has no targets to draw; give it "
                                "`targets:` or remove `reference:`."))
    return issues


def _series_measures(ref: str, header: IndicatorFile, by_id: dict[str, Indicator]) -> list[Measure] | None:
    """The measures behind a series reference (one, or a ratio's two), or None if unknown."""
    if ref in by_id:
        return list(by_id[ref].parts.values())
    if ref in header.measures:
        return [header.measures[ref]]
    return None


def _check_indicator(raw: Any, position: int, header: IndicatorFile, loaded: yamlfile.LoadedYaml,
                     name: str, ind_id: str | None) -> list[Issue]:
    """Structure of one indicator: the model, then the rules between its fields."""
    base = ("indicators", position)
    if not isinstance(raw, dict):
        return [Issue("error", name, loaded.line_of(base), None,
                      f"each indicator must be a mapping of keys (id:, name:, ...), not {_kind(raw)}.")]
    try:
        ind = Indicator.model_validate(raw)
    except ValidationError as exc:
        found = _issues_from(exc, Indicator, base, loaded, name, ind_id)
        targets = _TargetsOnly.model_construct(id=ind_id or "", direction="monitor", baseline=None, targets=[])
        try:  # the targets' own rules still apply while other keys are broken
            targets = _TargetsOnly.model_validate({"id": ind_id or "", "direction": "monitor", "baseline": None,
                                                   "targets": raw.get("targets", [])})
        except ValidationError:
            pass
        return found + _check_targets(targets, header, base, loaded, name)
    out = _check_targets(ind, header, base, loaded, name)
    for column, plans in ind.targets_by.items():  # each part's targets follow the same rules
        for part, plan in plans.items():
            own = _TargetsOnly(id=ind.id, direction=ind.direction, baseline=plan.baseline, targets=plan.targets)
            out += _check_targets(own, header, base + ("targets_by", column, part), loaded, name)
    return out


def _plain(value: float) -> str:
    """1500000 -> '1,500,000'; 0.48 -> '0.48' (never 1.5e+06 in a message)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"


class _TargetsOnly(BaseModel):
    """The parts of an indicator the target rules need, for one whose other keys are broken."""

    id: str
    direction: str
    baseline: Target | None
    targets: list[Target]


def _check_targets(ind: Indicator | _TargetsOnly, header: IndicatorFile, base: tuple, loaded: yamlfile.LoadedYaml,
                   name: str) -> list[Issue]:
    """Targets in year order, not after the goal year, and not against the direction."""
    out: list[Issue] = []
    goal_year = header.goal.year
    for i, t in enumerate(ind.targets):
        line = loaded.line_of(base + ("targets", i))
        if i and t.year <= ind.targets[i - 1].year:
            out.append(Issue("error", name, line, ind.id,
                             f"target years must increase: {t.year} comes after {ind.targets[i - 1].year}. "
                             "List the targets from the earliest year to the latest."))
        if t.year > goal_year:
            out.append(Issue("error", name, line, ind.id,
                             f"the target year {t.year} is after the goal year {goal_year}; "
                             f"use a year up to {goal_year}."))
    if ind.baseline and ind.targets and ind.baseline.year >= ind.targets[-1].year:
        out.append(Issue("error", name, loaded.line_of(base + ("baseline",)), ind.id,
                         f"the baseline year {ind.baseline.year} must be before the last target year "
                         f"{ind.targets[-1].year}."))
    stated = ([("baseline", ind.baseline, ("baseline",))] if ind.baseline else []) + \
        [(f"target {t.year}", t, ("targets", i)) for i, t in enumerate(ind.targets)]
    for what, item, path in stated:
        if not (item.source or item.agreed):
            out.append(Issue("warning", name, loaded.line_of(base + path), ind.id,
                             f"the {what} ({_plain(item.value)}) says neither where it comes from nor who agreed it; add "
                             "`source:` (a report and its date, or \"assumed\") or `agreed:` (the dialogue that "
                             "agreed it)."))
    if ind.direction != "monitor":
        sign = 1 if ind.direction == "increase" else -1
        values = ([ind.baseline.value] if ind.baseline else []) + [t.value for t in ind.targets]
        for i in range(1, len(values)):
            if sign * (values[i] - values[i - 1]) < 0:
                target_index = i - (1 if ind.baseline else 0)
                out.append(Issue("warning", name, loaded.line_of(base + ("targets", target_index)), ind.id,
                                 f"this target ({values[i]:g}) moves against the direction '{ind.direction}' "
                                 f"(the value before it is {values[i - 1]:g}). Check the value, or the direction."))
                break
    return out


# ------------------------------------------------------------------- pydantic -> messages

_TYPE_WORDS = {"string": "text", "int": "a whole number", "float": "a number", "bool": "true or false",
               "list": "a list", "dict": "a mapping of keys", "model": "a mapping of keys"}


# Steps pydantic adds to an error's location that are not keys of the file.
_PYDANTIC_STEPS = ("function-", "list[", "dict[", "union[", "tagged-union[", "nullable[")


def _issues_from(exc: ValidationError, model: type[BaseModel], base: tuple, loaded: yamlfile.LoadedYaml,
                 name: str, ind_id: str | None) -> list[Issue]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        # Tagged unions and "function-after" wrappers add entries that are not keys.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith(_PYDANTIC_STEPS)))
        line = loaded.line_of(base + loc)
        out.append(Issue("error", name, line, ind_id, _message(err, loc, model)))
    return out


def _where(loc: tuple) -> str:
    if loc and loc[-1] == "[key]":  # a mapping's key: name the mapping it is under
        return f"the key under `{'.'.join(str(p) for p in loc[:-2])}`" if len(loc) > 2 else "the key"
    keys = [str(p) if isinstance(p, str) else f"[{p + 1}]" for p in loc]
    return "`" + ".".join(keys).replace(".[", "[") + "`" if keys else "this indicator"


def _message(err: dict, loc: tuple, model: type[BaseModel]) -> str:
    kind = err["type"]
    value = err.get("input")
    if not loc:
        return f"{err['msg']}."

    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f" Did you mean '{close[0]}'?" if close else f" Known keys here: {', '.join(known)}."
        return f"unknown key '{key}' in {_where(loc[:-1])}.{hint}"
    if kind == "missing":
        allowed = _allowed_at(model, loc)
        extra = f" (one of: {', '.join(allowed)})" if allowed else ""
        return f"missing the required key '{loc[-1]}'{extra}; add it to {_where(loc[:-1])}."
    if kind in ("literal_error", "enum"):
        allowed = _allowed_at(model, loc) or [a.strip("' ") for a in re.split(
            r",| or ", str(err.get("ctx", {}).get("expected", ""))) if a.strip("' ")]
        close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return f"{_where(loc)} is '{value}', which is not allowed; use one of: {', '.join(map(str, allowed))}.{hint}"
    if kind == "string_pattern_mismatch":
        if loc and loc[-1] == "id":
            return (f"the id '{value}' is not valid; use lower-case words with underscores, joined by dots, "
                    "for example 'protection.child_victims_identified'.")
        return f"the name '{value}' in {_where(loc[:-1])} must be lower_snake_case (letters, digits, underscores)."
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ") + "."
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{_where(loc)} is {value}, which is out of range: {err['msg'].lower()}."
    for word, phrase in _TYPE_WORDS.items():
        if kind.startswith(word) or kind == f"{word}_type" or kind.endswith(f"{word}_parsing"):
            return f"{_where(loc)} must be {phrase}, not {_show(value)}."
    return f"{_where(loc)}: {err['msg']}."


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _kind(value) if value else f"an empty {'list' if isinstance(value, list) else 'mapping'}"
    return f"'{value}'" if value is not None else "empty"


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that the key path `loc` leads to, if any."""
    current: Any = model
    for step in loc:
        if isinstance(step, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or step not in current.model_fields:
            return None
        current = _inner(current.model_fields[step].annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner(annotation: Any) -> Any:
    """Unwrap Optional[...] and list[...] down to the model or type inside."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if args else annotation
            if origin is list or len(args) == 1:
                continue
        return annotation


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    found = _model_at(model, loc)
    return list(found.model_fields) if found else []


def _allowed_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The literal values allowed at `loc`, e.g. the pillar codes."""
    parent = _model_at(model, loc[:-1])
    if parent is None or not isinstance(loc[-1], str) or loc[-1] not in parent.model_fields:
        return []
    annotation = parent.model_fields[loc[-1]].annotation
    for candidate in (annotation, _inner(annotation)):
        if typing.get_origin(candidate) is Literal:
            return [str(a) for a in typing.get_args(candidate)]
    return []


def json_schema() -> dict:
    """The JSON Schema of indicators.yaml, from the same models that validate it."""
    schema = IndicatorFile.model_json_schema()
    schema["properties"]["indicators"] = {"type": "array", "items": {"$ref": "#/$defs/Indicator"}}
    schema.setdefault("$defs", {}).update(
        {k: v for k, v in Indicator.model_json_schema(ref_template="#/$defs/{model}").get("$defs", {}).items()})
    schema["$defs"]["Indicator"] = {k: v for k, v in Indicator.model_json_schema(
        ref_template="#/$defs/{model}").items() if k != "$defs"}
    for role in _MEASURE_ROLES:  # a measure may be written out, or named (`measure: victims_identified`)
        schema["$defs"]["Indicator"]["properties"][role] = {
            "anyOf": [{"$ref": "#/$defs/Measure"}, {"type": "string", "pattern": NAME_PATTERN}, {"type": "null"}]}
    for model in (Figure, Dialogue):  # checked one by one on loading, so typed as Any in IndicatorFile
        part = model.model_json_schema(ref_template="#/$defs/{model}")
        schema["$defs"].update(part.pop("$defs", {}))
        schema["$defs"][model.__name__] = part
    schema["properties"]["figures"] = {"type": "object", "additionalProperties": {
        "type": "array", "items": {"$ref": "#/$defs/Figure"}}}
    schema["properties"]["dialogues"] = {"type": "array", "items": {"$ref": "#/$defs/Dialogue"}}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "CPC Monitor indicators.yaml"
    return schema
