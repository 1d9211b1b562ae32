"""The synthetic sample database: every event table filled with plausible rows calibrated
to the public record (../shared/facts/jamaica-cpc.md; what and why in docs/data.md).

Rows are generated inside DuckDB from range(), never by Python loops over rows. Every
random number is `hash(seed, row key, salt)`, so a seed gives the same file whatever
the number of threads; `scale` repeats the event tables as independent replicas (replica
1 is the calibrated sample itself, replica r > 1 carries the id suffix `-r`)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from cpc_monitor.store import db, schema
from cpc_monitor.errors import CpcError, SampleOptionError, SampleRefused

FIRST_YEAR, LAST_YEAR = 2015, 2025
DATA_END = date(LAST_YEAR, 12, 31)  # no sample date falls after this day
SAMPLE_BATCH = "sample"  # import_batch of every generated row
MAX_SCALE = 100_000  # the largest --scale accepted (scale 1000 is the benchmark)
MAX_SEED = 2**63 - 1  # seeds are BIGINT inside DuckDB's hash()
MEMORY_LIMIT = "500MB"  # DuckDB spills to disk beyond this, so big scales keep memory bounded
REPLICAS_PER_BATCH = 100  # replicas written per transaction (about 300,000 sessions)
NRM_YEAR = 2021  # the National Referral Mechanism for children was adopted in the 2021 report period [S9][S10]

NOT_SYNTHETIC = (
    "Refusing to write the sample over {path}: its schema_info does not say synthetic='true', "
    "so it may hold real data. Write the sample to another file (--db PATH), or move {path} "
    "away yourself if you really mean to replace it.")
UNREADABLE = (
    "Refusing to write the sample over {path}: it cannot be read as a CPC Monitor database "
    "({reason}), so it may hold something else. Write the sample to another file (--db PATH), "
    "or move {path} away yourself if you really mean to replace it.")


# ---------------------------------------------------------------------------------------
# Calibration, per calendar year. The TIP Report of year R covers April R-2 to March R-1;
# a report's figure is placed in calendar year R-1 (an approximation docs/data.md states).

@dataclass(frozen=True)
class YearPlan:
    """What one calendar year of the sample holds at scale 1."""

    cases: int  # investigations opened
    prosecuted: int  # of those, cases in which someone is charged
    defendants: int  # people charged (spread over the prosecuted cases)
    convictions: int  # of this year's defendants, convicted in the next calendar year
    trainings: int  # training events


YEAR_PLAN: dict[int, YearPlan] = {
    2015: YearPlan(30, 3, 5, 2, 6),   # 30 investigations [S1]; 5 charged in 2014-15 [S23]; 2 convictions (2017 report) [S1]
    2016: YearPlan(40, 2, 3, 1, 8),   # 40 investigations, 3 new prosecutions [S1]; ~128 police trained in 2015/16 [S49]
    2017: YearPlan(30, 2, 3, 1, 6),   # 30 investigations, 3 defendants [S3][S4]; 1 conviction (2019 report) [S5]
    2018: YearPlan(36, 3, 6, 1, 7),   # 36 investigations, 6 defendants [S4][S5]; 1 conviction (2020 report) [S6]
    2019: YearPlan(38, 3, 5, 1, 14),  # investigations NF: between 36 and 43; 1 conviction (2021 report) [S8]
    2020: YearPlan(43, 3, 4, 2, 10),  # 43 investigations [S8]; convictions NF (suspended sentences) [S11]
    2021: YearPlan(53, 3, 4, 2, 15),  # 53 investigations, "four" prosecuted [S10][S11]
    2022: YearPlan(60, 3, 5, 2, 18),  # 60 investigations [S13]; "more" prosecutions and convictions [S12]
    2023: YearPlan(61, 4, 6, 2, 15),  # 61 investigations [S13]; 2 convictions (2025 report) [S17]
    2024: YearPlan(58, 4, 6, 1, 8),   # "fewer" investigations [S17]; 6 arrests or charges 2024-25 [S22]
    2025: YearPlan(55, 3, 5, 0, 7),   # assumed: the 2024 level, slightly lower; outcomes would fall in 2026
}
# Yearly case counts stay inside the published range whatever the seed's jitter.
CASE_COUNT_RANGE = (30, 61)

# Confirmed victims per year: (profile, nationality, count), from the TIP breakdowns.
CONFIRMED_VICTIMS: dict[int, tuple[tuple[str, str, int], ...]] = {
    2015: (("girl_sex", "JAM", 5), ("woman_sex", "JAM", 1), ("man_labour", "JAM", 1)),  # NF: assumed 7
    2016: (("girl_sex", "JAM", 6), ("woman_sex", "JAM", 1), ("boy_labour", "JAM", 1)),  # 8, split NF [S1]
    # 13: 12 labour and 1 sex, 12 Jamaican and 1 foreign; ages NF, the foreign nationality NF [S3][S4]
    2017: (("girl_sex", "JAM", 1), ("boy_labour", "JAM", 5), ("man_labour", "JAM", 6), ("man_labour", "IND", 1)),
    2018: (("girl_sex", "JAM", 5), ("woman_sex", "CHN", 1)),  # 6, all sex: 5 Jamaican children, 1 Chinese woman [S5]
    # 10: labour 1 Jamaican boy, 2 Indian, 1 Honduran, 1 Chinese man; sex 4 Jamaican women, 1 girl [S6][S7]
    2019: (("girl_sex", "JAM", 1), ("woman_sex", "JAM", 4), ("boy_labour", "JAM", 1),
           ("man_labour", "IND", 2), ("man_labour", "HND", 1), ("man_labour", "CHN", 1)),
    2020: (("girl_sex", "JAM", 7), ("woman_sex", "JAM", 1)),  # 8: 7 girls, 1 young woman [S8]
    2021: (("girl_sex", "JAM", 6), ("woman_sex", "JAM", 1), ("man_labour", "COL", 3)),  # 10 [S11]
    2022: (("girl_sex", "JAM", 8), ("boy_labour", "JAM", 1)),  # NF: assumed 9; no adult victims [S12]
    # NF: assumed 12; "more adult, male and foreign victims" [S13][S14]
    2023: (("girl_sex", "JAM", 7), ("woman_sex", "JAM", 1), ("man_labour", "CHN", 2), ("man_labour", "IND", 2)),
    # 13 confirmed in 2024-25 [S22]
    2024: (("girl_sex", "JAM", 9), ("woman_sex", "JAM", 1), ("boy_labour", "JAM", 1),
           ("man_labour", "HND", 1), ("man_labour", "COL", 1)),
    2025: (("girl_sex", "JAM", 8), ("woman_sex", "JAM", 1), ("boy_labour", "JAM", 1), ("man_labour", "IND", 1)),  # NF
}
# Suspected victims: about twice the confirmed (JCF 2024-25: 13 confirmed, 21 suspected [S22]).
SUSPECTED_PER_CONFIRMED = 2


@dataclass(frozen=True)
class VictimProfile:
    """Who a victim of one kind is: sex, age range and form of exploitation."""

    sex: str
    age_lo: int
    age_hi: int
    exploitation_type: str


# The groups the TIP breakdowns name: Jamaican girls in sexual exploitation, adult women in
# sexual exploitation, boys and foreign men in forced labour [S5]-[S11].
VICTIM_PROFILES: dict[str, VictimProfile] = {
    "girl_sex": VictimProfile("female", 12, 17, "sexual"),
    "woman_sex": VictimProfile("female", 18, 30, "sexual"),
    "boy_labour": VictimProfile("male", 13, 17, "labour"),
    "man_labour": VictimProfile("male", 20, 50, "labour"),
}
SUSPECTED_PROFILE_WEIGHTS = {"girl_sex": 0.55, "woman_sex": 0.15, "boy_labour": 0.08, "man_labour": 0.22}
# Nationality of suspected victims by profile; foreign men from the TIP breakdowns [S6][S7][S11].
SUSPECTED_NATIONALITY_WEIGHTS: dict[str, dict[str, float]] = {
    "girl_sex": {"JAM": 1.0},
    "woman_sex": {"JAM": 0.80, "CHN": 0.05, "COL": 0.05, "VEN": 0.05, "DOM": 0.05},
    "boy_labour": {"JAM": 1.0},
    "man_labour": {"JAM": 0.30, "COL": 0.20, "IND": 0.20, "CHN": 0.15, "HND": 0.15},
}
# Share of victims tied to a police case (the rest are identified with no case, e.g. by CPFSA).
CASE_LINK_SHARE = {"confirmed": 0.85, "suspected": 0.65}

# Parishes: weighted toward the Corporate Area, St Catherine and Montego Bay (assumption:
# the larger urban parishes and the tourism economy of St James; per-parish counts are NF).
PARISH_WEIGHTS = {
    "St Andrew": 0.24, "Kingston": 0.12, "St Catherine": 0.17, "St James": 0.14,
    "Clarendon": 0.05, "St Ann": 0.05, "Westmoreland": 0.04, "Manchester": 0.04,
    "Hanover": 0.03, "Trelawny": 0.03, "St Elizabeth": 0.03, "St Mary": 0.025,
    "St Thomas": 0.025, "Portland": 0.02,
}
# Referral source by period (last year of the period: weights). The hotline's share rises:
# 4 child-trafficking reports from April 2018 [S5], 8 victims all found through it in the 2021
# report [S8], and CPFSA's 211 line open 24/7 from 2021 [S58].
REFERRAL_SOURCE_WEIGHTS: dict[int, dict[str, float]] = {
    2018: {"police": 0.55, "hotline": 0.07, "cpfsa": 0.10, "ngo": 0.12, "labour_inspector": 0.05,
           "immigration": 0.07, "other": 0.04},
    2020: {"police": 0.45, "hotline": 0.20, "cpfsa": 0.10, "ngo": 0.10, "labour_inspector": 0.05,
           "immigration": 0.06, "other": 0.04},
    LAST_YEAR: {"police": 0.33, "hotline": 0.35, "cpfsa": 0.12, "ngo": 0.08, "labour_inspector": 0.05,
                "immigration": 0.05, "other": 0.02},
}
# Form of exploitation of investigations: 42 of 43 sex, 1 labour [S8]; 51 of 53 sex, 2 labour
# [S10]; 48 of 61 sex, 6 labour, 7 unspecified [S13]; earlier years assumed a little more labour.
CASE_TYPE_WEIGHTS: dict[int, dict[str, float]] = {
    2019: {"sexual": 0.85, "labour": 0.09, "domestic_servitude": 0.03, "forced_criminality": 0.01, "unknown": 0.02},
    2022: {"sexual": 0.955, "labour": 0.035, "unknown": 0.01},
    LAST_YEAR: {"sexual": 0.79, "labour": 0.10, "unknown": 0.11},
}
# Status of cases nobody was charged in: recent ones mostly still open (assumption).
CASE_STATUS_WEIGHTS: dict[int, dict[str, float]] = {
    2023: {"open": 0.08, "closed": 0.57, "unfounded": 0.35},
    LAST_YEAR: {"open": 0.55, "closed": 0.25, "unfounded": 0.20},
}
CASE_CLOSE_DAYS = (30, 540)  # days from opening to closing a case (assumption)
VICTIM_LAG_DAYS = (0, 45)  # days from opening a case to identifying a victim in it (assumption)

# NRM referral to care: share referred (before the NRM, from it) and mean days to referral.
# All potential and confirmed victims referred in the 2025 report [S17]; the NRM from 2021 [S9][S10].
REFERRED_SHARE = {("child", "confirmed"): (0.75, 0.95), ("child", "suspected"): (0.40, 0.70),
                  ("adult", "confirmed"): (0.60, 0.60), ("adult", "suspected"): (0.25, 0.25)}
# Mean days to referral of children: 15 before the NRM, 6 in its first year, 1.5 once launched
# (formally launched for children in the 2022 report period [S10]); adults 10 throughout.
# About 18% of children are referred within 2 days before the NRM, 86% once it runs (assumption).
CHILD_REFERRAL_MEAN_DAYS = {NRM_YEAR - 1: 15.0, NRM_YEAR: 6.0, LAST_YEAR: 1.5}
ADULT_REFERRAL_MEAN_DAYS = 10.0
# Care providers: CPFSA for children; the VSD screened children from January 2022 [S39].
CHILD_CARE_WEIGHTS: dict[int, dict[str, float]] = {
    2021: {"cpfsa": 0.85, "ngo_shelter": 0.08, "health": 0.05, "other": 0.02},
    LAST_YEAR: {"cpfsa": 0.78, "moj_vsd": 0.10, "ngo_shelter": 0.07, "health": 0.05},
}
ADULT_CARE_WEIGHTS = {"ngo_shelter": 0.50, "moj_vsd": 0.25, "health": 0.10, "other": 0.15}

# Prosecutions. Charged 14-90 days after the case opened; convictions decided 3-24 months
# after charge (next calendar year); other outcomes 6 months to 4 years after (assumptions).
CHARGE_LAG_DAYS = (14, 90)
OTHER_OUTCOME_DAYS = (180, 1460)
CONCLUDED_SHARE = 0.5  # of defendants not convicted, share whose case ends (the rest pending)
OTHER_OUTCOME_WEIGHTS = {"acquitted": 0.35, "dismissed": 0.35, "withdrawn": 0.30}
# Some offenders charged under laws with lower penalties in the 2024 report [S13].
STATUTE_WEIGHTS: dict[int, dict[str, float]] = {
    2022: {"tip_act": 0.85, "other_law": 0.15},
    LAST_YEAR: {"tip_act": 0.65, "other_law": 0.35},
}
COURT_WEIGHTS = {"circuit_court": 0.70, "parish_court": 0.30}
# Suspended sentences and fines in the 2022 report, no significant prison terms in the 2024
# report (outcome years 2021 and 2023) [S11][S13]; otherwise significant prison terms [S5][S8][S17].
LENIENT_OUTCOME_YEARS = (2021, 2023)
# Restitution ordered with a conviction: the 2021 and 2025 reports (outcome years 2020, 2024) [S8][S17].
RESTITUTION_OUTCOME_YEARS = (2020, 2024)

# Child-friendly spaces: sessions ramp up over their first months to 40-80% of capacity (assumption).
CFS_RAMP_MONTHS = 9
CFS_UTILISATION = (0.40, 0.80)
CFS_SERVICE_WEIGHTS = {"forensic_interview": 0.30, "medical_exam": 0.15, "counselling": 0.35,
                       "court_preparation": 0.12, "other": 0.08}
CFS_DURATION_MINUTES = {"forensic_interview": (45, 120), "medical_exam": (30, 90), "counselling": (45, 60),
                        "court_preparation": (60, 120), "other": (20, 60)}
CFS_CRIME_WEIGHTS = {"sexual_abuse": 0.72, "physical_abuse": 0.15, "trafficking": 0.06, "other": 0.07}
# The JCF's anti-TIP unit sits in C-TOC [S22], so the C-TOC space sees more trafficking.
TIP_UNIT_SPACE = "CFS-10"
TIP_UNIT_CRIME_WEIGHTS = {"sexual_abuse": 0.50, "physical_abuse": 0.08, "trafficking": 0.35, "other": 0.07}
CFS_SEX_WEIGHTS: dict[str, dict[str, float]] = {
    "sexual_abuse": {"female": 0.88, "male": 0.11, "unknown": 0.01},
    "physical_abuse": {"female": 0.50, "male": 0.49, "unknown": 0.01},
    "trafficking": {"female": 0.80, "male": 0.20},
    "other": {"female": 0.60, "male": 0.39, "unknown": 0.01},
}
CFS_VICTIM_LINK_SHARE = 0.6  # trafficking sessions tied to an identified child victim
CFS_RECENT_VICTIMS = 10  # a linked session is with one of the replica's 10 latest child victims

# Trainings. Partners by audience while the CPC awards ran (Oct 2018 to the end in May 2023
# [S25][S34]): Warnath for justice, Winrock for care and schools, IOM for labour [S25][S33].
CPC_AWARDS_START, CPC_END = date(2018, 10, 1), date(2023, 5, 31)
TRAINING_PARTNER = {"police": "warnath", "prosecutors": "warnath", "judiciary": "warnath",
                    "social_workers": "winrock", "health": "winrock", "educators": "winrock",
                    "labour_inspectors": "iom", "other": "goj"}
CPC_PARTNER_SHARE = 0.85  # of trainings in the CPC years run by the audience's partner; the rest goj
# Audiences: mostly police before the CPC (563 police trained by 2016 [S49]); care, schools and
# justice during it (trauma-informed care, VSD staff [S39][S41]).
AUDIENCE_WEIGHTS: dict[int, dict[str, float]] = {
    2018: {"police": 0.45, "prosecutors": 0.10, "judiciary": 0.05, "social_workers": 0.12, "health": 0.06,
           "educators": 0.07, "labour_inspectors": 0.05, "other": 0.10},
    2023: {"police": 0.25, "prosecutors": 0.12, "judiciary": 0.08, "social_workers": 0.20, "health": 0.10,
           "educators": 0.12, "labour_inspectors": 0.07, "other": 0.06},
    LAST_YEAR: {"police": 0.35, "prosecutors": 0.10, "judiciary": 0.05, "social_workers": 0.20, "health": 0.08,
                "educators": 0.10, "labour_inspectors": 0.07, "other": 0.05},
}
TRAINING_PARTICIPANTS = (10, 60)
FEMALE_SHARE = {"police": 0.35, "prosecutors": 0.65, "judiciary": 0.60, "social_workers": 0.85,
                "health": 0.80, "educators": 0.80, "labour_inspectors": 0.45, "other": 0.55}
TRAINING_TOPIC = {
    "police": "victim-centred investigation of child trafficking",
    "prosecutors": "prosecuting under the TIP Act",
    "judiciary": "child witnesses and the TIP Act",
    "social_workers": "trauma-informed care and NRM referral",
    "health": "identifying and referring child victims",
    "educators": "child-trafficking indicators in schools",
    "labour_inspectors": "forced-labour indicators",
    "other": "trafficking awareness",
}
TRAINING_PARISH_WEIGHTS = {"Kingston": 0.30, "St Andrew": 0.30, "St James": 0.12, "Manchester": 0.08,
                           "St Catherine": 0.08, "St Ann": 0.05, "Trelawny": 0.04, "Portland": 0.03}


# ---------------------------------------------------------------------------------------
# Funding (not scaled).

@dataclass(frozen=True)
class Commitment:
    """One US Government commitment to an implementing partner and pillar."""

    entry_date: date
    partner: str
    pillar: str
    amount_usd: int
    description: str


# US$5.0m awarded in October 2018 to IOM, Warnath and Winrock [S25]; US$597k in the final year
# (US$97k Warnath, US$500k Winrock) [S31]; the rest of "nearly US$6.7m" [S31][S25] assumed as a
# 2021 supplement. The partner and pillar split is assumed from the partners' roles [S25][S33].
_OCT_2018 = "CPC award, October 2018"
_SUPPLEMENT = "CPC supplement, 2021 (assumed: the rest of the US$6.7m)"
_FINAL_YEAR = "CPC final-year addition"
USG_COMMITMENTS: tuple[Commitment, ...] = (
    Commitment(date(2018, 10, 1), "warnath", "prosecution", 1_500_000, _OCT_2018),
    Commitment(date(2018, 10, 1), "warnath", "protection", 500_000, _OCT_2018),
    Commitment(date(2018, 10, 1), "winrock", "protection", 1_300_000, _OCT_2018),
    Commitment(date(2018, 10, 1), "winrock", "prevention", 1_000_000, _OCT_2018),
    Commitment(date(2018, 10, 1), "winrock", "partnership", 200_000, _OCT_2018),
    Commitment(date(2018, 10, 1), "iom", "protection", 300_000, _OCT_2018),
    Commitment(date(2018, 10, 1), "iom", "partnership", 200_000, _OCT_2018),
    Commitment(date(2021, 10, 1), "warnath", "prosecution", 200_000, _SUPPLEMENT),
    Commitment(date(2021, 10, 1), "warnath", "protection", 400_000, _SUPPLEMENT),
    Commitment(date(2021, 10, 1), "winrock", "protection", 300_000, _SUPPLEMENT),
    Commitment(date(2021, 10, 1), "winrock", "prevention", 200_000, _SUPPLEMENT),
    Commitment(date(2022, 4, 1), "warnath", "protection", 97_000, _FINAL_YEAR),
    Commitment(date(2022, 4, 1), "winrock", "protection", 300_000, _FINAL_YEAR),
    Commitment(date(2022, 4, 1), "winrock", "prevention", 200_000, _FINAL_YEAR),
)
# Last quarter each partner draws funds in: Winrock's award ran to 31 Dec 2022 [S33]; the CPC
# concluded in May 2023 [S34], so Warnath and IOM run to the end of June 2023.
DISBURSE_UNTIL = {"winrock": date(2022, 12, 31), "warnath": date(2023, 6, 30), "iom": date(2023, 6, 30)}

PARTNER_NAMES = {"warnath": "Warnath Group", "winrock": "Winrock International", "iom": "IOM"}

JMD_PER_USD = Decimal(150)  # one rate for all years (data-model.md: about J$150 to US$1, 2018-2023)


@dataclass(frozen=True)
class BudgetLine:
    """One Government of Jamaica budget figure, in J$ millions, for a fiscal year (April-March)."""

    fiscal_year: int  # the year the fiscal year starts in
    code: str  # short name used in the entry id
    pillar: str
    jmd_millions: str
    description: str


# Anti-TIP allocations J$34.8m FY2017/18 [S3] and J$33.4m FY2018/19 [S4]; NATFATIP ~J$19m, then
# J$11m in the 2024 report [S13]; victim-protection spend J$14m, J$7m, J$2m in the 2019, 2020 and
# 2021 reports [S6][S8][S11]. A report's figure is placed in the fiscal year ending in its year's
# March; the national allocation counts as partnership (NATFATIP coordinates), the spend as protection.
GOJ_BUDGET: tuple[BudgetLine, ...] = (
    BudgetLine(2017, "TIP", "partnership", "34.8", "anti-TIP allocation"),
    BudgetLine(2018, "TIP", "partnership", "33.4", "anti-TIP allocation"),
    BudgetLine(2018, "VP", "protection", "14", "victim-protection spend"),
    BudgetLine(2019, "VP", "protection", "7", "victim-protection spend"),
    BudgetLine(2020, "VP", "protection", "2", "victim-protection spend"),
    BudgetLine(2022, "TIP", "partnership", "19", "NATFATIP budget"),
    BudgetLine(2023, "TIP", "partnership", "11", "NATFATIP budget"),
)


# ---------------------------------------------------------------------------------------

def build_sample(path: str | os.PathLike, seed: int = 1, scale: int = 1) -> dict[str, int]:
    """Write the synthetic database at `path`; return the row count of every table.

    Example: `build_sample("data/cpc.duckdb", seed=1)`. An existing file is replaced only
    when its schema_info says synthetic='true'."""
    _check_arguments(seed, scale)
    path = Path(path)
    with db.rebuild(path, start_empty=True, keep_backup=False) as con:
        _refuse_real_data(path)  # under the writer's lock, so no import can slip in between
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute("SET enable_progress_bar = false")
        schema.create_schema(con)
        _define_random(con, seed)
        _create_plans(con)
        _insert_funding(con)
        # Replicas are independent, so they are written a batch at a time: each batch is its
        # own transaction and a checkpoint after it lets DuckDB evict the key indexes.
        for first in range(0, scale, REPLICAS_PER_BATCH):
            replicas = f"range({first}, {min(scale, first + REPLICAS_PER_BATCH)}) r(rep)"
            _insert_cases(con, replicas)
            _insert_victims(con, replicas)
            _insert_prosecutions(con, replicas)
            _insert_cfs_sessions(con, replicas)
            _insert_trainings(con, replicas)
            con.execute("CHECKPOINT")
        schema.set_info(con, synthetic="true", seed=str(seed), scale=str(scale))
        return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in schema.TABLES}


def _check_arguments(seed: object, scale: object) -> None:
    """Raise SampleOptionError unless seed is a whole number >= 0 and scale one from 1 to MAX_SCALE."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise SampleOptionError(f"The seed must be a whole number from 0 to {MAX_SEED}, not {seed!r}. "
                                "Pass for example --seed 1.")
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise SampleOptionError(f"The scale must be a whole number from 1 to {MAX_SCALE}, not {scale!r}. "
                                "Pass --scale 1 for the calibrated sample, or for example --scale 1000 for a "
                                "benchmark.")


