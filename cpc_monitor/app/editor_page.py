"""The "Edit indicators" page: program managers change indicators.yaml in the dashboard.

The file is edited as a draft kept in this browser session only: the YAML in a code editor,
or through two forms (a target editor and a new indicator) that write into the draft. The
draft is checked (the same check as `validate`, errors marked at their lines), previewed
(the changed indicators and their figures on the current data) and its differences shown;
only Save writes, through definitions.versions (no errors, no conflict, every version
kept, audited). Other users' pages read the file on disk, so they never see a draft.

Every write asks access.current() twice: when the page is drawn (no editing widgets
without it) and again inside the action, just before writing."""
from __future__ import annotations

from dataclasses import dataclass, field

import typing

import pandas as pd
import streamlit as st

from cpc_monitor.app import access, cache, header, settings, sidebar, yaml_editor
from cpc_monitor.definitions import authoring, indicators, versions, yamlfile
from cpc_monitor.definitions.authoring import CALCULATIONS, POPULATIONS, NewIndicator, Point
from cpc_monitor.definitions.figures import Unit
from cpc_monitor.definitions.indicators import Direction, Issue, Pillar
from cpc_monitor.errors import CpcError, IndicatorFileChanged, IndicatorSaveRefused
from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.checking import Checked, check_text
from cpc_monitor.evaluation.preview import preview
from cpc_monitor.present import charts
from cpc_monitor.present import figure_charts as fc
from cpc_monitor.present.formatting import as_markdown_text

# Session-state keys: the text as loaded from disk (what a save is compared against), the
# draft, the last check of a draft, the last preview, the last note to show, the code
# editor's last applied event, and whether the plain text box is chosen.
EDITOR_KEY = "yaml_editor"  # the code editor's value in st.session_state
LOADED, DRAFT, CHECKED, PREVIEWED, NOTE, EVENT, PLAIN = ("editor_loaded", "editor_draft", "editor_checked",
                                                        "editor_previewed", "editor_note", "editor_event",
                                                        "editor_plain")
CHECK_SHOWN = "editor_check_shown"  # the draft (by hash) whose check report was asked for
# Counts the times the draft was replaced from outside the text box (a form, a restore, a
# reload): the plain text box is keyed by it, so it shows the new draft.
GENERATION = "editor_generation"
CHART_CONFIG = {"displayModeBar": False}
NEW_MILESTONES = 2  # empty rows the target editor offers for new milestones
UNIT_OF = {"ratio": "percent", "rate": "per_100k"}  # the unit a calculation suggests (else a count)
# What the command line offers instead, on the computer that holds the file.
BY_HAND = "edit indicators.yaml there and check it with `python -m cpc_monitor validate`"


@dataclass
class Note:
    """What the last action did, for the next run to show."""

    kind: str  # success | error | warning | info
    text: str
    diff: str = ""
    issues: list[Issue] = field(default_factory=list)


# ----------------------------------------------------------------------------- the draft


def disk_text() -> str:
    """The indicator file as it is on disk now ('' when it does not exist)."""
    path = settings.indicators_path()
    return indicators.read_text(path) if path.exists() else ""


def start() -> None:
    """Load the file into a new draft; with no unsaved change, follow the file on disk."""
    state = st.session_state
    on_disk = disk_text()
    if LOADED not in state or (state[DRAFT] == state[LOADED] and on_disk != state[LOADED]):
        state[LOADED] = on_disk
        set_draft(on_disk)
    elif state[DRAFT] == on_disk != state[LOADED]:
        # The draft is what the file now holds: it was saved. Save's own bookkeeping after the
        # write is lost when the editor's last keystroke asked for another run meanwhile (the
        # next session-state write in the callback raises Streamlit's RerunException), so it is
        # made good here; config.toml's fastReruns = false makes this run wait for the write.
        state[LOADED] = on_disk
        kept = versions.versions(settings.indicators_path())
        state.setdefault(NOTE, Note("success", f"Saved as version {kept[-1].number}: {kept[-1].summary}." if kept
                                    else "Saved."))


