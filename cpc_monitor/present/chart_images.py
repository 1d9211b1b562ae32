"""Charts as pictures for the PowerPoint and PDF packs: plotly + kaleido driving Debian's
chromium, ONE browser for a whole pack (a browser per chart costs 3-6 s each; one serves
each further chart in about 0.2 s, stack.md). MathJax is off: kaleido would fetch it from a
CDN, and nothing here goes to the internet."""
from __future__ import annotations

import os
import shutil
import threading
import warnings
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from cpc_monitor.errors import ExportFailed

SCALE = 2  # pixels per CSS pixel: sharp on a projector and in print
# kaleido's server is one per process: two packs made at once (two people on the Present page)
# take turns rather than stop each other's browser.
_ONE_BROWSER = threading.Lock()


BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    """The chromium that draws and prints: $BROWSER_PATH (kaleido reads it too), else the first
    on PATH. Checked before any work, so a missing browser is one clear message."""
    named = os.environ.get("BROWSER_PATH")
    found = (named if Path(named).is_file() else None) if named else next(filter(None, map(shutil.which, BROWSERS)),
                                                                             None)
    if found is None:
        raise ExportFailed("charts and PDFs are drawn by Chromium, which is not installed"
                           + (f" at BROWSER_PATH={named}" if named else "")
                           + ": `apt-get install chromium` (never `plotly_get_chrome`).")
    return found


def figure_pngs(figures: list[go.Figure]) -> list[bytes]:
    """Each figure as a PNG at its own width and height, drawn by one kaleido browser."""
    if not figures:
        return []
    import kaleido

    path = browser()
    with _ONE_BROWSER, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "kopts ignored when using a server": the server has them
        kaleido.start_sync_server(mathjax=False, silence_warnings=True, path=path)
        try:
            return [pio.to_image(f, format="png", width=f.layout.width, height=f.layout.height, scale=SCALE)
                    for f in figures]
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