def _refuse_real_data(path: Path) -> None:
    """Raise SampleRefused when `path` exists and is not a synthetic sample database."""
    if not path.exists():
        return
    try:
        with db.reading(path) as con:
            synthetic = db.info(con).get("synthetic")
    except CpcError as exc:
        raise SampleRefused(UNREADABLE.format(path=path, reason=exc)) from exc
    if synthetic != "true":
        raise SampleRefused(NOT_SYNTHETIC.format(path=path))


# ---------------------------------------------------------------------------------------
# SQL building blocks.

def _define_random(con: db.Connection, seed: int) -> None:
    """Temporary macros (gone when the connection closes) for seeded random draws and ids."""
    con.execute(f"CREATE TEMP MACRO rnd(k, salt) AS (hash({seed}::BIGINT, k, salt) % 1000000) / 1e6")
    con.execute("CREATE TEMP MACRO rnd_int(k, salt, lo, hi) AS "
                "CAST(lo + floor(rnd(k, salt) * (hi - lo + 1)) AS INTEGER)")
    con.execute("CREATE TEMP MACRO rnd_day(y, k, salt) AS "
                "make_date(y, 1, 1) + rnd_int(k, salt, 0, make_date(y, 12, 31) - make_date(y, 1, 1))")
    con.execute("CREATE TEMP MACRO id_suffix(rep) AS CASE WHEN rep = 0 THEN '' ELSE '-' || (rep + 1) END")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pick(u: str, weights: dict[str, float]) -> str:
    """SQL choosing a value with the given weights from the uniform number in column `u`."""
    items = [(v, w) for v, w in weights.items() if w > 0]
    total = sum(w for _, w in items)
    whens, cumulative = [], 0.0
    for value, weight in items[:-1]:
        cumulative += weight / total
        whens.append(f"WHEN {u} < {cumulative:.6f} THEN {_quote(value)}")
    last = _quote(items[-1][0])
    return f"(CASE {' '.join(whens)} ELSE {last} END)" if whens else last


