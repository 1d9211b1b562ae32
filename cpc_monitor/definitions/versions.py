"""Saving the indicator file safely, with every version kept: the one way the editor and
`restore-indicators` write indicators.yaml.

A save is refused unless the text passes the same check as `validate` (no errors), and
unless the file on disk is still the one the editor loaded (else the diff of what changed
there comes back). The text is written to a temporary file beside the original and swapped
in with `os.replace`, so a reader sees the old file or the new one, never half of one.
Every version is kept in a history folder beside the file (`indicators.history/` for
`indicators.yaml`): one numbered copy per version and an index line saying who saved it,
when, and which indicators it added, removed or changed. Each save and restore is also
written to the audit log beside the database."""
from __future__ import annotations

import difflib
import fcntl
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator

from cpc_monitor.definitions import yamlfile
from cpc_monitor.errors import IndicatorFileChanged, IndicatorSaveFailed, IndicatorSaveRefused, VersionNotFound

INDEX = "index.jsonl"  # one JSON line per version, oldest first
# Who a version was by when the editor found it already on disk (the file as first
# written by hand, or changed by hand since the last save).
FOUND_ON_DISK = "outside the dashboard"


@dataclass(frozen=True)
class Changes:
    """Which indicators one text adds, removes and changes against another, and what else changed."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # id -> the keys that differ
    other: list[str] = field(default_factory=list)  # top-level sections changed (figures, dialogues, ...)

    @property
    def ids(self) -> list[str]:
        return self.added + self.removed + list(self.changed)

    def summary(self) -> str:
        """The change in words: 'changed protection.x (targets); added partnership.y'."""
        parts = []
        if self.changed:
            parts.append("changed " + ", ".join(f"{i} ({', '.join(keys)})" for i, keys in self.changed.items()))
        if self.added:
            parts.append("added " + ", ".join(self.added))
        if self.removed:
            parts.append("removed " + ", ".join(self.removed))
        if self.other:
            parts.append("changed the file's " + ", ".join(self.other))
        return "; ".join(parts) or "no change to any indicator (layout or comments only)"


@dataclass(frozen=True)
class Version:
    """One kept version of the indicator file."""

    number: int
    at: str  # UTC, ISO 8601 to the second
    who: str
    action: str  # save | restore | found
    sha256: str
    summary: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    restored_from: int | None = None


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def history_folder(path: str | os.PathLike) -> Path:
    """The history of `indicators.yaml` is `indicators.history/` beside it."""
    path = Path(path)
    return path.parent / f"{path.stem}.history"


def versions(path: str | os.PathLike) -> list[Version]:
    """Every kept version of the file at `path`, oldest first (empty before the first save)."""
    index = history_folder(path) / INDEX
    if not index.is_file():
        return []
    out = []
    for line in index.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(Version(**json.loads(line)))
    return out


def version_text(path: str | os.PathLike, number: int) -> str:
    """The text of version `number`, or VersionNotFound naming the versions there are."""
    known = [v.number for v in versions(path)]
    if number not in known:
        span = f"versions 1 to {max(known)}" if known else "no versions yet"
        raise VersionNotFound(f"there is no version {number} of {Path(path).name}; its history has {span}. "
                              f"List them with `python -m cpc_monitor history`.")
    return _version_file(path, number).read_text(encoding="utf-8")


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    """The line-by-line difference of two texts (empty when they are the same)."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=old_label, tofile=new_label))


def diff_versions(path: str | os.PathLike, a: int, b: int) -> str:
    """The difference from version `a` to version `b`."""
    return unified_diff(version_text(path, a), version_text(path, b), f"version {a}", f"version {b}")


def changes(old: str, new: str) -> Changes:
    """Which indicators `new` adds, removes and changes against `old` (either may be unreadable: then
    it counts as having no indicators)."""
    before, after = _sections(old), _sections(new)
    old_ids, new_ids = _by_id(before.get("indicators")), _by_id(after.get("indicators"))
    changed = {}
    for ind_id in (i for i in new_ids if i in old_ids):
        keys = sorted(k for k in set(old_ids[ind_id]) | set(new_ids[ind_id])
                      if old_ids[ind_id].get(k) != new_ids[ind_id].get(k))
        if keys:
            changed[ind_id] = keys
    other = sorted(k for k in set(before) | set(after) if k != "indicators" and before.get(k) != after.get(k))
    return Changes([i for i in new_ids if i not in old_ids], [i for i in old_ids if i not in new_ids], changed, other)


