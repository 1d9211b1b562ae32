"""Command-line commands for getting data in (import, restore, duplicate review)."""
from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the data-in commands to the main parser's subcommands."""