def _by_year(year: str, choices: dict[int, str]) -> str:
    """SQL taking the expression of the first period (keyed by its last year) that holds `year`."""
    periods = sorted(choices.items())
    whens = " ".join(f"WHEN {year} <= {last} THEN {sql}" for last, sql in periods[:-1])
    return f"(CASE {whens} ELSE {periods[-1][1]} END)" if whens else periods[-1][1]


def _pick_by_year(u: str, year: str, weights: dict[int, dict[str, float]]) -> str:
    return _by_year(year, {last: _pick(u, w) for last, w in weights.items()})


def _by_group(column: str, choices: dict[str, str]) -> str:
    """SQL taking the expression given for the value of `column`."""
    whens = " ".join(f"WHEN {_quote(value)} THEN {sql}" for value, sql in choices.items())
    return f"(CASE {column} {whens} END)"


def _insert(con: db.Connection, table: str, select_sql: str) -> None:
    """Insert the data-model columns of `select_sql`'s rows into `table`, marked as the sample."""
    columns = ", ".join(schema.TABLES[table].column_names)
    con.execute(f"INSERT INTO {table} ({columns}, {schema.BATCH_COLUMN}) "
                f"SELECT {columns}, {_quote(SAMPLE_BATCH)} FROM ({select_sql})")


