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
from ..kernels import as_bytes, block, block_count, sized_pass
from ..streams import draw, draw_bits, draw_units, third, third_units, units_below
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


@sized_pass(ns_per_row=7)
@numba.njit(cache=True, parallel=True)
def _enrol(status, sector, spell_m, age_m, firm, contribution_months, pension_employee, pension_retiree, pension_resident,
           unemployment_insured, work_injury_insured, firm_relative_compliance, coverage_at_hire, catch_up,
           individual_rate, platform_rate, resident_rate, platform_on, key, scheme_key, most_relative) -> np.ndarray:
    """The month's insurance transitions, row by row (every row's are
    independent of the others'); returns the counts of new pensioners and of
    pension, unemployment, work-injury and resident enrolments, then of unit
    employees and of their pension, unemployment and work-injury memberships
    after the month's transitions (next month's coverage at hire, without a
    pass of its own).

    Per-row draws: `key` for individuals, platform workers and residents (one
    draw, as the rates are far apart); `scheme_key` for unit employees'
    enrolment in the pension, unemployment and work-injury schemes (three
    independent uniforms cut from one draw, `streams.third`).

    Most rows change nothing in a month (about 3% may), so each block of
    rows is passed twice.  The first pass marks the rows that may change,
    without a branch: integer tests of both draws against the largest
    chances (`units_below`; `most_relative` is the largest firm's relative
    compliance) and of the memberships that end, so LLVM turns it into
    vector instructions; it also counts the unit employees' memberships.
    The second pass applies the rules to the marked rows only.  Half the
    time of one branchy pass (7.0 -> 3.6 ms at scale 100 on one thread),
    same results."""
    n = len(status)
    hire_pe, hire_ui, hire_wi = coverage_at_hire[0], coverage_at_hire[1], coverage_at_hire[2]
    catch_pe, catch_ui, catch_wi = catch_up[0], catch_up[1], catch_up[2]
    # No event can happen to a row whose draws are at or above these bounds.
    rare = units_below(max(individual_rate, platform_rate if platform_on else 0.0, resident_rate), 24)
    bound_hire = units_below(max(hire_pe, hire_ui, hire_wi) * most_relative, 21)  # new hires
    bound_catch = units_below(max(catch_pe, catch_ui, catch_wi) * most_relative, 21)  # other unit employees
    platform_cover = np.uint8(platform_on)
    blocks = block_count(n)
    counts = np.zeros((blocks, 9), dtype=np.int64)
    # Blocks in row order, not dealt (sim.kernels.dealt): the marking pass is
    # the same work in every block, and dealt blocks were no faster.
    for b in numba.prange(blocks):
        lo, hi = block(b, n)
        status_b, sector_b, spell_b = status[lo:hi], sector[lo:hi], spell_m[lo:hi]
        pe_b, pr_b, pres_b = (as_bytes(pension_employee[lo:hi]), as_bytes(pension_retiree[lo:hi]),
                              as_bytes(pension_resident[lo:hi]))
        ui_b, wi_b = as_bytes(unemployment_insured[lo:hi]), as_bytes(work_injury_insured[lo:hi])
        # First pass: mark the rows that may change; count unit employees' memberships.
        may_change = np.empty(hi - lo, dtype=np.uint8)
        n_unit = unit_pe = unit_ui = unit_wi = 0
        for i in range(hi - lo):
            s = status_b[i]
            unit = np.uint8(s == Status.UNIT)
            platform = np.uint8(s == Status.FLEX) & np.uint8(sector_b[i] == PLATFORM_SECTOR)
            pe, pr, pres, ui, wi = pe_b[i], pr_b[i], pres_b[i], ui_b[i], wi_b[i]
            ends = (ui & (unit ^ 1)) | (wi & ((unit | (platform & platform_cover)) ^ 1))
            retired = pe & np.uint8(s == Status.RETIRED)
            bits = draw_bits(scheme_key, lo + i)
            lowest = min(third_units(bits, 0), third_units(bits, 1), third_units(bits, 2))
            may_join = (unit & ((pe & ui & wi) ^ 1)
                        & np.uint8(lowest < (bound_hire if spell_b[i] == 0 else bound_catch)))
            rare_draw = np.uint8(draw_units(key, lo + i) < rare)
            may_change[i] = ends | retired | may_join | rare_draw | (pres & (pe | pr))
            n_unit += unit
            unit_pe += unit & pe
            unit_ui += unit & ui
            unit_wi += unit & wi
        # Second pass: the month's transitions of the marked rows.
        n_pensioners = n_pension = n_unemployment = n_work_injury = n_resident = 0
        for i in range(hi - lo):
            if may_change[i] == 0:
                continue
            row = lo + i
            s = status_b[i]
            unit = s == Status.UNIT
            platform = (s == Status.FLEX) & (sector_b[i] == PLATFORM_SECTOR)
            pe, pr, pres = pension_employee[row], pension_retiree[row], pension_resident[row]
            ui, wi = unemployment_insured[row], work_injury_insured[row]
            u = draw(key, row)
            retired = pe & (s == Status.RETIRED)
            # A pension needs contributions: a member who retires without a month
            # contributed (enrolled the month before retiring) leaves the scheme
            # without one.  The 15-year minimum (社会保险法 第十六条) is not modelled.
            retiring = retired & (contribution_months[row] > 0)
            # Coverage that ends with the job that gave it.
            ui = ui & unit
            wi = wi & (unit | (platform & platform_on))
            # Members who retire become pensioners.
            pr = pr | retiring
            pe = pe & (not retired)
            joins_pe = joins_ui = joins_wi = False
            if unit & (not (pe & ui & wi)):
                # New hires at the current coverage, the uninsured at the
                # catch-up rate, both scaled by the firm's compliance
                # propensity.  (A row marked for another reason whose scheme
                # draws are all above the bound joins nothing here.)
                new_hire = spell_b[i] == 0
                bits = draw_bits(scheme_key, row)
                relative = firm_relative_compliance[firm[row]]
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
            joins_res = (outside & (not pres) & (u < resident_rate) & (age_m[row] >= 16 * 12)
                         & (s != Status.SCHOOL) & (s != Status.ABSENT))
            pres = pres | joins_res
            pension_employee[row], pension_retiree[row], pension_resident[row] = pe, pr, pres
            unemployment_insured[row], work_injury_insured[row] = ui, wi
            n_pension += np.int64(joins_pe) + np.int64(starts)
            n_unemployment += np.int64(joins_ui)
            n_work_injury += np.int64(joins_wi) + np.int64(covered)
            n_resident += np.int64(joins_res)
            n_pensioners += np.int64(retiring)
        counts[b, 0], counts[b, 1], counts[b, 2] = n_pensioners, n_pension, n_unemployment
        counts[b, 3], counts[b, 4] = n_work_injury, n_resident
        counts[b, 5], counts[b, 6], counts[b, 7], counts[b, 8] = n_unit, unit_pe, unit_ui, unit_wi
    return counts.sum(axis=0)


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
