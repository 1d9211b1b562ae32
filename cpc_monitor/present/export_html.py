"""The briefing pack as one self-contained HTML file: every slide 1280x720, plotly's
JavaScript inline, the logo as a data URI, system fonts only. It makes no request of any
kind, so it presents offline from a USB stick (←/→ or Page Up/Down step through the slides;
F11 fills the screen). The Present page draws its slides' text with the same
`slide_html`, and the PDF is this file with the charts as pictures, printed.

Every text is escaped: names in the indicator file are the program managers' words, not HTML."""
from __future__ import annotations

import base64
import html
import mimetypes
from pathlib import Path

import plotly.io as pio
import plotly.offline

from cpc_monitor.present.briefing import SLIDE_HEIGHT, SLIDE_WIDTH, Pack, Slide

ACCENT = "#0072B2"
INK, MUTED, RULE = "#1C2733", "#5A6673", "#D5DAE0"
FONTS = "'Source Sans Pro', 'Liberation Sans', Arial, sans-serif"  # installed fonts; nothing is fetched
PLOTLY_CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": False,
                 "staticPlot": False, "showTips": False}

# The look of a slide: big type for a projector at 1280x720 (look.md). Scoped to .cpc-slide so
# the Present page can use it inside Streamlit.
SLIDE_CSS = f"""
.cpc-slide {{ box-sizing: border-box; width: {SLIDE_WIDTH}px; max-width: 100%; min-height: {SLIDE_HEIGHT}px;
  padding: 28px 48px 16px 48px; background: #fff; color: {INK}; font-family: {FONTS};
  display: flex; flex-direction: column; position: relative; }}
.cpc-slide .cpc-head {{ display: flex; justify-content: space-between; align-items: flex-start; gap: 24px; }}
.cpc-slide h1 {{ font-size: 38px; line-height: 1.15; margin: 0 0 8px 0; font-weight: 700; color: {INK}; }}
.cpc-slide .cpc-logo {{ height: 64px; }}
.cpc-slide .cpc-message {{ font-size: 26px; line-height: 1.3; color: {ACCENT}; font-weight: 600;
  margin: 0 0 14px 0; border-left: 6px solid {ACCENT}; padding-left: 14px; }}
.cpc-slide ul {{ font-size: 24px; line-height: 1.35; margin: 6px 0 10px 0; padding-left: 30px; }}
.cpc-slide li {{ margin-bottom: 8px; }}
.cpc-slide.cpc-title ul {{ list-style: none; padding-left: 0; font-size: 28px; }}
.cpc-slide.cpc-title h1 {{ font-size: 48px; margin-top: 90px; }}
.cpc-slide.cpc-title .cpc-message {{ font-size: 30px; margin-top: 16px; }}
.cpc-slide table {{ border-collapse: collapse; width: 100%; font-size: 22px; line-height: 1.25; margin: 4px 0 10px 0; }}
.cpc-slide th {{ text-align: left; border-bottom: 2px solid {INK}; padding: 5px 10px 5px 0; font-size: 17px;
  color: {MUTED}; font-weight: 600; }}
.cpc-slide td {{ border-bottom: 1px solid {RULE}; padding: 5px 10px 5px 0; vertical-align: top; }}
.cpc-slide table.cpc-dense {{ font-size: 20px; line-height: 1.18; }}
.cpc-slide table.cpc-dense td, .cpc-slide table.cpc-dense th {{ padding-top: 3px; padding-bottom: 3px; }}
.cpc-slide table.cpc-denser {{ font-size: 18px; line-height: 1.12; }}
.cpc-slide table.cpc-denser td {{ padding-top: 2px; padding-bottom: 2px; }}
.cpc-slide td.cpc-num {{ white-space: nowrap; font-weight: 600; }}
.cpc-slide .cpc-body {{ flex: 1; display: flex; flex-direction: column; gap: 6px; }}
.cpc-slide .cpc-columns {{ display: flex; gap: 24px; align-items: flex-start; }}
.cpc-slide .cpc-columns ul {{ font-size: 21px; flex: 1; }}
.cpc-slide .cpc-chart img {{ max-width: 100%; }}
.cpc-slide .cpc-footer {{ font-size: 12px; white-space: nowrap; gap: 16px; color: {MUTED}; border-top: 1px solid {RULE}; padding-top: 6px;
  margin-top: 8px; display: flex; justify-content: space-between; }}
"""