def _create_plans(con: db.Connection) -> None:
    """Temporary tables holding the yearly calibration, for the generators to join."""
    con.execute("CREATE TEMP TABLE year_plan (year INTEGER, cases INTEGER, prosecuted INTEGER, "
                "defendants INTEGER, convictions INTEGER, trainings INTEGER, suspected INTEGER)")
    con.executemany("INSERT INTO year_plan VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (year, p.cases, p.prosecuted, p.defendants, p.convictions, p.trainings,
         SUSPECTED_PER_CONFIRMED * sum(n for _, _, n in CONFIRMED_VICTIMS[year]))
        for year, p in YEAR_PLAN.items()])
    con.execute("CREATE TEMP TABLE confirmed_plan (year INTEGER, line INTEGER, profile TEXT, "
                "nationality TEXT, n INTEGER)")
    con.executemany("INSERT INTO confirmed_plan VALUES (?, ?, ?, ?, ?)", [
        (year, line, profile, nationality, n)
        for year, lines in CONFIRMED_VICTIMS.items()
        for line, (profile, nationality, n) in enumerate(lines)])
    con.execute("CREATE TEMP TABLE victim_profiles (profile TEXT, sex TEXT, age_lo INTEGER, "
                "age_hi INTEGER, exploitation_type TEXT)")
    con.executemany("INSERT INTO victim_profiles VALUES (?, ?, ?, ?, ?)", [
        (name, p.sex, p.age_lo, p.age_hi, p.exploitation_type) for name, p in VICTIM_PROFILES.items()])


