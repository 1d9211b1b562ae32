"""Data: load agency files (check first, then confirm), review likely duplicate victims,
see the data's quality per table, source and batch, and read the audit log."""
import streamlit as st

from cpc_monitor.store import audit

from cpc_monitor.intake import rules

from cpc_monitor.app import cache, data_page as ui_data, downloads, header, settings, sidebar
from cpc_monitor.present.formatting import as_markdown_frame

CHART_CONFIG = {"displayModeBar": False}
MAX_PAIRS = 20  # pairs drawn at once: each is a card; the rest wait for the next review round
MAX_DECISIONS = 50  # past decisions listed with Undo, newest first
FIRST_QUALITY_TABLE = "victims"  # shown first: it has sources, duplicates and the most gaps that matter
MODE_WORDS = {"append": "Append: add the file's rows", "replace": "Replace: the file becomes the whole table"}
# The audit log as shown: what happened first, the long file hash last (the download keeps every field).
AUDIT_COLUMNS = ("at", "who", "action", "outcome", "message", "table", "file", "rows_added", "rows_replaced", "batch",
                 "sha256")
SMALL_TABLE_PX = 420  # a two-column table: no wider than its words
ROW_PX = 35  # a table row's height, fixed so a table can be sized to show every row without scrolling
# Session-state keys: the uploader's generation (a new key empties it after an import), the
# last check, the last import, and the duplicate choice waiting for its confirmation.
UPLOAD_GENERATION, CHECKED, IMPORTED = "upload_gen", "upload_checked", "upload_imported"
CHOICE, NOTE = "dup_choice", "dup_note"

header.page_header("Data", rules.IMPORTABLE, "imports, duplicates, quality and the audit log, over every row",
               filtered=False)
path = settings.db_path()
can_write = ui_data.writes_allowed()
_, safe = sidebar.current_filters()
limit = cache.min_cell() if safe else None  # presentation-safe numbers: counts below it read "<5"
upload_tab, duplicates_tab, quality_tab, audit_tab = st.tabs(["Upload", "Duplicates", "Quality", "Audit log"])


# ----------------------------------------------------------------------------- upload


def _import(uploader: str, table: str, mode: str) -> None:
    upload = st.session_state.get(uploader)
    if upload is None:
        return
    outcome = ui_data.run_upload(path, table, upload.name, upload.getvalue(), mode, dry_run=False)
    st.session_state[IMPORTED] = outcome
    if outcome.written:  # a fresh uploader for the next file
        st.session_state[UPLOAD_GENERATION] = st.session_state.get(UPLOAD_GENERATION, 0) + 1
        st.session_state.pop(CHECKED, None)


with upload_tab:
    if not can_write:
        st.warning(ui_data.loopback_notice(), icon=":material/lock:")
    else:
        st.caption("Choose the table and a CSV (UTF-8) or Excel file. The file is checked first and nothing is "
                   "written until you confirm; an import with any error writes nothing, and the previous version "
                   "of the database is kept as a backup.")
        left, right = st.columns(2)
        table = left.selectbox("Table to load", rules.IMPORTABLE, key="upload_table")
        mode = right.radio("Mode", rules.MODES, format_func=MODE_WORDS.get, key="upload_mode", horizontal=True)
        uploader = f"upload_file_{st.session_state.get(UPLOAD_GENERATION, 0)}"
        upload = st.file_uploader("File", type=["csv", "xlsx"], key=uploader, help=ui_data.size_limits_words())
        imported = st.session_state.get(IMPORTED)
        if upload is None:
            if imported is not None and imported.written:
                ui_data.show_report(imported.report, "imported")
        else:
            signature = (upload.file_id, table, mode, ui_data.stamp(path))
            if st.session_state.get(CHECKED, (None,))[0] != signature:
                with st.spinner(f"Checking {upload.name} against {table} ..."):
                    st.session_state[CHECKED] = (signature, ui_data.run_upload(path, table, upload.name,
                                                                               upload.getvalue(), mode, dry_run=True))
                st.session_state.pop(IMPORTED, None)
            checked = st.session_state[CHECKED][1]
            if checked.report is None:
                st.error(checked.message, icon=":material/block:")
            else:
                ui_data.show_report(checked.report, "checked")
                if checked.report.ok:
                    st.button(ui_data.confirm_label(checked.report), type="primary",
                              key="upload_confirm", on_click=_import, args=(uploader, table, mode),
                              icon=":material/upload:")
            if imported is not None and not imported.written:
                if imported.report is None:
                    st.error(imported.message, icon=":material/block:")
                else:
                    ui_data.show_report(imported.report, "refused")


# ----------------------------------------------------------------------------- duplicates


def _choose(kept: str, other: str, decision: str | None) -> None:
    st.session_state[CHOICE] = (kept, other, decision) if decision else None


def _decide(kept: str, other: str, decision: str) -> None:
    st.session_state[CHOICE] = None
    st.session_state[NOTE] = ui_data.decide(path, kept, other, decision)


def _undo(kept: str, other: str) -> None:
    st.session_state[NOTE] = ui_data.undo(path, kept, other)


