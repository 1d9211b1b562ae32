"""The Data page (issue 4, items 3-6): upload with a check first and a confirmation, refused
unless the server listens on loopback; duplicate review with a confirm step and undo; data
quality per table, source and batch; the audit log, shown and downloadable as CSV with
spreadsheet formulas neutralised.

Every test works on its own copy of the sample database, so imports never touch a shared file."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest

from helpers import seen, seen_table

from cpc_monitor.store import audit, db

from cpc_monitor.intake import dedupe, importer, quality

from cpc_monitor.present import csvfile as exports

from cpc_monitor.app import data_page as ui_data
from cpc_monitor.definitions.indicators import load_indicators
from cpc_monitor.store.schema import init_database
from test_pages import array

PAGE = "pages/data.py"
INDICATORS = Path(__file__).resolve().parents[2] / "indicators.yaml"
VICTIMS_HEADER = ("victim_id,case_id,identified_date,identified_by,victim_status,parish,sex,age,nationality,"
                  "exploitation_type,referred_date,care_provider\n")
GOOD = (VICTIMS_HEADER
        + "TEST-V-1,,2025-06-01,police,confirmed,St Ann,female,15,JAM,sexual,2025-06-02,cpfsa\n"
        + "TEST-V-2,,2025-06-05,cpfsa,confirmed,St Ann,female,16,JAM,sexual,2025-06-06,cpfsa\n"
        + "TEST-V-3,,2025-07-01,ngo,suspected,Kingston,male,12,JAM,labour,,\n").encode()
BAD = (VICTIMS_HEADER
       + "TEST-V-9,,2025-13-01,police,confirmed,Kingstn,female,15,JAM,sexual,,\n"
       + "TEST-V-10,,2025-06-05,cpfsa,confirmed,St Ann,female,=1+1,JAM,sexual,,\n").encode()
# Two victims a duplicate review must list as a pair (same sex, parish and form, ages within a
# year, 4 days apart, different agencies); TEST-V-1 is identified first, so it is the one kept.
PAIR = ("TEST-V-1", "TEST-V-2")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scalar(path: Path, sql: str) -> object:
    with db.reading(path) as con:
        return con.execute(sql).fetchone()[0]


@pytest.fixture
def data_db(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the sample database, named by CPC_DB for the app."""
    path = tmp_path / "cpc.duckdb"
    shutil.copyfile(app_env, path)
    monkeypatch.setenv("CPC_DB", str(path))
    return path


def _address(value: str | None) -> Iterator[None]:
    before = config.get_option("server.address")
    config.set_option("server.address", value)
    try:
        yield
    finally:
        config.set_option("server.address", before)


@pytest.fixture
def loopback() -> Iterator[None]:
    """The server listens on 127.0.0.1 only: the page may write."""
    yield from _address("127.0.0.1")


@pytest.fixture
def public() -> Iterator[None]:
    """The server listens on every interface: the page must not write."""
    yield from _address("0.0.0.0")


def tab(at: AppTest, label: str):
    """The tab of the Data page named `label`."""
    return next(t for t in at.tabs if t.label == label)


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first st.dataframe on the page with all of `columns`."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


# ----------------------------------------------------------------------------- the page


def test_page_renders_with_its_four_tabs(open_page: Callable[..., AppTest], data_db: Path, loopback: None) -> None:
    at = open_page(PAGE)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Upload", "Duplicates", "Quality", "Audit log"]
    assert at.subheader[0].value == "Data"
    assert "The sidebar's filters do not apply to this page." in at.caption[0].value
    assert at.file_uploader(key="upload_file_0").allowed_type == [".csv", ".xlsx"]


def test_page_renders_on_an_empty_database(open_page: Callable[..., AppTest], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, loopback: None) -> None:
    path = tmp_path / "empty.duckdb"
    init_database(path)
    monkeypatch.setenv("CPC_DB", str(path))
    at = open_page(PAGE)
    assert not at.exception
    assert "0 likely duplicate pairs to review" in tab(at, "Duplicates").markdown[0].value
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"] == "Victims: no dated records"
    assert tab(at, "Audit log").info[0].value.startswith("Nothing is logged yet")


@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "192.168.1.20", "::"])
def test_writes_are_off_unless_the_server_listens_on_loopback(address: str | None) -> None:
    for _ in _address(address):
        assert not ui_data.writes_allowed()
        assert "switched off" in ui_data.loopback_notice()
    for value in ("127.0.0.1", "localhost", "::1", "[::1]"):
        for _ in _address(value):
            assert ui_data.writes_allowed()


