"""The rules of the data model that every imported row must keep, as SQL conditions with
the message each breach gets (what is wrong and how to fix it).

The same rules check an import's staging rows and, for the data quality page, the rows
already stored (quality.py). Only the standard library and the schema are imported, so
the command line can name the importable tables without loading pandas or DuckDB."""
from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from cpc_monitor.store import codes
from cpc_monitor.store.schema import TABLES, Column, Table

MODES = ("append", "replace")
# Tables an import may fill: the event tables (reference tables come from `init`).
IMPORTABLE = tuple(name for name, spec in TABLES.items() if spec.event)
# Rows listed per check; the rest are counted in one line, so a file that is wrong on
# every row still gives a short report.
PROBLEMS_PER_CHECK = 200
_DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_INT_RE = r"[+-]?[0-9]{1,10}"
_DECIMAL_RE = r"[+-]?[0-9]{1,12}(\.[0-9]{1,2})?"
# How a pattern of the schema reads in a message.
_PATTERN_TEXT = {"[A-Z]{3}": "a three-letter ISO 3166-1 alpha-3 code in capitals, such as JAM"}


@dataclass(frozen=True)
class Rule:
    """One rule of the data model over a table's columns, checked in SQL.

    `condition` is true for a row that breaks the rule; it reads the columns by their own
    names and types, so the same rule checks an import's staging rows and, for the data
    quality page, the rows already in the database."""

    column: str
    name: str  # the rule in a few words, e.g. "parish is a parish"
    condition: str
    message: Callable[[str, str | None], str]  # (value, detail) -> what is wrong and the fix
    detail: str = "NULL"  # SQL text shown in the message beside the value


def rule_checks(spec: Table, today: date) -> list[Rule]:
    """The rules every row of `spec` must keep (codes, ranges, dates, order, parents)."""
    rules: list[Rule] = []
    for col in spec.columns:
        c = col.name
        if col.codes:
            rules.append(Rule(c, f"{c} is an allowed code", f"{c} NOT IN ({_sql_list(col.codes)})",
                              _code_message(c, col.codes)))
        if col.pattern:
            form = _PATTERN_TEXT.get(col.pattern, f"of the form {col.pattern}")
            rules.append(Rule(c, f"{c} is {form}", f"NOT regexp_full_match({c}, '{col.pattern}')",
                              lambda v, d, form=form: f"'{v}' is not {form}."))
        if col.minimum is not None and col.maximum is not None:
            lo, hi = f"{col.minimum:g}", f"{col.maximum:g}"
            rules.append(Rule(c, f"{c} is {lo} to {hi}", f"({c} < {lo} OR {c} > {hi})",
                              lambda v, d, c=c, lo=lo, hi=hi: f"'{v}' is outside {lo} to {hi}; {c} must be "
                                                              f"between {lo} and {hi}."))
        elif col.minimum is not None:
            lo = f"{col.minimum:g}"
            rules.append(Rule(c, f"{c} is at least {lo}", f"{c} < {lo}",
                              (lambda v, d, c=c: f"'{v}' is negative; {c} cannot be below 0.") if col.minimum == 0
                              else (lambda v, d, c=c, lo=lo: f"'{v}' is below {lo}, the smallest {c} allowed.")))
        elif col.maximum is not None:
            hi = f"{col.maximum:g}"
            rules.append(Rule(c, f"{c} is at most {hi}", f"{c} > {hi}",
                              lambda v, d, c=c, hi=hi: f"'{v}' is above {hi}, the largest {c} allowed."))
        if col.type == "DATE":
            rules.append(Rule(c, f"{c} is not in the future", f"{c} > DATE '{today.isoformat()}'",
                              lambda v, d, t=today: f"'{v}' is in the future; dates must be on or before "
                                                    f"today ({t.isoformat()})."))
        if col.references:
            rules.append(_reference_rule(col))
    for earlier, later in spec.ordered_dates:
        rules.append(Rule(later, f"{later} is not before {earlier}", f"{later} < {earlier}",
                          lambda v, d, a=earlier, b=later: f"{b} '{v}' is before {a} '{d}'; it cannot be earlier. "
                                                           "Correct whichever date is wrong.",
                          detail=f"CAST({earlier} AS VARCHAR)"))
    for check in spec.extra_checks:
        rules.append(_extra_rule(check))
    return rules


def _reference_rule(col: Column) -> Rule:
    parent, key = col.references.split(".")  # type: ignore[union-attr]
    c = col.name
    # The NULL test matters: in SQL, NULL NOT IN (an empty set) is true.
    condition = f"{c} IS NOT NULL AND {c} NOT IN (SELECT {key} FROM {parent} WHERE {key} IS NOT NULL)"
    if parent == "parishes":
        return Rule(c, f"{c} is a parish", condition, _code_message(c, codes.PARISHES, what="a parish"))
    empty = "" if col.required else f", or leave {c} empty"
    return Rule(c, f"{c} is in {parent}", condition,
                lambda v, d: f"'{v}' is not in {parent}: there is no {key} '{v}'. Import that record into "
                             f"{parent} first, or correct the {c}{empty}.")


