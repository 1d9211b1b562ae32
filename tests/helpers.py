"""Small helpers shared by the engine tests."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run `python -m cpc_monitor ARGS` as a user would, from the project root."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cpc_monitor", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env=env)


# One small, valid indicator file; tests mutate it to make each bad input.
BASE_YAML = """\
version: 1
segments:
  minor: "age < 18"
  confirmed: "victim_status = 'confirmed'"
indicators:
  - id: protection.child_victims
    name: Child victims identified
    pillar: protection
    unit: count
    direction: increase
    measure: {table: victims, agg: count, date: identified_date, where: [minor, confirmed]}
    disaggregations: [sex, age_group]
    targets:
      - {year: 2025, value: 15, source: assumed}
      - {year: 2030, value: 25, source: assumed}
  - id: prosecution.conviction_rate
    name: Conviction rate
    pillar: prosecution
    unit: percent
    direction: increase
    numerator:   {table: prosecutions, agg: count, date: outcome_date, where: ["child_victim", "outcome = 'convicted'"]}
    denominator: {table: prosecutions, agg: count, date: outcome_date, where: ["child_victim", "outcome <> 'pending'"]}
    factor: 100
    targets: [{year: 2030, value: 70, source: assumed}]
"""


def seen(markdown: str) -> str:
    """Markdown as the reader sees it: the backslash escapes (formatting.as_markdown_text) taken out."""
    return re.sub(r"\\(.)", r"\1", markdown)


def seen_table(frame):
    """An st.table's frame as the reader sees it (formatting.as_markdown_frame escapes its text)."""
    return frame.map(lambda v: seen(v) if isinstance(v, str) else v)


def _cells(line: str) -> list[str]:
    """A Markdown table row's cells as the reader sees them: split on unescaped pipes, and
    the backslash escapes (formatting.as_markdown_text) taken out."""
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    return [seen(c).strip() for c in re.split(r"(?<!\\)\|", inner)]


def markdown_rows(at: AppTest, first_heading: str) -> dict[str, dict[str, str]]:
    """The Markdown tables whose first heading is `first_heading`: first cell -> {heading: cell}."""
    rows: dict[str, dict[str, str]] = {}
    for md in at.markdown:
        lines = [line for line in md.value.splitlines() if line.startswith("|")]
        if not lines or lines[0].strip("| ").split(" |")[0] != first_heading:
            continue
        headings = _cells(lines[0])
        for line in lines[2:]:
            cells = _cells(line)
            rows[cells[0]] = dict(zip(headings, cells))
    return rows