# ---------------------------------------------------------------------------------------
# One function per table. Row keys `k` are unique within a table and include the replica,
# so every replica is an independent draw and replica 1 equals the scale-1 sample.

def _insert_cases(con: db.Connection, replicas: str) -> None:
    """Investigations: the TIP yearly counts, parishes, referral sources, types and status."""
    lo, hi = CASE_COUNT_RANGE
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE case_draws AS
    WITH plan AS (
      -- the TIP count of the year, give or take 2, kept inside the published range
      SELECT p.year, r.rep, p.prosecuted,
             least({hi}, greatest({lo}, p.cases + rnd_int(r.rep * 10000 + p.year, 'cases.count', -2, 2))) AS n
      FROM year_plan p CROSS JOIN {replicas}
    ),
    slots AS (
      SELECT year, rep, prosecuted, i, (rep * 10000 + year) * 1000 + i AS k
      FROM (SELECT *, unnest(range(n)) AS i FROM plan)
    ),
    draws AS (
      SELECT *, rnd_day(year, k, 'cases.opened') AS opened_date,
             rnd(k, 'cases.parish') AS u_parish, rnd(k, 'cases.source') AS u_source,
             rnd(k, 'cases.type') AS u_type, rnd(k, 'cases.status') AS u_status,
             opened_date + rnd_int(k, 'cases.close', {CASE_CLOSE_DAYS[0]}, {CASE_CLOSE_DAYS[1]}) AS closes_on,
             -- the year's prosecuted cases are the first `prosecuted` in a seeded shuffle of the
             -- cases opened by September, so that every charge falls in the same year
             row_number() OVER (PARTITION BY year, rep ORDER BY month(opened_date) > 9, rnd(k, 'cases.prosecuted'), i)
               AS prosecution_rank
      FROM slots
    ),
    coded AS (
      SELECT *,
             {_pick('u_parish', PARISH_WEIGHTS)} AS parish,
             {_pick_by_year('u_source', 'year', REFERRAL_SOURCE_WEIGHTS)} AS referral_source,
             {_pick_by_year('u_type', 'year', CASE_TYPE_WEIGHTS)} AS exploitation_type,
             CASE WHEN prosecution_rank <= prosecuted THEN 'referred_for_prosecution'
                  ELSE {_pick_by_year('u_status', 'year', CASE_STATUS_WEIGHTS)} END AS drawn_status,
             row_number() OVER (PARTITION BY year, rep ORDER BY opened_date, i) AS seq
      FROM draws
    )
    SELECT *,
           'JCF-' || year || '-' || lpad(seq::VARCHAR, 6, '0') || id_suffix(rep) AS case_id,
           -- a case that would close after the data ends is still open
           CASE WHEN drawn_status IN ('closed', 'unfounded') AND closes_on > DATE '{DATA_END}' THEN 'open'
                ELSE drawn_status END AS status,
           CASE WHEN drawn_status IN ('closed', 'unfounded') AND closes_on <= DATE '{DATA_END}'
                THEN closes_on END AS closed_date,
           -- numbers the cases of each type, so victims can pick a case of their own type
           row_number() OVER (PARTITION BY year, rep, exploitation_type ORDER BY seq) AS type_seq
    FROM coded
    """)
    _insert(con, "cases", "SELECT * FROM case_draws")


def _insert_victims(con: db.Connection, replicas: str) -> None:
    """Confirmed victims as the TIP breakdowns, twice as many suspected, NRM referrals to care."""
    nationality = _by_group("profile", {p: _pick("u_nationality", w) for p, w in SUSPECTED_NATIONALITY_WEIGHTS.items()})
    is_child = "age < 18"
    # Chance of referral: REFERRED_SHARE before and from the NRM year.
    referred_share = "(CASE " + " ".join(
        f"WHEN {'' if group == 'child' else 'NOT '}({is_child}) AND victim_status = {_quote(status)} "
        f"THEN CASE WHEN year >= {NRM_YEAR} THEN {after} ELSE {before} END"
        for (group, status), (before, after) in REFERRED_SHARE.items()) + " END)"
    mean_days = (f"(CASE WHEN {is_child} THEN "
                 f"{_by_year('year', {y: str(d) for y, d in CHILD_REFERRAL_MEAN_DAYS.items()})} "
                 f"ELSE {ADULT_REFERRAL_MEAN_DAYS} END)")
    link_share = _by_group("victim_status", {s: str(v) for s, v in CASE_LINK_SHARE.items()})
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE victim_draws AS
    WITH confirmed AS (
      SELECT c.year, r.rep, 'confirmed' AS victim_status, c.profile, c.nationality,
             (((r.rep * 10000 + c.year) * 2) * 100 + c.line) * 1000 + c.i AS k
      FROM (SELECT *, unnest(range(n)) AS i FROM confirmed_plan) c CROSS JOIN {replicas}
    ),
    suspected AS (
      SELECT year, rep, 'suspected' AS victim_status, NULL AS profile, NULL AS nationality,
             (((rep * 10000 + year) * 2 + 1) * 100) * 1000 + i AS k
      FROM (SELECT p.year, r.rep,
                   unnest(range(p.suspected + rnd_int(r.rep * 10000 + p.year, 'victims.suspected', -2, 2))) AS i
            FROM year_plan p CROSS JOIN {replicas})
    ),
    draws AS (
      SELECT *, rnd(k, 'victims.profile') AS u_profile, rnd(k, 'victims.nationality') AS u_nationality,
             rnd(k, 'victims.age') AS u_age, rnd(k, 'victims.link') AS u_link, rnd(k, 'victims.case') AS u_case,
             rnd(k, 'victims.source') AS u_source, rnd(k, 'victims.parish') AS u_parish,
             rnd(k, 'victims.referred') AS u_referred, rnd(k, 'victims.referral_days') AS u_days,
             rnd(k, 'victims.care') AS u_care
      FROM (SELECT * FROM confirmed UNION ALL SELECT * FROM suspected)
    ),
    profiled AS (
      SELECT * EXCLUDE (profile), coalesce(profile, {_pick('u_profile', SUSPECTED_PROFILE_WEIGHTS)}) AS profile
      FROM draws
    ),
    typed AS (
      SELECT d.* EXCLUDE (nationality), coalesce(d.nationality, {nationality}) AS nationality,
             p.sex, p.exploitation_type, CAST(p.age_lo + floor(d.u_age * (p.age_hi - p.age_lo + 1)) AS INTEGER) AS age
      FROM profiled d JOIN victim_profiles p USING (profile)
    ),
    case_pool AS (SELECT year, rep, exploitation_type, count(*) AS n FROM case_draws GROUP BY ALL),
    linked AS (
      -- most victims belong to a case of their own form of exploitation in the same year
      SELECT t.*, c.case_id, c.opened_date AS case_opened, c.parish AS case_parish,
             c.referral_source AS case_source
      FROM typed t
      LEFT JOIN case_pool cp ON cp.year = t.year AND cp.rep = t.rep
           AND cp.exploitation_type = t.exploitation_type AND t.u_link < {link_share}
      LEFT JOIN case_draws c ON c.year = t.year AND c.rep = t.rep AND c.exploitation_type = t.exploitation_type
           AND c.type_seq = 1 + CAST(floor(t.u_case * cp.n) AS INTEGER)
    ),
    dated AS (
      SELECT *,
             CASE WHEN case_id IS NULL THEN rnd_day(year, k, 'victims.identified')
                  -- within the case's year, so the yearly victim counts hold
                  ELSE case_opened + rnd_int(k, 'victims.lag', {VICTIM_LAG_DAYS[0]},
                                             least({VICTIM_LAG_DAYS[1]}, make_date(year, 12, 31) - case_opened))
             END AS identified_date,
             coalesce(case_source, {_pick_by_year('u_source', 'year', REFERRAL_SOURCE_WEIGHTS)}) AS identified_by,
             coalesce(case_parish, {_pick('u_parish', PARISH_WEIGHTS)}) AS parish
      FROM linked
    ),
    referred AS (
      -- days to referral drawn from an exponential distribution with the period's mean
      SELECT *, CASE WHEN u_referred < {referred_share}
                     THEN identified_date + CAST(floor(-ln(1 - u_days) * {mean_days}) AS INTEGER) END AS referral
      FROM dated
    ),
    numbered AS (
      SELECT *, CASE WHEN referral <= DATE '{DATA_END}' THEN referral END AS referred_date,
             row_number() OVER (PARTITION BY year, rep ORDER BY identified_date, k) AS seq
      FROM referred
    )
    SELECT *,
           CASE WHEN identified_by IN ('hotline', 'cpfsa') THEN 'CPFSA-V-' ELSE 'JCF-V-' END
             || year || '-' || lpad(seq::VARCHAR, 6, '0') || id_suffix(rep) AS victim_id,
           CASE WHEN referred_date IS NOT NULL THEN
             CASE WHEN {is_child} THEN {_pick_by_year('u_care', 'year', CHILD_CARE_WEIGHTS)}
                  ELSE {_pick('u_care', ADULT_CARE_WEIGHTS)} END END AS care_provider
    FROM numbered
    """)
    _insert(con, "victims", "SELECT * FROM victim_draws")


