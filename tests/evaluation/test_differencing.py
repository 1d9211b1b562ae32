"""Suppression's side doors across filters (issue 11, part 4): with presentation-safe numbers,
every default indicator under every single-value filter of the sidebar (each parish, sex,
age group and form of exploitation) is compared with what the same screens show unfiltered,
and no hidden value may be recomputed from what is shown:

(a) a shown total less a shown filtered subset never gives a small count (the rest of the
    subset), and a filtered total hidden for one value alone is not given back by the total
    less the other values;
(b) inside a breakdown (a ratio's numerator and denominator each), the total less the
    shown parts never gives back a single hidden part;
(c) breakdowns by identifier columns (evaluate --by victim_id) are refused;
(d) a median over fewer than min_cell records is hidden.

The attacker's sums are done with the numbers shown; a leak is a sum that equals a hidden
value exactly (checked against the exact evaluation)."""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import pytest

from cpc_monitor.definitions.indicators import load_indicators
from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import ERROR, Evaluation, evaluate
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.store import codes
from helpers import ROOT, run_cli

# The sidebar's choices (app/sidebar.py): filter column -> its values.
CHOICES = {"parish": codes.PARISHES, "sex": codes.SEXES, "age_group": codes.AGE_GROUPS,
           "exploitation_type": codes.EXPLOITATION_TYPES}
Key = tuple  # (indicator id, year, dim, group, column)


def cells(ev: Evaluation) -> dict[Key, tuple[float, float | None]]:
    """Every counted cell of an evaluation: key -> (exact value, value shown in safe mode or None)."""
    out = {}
    for result in ev.results:
        if result.status == ERROR or result.values.empty:
            continue
        shown = privacy.result_values(result, True)
        is_count, parts = privacy.result_counts(result.unit, result.counted_kinds)
        columns = (["value"] if is_count else []) + list(parts) + (["count"] if "count" in shown.columns else [])
        for column in columns:
            for (year, dim, group, exact), seen in zip(
                    result.values[["year", "dim", "group", column]].itertuples(index=False), shown[column]):
                out[(result.id, int(year), dim, group, column)] = (
                    float(exact), None if seen != seen else float(seen))  # seen != seen: NaN, hidden
    return out


def hidden(cell: tuple[float, float | None]) -> bool:
    return cell[1] is None and cell[0] == cell[0] and cell[0] != 0


@pytest.fixture(scope="module")
def iset():
    return load_indicators(ROOT / "indicators.yaml")


@pytest.fixture(scope="module")
def whole(sample_db, iset):
    return evaluate(sample_db, iset)


@pytest.fixture(scope="module")
def filtered(sample_db, iset) -> dict[tuple[str, str], Evaluation]:
    return {(column, value): evaluate(sample_db, iset, filters=Filters(**{column: (value,)}))
            for column, values in CHOICES.items() for value in values}


def applies(ev: Evaluation, indicator_id: str, column: str) -> bool:
    result = ev.result(indicator_id)
    return any(column in names for names in result.filters_applied.values())


def test_a_total_less_a_filtered_subset_never_gives_a_small_count(whole, filtered, iset):
    min_cell = iset.defaults.min_cell
    shown_whole = cells(whole)
    leaks = []
    for (column, value), ev in filtered.items():
        for key, part in cells(ev).items():
            total = shown_whole.get(key)
            if total is None or not applies(ev, key[0], column) or part[1] is None or total[1] is None:
                continue
            if privacy.is_small(round(total[1] - part[1], 6), min_cell):
                leaks.append((column, value, key, total[1], part[1]))
    assert not leaks, leaks[:10]


def work_out(sums: list[tuple[tuple, list[tuple]]], known: set) -> None:
    """Add to `known` every term the sums give: wherever a sum lacks a single unknown term,
    the attacker works it out; repeated until nothing more is learnt."""
    learnt = True
    while learnt:
        learnt = False
        for total, parts in sums:
            unknown = [t for t in [total, *parts] if t not in known]
            if len(unknown) == 1:
                known.add(unknown[0])
                learnt = True


def lines_of(ev: Evaluation, label: object) -> list[tuple[tuple, list[tuple]]]:
    """Each breakdown as a sum: (the total's key, its parts' keys), keys qualified by `label`."""
    parts: dict[tuple, list[tuple]] = defaultdict(list)
    for (ind, year, dim, group, column) in cells(ev):
        if dim:
            parts[(ind, year, "", "", column)].append((label, (ind, year, dim, group, column)))
    return [((label, total), found) for total, found in parts.items()]


