"""Streamlit helpers of the Data page (pages/data.py): the role check on writes
(access.current), the upload flow the page and its tests share, CSV downloads (through
exports) guarded against formula injection, the cached review and quality figures, and the
small renderers each tab uses.
With presentation-safe numbers on, the figures go through data_safe before they are drawn.

The writes themselves belong to the package (importer.import_upload, dedupe.decide/undo);
this module only calls them, shows what they report, and clears the caches afterwards."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cpc_monitor.store import audit, db

from cpc_monitor.intake import dedupe, importer, limits, quality

from cpc_monitor.app import access, data_safe, downloads
from cpc_monitor.evaluation import privacy
from cpc_monitor.present.charts import ACCENT, FONT, OKABE_ITO, code_label
from cpc_monitor.present.formatting import as_markdown_frame, as_markdown_text
from cpc_monitor.errors import CpcError
from cpc_monitor.definitions.indicators import load_indicators
from cpc_monitor.intake.importer import ImportReport

OUTLIER_COLOUR = OKABE_ITO[4]  # vermillion: unusual months, marked by shape (diamond) as well
TABLE_ROWS, TABLE_HEIGHT = 12, 480  # a problems table longer than 12 rows scrolls inside 480 px
SHOWN_PROBLEMS = 500  # problems drawn on the page (a static table); the CSV download has every one
MONTHLY_HEIGHT = 340  # px: the monthly chart with its two-line title and legend
MONTHS_NAMED = 3  # unusual months named in the chart's title; more are counted ("and 4 more")
HIDDEN_COLOUR = "#D5DAE0"  # the pale band of a month hidden in safe mode
HIDDEN_BAR_MS = 25 * 86_400_000  # its width: most of a month, in ms (plotly's unit for dates)
HEADROOM = 1.15
QUALITY_ENTRIES = 16  # cached per-table quality figures: every table of two database versions  # the y-axis reaches 15% above the highest month, so that month's label stays inside
BY_WORDS = {"all": "all rows", "source": "per source", "batch": "per import batch"}  # quality.groupings' names
# Table names that do not read as words once their underscores become spaces.
TABLE_WORDS = {"cfs_sessions": "Child-friendly space sessions", "child_friendly_spaces": "Child-friendly spaces"}


# ----------------------------------------------------------------------------- writes


def writes_allowed() -> bool:
    """True only for an editor or admin (access.current: signed in, or local mode's own browser)."""
    return access.current().allowed


def page_user() -> str:
    """The audit log's "who" for a write from the page: the signed-in e-mail, or local mode and
    the client's address."""
    return access.current().who


def pairs_hidden_words() -> str:
    """Why the duplicate pairs are not drawn in safe mode, and how to see them, for this request's role."""
    return data_safe.PAIRS_HIDDEN if access.current().exact_numbers else data_safe.PAIRS_HIDDEN_LOCKED


def loopback_notice() -> str:
    """Why the page does not write here, and how to make it."""
    return access.read_only_notice(access.current())


@dataclass(frozen=True)
class UploadOutcome:
    """What an upload came to: the importer's report (None when it stopped before reading the
    file) and, when refused without one, the message saying why."""

    report: ImportReport | None
    message: str = ""

    @property
    def written(self) -> bool:
        return self.report is not None and self.report.written


def run_upload(db_path: str | os.PathLike, table: str, filename: str, data: bytes, mode: str = "append",
               dry_run: bool = True) -> UploadOutcome:
    """Check (dry_run) or import one uploaded file through importer.import_upload, as the page does.

    Refused outright unless access.current() allows writes: checked here, inside the action,
    not only where the page draws the uploader. After a real import every st.cache_data
    entry is cleared, so every page reads the new file."""
    if not writes_allowed():
        return UploadOutcome(None, loopback_notice())
    try:
        report = importer.import_upload(db_path, table, filename, data, mode=mode, dry_run=dry_run, who=page_user())
    except importer.ImportRefused as exc:
        return UploadOutcome(exc.report)
    except CpcError as exc:
        return UploadOutcome(None, str(exc))
    if report.written:
        st.cache_data.clear()
    return UploadOutcome(report)


def confirm_label(report: ImportReport) -> str:
    """The confirm button's words: what the import will do."""
    label = f"Confirm: import {report.rows_added:,} row{'s' * (report.rows_added != 1)} into {report.table}"
    return label + (f", replacing its {report.rows_replaced:,}" if report.mode == "replace" else "")


def report_counts(report: ImportReport) -> dict[str, str]:
    """The row counts of a report, as labelled figures ('would' for a dry run)."""
    dry = report.dry_run
    counts = {"Rows in the file": report.rows_in_files, f"Rows in {report.table} before": report.rows_before,
              "Would add" if dry else "Rows added": report.rows_added}
    if report.mode == "replace":
        counts["Would replace" if dry else "Rows replaced"] = report.rows_replaced
    counts[f"Rows in {report.table} after"] = report.rows_before - report.rows_replaced + report.rows_added
    return {name: f"{value:,}" for name, value in counts.items()}


def size_limits_words() -> str:
    """The import's own size limits, which are lower than the upload box's for workbooks."""
    try:
        found = limits.current()
    except CpcError as problem:  # a bad CPC_LIMIT_* setting: the import will say so
        return str(problem)
    return (f"CSV up to {found.csv_bytes / 1e6:,.0f} MB and {found.csv_rows:,} rows; "
            f"XLSX up to {found.xlsx_bytes / 1e6:,.0f} MB and {found.xlsx_cells:,} cells.")


def show_report(report: ImportReport, key: str) -> None:
    """The report of a check or an import: summary, row counts, and the problems table with
    its (guarded) CSV download."""
    if not report.ok:
        st.error(f"**Refused.** {as_markdown_text(report.summary())}", icon=":material/block:")
    elif report.written:
        st.success(f"**Imported.** {as_markdown_text(report.summary())}", icon=":material/check_circle:")
    else:
        st.info(f"**Checked: no errors.** {as_markdown_text(report.summary())}", icon=":material/fact_check:")
    if report.ok:
        for column, (name, value) in zip(st.columns(len(report_counts(report))), report_counts(report).items()):
            column.metric(name, value)
        if report.written:
            st.markdown(f"Batch id: `{report.batch_id}` (the Quality tab shows each batch's rows).")
    problems = report.problems_frame()
    if problems.empty:
        return
    words = [f"{report.error_count:,} error{'s' * (report.error_count != 1)}" if report.error_count else "",
             f"{len(report.warnings):,} warning{'s' * (len(report.warnings) != 1)}" if report.warnings else ""]
    shown = "" if report.error_count <= len(report.errors) else f" (the first {len(report.errors):,} errors listed)"
    st.markdown(f"**{' and '.join(w for w in words if w)}**{shown}: errors stop the import, warnings do not.")
    if len(problems) > SHOWN_PROBLEMS:
        st.caption(f"The first {SHOWN_PROBLEMS:,} of {len(problems):,} listed problems are shown; the download has "
                   "them all.")
    # A static table, so that each problem and its fix wraps and reads in full; the file's name is in the summary.
    shown = problems.head(SHOWN_PROBLEMS).drop(columns="file").rename(columns={"problem": "problem and how to fix it"})
    st.table(as_markdown_frame(shown), hide_index=True, border="horizontal",
             height="content" if len(shown) <= TABLE_ROWS else TABLE_HEIGHT)
    downloads.download_csv(problems, f"import-problems-{report.table}", label_text="Download the problems (CSV)",
                    key=f"{key}_problems")


# ----------------------------------------------------------------------------- cached figures


def stamp(db_path: Path) -> int:
    """The database's version stamp (changes whenever a write swaps the file in)."""
    return db.version_stamp(db_path)


def review(db_path: Path, limit: int) -> tuple[pd.DataFrame, dedupe.Count, pd.DataFrame]:
    """The first `limit` pending likely-duplicate pairs, how many are pending (counted up to
    dedupe.COUNT_CAP), and the decisions taken (cached per database version)."""
    return _review(str(db_path), db.version_stamp(db_path), limit)


@st.cache_data(max_entries=4, show_spinner=False)
def _review(path: str, stamp: int, limit: int) -> tuple[pd.DataFrame, dedupe.Count, pd.DataFrame]:
    pairs, count = dedupe.review(path, limit)
    return pairs, count, dedupe.decisions(path)


def review_words(count: dedupe.Count, shown: int, limit: int | None = None) -> tuple[str, str]:
    """The review list's heading and, when not every pair is drawn, the note saying which are.
    In safe mode (`limit`) a count from 1 to limit-1 reads "<5"."""
    many = count.at_least or count.pairs != 1
    words = f"<{limit}" if limit is not None and privacy.is_small(count.pairs, limit) else str(count)
    words = words[0].upper() + words[1:]
    heading = (f"**{words} likely duplicate pair{'s' * many} to review**: victims reported by different agencies "
               "with the same sex, parish and form of exploitation, ages within a year, identified within "
               f"{dedupe.MAX_DAYS_APART} days. Nothing is merged until you decide; every decision can be undone.")
    if count.at_least:
        return heading, (f"Showing the first {shown} of at least {count.pairs:,} pairs, earliest first (counting "
                         f"stops at {count.pairs:,}); the others follow as you decide.")
    if count.pairs > shown:
        return heading, f"Showing the first {shown} of {count.pairs:,} pairs, earliest first; the others follow as you decide."
    return heading, ""


def quality_tables(db_path: Path) -> list[str]:
    """The tables the Quality tab offers (cached per database version)."""
    return _quality_tables(str(db_path), db.version_stamp(db_path))


@st.cache_data(max_entries=4, show_spinner=False)
def _quality_tables(path: str, stamp: int) -> list[str]:
    return quality.quality_tables(path)


def quality_report(db_path: Path, indicators_path: Path, table: str) -> tuple[quality.QualityReport, str]:
    """The data-quality figures of one table (cached per database and indicator file version,
    day and table: the tab shows one table at a time, so a view computes only that one), and
    a note when the indicator file cannot be read (the figures then name no indicators)."""
    ind_mtime = indicators_path.stat().st_mtime_ns if indicators_path.is_file() else 0
    return _quality(str(db_path), db.version_stamp(db_path), str(indicators_path), ind_mtime, date.today(), table)


@st.cache_data(max_entries=QUALITY_ENTRIES, show_spinner=False)
def _quality(path: str, stamp: int, ind_path: str, ind_mtime: int, today: date, table: str
             ) -> tuple[quality.QualityReport, str]:
    try:
        iset, note = load_indicators(ind_path), ""
    except CpcError as exc:
        iset, note = None, f"The indicator file {ind_path} cannot be read ({exc}), so no indicator is named here."
    return quality.quality_report(path, iset, today, only=(table,)), note


# ----------------------------------------------------------------------------- duplicates


def pair_table(pair: pd.Series) -> pd.DataFrame:
    """One likely-duplicate pair side by side: each field of both records and how they match."""
    ages = "same age" if pair["kept_age"] == pair["other_age"] else "within a year"
    days = int(pair["days_apart"])
    return pd.DataFrame({
        "field": ["victim id", "identified on", "identified by", "age", "sex", "parish", "form of exploitation"],
        "kept (identified first)": [pair["kept_victim_id"], _day(pair["kept_identified_date"]),
                                    code_label(pair["kept_identified_by"]), str(pair["kept_age"]),
                                    code_label(pair["sex"]), pair["parish"], code_label(pair["exploitation_type"])],
        "other": [pair["other_victim_id"], _day(pair["other_identified_date"]),
                  code_label(pair["other_identified_by"]), str(pair["other_age"]),
                  code_label(pair["sex"]), pair["parish"], code_label(pair["exploitation_type"])],
        "match": ["", "same day" if days == 0 else f"{days} day{'s' * (days != 1)} apart", "different agencies",
                  ages, "same", "same", "same"]})


def preview(kept: str, other: str, decision: str) -> str:
    """What confirming a decision will do, in the words the stored decision uses."""
    return f"Confirm: {dedupe.Decision(kept, other, decision)}"


@dataclass(frozen=True)
class Note:
    """The message a decision or undo leaves for the next run of the page."""

    ok: bool
    text: str


def decide(db_path: Path, kept: str, other: str, decision: str) -> Note:
    """Record a duplicate decision as the page user (editors and admins only) and say what it did."""
    if not writes_allowed():
        return Note(False, loopback_notice())
    try:
        done = dedupe.decide(db_path, kept, other, decision, who=page_user())
    except CpcError as exc:
        return Note(False, f"Not recorded: {exc}")
    st.cache_data.clear()
    return Note(True, f"Recorded. {done}")


def undo(db_path: Path, kept: str, other: str) -> Note:
    """Remove a duplicate decision as the page user (editors and admins only) and say what it did."""
    if not writes_allowed():
        return Note(False, loopback_notice())
    try:
        done = dedupe.undo(db_path, kept, other, who=page_user())
    except CpcError as exc:
        return Note(False, f"Not undone: {exc}")
    st.cache_data.clear()
    after = f"{done.other} counts again" if done.decision == "same_person" else "both still count"
    return Note(True, f"Undone: {done.kept} and {done.other} are back in the review list; {after}.")


def decision_words(row: pd.Series) -> str:
    """One past decision in words: the pair, what was decided, its effect, when and by whom."""
    kept, other = row["kept_victim_id"], row["other_victim_id"]
    effect = (f"same person: **{kept}** kept, {other} no longer counts" if row["decision"] == "same_person"
              else f"different people: **{kept}** and **{other}** both count")
    return f"{effect} · decided {_day(row['decided_at'])} by {row['decided_by']}"


def _day(value: object) -> str:
    return f"{pd.Timestamp(value):%d %b %Y}".lstrip("0")


# ----------------------------------------------------------------------------- quality


def view_label(by: str, group: str) -> str:
    """How a grouping of the quality figures reads in the view select box."""
    if by == "all":
        return "All rows"
    return f"Source: {code_label(group)}" if by == "source" else f"Import batch: {group}"


def table_words(table: str) -> str:
    """A table's name as a chart title starts: 'cfs_sessions' -> 'Child-friendly space sessions'."""
    return TABLE_WORDS.get(table, table.replace("_", " ").capitalize())


def monthly_title(table: str, months: pd.DataFrame, by: str, group: str) -> str:
    """The monthly chart's finding (which months stand out), with the usual month on a second line.
    In safe mode (`months` from data_safe.monthly: hidden months have no count) the figures are
    those of the months shown, and the hidden months are counted."""
    subject = table_words(table) + (f" from {code_label(group)}" if by == "source" else "")
    if months.empty:
        return f"{subject}: no dated records"
    hidden = months["hidden"].astype(bool) if "hidden" in months.columns else pd.Series(False, index=months.index)
    shown = months.loc[~hidden, "rows"]
    n_hidden = int(hidden.sum())
    if shown.empty:
        usual = "every month has too few records to show"
    else:
        usual = (f"{'of the months shown, a usual one' if n_hidden else 'a usual month'} has {shown.median():,.0f} "
                 f"records (range {shown.min():,.0f}–{shown.max():,.0f})"
                 + (f"; {n_hidden:,} month{'s' * (n_hidden != 1)} with too few records to show" if n_hidden else ""))
    usual = f"<br><span style='font-size:13px;color:#4A5868'>{usual}</span>"
    if len(months) < quality.MIN_MONTHS:
        return f"{subject}: {len(months)} months are too few to judge" + usual
    flagged = months[months["outlier"].astype(bool)]
    if flagged.empty:
        return f"{subject}: no month stands out" + usual
    named = [f"{pd.Timestamp(m):%b %Y} ({'hidden' if h else f'{r:,.0f}'})"
             for m, r, h in zip(flagged["month"], flagged["rows"], hidden[flagged.index])]
    if len(named) > MONTHS_NAMED:
        named = named[:MONTHS_NAMED - 1] + [f"{len(named) - MONTHS_NAMED + 1} more"]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f"{subject}: {len(flagged)} unusual month{'s' * (len(flagged) != 1)}, {listed}" + usual


def monthly_chart(months: pd.DataFrame, title: str, limit: int | None = None) -> go.Figure:
    """Records per month as a line, unusual months (modified z-score above quality.OUTLIER_Z)
    marked with labelled diamonds. In safe mode (`limit`, `months` from data_safe.monthly) the
    line breaks at a hidden month, never drawn as 0, and a month with fewer than `limit`
    records reads "<5" in place. Returns the figure; draws nothing."""
    hidden = months["hidden"].astype(bool) if "hidden" in months.columns else pd.Series(False, index=months.index)
    fig = go.Figure()
    small = months[months["small"].astype(bool)] if "small" in months.columns else months.iloc[0:0]
    if limit is not None and not small.empty:
        # A pale band up to `limit` where a month has too few records to show: "<5" in place, never 0.
        fig.add_bar(x=pd.to_datetime(small["month"]), y=[limit] * len(small), width=HIDDEN_BAR_MS,
                    marker={"color": HIDDEN_COLOUR, "line": {"width": 0}}, text=[f"<{limit}"] * len(small),
                    textposition="none", name=f"Fewer than {limit} records (hidden)",
                    hovertemplate=f"%{{x|%b %Y}}: fewer than {limit} records<extra></extra>")
    # In safe mode a month shown between hidden ones has no neighbour to draw a line to: a dot shows it.
    fig.add_scatter(x=pd.to_datetime(months["month"]), y=months["rows"].where(~hidden),
                    mode="lines" if limit is None else "lines+markers", marker={"size": 4},
                    name="Records in the month", line={"color": ACCENT, "width": 2}, connectgaps=False,
                    hovertemplate="%{x|%b %Y}: %{y:,} records<extra></extra>")
    flagged = months[months["outlier"].astype(bool) & ~hidden]
    fig.add_scatter(x=pd.to_datetime(flagged["month"]), y=flagged["rows"], mode="markers+text",
                    name=f"Unusual month (modified z-score beyond ±{quality.OUTLIER_Z})",
                    marker={"symbol": "diamond", "size": 11, "color": OUTLIER_COLOUR,
                            "line": {"width": 1, "color": "white"}},
                    text=[f"{r:,.0f}" for r in flagged["rows"]], textposition="top center",
                    hovertemplate="%{x|%b %Y}: %{y:,} records, unusual<extra></extra>")
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
                      font={"family": FONT, "size": 13, "color": "#1C2733"}, height=MONTHLY_HEIGHT,
                      margin={"l": 10, "r": 20, "t": 70, "b": 10}, plot_bgcolor="white", paper_bgcolor="white",
                      legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0},
                      showlegend=True)
    fig.update_xaxes(title_text="Month", showgrid=False, linecolor="#AEB7C2", ticks="outside")
    shown = months["rows"].where(~hidden)
    top = float(shown.max()) if shown.notna().any() else 1.0
    fig.update_yaxes(title_text="Records in the month", gridcolor="#E6E9ED", zeroline=False, tickformat=",d",
                     range=[0, max(top, float(limit or 1)) * HEADROOM])
    return fig