def _insert_prosecutions(con: db.Connection, replicas: str) -> None:
    """Defendants charged in the prosecuted cases; 1-2 convictions a year, the rest slow."""
    sentence = (f"CASE WHEN year(outcome_date) IN {LENIENT_OUTCOME_YEARS} "
                "THEN CASE WHEN u_sentence < 0.5 THEN 0 ELSE rnd_int(k, 'prosecutions.months', 6, 36) END "
                "ELSE rnd_int(k, 'prosecutions.months', 60, 240) END")
    _insert(con, "prosecutions", f"""
    WITH slots AS (
      SELECT p.year, r.rep, j, p.prosecuted, p.convictions, (r.rep * 10000 + p.year) * 100 + j AS k
      FROM (SELECT *, unnest(range(defendants)) AS j FROM year_plan) p CROSS JOIN {replicas}
    ),
    child_cases AS (
      SELECT case_id, bool_or(age < 18) AS has_child FROM victim_draws WHERE case_id IS NOT NULL GROUP BY ALL
    ),
    charged AS (
      -- defendants are spread over the year's prosecuted cases in turn
      SELECT s.*, c.case_id, c.parish, c.exploitation_type, cc.has_child, rnd(c.k, 'cases.child_victim') AS u_child,
             least(c.opened_date + rnd_int(s.k, 'prosecutions.charge', {CHARGE_LAG_DAYS[0]}, {CHARGE_LAG_DAYS[1]}),
                   make_date(s.year, 12, 31)) AS charged_date,
             row_number() OVER (PARTITION BY s.year, s.rep ORDER BY rnd(s.k, 'prosecutions.convicted'), s.j)
               AS conviction_rank,
             rnd(s.k, 'prosecutions.court') AS u_court, rnd(s.k, 'prosecutions.statute') AS u_statute,
             rnd(s.k, 'prosecutions.concluded') AS u_concluded,
             rnd(s.k, 'prosecutions.outcome') AS u_outcome, rnd(s.k, 'prosecutions.sentence') AS u_sentence
      FROM slots s
      JOIN case_draws c ON c.year = s.year AND c.rep = s.rep AND c.prosecution_rank = s.j % s.prosecuted + 1
      LEFT JOIN child_cases cc ON cc.case_id = c.case_id
    ),
    decided AS (
      SELECT *,
             CASE WHEN conviction_rank <= convictions
                  -- a conviction falls in the next calendar year, at least 3 months after the charge
                  THEN greatest(charged_date + 90, rnd_day(year + 1, k, 'prosecutions.convicted_on'))
                  WHEN u_concluded < {CONCLUDED_SHARE}
                  THEN charged_date + rnd_int(k, 'prosecutions.other_on', {OTHER_OUTCOME_DAYS[0]}, {OTHER_OUTCOME_DAYS[1]})
             END AS decided_on
      FROM charged
    ),
    outcomes AS (
      SELECT *,
             CASE WHEN decided_on > DATE '{DATA_END}' OR decided_on IS NULL THEN 'pending'
                  WHEN conviction_rank <= convictions THEN 'convicted'
                  ELSE {_pick('u_outcome', OTHER_OUTCOME_WEIGHTS)} END AS outcome,
             CASE WHEN decided_on <= DATE '{DATA_END}' THEN decided_on END AS outcome_date,
             row_number() OVER (PARTITION BY year, rep ORDER BY charged_date, j) AS seq
      FROM decided
    )
    SELECT *,
           'ODPP-' || year || '-' || lpad(seq::VARCHAR, 6, '0') || id_suffix(rep) AS prosecution_id,
           'ODPP-D-' || year || '-' || lpad(seq::VARCHAR, 4, '0') || id_suffix(rep) AS defendant_ref,
           {_pick('u_court', COURT_WEIGHTS)} AS court,
           {_pick_by_year('u_statute', 'year', STATUTE_WEIGHTS)} AS statute,
           -- a child victim when the case has one; otherwise likely for sexual exploitation (per case)
           coalesce(has_child, u_child < CASE exploitation_type WHEN 'sexual' THEN 0.85 ELSE 0.2 END) AS child_victim,
           CASE WHEN outcome = 'convicted' THEN {sentence} END AS sentence_months,
           CASE WHEN outcome = 'convicted' THEN year(outcome_date) IN {RESTITUTION_OUTCOME_YEARS}
                AND conviction_rank = 1 END AS restitution_ordered
    FROM outcomes
    """)


