"""Social insurance: enrolment in and exit from the employee pension,
unemployment insurance, work-injury insurance and the resident pension.

Unemployment and work-injury insurance come with a unit job (and, when
switched on, occupational-injury protection with platform work) and end with
it.  Membership of the employee pension lasts: contributions may be
interrupted, but the member is counted (as the statistics count insured
persons) until retirement, when a member becomes a pensioner.  New unit hires
are enrolled in each scheme with the 2020 coverage of unit employees, and
uninsured employees at a monthly catch-up rate, both scaled by their firm's
compliance propensity; own-account workers join the employee pension as
individuals at a monthly rate; adults outside the employee scheme join the
resident pension at a monthly rate.
"""

import numba
import numpy as np

from ..status import SECTORS, Status
from ..streams import draw
from ..table import Column
from .base import Process

PLATFORM_SECTOR = SECTORS.index("trade_logistics_hospitality")  # delivery and ride-hailing

PERSON_COLUMNS = {
    "pension_employee": Column(np.bool_, False, "member of the employee basic pension (contributing or interrupted), until retirement"),
    "pension_retiree": Column(np.bool_, False, "draws the employee basic pension"),
    "pension_resident": Column(np.bool_, False, "insured in the urban-rural resident pension"),
    "unemployment_insured": Column(np.bool_, False, "insured against unemployment"),
    "work_injury_insured": Column(np.bool_, False, "insured against work injury (incl. platform protection)"),
}
SCHEMES = ("pension_employee", "unemployment_insured", "work_injury_insured")  # order of enrolment_catch_up


@numba.njit(cache=True)
def _enrol(status, sector, spell_m, age_m, firm, pension_employee, pension_retiree, pension_resident,
           unemployment_insured, work_injury_insured, firm_relative_compliance, coverage_at_hire, catch_up,
           individual_rate, platform_rate, resident_rate, platform_on, key, scheme_keys) -> np.ndarray:
    """The month's insurance transitions, row by row (every row's are
    independent of the others'); returns the counts of new pensioners and of
    pension, unemployment, work-injury and resident enrolments.

    Per-row draws: `key` for individuals, platform workers and residents (one
    draw, as the rates are far apart), `scheme_keys[s]` for unit employees'
    enrolment in scheme s (pension, unemployment, work injury)."""
    counts = np.zeros(5, dtype=np.int64)
    schemes = (pension_employee, unemployment_insured, work_injury_insured)
    for i in range(len(status)):
        s = status[i]
        if s == Status.ABSENT:
            continue
        unit = s == Status.UNIT
        platform = s == Status.FLEX and sector[i] == PLATFORM_SECTOR
        # Coverage that ends with the job that gave it.
        if not unit:
            unemployment_insured[i] = False
            if not (platform and platform_on):
                work_injury_insured[i] = False
        # Members who retire become pensioners.
        if pension_employee[i] and s == Status.RETIRED:
            pension_retiree[i] = True
            pension_employee[i] = False
            counts[0] += 1
        if unit:
            # New hires at the 2020 coverage, the uninsured at the catch-up
            # rate, both scaled by the firm's compliance propensity.
            relative = firm_relative_compliance[firm[i]]
            new_hire = spell_m[i] == 0
            for k in range(3):
                column = schemes[k]
                if not column[i]:
                    chance = (coverage_at_hire[k] if new_hire else catch_up[k]) * relative
                    if draw(scheme_keys[k], i) < chance:
                        column[i] = True
                        counts[1 + k] += 1
        u = draw(key, i)
        if (s == Status.SELF or s == Status.FLEX) and not pension_employee[i] and not pension_retiree[i] and u < individual_rate:
            pension_employee[i] = True
            counts[1] += 1
        if platform and platform_on and not work_injury_insured[i] and u < platform_rate:
            work_injury_insured[i] = True
            counts[3] += 1
        # Resident pension: adults outside the employee scheme.
        if pension_employee[i] or pension_retiree[i]:
            pension_resident[i] = False
        elif (not pension_resident[i] and u < resident_rate and age_m[i] >= 16 * 12 and s != Status.SCHOOL):
            pension_resident[i] = True
            counts[4] += 1
    return counts


class SocialInsurance(Process):
    name = "insurance"
    person_columns = PERSON_COLUMNS
    flows = {
        "pension_enrolments": "unit employees and individuals starting employee-pension contributions",
        "new_pensioners": "contributors retiring onto the employee pension",
        "unemployment_enrolments": "unit employees enrolled in unemployment insurance",
        "work_injury_enrolments": "employees (and platform workers) covered against work injury",
        "resident_enrolments": "adults joining the resident pension",
    }

    def __init__(self, model):
        super().__init__(model)
        # 2020 coverage of unit employees, the chance that a new hire is enrolled.
        people = model.people
        unit = people.status == Status.UNIT
        self.coverage_at_hire = [float(people[scheme][unit].mean()) if unit.any() else 0.0 for scheme in SCHEMES]

    def _burden_factor(self) -> float:
        """Catch-up enrolment relative to 2020 as the employer's contribution burden
        (pension + unemployment + work injury) moves from its 2020 statutory level."""
        stocks = self.model.calibration.stocks
        keys = ("pension_employer", "unemployment_employer", "work_injury_employer")
        burden_2020 = sum(stocks(f"contributions.{k}") for k in keys)
        rate = self.model.policy.employer_contribution_rate
        burden = burden_2020 if rate is None else rate
        return (burden_2020 / burden) ** self.param("burden_elasticity")

    def step(self, month: int) -> None:
        model, people, firms = self.model, self.model.people, self.model.firms
        mean = np.average(firms.compliance[firms.alive], weights=firms.represents[firms.alive])  # over firms, not rows
        relative = (firms.compliance / max(float(mean), 1e-9)).astype(np.float64)
        catch_up = self.param("enrolment_catch_up") * model.policy.enforcement * self._burden_factor()
        streams = model.streams
        counts = _enrol(
            people.status, people.sector, people.spell_m, people.age_m, people.firm, people.pension_employee,
            people.pension_retiree, people.pension_resident, people.unemployment_insured, people.work_injury_insured,
            relative, np.asarray(self.coverage_at_hire, dtype=np.float64), np.asarray(catch_up, dtype=np.float64),
            float(self.param("individual_contribution_rate")), float(self.param("platform_injury_rate")),
            float(self.param("resident_enrolment_rate")), bool(model.policy.platform_injury_protection),
            streams.key(self.name, month, "insurance"),
            np.array([streams.key(self.name, month, f"enrol:{scheme}") for scheme in SCHEMES], dtype=np.uint64))
        for flow, count in zip(("new_pensioners", "pension_enrolments", "unemployment_enrolments",
                                "work_injury_enrolments", "resident_enrolments"), counts):
            model.flows[flow] += int(count)
