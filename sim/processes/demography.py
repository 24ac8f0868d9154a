"""Demography: ageing, deaths, births, school leaving, retirement, migration.

Order within the month: everybody ages one month; deaths (Gompertz hazard);
births; in July, school leavers enter the labour market; residents of other
provinces and locals move away and new workers arrive from other provinces;
people at or past their statutory retirement age retire.  Every person entering or
leaving the province is counted in the month's ledger so the conservation
identity (start + births + in-migrants - deaths - out-migrants = end) can be
checked every month.
"""

import numpy as np

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


def statutory_age_months(female: np.ndarray, cadre: np.ndarray, birth_month: np.ndarray, reform: bool) -> np.ndarray:
    """Statutory retirement age in months for each person, by sex, post and birth month."""
    age = np.empty(len(female), dtype=np.int32)
    for group, (base, first_birth, per, most) in RETIREMENT_RULES.items():
        if group == "men":
            members = ~female
        elif group == "women_cadres":
            members = female & cadre
        else:
            members = female & ~cadre
        delay = np.zeros(int(members.sum()), dtype=np.int32)
        if reform:
            since = birth_month[members] - parse_month(first_birth)
            delay = np.where(since >= 0, np.minimum(since // per + 1, most), 0)
        age[members] = base * 12 + delay
    return age


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
        "retirements": "persons retiring at or after the statutory age",
        "retirements_employed_urban": "urban employed persons retiring (natural attrition)",
    }

    def step(self, month: int) -> None:
        model, people = self.model, self.model.people
        alive = people.status != Status.ABSENT
        ledger = {"start": int(np.count_nonzero(alive))}
        people.age_m += alive  # one month older (adding a bool vector: no gather)
        self._deaths(month, alive)
        ledger["births"] = self._births(month)
        if calendar_month(month) == int(self.param("school_leaving_month")):
            self._school_leaving(month)
        ledger["out_migrants"] = self._out_migration(month)
        ledger["in_migrants"] = self._in_migration(month)
        self._retirement(month)
        ledger["deaths"] = int(model.flows["deaths"])
        ledger["end"] = int(np.count_nonzero(people.status != Status.ABSENT))
        model.ledger.append({"month": month, **ledger})

    # -- deaths ---------------------------------------------------------------
    def _deaths(self, month: int, alive: np.ndarray) -> None:
        people = self.model.people
        # Monthly Gompertz hazard by completed year of age, looked up from a
        # table; only rows whose draw is below the oldest resident's hazard
        # can die, so the lookup runs on those alone.
        by_year = self.model.derived["mortality_level"] * np.exp(self.param("gompertz_slope") * np.arange(128))
        u = self.uniform(month, "death")
        idx = np.flatnonzero(u < by_year[min(int(people.age_m.max()) // 12, 127)])
        dying = idx[alive[idx] & (u[idx] < by_year[people.age_m[idx] // 12])]
        dies = np.zeros(people.n, dtype=bool)
        dies[dying] = True
        employed_urban = people.urban[dying] & is_employed(people.status[dying])
        self.model.flows["deaths"] += len(dying)
        self.model.flows["deaths_employed_urban"] += int(np.count_nonzero(employed_urban))
        self.model.remove_people(dies)

    # -- births ---------------------------------------------------------------
    def _births(self, month: int) -> int:
        people, stocks = self.model.people, self.model.calibration.stocks
        rng = self.rng(month, "births")
        residents = int(np.count_nonzero(people.status))  # ABSENT is 0
        expected = stocks("demography.crude_birth_rate") / 12.0 * residents
        count = int(rng.poisson(expected))
        if count == 0:
            return 0
        # Each newborn takes place of residence, registration and tier from a
        # woman of child-bearing age drawn at random.
        mothers_pool = np.flatnonzero(
            people.female & (people.age_m >= 20 * 12) & (people.age_m < 40 * 12) & (people.status != Status.ABSENT)
        )
        mothers = rng.choice(mothers_pool, size=count)
        rows = people.append(count)
        people.status[rows] = Status.SCHOOL
        people.female[rows] = rng.random(count) >= stocks("demography.male_share_at_birth")
        people.urban[rows] = people.urban[mothers]
        people.local[rows] = people.local[mothers]
        people.tier[rows] = people.tier[mothers]
        self.model.flows["births"] += count
        return count

    # -- school leaving ------------------------------------------------------
    def _school_leaving(self, month: int) -> None:
        """In July: 16-year-olds go on to senior secondary school or leave; 19-year-olds
        go on to college or leave; 22-year-old college students graduate."""
        people, derived = self.model.people, self.model.derived
        u = self.uniform(month, "school")
        in_school = people.status == Status.SCHOOL
        age_y = people.age_m // 12
        at16 = in_school & (age_y == 16)
        at19 = in_school & (age_y == 19)
        continue_senior = at16 & (u < self.param("senior_secondary_continuation"))
        continue_college = at19 & (people.edu == 1) & (u < derived["college_continuation"])
        people.edu[continue_senior] = 1
        people.edu[continue_college] = 2
        graduates = in_school & (age_y >= 22)
        leavers = (at16 & ~continue_senior) | (at19 & ~continue_college) | graduates
        people.status[leavers] = Status.UNEMP
        people.spell_m[leavers] = 0
        self.model.flows["school_leavers"] += int(np.count_nonzero(leavers))
        self.model.flows["college_graduates"] += int(np.count_nonzero(graduates))

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
        idx = np.flatnonzero((people.status != Status.ABSENT) & (people.status != Status.RETIRED) & (people.age_m >= 50 * 12))
        past = idx[self.model.past_statutory_age(idx)]
        status = people.status[past]
        own_account = (status == Status.SELF) | (status == Status.FLEX)
        u = self.uniform(month, "retire")
        stops = own_account & (u[past] < self.param("own_account_retirement_rate"))
        # Some unit employees reaching the age work on, re-employed in flexible
        # work in their sector (the draw above the stopping chance decides who).
        working_on = past[(status == Status.UNIT) & (u[past] >= 1.0 - self.param("work_on_share"))]
        sector = people.sector[working_on]
        staying = np.zeros(people.n, dtype=bool)
        staying[working_on] = True
        self.model.leave_firm(staying)
        people.status[working_on] = Status.FLEX
        people.sector[working_on] = sector
        works_on = staying[past]
        self.model.retire(past[(~own_account & (status != Status.SCHOOL) & ~works_on) | stops])

    # -- migration -------------------------------------------------------------
    def _out_migration(self, month: int) -> int:
        people, stocks = self.model.people, self.model.calibration.stocks
        movers = (people.status != Status.ABSENT) & (people.status != Status.RETIRED)
        local_rate = stocks("demography.local_outflow_rate") / 12.0
        other_rate = self.param("other_province_outflow_rate") / 12.0
        local_movers = int(np.count_nonzero(movers & people.local))
        self._expected_out = local_rate * local_movers + other_rate * (int(np.count_nonzero(movers)) - local_movers)
        u = self.uniform(month, "emigrate")
        idx = np.flatnonzero(u < max(local_rate, other_rate))
        going = idx[movers[idx] & (u[idx] < np.where(people.local[idx], local_rate, other_rate))]
        leaving = np.zeros(people.n, dtype=bool)
        leaving[going] = True
        self.model.remove_people(leaving)
        self.model.flows["out_migrants"] += len(going)
        return len(going)

    def _in_migration(self, month: int) -> int:
        """Workers from other provinces arrive as job seekers: out-migration plus net migration."""
        people, stocks = self.model.people, self.model.calibration.stocks
        rng = self.rng(month, "immigrate")
        net = self.model.condition("net_migration") * 1e4  # persons a year (calibration/macro.toml)
        expected = self._expected_out + net / 12.0 / self.model.scale
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
