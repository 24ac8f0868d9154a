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

import numpy as np

from ..status import SECTORS, Status
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
        status = people.status
        u = self.uniform(month, "insurance")
        platform_on = model.policy.platform_injury_protection
        # (Memberships of people who leave the province end in model.remove_people.)
        # Coverage that ends with the job that gave it.
        unit = status == Status.UNIT
        people.unemployment_insured &= unit
        platform = (status == Status.FLEX) & (people.sector == PLATFORM_SECTOR)
        people.work_injury_insured &= unit | (platform & platform_on)

        # Members who retire become pensioners.
        retiring = people.pension_employee & (status == Status.RETIRED)
        people.pension_retiree[retiring] = True
        people.pension_employee[retiring] = False
        model.flows["new_pensioners"] += int(np.count_nonzero(retiring))

        # Unit employees: new hires at the 2020 coverage, the uninsured at the
        # catch-up rate, both scaled by the firm's compliance propensity.
        employees = np.flatnonzero(unit)
        compliance = firms.compliance[people.firm[employees]]
        mean = np.average(firms.compliance[firms.alive], weights=firms.represents[firms.alive])  # over firms, not rows
        relative = compliance / max(float(mean), 1e-9)
        new_hire = people.spell_m[employees] == 0
        catch_up = self.param("enrolment_catch_up") * model.policy.enforcement * self._burden_factor()
        rng = self.rng(month, "enrol")
        flows = ("pension_enrolments", "unemployment_enrolments", "work_injury_enrolments")
        for scheme, coverage, rate, flow in zip(SCHEMES, self.coverage_at_hire, catch_up, flows):
            column = people[scheme]
            chance = np.where(new_hire, coverage, rate) * relative
            joins = employees[~column[employees] & (rng.random(len(employees), dtype=np.float32) < chance)]
            column[joins] = True
            model.flows[flow] += len(joins)

        # Rare events: test the conditions only on rows whose draw is low enough.
        idx = np.flatnonzero(u < self.param("individual_contribution_rate"))
        st = status[idx]
        starts = idx[((st == Status.SELF) | (st == Status.FLEX)) & ~people.pension_employee[idx] & ~people.pension_retiree[idx]]
        people.pension_employee[starts] = True
        model.flows["pension_enrolments"] += len(starts)

        if platform_on:
            covered = platform & ~people.work_injury_insured & (u < self.param("platform_injury_rate"))
            people.work_injury_insured[covered] = True
            model.flows["work_injury_enrolments"] += int(np.count_nonzero(covered))

        # Resident pension: adults outside the employee scheme.
        people.pension_resident &= ~(people.pension_employee | people.pension_retiree)
        idx = np.flatnonzero(u < self.param("resident_enrolment_rate"))
        st = status[idx]
        joins = idx[(people.age_m[idx] >= 16 * 12) & (st != Status.SCHOOL) & (st != Status.ABSENT)
                    & ~people.pension_employee[idx] & ~people.pension_retiree[idx] & ~people.pension_resident[idx]]
        people.pension_resident[joins] = True
        model.flows["resident_enrolments"] += len(joins)
