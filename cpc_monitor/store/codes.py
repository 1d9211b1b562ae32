"""Code lists and reference facts of the data model (../shared/design/data-model.md).

Everything that names an allowed value lives here, so that the schema's CHECK
constraints, the importer's messages and the indicator validator agree."""

# Parishes and their counties, as spelled in the data model (2011 census, facts file S61).
PARISH_COUNTY: dict[str, str] = {
    "Kingston": "surrey", "St Andrew": "surrey", "St Thomas": "surrey", "Portland": "surrey",
    "St Catherine": "middlesex", "St Mary": "middlesex", "Clarendon": "middlesex",
    "St Ann": "middlesex", "Manchester": "middlesex",
    "St Elizabeth": "cornwall", "Trelawny": "cornwall", "St James": "cornwall",
    "Hanover": "cornwall", "Westmoreland": "cornwall",
}
PARISHES: tuple[str, ...] = tuple(PARISH_COUNTY)
COUNTIES: tuple[str, ...] = ("surrey", "middlesex", "cornwall")

# Population at the 2011 census, by parish (total 2,697,983).
CENSUS_2011: dict[str, int] = {
    "Kingston": 89_057, "St Andrew": 573_369, "St Thomas": 93_902, "Portland": 81_744,
    "St Catherine": 516_218, "St Mary": 113_615, "Clarendon": 245_103, "St Ann": 172_362,
    "Manchester": 189_797, "St Elizabeth": 150_205, "Trelawny": 75_164, "St James": 183_811,
    "Hanover": 69_533, "Westmoreland": 144_103,
}
# Assumption (stated in docs/data.md): the census is carried forward at 0.3% a year, Jamaica's
# slow growth of the 2010s, and children (under 18) are 27% of each parish's population.
POPULATION_GROWTH_PER_YEAR = 0.003
CHILD_SHARE = 0.27
POPULATION_YEARS = range(2011, 2031)  # census year to the goal year

REFERRAL_SOURCES = ("police", "hotline", "cpfsa", "ngo", "labour_inspector", "immigration", "other")
EXPLOITATION_TYPES = ("sexual", "labour", "domestic_servitude", "forced_criminality", "mixed", "other", "unknown")
CASE_STATUSES = ("open", "referred_for_prosecution", "closed", "unfounded")
VICTIM_STATUSES = ("confirmed", "suspected")
SEXES = ("female", "male", "other", "unknown")
CARE_PROVIDERS = ("cpfsa", "moj_vsd", "ngo_shelter", "health", "other")
COURTS = ("parish_court", "circuit_court", "other")
STATUTES = ("tip_act", "other_law")
OUTCOMES = ("pending", "convicted", "acquitted", "dismissed", "withdrawn")
SERVICES = ("forensic_interview", "medical_exam", "counselling", "court_preparation", "other")
CRIME_TYPES = ("trafficking", "sexual_abuse", "physical_abuse", "other")
OPERATORS = ("jcf", "indecom", "moj_vsd", "cpfsa", "other")
FUNDING_KINDS = ("commitment", "disbursement")
DONORS = ("usg", "goj", "other")
PARTNERS = ("iom", "warnath", "winrock", "goj", "other")
PILLARS = ("prosecution", "protection", "prevention", "partnership")
# A reviewer's decision on a likely duplicate pair of victims (dedupe.py).
DUPLICATE_DECISIONS = ("same_person", "different")
AUDIENCES = ("police", "prosecutors", "judiciary", "social_workers", "health", "educators",
             "labour_inspectors", "other")

# Age groups the engine derives from `age` (indicators-yaml.md), in display order.
AGE_GROUPS = ("0-11", "12-17", "18+", "unknown")
