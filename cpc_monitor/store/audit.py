"""The audit log: one JSON line per import (refused ones too), restore, duplicate
decision and save or restore of the indicator file, appended to a file beside the database, never inside it, so that a refused
import leaves the database byte-identical.

The file is `<db folder>/audit/<db stem>.audit.jsonl`; lines are only ever appended."""
from __future__ import annotations

import getpass
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

# What can be logged, in the words the page and the CSV export show.
ACTIONS = ("import", "import_refused", "restore", "duplicate_decision", "duplicate_undo",
           "indicators_save", "indicators_restore")
# The fields of every entry, in the order of the DataFrame and the CSV export.
FIELDS = ("at", "who", "action", "table", "file", "sha256", "rows_added", "rows_replaced", "batch",
          "outcome", "message")


def log_path(db_path: str | os.PathLike) -> Path:
    """The audit file of the database at `db_path`."""
    path = Path(db_path)
    return path.parent / "audit" / f"{path.stem}.audit.jsonl"


def current_user(who: str | None = None) -> str:
    """`who` when given (the page passes the signed-in e-mail, or "local" and the browser's address),
    else the operating-system user (the command line)."""
    if who:
        return who
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password file
        return "unknown"


def record(db_path: str | os.PathLike, action: str, *, who: str | None = None, table: str | None = None,
           file: str | None = None, sha256: str | None = None, rows_added: int | None = None,
           rows_replaced: int | None = None, batch: str | None = None, outcome: str = "ok",
           message: str = "") -> dict:
    """Append one entry to the audit log of `db_path` and return it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; one of {', '.join(ACTIONS)}")
    entry = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "who": current_user(who),
             "action": action, "table": table, "file": file, "sha256": sha256, "rows_added": rows_added,
             "rows_replaced": rows_replaced, "batch": batch, "outcome": outcome, "message": message}
    path = log_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    # One write on an O_APPEND descriptor: concurrent writers never interleave inside a line.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def entries(db_path: str | os.PathLike) -> pd.DataFrame:
    """Every entry of the audit log, oldest first (an empty frame when nothing is logged).

    A line that cannot be read (say, cut short by a power cut) is kept as action
    "unreadable" with its text in `message`, never silently dropped."""
    rows = []
    path = log_path(db_path)
    if path.is_file():
        with open(path, encoding="utf-8", errors="replace") as handle:
            for text in handle:
                if not text.strip():
                    continue
                try:
                    item = json.loads(text)
                except json.JSONDecodeError:
                    item = None
                if not isinstance(item, dict):
                    item = {"action": "unreadable", "outcome": "unreadable", "message": text.strip()}
                rows.append({f: item.get(f) for f in FIELDS})
    frame = pd.DataFrame(rows, columns=list(FIELDS))
    for column in ("rows_added", "rows_replaced"):
        frame[column] = frame[column].astype("Int64")
    return frame


def to_csv(db_path: str | os.PathLike, out: str | os.PathLike | None = None) -> str:
    """The audit log as CSV text (for a download); also written to `out` when given."""
    text = entries(db_path).to_csv(index=False)
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
    return text
