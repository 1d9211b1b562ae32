"""Writing a briefing pack to a file, in one of its formats, all or nothing: the bytes are
made first, written beside the target under a temporary name, then swapped in with
os.replace, so a failure never leaves a half-written file (nor removes an older pack)."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cpc_monitor.errors import ExportFailed
from cpc_monitor.present.briefing import Pack

FORMATS = ("pptx", "pdf", "html")
MIME = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pdf": "application/pdf", "html": "text/html"}


def pack_bytes(pack: Pack, fmt: str) -> bytes:
    """The pack in `fmt` (pptx, pdf or html)."""
    if fmt == "html":
        from cpc_monitor.present.export_html import document

        return document(pack).encode("utf-8")
    if fmt == "pptx":
        from cpc_monitor.present.export_pptx import pptx_bytes

        return pptx_bytes(pack)
    if fmt == "pdf":
        from cpc_monitor.present.export_pdf import pdf_bytes

        return pdf_bytes(pack)
    raise ExportFailed(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}.")


def check_writable(out: Path) -> None:
    """Refuse at once (before minutes of work) a path the pack cannot be written to."""
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ExportFailed(f"{out} is a folder; give a file name, such as {out / 'briefing.pptx'}.")
    if not folder.is_dir():
        raise ExportFailed(f"cannot write {out}: the folder {folder} does not exist. Create it, or choose another --out.")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ExportFailed(f"cannot write {out}: no permission to write there. Choose another --out.")


def write_atomically(out: Path, make: Callable[[], bytes]) -> int:
    """Write what `make` returns to `out`, all or nothing; returns the bytes written."""
    out = Path(out)
    check_writable(out)
    data = make()
    part = out.with_name(f".{out.name}.part-{os.getpid()}")
    try:
        with open(part, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, out)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise ExportFailed(f"cannot write {out}: {exc.strerror or exc}. Nothing was written.") from None
    except BaseException:  # interrupted (Ctrl-C) while writing: the old file stays, the part goes
        part.unlink(missing_ok=True)
        raise
    return len(data)
