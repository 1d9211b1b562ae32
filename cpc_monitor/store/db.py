"""The one module that talks to DuckDB.

Readers open short-lived read-only connections with external access disabled, so
nothing in an indicator file can read a file, reach the network or write. The one
writer builds a new file beside the old one and swaps it in with `os.replace`, under
a lock, so readers never see a half-written database (stack.md, "DuckDB 2.0 across
processes")."""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from cpc_monitor.errors import DatabaseBusy, DatabaseMissing, DatabaseUnusable

# Raised by DuckDB for bad SQL, missing columns, permission refusals ...: callers catch it
# to turn it into a message about the indicator or the import row that caused it.
SqlError = duckdb.Error

# How many earlier versions of a database the writer keeps in <db folder>/backups/.
BACKUPS_KEPT = 5

Connection = duckdb.DuckDBPyConnection

# Settings of every reader: no files, no network, no extensions, and no way to undo that.
_READER_CONFIG = {"enable_external_access": False, "lock_configuration": True}


def reader(path: str | os.PathLike) -> Connection:
    """A read-only connection to the database at `path`; close it when done."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseMissing(
            f"The database {path} does not exist. Build the sample with "
            f"`python -m cpc_monitor sample --db {path}` or an empty one with `init`.")
    try:
        return duckdb.connect(str(path), read_only=True, config=dict(_READER_CONFIG))
    except duckdb.IOException as exc:
        raise DatabaseUnusable(f"The database {path} cannot be opened: {_first_line(exc)}") from exc
    except duckdb.Error as exc:
        raise DatabaseUnusable(f"{path} is not a CPC Monitor database: {_first_line(exc)}") from exc


@contextlib.contextmanager
def reading(path: str | os.PathLike) -> Iterator[Connection]:
    """`with reading(path) as con:` a read-only connection, closed afterwards."""
    con = reader(path)
    try:
        yield con
    finally:
        con.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def version_stamp(path: str | os.PathLike) -> int:
    """A number that changes whenever the file is replaced: the key for caches."""
    st = os.stat(path)
    return st.st_mtime_ns ^ st.st_ino


@contextlib.contextmanager
def writer_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold `<db>.lock` so two writers never build from the same old copy at once."""
    lock_path = Path(f"{path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DatabaseBusy(
                f"Another import or decision is writing {path} right now. Try again when it has finished.") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def rebuild(path: str | os.PathLike, *, start_empty: bool = False, keep_backup: bool = True
            ) -> Iterator[Connection]:
    """Yield a writable connection to a new copy of the database; swap it in on success.

    The copy is named `<db>.new-<pid>` (not `<db>.tmp`, DuckDB's own spill folder). On any
    error the copy is removed and the database at `path` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(path):
        # Holding the lock, no other writer is at work: copies left by a killed one are stale.
        for stale in path.parent.glob(f"{path.name}.new-*"):
            _remove(stale)
        new = path.with_name(f"{path.name}.new-{os.getpid()}")
        if path.exists() and not start_empty:
            shutil.copyfile(path, new)
        con = duckdb.connect(str(new))
        try:
            yield con
            con.execute("CHECKPOINT")
            con.close()
            _fsync(new)
            if keep_backup and path.exists():
                _backup(path)
            os.replace(new, path)
        except BaseException:
            con.close()
            _remove(new)
            raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def backups_dir(path: str | os.PathLike) -> Path:
    """Where earlier versions of the database at `path` are kept."""
    return Path(path).parent / "backups"


def _backup(path: Path) -> None:
    """Keep a copy of the current file and prune to the newest BACKUPS_KEPT."""
    folder = backups_dir(path)
    folder.mkdir(exist_ok=True)
    stamp = os.stat(path).st_mtime_ns
    target = folder / f"{path.stem}-{stamp}{path.suffix}"
    # A hard link costs nothing and stays valid after os.replace swaps the name away.
    try:
        os.link(path, target)
    except OSError:
        shutil.copyfile(path, target)
    kept = sorted(folder.glob(f"{path.stem}-*{path.suffix}"), key=lambda p: p.stat().st_mtime_ns)
    for old in kept[:-BACKUPS_KEPT]:
        old.unlink()


def list_backups(path: str | os.PathLike) -> list[Path]:
    """Backups of the database at `path`, newest first."""
    folder = backups_dir(path)
    stem, suffix = Path(path).stem, Path(path).suffix
    return sorted(folder.glob(f"{stem}-*{suffix}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)


def table_columns(con: Connection) -> dict[str, tuple[str, ...]]:
    """Every table and view of the main schema with its column names, in order."""
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return {t: tuple(c) for t, c in out.items()}


def info(con: Connection) -> dict[str, str]:
    """The key/value facts stored about the file (schema version, synthetic ...)."""
    try:
        return dict(con.execute("SELECT key, value FROM schema_info").fetchall())
    except duckdb.Error:
        return {}


def scratch() -> Connection:
    """An in-memory connection that may read files (unlike `reader`): the importer loads
    CSV files with it before checking them. Close it when done."""
    return duckdb.connect(":memory:")
