"""Demography: ageing, deaths, births, school leaving, retirement, migration.

Order within the month: everybody ages one month; deaths (Gompertz hazard);
births; in July, school leavers enter the labour market; residents of other
provinces and locals move away, and some of those from other provinces who
stay register in Zhejiang (settle); new workers arrive from other provinces;
people at or past their statutory retirement age retire.  Every person entering or
leaving the province is counted in the month's ledger so the conservation
identity (start + births + in-migrants - deaths - out-migrants = end) can be
checked every month.
"""

import numba
import numpy as np

from ..kernels import (BLOCK_ROWS, as_bytes, block, block_count, deal_stride, dealt, join_blocks, room_after, search,
                       sized_pass)
from ..streams import draw, float32_bound
from ..status import Status, is_employed
from ..table import Column
from ..timeline import calendar_month, parse_month
from .base import Process

PERSON_COLUMNS = {
    "status": Column(np.int8, int(Status.ABSENT), "labour status (sim.status.Status)"),
    "age_m": Column(np.int16, 0, "age in completed months"),
    "female": Column(np.bool_, False, "sex"),
    "urban": Column(np.bool_, False, "lives in an urban area (census definition)"),
    "local": Column(np.bool_, True, "registered (hukou) in Zhejiang; False = from another province"),
    "edu": Column(np.int8, 0, "education: 0 junior secondary or less, 1 senior secondary, 2 college or more"),
    "cadre": Column(np.bool_, False, "woman in a cadre post (statutory retirement 55, not 50)"),
    "tier": Column(np.int8, 0, "minimum-wage area tier 0..3 of the place of work or residence"),
}

# Statutory retirement ages before the 2025 reform and the reform schedule
# (Decision of the NPC Standing Committee, 2024-09-13; DESIGN.md section 4):
# from 2025-01 men's age rises one month every four months to 63, women
# workers' one month every two months to 55, women cadres' one month every four
# months to 58, by birth month starting with the cohorts below.
RETIREMENT_RULES = {
    # group: (base age in years, first birth month affected, birth months per added month, most months added)
    "men": (60, "1965-01", 4, 36),
    "women_cadres": (55, "1970-01", 4, 36),
    "women_workers": (50, "1975-01", 2, 60),
}
REFORM_START = "2025-01"


# The same rules as arrays, for the compiled kernels: group 0 men, 1 women
# cadres, 2 women workers (group = female x (2 - cadre)).  Birth months per
# added month are powers of two, so the kernels shift instead of dividing.
_RULE_BASE = np.array([RETIREMENT_RULES[g][0] * 12 for g in RETIREMENT_RULES], dtype=np.int32)
_RULE_FIRST = np.array([parse_month(RETIREMENT_RULES[g][1]) for g in RETIREMENT_RULES], dtype=np.int32)
_RULE_SHIFT = np.array([int(RETIREMENT_RULES[g][2]).bit_length() - 1 for g in RETIREMENT_RULES], dtype=np.int32)
_RULE_MOST = np.array([RETIREMENT_RULES[g][3] for g in RETIREMENT_RULES], dtype=np.int32)
assert all(1 << shift == rule[2] for shift, rule in zip(_RULE_SHIFT, RETIREMENT_RULES.values()))
RULES = (_RULE_BASE, _RULE_FIRST, _RULE_SHIFT, _RULE_MOST)


@numba.njit(inline="always")
def _statutory_age(female, cadre, birth_month, reform, base, first, shift, most) -> int:
    """Statutory retirement age in months (branch-free but for the reform switch)."""
    group = np.int32(female) * (2 - np.int32(cadre))
    age = base[group]
    if reform:
        since = birth_month - first[group]
        age += np.int32(since >= 0) * min((since >> shift[group]) + 1, most[group])
    return age


@sized_pass(ns_per_row=10, rows=lambda age_m, female, cadre, idx, *rest: len(idx))
@numba.njit(cache=True, parallel=True)
def _months_past_statutory_age(age_m, female, cadre, idx, month, reform, base, first, shift, most) -> np.ndarray:
    out = np.empty(len(idx), dtype=np.int32)
    for j in numba.prange(len(idx)):
        i = idx[j]
        age = np.int32(age_m[i])
        out[j] = age - _statutory_age(female[i], cadre[i], month - age, reform, base, first, shift, most)
    return out