def test_upload_tab_refuses_off_loopback(open_page: Callable[..., AppTest], data_db: Path, public: None) -> None:
    before = sha256(data_db)
    at = open_page(PAGE)
    assert not at.exception
    upload = tab(at, "Upload")
    assert upload.warning[0].value.startswith("Uploads and duplicate decisions are switched off: this server "
                                              "listens on 0.0.0.0")
    assert "--server.address 127.0.0.1" in upload.warning[0].value
    assert len(at.file_uploader) == 0
    assert all(b.disabled for b in tab(at, "Duplicates").button)
    # The shared upload function refuses too, whatever the page draws.
    outcome = ui_data.run_upload(data_db, "victims", "victims.csv", GOOD, dry_run=False)
    assert outcome.report is None and outcome.message == ui_data.loopback_notice()
    assert sha256(data_db) == before
    assert audit.entries(data_db).empty


# ----------------------------------------------------------------------------- upload


def test_upload_flow_checks_then_imports_exactly_the_file(data_db: Path, loopback: None) -> None:
    victims = scalar(data_db, "SELECT count(*) FROM victims")
    before = sha256(data_db)

    bad = ui_data.run_upload(data_db, "victims", "../../victims-bad.csv", BAD, dry_run=True)
    assert not bad.report.ok and not bad.written
    problems = bad.report.problems_frame()
    assert set(problems["file"]) == {"victims-bad.csv"}  # the browser's name is only a label
    assert list(zip(problems["row"], problems["column"])) == [(2, "identified_date"), (2, "parish"), (3, "age")]

    checked = ui_data.run_upload(data_db, "victims", "victims.csv", GOOD, dry_run=True)
    assert checked.report.ok and not checked.written
    assert (checked.report.rows_in_files, checked.report.rows_before, checked.report.rows_added) == (3, victims, 3)
    assert sha256(data_db) == before and audit.entries(data_db).empty  # a check writes nothing, logs nothing

    calls = []

    @st.cache_data
    def cached() -> int:
        calls.append(1)
        return len(calls)

    cached()
    done = ui_data.run_upload(data_db, "victims", "victims.csv", GOOD, dry_run=False)
    assert done.written and done.report.rows_added == 3
    assert cached() == 2  # the import cleared st.cache_data: every page reads the new file
    assert scalar(data_db, "SELECT count(*) FROM victims") == victims + 3
    with db.reading(data_db) as con:
        added = con.execute("SELECT victim_id, import_batch FROM victims WHERE victim_id LIKE 'TEST-%' "
                            "ORDER BY victim_id").fetchall()
    assert added == [(f"TEST-V-{i}", done.report.batch_id) for i in (1, 2, 3)]
    log = audit.entries(data_db)
    assert log[["who", "action", "table", "file", "rows_added", "batch", "outcome"]].values.tolist() == [
        ["local", "import", "victims", "victims.csv", 3, done.report.batch_id, "ok"]]
    assert log["sha256"].iloc[0] == hashlib.sha256(GOOD).hexdigest()

    again = ui_data.run_upload(data_db, "victims", "victims.csv", GOOD, dry_run=False)  # same keys again
    assert not again.written and again.report.error_count == 3
    assert scalar(data_db, "SELECT count(*) FROM victims") == victims + 3
    assert audit.entries(data_db)["action"].tolist() == ["import", "import_refused"]


def test_replace_mode_says_what_it_replaces(data_db: Path, loopback: None) -> None:
    trainings = scalar(data_db, "SELECT count(*) FROM trainings")
    csv = (b"training_id,start_date,audience,partner,participants,female_participants,parish,topic\n"
           b"TRN-X-1,2025-01-12,police,warnath,32,14,St Catherine,victim-centred investigation\n")
    checked = ui_data.run_upload(data_db, "trainings", "trainings.csv", csv, mode="replace")
    assert checked.report.ok and checked.report.rows_replaced == trainings
    assert ui_data.confirm_label(checked.report) == f"Confirm: import 1 row into trainings, replacing its {trainings:,}"
    assert ui_data.report_counts(checked.report) == {
        "Rows in the file": "1", "Rows in trainings before": f"{trainings:,}", "Would add": "1",
        "Would replace": f"{trainings:,}", "Rows in trainings after": "1"}
    done = ui_data.run_upload(data_db, "trainings", "trainings.csv", csv, mode="replace", dry_run=False)
    assert done.written and scalar(data_db, "SELECT string_agg(training_id) FROM trainings") == "TRN-X-1"
    assert audit.entries(data_db)[["action", "rows_added", "rows_replaced"]].values.tolist() == [
        ["import", 1, trainings]]


def test_upload_refusals_are_messages(data_db: Path, loopback: None) -> None:
    outcome = ui_data.run_upload(data_db, "populations", "p.csv", GOOD)
    assert outcome.report is None and "'populations' is not a table an import can fill" in outcome.message
    missing = ui_data.run_upload(data_db.with_name("gone.duckdb"), "victims", "v.csv", GOOD)
    assert missing.report is None and "does not exist" in missing.message


