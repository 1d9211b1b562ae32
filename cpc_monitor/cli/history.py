"""Command-line commands for the indicator file's kept versions: `history` lists them (or
shows the difference between two) and `restore-indicators` brings one back. Each is a thin
wrapper over definitions.versions, the same code the dashboard's editor uses."""
from __future__ import annotations

import argparse
import sys

DEFAULT_DB = "data/cpc.duckdb"
DEFAULT_INDICATORS = "indicators.yaml"


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the indicator-history commands to the main parser's subcommands."""
    p = sub.add_parser(
        "history", help="list the saved versions of indicators.yaml, or diff two",
        description="List every kept version of the indicator file: number, when (UTC), who, and which "
                    "indicators it added, removed or changed. With --diff A B, show what changed from version A "
                    "to version B. Example: python -m cpc_monitor history --diff 3 4")
    p.add_argument("--indicators", default=DEFAULT_INDICATORS,
                   help=f"indicator file (default {DEFAULT_INDICATORS})")
    p.add_argument("--diff", nargs=2, type=int, metavar=("A", "B"), help="show the changes from version A to B")
    p.set_defaults(run=_history)

    p = sub.add_parser(
        "restore-indicators", help="bring back a saved version of indicators.yaml",
        description="Bring back version VERSION of the indicator file (see `history`). It is checked like any "
                    "save (no errors allowed), kept as a new version, so it can be undone, and written to the "
                    "audit log. Example: python -m cpc_monitor restore-indicators 3 --db data/cpc.duckdb")
    p.add_argument("version", type=int, metavar="VERSION", help="the version number, as `history` lists it")
    p.add_argument("--indicators", default=DEFAULT_INDICATORS,
                   help=f"indicator file (default {DEFAULT_INDICATORS})")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database to check against; its audit log records the "
                                                    f"restore (default {DEFAULT_DB})")
    p.set_defaults(run=_restore_indicators)


def _history(args) -> int:
    from cpc_monitor.definitions import versions

    if args.diff:
        print(versions.diff_versions(args.indicators, *args.diff) or "the two versions are the same.", end="")
        return 0
    kept = versions.versions(args.indicators)
    if not kept:
        print(f"{args.indicators} has no saved versions yet: versions are kept from the first save in the "
              "dashboard's editor (or restore-indicators).")
        return 0
    print(f"{'version':>7}  {'when (UTC)':<25}  {'who':<20}  what changed")
    for v in kept:
        what = f"restored version {v.restored_from}: {v.summary}" if v.restored_from else v.summary
        print(f"{v.number:>7}  {v.at:<25}  {v.who:<20}  {what}")
    return 0


def _restore_indicators(args) -> int:
    from cpc_monitor.definitions import indicators, versions
    from cpc_monitor.store import audit

    loaded = indicators.read_text(args.indicators)
    version = versions.restore(args.indicators, args.version, loaded=loaded, who=audit.current_user(),
                               db_path=args.db)
    print(f"restored version {args.version} of {args.indicators} as version {version.number}: {version.summary}")
    return 0