def months_past_statutory_age(people, idx: np.ndarray, month: int, reform: bool) -> np.ndarray:
    """Months since each person in idx reached their statutory retirement age
    (negative before it), by sex, post and birth month."""
    return _months_past_statutory_age(people.age_m, people.female, people.cadre, np.asarray(idx, dtype=np.int64),
                                      int(month), bool(reform), *RULES)


@numba.njit(cache=True)
def _statutory_ages(female, cadre, birth_month, reform, base, first, shift, most) -> np.ndarray:
    out = np.empty(len(female), dtype=np.int32)
    for i in range(len(female)):
        out[i] = _statutory_age(female[i], cadre[i], birth_month[i], reform, base, first, shift, most)
    return out


def statutory_age_months(female: np.ndarray, cadre: np.ndarray, birth_month: np.ndarray, reform: bool) -> np.ndarray:
    """Statutory retirement age in months for each person, by sex, post and birth month."""
    return _statutory_ages(female, cadre, np.asarray(birth_month, dtype=np.int32), bool(reform), *RULES)


@sized_pass(ns_per_row=0.6)
@numba.njit(cache=True, parallel=True)
def _age(status, age_m) -> int:
    """Every resident one month older; returns the residents."""
    n = len(status)
    blocks = block_count(n)
    residents = np.zeros(blocks, dtype=np.int64)
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b, age_b = status[lo:hi], age_m[lo:hi]
        count = np.int32(0)
        for i in range(hi - lo):
            alive = np.int16(status_b[i] != Status.ABSENT)
            age_b[i] += alive
            count += alive
        residents[b] = count
    return residents.sum()


