"""The dialogue cycle (issue 8): each target a dialogue agreed against what was achieved,
met / missed / no data yet / hidden, and what the next dialogue should agree; on real
sample databases, with the indicator file's own dialogues and with one written here."""
from __future__ import annotations

import duckdb
import pytest

from cpc_monitor.app.sidebar import SAFE_KEY
from cpc_monitor.definitions.indicators import load_indicators, parse_indicators
from cpc_monitor.evaluation import dialogues, privacy
from cpc_monitor.evaluation.engine import evaluate
from helpers import BASE_YAML, ROOT, seen

DIALOGUE_YAML = BASE_YAML.replace("indicators:\n", """\
dialogues:
  - id: first
    name: First dialogue
    date: 2020-06
    targets:
      protection.child_victims: {value: 5}
      prosecution.conviction_rate: {value: 90, year: 2024}
  - id: next
    name: Next dialogue
    date: 2031-03-01
    targets:
      protection.child_victims: {value: 30}
indicators:
""", 1)


def child_victims(db, year: int) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM victims WHERE age < 18 AND victim_status = 'confirmed' "
                           "AND year(identified_date) = ? AND victim_id NOT IN (SELECT other_victim_id FROM "
                           "duplicate_decisions WHERE decision = 'same_person')", [year]).fetchone()[0]


def shown(ev, safe: bool) -> dict:
    return {r.id: privacy.result_values(r, safe) for r in ev.results if r.status != "error"}


def test_a_dialogue_with_met_missed_and_future_targets(sample_db):
    iset = parse_indicators(DIALOGUE_YAML)
    assert not iset.errors and [d.id for d in iset.dialogues] == ["first", "next"]
    ev = evaluate(sample_db, iset, breakdowns=False)
    review = dialogues.review(iset.dialogue("first"), ev, shown(ev, False)).set_index("id")
    victims_2021 = child_victims(sample_db, 2021)
    assert review.loc["protection.child_victims", "year"] == 2021  # the year after the dialogue
    assert review.loc["protection.child_victims", "achieved"] == victims_2021
    assert review.loc["protection.child_victims", "outcome"] == ("met" if victims_2021 >= 5 else "missed")
    rate = ev.result("prosecution.conviction_rate").series()[2024]
    assert review.loc["prosecution.conviction_rate", "year"] == 2024
    assert review.loc["prosecution.conviction_rate", "outcome"] == ("met" if rate >= 90 else "missed")
    future = dialogues.review(iset.dialogue("next"), ev, shown(ev, False))
    assert future["outcome"].tolist() == ["no data yet"] and future["achieved"].isna().all()


def test_the_default_files_dialogues_on_the_sample(sample_db):
    iset = load_indicators(ROOT / "indicators.yaml")
    assert [(d.id, d.when) for d in iset.dialogues] == [("first", "June 2020"), ("third", "13 July 2022"),
                                                        ("final", "May 2023")]
    assert all(d.source for d in iset.dialogues)
    ev = evaluate(sample_db, iset, breakdowns=False)
    review = dialogues.review(iset.dialogue("final"), ev, shown(ev, False))
    assert set(review["outcome"]) == {"met", "missed"}  # the sample has both
    for row in review.itertuples():
        value = ev.result(row.id).series()[row.year]
        assert row.achieved == pytest.approx(value)
        assert row.outcome == ("met" if value >= row.target else "missed")


def test_a_hidden_value_hides_whether_its_target_was_met(sample_db):
    iset = load_indicators(ROOT / "indicators.yaml")
    ev = evaluate(sample_db, iset, breakdowns=False)
    convictions = ev.result("prosecution.convictions").series()[2024]
    assert 1 <= convictions < iset.defaults.min_cell  # the sample's 2024 convictions are a small count
    safe = dialogues.review(iset.dialogue("final"), ev, shown(ev, True)).set_index("id")
    assert safe.loc["prosecution.convictions", "outcome"] == "hidden"
    assert safe["achieved"].isna().loc["prosecution.convictions"]


def test_the_next_dialogue_gets_whole_cases_on_the_path_and_holds_what_is_met(sample_db):
    iset = load_indicators(ROOT / "indicators.yaml")
    ev = evaluate(sample_db, iset, breakdowns=False)
    proposals = dialogues.proposals(ev, shown(ev, False)).set_index("id")
    inv = ev.result("prosecution.investigations_opened")
    year, value = inv.latest
    (target_year, target) = inv.target
    row = proposals.loc["prosecution.investigations_opened"]
    assert row["year"] == year + 1
    assert row["proposed"] == -(-(value + (target - value) / (target_year - year)) // 1)  # rounded up
    met = ev.result("partnership.goj_share")
    assert met.latest[1] >= met.target[1]
    assert proposals.loc["partnership.goj_share", "proposed"] == met.latest[1]  # held, never lowered


def line_of(text: str, needle: str, after: str = "") -> int:
    """The 1-based line of the first `needle` after the first `after`."""
    start = text.index(after) if after else 0
    return text[:text.index(needle, start)].count("\n") + 1


@pytest.mark.parametrize("change, needle, after, message", [
    (("protection.child_victims: {value: 5}", "protection.child_victim: {value: 5}"), "protection.child_victim:", "",
     "dialogue 'first': the target for 'protection.child_victim' names no indicator. "
     "Did you mean 'protection.child_victims'?"),
    (("date: 2020-06", "date: June 2020"), "date: June", "",
     "dialogue 'first': `date` must be a date such as 2022-07-13, or a month such as 2023-05 where the day is "
     "not on record; 'June 2020' is neither."),
    (("id: next", "id: first"), "id: first", "name: First dialogue",
     "the dialogue id 'first' is already used on line 6; give each dialogue its own id."),
])
def test_a_broken_dialogue_is_an_error_on_its_line(change, needle, after, message):
    text = DIALOGUE_YAML.replace(*change)
    iset = parse_indicators(text)
    assert [(e.line, e.message) for e in iset.errors] == [(line_of(text, needle, after), message)]
    assert len(iset.indicators) == 2  # the indicators still work


def test_the_dialogues_page_reads_national_figures_whatever_the_filters(open_page, sample_db):
    at = open_page("pages/dialogues.py")
    assert not at.exception
    iset = load_indicators(ROOT / "indicators.yaml")
    ev = evaluate(sample_db, iset, breakdowns=False)
    review = dialogues.review(iset.dialogues[-1], ev, shown(ev, False))
    met, missed = (review["outcome"] == "met").sum(), (review["outcome"] == "missed").sum()
    assert f"##### {met} of {len(review)} agreed targets met, {missed} missed" in [m.value for m in at.markdown]
    filtered = open_page("pages/dialogues.py", state={"filter_parish": ["KIN"], SAFE_KEY: False})
    assert filtered.table[0].value.equals(at.table[0].value)
    safe = open_page("pages/dialogues.py", state={SAFE_KEY: True})
    assert "– Hidden (small count)" in [seen(v) for v in safe.table[0].value["Outcome"]]
