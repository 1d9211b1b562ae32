"""The Dialogues page's tables as people read them: agreed targets against what was
achieved, and what the next dialogue should agree. Values arrive already suppressed
(evaluation/dialogues.py); this module only writes them."""
from __future__ import annotations

import pandas as pd

from cpc_monitor.evaluation import dialogues
from cpc_monitor.present.formatting import format_status, format_value

# Outcome words with a shape each (look.md: never colour alone).
OUTCOME_WORDS = {dialogues.MET: "✓ Met", dialogues.MISSED: "✕ Missed", dialogues.NO_DATA: "… No data yet",
                 dialogues.HIDDEN: "– Hidden (small count)"}


def review_summary(review: pd.DataFrame) -> str:
    """'3 of 5 agreed targets met, 2 missed' (with those not yet known or hidden, if any)."""
    counts = review["outcome"].value_counts()
    text = f"{counts.get(dialogues.MET, 0)} of {len(review)} agreed targets met, {counts.get(dialogues.MISSED, 0)} missed"
    rest = [f"{counts[o]} {w.split(' ', 1)[1].lower()}" for o, w in OUTCOME_WORDS.items()
            if o in (dialogues.NO_DATA, dialogues.HIDDEN) and counts.get(o, 0)]
    return text + (", " + ", ".join(rest) if rest else "")


def review_table(review: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Indicator, year, agreed target, achieved, outcome, note."""
    rows = [{"Indicator": r.indicator, "Year": str(r.year), "Agreed target": format_value(r.target, r.unit),
             "Achieved": _achieved(r.achieved, r.unit, r.outcome == dialogues.HIDDEN, min_cell),
             "Outcome": OUTCOME_WORDS[r.outcome], "Note": r.note}
            for r in review.itertuples()]
    return pd.DataFrame(rows, columns=["Indicator", "Year", "Agreed target", "Achieved", "Outcome", "Note"])


def _achieved(value: float | None, unit: str, hidden: bool, min_cell: int) -> str:
    """An achieved value as shown: a hidden count reads "<5"; a hidden share or rate "hidden (<5)",
    since the share itself is not below 5 (its count is)."""
    if hidden and unit != "count":
        return f"hidden (<{min_cell})"
    return format_value(value, unit, suppressed=hidden, min_cell=min_cell)


def proposal_table(proposals: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Indicator, latest value, the value proposed for the next year, the target it leads to,
    and the indicator's status (with its evidence)."""
    rows = [{"Indicator": p.indicator,
             "Latest": format_value(p.latest, p.unit, suppressed=p.latest is None or p.latest != p.latest,
                                    min_cell=min_cell) + f" ({p.latest_year})",
             "Proposed": "–" if p.proposed is None or p.proposed != p.proposed
             else f"{format_value(p.proposed, p.unit)} ({p.year})",
             "Leads to": f"{format_value(p.target, p.unit)} by {p.target_year}",
             "Status now": format_status(p.status)}
            for p in proposals.itertuples()]
    return pd.DataFrame(rows, columns=["Indicator", "Latest", "Proposed", "Leads to", "Status now"])
