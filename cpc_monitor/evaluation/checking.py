"""The one check of an indicator file's text: structure (definitions.indicators), then
meaning against the database (engine.check_meaning). `validate`, the editor's Check and
every save run exactly this, so what the editor accepts is what `validate` accepts."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cpc_monitor.definitions.indicators import Issue, IndicatorSet, parse_indicators
from cpc_monitor.errors import IndicatorFileError
from cpc_monitor.evaluation import engine
from cpc_monitor.store import db


@dataclass(frozen=True)
class Checked:
    """An indicator file's text, checked: its indicators (None when the file as a whole is
    unusable) and every issue, by line."""

    iset: IndicatorSet | None
    issues: list[Issue]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


def check_text(text: str, name: str, db_path: str | Path | None) -> Checked:
    """Every issue of `text` (the file `name`), by line; meaning only when `db_path` is given."""
    try:
        iset = parse_indicators(text, name)
    except IndicatorFileError as exc:
        return Checked(None, list(exc.issues))
    issues = list(iset.issues)
    if db_path is not None:
        with db.reading(db_path) as con:
            issues += engine.check_meaning(con, iset)
    issues.sort(key=lambda i: (i.line, i.severity))
    return Checked(iset, issues)
