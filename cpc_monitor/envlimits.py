"""Limits that an environment variable may change, read in one place.

The import limits (intake/limits.py) and the query limits (store/query_limits.py) are
frozen dataclasses of whole numbers. Each field's default can be replaced by an
environment variable named after it, CPC_LIMIT_<FIELD> (CPC_LIMIT_CSV_ROWS=5000000), read
each time the limits are asked for, so a changed setting takes effect without a restart."""
from __future__ import annotations

import os
from dataclasses import fields
from typing import TypeVar

from cpc_monitor.errors import LimitSettingError

ENV_PREFIX = "CPC_LIMIT_"

T = TypeVar("T")


def env_name(field_name: str) -> str:
    """The environment variable that sets the limit `field_name`."""
    return ENV_PREFIX + field_name.upper()


def from_environment(limits_class: type[T]) -> T:
    """`limits_class` with its defaults, and any CPC_LIMIT_<NAME> set in the environment."""
    defaults = limits_class()
    chosen: dict[str, int] = {}
    for f in fields(limits_class):
        raw = os.environ.get(env_name(f.name), "").strip()
        if raw:
            chosen[f.name] = _positive_number(env_name(f.name), raw, getattr(defaults, f.name))
    return limits_class(**chosen)


def _positive_number(name: str, raw: str, default: int) -> int:
    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise LimitSettingError(f"the environment variable {name} is '{raw}', not a whole number above 0; set it "
                                f"to one, such as {default}, or unset it to use the default ({default:,}).")
    return value
