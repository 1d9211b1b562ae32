"""The PowerPoint and PDF packs as files, opened the way their readers open them: the .pptx
with python-pptx (slides, titles, pictures, notes with the numbers), the PDF with poppler's
pdftoppm (one page per slide, drawn as pictures). Both draw their charts with Debian's
chromium; with CI=true a missing chromium or pdftoppm fails instead of skipping."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from browser_support import ARTIFACTS, skip_without_chromium
from conftest import INDICATORS
from helpers import ROOT, run_cli
from cpc_monitor.present import branding, briefing, export

pytestmark = pytest.mark.timeout(600)
skip_without_chromium()


@pytest.fixture(scope="module")
def pack(sample_db: Path) -> briefing.Pack:
    return briefing.load_pack(sample_db, INDICATORS, branding.load_branding(ROOT / "briefing.yaml"))


@pytest.fixture(scope="module")
def pptx_file(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pack written by the command line, as a presenter makes it."""
    out = tmp_path_factory.mktemp("pptx") / "briefing.pptx"
    done = run_cli("report", "--db", str(sample_db), "--format", "pptx", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def _texts(slide) -> list[str]:
    out = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            out.append(shape.text_frame.text)
        if shape.has_table:
            out += [cell.text for row in shape.table.rows for cell in row.cells]
    return out


def test_the_pptx_has_every_slide_with_its_title_chart_notes_and_footer(pptx_file, pack):
    deck = Presentation(str(pptx_file))
    assert len(deck.slides) == len(pack.slides) == 12
    assert deck.slide_width * 9 == deck.slide_height * 16  # 16:9, as projectors are
    for page, slide in zip(deck.slides, pack.slides):
        shapes = {s.name: s for s in page.shapes}
        assert shapes["Title"].text_frame.text == slide.title
        assert shapes["Message"].text_frame.text == slide.message
        assert "Data to 31 Dec 2025" in shapes["Footer"].text_frame.text
        charts = [s for s in page.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE and s.name == "Chart"]
        assert len(charts) == (slide.figure is not None), slide.key
        logos = [s for s in page.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE and s.name != "Chart"]
        assert len(logos) == 1  # the logo from briefing.yaml
        notes = page.notes_slide.notes_text_frame.text
        assert notes == slide.notes and notes
        if slide.table is not None:
            texts = _texts(page)
            for row in slide.table.rows:
                assert all(cell in texts for cell in row), (slide.key, row)


def test_every_shape_lies_within_its_slide(pptx_file):
    deck = Presentation(str(pptx_file))
    for number, page in enumerate(deck.slides, start=1):
        for shape in page.shapes:
            assert shape.left >= 0 and shape.top >= 0, (number, shape.name)
            assert shape.left + shape.width <= deck.slide_width, (number, shape.name)
            assert shape.top + shape.height <= deck.slide_height, (number, shape.name)


def test_the_pptx_charts_are_real_pictures_of_the_figures(pptx_file):
    deck = Presentation(str(pptx_file))
    pictures = [s for page in deck.slides for s in page.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE
                and s.name == "Chart"]
    assert len(pictures) == 3
    for picture in pictures:
        image = Image.open(io.BytesIO(picture.image.blob)).convert("L")
        assert image.width >= 1600  # drawn at twice the chart's size: sharp on a projector
        lightest, darkest = image.getextrema()[1], image.getextrema()[0]
        assert lightest > 240 and darkest < 80  # a white chart with ink on it, not a blank


def test_the_notes_state_the_latest_numbers(pptx_file, pack):
    deck = Presentation(str(pptx_file))
    prosecution = next(i for i, s in enumerate(pack.slides) if s.key == "pillar-prosecution")
    notes = deck.slides[prosecution].notes_slide.notes_text_frame.text
    first = pack.slides[prosecution].table.rows[0]
    assert f"{first[0]}: {first[1]} in 2025" in notes and f"target is {first[2]}" in notes


@pytest.fixture(scope="module")
def pdf_pages(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is not installed (`apt-get install poppler-utils`)")
        pytest.skip("pdftoppm is not installed (`apt-get install poppler-utils`)")
    folder = tmp_path_factory.mktemp("pdf")
    out = folder / "briefing.pdf"
    done = run_cli("report", "--db", str(sample_db), "--format", "pdf", "--out", str(out), "--year", "2024")
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    subprocess.run(["pdftoppm", "-r", "48", "-png", str(out), str(folder / "page")], check=True, timeout=120)
    return sorted(folder.glob("page-*.png"))


def test_the_pdf_has_one_landscape_page_per_slide(pdf_pages):
    assert len(pdf_pages) == 12
    for page in pdf_pages:
        image = Image.open(page)
        assert image.width * 9 == pytest.approx(image.height * 16, rel=0.01)
        # Every page is a slide with text on it, not a blank or an error page.
        grey = image.convert("L")
        assert grey.getextrema()[0] < 60
    ARTIFACTS.mkdir(exist_ok=True)  # for a person to look at
    for page in pdf_pages:
        shutil.copy(page, ARTIFACTS / f"pdf-{page.name}")


def test_the_pdf_charts_are_drawn(pdf_pages):
    """The scorecard, funding and map pages hold their chart as a picture beside the logo
    (pdfimages lists each page's pictures); the other pages hold the logo alone."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf_pages[0].parent / "briefing.pdf")], capture_output=True,
                             text=True, check=True, timeout=60).stdout.splitlines()[2:]
    per_page: dict[int, list[int]] = {}
    for line in listing:
        cells = line.split()
        if cells[2] == "image":  # not a transparency mask
            per_page.setdefault(int(cells[0]), []).append(int(cells[3]))  # the picture's width in pixels
    charts = {page for page, widths in per_page.items() if max(widths) >= 1600}
    assert charts == {3, 9, 10}, per_page
    assert all(len(widths) == (2 if page in charts else 1) for page, widths in per_page.items()), per_page
    assert set(per_page) == set(range(1, 13))


def test_a_failed_export_leaves_no_file(pack, tmp_path, monkeypatch):
    out = tmp_path / "briefing.pdf"
    out.write_bytes(b"the last good pack")
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "not-a-browser"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium to print with
    with pytest.raises(export.ExportFailed) as caught:
        export.write_atomically(out, lambda: export.pack_bytes(pack, "pdf"))
    assert "Chromium" in str(caught.value) and "apt-get install chromium" in str(caught.value)
    assert out.read_bytes() == b"the last good pack" and [p.name for p in tmp_path.iterdir()] == [out.name]

