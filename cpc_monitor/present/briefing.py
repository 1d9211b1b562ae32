"""The briefing pack as slides: one model that the Present page draws and the exporters
(PowerPoint, HTML, PDF) write. No Streamlit here.

Every number on a slide comes from the one evaluation (engine.evaluate, with breakdowns, as
`evaluate --suppress` runs it) through privacy, with suppression always on: a pack leaves
the trusted screen. The slides only word and arrange what charts, dialogues and
figure_charts already compute.

Slides, in order: title and goal; three key messages; the 2030 scorecard; one per pillar;
the targets agreed at the dialogue against what was achieved; funding; the child-friendly
spaces map; what needs acceleration; data notes and method (last)."""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from cpc_monitor.definitions.dialogues import Dialogue
from cpc_monitor.definitions.indicators import IndicatorSet, load_indicators
from cpc_monitor.errors import UnknownChoice
from cpc_monitor.evaluation import dialogues, privacy
from cpc_monitor.evaluation.engine import ERROR, Evaluation, IndicatorResult, data_years, evaluate
from cpc_monitor.evaluation.figures import FigureValues, evaluate_kinds
from cpc_monitor.evaluation.measures import Filters
from cpc_monitor.present import charts, dialogue_tables, figure_charts
from cpc_monitor.present.branding import Branding
from cpc_monitor.present.formatting import STATUS_LABELS, format_value

SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720  # px: a projector's 16:9 (look.md)
FIGURE_WIDTH, FIGURE_HEIGHT = 1180, 440  # px: a chart under a slide's title and message
FIGURE_FONT, FIGURE_TITLE_FONT = 18, 22  # px: readable from the back of a room (the screens use 13)
SAMPLE_NOTICE = "SAMPLE DATA: synthetic, not real cases"
SOURCE_TABLES = "cases, victims, prosecutions, child-friendly-space sessions, trainings, funding"
OFF_COURSE = ("acceleration_needed", "limited_progress", "deterioration")


@dataclass(frozen=True)
class SlideTable:
    """A table as people read it: headings and rows of text; `ids` names the indicator of
    each row where there is one (the tests check those rows against `evaluate --suppress`)."""

    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    ids: tuple[str, ...] = ()


@dataclass
class Slide:
    """One slide: a title, one key message, then bullets, a table or a chart; speaker notes that
    state the slide's numbers in words; a footer with the data's as-of date and source."""

    key: str
    title: str
    message: str
    bullets: list[str] = field(default_factory=list)
    table: SlideTable | None = None
    figure: go.Figure | None = None
    notes: str = ""
    footer: str = ""


@dataclass
class Pack:
    """The slides and what they were made from."""

    slides: list[Slide]
    branding: Branding
    year: int | None
    dialogue: Dialogue | None
    as_of: date | None
    synthetic: bool

    @property
    def file_stem(self) -> str:
        """'cpc-briefing-2025' (with the dialogue's id when one was chosen)."""
        return "cpc-briefing" + (f"-{self.year}" if self.year else "") + (f"-{self.dialogue.id}" if self.dialogue else "")


# ----------------------------------------------------------------------------- choosing


def choose_year(year: int | None, span: tuple[int, int] | None) -> int | None:
    """`year` checked against the years the data cover (UnknownChoice when outside)."""
    if year is None:
        return None
    if span is None:
        raise UnknownChoice(f"the database holds no events, so there is no year {year} to brief on; import data first.")
    first, last = span
    if not first <= year <= last:
        raise UnknownChoice(f"there are no data for {year}: the database covers {first} to {last}. "
                            f"Choose a year in that range (--year {last}), or leave --year out for the latest.")
    return year