def set_draft(text: str, typed: bool = False) -> None:
    """Make `text` the draft; `typed` when it comes from the text box itself."""
    st.session_state[DRAFT] = text
    st.session_state.pop(PREVIEWED, None)
    if not typed:
        st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def discard() -> None:
    """Drop the draft: start again from the file on disk."""
    st.session_state[LOADED] = disk_text()
    set_draft(st.session_state[LOADED])
    st.session_state[NOTE] = Note("info", "Your changes were dropped; you now see the file as it is saved.")


def checked(text: str) -> Checked:
    """The check of `text`, run once per text (the same check as `validate`)."""
    key = versions.sha256_text(text)
    last = st.session_state.get(CHECKED)
    if not last or last[0] != key:
        result = check_text(text, settings.indicators_path().name, settings.db_path())
        st.session_state[CHECKED] = last = (key, result)
    return last[1]


def marks(result: Checked) -> list[dict]:
    """The code editor's marks: one per issue with a line (Ace counts rows from 0)."""
    return [{"row": i.line - 1, "column": 0, "type": i.severity, "text": i.message} for i in result.issues if i.line]


def issue_lines(issues: list[Issue]) -> str:
    """Every issue as a Markdown list: line, indicator and what to do."""
    return "\n".join(f"- **{'Error' if i.severity == 'error' else 'Warning'}**"
                     + (f", line {i.line}" if i.line else "")
                     + (f", indicator {as_markdown_text(i.indicator)}" if i.indicator else "")
                     + f": {as_markdown_text(i.message)}" for i in issues)


def changed_ids() -> list[str]:
    return versions.changes(st.session_state[LOADED], st.session_state[DRAFT]).ids


# ----------------------------------------------------------------------------- writes


def _refusal(who: access.Access) -> Note:
    return Note("error", "Nothing was saved. " + access.read_only_notice(who, "Changing indicators", BY_HAND))


def take_typed() -> None:
    """Make the code editor's latest text the draft. A button's callback runs before the page
    reads the editor again, so without this Save would miss what was typed just before it."""
    value = st.session_state.get(EDITOR_KEY)
    if not (isinstance(value, dict) and value.get("id") and isinstance(value.get("text"), str)):
        return
    if value["id"] != st.session_state.get(EVENT):
        st.session_state[EVENT] = value["id"]
        if value["text"] != st.session_state[DRAFT]:
            set_draft(value["text"], typed=True)


def _write(write: typing.Callable[[str], versions.Version], failed: str, invalid: str,
           changed: str = "") -> versions.Version | None:
    """One write of the file (`write(who)`), after asking access again just before it; on a
    refusal, the note that says why (`failed` starts it; `invalid` follows for a text that
    fails the check, `changed` for a file changed on disk) and None."""
    who = access.current()
    if not who.allowed:
        st.session_state[NOTE] = _refusal(who)
        return None
    try:
        return write(who.who)
    except IndicatorSaveRefused as exc:
        st.session_state[NOTE] = Note("error", f"{failed} {invalid} {exc}", issues=exc.issues)
    except IndicatorFileChanged as exc:
        st.session_state[NOTE] = Note("error", f"{failed} {exc}{changed}", diff=exc.diff)
    except CpcError as exc:
        st.session_state[NOTE] = Note("error", f"{failed} {exc}")
    return None


def save() -> None:
    """Save the draft (an on_click action)."""
    if not st.session_state.get(PLAIN):
        take_typed()
    state = st.session_state
    version = _write(lambda who: versions.save(settings.indicators_path(), state[DRAFT], loaded=state[LOADED],
                                               who=who, db_path=settings.db_path()),
                     "Not saved:", "the draft has errors.",
                     " Your draft is still below: note your change, press 'Drop my changes' to load their "
                     "version, and make your change again. What they changed:")
    if version is None:
        return
    state[LOADED] = state[DRAFT]
    state.pop(PREVIEWED, None)
    state[NOTE] = Note("success", f"Saved as version {version.number}: {version.summary}. Every page now shows it; "
                                  "History can bring back the earlier version.")


def restore(number: int) -> None:
    """Bring back version `number` (an on_click action)."""
    state = st.session_state
    version = _write(lambda who: versions.restore(settings.indicators_path(), number, loaded=state[LOADED],
                                                  who=who, db_path=settings.db_path()),
                     f"Version {number} was not brought back:", "it no longer passes the check.")
    if version is None:
        return
    state[LOADED] = disk_text()
    set_draft(state[LOADED])
    state[NOTE] = Note("success", f"Version {number} is back, saved as version {version.number}: {version.summary}.")