def test_no_hidden_small_count_can_be_worked_out_by_adding_and_subtracting(whole, filtered, iset):
    """The attacker knows every shown number and every sum between them: each breakdown adds up
    to its total, and a cell's values under each filter value add up to the unfiltered cell
    (where the records all have one of the values). Wherever a sum lacks a single unknown
    term, the attacker works it out; repeated until nothing more is learnt. No small count
    that a screen hides may be learnt. This covers (a) the total less a filtered subset, (b)
    a breakdown (a ratio's numerator and denominator each) less its shown parts, and the
    total less the other filter values."""
    min_cell = iset.defaults.min_cell
    views = {"all": whole, **filtered}
    exact, known, secret = {}, set(), set()
    for label, ev in views.items():
        for key, (value, seen) in cells(ev).items():
            exact[(label, key)] = value
            if seen is not None:
                known.add((label, key))
            elif privacy.is_small(value, min_cell):
                secret.add((label, key))
    sums = [line for label, ev in views.items() for line in lines_of(ev, label)]
    for column, values in CHOICES.items():
        for key in cells(whole):
            terms = [((column, v), key) for v in values if ((column, v), key) in exact]
            if not terms or not applies(filtered[(column, values[0])], key[0], column):
                continue
            if math.isclose(sum(exact[t] for t in terms), exact[("all", key)]):  # no records left out
                sums.append((("all", key), terms))
    work_out(sums, known)
    leaks = sorted((name, exact[name]) for name in secret & known)
    assert not leaks, leaks[:10]


@pytest.mark.parametrize("column", ["victim_id", "case_id", "prosecution_id", "session_id"])
def test_a_breakdown_by_an_identifier_is_refused(sample_db, column):
    for extra in (["--suppress"], []):
        r = run_cli("evaluate", "--db", str(sample_db), "--by", column, *extra)
        assert r.returncode == 1, r.stdout[:500]
        assert r.stdout == "" and "Traceback" not in r.stderr
        assert f"'{column}' identifies single records" in r.stderr
        assert "break down by a column that groups records" in r.stderr


def test_a_disaggregation_by_an_identifier_is_an_error_of_the_file(sample_db, tmp_path):
    text = (ROOT / "indicators.yaml").read_text(encoding="utf-8")
    old = "disaggregations: [statute, court]"
    assert old in text
    path = tmp_path / "indicators.yaml"
    path.write_text(text.replace(old, "disaggregations: [statute, prosecution_id]", 1), encoding="utf-8")
    r = run_cli("validate", str(path), "--db", str(sample_db))
    assert r.returncode == 1
    assert "'prosecution_id' identifies single records" in r.stdout


def test_a_median_over_fewer_than_min_cell_records_is_hidden(sample_db, iset, filtered, whole, tmp_path):
    """The records behind each median, counted by the same file with `agg: count`."""
    min_cell = iset.defaults.min_cell
    medians = [i.id for i in iset.indicators if not i.is_ratio and i.parts["measure"].agg == "median"]
    assert {"prosecution.months_charge_to_outcome", "protection.days_to_referral"} <= set(medians)
    path = tmp_path / "counts.yaml"
    path.write_text((ROOT / "indicators.yaml").read_text(encoding="utf-8").replace("agg: median", "agg: count"),
                    encoding="utf-8")
    counts = load_indicators(path)
    checked = 0
    for filters, ev in [(Filters(), whole)] + [(Filters(**{c: (v,)}), e) for (c, v), e in filtered.items()]:
        counted = evaluate(sample_db, counts, ids=medians, filters=filters)
        for ind in medians:
            shown = privacy.result_values(ev.result(ind), True)
            behind = counted.result(ind).values
            assert shown[["year", "dim", "group"]].equals(behind[["year", "dim", "group"]])
            for value, records in zip(shown["value"], behind["value"]):
                if privacy.is_small(records, min_cell):
                    assert value != value, (filters, ind, records)  # NaN: hidden
                    checked += 1
    assert checked > 10


