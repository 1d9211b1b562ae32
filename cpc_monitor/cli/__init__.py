"""The command line (`python -m cpc_monitor`)."""
from cpc_monitor.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
