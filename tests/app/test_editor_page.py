"""The "Edit indicators" page (issue 9): an editor changes a 2030 target with the form,
checks, previews, saves, sees the history and restores; a broken edit cannot be saved; a
change on disk since loading is refused with its diff; a viewer sees no editing widget and
an action made after access is withdrawn writes nothing. The file on disk is asserted
after each step. Each test has its own copy of the indicator file and the database."""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cpc_monitor.app import access
from cpc_monitor.present.formatting import as_markdown_text
from cpc_monitor.definitions import versions
from cpc_monitor.store import audit
from conftest import APP_TIMEOUT, DASHBOARD, INDICATORS
from helpers import seen

PAGE = "pages/editor.py"
INDICATOR = "prosecution.convictions"
TARGET_2030 = f"t_value_{INDICATOR}_1"  # its second target row: {year: 2030, value: 6}
OLD_LINE = "      - {year: 2030, value: 6, source: assumed}\n"
NEW_LINE = "      - {year: 2030, value: 9, source: assumed, agreed: 2025 bilateral dialogue}\n"
REFUSED = access.Access(False, "203.0.113.9", "the request comes from 203.0.113.9, not from this computer")


@pytest.fixture
def files(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Private copies of the indicator file and the sample database, named for the app."""
    ind, db = tmp_path / "indicators.yaml", tmp_path / "data" / "cpc.duckdb"
    db.parent.mkdir()
    shutil.copyfile(INDICATORS, ind)
    shutil.copyfile(app_env, db)
    monkeypatch.setenv("CPC_INDICATORS", str(ind))
    monkeypatch.setenv("CPC_DB", str(db))
    return ind, db


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def change_2030_target(at: AppTest) -> AppTest:
    """Use the target form: the 2030 target of convictions becomes 9, agreed at a dialogue."""
    at.selectbox(key="plan_indicator").set_value(INDICATOR).run()
    at.number_input(key=TARGET_2030).set_value(9.0)
    at.text_input(key=f"t_agreed_{INDICATOR}_1").input("2025 bilateral dialogue")
    return button(at, "Put these targets in the draft").click().run()


def test_an_editor_checks_previews_saves_and_restores(open_page: Callable[..., AppTest], files) -> None:
    ind, db = files
    original = ind.read_text(encoding="utf-8")
    at = open_page(PAGE)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Edit the file", "Change targets", "New indicator", "History"]

    at = change_2030_target(at)
    assert not at.exception
    assert "Nothing is saved yet" in seen(at.info[0].value)
    assert ind.read_text(encoding="utf-8") == original  # the draft is not the file
    assert INDICATOR in next(seen(c.value) for c in at.caption if seen(c.value).startswith("Indicators changed"))
    diff = next(c.value for c in at.code if "your draft" in c.value)
    assert "-" + OLD_LINE in diff and "+" + NEW_LINE in diff

    at = button(at, "Check").click().run()
    assert seen(at.success[0].value).startswith("No errors: the draft can be saved.")
    at = button(at, "Preview").click().run()
    assert not at.exception
    assert any(seen(m.value).startswith("**Child-trafficking convictions**:") for m in at.markdown)
    charts = {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    preview = charts[f"preview_{INDICATOR}"]  # the changed indicator, drawn against its new target
    assert "2030 target: 9" in [t.get("name") for t in preview["data"]]
    assert preview["layout"]["title"]["text"].endswith("target 9 by 2030")
    assert "preview_figure_prosecution_funnel" in charts  # and the declared figures that show it
    assert ind.read_text(encoding="utf-8") == original

    at = button(at, "Save").click().run()
    assert not at.exception
    assert seen(at.success[0].value).startswith("Saved as version 2: changed prosecution.convictions (targets).")
    saved = ind.read_text(encoding="utf-8")
    assert saved == original.replace(OLD_LINE, NEW_LINE, 1)  # its line only (another indicator has the same one)
    assert list(audit.entries(db)["action"]) == ["indicators_save"]
    assert list(audit.entries(db)["who"]) == ["local"]

    history = at.dataframe[0].value  # the History tab's list of versions
    assert list(history["version"]) == [2, 1]
    assert list(history["by"]) == ["local", versions.FOUND_ON_DISK]
    assert "-" + OLD_LINE in next(c.value for c in at.code if c.value.startswith("--- version 1"))

    at.selectbox(key="restore_version").set_value(1).run()
    at = button(at, "Bring back version 1").click().run()
    assert not at.exception
    assert seen(at.success[0].value).startswith("Version 1 is back, saved as version 3"), [e.value for e in at.error]
    assert ind.read_text(encoding="utf-8") == original
    assert list(audit.entries(db)["action"]) == ["indicators_save", "indicators_restore"]
    assert [v.action for v in versions.versions(ind)] == ["found", "save", "restore"]


def test_a_broken_edit_cannot_be_saved_and_other_pages_keep_the_file(open_page: Callable[..., AppTest],
                                                                       files) -> None:
    ind, _ = files
    original = ind.read_text(encoding="utf-8")
    at = open_page(PAGE)
    at.toggle(key="editor_plain").set_value(True).run()
    broken = original.replace("measure: {table: prosecutions, agg: count, date: outcome_date, where: [child_case, "
                              "\"outcome = 'convicted'\"]}",
                              "measure: {table: prosecutionz, agg: count, date: outcome_date}")
    assert broken != original
    at.text_area[0].input(broken).run()
    assert not at.exception
    error = seen(at.error[0].value)
    assert error.startswith("The draft has 4 errors; it cannot be saved until they are fixed.")
    report = seen(next(m.value for m in at.markdown if "there is no table 'prosecutionz'" in seen(m.value)))
    assert "indicator prosecution.convictions: there is no table 'prosecutionz'. Did you mean 'prosecutions'?" \
        in report and "line 332" in report
    assert button(at, "Save").disabled
    assert ind.read_text(encoding="utf-8") == original
    # Another user's overview still reads the saved file.
    overview = open_page()
    assert not overview.exception
    assert len(overview.error) == 0 and len(overview.warning) == 0


def test_a_change_on_disk_since_loading_is_refused_with_the_diff(open_page: Callable[..., AppTest], files) -> None:
    ind, db = files
    original = ind.read_text(encoding="utf-8")
    at = change_2030_target(open_page(PAGE))
    someone_else = original.replace("      - {year: 2025, value: 4, source: assumed}\n",
                                    "      - {year: 2025, value: 5, source: assumed}\n")
    ind.write_text(someone_else, encoding="utf-8")
    at = button(at, "Save").click().run()
    assert not at.exception
    assert "was changed by someone else since you opened it" in seen(at.error[0].value)
    diff = next(c.value for c in at.code if "on disk now" in c.value)
    assert "+      - {year: 2025, value: 5, source: assumed}" in diff
    assert ind.read_text(encoding="utf-8") == someone_else
    assert audit.entries(db).empty


def test_the_new_indicator_form_adds_a_percent_to_the_draft(open_page: Callable[..., AppTest], files) -> None:
    ind, _ = files
    original = ind.read_text(encoding="utf-8")
    at = open_page(PAGE)
    at.selectbox(key="new_calculation").set_value("ratio").run()  # a percent: the form asks for its part
    assert at.selectbox(key="new_unit_ratio").value == "percent"
    form = {w.label: w for w in at.text_input}
    form["Name, as the pages show it"].input("Children referred by schools")
    form["Id (never reused)"].input("protection.school_referrals")
    form["The part counted in the percent is also"].input("identified_by = 'school'")
    form["Target source"].input("assumed")
    at.multiselect(key="new_filters").set_value(["minor"])
    at.selectbox(key="new_pillar").set_value("protection")
    at.number_input(key="new_t_value").set_value(12.0)
    at = button(at, "Add to the draft").click().run()
    assert not at.exception
    assert "The new indicator 'Children referred by schools' is at the end of the draft." in seen(at.info[0].value)
    assert "protection.school_referrals" in next(seen(c.value) for c in at.caption if seen(c.value).startswith("Indicators"))
    at = button(at, "Save").click().run()
    assert seen(at.success[0].value).startswith("Saved as version 2: added protection.school_referrals.")
    saved = ind.read_text(encoding="utf-8")
    assert saved.startswith(original)
    assert saved[len(original):] == """
  - id: protection.school_referrals
    name: Children referred by schools
    pillar: protection
    unit: percent
    direction: increase
    numerator: {table: victims, agg: count, date: identified_date, where: [minor, identified_by = 'school']}
    denominator: {table: victims, agg: count, date: identified_date, where: [minor]}
    factor: 100
    targets:
      - {year: 2030, value: 12, source: assumed}
"""


def test_a_name_with_html_markdown_or_a_script_link_is_shown_as_text(open_page: Callable[..., AppTest],
                                                                      files) -> None:
    ind, _ = files
    name = "Referrals <b>bold</b> **loud** [click](javascript:alert(1))"
    shown = as_markdown_text(name)  # what the page's Markdown holds: the reader sees the name as typed
    at = open_page(PAGE)
    at.text_input(key="new_name").input(name)
    at.text_input(key="new_id").input("protection.referrals_named")
    at.number_input(key="new_t_value").set_value(10.0)
    at = button(at, "Add to the draft").click().run()
    assert f"The new indicator '{name}' is at the end of the draft." in seen(at.info[0].value)
    at = button(at, "Save").click().run()
    assert seen(at.success[0].value).startswith("Saved as version 2")
    assert f"    name: {name}\n" in ind.read_text(encoding="utf-8")
    overview = open_page()
    scorecard = "\n".join(m.value for m in overview.markdown)
    assert f"| {shown} |" in scorecard and name not in scorecard


def test_a_viewer_sees_no_editing_widget(open_page: Callable[..., AppTest], files,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ind, db = files
    original = ind.read_text(encoding="utf-8")
    monkeypatch.setattr(access, "current", lambda: REFUSED)
    at = open_page(PAGE)
    assert not at.exception
    assert seen(at.warning[0].value).startswith("Changing indicators is switched off: the request comes from "
                                          "203.0.113.9, not from this computer.")
    assert len(at.tabs) == 0 and len(at.text_area) == 0 and len(at.number_input) == 0
    assert not [b for b in at.button if b.label in ("Save", "Put these targets in the draft", "Add to the draft")]
    assert ind.read_text(encoding="utf-8") == original


def test_an_action_after_access_is_withdrawn_writes_nothing(open_page: Callable[..., AppTest], files,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ind, db = files
    original = ind.read_text(encoding="utf-8")
    at = change_2030_target(open_page(PAGE))
    monkeypatch.setattr(access, "current", lambda: REFUSED)  # e.g. the same session, now through a proxy
    at = button(at, "Save").click().run()
    assert not at.exception
    assert ind.read_text(encoding="utf-8") == original
    assert versions.versions(ind) == [] and audit.entries(db).empty


def test_the_code_editor_is_served_without_its_web_font_import() -> None:
    """Its theme CSS imports a Google font: the copy served leaves that out (the browser test
    checks that the page then makes no request off the machine)."""
    from cpc_monitor.app import yaml_editor

    build = yaml_editor._offline_build()
    assert build is not None and (build / "index.html").is_file()
    scripts = [p.read_text(encoding="utf-8", errors="replace") for p in build.rglob("*.js")]
    assert scripts and not [s for s in scripts if "fonts.googleapis.com" in s]


# ----------------------------------------------------------------------------- roles, with sign-in on

AUTH = {"auth": {"redirect_uri": "http://127.0.0.1:8770/oauth2callback",
                 "cookie_secret": "a-test-cookie-secret-32-chars-long",
                 "client_id": "cpc-monitor", "client_secret": "not-a-secret",
                 "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration"}}


def signed_in_editor_page(email: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The editor page with sign-in configured and a roles file naming one editor and one viewer."""
    roles = tmp_path / "roles.yaml"
    roles.write_text("users:\n  pm@example.org: editor\n  guest@example.org: viewer\n", encoding="utf-8")
    monkeypatch.setenv("CPC_ROLES", str(roles))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=APP_TIMEOUT)
    at.secrets = AUTH
    at.user = {"is_logged_in": True, "email": email, "name": "Tester"}
    at.run()
    return at.switch_page(PAGE).run()


