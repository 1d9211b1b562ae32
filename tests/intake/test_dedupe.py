"""Likely duplicate victims across agencies (issue 4): listed by the rule (same sex, parish
and exploitation, ages within a year, identified within 14 days, different agencies),
decided explicitly, undoable, kept through later imports, audited; a "same_person"
record no longer counts in any indicator the engine computes."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from cpc_monitor.store import audit, db

from cpc_monitor.intake import dedupe, importer
from cpc_monitor import errors

from cpc_monitor.evaluation import engine

from cpc_monitor.definitions import indicators
from cpc_monitor.cli.main import main
from cpc_monitor.store.schema import init_database

HEADER = "victim_id,identified_date,identified_by,sex,age,parish,exploitation_type\n"
# Each cluster is a pair that differs from a likely duplicate in one way only (or not at all).
VICTIMS = [
    ("VA", "2022-03-01", "police", "female", 15, "St Ann", "sexual"),
    ("VB", "2022-03-15", "cpfsa", "female", 16, "St Ann", "sexual"),  # 14 days, 1 year: a pair
    ("VD", "2022-06-01", "police", "female", 15, "St Ann", "sexual"),
    ("VE", "2022-06-16", "cpfsa", "female", 15, "St Ann", "sexual"),  # 15 days apart
    ("VF", "2022-09-01", "police", "female", 15, "St Ann", "sexual"),
    ("VG", "2022-09-03", "cpfsa", "female", 17, "St Ann", "sexual"),  # 2 years apart in age
    ("VH", "2022-12-01", "police", "female", 15, "St Ann", "sexual"),
    ("VI", "2022-12-03", "police", "female", 15, "St Ann", "sexual"),  # same agency
    ("VJ", "2023-03-01", "police", "female", 15, "St Ann", "sexual"),
    ("VK", "2023-03-03", "cpfsa", "female", 15, "Kingston", "sexual"),  # another parish
    ("VL", "2023-06-01", "police", "female", 15, "St Ann", "sexual"),
    ("VM", "2023-06-03", "cpfsa", "female", 15, "St Ann", "labour"),  # another exploitation
    ("VN", "2023-09-01", "police", "female", 15, "St Ann", "sexual"),
    ("VO", "2023-09-03", "cpfsa", "male", 15, "St Ann", "sexual"),  # another sex
    ("VQ", "2023-12-01", "cpfsa", "female", 15, "St Ann", "sexual"),
    ("VP", "2023-12-01", "police", "female", 15, "St Ann", "sexual"),  # same day: a pair, VP kept
]
COUNT_YAML = """\
version: 1
indicators:
  - id: protection.victims
    name: Victims identified
    pillar: protection
    unit: count
    direction: increase
    measure: {table: victims, agg: count, date: identified_date}
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    path = folder / "cpc.duckdb"
    init_database(path)
    csv = folder / "victims.csv"
    csv.write_text(HEADER + "".join(",".join(map(str, v)) + "\n" for v in VICTIMS), encoding="utf-8")
    importer.import_files(path, "victims", [csv])
    return path


@pytest.fixture
def victims_db(template, tmp_path) -> Path:
    path = tmp_path / "cpc.duckdb"
    shutil.copyfile(template, path)
    return path


def pending(db_path: Path) -> list[tuple[str, str]]:
    frame = dedupe.pending_pairs(db_path)
    return list(zip(frame["kept_victim_id"], frame["other_victim_id"]))


def victims_per_year(db_path: Path) -> dict[int, float | None]:
    iset = indicators.parse_indicators(COUNT_YAML)
    return engine.evaluate(db_path, iset).result("protection.victims").series()


def test_likely_duplicates_follow_the_rule(victims_db):
    assert pending(victims_db) == [("VA", "VB"), ("VP", "VQ")]
    row = dedupe.pending_pairs(victims_db).iloc[0]
    assert (row["kept_identified_by"], row["other_identified_by"], row["kept_age"], row["other_age"],
            row["days_apart"]) == ("police", "cpfsa", 15, 16, 14)


