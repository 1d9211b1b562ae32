"""What an unsaved indicator file would show: the changed indicators and the declared
figures that draw them, evaluated by the one engine on the current data, before anything
is saved. The editor's preview draws these exactly as the pages would."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cpc_monitor.definitions.indicators import IndicatorSet
from cpc_monitor.evaluation import engine, privacy
from cpc_monitor.evaluation.engine import IndicatorResult
from cpc_monitor.evaluation.figures import FigureValues, evaluate_figure
from cpc_monitor.evaluation.measures import DATA_SPAN, Filters
from cpc_monitor.store import db


@dataclass
class Preview:
    """The changed indicators' results and the figures (page, values) that show any of them."""

    results: list[IndicatorResult] = field(default_factory=list)
    figures: list[FigureValues] = field(default_factory=list)


def preview(db_path: str | Path, iset: IndicatorSet, ids: list[str], safe: bool) -> Preview:
    """The indicators `ids` of the candidate `iset`, and every declared figure showing one of
    them, under no filter; figures suppressed when `safe` (as the pages do)."""
    wanted = [i for i in ids if i in iset.index or i in iset.broken]
    results = engine.evaluate(db_path, iset, ids=wanted, breakdowns=False).results if wanted else []
    figures = []
    with db.reading(db_path) as con:
        tables = db.table_columns(con)
        batch: dict = {DATA_SPAN: engine.data_span(con, tables)}
        for page, declared in iset.figures.items():
            for figure in declared:
                if {s.ref for s in figure.series} & set(wanted) or figure.reference in wanted:
                    values = evaluate_figure(con, iset, page, figure, tables, Filters(), batch)
                    figures.append(privacy.suppress_figure(values, safe))
    return Preview(results, figures)
