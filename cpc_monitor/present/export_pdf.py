"""The briefing pack as PDF: the HTML pack with its charts as pictures (one kaleido browser),
printed by Debian's chromium, one 1280x720 page per slide. Printing the HTML, rather than
laying the slides out a third time, keeps the PDF the same as the file and the page."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from cpc_monitor.errors import ExportFailed
from cpc_monitor.present import export_html
from cpc_monitor.present.briefing import Pack
from cpc_monitor.present.chart_images import browser, figure_pngs

PRINT_SECONDS = 120  # a pack prints in a few seconds; a hung browser is stopped, not waited on


def pdf_bytes(pack: Pack) -> bytes:
    """The pack as a PDF file's bytes."""
    figures = [(i, s.figure) for i, s in enumerate(pack.slides) if s.figure is not None]
    images = dict(zip([i for i, _ in figures], figure_pngs([f for _, f in figures])))
    page = export_html.document(pack, images)
    with tempfile.TemporaryDirectory(prefix="cpc-pdf-") as folder:
        source, out = Path(folder) / "pack.html", Path(folder) / "pack.pdf"
        source.write_text(page, encoding="utf-8")
        command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-first-run", "--disable-background-networking", "--disable-component-update",
                   f"--user-data-dir={folder}/profile", "--no-pdf-header-footer", f"--print-to-pdf={out}",
                   source.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_SECONDS)
        except subprocess.TimeoutExpired:
            raise ExportFailed(f"Chromium did not print the PDF within {PRINT_SECONDS} s; try again.") from None
        if not out.is_file() or out.stat().st_size == 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise ExportFailed(f"Chromium could not print the PDF (exit {done.returncode}: {last}).")
        return out.read_bytes()
