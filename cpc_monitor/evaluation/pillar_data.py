"""The figures behind the pillar pages (Prosecution, Protection, Prevention & partnership).

Each page's batch is one function `fn(con, filters, *args) -> dict[str, DataFrame]` run on
one read-only connection (ui.cached_frames). Filter values are always bound parameters,
and each filter applies only to the tables that have its column; the year range applies
by the date the chart counts by. Frames are tidy: `year, dim, group, value` where a
breakdown sits beside its total (dim '' is the total), so `privacy.suppress` can hide
small cells and the second cell that would give one away. No Streamlit here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from cpc_monitor.store import codes, db

from cpc_monitor.evaluation import privacy
from cpc_monitor.evaluation.engine import data_as_of
from cpc_monitor.evaluation.measures import Filters, source_columns, source_sql

# The CPC Partnership's US government envelope: "nearly $6.7m" with the final-year awards
# (facts file, S25 S31 S32). Cumulative funding charts draw it as a dashed line.
CPC_ENVELOPE_USD = 6_700_000.0
# Days a month lasts on average: durations in months are elapsed days / 30.44 (as the indicators).
DAYS_PER_MONTH = 30.44
# The National Referral Mechanism's timeliness target: referral within this many days.
REFERRAL_DAYS = 2
# Quarters over which the recent burn rate is averaged.
BURN_QUARTERS = 4
# Victim statuses, as the page offers them.
VICTIM_STATUSES = codes.VICTIM_STATUSES

# Stages of the prosecution funnel, in order: (code, what is counted, table, date column).
FUNNEL_STAGES = (("investigations", "cases", "opened_date"),
                 ("prosecutions", "prosecutions", "charged_date"),
                 ("convictions", "prosecutions", "outcome_date"))
# Sentence bands (months): label, lower bound inclusive, upper bound exclusive.
SENTENCE_BANDS = (("no prison term", 0, 1), ("under 1 year", 1, 12), ("1 to 5 years", 12, 60),
                  ("5 to 10 years", 60, 120), ("10 years or more", 120, None))
SENTENCE_NOT_RECORDED = "not recorded"
# Days from identification to referral: label, lowest day, highest day (inclusive).
REFERRAL_BANDS = (("same day", 0, 0), ("1 to 2 days", 1, 2), ("3 to 7 days", 3, 7), ("8 days or more", 8, None))
NOT_REFERRED = "not referred"

# Tables each page reads, for its header (which filters apply to what).
PAGE_TABLES = {
    "prosecution": ("cases", "prosecutions"),
    "protection": ("victims", "cfs_sessions", "child_friendly_spaces", "cfs_capacity"),
    "prevention_partnership": ("trainings", "funding"),
}


# --------------------------------------------------------------------- suppression


@dataclass(frozen=True)
class Privacy:
    """How one frame is suppressed: is `value` a count of people or records, which other
    columns count them, and which columns are hidden with a suppressed row."""

    value_is_count: bool
    counted: tuple[str, ...] = ()
    hidden_with: tuple[str, ...] = ()


# Frame name -> how it is suppressed. Money and capacity are not counts of people.
PRIVACY: dict[str, Privacy] = {
    "funnel": Privacy(True),
    "durations": Privacy(False, ("concluded",), ("min", "q1", "median", "q3", "max")),
    "outcomes": Privacy(True),
    "sentences": Privacy(True),
    "victims": Privacy(True),
    "referral": Privacy(False, ("numerator", "denominator", "referred"), ("median_days",)),
    "referral_bands": Privacy(True),
    "cfs_monthly": Privacy(True),
    "cfs_capacity": Privacy(False, ("numerator",)),
    "cfs_services": Privacy(True),
    "parish_sessions": Privacy(True),
    "parish_victims": Privacy(True),
    "spaces": Privacy(False),
    "trainings": Privacy(True),
    "trainings_cumulative": Privacy(True),
    "funding_cumulative": Privacy(False),
    "funding_quarterly": Privacy(False),
    "funding_by": Privacy(False),
    "burn": Privacy(False),
}


def suppress_frame(frame: pd.DataFrame, min_cell: int, rule: Privacy) -> pd.DataFrame:
    """`frame` through privacy.suppress, with the counted and dependent columns hidden too."""
    if frame.empty:
        return frame.assign(suppressed=pd.Series([], dtype=bool))
    # privacy.suppress works on year, dim, group, value: a frame over one period is one
    # year, and a frame without a `value` (box statistics) is judged by its counted columns.
    added = [c for c in ("year", "value") if c not in frame.columns]
    work = frame.assign(**{c: 0 if c == "year" else float("nan") for c in added})
    out = privacy.suppress(work, min_cell, rule.value_is_count, rule.counted)
    hidden = out["suppressed"]
    for column in rule.counted + rule.hidden_with:
        if column in out.columns:
            out[column] = out[column].astype("float64").where(~hidden)
    return out.drop(columns=added)


def shown(frames: dict[str, pd.DataFrame], min_cell: int, safe: bool) -> dict[str, pd.DataFrame]:
    """The frames as a screen shows them: suppressed when `safe` (downloads: always),
    each with a boolean `suppressed` column either way."""
    out = {}
    for name, frame in frames.items():
        rule = PRIVACY.get(name, Privacy(True))
        if safe and (rule.value_is_count or rule.counted):
            out[name] = suppress_frame(frame, min_cell, rule)
        else:
            out[name] = frame.assign(suppressed=False)
    return out


def download_table(name: str, protected: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """A suppressed frame (from `shown(..., safe=True)`) as downloads give it: hidden counts
    written "<min_cell>", hidden rates and figures left blank, totals named 'total'."""
    rule = PRIVACY.get(name, Privacy(True))
    out = protected.copy()
    hidden = out["suppressed"].astype(bool)
    for column in (["value"] if rule.value_is_count else []) + list(rule.counted):
        if column in out.columns:
            out[column] = out[column].astype(object).where(~hidden, f"<{min_cell}")
    if "dim" in out.columns:
        out["dim"] = out["dim"].replace("", "total")
    return out


# Separates a frame's name from its variant in pillar_frames' result.
SAFE_SUFFIX = ":safe"


def pillar_frames(con: db.Connection, filters: Filters, page: str, min_cell: int, *args: object
                  ) -> dict[str, pd.DataFrame]:
    """A page's batch (PAGE_BATCHES[page]) with each frame twice, so one cache entry serves
    the screen and the downloads: `name` exact and `name:safe` suppressed, both with a
    `suppressed` column."""
    frames = PAGE_BATCHES[page](con, filters, *args)
    exact = shown(frames, min_cell, False)
    protected = shown(frames, min_cell, True)
    return {**exact, **{f"{k}{SAFE_SUFFIX}": v for k, v in protected.items()}}


def split(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """pillar_frames' result as (exact, suppressed) frames by name."""
    exact = {k: v for k, v in frames.items() if not k.endswith(SAFE_SUFFIX)}
    protected = {k[:-len(SAFE_SUFFIX)]: v for k, v in frames.items() if k.endswith(SAFE_SUFFIX)}
    return exact, protected


