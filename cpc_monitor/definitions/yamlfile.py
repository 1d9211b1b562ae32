"""Safe YAML loading that keeps the line of every value.

Program managers edit indicators.yaml by hand, so every message must point at a
line. PyYAML's composer gives nodes with positions; we build plain Python values
from them ourselves, recording the line of each path, and refuse what a hand-edited
file never needs and an attack does: aliases (billion-laughs bombs), duplicate keys,
tabs in indentation and very large files."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

# Far larger than any real indicator file (the default is ~25 KB); refuses a pasted dump.
MAX_BYTES = 2_000_000

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
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise YamlProblem(0, f"the file is larger than {MAX_BYTES // 1_000_000} MB; an indicator file is a few KB. "
                             "Check that you opened the right file.")
    for number, line in enumerate(text.splitlines(), start=1):
        if _TAB_INDENT.match(line):
            raise YamlProblem(number, "this line is indented with a tab; YAML needs spaces. "
                                      "Replace the tab with spaces (two per level).")
    try:
        _refuse_aliases(text)
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


def _refuse_aliases(text: str) -> None:
    """Point at the first alias before anything is built (parsing events expands nothing)."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem(event.start_mark.line + 1,
                              f"this uses an alias (*{event.anchor}) of an anchor (&{event.anchor}); "
                              "write the value out instead.")


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