def test_upload_tab_check_confirm_and_result(open_page: Callable[..., AppTest], data_db: Path, loopback: None,
                                             downloads: dict[str, bytes]) -> None:
    victims = scalar(data_db, "SELECT count(*) FROM victims")
    at = open_page(PAGE)
    at.selectbox(key="upload_table").set_value("victims")
    at.file_uploader(key="upload_file_0").set_value(("victims-bad.csv", BAD, "text/csv"))
    at.run()
    assert not at.exception
    upload = tab(at, "Upload")
    assert seen(upload.error[0].value).startswith("**Refused.** victims: 3 problems in victims-bad.csv (2 rows read); "
                                            "nothing was written")
    shown = seen_table(upload.table[0].value)
    assert list(shown.columns) == ["severity", "row", "column", "value", "problem and how to fix it"]
    assert shown["value"].tolist() == ["2025-13-01", "Kingstn", "=1+1"]
    assert not any(b.label.startswith("Confirm") for b in upload.button)
    csv = downloads["import-problems-victims.csv"].decode()
    assert "'=1+1" in csv and ",=1+1" not in csv  # a spreadsheet shows it as text, never runs it

    at.file_uploader(key="upload_file_0").set_value(("victims-good.csv", GOOD, "text/csv"))
    at.run()
    upload = tab(at, "Upload")
    assert seen(upload.info[0].value) == ("**Checked: no errors.** dry run: victims-good.csv (3 rows read) would add 3 rows "
                                    f"to victims ({victims:,} now, {victims + 3:,} rows after); nothing was written.")
    assert at.button(key="upload_confirm").label == "Confirm: import 3 rows into victims"
    assert [(m.label, m.value) for m in upload.metric] == [
        ("Rows in the file", "3"), ("Rows in victims before", f"{victims:,}"), ("Would add", "3"),
        ("Rows in victims after", f"{victims + 3:,}")]
    assert scalar(data_db, "SELECT count(*) FROM victims") == victims

    at.button(key="upload_confirm").click().run()
    assert not at.exception
    upload = tab(at, "Upload")
    batch = audit.entries(data_db)["batch"].iloc[-1]
    assert seen(upload.success[0].value) == (f"**Imported.** imported 3 rows into victims from victims-good.csv "
                                       f"(3 rows read) as batch {batch}; victims now has {victims + 3:,} rows.")
    assert ("Rows added", "3") in [(m.label, m.value) for m in upload.metric]
    assert scalar(data_db, "SELECT count(*) FROM victims") == victims + 3
    assert at.file_uploader(key="upload_file_1").value is None  # a fresh uploader for the next file
    log = frame_with(at, "action", "who", "file")
    assert log[["who", "action", "file", "rows_added"]].values.tolist()[0] == ["local", "import", "victims-good.csv", 3]
    # The Quality tab counts the new batch.
    at.selectbox(key="quality_view_victims").set_value(f"Import batch: {batch}").run()
    assert [(m.label, m.value) for m in tab(at, "Quality").metric][0] == ("Rows", "3")


# ----------------------------------------------------------------------------- duplicates