def test_same_person_is_excluded_everywhere_and_undo_restores_it(victims_db):
    assert victims_per_year(victims_db) == {2022: 8.0, 2023: 8.0}
    decision = dedupe.decide(victims_db, "VA", "VB", "same_person", who="reviewer")
    assert str(decision) == "VB is the same person as VA: VA is kept and VB no longer counts in any indicator."
    assert victims_per_year(victims_db) == {2022: 7.0, 2023: 8.0}
    assert pending(victims_db) == [("VP", "VQ")]
    undone = dedupe.undo(victims_db, "VB", "VA", who="reviewer")  # either order finds the pair
    assert (undone.kept, undone.other, undone.decision) == ("VA", "VB", "same_person")
    assert victims_per_year(victims_db) == {2022: 8.0, 2023: 8.0}
    assert pending(victims_db) == [("VA", "VB"), ("VP", "VQ")]
    log = audit.entries(victims_db)
    assert log["action"].tolist()[-2:] == ["duplicate_decision", "duplicate_undo"]
    assert log["who"].tolist()[-2:] == ["reviewer", "reviewer"]
    assert log["message"].tolist()[-1] == ("undid same_person on VA and VB: VB counts again, and the pair is back "
                                           "in the review list.")


def test_different_keeps_both_and_leaves_the_list(victims_db):
    decision = dedupe.decide(victims_db, "VQ", "VP", "different")  # stored earlier-first, like the list
    assert (decision.kept, decision.other) == ("VP", "VQ")
    assert str(decision) == "VP and VQ are different people: both keep counting."
    assert pending(victims_db) == [("VA", "VB")]
    assert victims_per_year(victims_db) == {2022: 8.0, 2023: 8.0}
    frame = dedupe.decisions(victims_db)
    assert frame[["kept_victim_id", "other_victim_id", "decision"]].values.tolist() == [["VP", "VQ", "different"]]


def test_decisions_survive_later_imports(victims_db, tmp_path):
    dedupe.decide(victims_db, "VA", "VB", "same_person")
    more = tmp_path / "more.csv"
    more.write_text(HEADER + "VZ,2024-01-05,ngo,male,9,Portland,labour\n", encoding="utf-8")
    importer.import_files(victims_db, "victims", [more])
    assert dedupe.decisions(victims_db)["other_victim_id"].tolist() == ["VB"]
    assert victims_per_year(victims_db) == {2022: 7.0, 2023: 8.0, 2024: 1.0}


@pytest.mark.parametrize("kept, other, decision, message", [
    ("VB", "VA", "same_person", "VA was identified before VB (2022-03-01 against 2022-03-15); the earlier record "
                                "is the one kept: decide VA VB same_person."),
    ("VA", "NOPE", "same_person", "there is no victim 'NOPE' in {db}; check the ids (`python -m cpc_monitor "
                                  "duplicates` lists the pairs)."),
    ("VA", "VA", "different", "a record cannot be a duplicate of itself ('VA'); name two different victim ids."),
    ("VA", "VB", "maybe", "'maybe' is not a decision; use same_person or different."),
])
def test_decisions_that_are_refused_change_nothing(victims_db, kept, other, decision, message):
    before = sha256(victims_db)
    with pytest.raises(errors.DecisionError) as caught:
        dedupe.decide(victims_db, kept, other, decision)
    assert str(caught.value) == message.format(db=victims_db)
    assert sha256(victims_db) == before


def test_a_pair_is_decided_once_until_undone(victims_db):
    dedupe.decide(victims_db, "VA", "VB", "different", who="ana")
    before = sha256(victims_db)
    with pytest.raises(errors.DecisionError, match=r"^VA and VB were already marked different on \d{4}-\d\d-\d\d "
                                                   r"by ana; undo that first to change it\.$"):
        dedupe.decide(victims_db, "VA", "VB", "same_person")
    with pytest.raises(errors.DecisionError, match=r"^there is no decision on VP and VQ; nothing to undo\.$"):
        dedupe.undo(victims_db, "VP", "VQ")
    assert sha256(victims_db) == before


