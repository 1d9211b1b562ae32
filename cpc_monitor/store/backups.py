"""The kept earlier versions of the database: listing them, and bringing one back.

The writer (db.rebuild) keeps a backup each time it swaps a file in; a restore is itself
written through db.rebuild, so the version it replaces is kept too and can be restored."""
from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from cpc_monitor.errors import BackupNotFound, DatabaseUnusable
from cpc_monitor.store import audit, db


def backups(db_path: str | os.PathLike) -> pd.DataFrame:
    """The kept earlier versions of the database, newest first: name, saved_at (UTC), size, path."""
    rows = [{"name": p.name, "saved_at": datetime.fromtimestamp(p.stat().st_mtime, timezone.utc),
             "size_bytes": p.stat().st_size, "path": str(p)} for p in db.list_backups(db_path)]
    return pd.DataFrame(rows, columns=["name", "saved_at", "size_bytes", "path"])


def restore(db_path: str | os.PathLike, backup: str | os.PathLike, *, who: str | None = None) -> Path:
    """Bring back a kept backup (named by file name or path) as the database, atomically.

    The version it replaces is itself kept as a backup, so a restore can be undone. Returns
    the backup used. Example: restore("data/cpc.duckdb", "cpc-1735689600000000000.duckdb")"""
    db_path = Path(db_path)
    kept = db.list_backups(db_path)
    wanted = Path(backup)
    # A bare name is looked up among the backups; a path must be one of them, not any file.
    chosen = next((p for p in kept if (p.name == str(backup) if wanted.name == str(backup)
                                       else p.resolve() == wanted.resolve())), None)
    if chosen is None:
        names = ", ".join(p.name for p in kept) or "none yet"
        raise BackupNotFound(f"'{backup}' is not a backup of {db_path}; backups: {names}. "
                             f"List them with `python -m cpc_monitor restore --db {db_path}`.")
    digest = hashlib.sha256(chosen.read_bytes()).hexdigest()
    with db.reading(chosen) as con:
        if "schema_info" not in db.table_columns(con):
            raise DatabaseUnusable(f"the backup {chosen.name} is not a CPC Monitor database.")
    with db.rebuild(db_path, start_empty=True) as con:
        target = con.execute("SELECT current_database()").fetchall()[0][0]
        con.execute(f"ATTACH '{_sql_text(str(chosen))}' AS cpc_backup (READ_ONLY)")
        con.execute(f'COPY FROM DATABASE cpc_backup TO "{target}"')
        con.execute("DETACH cpc_backup")
    audit.record(db_path, "restore", who=who, file=chosen.name, sha256=digest,
                 message=f"restored {db_path.name} from the backup {chosen.name}")
    return chosen


def _sql_text(text: str) -> str:
    return text.replace("'", "''")
