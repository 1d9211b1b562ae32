"""The Data page in presentation-safe mode: its quality counts, duplicate counts and audit rows
with the counts from 1 to min_cell-1 reading "<5" (privacy.hide_small_counts decides which),
and the figures that would give a hidden count back hidden with it: a percentage beside its
row count, the other half of a count that adds up to a known total.

Pure pandas: nothing here calls Streamlit. min_cell comes from the caller (the indicator file)."""
from __future__ import annotations

import re

import pandas as pd

from cpc_monitor.evaluation import privacy

# Why the duplicate review is not drawn in safe mode, and how to see it.
PAIRS_HIDDEN = ("**Duplicate pairs are not shown while presentation-safe numbers are on.** Each pair sets out two "
                "children's records side by side (ids, dates, ages, parish), so it must not be on a screen "
                "others can see. To review pairs, turn off *Presentation-safe numbers* in the sidebar on a "
                "trusted screen, such as your own computer with no one looking on.")
# The same, for someone whose role may not turn presentation-safe numbers off (a viewer).
PAIRS_HIDDEN_LOCKED = ("**Duplicate pairs are not shown while presentation-safe numbers are on.** Each pair sets out "
                       "two children's records side by side (ids, dates, ages, parish). Presentation-safe numbers "
                       "stay on for your role (the sidebar says why), so reviewing pairs needs someone signed in "
                       "as an editor or admin.")
# An audit entry on a duplicate decision names two victim records: in safe mode it says only this.
DECISION_WORDS = {"duplicate_decision": "A decision on a likely duplicate pair (the records are not shown while "
                                        "presentation-safe numbers are on).",
                  "duplicate_undo": "A duplicate decision undone (the records are not shown while "
                                    "presentation-safe numbers are on)."}
# How a count reads when it is hidden only so that a smaller one beside it cannot be worked out.
SECONDARY = "hidden"
# A whole number standing alone in a sentence ("3 rows", "(1,204 rows read)"), not part of an
# id, a date, a time, a decimal or a file name ("TEST-V-3", "2025-06-01", "v2.csv").
_NUMBER = re.compile(r"(?<![\w.,:/'-])\d{1,3}(?:,\d{3})*(?![\w.:/'-]|,\d)")


def safe_note(limit: int) -> str:
    """What the quality figures leave out in safe mode, in words."""
    return (f"Presentation-safe numbers: counts from 1 to {limit - 1} read \"<{limit}\". A count that would give "
            f"one back from a total shown beside it reads \"{SECONDARY}\", and the percentage of a hidden count is "
            "left out. Turn the switch off on a trusted screen for the exact figures.")


def hidden_text(limit: int) -> str:
    """How a hidden count reads: "<5"."""
    return f"<{limit}"


