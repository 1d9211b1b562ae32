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
from datetime import datetime, timezone

import pandas as pd

from cpc_monitor.store import audit, codes, db
from cpc_monitor.errors import DecisionError

DECISIONS = codes.DUPLICATE_DECISIONS
# How close two records must be to be listed as a likely duplicate.
MAX_AGE_GAP_YEARS = 1
MAX_DAYS_APART = 14

# Every likely-duplicate pair not yet decided, the earlier-identified record first (on the
# same day, the smaller id). Equality joins first, so DuckDB hashes on them.
# Records are put in 15-day buckets; a pair at most 14 days apart has the later record in the
# earlier one's bucket or the next, so the join matches on bucket equality (a hash join)
# rather than comparing every pair of records of the same sex and parish.
_BUCKET = f"epoch_ms(identified_date) // (86400000 * {MAX_DAYS_APART + 1})"
PENDING_PAIRS_SQL = f"""
SELECT a.victim_id AS kept_victim_id, b.victim_id AS other_victim_id,
       a.identified_date AS kept_identified_date, b.identified_date AS other_identified_date,
       a.identified_by AS kept_identified_by, b.identified_by AS other_identified_by,
       a.sex, a.age AS kept_age, b.age AS other_age, a.parish, a.exploitation_type,
       CAST(b.identified_date - a.identified_date AS INTEGER) AS days_apart
FROM (SELECT *, unnest([{_BUCKET}, {_BUCKET} + 1]) AS cpc_bucket FROM victims) a
JOIN (SELECT *, {_BUCKET} AS cpc_bucket FROM victims) b
  ON a.cpc_bucket = b.cpc_bucket AND a.sex = b.sex AND a.parish = b.parish AND a.exploitation_type = b.exploitation_type
 AND a.identified_by <> b.identified_by
 AND abs(a.age - b.age) <= {MAX_AGE_GAP_YEARS}
 AND b.identified_date >= a.identified_date AND b.identified_date <= a.identified_date + {MAX_DAYS_APART}
 AND (b.identified_date > a.identified_date OR b.victim_id > a.victim_id)
WHERE NOT EXISTS (
  SELECT 1 FROM duplicate_decisions d
  WHERE (d.kept_victim_id = a.victim_id AND d.other_victim_id = b.victim_id)
     OR (d.kept_victim_id = b.victim_id AND d.other_victim_id = a.victim_id))
"""


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
    `limit` of them when given: a review shows a page of pairs, not millions)."""
    sql = PENDING_PAIRS_SQL + " ORDER BY kept_identified_date, kept_victim_id, other_victim_id"
    return con.execute(sql + (" LIMIT ?" if limit is not None else ""), [limit] if limit is not None else []).df()


def count_by_agency(con: db.Connection) -> pd.DataFrame:
    """Pending pairs in all ('all', '') and per agency involved ('source', agency): by, group, pairs."""
    return con.execute(
        f"WITH p AS ({PENDING_PAIRS_SQL}) "
        "SELECT 'all' AS \"by\", '' AS \"group\", count(*) AS pairs FROM p "
        "UNION ALL SELECT 'source', agency, count(*) FROM ("
        "  SELECT kept_identified_by AS agency FROM p UNION ALL SELECT other_identified_by FROM p) "
        "WHERE agency IS NOT NULL GROUP BY agency ORDER BY \"by\", \"group\"").df()


def pending_pairs(db_path: str | os.PathLike, limit: int | None = None) -> pd.DataFrame:
    """The likely-duplicate pairs waiting for review. Example: pending_pairs("data/cpc.duckdb")"""
    with db.reading(db_path) as con:
        return pairs(con, limit)


def pending_review(db_path: str | os.PathLike, limit: int) -> tuple[pd.DataFrame, int]:
    """The first `limit` pending pairs and how many are pending in all, on one connection."""
    with db.reading(db_path) as con:
        total = con.execute(f"SELECT count(*) FROM ({PENDING_PAIRS_SQL})").fetchone()[0]
        return pairs(con, limit), int(total)


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
