"""The command line. Each command is a thin wrapper over one library call; errors the
package raises on purpose become one clear line on stderr and exit status 1 (2 for
usage), never a traceback."""
from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

# Only light modules at the top: pandas, pydantic, DuckDB and the engine are imported inside
# the commands that use them, so `--help` and a mistyped command answer at once.
from cpc_monitor.errors import CpcError, DatabaseExists, IndicatorFileError, IndicatorSaveRefused, UnknownIndicator

DEFAULT_DB = "data/cpc.duckdb"
DEFAULT_INDICATORS = "indicators.yaml"
DEFAULT_SCHEMA = "indicators.schema.json"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except IndicatorFileError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return 1
    except IndicatorSaveRefused as exc:
        for issue in exc.issues:
            if issue.severity == "error":
                print(issue, file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except CpcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing was changed.", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cpc_monitor",
        description="CPC Monitor: indicators of the US-Jamaica Child Protection Compact, measured toward 2030.")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = sub.add_parser("sample", help="write the synthetic sample database",
                       description="Write the synthetic sample database (2015-2025, deterministic per seed). "
                                   "Example: python -m cpc_monitor sample --db data/cpc.duckdb")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database to write (default {DEFAULT_DB})")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--scale", type=int, default=1, help="multiply the event tables by K, for benchmarks (default 1)")
    p.set_defaults(run=_sample)

    p = sub.add_parser("init", help="write an empty database with the schema and reference tables",
                       description="Write an empty database: every table, the parishes, population and "
                                   "child-friendly spaces. Example: python -m cpc_monitor init --db data/new.duckdb")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database to write (default {DEFAULT_DB})")
    p.set_defaults(run=_init)

    p = sub.add_parser("validate", help="check indicators.yaml (exit 0 clean, 1 errors)",
                       description="Check an indicator file: syntax, structure and, with a database, meaning. "
                                   "Example: python -m cpc_monitor validate indicators.yaml --db data/cpc.duckdb")
    p.add_argument("yaml", nargs="?", default=DEFAULT_INDICATORS, help=f"indicator file (default {DEFAULT_INDICATORS})")
    p.add_argument("--db", help=f"database to check tables and columns against (default {DEFAULT_DB} when it exists)")
    p.set_defaults(run=_validate)

    p = sub.add_parser("evaluate", help="every indicator's yearly values and progress status",
                       description="Print every indicator's yearly values and its status toward the target. "
                                   "Example: python -m cpc_monitor evaluate --id prosecution.convictions --by statute")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database (default {DEFAULT_DB})")
    p.add_argument("--indicators", default=DEFAULT_INDICATORS, help=f"indicator file (default {DEFAULT_INDICATORS})")
    p.add_argument("--id", action="append", dest="ids", metavar="ID", help="only this indicator (repeatable)")
    p.add_argument("--by", metavar="COLUMN", help="break every indicator down by this column")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    p.add_argument("--suppress", action="store_true", help="hide small counts, as downloads and exports do")
    p.add_argument("--period", choices=("calendar", "tip"),
                   help="count every indicator in calendar years or TIP Report years (April-March, named by the "
                        "year they end in); default: each indicator's own `period:`")
    p.add_argument("--year", type=int, metavar="Y",
                   help="judge as at year Y: only the years up to Y count (as `report --year Y` does)")
    p.set_defaults(run=_evaluate)

    p = sub.add_parser("report", help="write the briefing pack (PowerPoint, PDF or HTML)",
                       description="Write the briefing pack for a bilateral dialogue: title and goal, key messages, "
                                   "the 2030 scorecard, each pillar, the targets agreed at a dialogue against what "
                                   "was achieved, funding, the child-friendly spaces map, what needs acceleration, "
                                   "and the method. Small counts are always hidden. Example: python -m cpc_monitor "
                                   "report --format pptx --out briefing.pptx --year 2025 --dialogue final")
    p.add_argument("--format", choices=("pptx", "pdf", "html"), required=True, help="file format")
    p.add_argument("--out", required=True, metavar="FILE", help="file to write (replaced whole, never half-written)")
    p.add_argument("--year", type=int, metavar="Y", help="the year to brief on (default: the latest in the data)")
    p.add_argument("--dialogue", metavar="D",
                   help="the id of the dialogue whose agreed targets are reviewed (default: the last one held "
                        "by the year)")
    p.add_argument("--db", default=DEFAULT_DB, help=f"database (default {DEFAULT_DB})")
    p.add_argument("--indicators", default=DEFAULT_INDICATORS, help=f"indicator file (default {DEFAULT_INDICATORS})")
    p.add_argument("--settings", metavar="YAML",
                   help="branding: title, partnership, logo, source (default briefing.yaml, or $CPC_BRIEFING)")
    p.set_defaults(run=_report)

    p = sub.add_parser("schema", help="write indicators.schema.json for editors",
                       description="Write the JSON Schema of indicators.yaml, so editors check the file as it "
                                   "is typed. Example: python -m cpc_monitor schema --out indicators.schema.json")
    p.add_argument("--out", default=DEFAULT_SCHEMA, help=f"file to write (default {DEFAULT_SCHEMA})")
    p.set_defaults(run=_schema)

    from cpc_monitor.cli import data as cli_data  # import, restore and duplicate review: the data-in commands
    cli_data.add_commands(sub)
    from cpc_monitor.cli import history as cli_history  # the indicator file's versions
    cli_history.add_commands(sub)
    return parser


