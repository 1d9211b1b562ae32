"""Named errors, one per failure mode. They are raised where the failure happens and
turned into a clean message only at the edges (the command line, a page)."""


class CpcError(Exception):
    """Base of every error this package raises on purpose; its text is meant for people."""


class DatabaseMissing(CpcError):
    """The database file the user named does not exist."""


class DatabaseUnusable(CpcError):
    """The database file exists but cannot be opened or lacks the expected tables."""


class DatabaseBusy(CpcError):
    """Another writer holds the database's lock."""


class IndicatorFileError(CpcError):
    """The indicator file cannot be used at all (not YAML, not a mapping, duplicate ids ...)."""

    def __init__(self, issues: list) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class UsageError(CpcError):
    """The command line was called with arguments that do not fit together."""


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an exception's text (DuckDB's run on for lines), for a one-line message."""
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
