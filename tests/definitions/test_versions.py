"""Saving the indicator file (issue 9): only a file without errors is saved, atomically; a
change on disk since loading is refused with its diff; every version is kept with who and
when, any two can be diffed and one restored (itself a versioned, audited save). The
file on disk is asserted after each step."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from cpc_monitor.definitions import authoring, versions
from cpc_monitor.definitions.authoring import Point
from cpc_monitor.errors import IndicatorFileChanged, IndicatorSaveFailed, IndicatorSaveRefused, VersionNotFound
from cpc_monitor.store import audit
from helpers import BASE_YAML, sha256

GOOD_EDIT = authoring.set_plan(BASE_YAML, "protection.child_victims", None,
                               [Point(2025, 15, "assumed"), Point(2030, 40, "", "2025 dialogue")])
# Breaks one indicator only: its table does not exist.
BROKEN_EDIT = BASE_YAML.replace("table: victims", "table: victimz")


@pytest.fixture
def indicator_file(fresh_db: Path) -> Path:
    """BASE_YAML as <tmp>/indicators.yaml, beside the test's own empty database folder."""
    path = fresh_db.parent.parent / "indicators.yaml"
    path.write_text(BASE_YAML, encoding="utf-8")
    return path


def leftovers(folder: Path) -> list[str]:
    """Temporary files a save left behind (none may be)."""
    return sorted(p.name for p in folder.rglob("*saving*"))


def test_a_good_edit_is_saved_with_history_and_an_audit_entry(indicator_file, fresh_db):
    version = versions.save(indicator_file, GOOD_EDIT, loaded=BASE_YAML, who="pm@example.org", db_path=fresh_db)
    assert indicator_file.read_text(encoding="utf-8") == GOOD_EDIT
    assert version.number == 2 and version.changed == ["protection.child_victims"]
    kept = versions.versions(indicator_file)
    assert [(v.number, v.who, v.action) for v in kept] == [(1, versions.FOUND_ON_DISK, "found"),
                                                          (2, "pm@example.org", "save")]
    assert kept[1].summary == "changed protection.child_victims (targets)"
    assert versions.version_text(indicator_file, 1) == BASE_YAML
    assert versions.version_text(indicator_file, 2) == GOOD_EDIT
    log = audit.entries(fresh_db)
    assert list(log["action"]) == ["indicators_save"]
    assert list(log["who"]) == ["pm@example.org"] and list(log["file"]) == ["indicators.yaml"]
    assert log["message"][0] == "saved version 2: changed protection.child_victims (targets)"
    assert leftovers(indicator_file.parent) == []


@pytest.mark.parametrize("text, message", [
    (BROKEN_EDIT, "indicator protection.child_victims: there is no table 'victimz'. Did you mean 'victims'?"),
    ("indicators:\n  - id: [broken\n", "this is not valid YAML"),
], ids=["one broken indicator", "broken yaml"])
def test_a_file_with_errors_is_refused_and_the_file_is_byte_identical(indicator_file, fresh_db, text, message):
    before = sha256(indicator_file)
    with pytest.raises(IndicatorSaveRefused) as caught:
        versions.save(indicator_file, text, loaded=BASE_YAML, who="pm", db_path=fresh_db)
    assert any(message in str(i) for i in caught.value.issues if i.severity == "error")
    assert "was not saved" in str(caught.value)
    assert sha256(indicator_file) == before
    assert versions.versions(indicator_file) == []
    assert audit.entries(fresh_db).empty


def test_a_change_on_disk_since_loading_is_refused_with_its_diff(indicator_file, fresh_db):
    someone_else = BASE_YAML.replace("value: 70", "value: 75")
    indicator_file.write_text(someone_else, encoding="utf-8")
    with pytest.raises(IndicatorFileChanged) as caught:
        versions.save(indicator_file, GOOD_EDIT, loaded=BASE_YAML, who="pm", db_path=fresh_db)
    assert "-    targets: [{year: 2030, value: 70, source: assumed}]" in caught.value.diff
    assert "+    targets: [{year: 2030, value: 75, source: assumed}]" in caught.value.diff
    assert "changed by someone else since you opened it" in str(caught.value)
    assert indicator_file.read_text(encoding="utf-8") == someone_else
    assert versions.versions(indicator_file) == []


