"""Every exception the package defines is a CpcError (the one class the command line and the
pages catch), named in cpc_monitor/errors.py, except the two in-module signals."""
from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil

import pytest

import cpc_monitor
from cpc_monitor import errors
from cpc_monitor.cli.main import _evaluate, _init
from helpers import ROOT

# Caught inside their own module and turned into an indicator's issue (errors.py says why).
SIGNALS = {"cpc_monitor.evaluation.measures.MeasureProblem", "cpc_monitor.definitions.yamlfile.YamlProblem"}


def _package_exceptions() -> dict[str, type[BaseException]]:
    found = {}
    for info in pkgutil.walk_packages(cpc_monitor.__path__, "cpc_monitor."):
        if info.name == "cpc_monitor.__main__":
            continue  # running it is the command line itself
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == info.name:
                found[f"{info.name}.{name}"] = value
    return found


def test_every_package_exception_is_a_cpc_error_defined_in_errors():
    found = _package_exceptions()
    assert "cpc_monitor.errors.ImportRefused" in found, "the walk must see errors.py's classes"
    assert set(found) - SIGNALS, "there are exceptions besides the signals"
    outside = sorted(name for name, cls in found.items() if name not in SIGNALS and not issubclass(cls, errors.CpcError))
    assert outside == []
    elsewhere = sorted(name for name in found if name not in SIGNALS and not name.startswith("cpc_monitor.errors."))
    assert elsewhere == [], "define package exceptions in cpc_monitor/errors.py"
    assert SIGNALS <= set(found), "a signal was renamed or moved: update SIGNALS and errors.py's docstring"


def test_command_line_failures_raise_their_own_class(tmp_path):
    existing = tmp_path / "cpc.duckdb"
    existing.write_bytes(b"")
    with pytest.raises(errors.DatabaseExists, match="already exists; init writes a new database"):
        _init(argparse.Namespace(db=str(existing)))
    with pytest.raises(errors.UnknownIndicator, match=r"^there is no indicator 'no\.such' in "):
        _evaluate(argparse.Namespace(indicators=str(ROOT / "indicators.yaml"), ids=["no.such"],
                                     db=str(existing), by=None, format="table", suppress=False))
