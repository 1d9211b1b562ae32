"""The one module that talks to DuckDB.

Readers open short-lived read-only connections with external access disabled, so
nothing in an indicator file can read a file, reach the network or write. The one
writer builds a new file beside the old one and swaps it in with `os.replace`, under
a lock, so readers never see a half-written database (stack.md, "DuckDB 2.0 across
processes")."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cpc_monitor.errors import DatabaseBusy, DatabaseMissing, DatabaseUnusable, DiskFull
from cpc_monitor.store import query_limits

# Raised by DuckDB for bad SQL, missing columns, permission refusals ...: callers catch it
# to turn it into a message about the indicator or the import row that caused it.
SqlError = duckdb.Error

# How many earlier versions of a database the writer keeps in <db folder>/backups/.
BACKUPS_KEPT = 5

Connection = duckdb.DuckDBPyConnection

# A full disk, a full quota, and a file over the process's size limit (how the tests fill
# a disk without root): as an OSError's errno, and as DuckDB words them.
_NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_NO_SPACE_TEXTS = ("No space left on device", "Disk quota exceeded", "File too large")
# What follows `<db>` in the name of a writer's copy: the writer's pid, then DuckDB's own
# write-ahead log or spill folder (`<copy>.wal`, `<copy>.tmp/`).
_COPY_SUFFIX = re.compile(r"\.new-([0-9]+)(\.wal|\.tmp)?")

# Settings of every reader: no files, no network, no extensions, and no way to undo that
# (lock_configuration comes last, so the memory limit set with it cannot be lifted either).
_READER_CONFIG = {"enable_external_access": False, "lock_configuration": True}
# A query stopped by a limit: the watchdog's interrupt, or DuckDB's memory limit. What it
# says is about this run, not about the SQL, so checks never remember it as the SQL's fault.
QueryStopped = (duckdb.InterruptException, duckdb.OutOfMemoryException)
# After the time limit the watchdog interrupts again at this interval (seconds) until the
# indicator gives up: an interrupt that lands between two queries is otherwise lost.
_INTERRUPT_AGAIN = 0.05


def reader(path: str | os.PathLike) -> Connection:
    """A read-only connection to the database at `path`; close it when done."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseMissing(
            f"The database {path} does not exist. Build the sample with "
            f"`python -m cpc_monitor sample --db {path}` or an empty one with `init`.")
    config = {"memory_limit": f"{query_limits.current().query_memory_mb}MB", **_READER_CONFIG}
    try:
        return duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.IOException as exc:
        raise damaged(path, exc, "cannot be opened") from exc
    except duckdb.Error as exc:
        raise DatabaseUnusable(f"{path} is not a CPC Monitor database: {_first_line(exc)}") from exc


@contextlib.contextmanager
def reading(path: str | os.PathLike) -> Iterator[Connection]:
    """`with reading(path) as con:` a read-only connection, closed afterwards. A file that
    fails to read part-way (cut short, damaged) is DatabaseUnusable with the way back."""
    con = reader(path)
    try:
        yield con
    except FileDamaged as exc:
        raise damaged(path, exc, "cannot be read") from exc
    finally:
        con.close()


# A read of the file itself failed (cut short, damaged): never the fault of one indicator.
FileDamaged = duckdb.IOException


def damaged(path: str | os.PathLike, exc: BaseException, what: str) -> DatabaseUnusable:
    """The message for a damaged database file, with the way back (the kept backups)."""
    return DatabaseUnusable(f"The database {path} {what}: {_first_line(exc)} The file is damaged. List the "
                            f"kept earlier versions with `python -m cpc_monitor restore --db {path}` and bring "
                            "the newest back by name; nothing else is lost.")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@dataclass
class Watch:
    """What a time limit saw: `stopped` once it interrupted the queries, and why."""

    seconds: int
    stopped: bool = False

    @property
    def message(self) -> str:
        return query_limits.time_message(self.seconds)


