"""The docs keep up with the code: every command is in the README with its help text,
and the README's two commands are the ones CI runs."""
from __future__ import annotations

import argparse

from cpc_monitor.cli.main import build_parser
from helpers import ROOT


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_is_in_the_readme_with_help():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, parser in _commands().items():
        assert f"`{name} " in readme or f"`{name}`" in readme, f"README.md does not document `{name}`"
        assert parser.description, f"`{name}` has no description for --help"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "pip install -r requirements-dev.txt && python -m pytest"
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -r requirements.txt && streamlit run dashboard.py" in readme


def test_requirements_are_pinned_exactly():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert "==" in line, f"{name}: '{line}' is not pinned to an exact version"


def test_the_security_page_is_linked_and_names_only_tests_that_exist():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`docs/security.md`" in readme
    page = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = set(re.findall(r"(tests/(?:\w+/)?\w+\.py)::(\w+)", page))
    assert len(named) > 40
    for path, test in sorted(named):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {test}\(", text, re.MULTILINE), f"docs/security.md names {path}::{test}"
