"""The command line starts without the heavy libraries: `--help`, a mistyped command and
building the parser import none of pandas, DuckDB, pydantic or Streamlit (they load only
inside the commands that use them). Behaviour, not timing: benchmarks/cli_startup.py
prints the times."""
from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT

HEAVY = ("pandas", "duckdb", "pydantic", "streamlit", "numpy", "openpyxl", "yaml")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_building_the_parser_imports_no_heavy_library():
    assert _loaded_after("import importlib\nimportlib.import_module('cpc_monitor.cli.main').build_parser()") == []


def test_help_runs_without_heavy_libraries():
    code = ("import contextlib, io, runpy\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    runpy.run_module('cpc_monitor', run_name='__main__')")
    sys_argv = "import sys\nsys.argv = ['cpc_monitor', '--help']\n"
    assert _loaded_after(sys_argv + code) == []


def test_the_probe_sees_a_heavy_import():  # so the two tests above can fail
    assert {"pandas", "duckdb"} <= set(_loaded_after("import cpc_monitor.cli.evaluate_output"))