# ------------------------------------------------------------------------- commands


def _sample(args) -> int:
    from cpc_monitor.intake.sample import build_sample

    counts = build_sample(args.db, seed=args.seed, scale=args.scale)
    rows = ", ".join(f"{table} {n:,}" for table, n in counts.items())
    print(f"wrote the synthetic sample to {args.db}: {rows}")
    return 0


def _init(args) -> int:
    from cpc_monitor.store.schema import init_database

    if Path(args.db).exists():
        raise DatabaseExists(f"{args.db} already exists; init writes a new database. "
                             "Choose another path with --db, or move the file away first.")
    init_database(args.db)
    print(f"wrote an empty database to {args.db} (schema and reference tables; event tables empty)")
    return 0


def _validate(args) -> int:
    from cpc_monitor.definitions import indicators
    from cpc_monitor.evaluation import checking

    text = indicators.read_text(args.yaml)
    db_path = args.db or (DEFAULT_DB if Path(DEFAULT_DB).is_file() else None)
    checked = checking.check_text(text, Path(args.yaml).name, db_path)
    if checked.iset is None:
        raise IndicatorFileError(checked.issues)
    issues = list(checked.issues)
    if db_path is None:
        issues.append(indicators.Issue("warning", checked.iset.file, 0, None,
                                       f"no database given and {DEFAULT_DB} does not exist, so tables, columns "
                                       "and SQL were not checked; pass --db PATH to check them."))
        issues.sort(key=lambda i: (i.line, i.severity))
    for issue in issues:
        print(issue)
    errors = len(checked.errors)
    warnings = len(issues) - errors
    count = len(checked.iset.indicators) + len(checked.iset.broken)
    print(f"{checked.iset.file}: {count} indicators, {errors} error{'s' * (errors != 1)}, "
          f"{warnings} warning{'s' * (warnings != 1)}", file=sys.stderr)
    return 1 if errors else 0


def _evaluate(args) -> int:
    from cpc_monitor.cli import evaluate_output as output
    from cpc_monitor.definitions import indicators
    from cpc_monitor.evaluation import engine

    iset = indicators.load_indicators(args.indicators)
    known = list(iset.index) + [k for k in iset.broken if k not in iset.index]
    for wanted in args.ids or []:
        if wanted not in known:
            close = difflib.get_close_matches(wanted, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise UnknownIndicator(f"there is no indicator '{wanted}' in {args.indicators}.{hint}")
    from cpc_monitor.evaluation.measures import Filters
    from cpc_monitor.present.briefing import choose_year

    year = choose_year(args.year, engine.data_years(args.db) if args.year is not None else None)
    evaluation = engine.evaluate(args.db, iset, ids=args.ids, by=args.by,
                                 filters=Filters(period=args.period, year_to=year))
    rows = [output.result_json(r, args.by, args.suppress) for r in evaluation.results]
    if args.format == "json":
        print(json.dumps({"indicators": rows}, indent=2, default=output.json_default))
    elif args.format == "csv":
        output.print_csv(rows, args.by)
    else:
        output.print_table(evaluation, rows, args.by)
    failed = [r for r in evaluation.results if r.status == engine.ERROR]
    for r in failed:
        for e in r.errors:
            print(e, file=sys.stderr)
    return 1 if evaluation.results and len(failed) == len(evaluation.results) else 0


def _report(args) -> int:
    import time

    from cpc_monitor.present import branding, briefing, export

    started = time.perf_counter()
    out = Path(args.out)
    export.check_writable(out)  # before any work: a wrong path is said at once
    if not Path(args.db).is_file():
        from cpc_monitor.errors import DatabaseMissing

        raise DatabaseMissing(f"{args.db} does not exist. Build the sample with `python -m cpc_monitor sample "
                              f"--db {args.db}`, or name the database with --db.")
    pack = briefing.load_pack(args.db, args.indicators, branding.load_branding(args.settings), args.year,
                              args.dialogue)
    size = export.write_atomically(out, lambda: export.pack_bytes(pack, args.format))
    print(f"wrote {out}: {len(pack.slides)} slides, {size / 1024:,.0f} KB, in "
          f"{time.perf_counter() - started:.1f} s")
    return 0


def _schema(args) -> int:
    from cpc_monitor.definitions import indicators

    Path(args.out).write_text(json.dumps(indicators.json_schema(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
