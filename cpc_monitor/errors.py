"""Named errors, one per kind of failure, all under CpcError. They are raised where the
failure happens and turned into a clean message only at the edges (the command line, a
page), which catch CpcError alone: an error outside it would reach the user as a traceback.

Two exceptions stay outside on purpose, as signals caught inside their own module and
turned into an indicator's issue, never raised past it: evaluation.measures.MeasureProblem
and definitions.yamlfile.YamlProblem."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the importer imports this module: only type checkers read the report's type
    from cpc_monitor.intake.importer import ImportReport


class CpcError(Exception):
    """Base of every error this package raises on purpose; its text is meant for people."""


# ----------------------------------------------------------------------------- the database file


class DatabaseMissing(CpcError):
    """The database file the user named does not exist."""


class DatabaseUnusable(CpcError):
    """The database file exists but cannot be opened or lacks the expected tables."""


class DatabaseBusy(CpcError):
    """Another writer holds the database's lock."""


class DiskFull(CpcError):
    """The disk (or the quota, or the file-size limit) ran out while the new copy of the database was written."""


class DatabaseExists(CpcError):
    """`init` was asked to write a new database where a file already is."""


class BackupNotFound(CpcError):
    """The backup named for a restore is not one of the database's backups."""


# ----------------------------------------------------------------------------- indicators


class IndicatorFileError(CpcError):
    """The indicator file cannot be used at all (not YAML, not a mapping, duplicate ids ...)."""

    def __init__(self, issues: list) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class IdentifierBreakdown(CpcError):
    """A breakdown was asked for by a column that names single records (evaluate --by victim_id)."""


class UnknownIndicator(CpcError):
    """An indicator id asked for (evaluate --id) is not in the indicator file."""


class IndicatorSaveRefused(CpcError):
    """An indicator file with errors was to be saved; `issues` lists every problem, nothing was written."""

    def __init__(self, issues: list) -> None:
        self.issues = issues
        errors = [i for i in issues if i.severity == "error"]
        super().__init__(f"the indicator file was not saved: it has {len(errors)} error"
                         f"{'s' * (len(errors) != 1)}; fix them and save again.")


class IndicatorFileChanged(CpcError):
    """The indicator file on disk changed since the editor loaded it; `diff` shows how."""

    def __init__(self, path: str, diff: str) -> None:
        self.diff = diff
        super().__init__(f"{path} was changed by someone else since you opened it, so your version was not "
                         "saved (it would undo their change). Reload the file, make your change again, and save.")


class IndicatorSaveFailed(CpcError):
    """The indicator file or its history could not be written (permissions, a full disk); nothing changed."""


class VersionNotFound(CpcError):
    """The version of the indicator file named for a diff or restore is not in its history."""


class IndicatorEditError(CpcError):
    """A form's change cannot be written into the indicator file (the file is broken, the id is taken ...)."""


# ----------------------------------------------------------------------------- imports


class UnknownTable(CpcError):
    """The table named for an import is not one an import can fill."""


class UnknownImportMode(CpcError):
    """The import mode is neither append nor replace."""


class NoImportFiles(CpcError):
    """An import was asked for with no file to load."""


class LimitSettingError(CpcError):
    """A CPC_LIMIT_<NAME> environment variable does not hold a usable number."""


class ImportRefused(CpcError):
    """The files have problems; nothing was written. `report` lists every one."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(report.summary())


class DecisionError(CpcError):
    """A duplicate decision or undo that cannot be made (unknown id, wrong order, already decided ...)."""


# ----------------------------------------------------------------------------- sign-in and roles


class RolesFileError(CpcError):
    """The roles file cannot be used; `problems` holds one line per problem (file, line, fix).
    The dashboard then treats everyone as a viewer."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# ----------------------------------------------------------------------------- the sample and the command line


class SampleOptionError(CpcError):
    """The sample's seed or scale is out of range."""


class SampleRefused(CpcError):
    """The sample would be written over a file that may hold real data (or cannot be read)."""


class UsageError(CpcError):
    """The command line was called with arguments that do not fit together."""


# ----------------------------------------------------------------------------- the briefing pack


class BriefingSettingsError(CpcError):
    """The briefing settings file (title, partnership, logo) cannot be used; the message names the line."""


class UnknownChoice(CpcError):
    """A year or dialogue asked for (report --year, --dialogue) is not one the data or the file hold."""


class ExportFailed(CpcError):
    """A briefing pack could not be written (an unwritable path, a chart that would not draw); nothing was left."""


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an exception's text (DuckDB's run on for lines), for a one-line message."""
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