# --------------------------------------------------------------------- sources


def _source(tables: dict[str, tuple[str, ...]], table: str, filters: Filters, date_column: str | None,
            *, year_column: str | None = None, year_to_only: bool = False) -> tuple[str, list]:
    """A SELECT over `table` (derived columns, duplicate exclusions) with the filters that
    apply to it, and its bound parameters. The year range applies to `date_column` (or to
    the integer `year_column`); `year_to_only` keeps earlier years, for running totals."""
    columns = source_columns(table, tables)
    conditions: list[str] = []
    params: list = []
    year_sql = f"year({date_column})" if date_column else year_column
    if date_column is not None:
        conditions.append(f"{date_column} IS NOT NULL")
    if year_sql is not None:
        if filters.year_from is not None and not year_to_only:
            conditions.append(f"{year_sql} >= ?")
            params.append(int(filters.year_from))
        if filters.year_to is not None:
            conditions.append(f"{year_sql} <= ?")
            params.append(int(filters.year_to))
    for column, values in filters.column_values().items():
        if column in columns:
            conditions.append(f"list_contains(?::TEXT[], CAST({column} AS TEXT))")
            params.append(list(values))
    where = " AND ".join(conditions) or "TRUE"
    return f"SELECT * FROM ({source_sql(table, tables)}) AS base WHERE {where}", params