# The file's own page: slides one under another, each a printed page; arrow keys step.
PAGE_CSS = f"""
html, body {{ margin: 0; background: #EEF1F4; }}
.cpc-slide {{ margin: 16px auto; box-shadow: 0 1px 4px rgba(0,0,0,.15); height: {SLIDE_HEIGHT}px; overflow: hidden; }}
@page {{ size: {SLIDE_WIDTH}px {SLIDE_HEIGHT}px; margin: 0; }}
@media print {{
  html, body {{ background: #fff; }}
  .cpc-slide {{ margin: 0; box-shadow: none; page-break-after: always; break-after: page; }}
}}
"""
KEYS_SCRIPT = """
document.addEventListener('keydown', function (e) {
  var step = {ArrowRight: 1, ArrowDown: 1, PageDown: 1, ' ': 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1}[e.key];
  if (!step) { return; }
  var slides = Array.prototype.slice.call(document.querySelectorAll('.cpc-slide'));
  var now = slides.findIndex(function (s) { return s.getBoundingClientRect().top > -10; });
  var next = Math.max(0, Math.min(slides.length - 1, (now < 0 ? slides.length - 1 : now) + step));
  slides[next].scrollIntoView({block: 'center'});
  e.preventDefault();
});
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def data_uri(path: Path) -> str:
    """A file as a data: URI (the logo), so the page needs no other file."""
    kind = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def slide_top(slide: Slide, pack: Pack) -> str:
    """A slide's title (with the logo) and its key message."""
    logo = (f'<img class="cpc-logo" alt="" src="{data_uri(pack.branding.logo)}">'
            if pack.branding.logo is not None else "")
    return (f'<div class="cpc-head"><h1>{_e(slide.title)}</h1>{logo}</div>'
            f'<p class="cpc-message">{_e(slide.message)}</p>')


def slide_bullets(slide: Slide) -> str:
    """A slide's bullets as a list ('' without any); the key message is not said twice."""
    items = "".join(f"<li>{_e(b)}</li>" for b in slide.bullets if b != slide.message)
    return f"<ul>{items}</ul>" if items else ""


def slide_table(slide: Slide) -> str:
    """A slide's table ('' without one)."""
    return _table(slide) if slide.table is not None else ""


def slide_footer(slide: Slide, pack: Pack, number: int) -> str:
    """The as-of date and source on the left; the partnership and the slide's number on the right."""
    return (f'<div class="cpc-footer"><span>{_e(slide.footer)}</span>'
            f'<span>{_e(pack.branding.partnership)} · {number}/{len(pack.slides)}</span></div>')


def chart_beside_bullets(slide: Slide) -> bool:
    """A chart with bullets and no table (funding) sits beside them; otherwise the table, the
    chart and the bullets come one under another."""
    return slide.figure is not None and bool(slide_bullets(slide)) and slide.table is None


def slide_html(slide: Slide, pack: Pack, number: int, chart: str = "") -> str:
    """One slide as HTML: title, key message, table, `chart` (HTML of its figure, interactive
    or a picture), bullets and the footer."""
    chart_block = f'<div class="cpc-chart">{chart}</div>' if chart else ""
    if chart and chart_beside_bullets(slide):
        body = f'<div class="cpc-columns">{chart_block}{slide_bullets(slide)}</div>'
    else:
        body = slide_table(slide) + chart_block + slide_bullets(slide)
    return (f'<section class="cpc-slide cpc-{_e(slide.key.split("-")[0])}" data-key="{_e(slide.key)}">'
            f'{slide_top(slide, pack)}<div class="cpc-body">{body}</div>{slide_footer(slide, pack, number)}</section>')


def _table(slide: Slide) -> str:
    table = slide.table
    head = "".join(f"<th>{_e(h)}</th>" for h in table.headings)
    rows = []
    for row in table.rows:
        cells = "".join(f'<td{" class=cpc-num" if 0 < i < len(row) - 1 and len(str(c)) < 18 else ""}>{_e(c)}</td>'
                        for i, c in enumerate(row))
        rows.append(f"<tr>{cells}</tr>")
    density = " class=cpc-denser" if len(table.rows) > 9 else " class=cpc-dense" if len(table.rows) > 6 else ""
    return f"<table{density}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def figure_div(slide: Slide) -> str:
    """A slide's figure as an interactive plotly div, drawn by the inline plotly.js."""
    return pio.to_html(slide.figure, full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG,
                       default_width=f"{slide.figure.layout.width}px", default_height=f"{slide.figure.layout.height}px")


def document(pack: Pack, images: dict[int, bytes] | None = None) -> str:
    """The whole pack as one HTML file. `images`: slide index -> PNG of its figure (the PDF's
    pictures); without them the charts are interactive, drawn by plotly.js inlined once."""
    slides, needs_plotly = [], False
    for i, slide in enumerate(pack.slides):
        chart = ""
        if slide.figure is not None:
            if images is not None and i in images:
                chart = f'<img alt="{_e(slide.figure.layout.title.text or "")}" src="{png_uri(images[i])}" ' \
                        f'width="{slide.figure.layout.width}">'
            else:
                chart, needs_plotly = figure_div(slide), True
        slides.append(slide_html(slide, pack, i + 1, chart))
    plotly_js = f"<script>{plotly.offline.get_plotlyjs()}</script>" if needs_plotly else ""
    title = _e(f"{pack.branding.title} — {pack.year}" if pack.year else pack.branding.title)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><link rel=\"icon\" href=\"data:,\"><style>{SLIDE_CSS}{PAGE_CSS}</style>{plotly_js}</head>"
            f"<body>{''.join(slides)}<script>{KEYS_SCRIPT}</script></body></html>")
