"""Authoring the indicator file (issue 9): bad input to the safe loader (broken YAML, a
1 MB paste, billion laughs, deep nesting) is refused within seconds with a clear message,
and the forms' edits change only their own lines, keeping every comment and the order of
the rest of the file."""
from __future__ import annotations

import difflib

import pytest

from cpc_monitor.definitions import authoring, yamlfile
from cpc_monitor.definitions.authoring import NewIndicator, Point
from cpc_monitor.definitions.indicators import parse_indicators
from cpc_monitor.errors import IndicatorEditError, IndicatorFileError
from helpers import BASE_YAML, ROOT
from hostile_files import BILLION_LAUGHS, DEEP_BLOCKS, DEEP_BRACKETS

DEFAULT_TEXT = (ROOT / "indicators.yaml").read_text(encoding="utf-8")


def changed_lines(old: str, new: str) -> list[str]:
    """The lines removed (-) and added (+) from `old` to `new`."""
    return [line for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("text, line, words", [
    ("indicators:\n  - id: a\n    name: [unclosed\n", 4, "this is not valid YAML"),
    (BILLION_LAUGHS, 2, "this uses an alias (*l0) of an anchor (&l0); write the value out instead."),
    (DEEP_BRACKETS, 1, "the text nests more than 20 levels deep here"),
    (DEEP_BLOCKS, 11, "the text nests more than 20 levels deep here"),
    (DEFAULT_TEXT + "# " + "x" * 1_000_000 + "\n", 0,
     "the text is 1,038,090 bytes, more than the 400,000 an indicator file may have"),
], ids=["broken yaml", "billion laughs", "deep brackets", "deep blocks", "1 MB paste"])
def test_hostile_or_broken_text_is_refused_with_a_message(text, line, words):
    with pytest.raises(IndicatorFileError) as caught:
        parse_indicators(text)
    issue = caught.value.issues[0]
    assert (issue.line, issue.severity) == (line, "error")
    assert words in issue.message
    # The forms load through the same limits.
    with pytest.raises(IndicatorEditError, match="Fix it in the editor first"):
        authoring.set_plan(text, "a", None, [])


def test_the_size_limit_names_its_setting_and_can_be_raised(monkeypatch):
    big = DEFAULT_TEXT + "# " + "x" * 500_000 + "\n"
    with pytest.raises(yamlfile.YamlProblem, match="the limit is set by CPC_LIMIT_INDICATOR_FILE_BYTES"):
        yamlfile.load(big)
    monkeypatch.setenv("CPC_LIMIT_INDICATOR_FILE_BYTES", "2000000")
    assert yamlfile.load(big).data["version"] == 1


def test_the_default_file_is_within_the_limits():
    assert not parse_indicators(DEFAULT_TEXT).errors


def test_target_editor_changes_only_the_target_lines():
    edited = authoring.set_plan(DEFAULT_TEXT, "prosecution.convictions",
                                Point(2018, 1, "TIP Report 2019: one conviction"),
                                [Point(2025, 4, "assumed"), Point(2030, 9, "", "2024 bilateral dialogue")])
    assert changed_lines(DEFAULT_TEXT, edited) == [
        "-      - {year: 2030, value: 6, source: assumed}",
        "+      - {year: 2030, value: 9, agreed: 2024 bilateral dialogue}"]
    convictions = parse_indicators(edited).indicator("prosecution.convictions")
    assert [(t.year, t.value, t.agreed) for t in convictions.targets] == [(2025, 4, None),
                                                                          (2030, 9, "2024 bilateral dialogue")]


def test_target_editor_adds_a_baseline_and_sorts_targets_keeping_comments():
    text = BASE_YAML.replace("    targets:\n      - {year: 2025", "    # agreed at the 2024 dialogue\n"
                                                                   "    targets:\n      - {year: 2025")
    edited = authoring.set_plan(text, "protection.child_victims", Point(2018, 5.5, "TIP Report: 'five'"),
                                [Point(2030, 30, "assumed"), Point(2027, 20)])
    assert changed_lines(text, edited) == [
        "+    baseline: {year: 2018, value: 5.5, source: \"TIP Report: 'five'\"}",
        "-      - {year: 2025, value: 15, source: assumed}",
        "-      - {year: 2030, value: 25, source: assumed}",
        "+      - {year: 2027, value: 20}",
        "+      - {year: 2030, value: 30, source: assumed}"]
    assert "    # agreed at the 2024 dialogue\n" in edited
    ind = parse_indicators(edited).indicator("protection.child_victims")
    assert (ind.baseline.year, ind.baseline.value, ind.baseline.source) == (2018, 5.5, "TIP Report: 'five'")


def test_target_editor_can_remove_the_baseline():
    text = authoring.set_plan(BASE_YAML, "protection.child_victims", Point(2018, 5), [Point(2030, 25)])
    edited = authoring.set_plan(text, "protection.child_victims", None, [Point(2030, 25)])
    assert parse_indicators(edited).indicator("protection.child_victims").baseline is None


@pytest.mark.parametrize("calculation, keys", [
    ("count", {"measure": {"table": "victims", "agg": "count", "date": "identified_date", "where": ["minor"]}}),
    ("sum", {"measure": {"table": "victims", "agg": "sum", "expr": "age", "date": "identified_date",
                         "where": ["minor"]}}),
    ("median", {"measure": {"table": "victims", "agg": "median", "expr": "age", "date": "identified_date",
                            "where": ["minor"]}}),
    ("ratio", {"numerator": {"table": "victims", "agg": "count", "date": "identified_date",
                             "where": ["minor", "referred_date IS NOT NULL"]},
               "denominator": {"table": "victims", "agg": "count", "date": "identified_date", "where": ["minor"]},
               "factor": 100}),
    ("rate", {"numerator": {"table": "victims", "agg": "count", "date": "identified_date", "where": ["minor"]},
              "denominator": {"table": "population", "agg": "sum", "expr": "child_population", "year": "year"},
              "factor": 100000}),
])
def test_new_indicator_form_appends_one_indicator_and_keeps_the_rest(calculation, keys):
    new = NewIndicator(id="protection.new_one", name="A <b>new</b> one [x](javascript:alert(1))",
                       pillar="protection", unit="count", direction="increase", calculation=calculation,
                       table="victims", date_column="identified_date", column="age", filters=["minor"],
                       share_filters=["referred_date IS NOT NULL"], population="child_population",
                       breakdowns=["sex", "parish"], baseline=Point(2018, 3, "assumed"),
                       targets=[Point(2030, 10, "assumed", "2025 dialogue"), Point(2025, 6)],
                       source="CPFSA: registry", owner="NATFATIP")
    edited = authoring.add_indicator(DEFAULT_TEXT, new)
    assert edited.startswith(DEFAULT_TEXT)  # every byte before it is kept: comments, order, layout
    raw = yamlfile.load(edited).data["indicators"][-1]
    assert {k: raw[k] for k in keys} == keys
    assert raw["name"] == "A <b>new</b> one [x](javascript:alert(1))"
    assert raw["targets"] == [{"year": 2025, "value": 6},
                              {"year": 2030, "value": 10, "source": "assumed", "agreed": "2025 dialogue"}]
    assert raw["baseline"] == {"year": 2018, "value": 3, "source": "assumed"}
    assert raw["disaggregations"] == ["sex", "parish"] and raw["source"] == "CPFSA: registry"
    assert "protection.new_one" in parse_indicators(edited).index


def test_new_indicator_form_refuses_a_taken_id():
    new = NewIndicator(id="protection.child_victims", name="x", pillar="protection", unit="count",
                       direction="increase", calculation="count", table="victims", date_column="identified_date")
    with pytest.raises(IndicatorEditError, match="already an indicator with the id 'protection.child_victims'"):
        authoring.add_indicator(BASE_YAML, new)


def test_the_forms_own_unsaved_indicator_can_be_taken_back_and_added_again():
    """A mistake made through the new-indicator form is corrected through the form: its own
    unsaved addition comes out whole (the rest byte for byte), and the corrected one goes in."""
    def new(condition: str) -> NewIndicator:
        return NewIndicator(id="protection.girls_identified", name="Girls identified", pillar="protection",
                            unit="count", direction="increase", calculation="count", table="victims",
                            date_column="identified_date", filters=[condition], targets=[Point(2030, 10)])

    wrong = authoring.add_indicator(DEFAULT_TEXT, new("girls only"))
    assert authoring.remove_indicator(wrong, "protection.girls_identified") == DEFAULT_TEXT
    fixed = authoring.add_indicator(authoring.remove_indicator(wrong, "protection.girls_identified"),
                                    new("sex = 'female'"))
    assert fixed.startswith(DEFAULT_TEXT) and "girls only" not in fixed and "sex = 'female'" in fixed
    assert [i.id for i in parse_indicators(fixed).indicators].count("protection.girls_identified") == 1


def test_a_new_indicator_needs_a_name_and_an_id():
    empty = NewIndicator(id="", name="", pillar="protection", unit="count", direction="increase",
                         calculation="count", table="victims", date_column="identified_date")
    with pytest.raises(IndicatorEditError, match="give the new indicator a name and an id"):
        authoring.add_indicator(DEFAULT_TEXT, empty)