def counts_as_text(frame: pd.DataFrame, columns: list[str], limit: int,
                   within: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """`frame` with its `columns` of counts as text: a count from 1 to limit-1 reads "<5"; and
    `within` a total, the second cell hidden so that a single small one cannot be worked out
    from it reads "hidden" (it is not below the limit)."""
    out, mask = privacy.hide_small_counts(frame, columns, limit, within)
    for column in columns:
        out[column] = [cell_text(v, hide, limit) for v, hide in zip(frame[column], mask[column])]
    return out


def cell_text(value: float | int | None, hide: bool, limit: int) -> str:
    """One count as shown: "1,234", "<5" (from 1 to limit-1), "hidden" (hidden beside one), "" (none)."""
    if value is None or pd.isna(value):
        return ""
    if hide:
        return hidden_text(limit) if privacy.is_small(float(value), limit) else SECONDARY
    return f"{int(value):,}"


def is_hidden(text: str, limit: int) -> bool:
    """True for a count's text that hides it ("<5" or "hidden")."""
    return text in (hidden_text(limit), SECONDARY)


def withheld(view: str, limit: int) -> str:
    """Why a view (a source, a batch) shows no figures in safe mode."""
    return (f"**{view}: its figures are not shown while presentation-safe numbers are on.** It has fewer than "
            f"{limit} rows, or so few that, with the others, its count could be worked out from the total. Turn the "
            "switch off on a trusted screen to see them.")


def completeness(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The completeness of one table over all its groupings (by, group, column, rows, filled,
    missing, percent_filled) in safe mode, as text.

    A column's filled and missing counts add up to the rows shown above the table, so they
    are hidden together. Hidden when either is from 1 to limit-1: that one reads "<5", the
    other "more than N". And the sources (or batches) add up to all rows: where a single
    source's column is hidden, the same column of the source with the fewest missing rows is
    hidden too, both counts reading "hidden". A hidden column's percentage is left empty."""
    small = {c: frame[c].between(1, limit - 1) for c in ("filled", "missing")}
    hidden = small["filled"] | small["missing"]
    for rows in frame.groupby(["by", "column"], sort=False).groups.values():
        if hidden[rows].sum() == 1:
            # Hide with it the smallest positive count of the same kind as its small one.
            part = "missing" if small["missing"][rows][hidden[rows]].any() else "filled"
            others = frame.loc[rows][~hidden[rows] & (frame.loc[rows, part] > 0)]
            if not others.empty:
                hidden[others[part].idxmin()] = True
    out = frame.copy()
    for column, other in (("filled", "missing"), ("missing", "filled")):
        out[column] = [_pair_text(frame.at[i, column], small[column][i], small[other][i], hidden[i],
                                  frame.at[i, "rows"], limit) for i in frame.index]
    out["percent_filled"] = frame["percent_filled"].where(~hidden)
    return out


def _pair_text(value: int, small: bool, other_small: bool, hidden: bool, rows: int, limit: int) -> str:
    """One of a column's filled and missing counts as shown (see completeness)."""
    if not hidden:
        return f"{int(value):,}"
    if small:
        return hidden_text(limit)
    if other_small:
        return f"more than {rows - limit:,}" if rows >= limit else f"{int(value):,}"
    return SECONDARY


def violations(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Rule violations of one table over all its groupings (by, group, column, rule, rows) with
    the counts as text: from 1 to limit-1 "<5", and where one source's (or batch's) count of a
    rule would be given back by the all-rows count, a second reading "hidden"."""
    return counts_as_text(frame, ["rows"], limit, within=["by", "column", "rule"])


def impact(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The indicators-affected table in safe mode: a missing count from 1 to limit-1 reads
    "<5" and its percentage filled is left empty (with the table's row count it would give
    the count back)."""
    out, mask = privacy.hide_small_counts(frame, ["missing"], limit)
    out["missing"] = [cell_text(v, hide, limit) for v, hide in zip(frame["missing"], mask["missing"])]
    out["percent_filled"] = frame["percent_filled"].where(~mask["missing"])
    return out


def monthly(months: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Records per month of one table, every series (all rows and each source), in safe mode:
    `rows` NaN for a month with 1 to limit-1 records, a column `hidden` marking the hidden
    months and `small` those with 1 to limit-1 records (the chart draws a band there).

    A series adds up to the row count shown beside it, and the sources' months add up to the
    all-rows month: wherever one hidden month is alone in either sum, the smallest other
    month of that sum is hidden too, until no sum has a single hidden month."""
    values = months["rows"].astype("float64").to_numpy()
    small = (values >= 1) & (values < limit)
    hidden = small.copy()
    sums = [list(months.groupby(keys, sort=False).indices.values()) for keys in
            (["table", "by", "group"], ["table", "by", "month"])]
    changed = True
    while changed:
        changed = False
        for rows in (r for groups in sums for r in groups):
            if hidden[rows].sum() == 1:
                others = [r for r in rows if not hidden[r] and values[r] > 0]
                if others:
                    hidden[min(others, key=lambda r: values[r])] = True
                    changed = True
    return months.assign(rows=months["rows"].astype("float64").where(~hidden), hidden=hidden, small=small)


def message(text: str | None, limit: int) -> str | None:
    """An audit message with every count from 1 to limit-1 standing alone reading "<5"."""
    if not isinstance(text, str):
        return text
    return _NUMBER.sub(lambda m: hidden_text(limit) if privacy.is_small(int(m.group().replace(",", "")), limit)
                       else m.group(), text)


def audit_rows(log: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The audit log in safe mode: rows added and replaced as text ("<5" for 1 to limit-1),
    small counts in messages hidden, and duplicate decisions without the records they name."""
    out = counts_as_text(log, ["rows_added", "rows_replaced"], limit)
    decided = log["action"].isin(list(DECISION_WORDS))
    out["message"] = [DECISION_WORDS[a] if d else message(m, limit)
                      for a, d, m in zip(log["action"], decided, log["message"])]
    return out
