"""The briefing pack as PowerPoint (python-pptx): one 16:9 slide per Slide, its chart as a
picture (chart_images, one browser for the pack), its speaker notes, and the data's as-of
date and source in every footer."""
from __future__ import annotations

import io
import math

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from cpc_monitor.present.briefing import Pack, Slide
from cpc_monitor.present.chart_images import figure_pngs

ACCENT, INK, MUTED, RULE = RGBColor(0x00, 0x72, 0xB2), RGBColor(0x1C, 0x27, 0x33), RGBColor(0x5A, 0x66, 0x73), \
    RGBColor(0xD5, 0xDA, 0xE0)
FONT = "Liberation Sans"  # metric-compatible with Arial: the same line breaks wherever it opens
WIDTH, HEIGHT = Emu(12_192_000), Emu(6_858_000)  # 13.33 x 7.5 in: PowerPoint's own 16:9
LEFT, RIGHT_EDGE = Inches(0.5), Inches(12.833)
BODY_TOP, BODY_BOTTOM = Inches(1.95), Inches(6.85)
BLANK_LAYOUT = 6  # the default template's blank layout


def pptx_bytes(pack: Pack) -> bytes:
    """The pack as a .pptx file's bytes."""
    figures = [(i, s.figure) for i, s in enumerate(pack.slides) if s.figure is not None]
    pictures = dict(zip([i for i, _ in figures], figure_pngs([f for _, f in figures])))
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    for number, slide in enumerate(pack.slides, start=1):
        _slide(deck, pack, slide, number, pictures.get(number - 1))
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _text(shapes, left, top, width, height, text: str, size: int, colour=INK, bold: bool = False):
    box = shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    paragraph = frame.paragraphs[0]
    _run(paragraph, text, size, colour, bold)
    return box


def _run(paragraph, text: str, size: int, colour=INK, bold: bool = False) -> None:
    run = paragraph.add_run()
    run.text = text
    run.font.size, run.font.bold, run.font.name = Pt(size), bold, FONT
    run.font.color.rgb = colour


def _slide(deck, pack: Pack, slide: Slide, number: int, picture: bytes | None) -> None:
    page = deck.slides.add_slide(deck.slide_layouts[BLANK_LAYOUT])
    shapes = page.shapes
    title_slide = slide.key == "title"
    top = Inches(1.6) if title_slide else Inches(0.35)
    title = _text(shapes, LEFT, top, Inches(11.3), Inches(1.0), slide.title, 40 if title_slide else 30, bold=True)
    title.name = "Title"
    if pack.branding.logo is not None:
        shapes.add_picture(str(pack.branding.logo), Inches(12.05), Inches(0.3), height=Inches(0.75))
    message_top = Inches(3.0) if title_slide else Inches(1.2)
    _text(shapes, LEFT, message_top, Inches(12.3), Inches(0.7), slide.message, 26 if title_slide else 20, ACCENT,
          bold=True).name = "Message"
    body_top = Inches(4.0) if title_slide else BODY_TOP
    bullets = [b for b in slide.bullets if b != slide.message]
    if slide.table is not None:  # bullets under a table keep their room: a line of 18 pt each
        body_top = _table(shapes, slide, body_top, len(bullets) * BULLET_LINE if picture is None else Inches(2.6))
    if picture is not None:
        _picture(shapes, picture, slide, body_top, beside=bool(bullets) and slide.table is None)
        if bullets and slide.table is None:
            _bullets(shapes, bullets, Inches(8.9), body_top, Inches(3.9), 14)
            bullets = []
    if bullets:
        size = 18 if slide.table is not None else 22 if title_slide or len(bullets) <= 5 else 18
        _bullets(shapes, bullets, LEFT, body_top, Inches(12.3), size)
    _text(shapes, LEFT, Inches(6.95), Inches(10.3), Inches(0.4), slide.footer, 11, MUTED).name = "Footer"
    _text(shapes, Inches(10.9), Inches(6.95), Inches(1.95), Inches(0.4), f"{number}/{len(pack.slides)}", 11,
          MUTED).text_frame.paragraphs[0].alignment = PP_ALIGN.RIGHT
    page.notes_slide.notes_text_frame.text = slide.notes