def save(path: str | os.PathLike, text: str, *, loaded: str, who: str, db_path: str | os.PathLike,
         restored_from: int | None = None) -> Version:
    """Write `text` as the indicator file at `path` and keep it as a new version.

    `loaded` is the text the editor started from: if the file on disk is no longer that,
    IndicatorFileChanged carries the diff from it to the disk, and nothing is written. A
    text with errors (the check `validate` runs, against the database at `db_path` when it
    exists) raises IndicatorSaveRefused with every issue, and nothing is written."""
    from cpc_monitor.evaluation.checking import check_text  # the engine's check; definitions sit below it
    from cpc_monitor.store import audit  # pandas: only a save needs it, so `history` starts at once

    path = Path(path)
    checked = check_text(text, path.name, db_path if Path(db_path).is_file() else None)
    if checked.errors:
        raise IndicatorSaveRefused(checked.issues)
    with _locked(path):
        on_disk = path.read_text(encoding="utf-8") if path.exists() else ""
        if sha256_text(on_disk) != sha256_text(loaded):
            raise IndicatorFileChanged(path.name, unified_diff(loaded, on_disk, "when you opened it", "on disk now"))
        kept = versions(path)
        # What this save adds: the file found on disk when no version holds it, then the text.
        new: list[tuple[Version, str]] = []
        if on_disk and (not kept or kept[-1].sha256 != sha256_text(on_disk)):
            new.append((_version(on_disk, len(kept) + 1, FOUND_ON_DISK, "found", Changes(), None), on_disk))
        action = "restore" if restored_from is not None else "save"
        version = _version(text, len(kept) + len(new) + 1, who, action, changes(on_disk, text), restored_from)
        new.append((version, text))
        # Copies first, then the file, then the index: a version exists once the index names it,
        # so a failure at any point leaves the history telling the truth.
        try:
            for kept_version, content in new:
                _write_atomically(_version_file(path, kept_version.number), content)
            _write_atomically(path, text)
            _append_index(path, [v for v, _ in new])
        except OSError as exc:
            raise IndicatorSaveFailed(f"{path.name} could not be written ({exc.strerror}); nothing was changed. "
                                      f"Check that the folder {path.parent} is writable and has free space.") from None
    how = f"restored version {restored_from} as version {version.number}" if restored_from else \
        f"saved version {version.number}"
    audit.record(db_path, f"indicators_{action}", who=who, file=path.name, sha256=version.sha256,
                 message=f"{how}: {version.summary}")
    return version


def restore(path: str | os.PathLike, number: int, *, loaded: str, who: str, db_path: str | os.PathLike) -> Version:
    """Bring version `number` back: a save of its text (checked, versioned and audited)."""
    return save(path, version_text(path, number), loaded=loaded, who=who, db_path=db_path, restored_from=number)


# ----------------------------------------------------------------------------- inside


def _version_file(path: str | os.PathLike, number: int) -> Path:
    return history_folder(path) / f"{number:04d}{Path(path).suffix or '.yaml'}"


def _version(text: str, number: int, who: str, action: str, change: Changes, restored_from: int | None
             ) -> Version:
    summary = "the file as found on disk before a save: edited outside the dashboard" if action == "found" \
        else change.summary()
    return Version(number, datetime.now(timezone.utc).isoformat(timespec="seconds"), who, action,
                   sha256_text(text), summary, change.added, change.removed, list(change.changed), restored_from)


def _append_index(path: Path, kept: list[Version]) -> None:
    """Add the index lines of `kept` in one write, flushed to disk."""
    with open(history_folder(path) / INDEX, "a", encoding="utf-8") as index:
        index.write("".join(json.dumps(asdict(v), ensure_ascii=False) + "\n" for v in kept))
        index.flush()
        os.fsync(index.fileno())


def _write_atomically(path: Path, text: str) -> None:
    """Write beside `path`, flush to disk, then swap in: never a half-written file."""
    temporary = path.with_name(f".{path.name}.saving-{os.getpid()}")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the history's lock: two saves at once take turns, so neither is lost."""
    folder = history_folder(path)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _sections(text: str) -> dict[str, Any]:
    """The top-level mapping of `text`, or {} when it cannot be read."""
    try:
        data = yamlfile.load(text).data
    except yamlfile.YamlProblem:
        return {}
    return data if isinstance(data, dict) else {}


def _by_id(raw: Any) -> dict[str, dict]:
    """The indicators of a raw `indicators:` list by id (entries without one are left out)."""
    if not isinstance(raw, list):
        return {}
    return {i["id"]: i for i in raw if isinstance(i, dict) and isinstance(i.get("id"), str)}