def _form_edit(change: typing.Callable[[str], str], done: str) -> None:
    """Apply a form's change to the draft, or say why it cannot be."""
    try:
        set_draft(change(st.session_state[DRAFT]))
    except CpcError as exc:
        st.session_state[NOTE] = Note("error", f"The draft was not changed: {exc}")
        return
    st.session_state[NOTE] = Note("info", f"{done} Nothing is saved yet: check it, preview it and save it below.")


# ----------------------------------------------------------------------------- drawing


def render() -> None:
    """The whole page."""
    who = access.current()
    _heading()
    if not who.allowed:
        st.warning(access.read_only_notice(who, "Changing indicators", BY_HAND), icon=":material/lock:")
        return
    start()
    _show_note()
    edit_tab, plan_tab, new_tab, history_tab = st.tabs(["Edit the file", "Change targets", "New indicator",
                                                        "History"], key="editor_tab")
    with edit_tab:
        _file_editor()
    with plan_tab:
        _plan_form()
    with new_tab:
        _new_form()
    with history_tab:
        _history()
    _review()


def _heading() -> None:
    """The usual page header; a file that cannot be read still leaves the editor usable."""
    try:
        indicators.load_indicators(settings.indicators_path())
    except CpcError:
        header.require_entry_script()  # what page_header does first
        st.subheader("Edit indicators", anchor=False)
        st.caption("The indicator file on disk cannot be read; fix it here and save.")
        return
    header.page_header("Edit indicators", [settings.indicators_path().name],
                       "change, check, preview and save the indicator file", filtered=False)


def _show_note() -> None:
    note = st.session_state.pop(NOTE, None)
    if note is None:
        return
    getattr(st, note.kind)(as_markdown_text(note.text))  # it quotes names and ids from the file
    if note.issues:
        st.markdown(issue_lines([i for i in note.issues if i.severity == "error"]))
    if note.diff:
        st.code(note.diff, language="diff")


def _file_editor() -> None:
    state = st.session_state
    result = checked(state[DRAFT])
    st.caption("Change the file below, then use **Check**, **Preview** and **Save** at the bottom of the page. "
               "Nothing is saved until you press Save; other people keep seeing the saved file.")
    plain = st.toggle("Use a plain text box", key=PLAIN, disabled=not yaml_editor.available(),
                      help="If the editor with line numbers does not appear, use a plain text box instead.")
    if plain or not yaml_editor.available():
        edited = st.text_area("The indicator file", state[DRAFT], height=600,
                              key=f"plain_{state.get(GENERATION, 0)}")
        if edited != state[DRAFT]:
            set_draft(edited, typed=True)
            st.rerun()  # the review below then reads the new draft
        return
    event = yaml_editor.yaml_editor(state[DRAFT], marks(result), key=EDITOR_KEY)
    if event is not None and event[0] != state.get(EVENT):
        state[EVENT] = event[0]
        if event[1] != state[DRAFT]:
            set_draft(event[1], typed=True)
            st.rerun()


def _indicator_choices(data: object) -> dict[str, str]:
    """id -> 'Pillar · name' of every indicator written as a block in the draft."""
    items = data.get("indicators") if isinstance(data, dict) else None
    return {i["id"]: f"{str(i.get('pillar', '')).capitalize()} · {i.get('name', i['id'])}"
            for i in items or [] if isinstance(i, dict) and isinstance(i.get("id"), str)}


def _draft_data() -> object:
    try:
        return yamlfile.load(st.session_state[DRAFT]).data
    except yamlfile.YamlProblem as problem:
        st.error(f"The forms need a draft that reads as YAML. Line {problem.line}: {problem.message} Fix it under "
                 "'Edit the file', or drop your changes.")
        return None


