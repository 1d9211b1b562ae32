"""Victims reported by more than one agency: likely duplicates, listed for review and
never merged silently.

A pair is a likely duplicate when the two records have the same sex, ages within a year,
identification dates within 14 days, the same parish and the same form of exploitation,
and were identified by different agencies. A reviewer marks a pair "same_person" (the
earlier-identified record is kept; the other no longer counts in any indicator, see
measures.DUPLICATE_EXCLUSION) or "different". Decisions live in the database file
(duplicate_decisions), so later imports, which copy the file, keep them; each one and
each undo is written through db.rebuild and logged in the audit log."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pandas as pd

from cpc_monitor.store import audit, codes, db
from cpc_monitor.errors import DecisionError

DECISIONS = codes.DUPLICATE_DECISIONS
# How close two records must be to be listed as a likely duplicate.
MAX_AGE_GAP_YEARS = 1
MAX_DAYS_APART = 14

# Counting stops after this many pairs: beyond it a page says "at least" (a scaled benchmark
# database has millions of pairs; counting them all on every view took seconds).
COUNT_CAP = 10_000
# The first window of identification dates searched for the earliest pairs; it grows fourfold
# until enough pairs are found, so a page of pairs never joins every victim with every other.
FIRST_WINDOW_DAYS = 31
PAIR_ORDER = " ORDER BY kept_identified_date, kept_victim_id, other_victim_id"

# Records are put in 15-day buckets; a pair at most 14 days apart has the later record in the
# earlier one's bucket or the next, so the join matches on bucket equality (a hash join)
# rather than comparing every pair of records of the same sex and parish.
_BUCKET = f"epoch_ms(identified_date) // (86400000 * {MAX_DAYS_APART + 1})"


def pairs_sql(kept_where: str = "", other_where: str = "") -> str:
    """Every likely-duplicate pair not yet decided, the earlier-identified record first (on the
    same day, the smaller id), its records restricted by `kept_where` and `other_where`
    (conditions on victims' columns). Equality joins first, so DuckDB hashes on them; the
    decisions are left out by two anti-joins on equal ids (one OR-ed condition made DuckDB
    compare every pair with every decision: 5x slower). No condition, no WHERE: a `WHERE TRUE`
    beside the unnest made DuckDB give up streaming, so a LIMIT no longer cut the join short."""
    kept = f" WHERE {kept_where}" if kept_where else ""
    other = f" WHERE {other_where}" if other_where else ""
    return f"""
SELECT a.victim_id AS kept_victim_id, b.victim_id AS other_victim_id,
       a.identified_date AS kept_identified_date, b.identified_date AS other_identified_date,
       a.identified_by AS kept_identified_by, b.identified_by AS other_identified_by,
       a.sex, a.age AS kept_age, b.age AS other_age, a.parish, a.exploitation_type,
       CAST(b.identified_date - a.identified_date AS INTEGER) AS days_apart
FROM (SELECT *, unnest([{_BUCKET}, {_BUCKET} + 1]) AS cpc_bucket FROM victims{kept}) a
JOIN (SELECT *, {_BUCKET} AS cpc_bucket FROM victims{other}) b
  ON a.cpc_bucket = b.cpc_bucket AND a.sex = b.sex AND a.parish = b.parish AND a.exploitation_type = b.exploitation_type
 AND a.identified_by <> b.identified_by
 AND abs(a.age - b.age) <= {MAX_AGE_GAP_YEARS}
 AND b.identified_date >= a.identified_date AND b.identified_date <= a.identified_date + {MAX_DAYS_APART}
 AND (b.identified_date > a.identified_date OR b.victim_id > a.victim_id)
WHERE NOT EXISTS (SELECT 1 FROM duplicate_decisions d
                  WHERE d.kept_victim_id = a.victim_id AND d.other_victim_id = b.victim_id)
  AND NOT EXISTS (SELECT 1 FROM duplicate_decisions d
                  WHERE d.kept_victim_id = b.victim_id AND d.other_victim_id = a.victim_id)
"""


PENDING_PAIRS_SQL = pairs_sql()


@dataclass(frozen=True)
class Decision:
    """A decision as stored: which record is kept, which is the other, and what was decided."""

    kept: str
    other: str
    decision: str

    def __str__(self) -> str:
        if self.decision == "same_person":
            return (f"{self.other} is the same person as {self.kept}: {self.kept} is kept and {self.other} "
                    "no longer counts in any indicator.")
        return f"{self.kept} and {self.other} are different people: both keep counting."


def pairs(con: db.Connection, limit: int | None = None) -> pd.DataFrame:
    """The pending likely-duplicate pairs on an open connection, earliest first (the first
    `limit` of them when given: a review shows a page of pairs, not millions).

    With a limit, the earliest identification dates are searched first, in a window that
    grows fourfold until it holds `limit` pairs or every date: pairs come in order of the
    kept record's date, and a pair kept before the cutoff has its other record at most
    MAX_DAYS_APART later, so the window's pairs are the first ones."""
    if limit is None:
        return con.execute(PENDING_PAIRS_SQL + PAIR_ORDER).df()
    first, last = con.execute("SELECT min(identified_date), max(identified_date) FROM victims").fetchone()
    days = FIRST_WINDOW_DAYS
    sql = pairs_sql("identified_date < ?", "identified_date < ?") + PAIR_ORDER + " LIMIT ?"
    while True:
        cutoff = (first or date.min) + timedelta(days=days)
        frame = con.execute(sql, [cutoff, cutoff + timedelta(days=MAX_DAYS_APART), limit]).df()
        if first is None or len(frame) >= limit or cutoff > last:
            return frame
        days *= 4


@dataclass(frozen=True)
class Count:
    """How many pending pairs there are, counted up to a cap: `at_least` when there are more."""

    pairs: int
    at_least: bool = False

    def __str__(self) -> str:
        return f"at least {self.pairs:,}" if self.at_least else f"{self.pairs:,}"


def count_pending(con: db.Connection, cap: int | None = COUNT_CAP) -> Count:
    """How many pairs are pending, counting no further than `cap` (None: count every one).
    Example: count_pending(con) -> Count(10000, at_least=True)"""
    if cap is None:
        return Count(int(con.execute(f"SELECT count(*) FROM ({PENDING_PAIRS_SQL})").fetchone()[0]))
    found = int(con.execute(f"SELECT count(*) FROM ({PENDING_PAIRS_SQL} LIMIT ?)", [cap + 1]).fetchone()[0])
    return Count(min(found, cap), found > cap)


def count_by_agency(con: db.Connection, cap: int | None = COUNT_CAP) -> pd.DataFrame:
    """Pending pairs in all ('all', '') and per agency involved ('source', agency): by, group,
    pairs, at_least. Agencies in no pair are left out.

    Counting stops after `cap` pairs (None: every one). Then every count is flagged
    `at_least`: the agencies' counts are those among the earliest `cap` pairs, so each is a
    true lower bound, the same on every run. (A condition inside the join stops DuckDB from
    cutting it short, so the agencies are counted in the bounded pairs, not by one join each.)"""
    found = pairs(con, cap + 1 if cap is not None else None)[["kept_identified_by", "other_identified_by"]]
    at_least = cap is not None and len(found) > cap
    found = found.head(cap) if cap is not None else found
    agencies = pd.concat([found["kept_identified_by"], found["other_identified_by"]]).dropna().value_counts()
    rows = [("all", "", len(found), at_least)] + [("source", str(a), int(n), at_least)
                                                   for a, n in sorted(agencies.items())]
    return pd.DataFrame(rows, columns=["by", "group", "pairs", "at_least"]).astype({"pairs": "int64",
                                                                                   "at_least": bool})


def pending_pairs(db_path: str | os.PathLike, limit: int | None = None) -> pd.DataFrame:
    """The likely-duplicate pairs waiting for review. Example: pending_pairs("data/cpc.duckdb")"""
    with db.reading(db_path) as con:
        return pairs(con, limit)


def pending_review(db_path: str | os.PathLike, limit: int) -> tuple[pd.DataFrame, int]:
    """The first `limit` pending pairs and how many are pending in all (every one counted, for
    the command line), on one connection."""
    with db.reading(db_path) as con:
        return pairs(con, limit), count_pending(con, cap=None).pairs


def review(db_path: str | os.PathLike, limit: int, cap: int = COUNT_CAP) -> tuple[pd.DataFrame, Count]:
    """The first `limit` pending pairs and how many are pending, counted up to `cap` (what a
    page shows: it never counts millions of pairs), on one connection."""
    with db.reading(db_path) as con:
        return pairs(con, limit), count_pending(con, cap)


def decisions(db_path: str | os.PathLike) -> pd.DataFrame:
    """Every decision taken, newest first: kept, other, decision, when and by whom."""
    with db.reading(db_path) as con:
        return con.execute("SELECT kept_victim_id, other_victim_id, decision, decided_at, decided_by "
                           "FROM duplicate_decisions ORDER BY decided_at DESC, kept_victim_id").df()


def decide(db_path: str | os.PathLike, kept: str, other: str, decision: str, who: str | None = None) -> Decision:
    """Record that `other` is the same person as `kept` ("same_person") or not ("different").

    For "same_person", `kept` must be the earlier-identified record. Written atomically
    through the writer's lock and logged. Example: decide(db, "JCF-V-12", "CPFSA-V-3", "same_person")"""
    if decision not in DECISIONS:
        raise DecisionError(f"'{decision}' is not a decision; use same_person or different.")
    if kept == other:
        raise DecisionError(f"a record cannot be a duplicate of itself ('{kept}'); name two different victim ids.")
    user = audit.current_user(who)
    with db.rebuild(db_path) as con:
        found = dict(con.execute("SELECT victim_id, identified_date FROM victims WHERE victim_id IN (?, ?)",
                                 [kept, other]).fetchall())
        missing = [v for v in (kept, other) if v not in found]
        if missing:
            raise DecisionError(f"there is no victim {' or '.join(repr(m) for m in missing)} in {db_path}; "
                                "check the ids (`python -m cpc_monitor duplicates` lists the pairs).")
        if decision == "same_person" and found[other] < found[kept]:
            raise DecisionError(f"{other} was identified before {kept} ({found[other]} against {found[kept]}); the "
                                f"earlier record is the one kept: decide {other} {kept} same_person.")
        if decision == "different" and (found[other], other) < (found[kept], kept):
            kept, other = other, kept  # stored in the order the pair list shows
        prior = _existing(con, kept, other)
        if prior is not None:
            raise DecisionError(f"{prior[0]} and {prior[1]} were already marked {prior[2]} on "
                                f"{prior[3]:%Y-%m-%d} by {prior[4]}; undo that first to change it.")
        con.execute("INSERT INTO duplicate_decisions VALUES (?, ?, ?, ?, ?)",
                    [kept, other, decision, datetime.now(timezone.utc).replace(tzinfo=None), user])
    result = Decision(kept, other, decision)
    audit.record(db_path, "duplicate_decision", who=user, table="duplicate_decisions", file=None,
                 message=f"{decision}: {kept} kept, {other} other. {result}")
    return result


def undo(db_path: str | os.PathLike, kept: str, other: str, who: str | None = None) -> Decision:
    """Remove the decision on the pair (either order); both records count as before it.
    Example: undo(db, "JCF-V-12", "CPFSA-V-3")"""
    user = audit.current_user(who)
    with db.rebuild(db_path) as con:
        prior = _existing(con, kept, other)
        if prior is None:
            raise DecisionError(f"there is no decision on {kept} and {other}; nothing to undo.")
        con.execute("DELETE FROM duplicate_decisions WHERE kept_victim_id = ? AND other_victim_id = ?",
                    [prior[0], prior[1]])
    result = Decision(prior[0], prior[1], prior[2])
    after = (f"{prior[1]} counts again" if prior[2] == "same_person" else "both still count")
    audit.record(db_path, "duplicate_undo", who=user, table="duplicate_decisions",
                 message=f"undid {prior[2]} on {prior[0]} and {prior[1]}: {after}, and the pair is back "
                         "in the review list.")
    return result


def _existing(con: db.Connection, a: str, b: str) -> tuple | None:
    rows = con.execute("SELECT kept_victim_id, other_victim_id, decision, decided_at, decided_by "
                       "FROM duplicate_decisions WHERE (kept_victim_id = ? AND other_victim_id = ?) "
                       "OR (kept_victim_id = ? AND other_victim_id = ?)", [a, b, b, a]).fetchall()
    return rows[0] if rows else None