@contextlib.contextmanager
def time_limit(con: Connection, seconds: int | None = None) -> Iterator[Watch]:
    """`with time_limit(con) as watch:` interrupt every query on `con` once `seconds` (the
    CPC_LIMIT_QUERY_SECONDS setting by default) have passed, until the block ends; the
    interrupted query raises a DuckDB error inside it, and `watch.stopped` says why.

    DuckDB checks for an interrupt between chunks of rows, so a query stops within one
    chunk's work of the limit. A lock keeps the watchdog from interrupting once the block
    has ended: the connection's next query (another indicator's) is never hit."""
    watch = Watch(query_limits.current().query_seconds if seconds is None else seconds)
    done = threading.Event()
    lock = threading.Lock()

    def watchdog() -> None:
        if done.wait(watch.seconds):
            return
        while True:
            with lock:
                if done.is_set():
                    return
                watch.stopped = True
                con.interrupt()
            if done.wait(_INTERRUPT_AGAIN):
                return

    thread = threading.Thread(target=watchdog, name="cpc-query-watchdog", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        with lock:
            done.set()
        thread.join()


def failure_text(exc: BaseException) -> str:
    """One line on why a query failed; the memory limit's own message when it was that."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        return query_limits.memory_message(query_limits.current().query_memory_mb)
    return _first_line(exc)


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
        _remove_stale_copies(path)
        new = path.with_name(f"{path.name}.new-{os.getpid()}")
        con = None
        try:
            if path.exists() and not start_empty:
                shutil.copyfile(path, new)
            con = duckdb.connect(str(new))
            yield con
            con.execute("CHECKPOINT")
            con.close()
            _fsync(new)
            if keep_backup and path.exists():
                _backup(path)
            os.replace(new, path)
        except BaseException as exc:
            if con is not None:
                with contextlib.suppress(duckdb.Error):  # after a fatal write error it is already closed
                    con.close()
            _remove(new)
            if is_disk_full(exc):
                raise _disk_full(path, exc) from exc
            raise


def is_disk_full(exc: BaseException) -> bool:
    """True when `exc` says the disk, the quota or the file-size limit ran out."""
    if isinstance(exc, OSError):
        return exc.errno in _NO_SPACE_ERRNOS
    return isinstance(exc, duckdb.Error) and any(text in str(exc) for text in _NO_SPACE_TEXTS)


def _disk_full(path: Path, exc: BaseException) -> DiskFull:
    # The words of the failure only: DuckDB's line also names the copy, which is gone.
    reason = exc.strerror if isinstance(exc, OSError) else next(t for t in _NO_SPACE_TEXTS if t in str(exc))
    need = 2 * path.stat().st_size if path.exists() else 0
    return DiskFull(f"there is not enough disk space to write the new version of {path} ({reason}); nothing was "
                    f"changed and no partial file was left. Free at least {need / 1e6:,.0f} MB on that disk (a "
                    "change writes a whole new copy of the database, and keeps a backup), then try again.")


def _remove_stale_copies(path: Path) -> None:
    """Remove the copies (and their DuckDB .wal files and .tmp folders) that a writer killed
    mid-write left behind. Holding the lock, no other writer is at work; a copy is removed
    when its pid is ours or no longer running, so a live process's file is never touched."""
    for stale in path.parent.glob(f"{glob.escape(path.name)}.new-*"):
        match = _COPY_SUFFIX.fullmatch(stale.name[len(path.name):])
        if match is None:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or not _running(pid):
            _remove_entry(stale)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    """Remove a writer's copy with its DuckDB .wal file and .tmp spill folder."""
    for p in (path, Path(f"{path}.wal"), Path(f"{path}.tmp")):
        _remove_entry(p)


def _remove_entry(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


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
        try:
            shutil.copyfile(path, target)
        except BaseException:  # a full disk: no half-written backup is left
            _remove_entry(target)
            raise
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
