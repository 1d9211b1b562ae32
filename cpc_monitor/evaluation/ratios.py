"""Values from measures: a measure scaled by its factor, or a ratio of two measures. The one
ratio function that indicators and figures share, so a share reads the same everywhere."""
from __future__ import annotations

import pandas as pd


def scale(frame: pd.DataFrame, factor: float) -> pd.DataFrame:
    out = frame.copy()
    if factor != 1:
        out["value"] = out["value"] * factor
    return out


def combine(parts: dict, factor: float) -> pd.DataFrame:
    """numerator / denominator x factor, per year and group, over the years both cover."""
    num, den = parts["numerator"], parts["denominator"]
    if None in (num.first_year, num.last_year, den.first_year, den.last_year):
        frame = num.frame.iloc[0:0].assign(numerator=[], denominator=[])
        return frame
    first, last = max(num.first_year, den.first_year), min(num.last_year, den.last_year)
    if (num.frame["dim"] == "").all():
        return _combine_totals(num.frame, den.frame, first, last, factor)
    n = num.frame[(num.frame["year"] >= first) & (num.frame["year"] <= last)].rename(columns={"value": "numerator"})
    d = den.frame.rename(columns={"value": "denominator"})
    den_dims = set(d["dim"].unique())
    matched = n[n["dim"].isin(den_dims)].merge(d, on=["year", "dim", "group"], how="left")
    totals = d[d["dim"] == ""][["year", "denominator"]]
    unmatched = n[~n["dim"].isin(den_dims)].merge(totals, on="year", how="left")
    out = pd.concat([matched, unmatched], ignore_index=True)
    out["value"] = _ratio(out["numerator"], out["denominator"], factor)
    return out[["year", "dim", "group", "value", "numerator", "denominator"]].sort_values(
        ["dim", "year", "group"]).reset_index(drop=True)


def _combine_totals(num: pd.DataFrame, den: pd.DataFrame, first: int, last: int, factor: float) -> pd.DataFrame:
    """combine for yearly totals only (what every scorecard needs): no merges."""
    years = list(range(first, last + 1))
    numerators = dict(zip(num["year"].tolist(), num["value"].tolist()))
    den_totals = den[den["dim"] == ""]
    denominators = dict(zip(den_totals["year"].tolist(), den_totals["value"].tolist()))
    n = pd.Series([numerators.get(y) for y in years], dtype="float64")
    d = pd.Series([denominators.get(y) for y in years], dtype="float64")
    return pd.DataFrame({"year": pd.Series(years, dtype="int64"), "dim": "", "group": "",
                         "value": _ratio(n, d, factor), "numerator": n, "denominator": d})


def _ratio(numerator: pd.Series, denominator: pd.Series, factor: float) -> pd.Series:
    """numerator / denominator x factor; no value where the denominator is 0.
    Rounded so that equal sums (6.7m of 6.7m) give exactly 100, not 99.99999999."""
    return (numerator / denominator.where(denominator != 0) * factor).round(9)
