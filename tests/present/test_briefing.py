"""The briefing pack's slides, checked against the command line's own numbers: every figure
on a slide equals what `evaluate --suppress` gives for the same year, no count from 1 to 4
appears anywhere, and `report` fails cleanly (a clear line, no file) on a wrong year,
dialogue, settings file or path. The HTML pack is parsed: it refers to nothing outside it."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import plotly.offline
import pytest

from conftest import INDICATORS
from helpers import ROOT, run_cli
from cpc_monitor.present import branding, briefing, export_html
from cpc_monitor.present.formatting import format_status, format_value

SETTINGS = ROOT / "briefing.yaml"
ORDER = ["title", "messages", "scorecard", "pillar-prosecution", "pillar-protection", "pillar-prevention",
         "pillar-partnership", "dialogue", "funding", "map", "acceleration", "method"]
INDICATOR_TABLES = ("pillar-", "acceleration")  # slides whose rows are indicators: Indicator, Latest, ...


def _pack(db: Path, year: int | None = None, dialogue: str | None = None) -> briefing.Pack:
    return briefing.load_pack(db, INDICATORS, branding.load_branding(SETTINGS), year, dialogue)


@pytest.fixture(scope="module")
def pack(sample_db: Path) -> briefing.Pack:
    return _pack(sample_db)


@pytest.fixture(scope="module")
def pack_2022(sample_db: Path) -> briefing.Pack:
    return _pack(sample_db, 2022, "first")


def _evaluated(db: Path, *options: str) -> dict[str, dict]:
    done = run_cli("evaluate", "--db", str(db), "--indicators", str(INDICATORS), "--format", "json", "--suppress",
                   *options)
    assert done.returncode == 0, done.stderr
    return {row["id"]: row for row in json.loads(done.stdout)["indicators"]}


def _latest(row: dict) -> dict | None:
    """The latest year evaluate shows a value for (or hides one)."""
    shown = [v for v in row["values"] if v["value"] is not None or v.get("suppressed")]
    return shown[-1] if shown else None


def _as_shown(row: dict, value: dict | None) -> str:
    """How a slide must write evaluate's value: hidden counts '<5', hidden shares 'hidden (<5)'."""
    if value is None:
        return "–"
    if value.get("suppressed"):
        return f"<{row['min_cell']}" if row["unit"] == "count" else f"hidden (<{row['min_cell']})"
    return format_value(value["value"], row["unit"])


def _check_numbers(pack: briefing.Pack, rows: dict[str, dict]) -> int:
    """Every indicator row of every slide against evaluate --suppress; returns the cells checked."""
    latest_years = [_latest(r)["year"] for r in rows.values() if r["status"] != "error" and _latest(r)]
    common = max(latest_years)
    checked = 0
    for slide in pack.slides:
        if slide.table is None or not slide.key.startswith(INDICATOR_TABLES):
            continue
        for cells, indicator_id in zip(slide.table.rows, slide.table.ids, strict=True):
            row = rows[indicator_id]
            latest = _latest(row)
            expected = _as_shown(row, latest) + ("" if latest is None or latest["year"] == common
                                                 else f" ({latest['year']})")
            assert cells[1] == expected, (slide.key, indicator_id, cells, latest)
            checked += 1
            status = row["verdict"]["status"] if row.get("verdict") else row["status"]
            assert format_status(status) in " ".join(cells), (slide.key, indicator_id, cells, status)
            if slide.key.startswith("pillar-"):
                target = row["assessment"]["target"]
                assert cells[2] == ("–" if target is None else format_value(target, row["unit"])), (indicator_id, cells)
                checked += 1
    return checked


def test_the_slides_come_in_the_agreed_order_with_the_method_last(pack):
    assert [s.key for s in pack.slides] == ORDER
    assert len(pack.slides[1].bullets) == 3
    for slide in pack.slides:
        assert slide.title and slide.message and slide.notes, slide.key
        assert "Data to 31 Dec 2025" in slide.footer and "Source: CPC Monitor database" in slide.footer
        assert briefing.SAMPLE_NOTICE in slide.footer  # the sample database says it is synthetic
    assert [s.key for s in pack.slides if s.figure is not None] == ["scorecard", "funding", "map"]


