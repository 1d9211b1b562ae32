"""Changes the editor's forms make to the indicator file's text: a new indicator, and an
indicator's baseline and targets. Only the lines the form changes are rewritten; every
other byte of the file (comments, blank lines, quotes, the order and layout of keys) stays
as the program manager wrote it. The result is text, which the editor then checks,
previews and saves like any other edit (versions.save).

How: the new lines are written by ruamel.yaml (which quotes values correctly), and spliced
in at the lines PyYAML's nodes give (start and end of each value). Dumping the whole file
through ruamel's round trip was tried first: on the default file it re-flowed every
multi-line `{...}` onto one line and dropped the spaces that align `numerator:   {`.

Text is first loaded by yamlfile.load, with its limits (size, depth, no aliases), so a
hostile file is refused before anything else reads it."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from cpc_monitor.definitions import yamlfile
from cpc_monitor.errors import IndicatorEditError

# How a new indicator is calculated, in the form's words -> the aggregate of its measure.
CALCULATIONS = {
    "count": "Count of records",
    "sum": "Sum of a column",
    "median": "Median of a column",
    "ratio": "Percent: records meeting a condition, out of all records",
    "rate": "Rate per 100,000 people",
}
# Rates divide by a column of the population table: all people, or children only.
POPULATIONS = {"population": "all people", "child_population": "children (under 18)"}
# Layout of the default file: ruamel then writes it back byte for byte (stack.md).
_INDENT = {"mapping": 2, "sequence": 4, "offset": 2}
_WIDTH = 4096  # never re-wrap a long line the author wrote on one line


@dataclass(frozen=True)
class Point:
    """A baseline or a target: a value in a year, where it comes from and who agreed it."""

    year: int
    value: float
    source: str = ""
    agreed: str = ""


@dataclass(frozen=True)
class NewIndicator:
    """What the new-indicator form asks for."""

    id: str
    name: str
    pillar: str
    unit: str
    direction: str
    calculation: str  # a key of CALCULATIONS
    table: str
    date_column: str
    column: str = ""  # what a sum or median adds up
    filters: list[str] = field(default_factory=list)  # segment names or conditions: all must hold
    share_filters: list[str] = field(default_factory=list)  # ratio: what the counted part must also meet
    population: str = "population"  # rate: a key of POPULATIONS
    breakdowns: list[str] = field(default_factory=list)
    baseline: Point | None = None
    targets: list[Point] = field(default_factory=list)
    description: str = ""
    source: str = ""
    owner: str = ""


def set_plan(text: str, indicator_id: str, baseline: Point | None, targets: list[Point]) -> str:
    """`text` with the indicator's baseline and targets replaced (targets earliest first). A
    baseline or target the form left as it was keeps its line exactly (quotes, comment)."""
    item = _indicator(_compose(text), indicator_id)
    indent = " " * item.start_mark.column
    lines = text.splitlines(keepends=True)
    spans = {key.value: (key.start_mark.line, _last_line(value)) for key, value in item.value}
    kept = _unchanged_lines(item, lines)
    ordered = sorted(targets, key=lambda p: p.year)
    blocks = {"baseline": [kept.get(("baseline", _key(baseline)))
                           or f"{indent}baseline: {_dump(_point(baseline))}"] if baseline else [],
              "targets": [f"{indent}targets:\n"] + [kept.get(("targets", _key(p))) or f"{indent}  - {_dump(_point(p))}"
                                                   for p in ordered] if targets else []}
    # Where a missing key goes: the baseline before the targets, the targets after the baseline,
    # else after the indicator's last line.
    end = _last_line(item) + 1
    inserts = {"baseline": spans.get("targets", (end,))[0], "targets": spans.get("baseline", (0, end - 1))[1] + 1}
    edits = []  # (first line, last line + 1, new lines), applied from the bottom up
    for key in ("baseline", "targets"):
        if key in spans:
            edits.append((spans[key][0], spans[key][1] + 1, blocks[key]))
        elif blocks[key]:
            edits.append((inserts[key], inserts[key], blocks[key]))
    for first, stop, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[first:stop] = new
    return "".join(lines)


def _unchanged_lines(item: yaml.MappingNode, lines: list[str]) -> dict[tuple[str, tuple | None], str]:
    """(key, point) -> the line that already says it: a one-line baseline, or a one-line target."""
    out = {}
    for key, value in item.value:
        if key.value == "baseline" and value.start_mark.line == _last_line(value):
            out[("baseline", _as_point(value))] = lines[key.start_mark.line]
        if key.value == "targets" and isinstance(value, yaml.SequenceNode) and not value.flow_style:
            for target in value.value:
                if target.start_mark.line == _last_line(target):
                    out[("targets", _as_point(target))] = lines[target.start_mark.line]
    return out


def _as_point(node: yaml.Node) -> tuple | None:
    """A baseline or target node as _key gives it (None when it is not one)."""
    data = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.MappingNode) else None
    if not isinstance(data, dict) or set(data) - {"year", "value", "source", "agreed"}:
        return None
    try:
        return _key(Point(int(data["year"]), float(data["value"]), str(data.get("source") or ""),
                          str(data.get("agreed") or "")))
    except (KeyError, TypeError, ValueError):
        return None


def _key(p: Point) -> tuple:
    """What makes two baselines or targets the same."""
    return int(p.year), float(p.value), p.source.strip(), p.agreed.strip()


def remove_indicator(text: str, indicator_id: str) -> str:
    """`text` without the indicator `indicator_id` (its lines and the blank line before it):
    the new-indicator form takes back its own unsaved addition to add it again corrected."""
    items = _indicators(_compose(text)).value
    found = [i for i, item in enumerate(items) if _id_of(item) == indicator_id]
    if not found:
        return text
    at = found[0]
    lines = text.splitlines(keepends=True)
    start = items[at].start_mark.line
    end = items[at + 1].start_mark.line if at + 1 < len(items) else items[at].end_mark.line + (
        1 if items[at].end_mark.column else 0)
    while end > start and at + 1 < len(items) and not lines[end - 1].strip():
        end -= 1  # the next indicator's blank line stays with it
    if start > 0 and not lines[start - 1].strip():
        start -= 1
    return "".join(lines[:start] + lines[end:])


def add_indicator(text: str, new: NewIndicator) -> str:
    """`text` with `new` appended to its `indicators:` list (a blank line before it)."""
    if not new.id.strip() or not new.name.strip():
        raise IndicatorEditError("give the new indicator a name and an id (such as protection.girls_identified) "
                                 "before adding it.")
    root = _compose(text)
    items = _indicators(root)
    if not items.value or items.flow_style:
        raise IndicatorEditError("the form adds an indicator after the last one; the file's `indicators:` list "
                                 "is empty or written in brackets, so add the first indicator in the editor.")
    if any(_id_of(i) == new.id for i in items.value):
        raise IndicatorEditError(f"there is already an indicator with the id '{new.id}'; choose another id "
                                 "(ids are never reused).")
    entry = CommentedMap()
    for key, value in (("id", new.id), ("name", new.name), ("pillar", new.pillar),
                       ("description", new.description), ("unit", new.unit), ("direction", new.direction)):
        if value:
            entry[key] = value
    entry.update(_calculation(new))
    if new.breakdowns:
        entry["disaggregations"] = _flow(CommentedSeq(new.breakdowns))
    if new.baseline is not None:
        entry["baseline"] = _point(new.baseline)
    if new.targets:
        entry["targets"] = CommentedSeq([_point(p) for p in sorted(new.targets, key=lambda p: p.year)])
    for key, value in (("source", new.source), ("owner", new.owner)):
        if value:
            entry[key] = value
    last = items.value[-1]
    dash = " " * max(last.start_mark.column - 2, 0)  # the file's own indentation of `- id:`
    block = [dash + line[2:] if line.startswith("  ") else line
             for line in _dump(CommentedSeq([entry])).splitlines(keepends=True)]
    lines = text.splitlines(keepends=True)
    at = _last_line(last) + 1
    if lines and not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    lines[at:at] = ["\n", *block]
    return "".join(lines)
def measure_of(new: NewIndicator, filters: list[str]) -> CommentedMap:
    """The measure the form describes, with `filters` as its `where:`."""
    agg = {"sum": "sum", "median": "median"}.get(new.calculation, "count")
    m = CommentedMap(table=new.table, agg=agg)
    if agg != "count":
        if not new.column:
            raise IndicatorEditError(f"a {agg} needs the column to add up; choose one under 'Column'.")
        m["expr"] = new.column
    m["date"] = new.date_column
    if filters:
        m["where"] = _flow(CommentedSeq(filters))
    return _flow(m)


# ----------------------------------------------------------------------------- inside


def _calculation(new: NewIndicator) -> dict[str, object]:
    """The keys that say how the indicator is calculated: `measure:`, or a ratio with its factor."""
    if new.calculation not in CALCULATIONS:
        raise IndicatorEditError(f"'{new.calculation}' is not a calculation the form knows; choose one of "
                                 f"{', '.join(CALCULATIONS.values())}.")
    if new.calculation == "ratio":
        if not new.share_filters:
            raise IndicatorEditError("a percent needs at least one condition for the part counted (for example "
                                     "outcome = 'convicted'); add it under 'Counted when also'.")
        return {"numerator": measure_of(new, new.filters + new.share_filters),
                "denominator": measure_of(new, new.filters), "factor": 100}
    if new.calculation == "rate":
        if new.population not in POPULATIONS:
            raise IndicatorEditError(f"the population must be one of {', '.join(POPULATIONS)}.")
        population = _flow(CommentedMap(table="population", agg="sum", expr=new.population, year="year"))
        return {"numerator": measure_of(new, new.filters), "denominator": population, "factor": 100000}
    return {"measure": measure_of(new, new.filters)}


def _point(p: Point) -> CommentedMap:
    """A baseline or target as a one-line mapping: year, value, and source and agreed when given."""
    m = _flow(CommentedMap(year=int(p.year), value=int(p.value) if float(p.value).is_integer() else float(p.value)))
    for key in ("source", "agreed"):
        value = getattr(p, key).strip()
        if value:
            m[key] = value
    return m


def _flow(node):
    node.fa.set_flow_style()
    return node


def _dump(node) -> str:
    """`node` as YAML text in the default file's layout, long lines never re-wrapped."""
    y = YAML(typ="rt")
    y.indent(**_INDENT)
    y.width = _WIDTH
    out = io.StringIO()
    y.dump(node, out)
    return out.getvalue()


