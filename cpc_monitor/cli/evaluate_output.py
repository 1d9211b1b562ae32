"""What `evaluate` prints: every indicator's result as JSON-ready rows, and those rows as
JSON, CSV or a readable table. Imported only when `evaluate` runs: it pulls in pandas
and the engine, which `--help` and the other commands do without."""
from __future__ import annotations

import math
import sys

import pandas as pd

from cpc_monitor.evaluation import engine, privacy
from cpc_monitor.present.formatting import format_status, format_value



def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return round(float(value), 6)


def json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def result_json(result: engine.IndicatorResult, by: str | None, suppress: bool) -> dict:
    out: dict = {"id": result.id, "name": result.name, "pillar": result.pillar, "kind": result.kind,
                 "unit": result.unit, "direction": result.direction, "status": result.status}
    if result.status == engine.ERROR:
        out["errors"] = [str(e) for e in result.errors]
        out["values"] = []
        return out
    frame = privacy.result_values(result, suppress)
    out["min_cell"] = privacy.min_cell_of(result)
    dim = by if by and not frame.empty and (frame["dim"] == by).any() else ""
    if by and not dim:
        out["note"] = f"'{by}' is not a column of this indicator's table; totals are shown."
    values = []
    for row in frame[frame["dim"] == dim].itertuples() if not frame.empty else []:
        item = {"year": int(row.year), "value": _number(row.value)}
        if dim:
            item[by] = row.group
        for part in ("numerator", "denominator"):
            if hasattr(row, part):
                item[part] = _number(getattr(row, part))
        if suppress and row.suppressed:
            item["suppressed"] = True
        values.append(item)
    out["values"] = values
    a = privacy.shown_assessment(result, suppress)  # with suppression: derived figures hidden with their value
    if a is not None:
        out["assessment"] = {
            "base_year": a.base_year, "current_year": a.current_year,
            "base_value": a.base_value, "current_value": a.current_value,
            "target": a.target, "target_year": a.target_year, "ratio": _number(a.ratio),
            "projected": _number(a.projected), "status_to_date": _number(a.status_to_date),
            "score": _number(a.score), "method": a.method_used, "note": a.note}
        out["milestones"] = [{"year": m.year, "target": m.target, "met": m.met} for m in result.milestones]
    v = result.verdict
    if v is not None:  # the status shown on screen, with its evidence (status stays the method's)
        hide = suppress and v.cases is not None and privacy.is_small(v.cases, privacy.min_cell_of(result))
        out["verdict"] = {"status": v.code, "reason": v.reason if not hide else v.reason.split(" rests on")[0]
                          + " rests on too few cases", "cases": None if hide else v.cases, "min_events": v.minimum,
                          "missed_milestone": list(v.missed_milestone) if v.missed_milestone else None,
                          "projected": _number(v.projected) if a is not None and a.projected is not None else None,
                          "bound": v.bound, "bound_year": v.bound_year}
        if v.interval is not None and a is not None and a.current_value is not None:  # hidden with its value
            out["verdict"]["interval"] = {"low": _number(v.interval.low), "high": _number(v.interval.high),
                                          "status_low": v.interval.status_low, "status_high": v.interval.status_high}
    if result.measured_baseline is not None:
        out["measured_baseline"] = _number(result.measured_baseline)
    if result.notes:
        out["notes"] = result.notes
    return out


def print_csv(rows: list[dict], by: str | None) -> None:
    records = []
    for r in rows:
        for v in r["values"] or [{}]:
            rec = {"id": r["id"], "name": r["name"], "pillar": r["pillar"], "unit": r["unit"], "status": r["status"],
                   "year": v.get("year")}
            if by:
                rec[by] = v.get(by)
            rec["value"] = f"<{r['min_cell']}" if v.get("suppressed") else v.get("value")
            rec["numerator"] = v.get("numerator")
            rec["denominator"] = v.get("denominator")
            records.append(rec)
    pd.DataFrame(records).to_csv(sys.stdout, index=False)


def print_table(evaluation: engine.Evaluation, rows: list[dict], by: str | None) -> None:
    if evaluation.synthetic:
        print("SAMPLE DATA: synthetic figures for demonstration, not real cases.\n")
    for r in rows:
        kind = ", input (not scored)" if r.get("kind") == "input" else ""
        print(f"{r['id']}  [{r['pillar']}{kind}, {r['unit']}, {r['direction']}]")
        print(f"  {r['name']}")
        print(f"  status: {format_status(r['status'])}")
        verdict = r.get("verdict") or {}
        if verdict.get("status") not in (None, r["status"]):
            print(f"  shown as: {format_status(verdict['status'])} ({verdict.get('reason')})")
        if r["status"] == engine.ERROR:
            for e in r["errors"]:
                print(f"    {e}")
            print()
            continue
        a = r.get("assessment") or {}
        if a.get("current_year") is not None:
            print(f"  latest {_fmt(a.get('current_value'), r['unit'])} in {a['current_year']}; "
                  f"base {_fmt(a.get('base_value'), r['unit'])} in {a.get('base_year')}"
                  + (f"; target {_fmt(a.get('target'), r['unit'])} by {a.get('target_year')}" if a.get('target') is not None else "")
                  + _projected_words(verdict, r['unit']))
        groups: dict = {}
        for v in r["values"]:
            groups.setdefault(v.get(by, "") if by else "", []).append(v)
        for group, values in groups.items():
            label = f"  {group}: " if group else "  "
            print(label + "  ".join(f"{v['year']} {_fmt(v['value'], r['unit'], v.get('suppressed'), r.get('min_cell'))}" for v in values))
        for note in r.get("notes", []) + ([r["note"]] if r.get("note") else []):
            print(f"  note: {note}")
        print()


def _projected_words(verdict: dict, unit: str) -> str:
    """'; projected 82.2', or '; reaches 100% in 2027' where the trend would pass what is possible."""
    if verdict.get("projected") is None:
        return ""
    if verdict.get("bound") is not None:
        when = f" in {verdict['bound_year']}" if verdict.get("bound_year") else ""
        return f"; reaches {_fmt(verdict['bound'], unit)}{when} (the most it can be)"
    return f"; projected {_fmt(verdict['projected'], unit)}"


def _fmt(value, unit: str, suppressed: bool = False, min_cell: int | None = None) -> str:
    return format_value(value, unit, suppressed=bool(suppressed), min_cell=min_cell)