with duplicates_tab:
    pairs, count, decided = ui_data.review(path, MAX_PAIRS)
    note = st.session_state.pop(NOTE, None)
    if note is not None:
        (st.success if note.ok else st.error)(note.text)
    if not can_write:
        st.warning(ui_data.loopback_notice(), icon=":material/lock:")
    heading, shown = ui_data.review_words(count, len(pairs), limit)
    st.markdown(heading)
    if safe:
        st.info(ui_data.pairs_hidden_words(), icon=":material/visibility_off:")
    elif shown:
        st.caption(shown)
    choice = st.session_state.get(CHOICE)
    for _, pair in pairs.iterrows() if not safe else ():
        kept, other = pair["kept_victim_id"], pair["other_victim_id"]
        records, actions = st.container(border=True, key=f"pair_{kept}_{other}").columns([5, 2], gap="medium")
        records.table(as_markdown_frame(ui_data.pair_table(pair)), hide_index=True, border="horizontal")
        chosen = bool(choice) and choice[:2] == (kept, other)
        if chosen:
            actions.warning(ui_data.preview(*choice))
        buttons = actions.container(horizontal=True)
        if chosen:
            buttons.button("Confirm", type="primary", key=f"confirm_{kept}_{other}", on_click=_decide, args=choice,
                           disabled=not can_write)
            buttons.button("Cancel", key=f"cancel_{kept}_{other}", on_click=_choose, args=(kept, other, None))
        else:
            buttons.button("Same person", key=f"same_{kept}_{other}", on_click=_choose,
                           args=(kept, other, "same_person"), disabled=not can_write)
            buttons.button("Different people", key=f"different_{kept}_{other}", on_click=_choose,
                           args=(kept, other, "different"), disabled=not can_write)
    st.markdown("##### Decisions taken")
    if safe:
        st.caption("Not shown while presentation-safe numbers are on: each decision names two victim records.")
    elif decided.empty:
        st.caption("No decision yet.")
    for _, row in decided.head(MAX_DECISIONS).iterrows() if not safe else ():
        text_col, undo_col = st.columns([6, 1], vertical_alignment="center")
        text_col.markdown(ui_data.decision_words(row))
        undo_col.button("Undo", key=f"undo_{row['kept_victim_id']}_{row['other_victim_id']}", on_click=_undo,
                        args=(row["kept_victim_id"], row["other_victim_id"]), disabled=not can_write)


# ----------------------------------------------------------------------------- quality

with quality_tab:
    if safe:
        st.caption(ui_data.data_safe.safe_note(limit))
    tables = ui_data.quality_tables(path)
    left, right = st.columns(2)
    table = left.selectbox("Table", tables, key="quality_table",
                           index=tables.index(FIRST_QUALITY_TABLE) if FIRST_QUALITY_TABLE in tables else 0)
    report, note = ui_data.quality_report(path, settings.indicators_path(), table)
    if note:
        st.caption(note)
    views = ui_data.views(report, table)
    view = right.selectbox("Rows", list(views), key=f"quality_view_{table}",
                           help="All rows, the rows one source reported, or the rows one import brought in.")
    figures = ui_data.quality_view(report, table, *views[view], limit=limit)
    for column, (name, value, below) in zip(st.columns([2 if below else 1 for _, _, below in figures.metrics]),
                                            figures.metrics):
        column.metric(name, value, below, delta_color="off", delta_arrow="off")
    if figures.withheld:
        st.info(figures.withheld, icon=":material/visibility_off:")
    else:
        if figures.monthly_note:
            st.caption(figures.monthly_note)
        st.plotly_chart(ui_data.monthly_chart(figures.monthly, figures.monthly_title, limit), config=CHART_CONFIG,
                        key="quality_monthly")
        st.markdown(f"##### Completeness\n{figures.completeness_words}")
        st.dataframe(figures.completeness, hide_index=True, row_height=ROW_PX,
                     height=ROW_PX * (len(figures.completeness) + 1) + 3,
                     column_config=ui_data.completeness_columns(safe))
        st.markdown("##### Rule violations")
        if figures.violations.empty:
            st.markdown("No stored row breaks an import rule.")
        else:
            st.dataframe(figures.violations, hide_index=True, column_config={"rows": ui_data.count_column(None, safe)})
    st.markdown("##### Indicators each gap affects")
    if figures.impact.empty:
        st.markdown(f"No indicator reads an incomplete column of {table}.")
    else:
        st.dataframe(figures.impact, hide_index=True, column_config=ui_data.impact_columns(safe))
    st.markdown("##### Latest record per source and import batch")
    st.dataframe(figures.timeliness, hide_index=True, column_config={"count": ui_data.count_column(None, safe)})
    st.markdown("##### Likely duplicates per agency")
    if table == "victims":
        st.dataframe(figures.duplicates, hide_index=True, width=SMALL_TABLE_PX,
                     column_config={"pairs waiting for review": ui_data.count_column(None, True)})
    else:
        st.markdown("Duplicates are looked for among victims only (choose the victims table).")


# ----------------------------------------------------------------------------- audit log

with audit_tab:
    log = ui_data.audit_log(path, limit)
    if log.empty:
        st.info("Nothing is logged yet: every import (refused ones too), restore and duplicate decision appears here.")
    else:
        st.caption(f"{len(log):,} entr{'ies' if len(log) != 1 else 'y'}, newest first, kept in "
                   f"{audit.log_path(path)} beside the database and only ever appended to."
                   + (f" Counts below {limit} read \"<{limit}\" and duplicate decisions do not name their records "
                      "while presentation-safe numbers are on; the download is the same." if safe else ""))
        st.dataframe(log, hide_index=True, column_order=AUDIT_COLUMNS, column_config=ui_data.audit_columns(safe))
        downloads.download_csv(log, "audit-log", label_text="Download the audit log (CSV)", key="audit_download")