def _flow_text(node: CommentedMap) -> str:
    return _dump(node)


def _compose(text: str) -> yaml.MappingNode:
    """The file's node tree (with positions), after the safe loader's limits and checks."""
    try:
        yamlfile.load(text)
    except yamlfile.YamlProblem as problem:
        where = f" (line {problem.line})" if problem.line else ""
        raise IndicatorEditError(f"the form cannot change the file until it reads as YAML{where}: "
                                 f"{problem.message} Fix it in the editor first.") from None
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise IndicatorEditError("the file must be a mapping with `indicators:`; fix it in the editor first.")
    return root


def _indicators(root: yaml.MappingNode) -> yaml.SequenceNode:
    for key, value in root.value:
        if key.value == "indicators" and isinstance(value, yaml.SequenceNode):
            return value
    raise IndicatorEditError("the file has no `indicators:` list; fix it in the editor first.")


def _id_of(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.MappingNode):
        return next((v.value for k, v in node.value if k.value == "id" and isinstance(v, yaml.ScalarNode)), None)
    return None


def _indicator(root: yaml.MappingNode, indicator_id: str) -> yaml.MappingNode:
    for item in _indicators(root).value:
        if _id_of(item) == indicator_id and not item.flow_style:
            return item
    raise IndicatorEditError(f"there is no indicator '{indicator_id}' written as a block in the file; "
                             "choose one from the list.")


def _last_line(node: yaml.Node) -> int:
    """The 0-based line a value ends on. A block collection's own end mark lies at the next
    token, past blank lines and comments, so it ends where its last child ends."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False) or not node.value:
        end = node.end_mark
        return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
    last = node.value[-1]
    return _last_line(last[1] if isinstance(last, tuple) else last)