def test_a_hand_edit_before_loading_is_kept_as_a_version(indicator_file, fresh_db):
    versions.save(indicator_file, GOOD_EDIT, loaded=BASE_YAML, who="pm", db_path=fresh_db)
    by_hand = GOOD_EDIT + "# a comment added in a text editor\n"
    indicator_file.write_text(by_hand, encoding="utf-8")
    again = by_hand.replace("value: 70", "value: 80")
    versions.save(indicator_file, again, loaded=by_hand, who="pm", db_path=fresh_db)
    assert [(v.number, v.action) for v in versions.versions(indicator_file)] == [
        (1, "found"), (2, "save"), (3, "found"), (4, "save")]
    assert versions.version_text(indicator_file, 3) == by_hand


def test_history_diffs_any_two_versions_and_restores_one(indicator_file, fresh_db):
    versions.save(indicator_file, GOOD_EDIT, loaded=BASE_YAML, who="pm", db_path=fresh_db)
    diff = versions.diff_versions(indicator_file, 1, 2)
    assert "-      - {year: 2030, value: 25, source: assumed}" in diff
    assert "+      - {year: 2030, value: 40, agreed: 2025 dialogue}" in diff
    assert versions.diff_versions(indicator_file, 2, 2) == ""

    restored = versions.restore(indicator_file, 1, loaded=GOOD_EDIT, who="pm", db_path=fresh_db)
    assert indicator_file.read_text(encoding="utf-8") == BASE_YAML
    assert (restored.number, restored.action, restored.restored_from) == (3, "restore", 1)
    assert list(audit.entries(fresh_db)["action"]) == ["indicators_save", "indicators_restore"]
    assert audit.entries(fresh_db)["message"][1] == ("restored version 1 as version 3: "
                                                     "changed protection.child_victims (targets)")
    # The restore is itself a version: it can be undone.
    versions.restore(indicator_file, 2, loaded=BASE_YAML, who="pm", db_path=fresh_db)
    assert indicator_file.read_text(encoding="utf-8") == GOOD_EDIT
    with pytest.raises(VersionNotFound, match="there is no version 9 of indicators.yaml; its history has "
                                              "versions 1 to 4"):
        versions.restore(indicator_file, 9, loaded=GOOD_EDIT, who="pm", db_path=fresh_db)
    assert indicator_file.read_text(encoding="utf-8") == GOOD_EDIT


def test_changes_name_added_removed_and_changed_indicators():
    dropped = BASE_YAML[:BASE_YAML.index("  - id: prosecution.conviction_rate")]
    added = authoring.add_indicator(dropped, authoring.NewIndicator(
        id="prevention.talks", name="Talks", pillar="prevention", unit="count", direction="increase",
        calculation="count", table="trainings", date_column="start_date"))
    change = versions.changes(BASE_YAML, authoring.set_plan(added, "protection.child_victims", None, []))
    assert (change.added, change.removed, change.changed) == (["prevention.talks"], ["prosecution.conviction_rate"],
                                                              {"protection.child_victims": ["targets"]})
    assert change.summary() == ("changed protection.child_victims (targets); added prevention.talks; "
                                "removed prosecution.conviction_rate")


def test_a_save_killed_before_the_swap_leaves_the_old_file(indicator_file, fresh_db, monkeypatch):
    def interrupted(src, dst):
        raise KeyboardInterrupt  # a kill between writing the copy and swapping it in
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        versions.save(indicator_file, GOOD_EDIT, loaded=BASE_YAML, who="pm", db_path=fresh_db)
    assert indicator_file.read_text(encoding="utf-8") == BASE_YAML
    assert leftovers(indicator_file.parent) == []


def test_a_disk_that_refuses_the_write_is_one_clear_message_and_changes_nothing(indicator_file, fresh_db,
                                                                                monkeypatch):
    real_replace = os.replace

    def full_disk(src, dst):
        if Path(dst) == indicator_file:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(IndicatorSaveFailed, match=r"indicators.yaml could not be written \(No space left on "
                                                  r"device\); nothing was changed."):
        versions.save(indicator_file, GOOD_EDIT, loaded=BASE_YAML, who="pm", db_path=fresh_db)
    assert indicator_file.read_text(encoding="utf-8") == BASE_YAML
    assert versions.versions(indicator_file) == [] and audit.entries(fresh_db).empty
    assert leftovers(indicator_file.parent) == []
