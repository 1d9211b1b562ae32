"""Suppression's side doors are shut: in safe mode, every figure derived from a hidden value
is hidden with it (distance covered, yearly change, projection, pace ratio), for every
default indicator under every parish. The screen, downloads and `evaluate --suppress` all
take the assessment from privacy.shown_assessment."""
from __future__ import annotations

from cpc_monitor.definitions.indicators import load_indicators
from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import evaluate
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.present import charts
from cpc_monitor.store import codes
from helpers import ROOT

DERIVED = ("status_to_date", "projected", "rate", "ratio")


def hidden_latest(result) -> bool:
    values = privacy.result_values(result, True)
    totals = values[values["dim"] == ""]
    a = result.assessment
    return bool(totals.loc[totals["year"] == a.current_year, "suppressed"].any())


def test_no_derived_figure_gives_a_hidden_latest_value_back(sample_db):
    iset = load_indicators(ROOT / "indicators.yaml")
    checked = 0
    for parish in codes.PARISHES:
        ev = evaluate(sample_db, iset, filters=Filters(parish=(parish,)), breakdowns=False)
        for result in ev.results:
            a = result.assessment
            if a is None or a.current_value is None or not hidden_latest(result):
                continue
            shown = privacy.shown_assessment(result, True)
            assert shown.current_value is None, (parish, result.id)
            assert all(getattr(shown, name) is None for name in DERIVED), (parish, result.id, shown)
            figures = dict(charts.status_figures(result, True).values.tolist())
            for label in ("Distance covered", "Yearly change so far", "Pace ratio (so far ÷ needed)"):
                assert figures[label] in ("–", "hidden (<5)"), (parish, result.id, label, figures[label])
            assert "hidden" in charts.explanation(result, True)
            checked += 1
            # exact numbers on a trusted screen are untouched
            assert privacy.shown_assessment(result, False) is a
    assert checked >= 10