# Table-level rules in words: the SQL CHECK -> (column, what is wrong, detail SQL).
_EXTRA_TEXT = {
    "female_participants IS NULL OR female_participants <= participants": (
        "female_participants", "CAST(participants AS VARCHAR)",
        lambda v, d: f"female_participants '{v}' is more than participants '{d}'; it counts the women among "
                     "the participants, so it cannot be larger."),
}


def _extra_rule(check: str) -> Rule:
    column, detail, message = _EXTRA_TEXT.get(
        check, (None, "NULL", lambda v, d, check=check: f"the row breaks the rule {check}; correct its values."))
    return Rule(column or "", check, f"NOT coalesce(({check}), true)", message, detail=detail)


def _code_message(column: str, allowed: Sequence[str], what: str | None = None) -> Callable[[str, str | None], str]:
    what = what or f"an allowed {column}"
    label = "Parishes" if what == "a parish" else "Allowed"
    return lambda v, d: f"'{v}' is not {what}.{did_you_mean(v, allowed)} {label}: {', '.join(allowed)}."


def did_you_mean(value: str, allowed: Sequence[str]) -> str:
    """' Did you mean 'x'?' for the allowed value closest to `value`, or ''."""
    folded = {a.casefold().replace(" ", "").replace("_", ""): a for a in allowed}
    key = value.casefold().replace(" ", "").replace("_", "").replace("-", "").replace(".", "")
    close = [folded[key]] if key in folded else difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    if not close:
        close = [folded[k] for k in difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)]
    return f" Did you mean '{close[0]}'?" if close else ""


def _sql_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# ----------------------------------------------------------------------------- checks of the text itself


def typed_sql(col: Column) -> str:
    """SQL giving the typed value of a text column, NULL when the text is not of that type."""
    c = col.name
    if col.type == "DATE":
        return f"CASE WHEN regexp_full_match({c}, '{_DATE_RE}') THEN TRY_CAST({c} AS DATE) END"
    if col.type == "INTEGER":
        return f"CASE WHEN regexp_full_match({c}, '{_INT_RE}') THEN TRY_CAST({c} AS INTEGER) END"
    if col.type.startswith("DECIMAL"):
        return f"CASE WHEN regexp_full_match({c}, '{_DECIMAL_RE}') THEN TRY_CAST({c} AS {col.type}) END"
    if col.type == "BOOLEAN":
        return f"CASE lower({c}) WHEN 'true' THEN true WHEN 'false' THEN false END"
    raise ValueError(f"no import conversion for the type {col.type} of {c}")


# What a badly written value of each type is told (dates have their own two checks).
_FORMAT_TEXT: dict[str, Callable[[str, str | None], str]] = {
    "INTEGER": lambda v, d: f"'{v}' is not a whole number; write digits only, such as 12.",
    "BOOLEAN": lambda v, d: f"'{v}' is not true or false; write true or false.",
    "DECIMAL": lambda v, d: (f"'{v}' is not an amount; write digits with at most two decimals and no currency "
                             "sign or thousands separator, such as 1500.50."),
}


def format_checks(spec: Table, lacking: dict[str, list[int]]) -> list[Rule]:
    """Checks of the text itself: required values given; dates, numbers and booleans well formed.

    `lacking` names, per column, the files without it: their header problem says so once."""
    rules = []
    for col in spec.columns:
        c = col.name
        if col.required:
            skip = f" AND _file NOT IN ({', '.join(map(str, lacking[c]))})" if lacking.get(c) else ""
            rules.append(Rule(c, f"{c} is given", f"{c} IS NULL{skip}",
                              lambda v, d, c=c: f"{c} is empty; every row needs one."))
        if col.type == "DATE":
            rules.append(Rule(c, f"{c} is YYYY-MM-DD",
                              f"{c} IS NOT NULL AND NOT regexp_full_match({c}, '{_DATE_RE}')",
                              lambda v, d: f"'{v}' is not a date in the form YYYY-MM-DD (for example 2021-03-04)."))
            rules.append(Rule(c, f"{c} is a real date",
                              f"{c} IS NOT NULL AND {c}__v IS NULL AND regexp_full_match({c}, '{_DATE_RE}')",
                              lambda v, d: f"'{v}' is not a real date; check the day and the month."))
        elif col.type != "TEXT":
            rules.append(Rule(c, f"{c} is a {col.type.lower()}", f"{c} IS NOT NULL AND {c}__v IS NULL",
                              _FORMAT_TEXT[col.type.split("(")[0]]))
    return rules