def _bullets(shapes, bullets: list[str], left, top, width, size: int) -> None:
    box = shapes.add_textbox(left, top, width, BODY_BOTTOM - top)
    box.name = "Bullets"
    frame = box.text_frame
    frame.word_wrap = True
    for i, text in enumerate(bullets):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(8)
        _run(paragraph, "•  " + text, size)


def _table(shapes, slide: Slide, top, keep: int = 0) -> Emu:
    """The slide's table in the largest type that fits above the footer, `keep` left free
    under it; returns where the space below it starts."""
    table = slide.table
    rows, columns = len(table.rows) + 1, len(table.headings)
    widths = [int(Inches(12.3) * share) for share in _widths(table.headings, table.rows)]
    size, lines = _fit(table, widths, BODY_BOTTOM - top - keep)
    shape = shapes.add_table(rows, columns, LEFT, top, Inches(12.3), sum(_row_height(size, n) for n in lines))
    shape.name = "Table"
    grid = shape.table
    for c, width in enumerate(widths):
        grid.columns[c].width = width
    for r, row in enumerate([table.headings, *table.rows]):
        grid.rows[r].height = _row_height(size, lines[r])
        for c, text in enumerate(row):
            cell = grid.cell(r, c)
            cell.text = ""
            _run(cell.text_frame.paragraphs[0], str(text), size, MUTED if r == 0 else INK, bold=r == 0)
            cell.margin_top = cell.margin_bottom = Pt(CELL_MARGIN)
            cell.fill.solid()
            cell.fill.fore_color.rgb = RGBColor(0xF2, 0xF4, 0xF7) if r == 0 else RGBColor(0xFF, 0xFF, 0xFF)
    return top + sum(_row_height(size, n) for n in lines) + Inches(0.15)


CELL_MARGIN = 2  # pt above and below a cell's text
BULLET_LINE = Pt(18 * 1.25 + 8)  # a bullet of 18 pt and the space after it
TABLE_SIZES = (18, 16, 15, 14, 13, 12, 11)  # pt, largest first


def _fit(table, widths: list[int], room: int) -> tuple[int, list[int]]:
    """The largest type size whose rows (each as many lines as its longest cell wraps to) fit
    in `room`, and the lines of each row at that size."""
    for size in TABLE_SIZES:
        per_inch = 160 / size  # characters of Liberation Sans per inch: about 0.45 em each in words
        lines = [max(math.ceil(len(str(text)) / max(width / Inches(1) * per_inch - 1, 1)) for text, width
                     in zip(row, widths)) for row in [table.headings, *table.rows]]
        if sum(_row_height(size, n) for n in lines) <= room:
            return size, lines
    return TABLE_SIZES[-1], lines


def _row_height(size: int, lines: int) -> int:
    return Pt(size * 1.2 * lines + 2 * CELL_MARGIN + 4)


def _widths(headings: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[float]:
    """Column shares by the longest text in each (within bounds), so names and statuses get room."""
    longest = [max([len(h)] + [len(str(r[c])) for r in rows]) for c, h in enumerate(headings)]
    clipped = [min(max(n, 9), 60) for n in longest]
    return [n / sum(clipped) for n in clipped]


def _picture(shapes, png: bytes, slide: Slide, top, beside: bool) -> None:
    """The chart under the table or message, as large as the space allows (beside bullets: 8 in wide)."""
    width_px, height_px = slide.figure.layout.width, slide.figure.layout.height
    room_w = Inches(8.2) if beside else Inches(12.3)
    room_h = BODY_BOTTOM - top
    scale = min(room_w / width_px, room_h / height_px)
    width, height = int(width_px * scale), int(height_px * scale)
    left = LEFT if beside else LEFT + (Inches(12.3) - width) // 2
    shapes.add_picture(io.BytesIO(png), left, top, width=width, height=height).name = "Chart"