def test_every_number_on_a_slide_is_what_evaluate_suppress_gives(pack, sample_db):
    assert _check_numbers(pack, _evaluated(sample_db)) > 30


def test_a_chosen_year_matches_evaluate_for_that_year(pack_2022, sample_db):
    rows = _evaluated(sample_db, "--year", "2022")
    assert _check_numbers(pack_2022, rows) > 30
    assert pack_2022.year == 2022 and all("Data to 31 Dec 2022" in s.footer for s in pack_2022.slides)
    assert "Where we stand in 2022" in pack_2022.slides[0].bullets
    # A later year's values do not leak in: no row is newer than 2022.
    assert all(v["year"] <= 2022 for r in rows.values() for v in r["values"])


def test_the_dialogue_slide_holds_each_agreed_target_against_evaluate(pack, pack_2022, sample_db):
    for chosen, options in ((pack, ()), (pack_2022, ("--year", "2022"))):
        rows = _evaluated(sample_db, *options)
        slide = next(s for s in chosen.slides if s.key == "dialogue")
        agreed = chosen.dialogue.targets
        assert slide.title.endswith(chosen.dialogue.name)
        assert slide.table.ids and set(slide.table.ids) <= set(agreed)
        for cells, indicator_id in zip(slide.table.rows, slide.table.ids):
            year = int(cells[1])
            value = next((v for v in rows[indicator_id]["values"] if v["year"] == year), None)
            assert cells[2] == format_value(agreed[indicator_id].value, rows[indicator_id]["unit"])
            assert cells[3] == _as_shown(rows[indicator_id], value), (indicator_id, cells, value)
    assert pack.dialogue.id == "final" and pack_2022.dialogue.id == "first"


def _counts_1_to_4(text: str) -> list[str]:
    return re.findall(r"(?<![\d.,$<])[1-4](?![\d.,%])", text)


# The columns of each slide that hold measured values (the others: names, years, targets the
# file states, statuses). A target agreed or stated is a commitment, not a count of children.
MEASURED = {"pillar-": 1, "acceleration": 1, "dialogue": 3}


def test_no_count_from_1_to_4_anywhere(pack, pack_2022, sample_db):
    units = {r.id: r.unit for r in _indicators()}
    for chosen in (pack, pack_2022):
        for slide in chosen.slides:
            column = next((c for key, c in MEASURED.items() if slide.key.startswith(key)), None)
            if slide.table is None or column is None:
                continue
            for cells, indicator_id in zip(slide.table.rows, slide.table.ids, strict=True):
                if units[indicator_id] == "count":
                    assert not _counts_1_to_4(cells[column].split(" (")[0]), (slide.key, indicator_id, cells)
                assert not re.search(r"(?<![<\d])[1-4] cases?\b", " ".join(cells)), cells  # the evidence
            for note in slide.notes.split(". "):
                name_and_value = re.match(r"^(.*?): (\S+) in \d{4}", note)
                if name_and_value and name_and_value.group(2)[:1].isdigit():
                    assert name_and_value.group(2) not in ("1", "2", "3", "4"), (slide.key, note)
        sessions = next(s for s in chosen.slides if s.key == "map").figure
        for annotation in sessions.layout.annotations:
            assert not re.search(r"<b>[1-4]</b>", annotation.text or ""), annotation.text


def _indicators():
    from cpc_monitor.definitions.indicators import load_indicators

    return load_indicators(INDICATORS).indicators