def test_cli_duplicates_decide_undo(victims_db, capsys):
    assert main(["duplicates", "--db", str(victims_db)]) == 0
    out = capsys.readouterr().out
    assert "VA" in out and "VQ" in out and out.rstrip().endswith(
        f"2 pairs to review; mark each with: decide --db {victims_db} KEPT OTHER same_person|different")
    assert main(["decide", "--db", str(victims_db), "VA", "VB", "same_person"]) == 0
    assert capsys.readouterr().out == ("VB is the same person as VA: VA is kept and VB no longer counts in any "
                                       "indicator.\n")
    assert main(["decide", "--db", str(victims_db), "VB", "VA", "different"]) == 1
    assert capsys.readouterr().err == ("error: VA and VB were already marked same_person on "
                                       f"{dedupe.decisions(victims_db)['decided_at'][0]:%Y-%m-%d} by "
                                       f"{audit.current_user()}; undo that first to change it.\n")
    assert main(["undo", "--db", str(victims_db), "VA", "VB"]) == 0
    assert capsys.readouterr().out == ("removed the decision same_person on VA and VB; the pair is listed for "
                                       "review again.\n")
    assert audit.entries(victims_db)["who"].tolist()[-2:] == [audit.current_user()] * 2


def test_same_day_pair_kept_by_the_larger_id_leaves_the_list(victims_db):
    # VQ and VP share a day; the list shows VP first, but a reviewer may keep VQ.
    dedupe.decide(victims_db, "VQ", "VP", "same_person")
    assert dedupe.decisions(victims_db)[["kept_victim_id", "other_victim_id"]].values.tolist() == [["VQ", "VP"]]
    assert pending(victims_db) == [("VA", "VB")]


def test_a_page_of_pairs_is_the_start_of_the_full_list(victims_db, tmp_path):
    # Pairs years apart: the first window of dates holds one, so the search must widen to find more.
    more = tmp_path / "more.csv"
    more.write_text(HEADER + "VR,2025-02-01,police,male,9,Portland,labour\n"
                             "VS,2025-02-02,ngo,male,10,Portland,labour\n", encoding="utf-8")
    importer.import_files(victims_db, "victims", [more])
    with db.reading(victims_db) as con:
        full = dedupe.pairs(con)
        assert list(zip(full["kept_victim_id"], full["other_victim_id"])) == [("VA", "VB"), ("VP", "VQ"),
                                                                              ("VR", "VS")]
        for limit in (1, 2, 3, 50):
            assert dedupe.pairs(con, limit).equals(full.head(limit)), limit


def test_counts_stop_at_the_cap_and_say_so(victims_db, tmp_path):
    later = tmp_path / "later.csv"  # a third pair, the latest, between the police and an NGO
    later.write_text(HEADER + "VR,2025-02-01,police,male,9,Portland,labour\n"
                              "VS,2025-02-02,ngo,male,10,Portland,labour\n", encoding="utf-8")
    importer.import_files(victims_db, "victims", [later])
    with db.reading(victims_db) as con:
        assert dedupe.count_pending(con, cap=None) == dedupe.Count(3)
        assert dedupe.count_pending(con, cap=3) == dedupe.Count(3, at_least=False)
        capped = dedupe.count_pending(con, cap=1)
        assert capped == dedupe.Count(1, at_least=True) and str(capped) == "at least 1"
        exact = dedupe.count_by_agency(con, cap=None)
        assert exact.values.tolist() == [["all", "", 3, False], ["source", "cpfsa", 2, False],
                                         ["source", "ngo", 1, False], ["source", "police", 3, False]]
        bounded = dedupe.count_by_agency(con, cap=1)  # the earliest pair: VA (police) and VB (cpfsa)
        assert bounded.values.tolist() == [["all", "", 1, True], ["source", "cpfsa", 1, True],
                                           ["source", "police", 1, True]]
    assert dedupe.pending_review(victims_db, 1)[1] == 3  # the command line counts every pair
    first, count = dedupe.review(victims_db, 1, cap=1)
    assert first["kept_victim_id"].tolist() == ["VA"] and count == dedupe.Count(1, at_least=True)