def test_duplicate_decision_with_confirmation_and_undo(open_page: Callable[..., AppTest], data_db: Path,
                                                       loopback: None, tmp_path: Path) -> None:
    csv = tmp_path / "victims.csv"
    csv.write_bytes(GOOD)
    importer.import_files(data_db, "victims", [csv], who="tester")
    kept, other = PAIR
    assert PAIR in set(zip(dedupe.pending_pairs(data_db)["kept_victim_id"],
                           dedupe.pending_pairs(data_db)["other_victim_id"]))
    pending = len(dedupe.pending_pairs(data_db))

    at = open_page(PAGE)
    shown = next(seen_table(t.value) for t in tab(at, "Duplicates").table if kept in seen_table(t.value).values)
    assert shown.to_dict("list") == {
        "field": ["victim id", "identified on", "identified by", "age", "sex", "parish", "form of exploitation"],
        "kept (identified first)": ["TEST-V-1", "1 Jun 2025", "Police", "15", "Female", "St Ann", "Sexual"],
        "other": ["TEST-V-2", "5 Jun 2025", "CPFSA", "16", "Female", "St Ann", "Sexual"],
        "match": ["", "4 days apart", "different agencies", "within a year", "same", "same", "same"]}

    at.button(key=f"same_{kept}_{other}").click().run()
    assert tab(at, "Duplicates").warning[0].value == (
        "Confirm: TEST-V-2 is the same person as TEST-V-1: TEST-V-1 is kept and TEST-V-2 no longer counts in any "
        "indicator.")
    assert dedupe.decisions(data_db).empty  # nothing is decided before the confirmation
    at.button(key=f"confirm_{kept}_{other}").click().run()
    assert not at.exception
    assert tab(at, "Duplicates").success[0].value == (
        "Recorded. TEST-V-2 is the same person as TEST-V-1: TEST-V-1 is kept and TEST-V-2 no longer counts in any "
        "indicator.")
    assert dedupe.decisions(data_db)[["kept_victim_id", "other_victim_id", "decision", "decided_by"]].values.tolist() \
        == [["TEST-V-1", "TEST-V-2", "same_person", "local"]]
    assert len(dedupe.pending_pairs(data_db)) == pending - 1
    assert f"{pending - 1} likely duplicate pairs to review" in tab(at, "Duplicates").markdown[0].value
    assert any("same person: **TEST-V-1** kept, TEST-V-2 no longer counts" in m.value
               for m in tab(at, "Duplicates").markdown)

    at.button(key=f"undo_{kept}_{other}").click().run()
    assert tab(at, "Duplicates").success[0].value == (
        "Undone: TEST-V-1 and TEST-V-2 are back in the review list; TEST-V-2 counts again.")
    assert dedupe.decisions(data_db).empty and len(dedupe.pending_pairs(data_db)) == pending
    assert audit.entries(data_db)["action"].tolist()[-2:] == ["duplicate_decision", "duplicate_undo"]
    assert audit.entries(data_db)["who"].tolist()[-2:] == ["local", "local"]


def test_different_people_and_cancel(open_page: Callable[..., AppTest], data_db: Path, loopback: None) -> None:
    first = dedupe.pending_pairs(data_db).iloc[0]
    kept, other = first["kept_victim_id"], first["other_victim_id"]
    at = open_page(PAGE)
    at.button(key=f"different_{kept}_{other}").click().run()
    assert tab(at, "Duplicates").warning[0].value == (
        f"Confirm: {kept} and {other} are different people: both keep counting.")
    at.button(key=f"cancel_{kept}_{other}").click().run()
    assert not tab(at, "Duplicates").warning and dedupe.decisions(data_db).empty
    at.button(key=f"different_{kept}_{other}").click().run()
    at.button(key=f"confirm_{kept}_{other}").click().run()
    assert dedupe.decisions(data_db)["decision"].tolist() == ["different"]


# ----------------------------------------------------------------------------- quality


def test_quality_tab_shows_completeness_computed_by_sql(open_page: Callable[..., AppTest], data_db: Path,
                                                        loopback: None) -> None:
    at = open_page(PAGE)
    assert at.selectbox(key="quality_table").value == "victims"
    complete = frame_with(at, "column", "percent_filled", "filled", "missing").set_index("column")
    rows, filled = [scalar(data_db, f"SELECT {x} FROM victims") for x in ("count(*)", "count(care_provider)")]
    assert complete.loc["care_provider", "filled"] == filled
    assert complete.loc["care_provider", "missing"] == rows - filled
    assert complete.loc["care_provider", "percent_filled"] == pytest.approx(100 * filled / rows)
    assert complete.loc["victim_id", "percent_filled"] == 100
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["title"]["text"].startswith("Victims: ")
    assert [trace["name"] for trace in spec["data"]] == ["Records in the month",
                                                         "Unusual month (modified z-score beyond ±3.5)"]
    impact = frame_with(at, "indicator", "used as")
    assert "care_provider" in set(impact["column"])

    at.selectbox(key="quality_view_victims").set_value("Source: Police").run()
    complete = frame_with(at, "column", "percent_filled", "filled", "missing").set_index("column")
    rows, filled = [scalar(data_db, f"SELECT {x} FROM victims WHERE identified_by = 'police'")
                    for x in ("count(*)", "count(care_provider)")]
    assert complete.loc["care_provider", "percent_filled"] == pytest.approx(100 * filled / rows)
    assert [(m.label, m.value) for m in tab(at, "Quality").metric][0] == ("Rows", f"{rows:,}")
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"].startswith(
        "Victims from Police: ")

    at.selectbox(key="quality_table").set_value("cases").run()
    assert not at.exception
    rows, filled = [scalar(data_db, f"SELECT {x} FROM cases") for x in ("count(*)", "count(closed_date)")]
    complete = frame_with(at, "column", "percent_filled", "filled", "missing").set_index("column")
    assert complete.loc["closed_date", "filled"] == filled and complete["filled"].max() == rows


# ----------------------------------------------------------------------------- audit log


