"""CSV for people to open in a spreadsheet: every download goes through `csv_bytes`, so a
cell that a spreadsheet would run as a formula is never written as one."""
from __future__ import annotations

import pandas as pd

# Decimals a CSV keeps: enough for a rate per 100,000, never 70.74572930354796.
DECIMALS = 2

# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guarded(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell that a spreadsheet would run as a formula (starting with
    =, +, -, @, tab or carriage return) prefixed with an apostrophe; numbers are left as they are."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_datetime64_any_dtype(out[column]):
            continue
        out[column] = out[column].map(lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS)
                                      else v).astype(object)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV, guarded against formulas."""
    return guarded(frame).to_csv(index=False).encode("utf-8")


def figure_table(values, labels: dict[str, dict[str, str]]) -> pd.DataFrame:
    """A suppressed figure (privacy.suppress_figure(..., True)) as its CSV: one row per series,
    period and group, codes in words."""
    frame = values.frame
    labels = values.labels(labels)  # reference names (a space's name) over the file's labels
    names = {s.ref: s.label for s in values.series}
    counted = {s.ref: ((["value"] if s.value_is_count else []) + list(s.counted)) for s in values.series}
    head = pd.DataFrame({"series": frame["series"].map(names), "period": frame["period"],
                         "breakdown": frame["dim"].replace("", "total"),
                         "group": [labels.get(d, {}).get(g, g) if d else "" for d, g in zip(frame["dim"], frame["group"])]})
    numbers = frame[[c for c in frame.columns if c not in ("series", "year", "period", "dim", "group", "suppressed")]]
    marked = [counted.get(ref, []) for ref in frame["series"]]
    return pd.concat([head, _cells(numbers, frame.get("suppressed"), marked, values.min_cell)], axis=1)


def result_table(frame: pd.DataFrame, counted: list[str], min_cell: int) -> pd.DataFrame:
    """An indicator's values from privacy.result_values(result, True) as its CSV: the totals
    named 'total'; `counted`: the columns that count records."""
    head = frame[["year", "dim", "group"]].assign(dim=frame["dim"].replace("", "total"))
    numbers = frame[[c for c in ("value", "numerator", "denominator") if c in frame.columns]]
    return pd.concat([head, _cells(numbers, frame.get("suppressed"), [counted] * len(frame), min_cell)], axis=1)


def _cells(numbers: pd.DataFrame, suppressed: pd.Series | None, counted: list[list[str]], min_cell: int
           ) -> pd.DataFrame:
    """Numbers as a CSV writes them: rounded for people; a hidden count reads "<min_cell>",
    any other hidden figure is blank (a denominator privacy kept stays)."""
    hidden = (suppressed.astype(bool) if suppressed is not None else pd.Series(False, index=numbers.index))
    out = pd.DataFrame(index=numbers.index)
    for column in numbers.columns:
        rounded = numbers[column].astype("float64").round(DECIMALS)
        cells = rounded.astype(object).where(rounded.notna(), "")
        is_counted = pd.Series([column in c for c in counted], index=numbers.index)
        out[column] = cells.where(~(hidden & is_counted & rounded.isna()), f"<{min_cell}")
    out["suppressed"] = hidden.map({True: "yes", False: ""})
    return out