def _plan_form() -> None:
    data = _draft_data()
    choices = _indicator_choices(data)
    if not choices:
        st.info("The draft has no indicators yet.")
        return
    chosen = st.selectbox("Indicator", list(choices), format_func=choices.get, key="plan_indicator")
    raw = next(i for i in data["indicators"] if isinstance(i, dict) and i.get("id") == chosen)
    baseline = raw.get("baseline") if isinstance(raw.get("baseline"), dict) else None
    targets = [t for t in raw.get("targets") or [] if isinstance(t, dict)]
    st.caption("The baseline is where the indicator started; targets are the values to reach, the last one "
               "(normally 2030) is what the status is judged against. Say where each number comes from and which "
               "dialogue agreed it.")
    with st.form(f"plan_{chosen}"):
        st.checkbox("It has a baseline", value=baseline is not None, key=f"b_has_{chosen}")
        b = baseline or {}
        cols = st.columns([1, 1, 3])
        cols[0].number_input("Baseline year", 1900, 2100, int(b.get("year") or 2018), step=1, key=f"b_year_{chosen}")
        cols[1].number_input("Baseline value", value=float(b.get("value") or 0.0), format="%g",
                             key=f"b_value_{chosen}")
        cols[2].text_input("Where the baseline comes from", str(b.get("source") or ""), key=f"b_source_{chosen}")
        st.markdown("**Targets** (leave the year at 0 to remove a row)")
        rows = targets + [{}] * NEW_MILESTONES
        for n, t in enumerate(rows):
            c = st.columns([1, 1, 2, 2])
            c[0].number_input("Year", 0, 2100, int(t.get("year") or 0), step=1, key=f"t_year_{chosen}_{n}")
            c[1].number_input("Value", value=float(t.get("value") or 0.0), format="%g", key=f"t_value_{chosen}_{n}")
            c[2].text_input("Source", str(t.get("source") or ""), key=f"t_source_{chosen}_{n}")
            c[3].text_input("Agreed at", str(t.get("agreed") or ""), key=f"t_agreed_{chosen}_{n}",
                            placeholder="the dialogue that agreed it")
        # A callback, not the button's return value: it runs before the page, so a rerun never loses it.
        st.form_submit_button("Put these targets in the draft", type="primary", on_click=_submit_plan,
                              args=(chosen, choices[chosen], len(rows)))


def _submit_plan(chosen: str, label: str, count: int) -> None:
    """The target form's values into the draft."""
    state = st.session_state
    plan = [Point(int(state[f"t_year_{chosen}_{n}"]), state[f"t_value_{chosen}_{n}"], state[f"t_source_{chosen}_{n}"],
                  state[f"t_agreed_{chosen}_{n}"]) for n in range(count) if state[f"t_year_{chosen}_{n}"]]
    base = (Point(int(state[f"b_year_{chosen}"]), state[f"b_value_{chosen}"], state[f"b_source_{chosen}"])
            if state[f"b_has_{chosen}"] else None)
    _form_edit(lambda text: authoring.set_plan(text, chosen, base, plan),
               f"The baseline and targets of '{label}' are in the draft.")


