"""`validate` and the indicator file's checks: every bad input gives one clear line
naming the file, the line, the indicator and the fix; exit 1; no traceback; the
database is never changed."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpc_monitor.definitions import indicators
from cpc_monitor.cli.main import main
from cpc_monitor.errors import IndicatorFileError
from cpc_monitor.store.schema import init_database
from helpers import BASE_YAML, ROOT, run_cli, sha256


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "empty.duckdb"
    init_database(path)
    return path


def validate(tmp_path, text: str, db=None, capsys=None) -> tuple[int, str]:
    """Write `text` as indicators.yaml and validate it in-process; return (exit, output)."""
    path = tmp_path / "indicators.yaml"
    path.write_text(text, encoding="utf-8")
    args = ["validate", str(path)] + (["--db", str(db)] if db else [])
    code = main(args)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_base_file_is_clean(tmp_path, empty_db, capsys):
    code, out = validate(tmp_path, BASE_YAML, empty_db, capsys)
    assert code == 0, out
    assert "2 indicators, 0 errors, 0 warnings" in out


def test_default_indicator_file_validates_against_an_empty_database(empty_db):
    r = run_cli("validate", "indicators.yaml", "--db", str(empty_db))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 errors" in r.stderr
    assert len(indicators.load_indicators(ROOT / "indicators.yaml").indicators) >= 16


def test_default_file_names_its_schema_on_the_first_line():
    first = (ROOT / "indicators.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=indicators.schema.json"


BAD_INPUTS = [
    # (name, replace this, with this, expected line, expected text)
    ("yaml syntax", "    unit: count\n", "    unit: [count\n", 10,
     "indicators.yaml:10: error: this is not valid YAML"),
    ("tab", "    unit: count\n", "\tunit: count\n", 9,
     "indicators.yaml:9: error: this line is indented with a tab; YAML needs spaces."),
    ("missing id", "  - id: protection.child_victims\n    name:", "  - name:", 6,
     "indicators.yaml:6: error: missing the required key 'id'; add it to this indicator."),
    ("unknown key", "    direction: increase\n    measure: {table: victims",
     "    direction: increase\n    targtes: []\n    measure: {table: victims", 11,
     "indicators.yaml:11: error: indicator protection.child_victims: unknown key 'targtes' in this indicator. "
     "Did you mean 'targets'?"),
    ("wrong unit", "    unit: count\n", "    unit: people\n", 9,
     "indicators.yaml:9: error: indicator protection.child_victims: `unit` is 'people', which is not allowed; "
     "use one of: count, percent, per_100k, days, usd, jmd, months."),
    ("wrong pillar", "    pillar: protection\n", "    pillar: protecton\n", 8,
     "indicators.yaml:8: error: indicator protection.child_victims: `pillar` is 'protecton', which is not allowed; "
     "use one of: prosecution, protection, prevention, partnership. Did you mean 'protection'?"),
    ("targets out of order", "      - {year: 2025, value: 15, source: assumed}\n      - {year: 2030, value: 25, source: assumed}\n",
     "      - {year: 2030, value: 15, source: assumed}\n      - {year: 2025, value: 25, source: assumed}\n", 15,
     "indicators.yaml:15: error: indicator protection.child_victims: target years must increase: 2025 comes after "
     "2030. List the targets from the earliest year to the latest."),
    ("target after goal", "      - {year: 2030, value: 25, source: assumed}\n", "      - {year: 2035, value: 25, source: assumed}\n", 15,
     "indicators.yaml:15: error: indicator protection.child_victims: the target year 2035 is after the goal year "
     "2030; use a year up to 2030."),
    ("unknown table", "{table: victims, agg", "{table: victim, agg", 11,
     "indicators.yaml:11: error: indicator protection.child_victims: there is no table 'victim'. "
     "Did you mean 'victims'?"),
    ("unknown column", "where: [minor, confirmed]", "where: [minor, \"victim_state = 'confirmed'\"]", 11,
     "the SQL \"victim_state = 'confirmed'\" names the column 'victim_state', but there is no column in table "
     "'victims' called 'victim_state'. Did you mean 'victim_status'?"),
    ("unknown disaggregation", "disaggregations: [sex, age_group]", "disaggregations: [sexx]", 12,
     "indicators.yaml:12: error: indicator protection.child_victims: cannot break down by 'sexx'"),
    ("not boolean", "where: [minor, confirmed]", "where: [minor, \"age + 1\"]", 11,
     "the filter \"age + 1\" gives integer values, not true/false"),
    ("reads a file", "where: [minor, confirmed]", "where: [\"(SELECT count(*) FROM read_csv('/etc/passwd')) > 0\"]", 11,
     "contains a subquery; an indicator may only use its own table's columns"),
    ("scalar file read", "where: [minor, confirmed]", "where: [\"read_text('/etc/passwd') IS NOT NULL\"]", 11,
     "calls read_text(), which indicators may not use"),
    ("second statement", "where: [minor, confirmed]", "where: [\"true; DROP TABLE victims\"]", 11,
     "contains a ';' (only one expression is allowed)"),
    ("escape the brackets", "where: [minor, confirmed]", "where: [\"true) OR (true\"]", 11,
     "is not one expression: its brackets do not pair up"),
    ("attach", "where: [minor, confirmed]", "where: [\"ATTACH '/tmp/x.db'\"]", 11, "contains the command ATTACH"),
    ("install", "where: [minor, confirmed]", "where: [\"INSTALL httpfs\"]", 11, "contains the command INSTALL"),
    ("write", "where: [minor, confirmed]", "where: [\"(DELETE FROM victims) IS NULL\"]", 11, "contains the command DELETE"),
    ("another table", "where: [minor, confirmed]", "where: [\"cases.status = 'open'\"]", 11,
     "names 'cases.status'; name columns alone"),
    ("date not a date", "date: identified_date, where: [minor", "date: parish, where: [minor", 11,
     "`date: parish` is not a date column (varchar)"),
    ("not a segment", "where: [minor, confirmed]", "where: [minors]", 11,
     "'minors' is neither a segment (defined under `segments:`) nor a column of 'victims'"),
] + [
    # Functions that build huge values from a small argument (issue 11: repeat ran 27 s to
    # out-of-memory, a range-built value 17 s to 4.2e15) are refused before anything runs.
    (name, "where: [minor, confirmed]", f"where: [\"{sql}\"]", 11,
     f"calls {called}, which can build text, lists or ranges of any size and take the server down")
    for name, sql, called in [
        ("repeat", "length(repeat(sex, 1000000000)) > 0", "repeat()"),
        ("range", "len(range(age * 1000000000)) > 0", "range()"),
        ("generate_series", "len(generate_series(1, 4200000000000000)) > 0", "generate_series()"),
        ("padding", "lpad(sex, 1000000000, 'x') <> ''", "lpad()"),
        ("list builder", "[age, age] IS NOT NULL", "a list ([...])"),
        ("list function", "list_contains(list_resize([age], 1000000000), 3)", "list_contains()"),
        ("unnest", "unnest(string_split(sex, ',')) = 'f'", "unnest()"),
        ("format width", "format('{:>1000000000}', age) <> ''", "format()"),
    ]
]


@pytest.mark.parametrize("name,old,new,line,expected", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gives_a_clear_message(tmp_path, empty_db, capsys, name, old, new, line, expected):
    assert old in BASE_YAML
    before = sha256(empty_db)
    code, out = validate(tmp_path, BASE_YAML.replace(old, new, 1), empty_db, capsys)
    assert code == 1, out
    assert expected in out
    assert f"indicators.yaml:{line}: error:" in out
    assert "Traceback" not in out
    assert sha256(empty_db) == before


def test_duplicate_ids(tmp_path, capsys):
    text = BASE_YAML.replace("id: prosecution.conviction_rate", "id: protection.child_victims")
    code, out = validate(tmp_path, text, None, capsys)
    assert code == 1
    assert ("indicators.yaml:16: error: indicator protection.child_victims: the id 'protection.child_victims' is "
            "already used on line 6; ids must be unique and are never reused: give this indicator a new id.") in out


@pytest.mark.parametrize("text,expected", [
    ("", "indicators.yaml:1: error: the file is empty"),
    ("- a\n- b\n", "indicators.yaml:1: error: the file must be a mapping with keys such as `indicators:`, not a list."),
    ("indicators: 3\n", "indicators.yaml:1: error: `indicators:` must be a list"),
    ("a: &a [1, 1]\nb: &b [*a, *a]\nc: &c [*b, *b]\nindicators: []\n",
     "indicators.yaml:2: error: this uses an alias (*a) of an anchor (&a); write the value out instead."),
])
def test_unusable_files(tmp_path, capsys, text, expected):
    code, out = validate(tmp_path, text, None, capsys)
    assert code == 1
    assert expected in out


def test_missing_database_is_a_clear_error(tmp_path):
    r = run_cli("validate", "indicators.yaml", "--db", str(tmp_path / "nope.duckdb"))
    assert r.returncode == 1
    assert r.stderr.startswith(f"error: The database {tmp_path / 'nope.duckdb'} does not exist.")
    assert "Traceback" not in r.stderr


def test_without_a_database_meaning_is_not_checked(tmp_path):
    (tmp_path / "indicators.yaml").write_text(BASE_YAML.replace("table: victims", "table: nothing"))
    r = run_cli("validate", "indicators.yaml", cwd=tmp_path)
    assert r.returncode == 0
    assert "warning: no database given and data/cpc.duckdb does not exist" in r.stdout


def test_a_direction_warning_does_not_fail(tmp_path, empty_db, capsys):
    text = BASE_YAML.replace("{year: 2025, value: 15, source: assumed}", "{year: 2025, value: 40, source: assumed}")
    code, out = validate(tmp_path, text, empty_db, capsys)
    assert code == 0
    assert "indicators.yaml:15: warning: indicator protection.child_victims: this target (25) moves against " \
           "the direction 'increase'" in out


def test_every_issue_is_collected(tmp_path, empty_db, capsys):
    text = BASE_YAML.replace("pillar: protection", "pillar: nope").replace("unit: percent", "unit: pct")
    code, out = validate(tmp_path, text, empty_db, capsys)
    assert code == 1
    assert "`pillar` is 'nope'" in out and "`unit` is 'pct'" in out
    assert "2 errors" in out


# ------------------------------------------------------------------ property: never crashes

_keys = st.sampled_from(["id", "name", "pillar", "unit", "direction", "measure", "targets", "table", "where",
                         "agg", "expr", "date", "year", "numerator", "denominator", "factor", "baseline",
                         "indicators", "segments", "defaults", "version", "value", "cumulative", "<<"])
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                     st.text(max_size=20), st.sampled_from(["count", "victims", "age < 18", "2030", "increase"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(_keys, inner, max_size=5)), max_leaves=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(_keys, _values, max_size=6))
def test_random_documents_only_raise_the_packages_error(data):
    import yaml

    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        indicators.parse_indicators(text)
    except IndicatorFileError:
        pass


@settings(max_examples=300, deadline=None)
@given(cut=st.integers(0, len(BASE_YAML)), junk=st.text(max_size=8))
def test_mutated_base_file_only_raises_the_packages_error(cut, junk):
    try:
        result = indicators.parse_indicators(BASE_YAML[:cut] + junk + BASE_YAML[cut:])
        assert all(i.line >= 0 for i in result.issues)
    except IndicatorFileError as exc:
        assert exc.issues