def test_notes_state_each_slide_numbers_in_words(pack):
    for slide in pack.slides:
        if slide.table is not None and slide.key.startswith("pillar-"):
            for cells in slide.table.rows:
                latest = cells[1].split(" (")[0]
                assert latest in slide.notes, (slide.key, cells)
    scorecard = next(s for s in pack.slides if s.key == "scorecard")
    for pillar, status, score, on_track, _ in scorecard.table.rows:
        assert f"{pillar}: {status.split(' ', 1)[1].lower()}, {score}; {on_track} outcome" in scorecard.notes, pillar


def test_key_messages_come_from_the_verdicts(pack):
    first, second, third = pack.slides[1].bullets
    assert re.match(r"^\d+ of 25 indicators are on track or have met their target, 5 years before 2030", first)
    assert "Strongest pillar: Protection" in second and "weakest: Prosecution" in second
    assert third.startswith("Needs acceleration: ")


# ----------------------------------------------------------------------------- the HTML pack


class _References(HTMLParser):
    """Every attribute, style text and script of a page, to look for references out of it."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self.sections = 0
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.sections += tag == "section"
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        {"style": self.styles, "script": self.scripts}.get(self._in, self.text).append(data)


def test_the_html_pack_refers_to_nothing_outside_itself(pack):
    page = export_html.document(pack)
    found = _References()
    found.feed(page)
    assert found.sections == len(pack.slides)
    for tag, name, value in found.attributes:
        assert not re.search(r"https?:|//", value.split(",")[0] if value.startswith("data:") else value), \
            (tag, name, value[:80])
        assert not (tag == "script" and name == "src"), "a script is loaded from a file"
        assert not (tag == "link" and name == "href" and value != "data:,"), (tag, value)
    for style in found.styles:
        assert "@import" not in style and not re.search(r"url\(\s*['\"]?(https?:|//)", style)
        assert "@font-face" not in style  # fonts are the machine's own
    bundle = plotly.offline.get_plotlyjs()
    ours = [s for s in found.scripts if s.strip() != bundle.strip()]
    assert len(ours) < len(found.scripts), "plotly.js is inline"
    for text in ours + found.text:
        assert not re.search(r"https?://", text), text[:200]
    assert "\"displaylogo\": false" in page.replace("\\", "")


def test_text_from_the_indicator_file_is_escaped(pack):
    slide = pack.slides[0]
    tricky = briefing.Slide("title", "<script>alert(1)</script>", "a & b", ["<img src=x>"], footer=slide.footer)
    page = export_html.slide_html(tricky, pack, 1)
    assert "<script>" not in page and "<img src=x>" not in page and "&lt;script&gt;" in page


# ----------------------------------------------------------------------------- the command line


def test_report_writes_the_html_pack(sample_db, tmp_path):
    out = tmp_path / "pack.html"
    done = run_cli("report", "--db", str(sample_db), "--format", "html", "--out", str(out), "--year", "2024")
    assert done.returncode == 0, done.stderr
    assert "12 slides" in done.stdout and out.read_text(encoding="utf-8").count("<section") == 12
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left beside it


@pytest.mark.parametrize("options, message", [
    (("--year", "2040"), "there are no data for 2040: the database covers 2015 to 2025"),
    (("--dialogue", "fianl"), "there is no dialogue 'fianl' in indicators.yaml. Did you mean 'final'?"),
])
def test_report_refuses_an_unknown_year_or_dialogue_and_keeps_the_old_file(sample_db, tmp_path, options, message):
    out = tmp_path / "pack.html"
    out.write_text("the last good pack")
    done = run_cli("report", "--db", str(sample_db), "--format", "html", "--out", str(out), *options)
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert out.read_text() == "the last good pack" and len(list(tmp_path.iterdir())) == 1


def test_report_refuses_a_path_it_cannot_write(sample_db, tmp_path):
    done = run_cli("report", "--db", str(sample_db), "--format", "html", "--out", str(tmp_path / "no" / "pack.html"))
    assert done.returncode == 1 and "the folder" in done.stderr and "does not exist" in done.stderr, done.stderr
    done = run_cli("report", "--db", str(sample_db), "--format", "html", "--out", str(tmp_path))
    assert done.returncode == 1 and "is a folder" in done.stderr


def test_evaluate_year_counts_only_the_years_up_to_it(sample_db):
    rows = _evaluated(sample_db, "--year", "2020")
    assert max(v["year"] for r in rows.values() for v in r["values"]) == 2020
    done = run_cli("evaluate", "--db", str(sample_db), "--year", "1990")
    assert done.returncode == 1 and "there are no data for 1990" in done.stderr


# ----------------------------------------------------------------------------- branding


@pytest.mark.parametrize("text, message", [
    ("title: A pack\n  partnership: x\n", "line 2: this is not valid YAML"),
    ("title: A pack\ncolour: red\n", "line 2: unknown key 'colour'"),
    ("title: A pack\nlogo: missing.png\n", "line 2: the logo 'missing.png' does not exist"),
    ("title: A pack\nlogo: notes.txt\n", "line 2: the logo 'notes.txt' must be a PNG or JPEG"),
    ("partnership:\n", "line 1: `partnership` must be text"),
    ("- a list\n", "line 1: the file must be a list of `key: value` lines"),
])
def test_a_broken_settings_file_says_what_where_and_how(tmp_path, text, message):
    settings = tmp_path / "briefing.yaml"
    settings.write_text(text)
    with pytest.raises(branding.BriefingSettingsError) as caught:
        branding.load_branding(settings)
    assert message in str(caught.value) and str(settings) in str(caught.value)


def test_another_country_brands_its_own_pack(sample_db, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes((ROOT / "data" / "brand" / "cpc-logo.png").read_bytes())
    settings = tmp_path / "brand.yaml"
    settings.write_text("title: Briefing for the Ghana CPC dialogue\npartnership: US–Ghana Child Protection Compact\n"
                        "logo: logo.png\nsource: Ghana Police Service records\n")
    chosen = branding.load_branding(settings)
    assert chosen.logo == logo.resolve()
    pack = briefing.load_pack(sample_db, INDICATORS, chosen)
    assert pack.slides[0].title == "Briefing for the Ghana CPC dialogue"
    assert "US–Ghana Child Protection Compact" in pack.slides[0].bullets
    assert all("Source: Ghana Police Service records" in s.footer for s in pack.slides)
    done = run_cli("report", "--db", str(sample_db), "--format", "html", "--out", str(tmp_path / "p.html"),
                   "--settings", str(tmp_path / "nothing.yaml"))
    assert done.returncode == 1 and "the briefing settings file does not exist" in done.stderr


def test_the_default_dialogue_is_the_last_with_a_target_due():
    from cpc_monitor.definitions.indicators import load_indicators

    iset = load_indicators(INDICATORS)
    assert briefing.choose_dialogue(iset, None, 2025).id == "final"
    assert briefing.choose_dialogue(iset, None, 2022).id == "first"  # the third's targets fall due in 2023
    assert briefing.choose_dialogue(iset, None, 2019) is None  # none held yet: the pack has no dialogue slide
    assert briefing.choose_dialogue(iset, "third", 2019).id == "third"


def test_a_pack_before_any_dialogue_has_no_dialogue_slide(sample_db):
    pack = _pack(sample_db, 2019)
    assert pack.dialogue is None and "dialogue" not in [s.key for s in pack.slides]
    assert [s.key for s in pack.slides][-1] == "method"


def test_a_write_cut_short_leaves_the_old_file_and_no_part(tmp_path, monkeypatch):
    import os as os_module

    from cpc_monitor.present import export

    out = tmp_path / "briefing.html"
    out.write_text("the last good pack")

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os_module, "fsync", full_disk)
    with pytest.raises(export.ExportFailed) as caught:
        export.write_atomically(out, lambda: b"<html>new</html>")
    assert "No space left on device" in str(caught.value) and "Nothing was written" in str(caught.value)
    assert out.read_text() == "the last good pack" and [p.name for p in tmp_path.iterdir()] == [out.name]
