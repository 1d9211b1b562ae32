"""The YAML code editor of the editor page: streamlit-code-editor (Ace, bundled: line
numbers, YAML highlighting, our own error marks), served so that it makes no request off
this machine, with a plain text box when the component is missing or the user asks for one.

Its themes' CSS starts with `@import url('https://fonts.googleapis.com/...')`, one request
to Google on every page view (a failed one offline). So the component is declared from a
copy of its build with that import cut out, made once per installed version in the user's
cache folder (not the shared temporary folder, where another user could plant scripts),
written to a side name and renamed, so two processes never see half a copy. The editor
then uses the browser's monospace font."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import streamlit as st

# What the copy cuts out: the only reference to a host off this machine in the build's code.
FONT_IMPORT = ("@import url('https://fonts.googleapis.com/css2?family=Source+Code+Pro:ital,wght@0,400;0,500;0,600;"
               "0,700;1,400&display=swap');")
# Without the worker, its YAML checker leaves our marks alone; no word pop-ups while typing
# (they offered parish names inside comments).
OPTIONS = {"showLineNumbers": True, "useWorker": False, "enableLiveAutocompletion": False,
           "enableBasicAutocompletion": False, "enableSnippets": False}
# Lines shown: at least, at most (it scrolls beyond). At most 24 (about 460 px), so that at
# 1280x720 the page, not only the editor, still scrolls under the mouse to Check and Save.
HEIGHT = [16, 24]
_component: Any = None


def _offline_build() -> Path | None:
    """The component's build with the web-font import removed (None when it is not installed)."""
    try:
        import code_editor
    except ImportError:
        return None
    source = Path(code_editor.__file__).parent / "frontend" / "build"
    stamp = hashlib.sha256(str(sorted((p.name, p.stat().st_size) for p in source.iterdir())).encode()).hexdigest()[:12]
    target = _cache_folder() / f"code-editor-{stamp}"
    if (target / "index.html").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f"{target.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)  # left by a process of this pid that was killed
    shutil.copytree(source, building, ignore=shutil.ignore_patterns("*.map"))
    for path in building.rglob("*.js"):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if FONT_IMPORT in text:
            path.write_text(text.replace(FONT_IMPORT, ""), encoding="utf-8", errors="surrogateescape")
    try:
        os.rename(building, target)
    except OSError:  # another process made it first
        shutil.rmtree(building, ignore_errors=True)
    return target


def _cache_folder() -> Path:
    """$XDG_CACHE_HOME/cpc-monitor, else ~/.cache/cpc-monitor."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cpc-monitor"


def _declared() -> Any:
    """The component, declared once per process from the offline copy (None when unavailable)."""
    global _component
    if _component is None:
        build = _offline_build()
        if build is not None:
            import streamlit.components.v1 as components

            _component = components.declare_component("cpc_yaml_editor", path=str(build))
    return _component


def available() -> bool:
    return _declared() is not None


def yaml_editor(text: str, marks: list[dict], key: str) -> tuple[str, str] | None:
    """Draw `text` in the code editor with `marks` (Ace annotations: row 0-based, type, text).
    Returns (event id, edited text) once the user pauses typing or leaves the editor, else None
    (so that Save always has what is on screen);
    the same event comes back on every later run, so the caller applies each id once."""
    component = _declared()
    value = component(code=text, lang="yaml", theme="default", key=key, height=HEIGHT, focus=False,
                      shortcuts="vscode", snippets=["", ""], completions=[], keybindings={}, buttons=[],
                      options=OPTIONS, props={"annotations": marks}, editor_props={}, component_props={},
                      menu={}, info={}, allow_reset=True, replace_completer=False, response_mode=["blur", "debounce"],
                      ghost_text="", default=None)
    if isinstance(value, dict) and value.get("type") and isinstance(value.get("text"), str):
        return str(value.get("id", "")), value["text"]
    return None