@sized_pass(ns_per_row=3)
@numba.njit(cache=True, parallel=True)
def _retirements(status, age_m, female, cadre, month, reform, base, first, shift, most, key, stop_chance,
                 work_on_from, room):
    """Whether every block had room, then the rows that leave working life
    this month and whether each works on, in row order, and the most rows
    any block found.

    Rows in working life (not absent, not retired) at or past their
    statutory age: those at or past their group's base age first (the
    reform only adds months), then their own statutory age.  Of these, unit
    employees whose draw (per-row stream `key`) is at or above
    `work_on_from` work on; the self-employed and flexible workers stop when
    their draw is below `stop_chance`; the others retire, except pupils.  A
    tenth of the rows are past the age, mostly own-account workers who stop
    gradually, so deciding here keeps them out of the month's arrays.  Blocks
    of rows run in parallel, each keeping at most `room` rows.

    Each block is passed twice (the habits of `sim.kernels`): a loop without
    a branch marks the rows at or past their group's base age in working
    life, which LLVM turns into vector instructions (the base age picked by
    arithmetic: a branch on sex is mispredicted half the time); a second
    decides the marked rows, skipping eight unmarked rows at a time.  At
    scale 4 (16 million rows, 2 million past the age, nearly all in one
    tenth of the blocks) 27-30 -> 21-23 ms on one thread and, with the
    blocks dealt, 24-25 -> 15-16 ms on two; the same rows."""
    n = len(status)
    blocks = block_count(n)
    found = np.empty((blocks, room), dtype=np.int64)
    works_on = np.empty((blocks, room), dtype=np.bool_)
    counts = np.zeros(blocks, dtype=np.int64)  # rows found by each block, kept or not
    # Base ages of men, women cadres and women workers (groups 0, 1, 2), in
    # the ages' int16 so that the marking loop compares 16 rows at a time.
    men, cadres, workers = np.int16(base[0]), np.int16(base[1]), np.int16(base[2])
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b, age_b = status[lo:hi], age_m[lo:hi]
        female_b, cadre_b = as_bytes(female[lo:hi]), as_bytes(cadre[lo:hi])
        marked = np.zeros((hi - lo + 7) // 8 * 8, dtype=np.uint8)  # whole 8-byte words
        for j in range(hi - lo):
            s, woman, cadre_post = status_b[j], np.int16(female_b[j]), np.int16(cadre_b[j])
            # group = woman * (2 - cadre_post): men, women cadres, women workers
            base_age = men + woman * ((workers - men) - cadre_post * (workers - cadres))
            marked[j] = np.uint8(age_b[j] >= base_age) & np.uint8(s != Status.ABSENT) & np.uint8(s != Status.RETIRED)
        words = marked.view(np.uint64)
        k = 0
        for w in range(len(words)):
            if words[w] == 0:
                continue
            for j in range(8 * w, min(8 * w + 8, hi - lo)):
                if marked[j] == 0:
                    continue
                s, age = status_b[j], np.int32(age_b[j])
                if age >= _statutory_age(female_b[j], cadre_b[j], month - age, reform, base, first, shift, most):
                    u = draw(key, lo + j)
                    own_account = (s == Status.SELF) | (s == Status.FLEX)
                    working_on = (s == Status.UNIT) & (u >= work_on_from)
                    retires = (own_account & (u < stop_chance)) | ((not own_account) & (s != Status.SCHOOL)
                                                                       & (not working_on))
                    if retires | working_on:
                        if k < room:
                            found[b, k] = lo + j
                            works_on[b, k] = working_on
                        k += 1
        counts[b] = k
    kept = np.minimum(counts, room)
    return np.all(counts <= room), join_blocks(found, kept), join_blocks(works_on, kept), counts.max()


def _is_mother(status, age_m, female) -> np.ndarray:
    """Resident women aged 20 to 39."""
    return female & (age_m >= 20 * 12) & (age_m < 40 * 12) & (status != Status.ABSENT)


def draw_mothers(rng: np.random.Generator, people, count: int) -> np.ndarray:
    """`count` rows drawn at random, with replacement, among resident women
    aged 20 to 39: rows drawn uniformly and those who are not such women
    rejected (about one row in six is one), so no pass over the population."""
    chosen = np.empty(0, dtype=np.int64)
    while len(chosen) < count:
        rows = rng.integers(0, people.n, size=8 * (count - len(chosen)) + 64)
        rows = rows[_is_mother(people.status[rows], people.age_m[rows], people.female[rows])]
        if len(rows) == 0:  # so few such women that rejection would crawl: draw among them all
            every = np.flatnonzero(_is_mother(people.status, people.age_m, people.female))
            rows = rng.choice(every, size=count - len(chosen))
        chosen = np.concatenate([chosen, rows[:count - len(chosen)]])
    return chosen


@sized_pass(ns_per_row=0.75)
@numba.njit(cache=True, parallel=True)
def _movers(status, local) -> tuple[int, int]:
    """Residents who may move away (not retired), and the registered locals among them."""
    n = len(status)
    blocks = block_count(n)
    counts = np.zeros((blocks, 2), dtype=np.int64)
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b, local_b = status[lo:hi], as_bytes(local[lo:hi])
        # 0/1 terms in int32 (sim.kernels), so the loop vectorises
        movers = local_movers = np.int32(0)
        for i in range(hi - lo):
            moves = np.int32((status_b[i] != Status.ABSENT) & (status_b[i] != Status.RETIRED))
            movers += moves
            local_movers += moves & np.int32(local_b[i])
        counts[b, 0], counts[b, 1] = movers, local_movers
    return counts[:, 0].sum(), counts[:, 1].sum()


@sized_pass(ns_per_row=9)
@numba.njit(cache=True, parallel=True)
def _leave_school(status, age_m, edu, spell_m, key, senior_below, college_below) -> np.ndarray:
    """July's school leaving, in one parallel pass over the rows: pupils of 16
    go on to senior secondary school when their draw (per-row stream `key`)
    is below `senior_below`, senior secondary pupils of 19 go on to college
    below `college_below`; the other pupils of 16 and 19, and students of 22
    and over (graduates), leave school to look for work.  Returns the
    leavers, the graduates among them and those who went on to college."""
    n = len(status)
    blocks = block_count(n)
    counts = np.zeros((blocks, 3), dtype=np.int64)
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b, age_b, edu_b, spell_b = status[lo:hi], age_m[lo:hi], edu[lo:hi], spell_m[lo:hi]
        leavers = graduates = to_college = 0
        for i in range(hi - lo):
            if status_b[i] != Status.SCHOOL:
                continue
            age_y = age_b[i] // 12
            if age_y == 16:
                if draw(key, lo + i) < senior_below:
                    edu_b[i] = 1
                    continue
            elif age_y == 19:
                if (edu_b[i] == 1) and (draw(key, lo + i) < college_below):
                    edu_b[i] = 2
                    to_college += 1
                    continue
            elif age_y >= 22:
                graduates += 1
            else:
                continue
            status_b[i] = Status.UNEMP
            spell_b[i] = 0
            leavers += 1
        counts[b, 0], counts[b, 1], counts[b, 2] = leavers, graduates, to_college
    return counts.sum(axis=0)


def _normalised(shares: np.ndarray) -> np.ndarray:
    return shares / shares.sum()


class Demography(Process):
    name = "demography"
    person_columns = PERSON_COLUMNS
    flows = {
        "births": "persons born",
        "deaths": "persons who died",
        "deaths_employed_urban": "urban employed persons who died (natural attrition)",
        "in_migrants": "persons arriving from other provinces",
        "out_migrants": "persons leaving the province",
        "school_leavers": "students leaving school for the labour market",
        "college_graduates": "college students leaving school",
        "college_arrivals": "students from other provinces starting at the province's colleges",
        "settlements": "residents from other provinces who registered (hukou) in Zhejiang",
        "retirements": "persons retiring at or after the statutory age",
        "retirements_employed_urban": "urban employed persons retiring (natural attrition)",
    }

    def __init__(self, model):
        super().__init__(model)
        self._retirement_room = BLOCK_ROWS // 4  # rows per block past the statutory age; adapted each month
        # Students from other provinces are part of net migration: the rows that
        # arrived in July are taken off the workers arriving from then on.
        self._students_owed = 0.0  # rows

    def step(self, month: int) -> None:
        model, people = self.model, self.model.people
        ledger = {}
        ledger["start"] = self._age_and_die(month)
        # The residents now: those at the start less the month's deaths (the
        # ledger's identity, checked by the count at the end).
        ledger["births"] = self._births(month, ledger["start"] - int(model.flows["deaths"]))
        students = 0
        if calendar_month(month) == int(self.param("school_leaving_month")):
            students = self._school_leaving(month)
        ledger["out_migrants"] = self._out_migration_and_settlement(month)
        ledger["in_migrants"] = self._in_migration(month) + students
        self._retirement(month)
        ledger["deaths"] = int(model.flows["deaths"])
        ledger["end"] = int(np.count_nonzero(people.status))  # ABSENT is 0: counted afresh, so the identity is a check
        model.ledger.append({"month": month, **ledger})

    # -- ageing and deaths -----------------------------------------------------
    def _age_and_die(self, month: int) -> int:
        """Everybody ages one month, then dies with the monthly Gompertz hazard
        of their completed year of age; returns the residents at the start."""
        people = self.model.people
        by_year = self.model.derived["mortality_level"] * np.exp(self.param("gompertz_slope") * np.arange(128))
        residents = _age(people.status, people.age_m)
        # Candidates at the largest hazard of anyone present; each dies when
        # their uniform (below that hazard) is below their own.
        largest = float(by_year[min(int(people.age_m.max()) // 12, len(by_year) - 1)])
        # Only candidates below their own year's hazard are listed (ages in months, per=12).
        idx, u = self.model.streams.rows_below(self.name, month, "death", people.n, largest, people.age_m, by_year, per=12)
        age_y = np.minimum(people.age_m[idx] // 12, len(by_year) - 1)
        dying = idx[(people.status[idx] != Status.ABSENT) & (u < by_year[age_y])]
        employed_urban = people.urban[dying] & is_employed(people.status[dying])
        self.model.flows["deaths"] += len(dying)
        self.model.flows["deaths_employed_urban"] += int(np.count_nonzero(employed_urban))
        self.model.remove_people(dying)
        return residents

    # -- births ---------------------------------------------------------------
    def _births(self, month: int, residents: int) -> int:
        """Newborns of the month, at the crude birth rate of the `residents`."""
        people, stocks = self.model.people, self.model.calibration.stocks
        rng = self.rng(month, "births")
        expected = stocks("demography.crude_birth_rate") / 12.0 * residents
        count = int(rng.poisson(expected))
        if count == 0:
            return 0
        # Each newborn takes place of residence, registration and tier from a
        # woman of child-bearing age drawn at random.
        mothers = draw_mothers(rng, people, count)
        rows = people.append(count)
        people.status[rows] = Status.SCHOOL
        people.female[rows] = rng.random(count) >= stocks("demography.male_share_at_birth")
        people.urban[rows] = people.urban[mothers]
        people.local[rows] = people.local[mothers]
        people.tier[rows] = people.tier[mothers]
        self.model.flows["births"] += count
        return count

    # -- school leaving ------------------------------------------------------
    def _school_leaving(self, month: int) -> int:
        """In July: 16-year-olds go on to senior secondary school or leave; 19-year-olds
        go on to college or leave; 22-year-old college students graduate.  The
        colleges' intake (`college_intake`, calibration/macro.toml) beyond the
        residents who go on is filled by students from other provinces, who
        arrive at 19; returns their number.

        Answers to the published graduates (32万 in 2020, 38.3万 in 2022) and
        the census college share (17.0% in 2020): with the residents' rate of
        going on alone, fixed when the population was built, the run from
        2015 graduated 17万 in 2022 and reached a college share of 14.2%."""
        people, derived = self.model.people, self.model.derived
        leavers, graduates, to_college = _leave_school(
            people.status, people.age_m, people.edu, people.spell_m, self.model.streams.key(self.name, month, "school"),
            float32_bound(self.param("senior_secondary_continuation")), float32_bound(derived["college_continuation"]))
        self.model.flows["school_leavers"] += int(leavers)
        self.model.flows["college_graduates"] += int(graduates)
        return self._college_arrivals(month, int(to_college))

    def _college_arrivals(self, month: int, residents_going_on: int) -> int:
        """Students from other provinces: the intake beyond the residents who go
        on, as new 19-year-old college students (urban, registered elsewhere)."""
        people, stocks = self.model.people, self.model.calibration.stocks
        rng = self.rng(month, "students")
        wanted = self.model.condition("college_intake") * 1e4 / self.model.scale - residents_going_on
        count = int(np.floor(max(wanted, 0.0) + rng.random()))  # rounded at random: right on average at any scale
        self._students_owed += count
        if count == 0:
            return 0
        rows = people.append(count)
        people.age_m[rows] = (19 * 12 + rng.integers(0, 12, count)).astype(np.int16)
        people.female[rows] = rng.random(count) >= stocks("population.male_share")
        people.local[rows] = False
        people.urban[rows] = True
        people.edu[rows] = 2
        people.cadre[rows] = people.female[rows]
        people.tier[rows] = rng.choice(4, size=count, p=_normalised(stocks("wages.tier_shares"))).astype(np.int8)
        people.status[rows] = Status.SCHOOL
        self.model.flows["college_arrivals"] += count
        self.model.flows["in_migrants"] += count
        return count

    # -- retirement ------------------------------------------------------------
    def _retirement(self, month: int) -> None:
        """Employees, job seekers and the inactive retire at the statutory age; the
        self-employed and flexible workers, with no employer to retire them, stop
        gradually once past it.

        A share of unit employees reaching the age work on in flexible work
        (`work_on_share`).  Answers to the seam between the two baselines: the
        end-2020 population holds the census's older workers, and when every
        employee retired at the age the run from 2015 reached 2021 with fewer
        of them, less natural attrition and 20% more new urban jobs."""
        people = self.model.people
        streams = self.model.streams
        leaving, works_on, most = search(
            _retirements, self._retirement_room, people.status, people.age_m, people.female, people.cadre, month,
            self.model.reform_in_force(), *RULES, streams.key(self.name, month, "retire"),
            np.float32(self.param("own_account_retirement_rate")), np.float32(1.0 - self.param("work_on_share")))
        self._retirement_room = room_after(most)  # room from the average share overflowed most months
        # Some unit employees reaching the age work on, re-employed in flexible
        # work in their sector (the draw above the stopping chance decides who).
        working_on = leaving[works_on]
        sector = people.sector[working_on]
        self.model.leave_firm(working_on)
        people.status[working_on] = Status.FLEX
        people.sector[working_on] = sector
        self.model.retire(leaving[~works_on])

    # -- migration -------------------------------------------------------------
    def _out_migration_and_settlement(self, month: int) -> int:
        """Residents in working life or school leave the province (locals at
        `local_outflow_rate`, residents from other provinces at
        `other_province_outflow_rate`), and residents from other provinces of
        any status who stay register in Zhejiang (落户) at `settlement_rate`,
        a year each; returns the out-migrants.  One draw per row decides both:
        below the outflow chance the person leaves, in the next
        `settlement_rate / 12` they settle.

        Settlement answers to the census share of residents registered in
        other provinces (25.1% at end-2020, ZJ 7th census; 22% assumed for
        end-2015): with nobody settling, the run from 2015 reached end-2020
        with 1816万 of them against the census's 1619万, and their higher churn
        gave 8% more new urban jobs in 2021 than the population built for 2020."""
        people, stocks = self.model.people, self.model.calibration.stocks
        local_rate = stocks("demography.local_outflow_rate") / 12.0
        other_rate = self.param("other_province_outflow_rate") / 12.0
        settle_rate = self.param("settlement_rate") / 12.0
        movers, local_movers = _movers(people.status, people.local)
        self._expected_out = local_rate * local_movers + other_rate * (movers - local_movers)
        idx, u = self.model.streams.rows_below(self.name, month, "emigrate", people.n,
                                               max(local_rate, other_rate + settle_rate))
        status, local = people.status[idx], people.local[idx]
        present = status != Status.ABSENT
        moves = present & (status != Status.RETIRED)
        going = moves & (u < np.where(local, local_rate, other_rate))
        settling = present & ~local & ~going & (u >= other_rate) & (u < other_rate + settle_rate)
        people.local[idx[settling]] = True
        self.model.flows["settlements"] += int(np.count_nonzero(settling))
        going = idx[going]
        self.model.remove_people(going)
        self.model.flows["out_migrants"] += len(going)
        return len(going)

    def _in_migration(self, month: int) -> int:
        """Workers from other provinces arrive as job seekers: out-migration plus
        net migration, less the students from other provinces who came in July
        (taken off the first arrivals after them; when net migration is so low
        that few workers arrive, the students come on top)."""
        people, stocks = self.model.people, self.model.calibration.stocks
        rng = self.rng(month, "immigrate")
        net = self.model.condition("net_migration") * 1e4  # persons a year (calibration/macro.toml)
        expected = self._expected_out + net / 12.0 / self.model.scale
        deducted = min(max(expected, 0.0), self._students_owed)
        self._students_owed -= deducted
        expected -= deducted
        count = int(rng.poisson(max(expected, 0.0)))
        if count == 0:
            return 0
        rows = people.append(count)
        age_y = np.clip(rng.normal(self.param("migrant_age_mean"), self.param("migrant_age_sd"), count), 16, 45)
        people.age_m[rows] = (age_y * 12).astype(np.int16)
        people.female[rows] = rng.random(count) >= stocks("population.male_share")
        people.local[rows] = False
        people.urban[rows] = rng.random(count) < self.param("migrant_urban_share")
        people.edu[rows] = rng.choice(3, size=count, p=_normalised(self.param("migrant_edu_shares"))).astype(np.int8)
        people.cadre[rows] = people.female[rows] & (people.edu[rows] == 2)
        people.tier[rows] = rng.choice(4, size=count, p=_normalised(stocks("wages.tier_shares"))).astype(np.int8)
        people.status[rows] = Status.UNEMP
        people.spell_m[rows] = 0
        # Some arrive with a vocational certificate (Zhejiang drew about 98万
        # skilled workers in 2019, sources_zhejiang_2020.csv).
        certified = rng.random(count) < self.param("migrant_skilled_share")
        high = certified & (rng.random(count) < self.param("migrant_high_skilled_share"))
        people.skill[rows] = np.where(high, 3, np.where(certified, rng.integers(1, 3, count), 0)).astype(np.int8)
        self.model.flows["in_migrants"] += count
        return count