def _new_form() -> None:
    data = _draft_data()
    if data is None:
        return
    columns = cache.table_columns()
    tables = [t for t in columns if t not in ("schema_info", "duplicate_decisions")]
    st.caption("Describe the new indicator; it is added at the end of the file. The check below then says whether "
               "it works and the preview shows what it would read.")
    c = st.columns(2)
    table = c[0].selectbox("Which records it counts (table)", tables, key="new_table",
                           index=tables.index("victims") if "victims" in tables else 0)
    calculation = c[1].selectbox("Calculation", list(CALCULATIONS), format_func=CALCULATIONS.get,
                                 key="new_calculation")
    own = list(columns.get(table, ()))
    dates = [c for c in own if c.endswith("_date") or c == "year"] or own
    segments = list(data.get("segments") or {}) if isinstance(data, dict) else []
    with st.form("new_indicator"):
        c = st.columns(2)
        c[0].text_input("Name, as the pages show it", key="new_name")
        c[1].text_input("Id (never reused)", placeholder="protection.children_in_care", key="new_id",
                        help="Lower-case words joined by dots, starting with the pillar.")
        st.text_input("What it counts, in one sentence", key="new_description")
        c = st.columns(3)
        c[0].selectbox("Pillar", typing.get_args(Pillar), key="new_pillar")
        c[1].selectbox("Good when it", typing.get_args(Direction), key="new_direction",
                       format_func={"increase": "goes up", "decrease": "goes down",
                                    "monitor": "is only watched (not judged)"}.get)
        units = typing.get_args(Unit)
        c[2].selectbox("Unit", units, index=units.index(UNIT_OF.get(calculation, "count")),
                       key=f"new_unit_{calculation}", help="percent for a percent, per_100k for a rate per 100,000, usd or jmd for money.")
        c = st.columns(2)
        c[0].selectbox("Date that puts a record in a year", dates, key="new_date")
        if calculation in ("sum", "median"):
            c[1].selectbox(f"Column to take the {calculation} of", own, key="new_column")
        elif calculation == "rate":
            c[1].selectbox("Per 100,000 of", list(POPULATIONS), format_func=POPULATIONS.get, key="new_population")
        st.multiselect("Only records that are (named conditions)", segments, key="new_filters")
        st.text_input("And this condition (optional)", placeholder="sex = 'female'", key="new_condition")
        if calculation == "ratio":
            st.text_input("The part counted in the percent is also", placeholder="referred_date IS NOT NULL",
                          key="new_share", help="The percent is: records meeting every condition, out of those "
                                                "meeting the conditions above.")
        st.multiselect("Breakdowns", own + [d for d in ("age_group",) if "age" in own], key="new_breakdowns")
        c = st.columns([1, 1, 3])
        c[0].number_input("Baseline year (0: none)", 0, 2100, 0, step=1, key="new_b_year")
        c[1].number_input("Baseline value", value=0.0, format="%g", key="new_b_value")
        c[2].text_input("Where the baseline comes from", key="new_b_source")
        c = st.columns([1, 1, 2, 2])
        c[0].number_input("Target year", 1900, 2100, 2030, step=1, key="new_t_year")
        c[1].number_input("Target value", value=0.0, format="%g", key="new_t_value")
        c[2].text_input("Target source", placeholder="assumed", key="new_t_source")
        c[3].text_input("Agreed at", placeholder="the dialogue that agreed it", key="new_t_agreed")
        c = st.columns(2)
        c[0].text_input("Data source (agency, report)", key="new_source")
        c[1].text_input("Who owns it", key="new_owner")
        st.form_submit_button("Add to the draft", type="primary", on_click=_submit_new, args=(table, calculation))


def _submit_new(table: str, calculation: str) -> None:
    """The new-indicator form's values into the draft."""
    state = st.session_state
    text = {k: str(state.get(f"new_{k}") or "").strip() for k in (
        "name", "id", "description", "condition", "share", "b_source", "t_source", "t_agreed", "source", "owner")}
    new = NewIndicator(
        id=text["id"], name=text["name"], pillar=state["new_pillar"], unit=state[f"new_unit_{calculation}"],
        direction=state["new_direction"], calculation=calculation, table=table,
        date_column=state["new_date"] or "", column=state.get("new_column") or "",
        filters=list(state["new_filters"]) + ([text["condition"]] if text["condition"] else []),
        share_filters=[text["share"]] if text["share"] else [],
        population=state.get("new_population") or "population",
        breakdowns=list(state["new_breakdowns"]),
        baseline=(Point(int(state["new_b_year"]), state["new_b_value"], text["b_source"])
                  if state["new_b_year"] else None),
        targets=[Point(int(state["new_t_year"]), state["new_t_value"], text["t_source"], text["t_agreed"])],
        description=text["description"], source=text["source"], owner=text["owner"])
    def add(draft: str) -> str:
        # An indicator of this id that the draft adds (not yet saved) is the form's own: it is
        # replaced, a correction. A saved one is never overwritten: ids are never reused.
        unsaved = new.id in versions.changes(state[LOADED], draft).added
        return authoring.add_indicator(authoring.remove_indicator(draft, new.id) if unsaved else draft, new)

    _form_edit(add, f"The new indicator '{new.name or new.id}' is at the end of the draft.")