def _years(con: db.Connection, filters: Filters, *dated: tuple[str, str]) -> list[int]:
    """Every year from the first to the last event of the (table, date column) pairs,
    clipped to the filter's range."""
    parts = [f"SELECT year({column}) AS y FROM {table}" for table, column in dated]
    first, last = con.execute(f"SELECT min(y), max(y) FROM ({' UNION ALL '.join(parts)})").fetchone()
    if first is None:
        return []
    first = max(int(first), filters.year_from) if filters.year_from is not None else int(first)
    last = min(int(last), filters.year_to) if filters.year_to is not None else int(last)
    return list(range(first, last + 1))


def _breakdown(con: db.Connection, src: str, params: list, year_sql: str, dims: tuple[str, ...],
               value_sql: str = "count(*)") -> pd.DataFrame:
    """year, dim, group, value: the yearly total (dim '') and each breakdown, in one query."""
    keys = "".join(f", CAST({d} AS TEXT) AS cpc_{d}" for d in dims)
    sets = ", ".join(["(cpc_year)"] + [f"(cpc_year, cpc_{d})" for d in dims])
    sql = (f"WITH src AS ({src}), keyed AS (SELECT *, CAST({year_sql} AS INTEGER) AS cpc_year{keys} FROM src) "
           f"SELECT cpc_year{''.join(f', cpc_{d}' for d in dims)}, {value_sql} AS value"
           f"{''.join(f', grouping(cpc_{d}) AS g_{d}' for d in dims)} FROM keyed GROUP BY GROUPING SETS ({sets})")
    raw = con.execute(sql, params).df()
    parts = []
    for dim in ("",) + dims:
        mask = pd.Series(True, index=raw.index)
        for d in dims:
            mask &= raw[f"g_{d}"] == (0 if d == dim else 1)
        part = raw[mask]
        group = part[f"cpc_{dim}"].astype("object").fillna("unknown") if dim else ""
        parts.append(pd.DataFrame({"year": part["cpc_year"].astype("int64"), "dim": dim,
                                   "group": group, "value": part["value"].astype("float64")}))
    out = pd.concat(parts, ignore_index=True)
    return out.groupby(["year", "dim", "group"], as_index=False)["value"].sum()


