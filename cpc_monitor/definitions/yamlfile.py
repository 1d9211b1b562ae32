"""Safe YAML loading that keeps the line of every value.

Program managers edit indicators.yaml by hand, so every message must point at a
line. PyYAML's composer gives nodes with positions; we build plain Python values
from them ourselves, recording the line of each path, and refuse what a hand-edited
file never needs and an attack does: aliases (billion-laughs bombs), duplicate keys,
tabs in indentation, very large files and very deep nesting.

The limits are checked before anything is built: the size on the text, the depth on
PyYAML's event stream (which keeps its own stack, so a 100,000-level nesting costs no
recursion), and aliases on the same pass. `validate`, the dashboard and the editor all
load through here, so one paste of a bomb costs milliseconds everywhere."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from cpc_monitor.envlimits import env_name, from_environment


@dataclass(frozen=True)
class YamlLimits:
    """The largest indicator file accepted; each can be set by CPC_LIMIT_<NAME>."""

    # Ten times the default file (38 KB, 25 indicators): a pasted data dump or a 1 MB
    # paste is refused at once, unparsed, with this number in the message.
    indicator_file_bytes: int = 400_000
    # The default file nests 7 deep (indicators > one > targets_by > parish > KIN > targets > one).
    indicator_file_depth: int = 20


def limits() -> YamlLimits:
    """The limits in force (defaults, or CPC_LIMIT_INDICATOR_FILE_BYTES / _DEPTH)."""
    return from_environment(YamlLimits)

Path = tuple[str | int, ...]


@dataclass
class YamlProblem(Exception):
    """The text is not YAML this product accepts; `line` is 1-based (0 when unknown)."""

    line: int
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class LoadedYaml:
    """A YAML document as plain Python values, with the line each path starts on."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest parent that has one (1 when none)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


_TAB_INDENT = re.compile(r"^[ ]*\t")
_SCALARS = yaml.SafeLoader("")  # its constructor turns scalar nodes into ints, dates, ...


def load(text: str) -> LoadedYaml:
    """Parse `text` (one YAML document) into values and lines, or raise YamlProblem."""
    limit = limits()
    size = len(text.encode("utf-8", "replace"))
    if size > limit.indicator_file_bytes:
        raise YamlProblem(0, f"the text is {size:,} bytes, more than the {limit.indicator_file_bytes:,} an indicator "
                             f"file may have (the default file is about 40,000). Check that you opened or pasted the "
                             f"right file; the limit is set by {env_name('indicator_file_bytes')}.")
    for number, line in enumerate(text.splitlines(), start=1):
        if _TAB_INDENT.match(line):
            raise YamlProblem(number, "this line is indented with a tab; YAML needs spaces. "
                                      "Replace the tab with spaces (two per level).")
    try:
        _refuse_aliases_and_depth(text, limit.indicator_file_depth)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise YamlProblem(line, f"this is not valid YAML: {exc.problem or exc.context}. "
                                "Check the indentation, the colons after keys and that quotes are closed.") from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(0, f"this is not valid YAML: {exc}") from exc
    if node is None:
        return LoadedYaml(None, {(): 1})
    loaded = LoadedYaml(None)
    loaded.data = _build(node, (), loaded.lines, set())
    return loaded


def _refuse_aliases_and_depth(text: str, max_depth: int) -> None:
    """Point at the first alias, or the first block nested deeper than `max_depth`, before
    anything is built (parsing events expands nothing and recurses nowhere)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem(event.start_mark.line + 1,
                              f"this uses an alias (*{event.anchor}) of an anchor (&{event.anchor}); "
                              "write the value out instead.")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > max_depth:
                raise YamlProblem(event.start_mark.line + 1,
                                  f"the text nests more than {max_depth} levels deep here; an indicator file needs "
                                  f"about 7. Remove the extra brackets or indentation (the limit is set by "
                                  f"{env_name('indicator_file_depth')}).")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _build(node: yaml.Node, path: Path, lines: dict[Path, int], seen: set[int]) -> Any:
    """Turn a node into plain values, recording lines; refuses aliases and duplicate keys."""
    if id(node) in seen:
        raise YamlProblem(node.start_mark.line + 1,
                          "this reuses an anchored value; write the value out instead.")
    seen.add(id(node))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem(key_node.start_mark.line + 1,
                                  "'<<' merge keys are not supported; write the keys out instead.")
            key = _build(key_node, path + ("<key>",), {}, seen)
            if not isinstance(key, (str, int)):
                raise YamlProblem(key_node.start_mark.line + 1, "a key must be a plain word.")
            if key in out:
                raise YamlProblem(key_node.start_mark.line + 1,
                                  f"the key '{key}' appears twice in the same block; keep one of them.")
            out[key] = _build(value_node, path + (key,), lines, seen)
            lines[path + (key,)] = key_node.start_mark.line + 1  # point at the key, not its block
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), lines, seen) for i, item in enumerate(node.value)]
    try:
        return _SCALARS.construct_object(node, deep=False)
    except yaml.YAMLError as exc:
        raise YamlProblem(node.start_mark.line + 1, f"this value cannot be read: {exc}") from exc
