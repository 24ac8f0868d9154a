"""The synthetic end-2020 population of Zhejiang: people and firms.

Built from `calibration/baseline_<year>.toml` (2020 by default) at a given scale (persons per row).
Counts that the sources give are hit exactly by allocating exact quotas
(largest remainders for ages; weighted sampling without replacement of exactly
k rows for attributes), so stock errors come only from rounding to whole rows.
The weights that decide *who* gets an attribute (younger people are more often
college-educated, migrants work more, ...) are documented assumptions below.

Also solved here, from the 2020 stocks (the `derived` dictionary): the level of
the mortality hazard, the college continuation rate, the wage levels of
non-private and private units, the matching efficiency and the 2020 ratio of
the minimum wage to the average wage.
"""

import numba
import numpy as np

from .calibration import Calibration
from .kernels import block, block_count, rows_with_status, sized_pass
from .processes import firm_columns, person_columns
from .processes.demography import statutory_age_months
from .processes.labour_demand import relative_closure_hazard
from .processes.separations import quit_probability
from .processes.wages import below_minimum, log_wage_terms
from .sampling import apportion, categorical, choose_exact, largest_first_until
from .status import PUBLIC_SECTOR, SECTORS, Status, is_employed
from .table import Table


# Employment propensity by age (knots, linear in between), men and women:
# the shape of census employment-to-population ratios (assumption; ZJ age-
# specific rates were not found); the level is set by the employed total.
EMPLOYMENT_AGES = np.array([16, 20, 25, 30, 45, 50, 55, 60, 65, 70, 75, 80])
EMPLOYMENT_MEN = np.array([0.25, 0.65, 0.90, 0.95, 0.95, 0.92, 0.85, 0.55, 0.35, 0.18, 0.06, 0.01])
EMPLOYMENT_WOMEN = np.array([0.25, 0.60, 0.82, 0.85, 0.85, 0.70, 0.50, 0.35, 0.25, 0.12, 0.04, 0.01])

# Relative affinity of each sector for each education level (rows: sectors in
# SECTORS order; columns: junior or less, senior secondary, college).  Assumption.
SECTOR_EDUCATION_AFFINITY = np.array(
    [
        [3.0, 1.0, 0.2],
        [1.5, 1.2, 0.6],
        [2.0, 1.0, 0.4],
        [1.0, 1.2, 0.8],
        [0.1, 0.6, 3.0],
        [0.1, 0.6, 4.0],
    ]
)


F32 = np.float32
# The table as the sampling kernel reads weights (float32): a gather of it holds half the memory.
AFFINITY_F32 = SECTOR_EDUCATION_AFFINITY.astype(F32)
# Residents from other provinces are more often at work, and so are rural
# residents of 60 and over (who farm on): multipliers of the propensity and
# their caps (assumptions).
MIGRANT_EMPLOYMENT = (F32(1.15), F32(0.97))
RURAL_OLD_EMPLOYMENT = (F32(1.4), F32(0.9))


@sized_pass(ns_per_row=7)
@numba.njit(cache=True, parallel=True)
def _employment_propensity(female, local, urban, age_y, out_of_school, women, men, migrant, migrant_cap, rural_old,
                           rural_old_cap) -> np.ndarray:
    """Each resident's weight for being employed (float32): the propensity of
    their sex and age (tables by year of age), times the migrants' and then
    the rural old's multiplier, each capped; 0 in school.  The numpy
    expressions this replaced, in float32, in one parallel pass."""
    out = np.empty(len(female), dtype=np.float32)
    for i in numba.prange(len(female)):
        p = women[age_y[i]] if female[i] else men[age_y[i]]
        if not local[i]:
            p = min(p * migrant, migrant_cap)
        if (not urban[i]) and age_y[i] >= 60:
            p = min(p * rural_old, rural_old_cap)
        out[i] = p if out_of_school[i] else np.float32(0.0)
    return out


def by_age(function) -> np.ndarray:
    """A float32 lookup table of function(age in years) for ages 0..127: weights
    by age become one small gather instead of float64 arithmetic over every row."""
    return np.asarray(function(np.arange(128, dtype=np.float64)), dtype=F32)


@sized_pass(ns_per_row=0.5)
@numba.njit(cache=True, parallel=True)
def _pick(condition: np.ndarray, if_true: np.float32, if_false: np.float32) -> np.ndarray:
    out = np.empty(len(condition), dtype=np.float32)
    for i in numba.prange(len(condition)):
        out[i] = if_true if condition[i] else if_false
    return out


def pick(condition: np.ndarray, if_true: float, if_false: float) -> np.ndarray:
    """np.where(condition, if_true, if_false) as float32 (half the memory), in a
    parallel pass: np.where with two constants took 0.3 s at 65 million rows,
    this 0.08 s."""
    return _pick(np.asarray(condition, dtype=np.bool_), F32(if_true), F32(if_false))