def _history() -> None:
    path = settings.indicators_path()
    kept = versions.versions(path)
    if not kept:
        st.info("No versions are kept yet: the first save keeps the file as it was, and every save after it.")
        return
    table = pd.DataFrame([{"version": v.number, "saved (UTC)": v.at.replace("T", " ").replace("+00:00", ""),
                           "by": v.who, "what changed": (f"brought back version {v.restored_from}: "
                                                        if v.restored_from else "") + v.summary}
                          for v in reversed(kept)])
    st.dataframe(table, hide_index=True)
    numbers = [v.number for v in reversed(kept)]
    c = st.columns(2)
    a = c[0].selectbox("Compare version", numbers, index=min(1, len(numbers) - 1), key="history_a")
    b = c[1].selectbox("with version", numbers, index=0, key="history_b")
    diff = versions.diff_versions(path, a, b)
    st.code(diff or "The two versions are the same.", language="diff")
    c = st.columns([1, 2], vertical_alignment="bottom")
    chosen = c[0].selectbox("Bring back version", numbers, index=min(1, len(numbers) - 1), key="restore_version")
    c[1].button(f"Bring back version {chosen}", key="restore_button", on_click=restore, args=(chosen,),
                help="It is saved as a new version, so this can be undone too. Changes you have not saved are "
                     "dropped.")


def _review() -> None:
    """Check, preview, differences and Save, for whatever the draft holds."""
    state = st.session_state
    st.divider()
    st.markdown("#### Your changes")
    diff = versions.unified_diff(state[LOADED], state[DRAFT], "saved file", "your draft")
    if not diff:
        st.caption("The draft is the same as the saved file. Change it in one of the tabs above.")
        return
    ids = changed_ids()
    st.caption("Indicators changed: " + (as_markdown_text(", ".join(ids)) or "none (other parts of the file)"))
    result = checked(state[DRAFT])
    c = st.columns(4)
    draft_key = versions.sha256_text(state[DRAFT])
    # Callbacks mark what to show for this draft: they run before the page, so no rerun loses them.
    c[0].button("Check", key="check_button", on_click=state.__setitem__, args=(CHECK_SHOWN, draft_key))
    c[1].button("Preview", key="preview_button", on_click=state.__setitem__, args=(PREVIEWED, draft_key))
    c[2].button("Save", type="primary", key="save_button", on_click=save, disabled=bool(result.errors))
    c[3].button("Drop my changes", key="discard_button", on_click=discard)
    if state.get(CHECK_SHOWN) == draft_key or result.errors:
        _check_report(result)
    with st.expander("Differences from the saved file", expanded=True):
        st.code(diff, language="diff")
    if state.get(PREVIEWED) == draft_key:
        _preview(result, ids)


def _check_report(result: Checked) -> None:
    errors = result.errors
    if errors:
        st.error(f"The draft has {len(errors)} error{'s' * (len(errors) != 1)}; it cannot be saved until they are "
                 "fixed. Each is marked at its line in the editor.")
    else:
        st.success("No errors: the draft can be saved."
                   + (" The warnings below are worth a look but do not stop a save." if result.issues else ""))
    if result.issues:
        st.markdown(issue_lines(result.issues))


def _preview(result: Checked, ids: list[str]) -> None:
    st.markdown("#### Preview on the current data")
    if result.iset is None:
        st.warning("There is nothing to preview until the file reads as an indicator file; see the check above.")
        return
    _, safe = sidebar.current_filters()
    shown = preview(settings.db_path(), result.iset, ids, safe)
    if not shown.results:
        st.caption("No indicator changed, so there is nothing to preview.")
    for r in shown.results:
        with st.container(border=True):
            if r.status == "error":
                st.error(f"**{as_markdown_text(r.name)}** ({as_markdown_text(r.id)}) could not be evaluated:\n\n"
                         + "\n".join(f"- {as_markdown_text(e.message if hasattr(e, 'message') else e)}"
                                      for e in r.errors))
                continue
            values = privacy.result_values(r, safe)
            st.markdown(f"**{as_markdown_text(r.name)}**: {charts.verdict_words(r, privacy.hidden_years(values))}")
            st.plotly_chart(charts.series_chart(r, values, safe), config=CHART_CONFIG, key=f"preview_{r.id}")
    labels = result.iset.labels
    for values in shown.figures:
        with st.container(border=True):
            st.caption(f"Figure on the {values.page.replace('_', ' ')} page")
            st.plotly_chart(fc.draw(values, labels), config=CHART_CONFIG,
                            key=f"preview_figure_{values.page}_{values.figure.id}")