def choose_dialogue(iset: IndicatorSet, dialogue_id: str | None, year: int | None) -> Dialogue | None:
    """The dialogue named (UnknownChoice, with the nearest id, when there is none), else the
    last one the file records with a target due by `year` (so that there is something to
    review), else the last one held by `year`."""
    if dialogue_id is not None:
        chosen = iset.dialogue(dialogue_id)
        if chosen is None:
            known = [d.id for d in iset.dialogues]
            close = difflib.get_close_matches(dialogue_id, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            listed = ", ".join(known) if known else "none (add them under `dialogues:`)"
            raise UnknownChoice(f"there is no dialogue '{dialogue_id}' in {iset.file}.{hint} The dialogues are: {listed}.")
        return chosen
    held = [d for d in iset.dialogues if year is None or d.year <= year]
    due = [d for d in held if year is None or any(d.target_year(t) <= year for t in d.targets.values())]
    return (due or held or [None])[-1]


def load_pack(db_path: str | Path, indicators_path: str | Path, branding: Branding,
              year: int | None = None, dialogue_id: str | None = None) -> Pack:
    """Evaluate the database for the pack (as `evaluate --suppress [--year Y]` does) and build it."""
    iset = load_indicators(indicators_path)
    span = data_years(db_path)
    year = choose_year(year, span)
    chosen = choose_dialogue(iset, dialogue_id, year or (span[1] if span else None))
    filters = Filters(year_to=year)
    ev = evaluate(db_path, iset, filters=filters)
    figures = [privacy.suppress_figure(values, True)
               for values in evaluate_kinds(db_path, iset, ("pace", "parish_map"), filters)]
    return build_pack(ev, iset, figures, branding, year, chosen)


# ----------------------------------------------------------------------------- the slides


def build_pack(ev: Evaluation, iset: IndicatorSet, figures: list[FigureValues], branding: Branding,
               year: int | None, dialogue: Dialogue | None) -> Pack:
    """The slides of a pack. `ev`: the evaluation under the pack's filters; `figures`: its
    declared figures through privacy.suppress_figure(..., True)."""
    if year is not None and ev.as_of is not None and ev.as_of > date(year, 12, 31):
        ev = dataclasses.replace(ev, as_of=date(year, 12, 31))  # a pack for 2022 counts the data to its end
    values = {r.id: privacy.result_values(r, True) for r in ev.results}
    table = charts.scorecard(ev, True, values)
    shown_year = year or table.attrs["latest_year"]
    footer = _footer(ev, branding, iset.defaults.min_cell)
    slides = [_title_slide(ev, iset, branding, shown_year, dialogue),
              _key_messages(ev, table, shown_year),
              _scorecard_slide(ev, table, shown_year)]
    slides += [_pillar_slide(ev, pillar, table) for pillar in charts.PILLAR_NAMES if ev.members(pillar)]
    if dialogue is not None:
        slides.append(_dialogue_slide(ev, iset, dialogue, values, shown_year))
    pace = next((f for f in figures if f.figure.kind == "pace"), None)
    slides.append(_funding_slide(ev, pace, iset))
    spaces = next((f for f in figures if f.figure.kind == "parish_map"), None)
    if spaces is not None:
        slides.append(_map_slide(spaces, iset))
    slides.append(_acceleration_slide(ev, table, values, iset.defaults.min_cell))
    slides.append(_method_slide(ev, iset, branding, year))
    for slide in slides:
        slide.footer = footer
    return Pack(slides, branding, shown_year, dialogue, ev.as_of, ev.synthetic)


def _footer(ev: Evaluation, branding: Branding, min_cell: int) -> str:
    as_of = f"Data to {_day(ev.as_of)}" if ev.as_of else "No event data yet"
    parts = [as_of, f"Source: {branding.source}", f"Counts below {min_cell} hidden"]
    if ev.synthetic:
        parts.append(SAMPLE_NOTICE)
    return " · ".join(parts)


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _plain(status_words: str) -> str:
    """Status words without their shape, for sentences: '● On track' -> 'on track'."""
    for shape, words in STATUS_LABELS.values():
        if status_words.startswith(shape + " "):
            status_words = status_words[len(shape) + 1:]
    return status_words[:1].lower() + status_words[1:]


def _title_slide(ev: Evaluation, iset: IndicatorSet, branding: Branding, year: int | None,
                 dialogue: Dialogue | None) -> Slide:
    goal = iset.goal
    message = f"Goal for {goal.year}: {goal.statement}" if goal.statement else f"Progress toward {goal.year}"
    bullets = [branding.partnership, f"Where we stand in {year}" if year else "Where we stand"]
    if dialogue is not None:
        bullets.append(f"With the targets agreed at the {dialogue.name} ({dialogue.when})")
    if ev.synthetic:
        bullets.append(SAMPLE_NOTICE)
    notes = (f"This briefing shows where the partnership stands in {year} against its {goal.year} goal"
             + (f": {goal.statement}" if goal.statement else "") + ". "
             + (f"The data run to {_day(ev.as_of)}. " if ev.as_of else "")
             + f"It covers {len(ev.results)} indicators over four pillars. Counts below "
             f"{iset.defaults.min_cell} are hidden throughout."
             + (" The figures are synthetic sample data, not real cases." if ev.synthetic else ""))
    return Slide("title", branding.title, message, bullets, notes=notes)


def key_messages(ev: Evaluation, table: pd.DataFrame, year: int | None) -> list[str]:
    """Three lines from the verdicts: where the indicators stand, the pillars, what needs acceleration."""
    counts = charts.status_counts(ev.results)
    on_track = counts[charts.STATUS_GROUPS[0][0]]
    too_few = sum(charts.shown_status(r) == "too_few_cases" for r in ev.results)
    left = f", {ev.goal_year - year} years before {ev.goal_year}" if year else ""
    first = f"{on_track} of {len(ev.results)} indicators are on track or have met their target{left}"
    first += f"; {too_few} rest on too few cases to judge." if too_few else "."
    scored = {p: r for p, r in ev.pillars().items() if r.score is not None}
    if scored:
        best = max(scored, key=lambda p: scored[p].score)
        worst = min(scored, key=lambda p: scored[p].score)
        second = (f"Strongest pillar: {charts.PILLAR_NAMES[best]} ({_plain(charts.pillar_status(scored[best].status))}, "
                  f"{charts.score_text(scored[best].score)})")
        second += ("." if best == worst else f"; weakest: {charts.PILLAR_NAMES[worst]} "
                   f"({_plain(charts.pillar_status(scored[worst].status))}, {charts.score_text(scored[worst].score)}).")
        unscored = [charts.PILLAR_NAMES[p] for p in ev.pillars() if p not in scored]
        if unscored:
            second += f" Not scored yet: {', '.join(unscored)}."
    else:
        second = "No pillar has enough evidence to be scored yet."
    slow = table[table["code"].isin(OFF_COURSE)]
    missed = table[table["missed"] & ~table["code"].isin(OFF_COURSE)]
    if slow.empty and missed.empty:
        third = "No indicator is off track or behind a milestone."
    else:
        names = ", ".join(slow["Indicator"].head(2)) if not slow.empty else ", ".join(missed["Indicator"].head(2))
        third = (f"Needs acceleration: {len(slow)} off track or slowing, {len(missed)} more behind a milestone "
                 f"(first: {names}).")
    return [first, second, third]


def _key_messages(ev: Evaluation, table: pd.DataFrame, year: int | None) -> Slide:
    lines = key_messages(ev, table, year)
    return Slide("messages", "Key messages", lines[0], lines,
                 notes="The three key messages, from the indicators' verdicts. " + " ".join(lines))


def _scorecard_slide(ev: Evaluation, table: pd.DataFrame, year: int | None) -> Slide:
    pillars = ev.pillars()
    rows, notes = [], []
    for pillar, rollup in pillars.items():
        members = ev.members(pillar)
        outcomes = [r for r in members if r.kind == "outcome"]
        on_track = charts.status_counts(outcomes)[charts.STATUS_GROUPS[0][0]]
        status = charts.pillar_status(rollup.status)
        score = charts.score_text(rollup.score)
        rows.append((charts.PILLAR_NAMES[pillar], status, score, f"{on_track} of {len(outcomes)}",
                     str(len(members) - len(outcomes))))
        notes.append(f"{charts.PILLAR_NAMES[pillar]}: {_plain(status)}, {score}; {on_track} of {len(outcomes)} "
                     f"outcome indicators on track or achieved.")
    figure, message = slide_figure(charts.distance_chart(ev, year), height=240)
    counts = charts.status_counts(ev.results)
    notes.append("Across all indicators: " + "; ".join(f"{_plain(name)} {n}" for name, n in counts.items()) + ".")
    return Slide("scorecard", f"The {ev.goal_year} scorecard", message,
                 table=SlideTable(("Pillar", "Status", "Score (−5 to +5)", "Outcomes on track", "Inputs"),
                                  tuple(rows)),
                 figure=figure, notes=" ".join(notes))


def evidence_short(result: IndicatorResult) -> str:
    """Why a status reads 'too few cases to judge', in a few words ('' for any other status):
    '9 cases (10 needed)', '<5 cases (10 needed)', or that the latest value's 95% interval
    spans on and off track."""
    v = result.verdict
    if v is None or v.code != "too_few_cases":
        return ""
    if v.cases is None or v.minimum is None or v.cases >= v.minimum:
        return "its 95% interval spans on and off track"
    limit = privacy.min_cell_of(result)
    count = f"<{limit}" if privacy.is_small(v.cases, limit) else f"{v.cases:,.0f}"
    return f"{count} case{'' if count == '1' else 's'} ({v.minimum} needed)"


def _pillar_slide(ev: Evaluation, pillar: str, table: pd.DataFrame) -> Slide:
    rollup = ev.pillars()[pillar]
    part = table[table["pillar"] == pillar]
    name = charts.PILLAR_NAMES[pillar]
    latest_year = table.attrs["latest_year"]
    rows, ids, notes = [], [], []
    for row in part.itertuples():
        result = ev.result(row.id)
        evidence = evidence_short(result)
        label = row.Indicator + (" (input)" if row.Kind == "input" else "")
        rows.append((label, row.Latest, row.Target, row.Status + (f" — {evidence}" if evidence else "")))
        ids.append(row.id)
        notes.append(_row_words(result, row, latest_year, ev.goal_year, charts.evidence_words(result, True)))
    message = f"{name}: {_plain(charts.pillar_status(rollup.status))}, {charts.score_text(rollup.score)}"
    outcomes = part[part["Kind"] == "outcome"]
    on_track = int(outcomes["code"].isin(("on_track", "target_achieved")).sum())
    message += f" · {on_track} of {len(outcomes)} outcomes on track" if len(outcomes) else " · inputs only, not scored"
    headings = ("Indicator", f"Latest ({latest_year})" if latest_year else "Latest", f"{ev.goal_year} target",
                "Status and evidence")
    return Slide(f"pillar-{pillar}", name, message, table=SlideTable(headings, tuple(rows), tuple(ids)),
                 notes=" ".join(notes))


def _row_words(result: IndicatorResult, row, latest_year: int | None, goal_year: int, evidence: str) -> str:
    """One scorecard row in a sentence: 'Child victims identified: 9 in 2025, target 25; too few cases ...'."""
    latest = row.Latest
    when = "" if "(" in latest or latest == "–" or latest_year is None else f" in {latest_year}"
    target = "" if row.Target == "–" else f"; the {goal_year} target is {row.Target}"
    text = f"{result.name}: {latest}{when}{target}; {_plain(row.Status)}"
    return text + (f" ({evidence})." if evidence else ".")


def _dialogue_slide(ev: Evaluation, iset: IndicatorSet, dialogue: Dialogue, values: dict[str, pd.DataFrame],
                    year: int | None) -> Slide:
    limit = iset.defaults.min_cell
    review = dialogues.review(dialogue, ev, values)
    if year is not None:  # a target for a year after the pack's year is not yet due
        review = review[review["year"] <= year]
    shown = dialogue_tables.review_table(review, limit)
    rows = tuple(tuple(str(r[c]) for c in ("Indicator", "Year", "Agreed target", "Achieved", "Outcome"))
                 for _, r in shown.iterrows())
    table = SlideTable(("Indicator", "Year", "Agreed", "Achieved", "Outcome"), rows, tuple(review["id"])) if rows else None
    summary = dialogue_tables.review_summary(review) if not review.empty else "No agreed target is due yet"
    notes = [f"At the {dialogue.name} ({dialogue.when}) the partnership agreed {len(review)} yearly targets "
             f"due by {year}: {summary}."]
    notes += [f"{r['Indicator']}: agreed {r['Agreed target']} for {r['Year']}, achieved {r['Achieved']}, "
              f"{r['Outcome'].split(' ', 1)[1].lower()}." for _, r in shown.iterrows()]
    bullets = since_dialogue(ev, iset, dialogue, values, year)
    notes += bullets
    return Slide("dialogue", f"Targets agreed at the {dialogue.name}", summary, bullets, table=table,
                 notes=" ".join(notes))


def since_dialogue(ev: Evaluation, iset: IndicatorSet, dialogue: Dialogue, values: dict[str, pd.DataFrame],
                   year: int | None) -> list[str]:
    """What moved since the dialogue: each headline figure in the dialogue's year and now."""
    if year is None or year <= dialogue.year:
        return []
    out = []
    for headline in iset.headlines:
        result = ev.result(headline.ref)
        if result is None or result.status == ERROR:
            continue
        limit = privacy.min_cell_of(result)
        before = dialogues.achieved(values.get(result.id), dialogue.year)
        now = dialogues.achieved(values.get(result.id), year)
        words = [format_value(a.value, result.unit, suppressed=a.hidden, min_cell=limit) for a in (before, now)]
        out.append(f"Since {dialogue.year}: {headline.label or result.name} {words[0]} → {words[1]} in {year}")
    return out


def _funding_slide(ev: Evaluation, pace: FigureValues | None, iset: IndicatorSet) -> Slide:
    """The money against its envelope (the file's `pace` figure); without one, the partnership's
    money indicators as the scorecard states them."""
    if pace is None:
        money = [r for r in ev.members("partnership") if r.status != ERROR]
        table = charts.scorecard(Evaluation(money, [], ev.info, ev.as_of, ev.goal_year), True,
                                 {r.id: privacy.result_values(r, True) for r in money})
        bullets = [f"{row.Indicator}: {row.Latest} (target {row.Target}), {_plain(row.Status)}"
                   for row in table.itertuples()]
        return Slide("funding", "Funding", "Funding against its targets", bullets,
                     notes="Funding. " + " ".join(b + "." for b in bullets))
    figure, message = slide_figure(figure_charts.draw(pace, iset.labels), height=430, width=800)
    bullets = [f"{label}: {value}" + (f" ({note})" if note else "")
               for label, value, note, _ in figure_charts.pace_tiles(pace) if label]
    return Slide("funding", "Funding", message or pace.figure.title, bullets, figure=figure,
                 notes=f"Funding. {message}. " + " ".join(b + "." for b in bullets))


def _map_slide(spaces: FigureValues, iset: IndicatorSet) -> Slide:
    figure, title = slide_figure(figure_charts.draw(spaces, iset.labels), height=440)
    info = spaces.series[0] if spaces.series else None
    rows = spaces.of(info.ref) if info else pd.DataFrame()
    rows = rows[rows["dim"] == "parish"] if not rows.empty else rows
    hidden = int(rows["suppressed"].sum()) if not rows.empty else 0
    shown = rows[~rows["suppressed"]] if not rows.empty else rows
    words = "; ".join(f"{p} {format_value(v, 'count')}" for p, v in zip(shown["group"], shown["value"])
                      if v == v and v > 0) if not shown.empty else ""
    notes = (f"The map shows {title}. Each diamond marks a child-friendly space. "
             + (f"By parish: {words}. " if words else "")
             + (f"{hidden} parishes have counts below {spaces.min_cell}, hidden." if hidden else ""))
    return Slide("map", "Child-friendly spaces", title, figure=figure, notes=notes)


def _acceleration_slide(ev: Evaluation, table: pd.DataFrame, values: dict[str, pd.DataFrame], min_cell: int) -> Slide:
    wanted = table[table["code"].isin(OFF_COURSE) | table["missed"]]
    proposals = dialogues.proposals(ev, values).set_index("id")
    rows, ids, notes = [], [], []
    for row in wanted.itertuples():
        result = ev.result(row.id)
        step = "–"
        if row.id in proposals.index:
            p = proposals.loc[row.id]
            if p["proposed"] is not None and p["proposed"] == p["proposed"]:
                step = f"{format_value(p['proposed'], result.unit)} in {p['year']}"
        rows.append((row.Indicator, row.Latest, row.Status, step))
        ids.append(row.id)
        notes.append(f"{row.Indicator}: {row.Latest}, {_plain(row.Status)}; to stay on the path to {ev.goal_year} "
                     f"it should reach {step}." if step != "–" else f"{row.Indicator}: {row.Latest}, {_plain(row.Status)}.")
    message = (f"{len(rows)} indicators need acceleration or missed a milestone" if rows
               else "No indicator is off track or behind a milestone")
    return Slide("acceleration", "What needs acceleration", message,
                 table=SlideTable(("Indicator", "Latest", "Status", "Next year should reach"), tuple(rows), tuple(ids))
                 if rows else None,
                 notes=(" ".join(notes) or message + ".")
                 + " Where the status reads too few cases to judge, agree a target over several years.")


def _method_slide(ev: Evaluation, iset: IndicatorSet, branding: Branding, year: int | None) -> Slide:
    d = iset.defaults
    bullets = [
        f"Data: {branding.source}; {SOURCE_TABLES}; "
        + (f"to {_day(ev.as_of)}" if ev.as_of else "no events yet") + (f", years up to {year}" if year else "") + ".",
        f"Status compares the pace since the {d.base_year} baseline with the pace the {d.target_year} target needs "
        "(Open SDG method; a linear one for counts that start or end at zero).",
        f"A status rests on at least {d.min_events} cases; fewer read \u201ctoo few cases to judge\u201d and stay out "
        "of the pillar's score, as does a value whose 95% interval spans on and off track.",
        "Pillar score: the mean of its outcome indicators' scores, from −5 to +5; inputs (money, trainings) are "
        "shown, never scored.",
        f"Privacy: counts from 1 to {d.min_cell - 1} are hidden (\u201c<{d.min_cell}\u201d), with whatever would "
        "give them back.",
    ]
    if ev.synthetic:
        bullets.append("The figures are synthetic sample data, calibrated to public figures: not real cases.")
    broken = [r.name for r in ev.results if r.status == ERROR]
    if broken:
        bullets.append(f"Not shown, needs fixing in the indicator file: {', '.join(broken)}.")
    return Slide("method", "Data notes and method", "How to read these figures", bullets, notes=" ".join(bullets))


# ----------------------------------------------------------------------------- figures on slides


def slide_figure(figure: go.Figure, height: int = FIGURE_HEIGHT, width: int = FIGURE_WIDTH) -> tuple[go.Figure, str]:
    """A chart made big for a projector (larger type, the slide's size), and its title: the
    finding, which the slide states as its key message instead of repeating it on the chart."""
    out = go.Figure(figure)
    title = out.layout.title.text or ""
    margin = out.layout.margin
    out.update_layout(width=width, height=height, font={"size": FIGURE_FONT}, title={"text": ""},
                      legend={"font": {"size": FIGURE_FONT}}, margin={"t": 20, "b": max(margin.b or 0, 20) + 10},
                      hovermode="closest")
    out.update_xaxes(automargin=True)
    out.update_yaxes(automargin=True)
    for annotation in out.layout.annotations or ():
        size = annotation.font.size if annotation.font and annotation.font.size else 13
        annotation.font.size = size + 4
    return out, title