def test_audit_tab_lists_entries_newest_first_with_a_guarded_csv(open_page: Callable[..., AppTest], data_db: Path,
                                                                 loopback: None, downloads: dict[str, bytes]) -> None:
    ui_data.run_upload(data_db, "victims", "=HYPERLINK(1).csv", GOOD, dry_run=False)
    ui_data.run_upload(data_db, "victims", "again.csv", GOOD, dry_run=False)  # refused: the keys exist
    at = open_page(PAGE)
    log = frame_with(at, "at", "who", "action", "outcome")
    assert log["action"].tolist() == ["import_refused", "import"]
    assert log["file"].tolist() == ["again.csv", "=HYPERLINK(1).csv"]
    assert "2 entries, newest first" in tab(at, "Audit log").caption[0].value
    exported = pd.read_csv(io.StringIO(downloads["audit-log.csv"].decode()))
    assert list(exported.columns) == list(audit.FIELDS)
    assert exported["file"].tolist() == ["again.csv", "'=HYPERLINK(1).csv"]
    assert exported["rows_added"].tolist() == [0, 3]


def test_audit_tab_when_nothing_is_logged(open_page: Callable[..., AppTest], data_db: Path, loopback: None) -> None:
    at = open_page(PAGE)
    assert tab(at, "Audit log").info[0].value.startswith("Nothing is logged yet")


def test_guarded_neutralises_formulas_only_in_text() -> None:
    frame = pd.DataFrame({"text": ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "plain", None], "number": range(-3, 4)})
    out = exports.guarded(frame)
    assert out["text"].tolist()[:6] == ["'=1+1", "'+SUM(A1)", "'-2", "'@cmd", "'\tx", "plain"]
    assert pd.isna(out["text"].iloc[6])
    assert out["number"].tolist() == [-3, -2, -1, 0, 1, 2, 3]


# ----------------------------------------------------------------------------- presentation-safe numbers


def min_cell(path: Path = INDICATORS) -> int:
    """The indicator file's min_cell: counts from 1 to min_cell-1 are hidden in safe mode."""
    return load_indicators(path).defaults.min_cell


def safe_page(open_page: Callable[..., AppTest], safe: bool) -> AppTest:
    """The Data page with the sidebar's presentation-safe switch on or off."""
    at = open_page(PAGE, state={"filter_safe": safe})
    assert not at.exception
    return at


def monthly_victims(path: Path) -> dict[str, int]:
    """Victims per month (first day, ISO) straight from the file."""
    with db.reading(path) as con:
        rows = con.execute("SELECT CAST(date_trunc('month', identified_date) AS DATE), count(*) FROM victims "
                           "WHERE identified_date IS NOT NULL GROUP BY 1").fetchall()
    return {m.isoformat(): n for m, n in rows}


def test_safe_mode_shows_no_duplicate_pair_and_says_how_to_see_them(open_page: Callable[..., AppTest], data_db: Path,
                                                                     loopback: None, tmp_path: Path) -> None:
    csv = tmp_path / "victims.csv"
    csv.write_bytes(GOOD)
    importer.import_files(data_db, "victims", [csv], who="tester")
    dedupe.decide(data_db, *PAIR, "different", who="tester")
    pending = len(dedupe.pending_pairs(data_db))
    limit = min_cell()

    at = safe_page(open_page, True)
    duplicates = tab(at, "Duplicates")
    assert duplicates.info[0].value == ui_data.data_safe.PAIRS_HIDDEN
    assert "turn off *Presentation-safe numbers* in the sidebar on a trusted screen" in duplicates.info[0].value
    assert not duplicates.table and not duplicates.button  # no record, no decision, nothing to click
    shown = f"<{limit}" if 1 <= pending < limit else f"{pending:,}"
    assert duplicates.markdown[0].value.startswith(f"**{shown} likely duplicate pairs to review**")
    assert not any("TEST-V-" in m.value for m in duplicates.markdown)
    assert duplicates.caption[-1].value == ("Not shown while presentation-safe numbers are on: each decision names two "
                                            "victim records.")

    at = safe_page(open_page, False)  # as before: every pair drawn, with its buttons and the decision
    duplicates = tab(at, "Duplicates")
    assert not duplicates.info
    assert len(duplicates.table) == pending
    assert any("different people: **TEST-V-1** and **TEST-V-2** both count" in m.value for m in duplicates.markdown)


