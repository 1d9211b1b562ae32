"""How large one import's files may be, held in one place (issue 11, part 2).

A file over a limit is refused before it is read (intake/sizes.py), so a huge or hostile
upload costs seconds and little memory, never the server. Each default below can be
changed by an environment variable named after it, CPC_LIMIT_<NAME> (for example
CPC_LIMIT_CSV_ROWS=5000000), read when an import starts; every refusal names it."""
from __future__ import annotations

from dataclasses import dataclass

from cpc_monitor.envlimits import env_name, from_environment

__all__ = ["Limits", "current", "env_name"]  # sizes.py names each limit's setting through env_name


@dataclass(frozen=True)
class Limits:
    """The largest file an import accepts, by kind. Defaults leave room for real exports."""

    # 1,000,000 rows of cases are 65 MB and import in about 4 s (docs/benchmarks.md).
    csv_bytes: int = 250_000_000
    csv_rows: int = 2_000_000
    # A workbook as uploaded (compressed), and all its parts once unpacked: the zip
    # members' declared sizes, which zipfile never reads beyond. The largest sheet the cell
    # limit allows unpacks to about 25 MB; openpyxl needs about 3 bytes per byte unpacked.
    xlsx_bytes: int = 50_000_000
    xlsx_unzipped_bytes: int = 100_000_000
    xlsx_parts: int = 10_000  # an Excel workbook has a few dozen
    # The list of sheets (xl/workbook.xml and its relationships), read whole to find the first
    # sheet: a few KB in a real workbook, and about ten times its size in memory.
    xlsx_sheet_list_bytes: int = 5_000_000
    # The first sheet. The reader (openpyxl) builds every cell of the rectangle from A1 to
    # the last row and column, empty or not, so it is the rectangle that is limited: about
    # 600 bytes a cell, so 500,000 cells stay under 500 MB (a full 800,000 took 639 MB).
    xlsx_rows: int = 100_000
    xlsx_columns: int = 200
    xlsx_cells: int = 500_000
    # Cells covered by merged ranges: the reader copies the value into each of them.
    xlsx_merged_cells: int = 100_000


def current() -> Limits:
    """The limits in force: the defaults, with any CPC_LIMIT_<NAME> from the environment."""
    return from_environment(Limits)
