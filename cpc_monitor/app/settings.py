"""Where the dashboard's files are: the one default path of the database, of the indicator
file and of the roles file (each overridable by an environment variable), and their version stamps."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from cpc_monitor.store import db


DB_ENV = "CPC_DB"  # names another database file (tests, benchmarks)
DEFAULT_DB = "data/cpc.duckdb"
INDICATORS_ENV = "CPC_INDICATORS"  # names another indicator file (tests load a broken one)
DEFAULT_INDICATORS = "indicators.yaml"
ROLES_ENV = "CPC_ROLES"  # names another roles file (tests, a deployment keeping it outside the project)
DEFAULT_ROLES = "roles.yaml"


def db_path() -> Path:
    """The database file: $CPC_DB, else data/cpc.duckdb."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


def indicators_path() -> Path:
    """The indicator file: $CPC_INDICATORS, else indicators.yaml."""
    return Path(os.environ.get(INDICATORS_ENV) or DEFAULT_INDICATORS)


def roles_path() -> Path:
    """The roles file (e-mail -> viewer, editor or admin): $CPC_ROLES, else roles.yaml."""
    return Path(os.environ.get(ROLES_ENV) or DEFAULT_ROLES)


def ensure_database() -> Path:
    """Build the synthetic sample database on first run (never over an existing file)."""
    path = db_path()
    if not path.exists():
        from cpc_monitor.intake.sample import build_sample  # imported here: only a first run needs it

        with st.spinner(f"First run: building the sample database {path} (a few seconds) ..."):
            build_sample(path)
    return path


def _mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def _stamp(path: Path) -> int:
    """The database's version stamp; a page that finds no database says how to build one."""
    try:
        return db.version_stamp(path)
    except FileNotFoundError:
        st.error(f"The database {path} does not exist. Build the sample with "
                 f"`python -m cpc_monitor sample --db {path}`, or start the app with `streamlit run dashboard.py`.")
        st.stop()