def _age_years(n: int, cal: Calibration) -> np.ndarray:
    """Exact single-year age quotas: ZJ census broad groups, national shape within them."""
    s = cal.stocks
    groups = [
        (0, 14, s("population.age_0_14_share")),
        (15, 15, s("population.age_15_share")),
        (60, 64, s("population.age_60_64_share")),
        (65, 104, s("population.age_65_plus_share")),
    ]
    groups.insert(2, (16, 59, 1.0 - sum(share for _, _, share in groups)))
    shares = np.zeros(105)
    for lo, hi, share in groups:
        shape = cal.age_shape[lo : hi + 1]
        shares[lo : hi + 1] = share * shape / shape.sum()
    return np.repeat(np.arange(105, dtype=np.int16), apportion(n, shares))


def build_population(cal: Calibration, scale: float, rng: np.random.Generator) -> tuple[Table, Table, dict]:
    s, params = cal.stocks, cal.params
    n = int(round(s("population.resident_total") / scale))
    rows = lambda persons: int(round(persons / scale))  # noqa: E731 - persons -> rows at this scale
    people = Table(person_columns(), n, capacity=int(n * 1.3))
    derived: dict = {}

    # --- who lives here -----------------------------------------------------
    age_y = _age_years(n, cal)
    people.age_m[:] = age_y * np.int16(12) + rng.integers(0, 12, n, dtype=np.int16)
    people.female[:] = ~choose_exact(np.ones(n, dtype=F32), rows(s("population.male_share") * s("population.resident_total")), rng)
    working_age = (age_y >= 15) & (age_y < 60)
    # Residents from other provinces: mostly of working age (assumption: 8x the weight).
    people.local[:] = ~choose_exact(pick(working_age, 8.0, 1.0), round(n * s("population.other_province_share")), rng)
    people.urban[:] = choose_exact(pick(people.local, 1.0, 2.0), round(n * s("population.urban_share")), rng)
    tier_shares = s("wages.tier_shares")
    people.tier[:] = categorical(tier_shares, rng.random(n))

    # --- schooling and education --------------------------------------------
    status = np.full(n, Status.SCHOOL, dtype=np.int8)
    edu = np.zeros(n, dtype=np.int8)
    at = lambda lo, hi: (age_y >= lo) & (age_y <= hi)  # noqa: E731
    senior_students = choose_exact(at(16, 18).astype(F32), round(at(16, 18).sum() * params("demography.senior_secondary_continuation")), rng)
    # Residents' college continuation: solved so that the cohort leaving
    # college next July (age 21 now) equals this year's graduates (32万 in
    # 2020); the colleges' intake beyond it comes from other provinces
    # (sim.processes.demography).  College students now: at 21, 20 and 19 the
    # intakes of two years ago, last year and this year (calibration/macro.toml;
    # before its first year, the residents' rate).
    college_rate = min(rows(s("labour.college_graduates")) / max(at(21, 21).sum(), 1), 0.95)
    derived["college_continuation"] = college_rate / params("demography.senior_secondary_continuation")
    intake = cal.macro["college_intake"]
    college_students = np.zeros(n, dtype=bool)
    age_last_july = (people.age_m - 5) // 12  # the age that decided school in July (the population is of December)
    for age in (19, 20, 21):
        cohort = age_last_july == age
        year = cal.baseline_year + 19 - age  # the year this age entered college
        share = college_rate if year < intake.points[0][0] else min(rows(intake.at(year * 12) * 1e4) / max(cohort.sum(), 1), 0.95)
        college_students |= choose_exact(cohort.astype(F32), round(cohort.sum() * share), rng)
    edu[senior_students] = 1
    edu[college_students] = 2
    adult = age_y >= 22
    # College education falls steeply with age (ZJ college enrolment expanded
    # after 1999); migrants are half as likely as locals (assumption).  The
    # curves belong to birth cohorts: centred on age 38 (college) and 50
    # (senior secondary) in 2020, five years younger in a 2015 population.
    # (With the same ages in both years the end-2015 population's young were
    # as far below their 2020 selves as its total share, and the run from 2015
    # reached a college share of 14.2% in 2020 against the census's 17.0%;
    # seam test, issue 11.)
    cohort_shift = 2020 - cal.baseline_year
    college_w = (by_age(lambda a: 1.0 / (1.0 + np.exp((a + cohort_shift - 38.0) / 6.0)) + 0.02)[age_y]
                 * pick(people.local, 1.0, 0.5))
    college_w[~adult] = 0.0
    college = choose_exact(college_w, round(n * s("population.college_share")) - college_students.sum(), rng)
    del college_w
    edu[college] = 2
    senior_w = by_age(lambda a: 1.0 / (1.0 + np.exp((a + cohort_shift - 50.0) / 8.0)) + 0.05)[age_y]
    senior_w[(age_y < 19) | (edu != 0) | college_students] = 0.0
    senior = choose_exact(senior_w, round(n * s("population.senior_secondary_share")) - senior_students.sum(), rng)
    del senior_w
    edu[senior] = 1
    people.edu[:] = edu
    # Women with a college education are taken to hold cadre posts (statutory
    # retirement 55 rather than 50) - assumption.
    people.cadre[:] = people.female & (edu == 2)
    in_school = (age_y < 16) | senior_students | college_students
    del senior_students, college_students, age_last_july, working_age, adult  # memory: see below

    # --- labour status ------------------------------------------------------
    out_of_school = ~in_school
    propensity = _employment_propensity(
        people.female, people.local, people.urban, age_y, out_of_school,
        by_age(lambda a: np.interp(a, EMPLOYMENT_AGES, EMPLOYMENT_WOMEN)),
        by_age(lambda a: np.interp(a, EMPLOYMENT_AGES, EMPLOYMENT_MEN)), *MIGRANT_EMPLOYMENT, *RURAL_OLD_EMPLOYMENT)
    employed = choose_exact(propensity, rows(s("labour.employed_total")), rng)
    del propensity
    statutory = statutory_age_months(people.female, people.cadre, cal.baseline_month - people.age_m.astype(np.int32), reform=False)
    below_statutory = people.age_m < statutory
    rate = s("labour.surveyed_unemployment_rate")
    unemployed = np.zeros(n, dtype=bool)
    for area in (people.urban, ~people.urban):
        pool = out_of_school & ~employed & below_statutory & area
        wanted = round(rate / (1.0 - rate) * (employed & area).sum())
        # Unemployment is highest among the young and lowest in the last years
        # before the statutory age, when job losers mostly leave the labour
        # force (assumption).
        idx = np.flatnonzero(pool)
        years_left = (statutory[idx] - people.age_m[idx]) / 12.0
        age_weight = np.interp(age_y[idx], [16, 25], [2.0, 1.0]) * np.clip(years_left / 10.0, 0.05, 1.0)
        unemployed[idx[choose_exact(age_weight, wanted, rng)]] = True
    # Elementwise rather than through boolean-mask gathers (about 1 s at the whole province).
    np.copyto(status, np.where(below_statutory, np.int8(Status.INACTIVE), np.int8(Status.RETIRED)), where=out_of_school)
    status[unemployed] = Status.UNEMP
    del statutory, unemployed, in_school, out_of_school, pool, idx, years_left, age_weight  # computed again below

    # Kinds of employment: unit employees are below the statutory age, more
    # educated, urban and from other provinces; the self-employed rural and
    # older; the rest flexible workers.  Weights are assumptions.
    # Weights are products of float32 factors, formed in place (the same
    # products, without a temporary of the population's size for each).
    unit_w = np.array([1.0, 1.5, 2.0], dtype=F32)[edu]
    unit_w *= employed & below_statutory
    unit_w *= pick(people.urban, 1.5, 1.0)
    unit_w *= pick(people.local, 1.0, 1.3)
    unit = choose_exact(unit_w, rows(s("labour.unit_employed")), rng)
    del unit_w
    self_w = pick(people.urban, 1.0, 3.0)
    self_w *= employed & ~unit
    self_w *= by_age(lambda a: 1.0 + a / 40.0)[age_y]
    self_employed = choose_exact(self_w, rows(s("labour.self_employed")), rng)
    del self_w
    status[unit] = Status.UNIT
    status[self_employed] = Status.SELF
    status[employed & ~unit & ~self_employed] = Status.FLEX
    people.status[:] = status
    unit_rows = int(np.count_nonzero(unit))
    # The build's peak memory comes from its temporaries beside the person
    # table: each mask is freed once used (about 17 bytes a row, 1.2 GB for
    # the whole province), and the statutory ages are computed again at the end.
    del age_y, below_statutory, employed, unit, self_employed, college, senior

    # --- sectors --------------------------------------------------------------
    sector = np.full(n, -1, dtype=np.int8)
    for kind, key in ((Status.UNIT, "unit"), (Status.SELF, "self"), (Status.FLEX, "flexible")):
        # The members of this kind without a sector yet, in row order: listed
        # once and shrunk as each sector picks (a mask and a flatnonzero over
        # the whole population for each of the 18 draws took about 1 s of the
        # whole province's build).
        remaining = rows_with_status(status, kind)
        quotas = apportion(len(remaining), s(f"labour.sector_shares.{key}"))
        # Most educated sectors pick first, so their education affinity bites.
        for sec in np.argsort(-SECTOR_EDUCATION_AFFINITY[:, 2], kind="stable"):
            chosen = choose_exact(AFFINITY_F32[sec, edu[remaining]], quotas[sec], rng)
            sector[remaining[chosen]] = sec
            remaining = remaining[~chosen]
    people.sector[:] = sector
    del edu, sector

    firms = _build_firms(people, cal, scale, rng)
    _set_wages(people, firms, cal, rng, derived)
    _fill_talent_and_insurance(people, cal, scale, rng)
    statutory = statutory_age_months(people.female, people.cadre, cal.baseline_month - people.age_m.astype(np.int32), reform=False)

    # --- rates solved from the 2020 stocks ------------------------------------
    age_counts = np.bincount(people.age_m // 12, minlength=128)
    derived["mortality_level"] = s("demography.crude_death_rate") / 12.0 * n / (age_counts * np.exp(params("demography.gompertz_slope") * np.arange(len(age_counts)))).sum()
    seekers = (status == Status.UNEMP).sum() + params("matching.on_the_job_search_weight") * (status == Status.FLEX).sum()
    open_ = max(params("matching.vacancy_rate_2020") * unit_rows, 1.0)
    a = params("matching.elasticity_unemployment")
    # Matching efficiency solved so that the baseline's unit jobs are in flow
    # balance: hires replace the employees who quit, are laid off by closing
    # firms or reach the statutory age, plus the growth of labour demand.
    # Answers to the seam between the two baselines: with an assumed job-finding
    # rate, hires ramped up over each run's first year while vacancies piled
    # up, so new urban jobs of 2021 differed by a fifth between the run from
    # 2015 and the 2020 population.
    hires = _unit_separations(people, firms, status, statutory, scale, cal)
    finding = hires / max(seekers, 1.0)
    derived["matching_efficiency"] = finding * seekers / (seekers**a * open_ ** (1 - a))
    derived["tightness_baseline"] = open_ / max(seekers, 1.0)  # vacancies per job seeker at the baseline
    # Entry rates into own-account work, solved so that the 2020 stocks of the
    # self-employed and flexible workers are in flow balance: job seekers who
    # enter each month replace those who exit, retire or (flexible workers)
    # are hired by units.
    past_statutory = people.age_m >= statutory
    retire = params("demography.own_account_retirement_rate")
    job_seekers = max(int((status == Status.UNEMP).sum()), 1)
    self_mask, flex_mask = status == Status.SELF, status == Status.FLEX
    self_out = self_mask.sum() * params("separations.self_employed_exit_rate") + (self_mask & past_statutory).sum() * retire
    flex_out = (flex_mask.sum() * (params("separations.flexible_exit_rate") + finding * params("matching.on_the_job_search_weight"))
                + (flex_mask & past_statutory).sum() * retire)
    derived["self_employment_entry_rate"] = self_out / job_seekers
    derived["flexible_entry_rate"] = flex_out / job_seekers
    # Rows are exchangeable, so their order is free: group them by status and
    # the employees of a firm together (ages ascending within).  A month's
    # passes then read the firm table in order and meet long runs of rows of
    # one status, which is what memory and branch prediction reward; people
    # move on over the years, but most stay where they are from one month to
    # the next.
    people.reorder(status_then_firm(people.status, people.firm))
    return people, firms, derived


STATUS_CODES = len(Status)


@sized_pass(ns_per_row=6)
@numba.njit(cache=True, parallel=True)
def _by_status(status: np.ndarray) -> np.ndarray:
    """The rows grouped by status code, ascending, in row order within each
    group: a stable counting sort over the eight codes, in parallel blocks
    (each block counts its codes, then writes its rows from where the rows
    of the same code in earlier blocks end)."""
    n = len(status)
    blocks = block_count(n)
    counts = np.zeros((blocks, STATUS_CODES), dtype=np.int64)
    for b in numba.prange(blocks):
        lo, hi = block(b, n)
        for i in range(lo, hi):
            counts[b, status[i]] += 1
    starts = np.empty((blocks, STATUS_CODES), dtype=np.int64)
    at = 0
    for code in range(STATUS_CODES):
        for b in range(blocks):
            starts[b, code] = at
            at += counts[b, code]
    order = np.empty(n, dtype=np.int64)
    for b in numba.prange(blocks):
        lo, hi = block(b, n)
        position = starts[b].copy()
        for i in range(lo, hi):
            order[position[status[i]]] = i
            position[status[i]] += 1
    return order


@numba.njit(cache=True)
def stable_order_by_code(codes: np.ndarray) -> np.ndarray:
    """np.argsort(codes, kind="stable") for small integer codes (int8): a
    counting sort, one pass to count and one to place."""
    order = np.empty(len(codes), dtype=np.int64)
    if len(codes) == 0:
        return order
    lowest = np.int64(codes.min())
    starts = np.zeros(np.int64(codes.max()) - lowest + 2, dtype=np.int64)
    for i in range(len(codes)):
        starts[np.int64(codes[i]) - lowest + 1] += 1
    for code in range(1, len(starts)):
        starts[code] += starts[code - 1]
    for i in range(len(codes)):
        code = np.int64(codes[i]) - lowest
        order[starts[code]] = i
        starts[code] += 1
    return order


def status_then_firm(status: np.ndarray, firm: np.ndarray) -> np.ndarray:
    """np.lexsort((firm, status)): the rows by status, the unit employees by
    firm within theirs, ties in row order.  Only unit employees have a firm,
    so that is a counting sort by status and a sort of the unit employees by
    (firm, position) keys, unique so that any sort is stable (1.2 s against
    lexsort's 3.7-4.4 s at 65 million rows and 8 million employees)."""
    if (len(status) == 0 or status.min() < 0 or status.max() >= STATUS_CODES  # codes the counting sort has no room for
            or np.any((firm >= 0) != (status == Status.UNIT))):  # not as the build leaves them: sort it all
        return np.lexsort((firm, status))
    order = _by_status(status)
    first = int(np.count_nonzero(status < Status.UNIT))
    unit = order[first:first + int(np.count_nonzero(status == Status.UNIT))]
    keys = firm[unit].astype(np.int64)  # in place from here: at the whole province each temporary is 100s of MB
    keys <<= 32
    keys |= np.arange(len(unit), dtype=np.int64)
    keys.sort()
    keys &= 0xFFFFFFFF
    unit[:] = unit[keys]
    return order


def _capped_lomax_scale(mean: np.ndarray, shape: float, cap: float) -> np.ndarray:
    """Scale lambda of a Lomax(shape, lambda) capped at `cap` whose mean is `mean`
    (E min(L, c) = lambda / (shape - 1) * (1 - (1 + c / lambda)^(1 - shape))),
    by bisection on log lambda."""
    lo, hi = np.full(len(mean), 1e-6), np.full(len(mean), cap)
    for _ in range(80):
        mid = np.sqrt(lo * hi)
        capped_mean = mid / (shape - 1.0) * (1.0 - (1.0 + cap / mid) ** (1.0 - shape))
        lo, hi = np.where(capped_mean < mean, mid, lo), np.where(capped_mean < mean, hi, mid)
    return np.sqrt(lo * hi)


def firm_rows(persons: np.ndarray, scale: float, rows_per_large_firm: float) -> np.ndarray:
    """Expected person rows of the firm row that stands for a firm of `persons`
    employees: small firms (up to `rows_per_large_firm` employees) are grouped
    `scale` to a row, so the row has one person row per employee; larger firms
    have `rows_per_large_firm` rows (fewer firms to the row), and firms of more
    than that many rows' worth of persons have a row of their own."""
    return np.maximum(np.minimum(persons, rows_per_large_firm), persons / scale)


def kept_firm_sizes(rng: np.random.Generator, firms: int, shape: float, lam: float, cap: float,
                    rows_per_large_firm: float, scale: float) -> np.ndarray:
    """Sizes in persons of the firms kept when `firms` firms are drawn from the
    capped Lomax (1 + min(Lomax(shape, lam), cap)) and each is kept with
    chance 1 / represents = persons / (firm_rows x scale), in random order.

    Drawn without drawing the firms that are not kept, which are nearly all of
    them (the work was millions of draws at every scale, 0.45 s of a 1.2 s
    build at scale 100).  Sizes up to `rows_per_large_firm` are kept with one
    chance, min(1, 1 / scale); so the counts of kept small firms and of
    large candidates are one multinomial draw over the `firms` firms, small
    sizes come from the Lomax truncated to them (by inversion of its CDF
    F(x) = 1 - (1 + x / lam)^-shape), and only the few large candidates are
    drawn and kept with their own chance.  Kept firms are independent draws
    of the same law as before, so the sizes have the same distribution; the
    random numbers differ."""
    edge = rows_per_large_firm - 1.0  # Lomax values up to this are small firms
    small = 1.0 if edge >= cap else 1.0 - (1.0 + edge / lam) ** -shape
    keep_small = min(1.0, 1.0 / scale)
    n_small = rng.binomial(firms, small * keep_small)
    rest = 1.0 - small * keep_small
    n_large = rng.binomial(firms - n_small, min((1.0 - small) / rest, 1.0)) if rest > 0 else 0
    # Inversion of the truncated Lomax: small sizes from F in [0, small),
    # large candidates from F in [small, 1) (1 - u is in (0, 1]).
    x_small = lam * ((1.0 - small * rng.random(n_small)) ** (-1.0 / shape) - 1.0)
    x_large = lam * (((1.0 - small) * (1.0 - rng.random(n_large))) ** (-1.0 / shape) - 1.0)
    large = 1.0 + np.minimum(x_large, cap)
    large = large[rng.random(n_large) < large / (firm_rows(large, scale, rows_per_large_firm) * scale)]
    return rng.permutation(np.concatenate([1.0 + np.minimum(x_small, cap), large]))


def _unit_separations(people: Table, firms: Table, status: np.ndarray, statutory: np.ndarray, scale: float,
                      cal: Calibration) -> float:
    """Expected unit employees (rows) leaving their job in the baseline's next
    month, plus the growth of labour demand: what hires must replace to hold
    unit employment on its path.  Quits with the multipliers of the separations
    process, layoffs by closing firms with the size-dependent closure hazard of
    the labour-demand process, retirements at the statutory age."""
    params = cal.params
    unit = np.flatnonzero(status == Status.UNIT)
    firm = people.firm[unit]
    quit = quit_probability(params, people.age_m[unit], people.local[unit], firms.non_private[firm])
    persons = np.bincount(firm, minlength=firms.n) * scale / firms.represents
    closure = params("labour_demand.firm_exit_rate") * relative_closure_hazard(persons, firms.represents, firms.alive)[firm]
    until = statutory[unit] - people.age_m[unit]
    retiring = np.count_nonzero((until >= 1) & (until <= 12)) / 12.0
    growth = np.log1p(cal.macro["labour_demand_growth"].at(cal.baseline_month + 1)) / 12.0 * len(unit)
    return float(quit.sum() + closure.sum() + retiring + growth)


def _build_firms(people: Table, cal: Calibration, scale: float, rng: np.random.Generator) -> Table:
    """Firms per sector with heavy-tailed sizes in persons; unit employees assigned to them.

    Firm sizes are drawn in persons from one distribution whatever the scale
    (a Lomax of shape `labour_demand.firm_size_shape` capped at
    `labour_demand.largest_firm`, with the sector's mean size).  A firm row
    stands for `represents` firms of the same size: a firm of n employees gets
    `firm_rows(n)` person rows, so the row stands for rows x scale / n firms
    and every firm's size in persons is rows x scale / represents (model.
    firm_persons), whatever the scale.  Small firms are grouped `scale` to a row
    (one person row per employee, so size-dependent rules see whole persons);
    large firms have fewer firms to the row, the largest a row of their own.
    Rows are sampled so that every firm size is represented in proportion to
    its frequency at every scale (a firm is kept with chance 1 / represents)
    and rows are taken in random order until they hold the sector's employees.
    """
    s, params = cal.stocks, cal.params
    unit = np.flatnonzero(people.status == Status.UNIT)
    by_sector = np.bincount(people.sector[unit], minlength=len(SECTORS))
    relative = s("labour.sector_shares.relative_firm_size")
    private_sectors = np.arange(len(SECTORS)) != PUBLIC_SECTOR
    # Mean size in persons: enterprises (all but public bodies) sum to the enterprise count.
    m = (by_sector[private_sectors] / relative[private_sectors]).sum() * scale / s("labour.enterprises")
    shape, cap = params("labour_demand.firm_size_shape"), params("labour_demand.largest_firm")
    per_row = params("labour_demand.rows_per_large_firm")
    lam = _capped_lomax_scale(np.maximum(m * relative - 1.0, 1e-3), shape, cap)

    sector_rows, sector_sizes, sector_represents = [], [], []
    for sec in range(len(SECTORS)):  # six sectors; draws are batches of firms
        rows, represents, have = [], [], 0
        while by_sector[sec] > have:
            firms_in_batch = int(max(2.0 * (by_sector[sec] - have) * scale / (m * relative[sec]), 1000))
            persons = kept_firm_sizes(rng, firms_in_batch, shape, lam[sec], cap, per_row, scale)
            expected_rows = firm_rows(persons, scale, per_row)
            k = np.maximum(np.floor(expected_rows + rng.random(len(persons))), 1.0)  # unbiased whole rows
            rows.append(k)
            represents.append(k * scale / persons)
            have += int(k.sum())
        if not rows:  # a sector without unit employees has no firms
            sector_rows.append(np.zeros(0, dtype=np.int64))
            sector_represents.append(np.zeros(0))
            continue
        k, represents = np.concatenate(rows), np.concatenate(represents)
        total = np.cumsum(k)
        last = int(np.searchsorted(total, by_sector[sec]))  # rows in random order until the employees are placed
        k, represents = k[: last + 1], represents[: last + 1]
        # The last row takes what is left; it stands for fewer firms of the same size.
        remainder = by_sector[sec] - (total[last - 1] if last > 0 else 0)
        represents[-1] *= remainder / k[-1]
        k[-1] = remainder
        sector_rows.append(k.astype(np.int64))
        sector_represents.append(represents)
    counts = np.array([len(k) for k in sector_rows])
    sizes = np.concatenate(sector_rows)
    firms = Table(firm_columns(), int(counts.sum()), capacity=int(counts.sum() * 1.5))
    firm_sector = np.repeat(np.arange(len(SECTORS)), counts).astype(np.int8)
    firms.sector[:] = firm_sector
    firms.alive[:] = True
    firms.represents[:] = np.concatenate(sector_represents)
    firms.tier[:] = categorical(s("wages.tier_shares"), rng.random(firms.n))

    # Employees of each sector, in random order, fill its firms' rows.  The
    # shuffle of positions makes the same swaps as rng.permutation(unit), so
    # unit[shuffled] is that permutation; the sectors are then read from the
    # unit employees' own (small) column rather than from random rows of the
    # whole table (the same order; the stable argsort of that gather took
    # 173 ms at scale 4).
    shuffled = rng.permutation(len(unit))
    order = unit[shuffled[stable_order_by_code(people.sector[unit][shuffled])]]
    people.firm[order] = np.repeat(np.arange(firms.n, dtype=np.int32), sizes)
    size = sizes.astype(np.float64)
    persons = size * scale / firms.represents

    # Non-private units: all public bodies, then private-sector firms drawn
    # with weight proportional to employment until their employment is
    # closest to the non-private share.
    non_private = firm_sector == PUBLIC_SECTOR
    wanted = s("labour.non_private_share_of_unit_employment") * len(unit) - size[non_private].sum()
    keys = np.where(~non_private & (size > 0), np.log(rng.random(firms.n)) / np.maximum(size, 1e-9), -np.inf)
    order_f = largest_first_until(keys, size, wanted)
    cumulative = np.cumsum(size[order_f])
    take = min(int(np.searchsorted(cumulative, wanted)) + 1, len(cumulative)) if wanted > 0 else 0
    if take > 1 and cumulative[take - 1] - wanted > wanted - cumulative[take - 2]:
        take -= 1  # the firm that crosses the share would overshoot it by more than stopping short undershoots
    non_private[order_f[:take]] = True
    firms.non_private[:] = non_private

    firms.premium[:] = (
        rng.normal(0.0, params("wages.firm_premium_sd"), firms.n)
        + params("wages.firm_size_premium") * np.log1p(persons)
    )
    compliance = rng.beta(params("wages.compliance_alpha"), params("wages.compliance_beta"), firms.n)
    firms.compliance[:] = compliance
    firms.complies_min_wage[:] = rng.random(firms.n) < compliance
    # Desired employment: today's size plus the 2020 vacancy rate.
    firms.target[:] = size * (1.0 + params("matching.vacancy_rate_2020"))
    return firms


def _set_wages(people: Table, firms: Table, cal: Calibration, rng: np.random.Generator, derived: dict) -> None:
    """Unit wages from the log-wage model, levels solved to the published 2020 means."""
    s, params = cal.stocks, cal.params
    unit = np.flatnonzero(people.status == Status.UNIT)
    firm = people.firm[unit]
    sd = s("wages.log_sd")
    raw = np.exp(
        log_wage_terms(params, people.edu[unit], people.sector[unit], people.age_m[unit], firms.premium[firm])
        + rng.normal(-sd * sd / 2.0, sd, len(unit))
    )
    non_private = firms.non_private[firm]
    targets = {True: s("wages.non_private_annual") / 12.0, False: s("wages.private_annual") / 12.0}
    # Each ownership group's employees (in row order), with their raw wages,
    # tier minima and whether their firm complies, taken once: the fixed point
    # below then works on these arrays alone, and the wage column is written
    # once at the end, not written and read back on every round (the whole
    # function at scale 4: 1.75 -> 1.41 s).
    members = {group: np.flatnonzero(non_private == group) for group in (True, False)}
    members = {group: rows for group, rows in members.items() if len(rows)}
    raw_of = {group: raw[rows] for group, rows in members.items()}
    tiers = s("wages.minimum_wage_tiers").astype(np.float32)
    floor_of = {group: tiers[people.tier[unit[rows]]] for group, rows in members.items()}
    complies_of = {group: firms.complies_min_wage[firm[rows]] for group, rows in members.items()}
    levels = {group: targets[group] / raw_of[group].mean() for group in members}
    # Solve the two levels so that the means after the minimum-wage floor equal
    # the published averages: a fixed point, starting from the unfloored solution.
    for _ in range(50):
        wages_of = {}
        for group, level in levels.items():
            wages = (raw_of[group] * level).astype(np.float32)
            below = below_minimum(wages, floor_of[group], complies_of[group])
            wages[below] = floor_of[group][below]
            wages_of[group] = wages
        errors = {group: targets[group] / wages_of[group].mean(dtype=np.float64) for group in levels}
        if max(abs(e - 1.0) for e in errors.values()) < 1e-6:
            break
        for group, error in errors.items():
            levels[group] *= error
    for group, rows in members.items():
        people.wage[unit[rows]] = wages_of[group]
    derived["wage_level_non_private"] = float(levels.get(True, 1.0))
    derived["wage_level_private"] = float(levels.get(False, 1.0))

    for kind, key in ((Status.SELF, "wages.self_employed_income_ratio"), (Status.FLEX, "wages.flexible_income_ratio")):
        members = np.flatnonzero(people.status == kind)
        mean = s("wages.private_annual") / 12.0 * s(key)
        people.wage[members] = mean * np.exp(rng.normal(-sd * sd / 2.0, sd, len(members)))
    urban_unit = unit[people.urban[unit]]
    average = 12.0 * float(people.wage[urban_unit].mean())
    derived["minimum_wage_ratio_2020"] = 12.0 * float(tiers[0]) / average


def _fill_talent_and_insurance(people: Table, cal: Calibration, scale: float, rng: np.random.Generator) -> None:
    """2020 stocks of certificates, titles, insurance and cards, by documented weights."""
    s = cal.stocks
    rows = lambda key: int(round(s(key) / scale))  # noqa: E731
    status, edu, age_y = people.status, people.edu, people.age_m // 12
    working = is_employed(status)
    prime_workers = np.flatnonzero(working & (age_y >= 20) & (age_y < 60))
    sector, age_w = people.sector[prime_workers], age_y[prime_workers]

    # Skill certificates: prime-age workers and job seekers, more with secondary schooling and
    # in industry and construction (assumption).
    # Job seekers hold certificates too, as often as workers do: the run from
    # 2015 gives about a quarter of both a certificate by 2020.  (Before, only
    # workers got one, so no job seeker could train up from a certificate and
    # the end-2020 population granted about 9% fewer senior certificates in
    # 2021 than the run from 2015: tests/test_seam.py.)
    prime_force = np.flatnonzero((working | (status == Status.UNEMP)) & (age_y >= 20) & (age_y < 60))
    sector_force = people.sector[prime_force]
    skill_w = pick(edu[prime_force] == 1, 2.0, 1.0) * pick((sector_force == 1) | (sector_force == 2), 2.0, 1.0)
    del sector_force
    skilled = prime_force[choose_exact(skill_w, rows("talent.skilled"), rng)]
    del prime_force
    high = skilled[choose_exact(1.0 + (age_y[skilled] - 20) / 20.0, rows("talent.high_skilled"), rng)]
    people.skill[skilled] = 1 + categorical(s("talent.skill_level_mix"), rng.random(len(skilled)))
    people.skill[high] = 3 + categorical(s("talent.high_skill_level_mix"), rng.random(len(high)))

    # Professional-technical titles: college graduates at work (public sector
    # and business services most), seniority rising with age (assumption).
    title_w = np.array([0.02, 0.5, 4.0], dtype=F32)[edu[prime_workers]] * pick((sector == 4) | (sector == 5), 3.0, 1.0)
    titled = prime_workers[choose_exact(title_w, rows("talent.professional_technical"), rng)]
    senior_mask = choose_exact(np.exp((age_y[titled] - 30) / 6.0), rows("talent.senior_title"), rng)
    rest = titled[~senior_mask]
    intermediate = rest[choose_exact(np.exp((age_y[rest] - 30) / 10.0), round(len(titled) * s("talent.title_mix")[1]), rng)]
    people.title[titled] = 1
    people.title[intermediate] = 2
    people.title[titled[senior_mask]] = 3
    # Professional qualification certificates: a college graduate at work has
    # had the talent process's monthly chance of one since the age of 22, so
    # the built population holds what that process would have given it.
    # (Before, the title holders and no one else were taken to hold one; the
    # run from 2015, whose later title holders had not all qualified, then
    # granted 10-17% more new qualifications a year in 2021-2022 than the
    # population built for 2020: tests/test_seam.py.)
    graduates = prime_workers[edu[prime_workers] == 2]
    years = np.maximum(age_y[graduates] - 22, 0)
    chance = 1.0 - np.exp(-12.0 * cal.params("talent.qualification_rate") * years)
    people.qualified[graduates[rng.random(len(graduates)) < chance]] = True
    del prime_workers, sector, age_w, skill_w, title_w, graduates

    # Insurance: unit employees first (locals and the college-educated more
    # often), then the self-employed and flexible (assumption).
    cover_w = pick(people.local, 1.5, 1.0)  # products formed in place, as for the labour status
    cover_w *= status == Status.UNIT
    cover_w *= np.array([1.0, 1.0, 3.0], dtype=F32)[edu]
    people.unemployment_insured = choose_exact(cover_w, rows("insurance.unemployment_insured"), rng)
    people.work_injury_insured = choose_exact(cover_w, rows("insurance.work_injury_insured"), rng)
    retirees = rows("insurance.employee_pension_retirees")
    contributors = rows("insurance.pension_insured") - retirees - rows("insurance.resident_pension_insured")
    cover_w += F32(0.3) * ((status == Status.SELF) | (status == Status.FLEX))
    people.pension_employee = choose_exact(cover_w, contributors, rng)
    del cover_w
    people.pension_retiree = choose_exact((status == Status.RETIRED) * pick(people.urban, 3.0, 1.0), retirees, rng)
    resident_pool = (age_y >= 16) & (status != Status.SCHOOL) & ~people.pension_employee & ~people.pension_retiree
    people.pension_resident = choose_exact(resident_pool * pick(people.urban, 1.0, 2.0), rows("insurance.resident_pension_insured"), rng)
    del resident_pool

    # Cards: nearly everybody; electronic cards the young and urban first.
    people.card = choose_exact(pick(age_y >= 16, 3.0, 1.0), rows("insurance.card_holders"), rng)
    ecard_w = by_age(lambda a: np.exp(-np.abs(a - 32) / 15.0))[age_y]
    ecard_w *= people.card
    ecard_w *= pick(people.urban, 2.0, 1.0)
    people.ecard = choose_exact(ecard_w, int(round(people.n * s("insurance.electronic_card_coverage"))), rng)
