"""How long and how much memory one indicator's queries may take (issue 11, part 3).

An indicator file is edited by people, and a legal SQL expression can still be costly:
computed for every row of a large table, it can hold a page (and every user waiting on the
same server) for minutes. So each indicator, and each series of a figure, runs under a time
limit (a watchdog interrupts its queries, db.time_limit) and every read-only connection
under a memory limit (DuckDB's memory_limit, db.reader). Over a limit, that one indicator
reads status `error` with a message naming the limit and its setting; the rest carry on.

Each default can be changed by an environment variable named after it, CPC_LIMIT_<NAME>
(CPC_LIMIT_QUERY_SECONDS=30), read each time a connection opens or an indicator starts."""
from __future__ import annotations

from dataclasses import dataclass

from cpc_monitor.envlimits import env_name, from_environment


@dataclass(frozen=True)
class QueryLimits:
    """The most one indicator's queries may take. Every default indicator together takes
    about 1.5 s at scale 1000 (docs/benchmarks.md), so the defaults stop runaways only."""

    query_seconds: int = 10
    # DuckDB's buffer memory per database file open in this process (all its connections
    # share it): hash tables, sorts. Values built row by row (long text) are not counted in
    # it, which is why validate refuses the functions that build them (measures.py).
    query_memory_mb: int = 2_000


def current() -> QueryLimits:
    """The limits in force: the defaults, with any CPC_LIMIT_<NAME> from the environment."""
    return from_environment(QueryLimits)


def time_message(seconds: int) -> str:
    """Why an indicator over its time limit has no values, and how to fix it."""
    name = env_name("query_seconds")
    return (f"the query ran longer than the {seconds:,} s limit ({name}) and was stopped. Make the indicator "
            "cheaper (an expression computed on every row, over long text or many rows, is the usual cause), "
            f"or raise the limit: set {name} to more seconds where the dashboard or command runs.")


def memory_message(megabytes: int) -> str:
    """Why an indicator over its memory limit has no values, and how to fix it."""
    name = env_name("query_memory_mb")
    return (f"the query needed more than the {megabytes:,} MB memory limit ({name}) and was stopped. Make the "
            "indicator cheaper (fewer breakdowns, or a count instead of a count of distinct long values), or "
            f"raise the limit: set {name} to more megabytes where the dashboard or command runs.")
