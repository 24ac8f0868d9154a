"""Social insurance: enrolment in and exit from the employee pension,
unemployment insurance, work-injury insurance and the resident pension.

Unemployment and work-injury insurance come with a unit job (and, when
switched on, occupational-injury protection with platform work) and end with
it.  Membership of the employee pension lasts: contributions may be
interrupted, but the member is counted (as the statistics count insured
persons) until retirement, when a member becomes a pensioner (if they
contributed at least a month; otherwise they leave the scheme).  New unit hires
are enrolled in each scheme with the current coverage of unit employees (last
month's), and uninsured employees at a monthly catch-up rate, both scaled by
their firm's compliance propensity; own-account workers join the employee pension as
individuals at a monthly rate; adults outside the employee scheme join the
resident pension at a monthly rate.
"""

import numba
import numpy as np

from ..status import SECTORS, Status
from ..streams import draw, draw_bits, third
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


@numba.njit(cache=True, parallel=True)
def _enrol(status, sector, spell_m, age_m, firm, contribution_months, pension_employee, pension_retiree, pension_resident,
           unemployment_insured, work_injury_insured, firm_relative_compliance, coverage_at_hire, catch_up,
           individual_rate, platform_rate, resident_rate, platform_on, key, scheme_key, most_relative) -> np.ndarray:
    """The month's insurance transitions, row by row (every row's are
    independent of the others'); returns the counts of new pensioners and of
    pension, unemployment, work-injury and resident enrolments.

    Per-row draws: `key` for individuals, platform workers and residents (one
    draw, as the rates are far apart); `scheme_key` for unit employees'
    enrolment in the pension, unemployment and work-injury schemes (three
    independent uniforms cut from one draw, `streams.third`).  Most rows
    change nothing in a month: a cheap test skips them, so only the rows that
    may change write their memberships back, and only the unit employees
    whose draw is below the largest enrolment chance (`most_relative` is the
    largest firm's relative compliance) read their firm.  The same
    pass counts the unit employees and their memberships after the month's
    transitions: next month's coverage at hire, without a pass of its own."""
    n_pensioners = n_pension = n_unemployment = n_work_injury = n_resident = 0
    n_unit = unit_pe = unit_ui = unit_wi = 0
    hire_pe, hire_ui, hire_wi = coverage_at_hire[0], coverage_at_hire[1], coverage_at_hire[2]
    catch_pe, catch_ui, catch_wi = catch_up[0], catch_up[1], catch_up[2]
    rare = max(individual_rate, platform_rate if platform_on else 0.0, resident_rate)
    # No enrolment of a unit employee can happen when all three of its draws
    # are at or above these bounds (new hires, others).
    bound_hire = max(hire_pe, hire_ui, hire_wi) * most_relative
    bound_catch = max(catch_pe, catch_ui, catch_wi) * most_relative
    for i in numba.prange(len(status)):
        s = status[i]
        unit = s == Status.UNIT
        platform = (s == Status.FLEX) & (sector[i] == PLATFORM_SECTOR)
        pe, pr, pres = pension_employee[i], pension_retiree[i], pension_resident[i]
        ui, wi = unemployment_insured[i], work_injury_insured[i]
        u = draw(key, i)
        # Most rows change nothing this month; test that cheaply first.
        ends = (ui & (not unit)) | (wi & (not (unit | (platform & platform_on))))
        retired = pe & (s == Status.RETIRED)
        # A pension needs contributions: a member who retires without a month
        # contributed (enrolled the month before retiring) leaves the scheme
        # without one.  The 15-year minimum (社会保险法 第十六条) is not modelled.
        retiring = retired & (contribution_months[i] > 0)
        # Unit employees lacking a membership who may join one this month.
        may_join, new_hire, bits = False, False, np.uint64(0)
        if unit & (not (pe & ui & wi)):
            new_hire = spell_m[i] == 0
            bits = draw_bits(scheme_key, i)
            lowest = min(third(bits, 0), third(bits, 1), third(bits, 2))
            may_join = lowest < (bound_hire if new_hire else bound_catch)
        # Unit employees' memberships: only their enrolments below change them.
        n_unit += np.int64(unit)
        unit_pe += np.int64(unit & pe)
        unit_ui += np.int64(unit & ui)
        unit_wi += np.int64(unit & wi)
        if not (ends | retired | may_join | (u < rare) | (pres & (pe | pr))):
            continue
        # Coverage that ends with the job that gave it.
        ui = ui & unit
        wi = wi & (unit | (platform & platform_on))
        # Members who retire become pensioners.
        pr = pr | retiring
        pe = pe & (not retired)
        joins_pe = joins_ui = joins_wi = False
        if may_join:
            # New hires at the 2020 coverage, the uninsured at the catch-up
            # rate, both scaled by the firm's compliance propensity.
            relative = firm_relative_compliance[firm[i]]
            joins_pe = (not pe) & (third(bits, 0) < (hire_pe if new_hire else catch_pe) * relative)
            joins_ui = (not ui) & (third(bits, 1) < (hire_ui if new_hire else catch_ui) * relative)
            joins_wi = (not wi) & (third(bits, 2) < (hire_wi if new_hire else catch_wi) * relative)
            pe, ui, wi = pe | joins_pe, ui | joins_ui, wi | joins_wi
            unit_pe += np.int64(joins_pe)
            unit_ui += np.int64(joins_ui)
            unit_wi += np.int64(joins_wi)
        # Own-account workers join the employee pension as individuals;
        # platform workers get occupational-injury cover when it is on.
        starts = ((s == Status.SELF) | (s == Status.FLEX)) & (not pe) & (not pr) & (u < individual_rate)
        pe = pe | starts
        covered = platform & platform_on & (not wi) & (u < platform_rate)
        wi = wi | covered
        # Resident pension: adults outside the employee scheme.
        outside = (not pe) & (not pr)
        pres = pres & outside
        joins_res = (outside & (not pres) & (u < resident_rate) & (age_m[i] >= 16 * 12)
                     & (s != Status.SCHOOL) & (s != Status.ABSENT))
        pres = pres | joins_res
        pension_employee[i], pension_retiree[i], pension_resident[i] = pe, pr, pres
        unemployment_insured[i], work_injury_insured[i] = ui, wi
        n_pension += np.int64(joins_pe) + np.int64(starts)
        n_unemployment += np.int64(joins_ui)
        n_work_injury += np.int64(joins_wi) + np.int64(covered)
        n_resident += np.int64(joins_res)
        n_pensioners += np.int64(retiring)
    return np.array([n_pensioners, n_pension, n_unemployment, n_work_injury, n_resident,
                     n_unit, unit_pe, unit_ui, unit_wi])