def test_safe_mode_hides_small_quality_counts(open_page: Callable[..., AppTest], data_db: Path, loopback: None,
                                              tmp_path: Path) -> None:
    csv = tmp_path / "victims.csv"
    csv.write_bytes(GOOD)  # a batch of 3 victims, one with no care provider
    batch = importer.import_files(data_db, "victims", [csv], who="tester").batch_id
    limit = min_cell()
    hidden = f"<{limit}"
    assert 3 < limit, "the batch must be a small count"

    at = safe_page(open_page, True)
    at.selectbox(key="quality_view_victims").set_value(f"Import batch: {batch}").run()
    quality_tab = tab(at, "Quality")
    assert [(m.label, m.value) for m in quality_tab.metric][0] == ("Rows", hidden)
    assert quality_tab.info[0].value == ui_data.data_safe.withheld(f"Import batch: {batch}", limit)
    assert not any({"filled", "missing"} <= set(d.value.columns) for d in at.dataframe), "no figure of 3 rows"
    assert not at.get("plotly_chart")
    timely = frame_with(at, "source or batch", "count").set_index("source or batch")
    assert timely.loc[batch, "count"] == hidden
    # The sample's own rows are the only other batch: shown, they would give the 3 back from the total.
    sample_batch = scalar(data_db, "SELECT any_value(import_batch) FROM victims WHERE victim_id NOT LIKE 'TEST-%'")
    assert timely.loc[sample_batch, "count"] == ui_data.data_safe.SECONDARY
    total = scalar(data_db, "SELECT count(*) FROM victims")
    assert timely["count"].iloc[0] == f"{total:,}"

    # All rows: its completeness hides the small gap of care_provider nowhere (140 are missing), and
    # a count of 1 to min_cell-1 reads "<5".
    at.selectbox(key="quality_view_victims").set_value("All rows").run()
    complete = frame_with(at, "column", "percent_filled", "filled", "missing").set_index("column")
    filled = scalar(data_db, "SELECT count(care_provider) FROM victims")
    assert complete.loc["care_provider", ["filled", "missing"]].tolist() == [f"{filled:,}", f"{total - filled:,}"]
    assert complete.loc["care_provider", "percent_filled"] == pytest.approx(100 * filled / total)

    # All rows: the monthly line breaks at every small month, which reads "<5" in place, never 0.
    at.selectbox(key="quality_view_victims").set_value("All rows").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    marks, line, _ = spec["data"]
    per_month = monthly_victims(data_db)
    drawn = dict(zip([x[:10] for x in line["x"]], array(line["y"])))
    small = {m for m, n in per_month.items() if 1 <= n < limit}
    assert small and all(np.isnan(drawn[m]) for m in small)
    assert all(drawn[m] == n for m, n in per_month.items() if n >= limit and not np.isnan(drawn[m]))
    assert {x[:10] for x in marks["x"]} == small and set(marks["text"]) == {hidden}
    assert set(array(marks["y"])) == {limit}, "a band up to min_cell: fewer than it, never 0"
    assert marks["name"] == f"Fewer than {limit} records (hidden)"
    assert f"{len([m for m in drawn if np.isnan(drawn[m])]):,} months with too few records to show" in \
        spec["layout"]["title"]["text"]

    agencies = frame_with(at, "agency", "pairs waiting for review").set_index("agency")["pairs waiting for review"]
    with db.reading(data_db) as con:
        exact = dedupe.count_by_agency(con)
    per_agency = dict(zip(exact["group"], exact["pairs"]))
    assert all(agencies[ui_data.code_label(a)] == hidden for a, n in per_agency.items() if a and 1 <= n < limit)

    at = safe_page(open_page, False)  # safe mode off: exact counts, as before
    at.selectbox(key="quality_view_victims").set_value(f"Import batch: {batch}").run()
    assert [(m.label, m.value) for m in tab(at, "Quality").metric][0] == ("Rows", "3")
    assert not tab(at, "Quality").info
    complete = frame_with(at, "column", "percent_filled", "filled", "missing").set_index("column")
    assert complete.loc["care_provider", ["filled", "missing"]].tolist() == [2, 1]
    assert complete.loc["care_provider", "percent_filled"] == pytest.approx(200 / 3)
    at.selectbox(key="quality_view_victims").set_value("All rows").run()
    line = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert dict(zip([x[:10] for x in line["x"]], array(line["y"]))) == {
        m: per_month.get(m, 0) for m in [x[:10] for x in line["x"]]}


def test_safe_mode_completeness_hides_the_other_half_of_a_small_gap(data_db: Path, tmp_path: Path) -> None:
    csv = tmp_path / "victims.csv"
    csv.write_bytes(GOOD)
    importer.import_files(data_db, "victims", [csv], who="tester")
    with db.rebuild(data_db) as con:  # every victim but one has a nationality
        con.execute("UPDATE victims SET nationality = coalesce(nationality, 'JAM')")
        con.execute("UPDATE victims SET nationality = NULL WHERE victim_id = 'TEST-V-3'")
    limit = min_cell()
    report = quality.quality_report(data_db, load_indicators(INDICATORS))
    view = ui_data.quality_view(report, "victims", "all", "", limit=limit)
    row = view.completeness.set_index("column").loc["nationality"]
    rows = scalar(data_db, "SELECT count(*) FROM victims")
    assert (row["filled"], row["missing"]) == (f"more than {rows - limit:,}", f"<{limit}")
    assert pd.isna(row["percent_filled"])
    exact = ui_data.quality_view(report, "victims", "all", "").completeness.set_index("column").loc["nationality"]
    assert (exact["filled"], exact["missing"]) == (rows - 1, 1)


