"""The dialogue cycle in the indicator file: each bilateral dialogue, when and where it met,
and the annual targets it agreed per indicator (`dialogues:`).

The 2023 audit of the CPC partnerships found that the yearly dialogues agreed no
indicators and no annual targets; this section is where they are written down, so the
next dialogue can see each one against what was achieved."""
from __future__ import annotations

import calendar
import difflib
import re
from datetime import date
from typing import Annotated

from pydantic import Field, field_validator

from cpc_monitor.definitions.figures import NAME_PATTERN, _Strict

MONTH_ONLY = r"^\d{4}-(0[1-9]|1[0-2])$"  # "2023-05" where the public record gives no day


class AgreedTarget(_Strict):
    """One indicator's target as agreed at a dialogue: the value for a year (by default the
    year after the dialogue), and a note (how it was agreed, or that it is illustrative)."""

    value: float
    year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    note: str | None = None


class Dialogue(_Strict):
    """One bilateral dialogue and the targets it agreed."""

    id: Annotated[str, Field(pattern=NAME_PATTERN)]
    name: Annotated[str, Field(min_length=1)]
    date: date | str
    place: str | None = None
    source: str | None = None
    # indicator id -> the target agreed for it
    targets: dict[str, AgreedTarget] = {}

    @field_validator("date", mode="before")
    @classmethod
    def _day_or_month(cls, value: object) -> object:
        if isinstance(value, date) or (isinstance(value, str) and re.match(MONTH_ONLY, value)):
            return value
        raise ValueError(f"`date` must be a date such as 2022-07-13, or a month such as 2023-05 where the day is "
                         f"not on record; '{value}' is neither")

    @property
    def year(self) -> int:
        return self.date.year if isinstance(self.date, date) else int(self.date[:4])

    def target_year(self, target: AgreedTarget) -> int:
        """The year an agreed target is for: its own, else the year after the dialogue."""
        return target.year if target.year is not None else self.year + 1

    @property
    def when(self) -> str:
        """'23 June 2020', or 'May 2023' where only the month is known."""
        if isinstance(self.date, date):
            return f"{self.date.day} {calendar.month_name[self.date.month]} {self.date.year}"
        return f"{calendar.month_name[int(self.date[5:7])]} {self.date[:4]}"


def unknown_indicator_message(dialogue_id: str, indicator_id: str, known: list[str]) -> str:
    """What to say when a dialogue's target names no indicator of the file."""
    close = difflib.get_close_matches(indicator_id, known, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else " Use the `id:` of an indicator in this file."
    return f"dialogue '{dialogue_id}': the target for '{indicator_id}' names no indicator.{hint}"
