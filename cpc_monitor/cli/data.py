"""Command-line commands for getting data in: import, restore, and the review of likely
duplicate victims (duplicates, decide, undo). Each is a thin wrapper over one library
call (importer, backups, dedupe); errors become clear lines on stderr and exit status 1."""
from __future__ import annotations

import argparse
import sys

# rules and codes are light (no pandas, no DuckDB); the commands import the rest when they run.
from cpc_monitor.intake import rules
from cpc_monitor.store import codes

DEFAULT_DB = "data/cpc.duckdb"


# Pairs `duplicates` prints at once, earliest first; decided pairs make room for the next.
LISTED_PAIRS = 200


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the data-in commands to the main parser's subcommands."""
    p = sub.add_parser(
        "import", help="check and load CSV/XLSX files into a table (all or nothing)",
        description="Check CSV or XLSX files (first sheet) against the data model and load them into TABLE, "
                    "all or nothing: any problem is listed with file, row, column and fix, and nothing is "
                    "written. Example: python -m cpc_monitor import --db data/cpc.duckdb cases jcf-2024.csv "
                    "--dry-run")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database (default {DEFAULT_DB})")
    p.add_argument("table", metavar="TABLE", help=f"table to fill: {', '.join(rules.IMPORTABLE)}")
    p.add_argument("files", metavar="FILE", nargs="+", help="CSV (UTF-8, header row) or XLSX files")
    p.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    p.add_argument("--mode", choices=rules.MODES, default="append",
                   help="append rows (default), or replace the whole table")
    p.set_defaults(run=_import)

    p = sub.add_parser(
        "restore", help="list the kept backups, or bring one back",
        description="Without BACKUP, list the kept earlier versions of the database, newest first. With it, "
                    "bring that version back (the current one is kept as a backup, so this can be undone). "
                    "Example: python -m cpc_monitor restore --db data/cpc.duckdb cpc-1735689600000000000.duckdb")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database (default {DEFAULT_DB})")
    p.add_argument("backup", metavar="BACKUP", nargs="?", help="a backup's file name, as listed")
    p.set_defaults(run=_restore)

    p = sub.add_parser(
        "duplicates", help="list likely duplicate victims waiting for review",
        description="List pairs of victim records from different agencies that may be the same child (same "
                    "sex, parish and exploitation, ages within a year, identified within 14 days). Example: "
                    "python -m cpc_monitor duplicates --db data/cpc.duckdb")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database (default {DEFAULT_DB})")
    p.set_defaults(run=_duplicates)

    p = sub.add_parser(
        "decide", help="mark a pair of victim records same_person or different",
        description="Record a review decision. same_person: KEPT (the earlier-identified record) stays and "
                    "OTHER no longer counts in any indicator; different: both count. Undo with `undo`. "
                    "Example: python -m cpc_monitor decide --db data/cpc.duckdb JCF-V-12 CPFSA-V-3 same_person")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database (default {DEFAULT_DB})")
    p.add_argument("kept", metavar="KEPT", help="victim_id of the earlier-identified record")
    p.add_argument("other", metavar="OTHER", help="victim_id of the other record")
    p.add_argument("decision", metavar="DECISION", choices=codes.DUPLICATE_DECISIONS, help="same_person or different")
    p.set_defaults(run=_decide)

    p = sub.add_parser(
        "undo", help="remove a duplicate decision",
        description="Remove the decision on a pair of victim records; both count as before and the pair is "
                    "listed for review again. Example: python -m cpc_monitor undo --db data/cpc.duckdb "
                    "JCF-V-12 CPFSA-V-3")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database (default {DEFAULT_DB})")
    p.add_argument("kept", metavar="KEPT", help="victim_id of one record of the pair")
    p.add_argument("other", metavar="OTHER", help="victim_id of the other record")
    p.set_defaults(run=_undo)


def _import(args) -> int:
    from cpc_monitor.errors import ImportRefused
    from cpc_monitor.intake import importer

    try:
        report = importer.import_files(args.db, args.table, args.files, mode=args.mode, dry_run=args.dry_run)
    except ImportRefused as refused:
        report = refused.report
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if not report.ok:
        print(report.summary(), file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def _restore(args) -> int:
    from cpc_monitor.store import backups

    if args.backup is None:
        kept = backups.backups(args.db)
        if kept.empty:
            print(f"no backups of {args.db} yet; one is kept each time an import or a decision changes it.")
            return 0
        print(f"backups of {args.db}, newest first (restore one with: restore --db {args.db} NAME):")
        for row in kept.itertuples():
            print(f"  {row.name}  saved {row.saved_at:%Y-%m-%d %H:%M:%S} UTC  {row.size_bytes:,} bytes")
        return 0
    used = backups.restore(args.db, args.backup)
    print(f"restored {args.db} from {used.name}; the version it replaced is kept as a backup.")
    return 0


def _duplicates(args) -> int:
    from cpc_monitor.intake import dedupe

    pairs, total = dedupe.pending_review(args.db, LISTED_PAIRS)
    if pairs.empty:
        print("no likely duplicate victims are waiting for review.")
        return 0
    print(pairs.to_string(index=False))
    shown = f" (the first {len(pairs)} listed)" if total > len(pairs) else ""
    print(f"\n{total:,} pair{'s' * (total != 1)} to review{shown}; mark each with: "
          f"decide --db {args.db} KEPT OTHER same_person|different")
    return 0


def _decide(args) -> int:
    from cpc_monitor.intake import dedupe

    print(dedupe.decide(args.db, args.kept, args.other, args.decision))
    return 0


def _undo(args) -> int:
    from cpc_monitor.intake import dedupe

    undone = dedupe.undo(args.db, args.kept, args.other)
    print(f"removed the decision {undone.decision} on {undone.kept} and {undone.other}; "
          "the pair is listed for review again.")
    return 0