def test_safe_mode_completeness_is_not_given_back_by_another_view(data_db: Path, tmp_path: Path) -> None:
    csv = tmp_path / "victims.csv"
    csv.write_bytes(GOOD)
    importer.import_files(data_db, "victims", [csv], who="tester")
    with db.rebuild(data_db) as con:  # 1 NGO victim and 10 police victims lack a nationality
        con.execute("UPDATE victims SET nationality = 'JAM'")
        con.execute("UPDATE victims SET nationality = NULL WHERE victim_id = 'TEST-V-3' OR victim_id IN "
                    "(SELECT victim_id FROM victims WHERE identified_by = 'police' AND victim_id NOT LIKE 'TEST-%' "
                    "ORDER BY victim_id LIMIT 10)")
    limit = min_cell()
    report = quality.quality_report(data_db, load_indicators(INDICATORS))

    def nationality(by: str, group: str, safe: bool) -> tuple:
        view = ui_data.quality_view(report, "victims", by, group, limit=limit if safe else None)
        row = view.completeness.set_index("column").loc["nationality"]
        return row["filled"], row["missing"], row["percent_filled"]

    assert nationality("all", "", True)[1] == "11"
    assert nationality("source", "ngo", True)[1] == f"<{limit}"
    # All rows' 11 less the police's 10 would give back the NGO's 1: the police's pair is hidden too.
    filled, missing, percent = nationality("source", "police", True)
    assert (filled, missing) == (ui_data.data_safe.SECONDARY, ui_data.data_safe.SECONDARY) and pd.isna(percent)
    assert nationality("source", "police", False)[1] == 10
    assert nationality("source", "cpfsa", True)[1] == "0"  # nothing to give back: shown


def test_safe_mode_audit_log_hides_small_counts_and_decided_records(open_page: Callable[..., AppTest], data_db: Path,
                                                                    loopback: None, downloads: dict[str, bytes]) -> None:
    done = ui_data.run_upload(data_db, "victims", "victims.csv", GOOD, dry_run=False)
    dedupe.decide(data_db, *PAIR, "same_person", who="tester")
    limit = min_cell()
    hidden = f"<{limit}"

    at = safe_page(open_page, True)
    log = frame_with(at, "at", "who", "action", "outcome")
    assert log["action"].tolist() == ["duplicate_decision", "import"]
    assert log["rows_added"].tolist()[1] == hidden
    assert log["message"].tolist() == [
        ui_data.data_safe.DECISION_WORDS["duplicate_decision"],
        done.report.summary().replace("3 rows", f"{hidden} rows")]
    assert "TEST-V" not in " ".join(log["message"])
    exported = pd.read_csv(io.StringIO(downloads["audit-log.csv"].decode()), dtype=str, keep_default_na=False)
    assert exported["rows_added"].tolist() == ["", hidden]
    assert exported["message"].tolist() == log["message"].tolist()

    at = safe_page(open_page, False)  # off: every figure and record, as before
    log = frame_with(at, "at", "who", "action", "outcome")
    assert log["rows_added"].tolist()[1] == 3
    assert log["message"].tolist()[1] == done.report.summary()
    assert "TEST-V-1 kept, TEST-V-2 other" in log["message"].tolist()[0]


def test_safe_messages_hide_lone_small_numbers_only() -> None:
    limit = min_cell()
    text = "imported 3 rows into victims from v2.csv (1,204 rows read) as batch b-20250601-3; TEST-V-4 on 2025-06-01"
    assert ui_data.data_safe.message(text, limit) == (
        f"imported <{limit} rows into victims from v2.csv (1,204 rows read) as batch b-20250601-3; TEST-V-4 on "
        "2025-06-01")
    assert ui_data.data_safe.message(f"{limit} rows, 0 errors", limit) == f"{limit} rows, 0 errors"