@dataclass
class QualityView:
    """The quality figures of one table and one view (all rows, a source, a batch), ready to draw."""

    metrics: list[tuple[str, str, str | None]]  # label, value, note under the value
    completeness: pd.DataFrame
    completeness_words: str
    monthly: pd.DataFrame
    monthly_title: str
    monthly_note: str
    violations: pd.DataFrame
    impact: pd.DataFrame
    timeliness: pd.DataFrame
    duplicates: pd.DataFrame
    withheld: str = ""  # safe mode: why this view's own figures are not drawn (its row count is hidden)


def views(report: quality.QualityReport, table: str) -> dict[str, tuple[str, str]]:
    """The views of `table` for the select box: label -> (by, group), all rows first."""
    part = report.completeness[report.completeness["table"] == table]
    pairs = dict.fromkeys(zip(part["by"], part["group"]))
    return {view_label(by, group): (by, group) for by, group in pairs}


def quality_view(report: quality.QualityReport, table: str, by: str, group: str,
                 limit: int | None = None) -> QualityView:
    """Cut the report down to `table` and one view of it. `limit` (min_cell) switches on
    presentation-safe numbers: counts from 1 to limit-1 read "<5" (data_safe)."""
    exact, complete = view_completeness(report.completeness, table, by, group, limit)
    monthly = report.monthly[report.monthly["table"] == table]
    monthly = monthly if limit is None else data_safe.monthly(monthly, limit)  # over every series: see there
    series = "all" if by == "batch" else by  # monthly counts are per source at most, not per batch
    monthly = monthly[(monthly["by"] == series) & (monthly["group"] == (group if by == "source" else ""))]
    note = "Monthly counts are per table and per source, not per import batch: all rows are shown." if by == "batch" else ""
    timely_all = report.timeliness[report.timeliness["table"] == table].reset_index(drop=True)
    # Sources add up to all rows, and so do batches: one hidden alone could be worked out.
    counted = timely_all if limit is None else data_safe.counts_as_text(timely_all, ["rows"], limit, within=["by"])
    mine = (timely_all["by"] == by) & (timely_all["group"] == group)
    timely = timely_all[mine]
    latest = timely["latest_date"].iloc[0] if not timely.empty else None
    dated = latest is not None and pd.notna(latest)
    rows = counted.loc[mine, "rows"].iloc[0] if mine.any() else 0
    broken, broken_shown = view_violations(report.violations, table, by, group, limit)
    metrics = [("Rows", rows if limit is not None else f"{int(rows):,}", None),
               ("Latest record", _day(latest) if dated else "none",
                f"{int(timely['days_since'].iloc[0]):,} days before {_day(report.as_of)}" if dated else None),
               ("Rows breaking a rule", _total_words(broken["rows"], broken_shown["rows"], limit), None)]
    dupes = pair_counts(report.duplicates, limit)
    if table == "victims" and by != "batch":
        found = dupes[(report.duplicates["by"] == by) & (report.duplicates["group"] == group)]
        capped = bool(report.duplicates.loc[found.index, "at_least"].any())
        shown = found["pairs waiting for review"].iloc[0] if not found.empty else "0"
        metrics.append(("Likely duplicate pairs", shown.replace("at least ", "") + "+" if capped else shown,
                        f"counting stops at {dedupe.COUNT_CAP:,}" if capped else None))
    gaps = exact[exact["missing"] > 0]
    if timely.empty or int(timely["rows"].iloc[0]) == 0:
        words = "no rows yet."
    elif gaps.empty:
        words = f"all {len(exact)} columns are filled in every row."
    else:
        least = complete["percent_filled"].loc[gaps.index[0]]
        words = (f"{len(gaps)} of {len(exact)} columns have gaps; least filled: {gaps['column'].iloc[0]}"
                 + (f" ({least:.0f}%)." if pd.notna(least) else "."))
    impact = impact_table(report.impact, table)
    hidden_view = limit is not None and by != "all" and data_safe.is_hidden(str(rows), limit)
    if hidden_view:
        metrics[2] = ("Rows breaking a rule", data_safe.SECONDARY, None)
    return QualityView(
        metrics=metrics, completeness=complete, completeness_words=words, monthly=monthly,
        monthly_title=monthly_title(table, monthly, "all" if by == "batch" else by, group), monthly_note=note,
        violations=broken_shown,
        impact=impact if limit is None or impact.empty else data_safe.impact(impact, limit),
        timeliness=pd.DataFrame({"rows": counted["by"].map(BY_WORDS), "source or batch": [
                                     code_label(g) if b == "source" else g
                                     for b, g in zip(counted["by"], counted["group"])],
                                 "count": counted["rows"], "latest record": counted["latest_date"],
                                 "days since": counted["days_since"]}),
        duplicates=dupes, withheld=data_safe.withheld(view_label(by, group), limit) if hidden_view else "")