def _insert_cfs_sessions(con: db.Connection, replicas: str) -> None:
    """Sessions in each child-friendly space from its opening, ramping up to 40-80% of capacity."""
    util_lo, util_hi = CFS_UTILISATION
    crime = (f"CASE WHEN space_id = {_quote(TIP_UNIT_SPACE)} THEN {_pick('u_crime', TIP_UNIT_CRIME_WEIGHTS)} "
             f"ELSE {_pick('u_crime', CFS_CRIME_WEIGHTS)} END")
    sex = _by_group("crime_type", {c: _pick("u_sex", w) for c, w in CFS_SEX_WEIGHTS.items()})
    duration = _by_group("service", {s: f"rnd_int(k, 'cfs.duration', {lo}, {hi})"
                                     for s, (lo, hi) in CFS_DURATION_MINUTES.items()})
    _insert(con, "cfs_sessions", f"""
    WITH spaces AS (
      SELECT space_id, monthly_capacity, opened_date,
             least(coalesce(closed_date, DATE '{DATA_END}'), DATE '{DATA_END}') AS open_until,
             row_number() OVER (ORDER BY space_id) AS space_no
      FROM child_friendly_spaces WHERE opened_date <= DATE '{DATA_END}'
    ),
    months AS (
      SELECT s.*, r.rep, CAST(m.month AS DATE) AS month,
             (r.rep * 100 + s.space_no) * 1000 + datediff('month', DATE '{FIRST_YEAR}-01-01', m.month) AS km,
             datediff('month', date_trunc('month', s.opened_date), m.month) AS months_open
      FROM spaces s,
           LATERAL (SELECT unnest(generate_series(date_trunc('month', s.opened_date),
                                                  date_trunc('month', s.open_until), INTERVAL 1 MONTH)) AS month) m,
           {replicas}
    ),
    month_counts AS (
      SELECT *, greatest(opened_date, month) AS open_from, least(last_day(month), open_until) AS open_to,
             -- each space settles at its own 40-80% of capacity after a ramp-up, less in a part month
             least(monthly_capacity, CAST(round(
               monthly_capacity
               * ({util_lo} + {util_hi - util_lo} * rnd(rep * 100 + space_no, 'cfs.utilisation'))
               * least(1.0, (months_open + 1) / {CFS_RAMP_MONTHS}.0)
               * (least(last_day(month), open_until) - greatest(opened_date, month) + 1)
                 / (last_day(month) - month + 1)
               * (0.8 + 0.4 * rnd(km, 'cfs.month'))) AS INTEGER)) AS n
      FROM months
    ),
    draws AS (
      SELECT space_id, rep, open_from, km * 1000 + i AS k,
             open_from + rnd_int(k, 'cfs.day', 0, open_to - open_from) AS session_date,
             rnd(k, 'cfs.service') AS u_service, rnd(k, 'cfs.crime') AS u_crime, rnd(k, 'cfs.sex') AS u_sex,
             rnd(k, 'cfs.age') AS u_age, rnd(k, 'cfs.link') AS u_link, rnd(k, 'cfs.victim') AS u_victim
      FROM (SELECT *, unnest(range(n)) AS i FROM month_counts)
    ),
    coded AS (
      SELECT *, {_pick('u_service', CFS_SERVICE_WEIGHTS)} AS service, {crime} AS crime_type
      FROM draws
    ),
    child_victims AS (
      SELECT rep, victim_id, identified_date, sex, age,
             row_number() OVER (PARTITION BY rep ORDER BY identified_date, victim_id) AS idx
      FROM victim_draws WHERE age < 18
    ),
    known_by_day AS (  -- how many child victims the replica has identified by each day
      SELECT rep, identified_date, max(idx) AS known FROM child_victims GROUP BY ALL
    ),
    linked AS (
      -- some trafficking sessions are with one of the latest child victims, still under 18
      SELECT s.k, v.victim_id, v.sex AS victim_sex,
             v.age + CAST((s.session_date - v.identified_date) // 365 AS INTEGER) AS victim_age
      FROM coded s
      ASOF JOIN known_by_day kd ON kd.rep = s.rep AND s.session_date >= kd.identified_date
      JOIN child_victims v ON v.rep = s.rep
           AND v.idx = kd.known - CAST(floor(s.u_victim * least(kd.known, {CFS_RECENT_VICTIMS})) AS INTEGER)
      WHERE s.crime_type = 'trafficking' AND s.u_link < {CFS_VICTIM_LINK_SHARE}
        AND v.age + (s.session_date - v.identified_date) // 365 < 18
    ),
    sexed AS (
      SELECT c.*, l.victim_id,
             coalesce(l.victim_sex, {sex}) AS sex,
             -- children from 3 to 17, more of them older
             coalesce(l.victim_age, 3 + CAST(floor(sqrt(c.u_age) * 15) AS INTEGER)) AS age,
             row_number() OVER (PARTITION BY c.space_id, year(c.session_date), c.rep ORDER BY c.session_date, c.k) AS seq
      FROM coded c LEFT JOIN linked l USING (k)
    )
    SELECT *,
           space_id || '-' || year(session_date) || '-' || lpad(seq::VARCHAR, 5, '0') || id_suffix(rep) AS session_id,
           {duration} AS duration_minutes
    FROM sexed
    """)