@pytest.mark.timeout(300)
def test_the_explorer_under_a_filter_hides_what_the_rule_hides(open_page, sample_db, iset):
    at = open_page(state={"filter_safe": True, "filter_parish": ["St Andrew"]})
    assert [e.value for e in at.exception] == [] and [e.value for e in at.error] == []
    at.switch_page("pages/indicators.py").run()
    at.selectbox(key="indicator").set_value("protection.child_victims_identified").run()
    assert [e.value for e in at.exception] == []
    table = at.dataframe[-1].value
    totals = table[table["Breakdown"] == "Total"]
    on_screen = set(totals.loc[totals["Value"] == f"<{iset.defaults.min_cell}", "Year"].astype(int))
    ev = evaluate(sample_db, iset, ids=["protection.child_victims_identified"], filters=Filters(parish=("St Andrew",)))
    shown = privacy.result_values(ev.results[0], True)
    hidden_years = set(shown.loc[(shown["dim"] == "") & shown["suppressed"], "year"].astype(int))
    assert on_screen == hidden_years and hidden_years


# ----------------------------------------------------------------------------- the pillar pages' figures

PAGES = ("prosecution", "protection", "prevention_partnership")


def figure_cells(db_path, iset, filters: Filters) -> dict[tuple, tuple[float, float | None]]:
    """Every counted cell the pillar pages' declared figures show under `filters`: key ->
    (exact value, value shown in safe mode or None). A series that draws an indicator by
    the calendar year has the indicator's own key, so that the attacker joins what the
    figures and the scorecard show of the same number."""
    from cpc_monitor.evaluation.figures import evaluate_page

    out = {}
    for page in PAGES:
        for exact in evaluate_page(db_path, iset, page, filters):
            if exact.frame.empty:
                continue
            shown = privacy.suppress_figure(exact, True).frame.loc[exact.frame.index]
            for info in exact.series:
                columns = (["value"] if info.value_is_count else []) + [c for c in info.counted if c != "count"]
                rows = exact.frame["series"] == info.ref
                for column in columns:
                    for (year, period, dim, group, value), seen in zip(
                            exact.frame.loc[rows, ["year", "period", "dim", "group", column]].itertuples(index=False),
                            shown.loc[rows, column]):
                        own = str(period) == str(int(year)) and iset.indicator(info.ref) is not None
                        key = ((info.ref, int(year), dim, group, column) if own
                               else (page, exact.figure.id, info.ref, str(period), dim, group, column))
                        out[key] = (float(value), None if seen != seen else float(seen))
    return out


def test_no_hidden_figure_count_can_be_worked_out_across_filters(sample_db, iset, whole, filtered):
    """As the test above, with everything the pillar pages' figures show added to what the
    attacker knows: their breakdowns, their periods and the same figures unfiltered, beside
    the indicators' cells. A sum is used only where the exact values bear it out (the parts
    make the whole), as an attacker who knows the categories would."""
    min_cell = iset.defaults.min_cell
    views = {"all": (Filters(), whole), **{k: (Filters(**{k[0]: (k[1],)}), ev) for k, ev in filtered.items()}}
    exact, known, secret = {}, set(), set()
    for label, (filters, ev) in views.items():
        for key, (value, seen) in {**cells(ev), **figure_cells(sample_db, iset, filters)}.items():
            exact[(label, key)] = value
            if seen is not None:
                known.add((label, key))
            elif privacy.is_small(value, min_cell):
                secret.add((label, key))
    totals: dict[tuple, list[tuple]] = defaultdict(list)
    for (label, key) in exact:
        if key[-3]:  # dim: a part of a breakdown
            totals[(label, key[:-3] + ("", "", key[-1]))].append((label, key))
    sums = [(t, parts) for t, parts in totals.items()
            if t in exact and math.isclose(sum(exact[p] for p in parts), exact[t])]
    for column, values in CHOICES.items():
        for (label, key) in [k for k in exact if k[0] == "all"]:
            terms = [((column, v), key) for v in values if ((column, v), key) in exact]
            if terms and math.isclose(sum(exact[t] for t in terms), exact[(label, key)]) \
                    and any(exact[t] != exact[(label, key)] for t in terms):  # the filter cuts this cell
                sums.append(((label, key), terms))
    work_out(sums, known)
    leaks = sorted(((name, exact[name]) for name in secret & known), key=str)
    assert not leaks, (len(leaks), leaks[:10])