def test_safe_mode_follows_min_cell_of_the_indicator_file(open_page: Callable[..., AppTest], data_db: Path,
                                                          loopback: None, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    raised = min_cell() * 20  # every monthly count of the sample is below it
    yaml = tmp_path / "indicators.yaml"
    text = INDICATORS.read_text(encoding="utf-8")
    yaml.write_text(text.replace(f"min_cell: {min_cell()}", f"min_cell: {raised}", 1), encoding="utf-8")
    assert min_cell(yaml) == raised
    monkeypatch.setenv("CPC_INDICATORS", str(yaml))
    at = safe_page(open_page, True)
    victims = scalar(data_db, "SELECT count(*) FROM victims")
    assert victims >= raised, "the all-rows count stays shown"
    assert [(m.label, m.value) for m in tab(at, "Quality").metric][0] == ("Rows", f"{victims:,}")
    marks = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert set(marks["text"]) == {f"<{raised}"}


# ----------------------------------------------------------------------------- many pairs


@pytest.fixture(scope="module")
def many_pairs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scaled sample (each victim drawn 50 times) with more likely-duplicate pairs than the page counts."""
    from cpc_monitor.intake.sample import build_sample

    path = tmp_path_factory.mktemp("scaled") / "cpc.duckdb"
    build_sample(path, scale=50)
    return path


def test_many_pairs_are_counted_up_to_the_cap_and_listed_earliest_first(
        open_page: Callable[..., AppTest], many_pairs_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPC_DB", str(many_pairs_db))
    cap = dedupe.COUNT_CAP
    with db.reading(many_pairs_db) as con:
        assert dedupe.count_pending(con, cap=None).pairs > cap, "the file must hold more pairs than the cap"
        first = dedupe.pairs(con, 20)
        assert first.equals(dedupe.pairs(con).head(20))
    at = open_page(PAGE)
    assert not at.exception
    duplicates = tab(at, "Duplicates")
    assert duplicates.markdown[0].value.startswith(f"**At least {cap:,} likely duplicate pairs to review**")
    assert duplicates.caption[0].value == (f"Showing the first 20 of at least {cap:,} pairs, earliest first (counting "
                                           f"stops at {cap:,}); the others follow as you decide.")
    drawn = [seen_table(t.value) for t in duplicates.table]
    assert [(t["kept (identified first)"][0], t["other"][0]) for t in drawn] == list(
        zip(first["kept_victim_id"], first["other_victim_id"]))
    metrics = dict((m.label, m.value) for m in tab(at, "Quality").metric)
    assert metrics["Likely duplicate pairs"] == f"{cap:,}+"
    agencies = frame_with(at, "agency", "pairs waiting for review")
    assert agencies["pairs waiting for review"].iloc[0] == f"at least {cap:,}"
    assert agencies["pairs waiting for review"].str.startswith("at least ").all()


def test_safe_mode_rule_violations_are_not_given_back_by_another_view(data_db: Path) -> None:
    with db.rebuild(data_db) as con:  # victims whose case is gone: 1 reported by an NGO, 6 by the police
        for i, agency in enumerate(["ngo"] + ["police"] * 6):
            con.execute("INSERT INTO victims (victim_id, case_id, identified_date, identified_by) "
                        f"VALUES ('ORPHAN-{i}', 'GONE-{i}', DATE '2024-02-01', '{agency}')")
    limit = min_cell()
    report = quality.quality_report(data_db, load_indicators(INDICATORS))

    def orphans(by: str, group: str, safe: bool) -> tuple[str, str]:
        view = ui_data.quality_view(report, "victims", by, group, limit=limit if safe else None)
        rule = view.violations.set_index("rule").loc["case_id is in cases", "rows"]
        return rule, dict((m[0], m[1]) for m in view.metrics)["Rows breaking a rule"]

    assert orphans("all", "", True) == ("7", "7")
    assert orphans("source", "ngo", True) == (f"<{limit}", f"<{limit}")
    assert orphans("source", "police", True) == (ui_data.data_safe.SECONDARY, ui_data.data_safe.SECONDARY)
    assert orphans("source", "police", False) == (6, "6")


@pytest.mark.parametrize("table", ["victims", "cases"])
def test_safe_monthly_counts_leave_no_sum_with_a_single_hidden_month(sample_db: Path, table: str) -> None:
    limit = min_cell()
    months = quality.quality_report(sample_db, only=(table,)).monthly
    shown = ui_data.data_safe.monthly(months, limit)
    assert shown["hidden"][shown["small"]].all() and shown["rows"][shown["hidden"]].isna().all()
    assert (shown["rows"][~shown["hidden"]] == months["rows"][~shown["hidden"]]).all()
    sources = shown[shown["by"] == "source"]
    # Each series adds up to its row count; the sources' months add up to the all-rows month.
    for frame, keys in ((shown, ["by", "group"]), (sources, ["month"])):
        for _, cells in frame.groupby(keys):
            exact = months.loc[cells.index, "rows"]
            if cells["hidden"].sum() == 1:
                assert not (exact[~cells["hidden"]] > 0).any(), (keys, cells)
    assert shown["hidden"].sum() > shown["small"].sum(), "the sample needs second cells hidden"
