"""CSV for people to open in a spreadsheet: every download goes through `csv_bytes`, so a
cell that a spreadsheet would run as a formula is never written as one."""
from __future__ import annotations

import pandas as pd

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