def pair_counts(dupes: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """Likely duplicate pairs per agency, as words ("at least 10,000"); in safe mode (`limit`)
    a count from 1 to limit-1 reads "<5", and so does a second agency's when one alone would
    (each pair counts for its two agencies, so the agencies add up to twice the total)."""
    hidden = (privacy.hide_small_counts(dupes, ["pairs"], limit, within=["by"])[1]["pairs"] if limit is not None
              else pd.Series(False, index=dupes.index))
    words = [data_safe.cell_text(n, True, limit) if hide else str(dedupe.Count(int(n), bool(c)))
             for n, c, hide in zip(dupes["pairs"], dupes["at_least"], hidden)]
    return pd.DataFrame({"agency": ["All agencies" if b == "all" else code_label(g)
                                    for b, g in zip(dupes["by"], dupes["group"])],
                         "pairs waiting for review": words}, index=dupes.index)


def _total_words(counts: pd.Series, shown: pd.Series, limit: int | None) -> str:
    """The sum of `counts` for a metric; in safe mode (`shown`: the counts as drawn) "<5" when
    small, and "more than N" (the sum of the parts shown) when a part is hidden, so the total
    never gives a hidden part back."""
    total = int(counts.sum())
    if limit is None:
        return f"{total:,}"
    if privacy.is_small(total, limit):
        return f"<{limit}"
    hidden = shown.map(lambda text: data_safe.is_hidden(str(text), limit))
    if not hidden.any():
        return f"{total:,}"
    rest = int(counts[~hidden].sum())
    return f"more than {rest:,}" if rest else data_safe.SECONDARY


def view_completeness(completeness: pd.DataFrame, table: str, by: str, group: str, limit: int | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Completeness of one table and view, least filled first (column, percent_filled, filled,
    missing): exact, and as shown (in safe mode, data_safe.completeness over all of the table's
    views, so no view gives back what another hides)."""
    part = completeness[completeness["table"] == table]
    part = part.assign(missing=part["rows"] - part["filled"])
    shown = part if limit is None else data_safe.completeness(part, limit)
    mine = part[(part["by"] == by) & (part["group"] == group)]
    order = mine.sort_values(["percent_filled", "column"], kind="stable", na_position="first").index
    columns = ["column", "percent_filled", "filled", "missing"]
    return part.loc[order, columns].reset_index(drop=True), shown.loc[order, columns].reset_index(drop=True)


def view_violations(violations: pd.DataFrame, table: str, by: str, group: str, limit: int | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rule violations of one table and view (column, rule, rows): exact, and as shown (in
    safe mode, data_safe.violations over all of the table's views)."""
    part = violations[violations["table"] == table]
    shown = part if limit is None else data_safe.violations(part, limit)
    mine = (part["by"] == by) & (part["group"] == group)
    columns = ["column", "rule", "rows"]
    return part.loc[mine, columns].reset_index(drop=True), shown.loc[mine, columns].reset_index(drop=True)


def impact_table(impact: pd.DataFrame, table: str) -> pd.DataFrame:
    """Each incomplete column of `table` with the indicators that read it, one row per column
    and indicator, its uses joined ('date, filter')."""
    part = impact[impact["table"] == table]
    if part.empty:
        return pd.DataFrame(columns=["column", "percent_filled", "missing", "indicator", "used as"])
    grouped = part.groupby(["column", "percent_filled", "missing", "indicator", "name"], sort=False, dropna=False)
    out = grouped["use"].agg(lambda uses: ", ".join(dict.fromkeys(uses))).reset_index()
    out["indicator"] = out["name"] + " (" + out["indicator"] + ")"
    return out.rename(columns={"use": "used as"})[["column", "percent_filled", "missing", "indicator", "used as"]]


def count_column(label: str | None, text: bool):
    """A column of counts, with thousands separated ("320,993"). Counts as text (safe mode's
    "<5" and "hidden", or "at least 10,000") are aligned right like numbers."""
    if text:
        return st.column_config.TextColumn(label, alignment="right")
    return st.column_config.NumberColumn(label, format="localized")


def completeness_columns(safe: bool) -> dict:
    """How the completeness table's columns are drawn."""
    return {"percent_filled": st.column_config.ProgressColumn("% filled", format="%.0f%%", min_value=0, max_value=100,
                                                              width="large"),
            "filled": count_column("rows filled", safe), "missing": count_column("rows missing", safe)}


def impact_columns(safe: bool) -> dict:
    """How the indicators-affected table's columns are drawn."""
    return {"percent_filled": st.column_config.NumberColumn("% filled", format="%.0f%%"),
            "missing": count_column(None, safe)}


# ----------------------------------------------------------------------------- audit log


def audit_log(db_path: Path, limit: int | None = None) -> pd.DataFrame:
    """The audit log, newest first; in safe mode (`limit`) with small counts hidden and duplicate
    decisions not naming their records (data_safe.audit_rows)."""
    log = audit.entries(db_path).iloc[::-1].reset_index(drop=True)
    return log if limit is None or log.empty else data_safe.audit_rows(log, limit)


def audit_columns(safe: bool) -> dict:
    """How the audit log's columns are drawn (in safe mode its counts are text: "<5")."""
    return {"message": st.column_config.TextColumn(width="large"), "rows_added": count_column("rows added", safe),
            "rows_replaced": count_column("rows replaced", safe)}