def _fill(frame: pd.DataFrame, years: list[int], groups: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Every year (x every group of each dim) present, 0 where nothing was counted."""
    groups = dict(groups or {})
    for dim in frame["dim"].unique():
        if dim:
            seen = [g for g in frame.loc[frame["dim"] == dim, "group"].unique()]
            known = groups.get(dim, [])
            groups[dim] = list(known) + sorted(g for g in seen if g not in known)
    rows = [(y, "", "") for y in years]
    rows += [(y, dim, g) for dim, names in groups.items() for g in names for y in years]
    grid = pd.DataFrame(rows, columns=["year", "dim", "group"]).astype({"year": "int64"})
    out = grid.merge(frame, on=["year", "dim", "group"], how="left")
    out["value"] = out["value"].fillna(0.0)
    return out.sort_values(["dim", "year"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------- prosecution


# The dates that span the prosecution page's years.
_PROSECUTION_DATES = (("cases", "opened_date"), ("prosecutions", "charged_date"), ("prosecutions", "outcome_date"))


def prosecution_frames(con: db.Connection, filters: Filters) -> dict[str, pd.DataFrame]:
    """Funnel, time from charge to outcome, outcomes and sentences, by year."""
    tables = db.table_columns(con)
    return {"funnel": _funnel(con, tables, filters), "durations": _durations(con, tables, filters),
            "outcomes": _outcomes(con, tables, filters), "sentences": _sentences(con, tables, filters)}


def _funnel(con, tables, filters: Filters) -> pd.DataFrame:
    """year, stage, value: investigations opened, defendants charged, defendants convicted."""
    parts, params = [], []
    for stage, table, date_column in FUNNEL_STAGES:
        src, p = _source(tables, table, filters, date_column)
        condition = "WHERE outcome = 'convicted'" if stage == "convictions" else ""
        parts.append(f"SELECT '{stage}' AS stage, CAST(year({date_column}) AS INTEGER) AS year, count(*) AS value "
                     f"FROM ({src}) {condition} GROUP BY ALL")
        params += p
    raw = con.execute(" UNION ALL ".join(parts), params).df()
    years = _years(con, filters, *_PROSECUTION_DATES)
    grid = pd.DataFrame([(y, s[0]) for y in years for s in FUNNEL_STAGES], columns=["year", "stage"])
    grid = grid.astype({"year": "int64"})
    out = grid.merge(raw.astype({"year": "int64"}), on=["year", "stage"], how="left")
    out["value"] = out["value"].fillna(0).astype("float64")
    return out


def _durations(con, tables, filters: Filters) -> pd.DataFrame:
    """year (of outcome), concluded, min, q1, median, q3, max months from charge to outcome."""
    src, params = _source(tables, "prosecutions", filters, "outcome_date")
    months = f"date_diff('day', charged_date, outcome_date) / {DAYS_PER_MONTH}"
    sql = (f"SELECT CAST(year(outcome_date) AS INTEGER) AS year, count(*) AS concluded, "
           f"min({months}) AS min, quantile_cont({months}, 0.25) AS q1, median({months}) AS median, "
           f"quantile_cont({months}, 0.75) AS q3, max({months}) AS max "
           f"FROM ({src}) WHERE outcome <> 'pending' GROUP BY ALL ORDER BY year")
    raw = con.execute(sql, params).df()
    years = pd.DataFrame({"year": _years(con, filters, *_PROSECUTION_DATES)}, dtype="int64")
    out = years.merge(raw.astype({"year": "int64"}), on="year", how="left")
    out["concluded"] = out["concluded"].fillna(0).astype("float64")
    return out


def _outcomes(con, tables, filters: Filters) -> pd.DataFrame:
    """year charged, dim 'outcome', group, value: what became of the defendants charged each year."""
    src, params = _source(tables, "prosecutions", filters, "charged_date")
    frame = _breakdown(con, src, params, "year(charged_date)", ("outcome",))
    return _fill(frame, _years(con, filters, *_PROSECUTION_DATES),
                 {"outcome": list(codes.OUTCOMES)})


def _sentences(con, tables, filters: Filters) -> pd.DataFrame:
    """year of conviction, dim 'sentence', group (band), value: sentences of convicted defendants."""
    src, params = _source(tables, "prosecutions", filters, "outcome_date")
    cases = " ".join(f"WHEN sentence_months >= {low}" + (f" AND sentence_months < {high}" if high else "")
                     + f" THEN '{label}'" for label, low, high in SENTENCE_BANDS)
    band = f"CASE WHEN sentence_months IS NULL THEN '{SENTENCE_NOT_RECORDED}' {cases} END"
    src = f"SELECT *, {band} AS sentence FROM ({src}) WHERE outcome = 'convicted'"
    frame = _breakdown(con, src, params, "year(outcome_date)", ("sentence",))
    labels = [b[0] for b in SENTENCE_BANDS] + [SENTENCE_NOT_RECORDED]
    return _fill(frame, _years(con, filters, *_PROSECUTION_DATES), {"sentence": labels})


# --------------------------------------------------------------------- protection


def protection_frames(con: db.Connection, filters: Filters,
                      statuses: tuple[str, ...] = VICTIM_STATUSES) -> dict[str, pd.DataFrame]:
    """Victims (of the `statuses` chosen), referral timeliness, child-friendly spaces, parish figures."""
    tables = db.table_columns(con)
    victims = _victims(con, tables, filters, statuses)
    referral, bands = _referral(con, tables, filters)
    monthly, capacity = _cfs_use(con, tables, filters)
    return {"victims": victims, "referral": referral, "referral_bands": bands,
            "cfs_monthly": monthly, "cfs_capacity": capacity, "cfs_services": _cfs_services(con, tables, filters),
            "parish_sessions": _per_parish(con, tables, filters, "cfs_sessions", "session_date"),
            "parish_victims": _per_parish(con, tables, filters, "victims", "identified_date", statuses),
            "spaces": _spaces(con, tables, filters)}


def _status_condition(statuses: tuple[str, ...]) -> tuple[str, list]:
    return "list_contains(?::TEXT[], CAST(victim_status AS TEXT))", [list(statuses)]


# Breakdowns of victims shown on the page, in order.
VICTIM_DIMS = ("victim_status", "sex", "age_group", "nationality", "exploitation_type")


def _victims(con, tables, filters: Filters, statuses: tuple[str, ...]) -> pd.DataFrame:
    """year, dim, group, value: victims identified, total and by status, sex, age group, nationality, form."""
    src, params = _source(tables, "victims", filters, "identified_date")
    condition, more = _status_condition(statuses)
    frame = _breakdown(con, f"SELECT * FROM ({src}) WHERE {condition}", params + more,
                       "year(identified_date)", VICTIM_DIMS)
    known = {"victim_status": [s for s in VICTIM_STATUSES if s in statuses], "sex": list(codes.SEXES),
             "age_group": list(codes.AGE_GROUPS), "exploitation_type": list(codes.EXPLOITATION_TYPES)}
    return _fill(frame, _years(con, filters, ("victims", "identified_date")), known)


def _referral(con, tables, filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Confirmed child victims by year identified: referred within REFERRAL_DAYS (share), median days,
    and the days to referral in bands."""
    src, params = _source(tables, "victims", filters, "identified_date")
    days = "date_diff('day', identified_date, referred_date)"
    child = f"SELECT *, {days} AS days FROM ({src}) WHERE age < 18 AND victim_status = 'confirmed'"
    sql = (f"SELECT CAST(year(identified_date) AS INTEGER) AS year, count(*) AS denominator, "
           f"count(referred_date) AS referred, count(*) FILTER (WHERE days <= {REFERRAL_DAYS}) AS numerator, "
           f"median(days) AS median_days FROM ({child}) GROUP BY ALL")
    raw = con.execute(sql, params).df().astype({"year": "int64"})
    years = pd.DataFrame({"year": _years(con, filters, ("victims", "identified_date"))}, dtype="int64")
    share = years.merge(raw, on="year", how="left")
    for column in ("denominator", "referred", "numerator"):
        share[column] = share[column].fillna(0).astype("float64")
    share["value"] = (share["numerator"] / share["denominator"].where(share["denominator"] > 0) * 100)
    share = share[["year", "value", "numerator", "denominator", "referred", "median_days"]]
    cases = " ".join(f"WHEN days BETWEEN {low} AND {high if high is not None else 100000} THEN '{label}'"
                     for label, low, high in REFERRAL_BANDS)
    banded = f"SELECT *, CASE WHEN days IS NULL THEN '{NOT_REFERRED}' {cases} END AS referral FROM ({child})"
    bands = _breakdown(con, banded, params, "year(identified_date)", ("referral",))
    labels = [b[0] for b in REFERRAL_BANDS] + [NOT_REFERRED]
    return share, _fill(bands, list(share["year"]), {"referral": labels})


def _cfs_use(con, tables, filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sessions per space and month (0 in months a space was open with none), and capacity
    used per space and year: sessions / the cfs_capacity view."""
    src, params = _source(tables, "cfs_sessions", filters, "session_date")
    sessions = con.execute(
        f"SELECT space_id, CAST(date_trunc('month', session_date) AS DATE) AS month, count(*) AS value "
        f"FROM ({src}) GROUP BY ALL", params).df()
    spaces = _spaces(con, tables, filters)
    cap_src, cap_params = _source(tables, "cfs_capacity", filters, None, year_column="year")
    capacity = con.execute(f"SELECT year, space_id, capacity FROM ({cap_src})", cap_params).df()
    last = con.execute("SELECT max(session_date) FROM cfs_sessions").fetchone()[0]
    if last is None or spaces.empty:
        empty_m = pd.DataFrame(columns=["year", "dim", "group", "space", "month", "value"])
        empty_c = pd.DataFrame(columns=["year", "dim", "group", "value", "numerator", "denominator"])
        return empty_m, empty_c
    # Months each space was open, within the period: the heat map's grid.
    start = date(filters.year_from, 1, 1) if filters.year_from is not None else None
    end = min(last, date(filters.year_to, 12, 31)) if filters.year_to is not None else last
    rows = []
    for space in spaces.itertuples():
        opened = pd.Timestamp(space.opened_date) if pd.notna(space.opened_date) else None
        if opened is None:
            continue
        first = max(opened, pd.Timestamp(start)) if start else opened
        final = min(pd.Timestamp(space.closed_date), pd.Timestamp(end)) if pd.notna(space.closed_date) \
            else pd.Timestamp(end)
        for month in pd.date_range(first.to_period("M").to_timestamp(), final, freq="MS"):
            rows.append((space.space_id, month.date()))
    grid = pd.DataFrame(rows, columns=["space_id", "month"])
    sessions["month"] = pd.to_datetime(sessions["month"]).dt.date
    monthly = grid.merge(sessions, on=["space_id", "month"], how="outer")
    monthly["value"] = monthly["value"].fillna(0).astype("float64")
    labels = dict(zip(spaces["space_id"], spaces["label"]))
    monthly["space"] = monthly["space_id"].map(labels).fillna(monthly["space_id"])
    monthly["year"] = pd.to_datetime(monthly["month"]).dt.year.astype("int64")
    monthly = monthly.assign(dim=monthly["space_id"], group=pd.to_datetime(monthly["month"]).dt.strftime("%Y-%m"))
    monthly = monthly.sort_values(["space_id", "month"]).reset_index(drop=True)
    monthly = monthly[["year", "dim", "group", "space_id", "space", "month", "value"]]

    per_space = monthly.groupby(["year", "space_id"], as_index=False)["value"].sum()
    used = capacity.astype({"year": "int64"}).merge(per_space, on=["year", "space_id"], how="left")
    used["value"] = used["value"].fillna(0.0)
    used = used.rename(columns={"value": "numerator", "capacity": "denominator"})
    total = used.groupby("year", as_index=False)[["numerator", "denominator"]].sum().assign(dim="", group="")
    used = pd.concat([total, used.assign(dim="space", group=used["space_id"].map(labels))], ignore_index=True)
    used["numerator"] = used["numerator"].astype("float64")
    used["denominator"] = used["denominator"].astype("float64")
    used["value"] = used["numerator"] / used["denominator"].where(used["denominator"] > 0) * 100
    used = used[["year", "dim", "group", "value", "numerator", "denominator"]]
    return monthly, used.sort_values(["dim", "year", "group"]).reset_index(drop=True)


def _cfs_services(con, tables, filters: Filters) -> pd.DataFrame:
    """year, dim 'service', group, value: sessions by the service given."""
    src, params = _source(tables, "cfs_sessions", filters, "session_date")
    frame = _breakdown(con, src, params, "year(session_date)", ("service",))
    return _fill(frame, _years(con, filters, ("cfs_sessions", "session_date")), {"service": list(codes.SERVICES)})


def _per_parish(con, tables, filters: Filters, table: str, date_column: str,
                statuses: tuple[str, ...] | None = None) -> pd.DataFrame:
    """dim 'parish', group, value over the whole period (and the total, dim ''): the map's figures.
    Every parish the filter allows is listed, 0 where nothing was counted."""
    src, params = _source(tables, table, filters, date_column)
    if statuses is not None:
        condition, more = _status_condition(statuses)
        src, params = f"SELECT * FROM ({src}) WHERE {condition}", params + more
    raw = con.execute(f"SELECT CAST(parish AS TEXT) AS parish, count(*) AS value FROM ({src}) GROUP BY ALL",
                      params).df()
    allowed = [p for p in codes.PARISHES if not filters.parish or p in filters.parish]
    known = raw[raw["parish"].notna()].set_index("parish")["value"]
    rows = [("parish", p, float(known.get(p, 0))) for p in allowed]
    unknown = float(raw.loc[raw["parish"].isna(), "value"].sum())
    if unknown:
        rows.append(("parish", "unknown", unknown))
    total = float(raw["value"].sum())
    return pd.DataFrame([("", "", total)] + rows, columns=["dim", "group", "value"])


def _spaces(con, tables, filters: Filters) -> pd.DataFrame:
    """The child-friendly spaces (in the parishes the filter allows), with a short label."""
    src, params = _source(tables, "child_friendly_spaces", filters, None)
    spaces = con.execute(f"SELECT space_id, name, parish, operator, opened_date, closed_date, monthly_capacity "
                         f"FROM ({src}) ORDER BY opened_date, space_id", params).df()
    spaces["label"] = [space_label(s, n) for s, n in zip(spaces["space_id"], spaces["name"])]
    return spaces


def space_label(space_id: str, name: str | None) -> str:
    """'CFS-04 Victim Services Division, Port Antonio' shortened for an axis."""
    text = str(name) if isinstance(name, str) and name else space_id
    text = text.replace("Victim Services Division", "VSD").replace(" (not named in the public record)", "")
    return text if text.startswith(space_id) else f"{text} ({space_id})"


# --------------------------------------------------------------------- prevention and partnership


def prevention_partnership_frames(con: db.Connection, filters: Filters) -> dict[str, pd.DataFrame]:
    """Trainings (participants by audience and partner, cumulative) and funding against the envelope."""
    tables = db.table_columns(con)
    out = _trainings(con, tables, filters)
    out.update(_funding(con, tables, filters))
    return out


def _trainings(con, tables, filters: Filters) -> dict[str, pd.DataFrame]:
    """Participants per year by audience and partner, and the running total since the first training."""
    src, params = _source(tables, "trainings", filters, "start_date", year_to_only=True)
    frame = _breakdown(con, src, params, "year(start_date)", ("audience", "partner"), "sum(participants)")
    all_years = _years(con, Filters(year_to=filters.year_to), ("trainings", "start_date"))
    known = {"audience": list(codes.AUDIENCES), "partner": list(codes.PARTNERS)}
    full = _fill(frame, all_years, known)
    running = full.sort_values(["dim", "group", "year"]).copy()
    running["value"] = running.groupby(["dim", "group"])["value"].cumsum()
    shown_years = [y for y in all_years if filters.year_from is None or y >= filters.year_from]
    keep = lambda f: f[f["year"].isin(shown_years)].reset_index(drop=True)  # noqa: E731
    return {"trainings": keep(full), "trainings_cumulative": keep(running.sort_values(["dim", "year"]))}


def _funding(con, tables, filters: Filters) -> dict[str, pd.DataFrame]:
    """Funding per quarter (cumulative since the first entry), by partner and pillar, and the burn rate."""
    src, params = _source(tables, "funding", filters, "entry_date", year_to_only=True)
    raw = con.execute(
        f"SELECT CAST(date_trunc('quarter', entry_date) AS DATE) AS quarter, kind, donor, partner, pillar, "
        f"CAST(sum(amount_usd) AS DOUBLE) AS amount FROM ({src}) GROUP BY ALL", params).df()
    raw["quarter"] = pd.to_datetime(raw["quarter"])
    usg = raw[raw["donor"] == "usg"]
    if raw.empty:
        quarters = pd.DatetimeIndex([])
    else:
        # To the quarter of the database's newest event (within the years chosen): a pause in
        # disbursements shows as a flat line and lowers the recent burn rate.
        end = max(pd.Timestamp(data_as_of(con, tables) or raw["quarter"].max()), raw["quarter"].max())
        if filters.year_to is not None:
            end = min(end, pd.Timestamp(int(filters.year_to), 12, 31))
        quarters = pd.date_range(raw["quarter"].min(), end.to_period("Q").start_time, freq="QS")
    per_quarter = (usg.pivot_table(index="quarter", columns="kind", values="amount", aggfunc="sum")
                   .reindex(quarters).reindex(columns=list(codes.FUNDING_KINDS)).fillna(0.0))
    per_quarter.index.name = "quarter"
    cumulative = per_quarter.cumsum().reset_index()
    cumulative.columns = ["quarter", "committed", "disbursed"]
    cumulative["envelope"] = CPC_ENVELOPE_USD
    quarterly = per_quarter.reset_index()
    quarterly.columns = ["quarter", "committed", "disbursed"]
    by_donor = (raw[raw["kind"] == "disbursement"].pivot_table(index="quarter", columns="donor", values="amount",
                                                               aggfunc="sum").reindex(quarters).fillna(0.0))
    for donor in codes.DONORS:
        quarterly[f"disbursed_{donor}"] = by_donor[donor].to_numpy() if donor in by_donor else 0.0
    for frame in (cumulative, quarterly):
        frame["year"] = frame["quarter"].dt.year.astype("int64")
        frame["label"] = frame["quarter"].dt.year.astype(str) + " Q" + frame["quarter"].dt.quarter.astype(str)
    burn = _burn(quarterly, cumulative)
    if filters.year_from is not None:
        cumulative = cumulative[cumulative["year"] >= filters.year_from].reset_index(drop=True)
        quarterly = quarterly[quarterly["year"] >= filters.year_from].reset_index(drop=True)
    by = []
    for dim in ("partner", "pillar"):
        part = usg.pivot_table(index=dim, columns="kind", values="amount", aggfunc="sum")
        part = part.reindex(columns=list(codes.FUNDING_KINDS)).fillna(0.0)
        order = list(codes.PARTNERS if dim == "partner" else codes.PILLARS)
        part = part.reindex([g for g in order if g in part.index])
        by.append(pd.DataFrame({"dim": dim, "group": part.index, "committed": part["commitment"].to_numpy(),
                                "disbursed": part["disbursement"].to_numpy()}))
    funding_by = pd.concat(by, ignore_index=True) if by else pd.DataFrame(
        columns=["dim", "group", "committed", "disbursed"])
    return {"funding_cumulative": cumulative, "funding_quarterly": quarterly, "funding_by": funding_by,
            "burn": burn}


def _burn(quarterly: pd.DataFrame, cumulative: pd.DataFrame) -> pd.DataFrame:
    """One row: committed, disbursed, envelope, what is left, the recent quarterly rate and
    the months it would take to spend the rest of the envelope at that rate."""
    committed = float(cumulative["committed"].iloc[-1]) if not cumulative.empty else 0.0
    disbursed = float(cumulative["disbursed"].iloc[-1]) if not cumulative.empty else 0.0
    recent = quarterly.tail(BURN_QUARTERS)
    rate = float(recent["disbursed"].mean()) if not recent.empty else 0.0
    remaining = max(CPC_ENVELOPE_USD - disbursed, 0.0)
    months = remaining / (rate / 3) if rate > 0 else None
    return pd.DataFrame([{
        "as_of": recent["label"].iloc[-1] if not recent.empty else None,
        "committed": committed, "disbursed": disbursed, "envelope": CPC_ENVELOPE_USD,
        "remaining": remaining, "quarters_averaged": len(recent), "rate_per_quarter": rate,
        "months_to_spend_rest": months,
    }])


# Page -> the function that runs its batch of queries.
PAGE_BATCHES = {"prosecution": prosecution_frames, "protection": protection_frames,
                "prevention_partnership": prevention_partnership_frames}