def test_a_signed_in_viewer_cannot_edit(files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ind, db = files
    original = ind.read_text(encoding="utf-8")
    at = signed_in_editor_page("guest@example.org", tmp_path, monkeypatch)
    assert not at.exception
    assert len(at.tabs) == 0 and len(at.text_area) == 0 and len(at.number_input) == 0
    assert not [b for b in at.button if b.label in ("Save", "Put these targets in the draft", "Add to the draft")]
    assert seen(at.warning[0].value).startswith(
        "Changing indicators is switched off: you are signed in as guest@example.org, a viewer. Only editors and "
        "administrators named in the roles file may change anything. Ask an administrator to list your e-mail in")
    assert ind.read_text(encoding="utf-8") == original and versions.versions(ind) == []


def test_a_signed_in_editor_saves_and_the_audit_names_them(files, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ind, db = files
    at = change_2030_target(signed_in_editor_page("pm@example.org", tmp_path, monkeypatch))
    at = button(at, "Save").click().run()
    assert not at.exception and seen(at.success[0].value).startswith("Saved as version 2")
    assert NEW_LINE in ind.read_text(encoding="utf-8")
    log = audit.entries(db)
    assert log["who"].tolist()[-1] == "pm@example.org" and log["action"].tolist()[-1] == "indicators_save"
    assert versions.versions(ind)[-1].who == "pm@example.org"


def test_the_new_indicator_form_corrects_its_own_unsaved_indicator(open_page: Callable[..., AppTest], files) -> None:
    """Added with a mistake, then added again with the same id: the draft holds the corrected
    indicator once; an id already saved is still refused."""
    ind, _ = files
    at = open_page(PAGE)
    form = {w.label: w for w in at.text_input}
    form["Name, as the pages show it"].input("Girls identified")
    form["Id (never reused)"].input("protection.girls_identified")
    at.number_input(key="new_t_value").set_value(10.0)
    at = button(at, "Add to the draft").click().run()
    at.text_input(key="new_name").input("Girls identified (corrected)")
    at = button(at, "Add to the draft").click().run()
    assert not at.exception and not at.error
    draft = at.session_state["editor_draft"]
    assert draft.count("id: protection.girls_identified") == 1 and "name: Girls identified (corrected)" in draft
    at.text_input(key="new_id").input("prosecution.convictions")  # saved: never overwritten
    at = button(at, "Add to the draft").click().run()
    assert "already an indicator with the id 'prosecution.convictions'" in seen(at.error[0].value)
    assert at.session_state["editor_draft"] == draft and ind.read_text(encoding="utf-8").count("girls") == 0