@numba.njit(cache=True)
def unit_coverage(status, pension_employee, unemployment_insured, work_injury_insured) -> np.ndarray:
    """Shares of unit employees who are members of the employee pension,
    insured against unemployment and against work injury (order of SCHEMES)."""
    unit = pe = ui = wi = 0
    for i in range(len(status)):
        if status[i] == Status.UNIT:
            unit += 1
            pe += pension_employee[i]
            ui += unemployment_insured[i]
            wi += work_injury_insured[i]
    return np.array([pe, ui, wi], dtype=np.float64) / max(unit, 1)


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
        self._coverage = None  # coverage at hire carried from last month's pass (None: count it)

    def coverage_at_hire(self) -> np.ndarray:
        """The chance that a new unit hire is enrolled in each scheme (in a firm
        of average compliance): the current coverage of unit employees, as
        firms enrol newcomers as they have enrolled their staff.

        Answers to the seam between the two histories (issue 11, point 5): this
        was the coverage of the population as built, frozen for the whole run,
        so a run from the end-2015 population kept hiring at the 2015 coverage
        into 2021-2022 and its unemployment and work-injury insured grew 3-5%
        slower than those of the end-2020 population (the published 2021-2022
        insured stocks, calibration/observed.csv)."""
        people = self.model.people
        return unit_coverage(people.status, people.pension_employee, people.unemployment_insured,
                             people.work_injury_insured)

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
        relative = (firms.compliance / np.float32(max(float(mean), 1e-9))).astype(np.float32)
        catch_up = self.param("enrolment_catch_up") * model.policy.enforcement * self._burden_factor()
        streams = model.streams
        counts = _enrol(
            people.status, people.sector, people.spell_m, people.age_m, people.firm, people.contribution_months,
            people.pension_employee, people.pension_retiree, people.pension_resident, people.unemployment_insured,
            people.work_injury_insured,
            relative, self.coverage_at_hire() if self._coverage is None else self._coverage,
            np.asarray(catch_up, dtype=np.float64),
            float(self.param("individual_contribution_rate")), float(self.param("platform_injury_rate")),
            float(self.param("resident_enrolment_rate")), bool(model.policy.platform_injury_protection),
            streams.key(self.name, month, "insurance"), streams.key(self.name, month, "enrol"),
            float(relative.max()) if firms.n else 0.0)
        for flow, count in zip(("new_pensioners", "pension_enrolments", "unemployment_enrolments",
                                "work_injury_enrolments", "resident_enrolments"), counts[:5]):
            model.flows[flow] += int(count)
        self._coverage = counts[6:].astype(np.float64) / max(int(counts[5]), 1)