def _quarter_ends(start: date, end: date) -> list[date]:
    """The last day of every calendar quarter from the one holding `start` to the one holding `end`."""
    out, year, quarter = [], start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (end.year, (end.month - 1) // 3 + 1):
        month = quarter * 3
        out.append(date(year, month, 31 if month in (3, 12) else 30))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out


def _funding_rows() -> list[tuple]:
    """Commitments and their quarterly disbursements (USG), and GOJ budget lines."""
    rows = []
    cent = Decimal("0.01")
    for number, c in enumerate(USG_COMMITMENTS, start=1):
        amount = Decimal(c.amount_usd)
        what = f"{c.description}: {PARTNER_NAMES[c.partner]}, {c.pillar}"
        rows.append((f"USG-C-{number:02d}", c.entry_date, "commitment", "usg", c.partner, c.pillar, amount, what))
        # Paid in equal quarterly parts up to the partner's end; the last part takes the cents left.
        quarters = _quarter_ends(c.entry_date, DISBURSE_UNTIL[c.partner])
        part = (amount / len(quarters)).quantize(cent, rounding=ROUND_DOWN)
        for index, quarter_end in enumerate(quarters):
            paid = part if index < len(quarters) - 1 else amount - part * (len(quarters) - 1)
            rows.append((f"USG-D-{number:02d}-{quarter_end.year}Q{(quarter_end.month - 1) // 3 + 1}",
                         quarter_end, "disbursement", "usg", c.partner, c.pillar, paid,
                         f"Disbursement, {what}"))
    for line in GOJ_BUDGET:
        amount = (Decimal(line.jmd_millions) * 1_000_000 / JMD_PER_USD).quantize(cent)
        fiscal = f"FY{line.fiscal_year}-{(line.fiscal_year + 1) % 100:02d}"
        text = f"Government of Jamaica {line.description}, {fiscal}: J${line.jmd_millions}m at J${JMD_PER_USD} = US$1"
        # Committed at the start of the fiscal year, spent by its end.
        rows.append((f"GOJ-C-{fiscal}-{line.code}", date(line.fiscal_year, 4, 1), "commitment", "goj", "goj",
                     line.pillar, amount, text))
        rows.append((f"GOJ-D-{fiscal}-{line.code}", date(line.fiscal_year + 1, 3, 31), "disbursement", "goj", "goj",
                     line.pillar, amount, text))
    return rows


def _insert_funding(con: db.Connection) -> None:
    """The CPC's US commitments and disbursements and Jamaica's budget lines (never scaled)."""
    columns = schema.TABLES["funding"].column_names
    con.executemany(
        f"INSERT INTO funding ({', '.join(columns)}, {schema.BATCH_COLUMN}) "
        f"VALUES ({', '.join('?' for _ in columns)}, {_quote(SAMPLE_BATCH)})", _funding_rows())


def _insert_trainings(con: db.Connection, replicas: str) -> None:
    """Training events by audience and partner, more of them during the CPC (2019-2023)."""
    lo, hi = TRAINING_PARTICIPANTS
    partner = (f"CASE WHEN start_date BETWEEN DATE '{CPC_AWARDS_START}' AND DATE '{CPC_END}' "
               f"AND u_partner < {CPC_PARTNER_SHARE} "
               f"THEN {_by_group('audience', {a: _quote(p) for a, p in TRAINING_PARTNER.items()})} "
               "WHEN u_partner < 0.9 OR start_date BETWEEN "
               f"DATE '{CPC_AWARDS_START}' AND DATE '{CPC_END}' THEN 'goj' ELSE 'other' END")
    female_share = _by_group("audience", {a: str(s) for a, s in FEMALE_SHARE.items()})
    topic = _by_group("audience", {a: _quote(t) for a, t in TRAINING_TOPIC.items()})
    _insert(con, "trainings", f"""
    WITH slots AS (
      SELECT p.year, r.rep, i, (r.rep * 10000 + p.year) * 100 + i AS k
      FROM (SELECT *, unnest(range(trainings)) AS i FROM year_plan) p CROSS JOIN {replicas}
    ),
    draws AS (
      SELECT *, rnd_day(year, k, 'trainings.start') AS start_date,
             rnd_int(k, 'trainings.participants', {lo}, {hi}) AS participants,
             rnd(k, 'trainings.audience') AS u_audience, rnd(k, 'trainings.partner') AS u_partner,
             rnd(k, 'trainings.female') AS u_female, rnd(k, 'trainings.parish') AS u_parish
      FROM slots
    ),
    coded AS (
      SELECT *, {_pick_by_year('u_audience', 'year', AUDIENCE_WEIGHTS)} AS audience,
             row_number() OVER (PARTITION BY year, rep ORDER BY start_date, i) AS seq
      FROM draws
    )
    SELECT *,
           'TRN-' || year || '-' || lpad(seq::VARCHAR, 4, '0') || id_suffix(rep) AS training_id,
           {partner} AS partner,
           -- the audience's usual share of women, give or take 15 points
           CAST(round(participants * least(1.0, greatest(0.0, {female_share} + 0.3 * (u_female - 0.5)))) AS INTEGER)
             AS female_participants,
           {_pick('u_parish', TRAINING_PARISH_WEIGHTS)} AS parish,
           {topic} AS topic
    FROM coded
    """)
