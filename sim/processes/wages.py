"""Wages and the minimum wage.

A unit employee's wage is set when hired: the economy-wide wage index times a
level for the firm's ownership (non-private or private, solved at build so the
2020 means equal the published averages) times exp(education, sector,
experience, firm premium and an individual draw).  Every January wages rise by
the nominal growth rate of their ownership with an individual spread.  The
growth rates of private and non-private units are macro conditions
(`calibration/macro.toml`: the published growth of each in 2016-2022, a
stated projection after), not fitted constants: with one rate for both, the
run from 2015 put non-private wages 4% below and private wages 5% above the
2019-2022 bulletins.  The government agent sets
the minimum-wage tiers each month from its policy; employees of firms that
comply are paid at least their tier's minimum.  When the minimum rises, firms
whose wage bill it raises cut the employment they want and some stop
complying (the low-wage employment and compliance effects of the lever),
and, with `minimum_wage_spillover`, wages just above the new minimum rise by
part of the rise (spillovers).  A scenario's `wage_guideline` (工资指导线, a
recommended raise a year) moves unit employees' January raises towards it by
`guideline_pass_through`.
"""

import numba
import numpy as np

from ..kernels import block, block_count, deal_stride, dealt, rows_with_status, rows_with_status_between, sized_pass
from ..sampling import largest_first_until
from ..status import Status
from ..table import Column
from ..timeline import calendar_month
from .base import Process

PERSON_COLUMNS = {
    "wage": Column(np.float32, 0.0, "monthly wage or work income, yuan"),
}


@numba.njit(cache=True)
def _log_wage_terms(education_premium, sector_premium, curvature, peak_age, edu, sector, age_m, premium) -> np.ndarray:
    """The rule of `log_wage_terms`, row by row: numpy's float64 operations in
    numpy's order, without its five temporaries (the build's 30 million unit
    employees at the whole province).  Serial: its other caller passes a
    month's hires, too few to wake a second thread for."""
    out = np.empty(len(edu), dtype=np.float64)
    for j in range(len(edu)):
        age = age_m[j] / 12.0
        out[j] = (education_premium[edu[j]] + sector_premium[sector[j]]
                  - curvature * ((age - peak_age) * (age - peak_age)) + np.float64(premium[j]))
    return out


def log_wage_terms(params, edu: np.ndarray, sector: np.ndarray, age_m: np.ndarray, premium: np.ndarray) -> np.ndarray:
    """Deterministic part of the log wage: education, sector, experience and
    firm premium, edu_premium[edu] + sector_premium[sector] - curvature x
    (age in years - peak age)^2 + premium."""
    return _log_wage_terms(np.asarray(params("wages.education_premium"), dtype=np.float64),
                           np.asarray(params("wages.sector_premium"), dtype=np.float64),
                           float(params("wages.experience_curvature")), float(params("wages.experience_peak_age")),
                           edu, sector, age_m, premium)


def offer_wages(model, people_idx: np.ndarray, firm_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Monthly wage offered to each hire at each firm, before the minimum-wage floor."""
    people, firms, params = model.people, model.firms, model.calibration.params
    terms = log_wage_terms(
        params, people.edu[people_idx], firms.sector[firm_idx], people.age_m[people_idx], firms.premium[firm_idx]
    )
    sd = model.calibration.stocks("wages.log_sd")
    noise = rng.normal(-sd * sd / 2.0, sd, len(people_idx))
    level = np.where(firms.non_private[firm_idx], model.derived["wage_level_non_private"], model.derived["wage_level_private"])
    index = model.wage_index[firms.non_private[firm_idx].astype(np.int8)]
    return (index * level * np.exp(terms + noise)).astype(np.float32)


def own_account_income(model, count: int, ratio_key: str, rng: np.random.Generator) -> np.ndarray:
    """Monthly income of the newly self-employed or flexible: a ratio of the private-unit mean."""
    stocks = model.calibration.stocks
    sd = stocks("wages.log_sd")
    mean = stocks("wages.private_annual") / 12.0 * stocks(ratio_key)
    return (model.wage_index[0] * mean * np.exp(rng.normal(-sd * sd / 2.0, sd, count))).astype(np.float32)


def below_minimum(wages: np.ndarray, floors: np.ndarray, complies: np.ndarray) -> np.ndarray:
    """Which wages the minimum wage raises to their floor: those below it,
    where the firm complies."""
    return complies & (wages < floors)


def apply_minimum_wage(people, firms, tiers: np.ndarray, idx: np.ndarray) -> int:
    """Raise the wages of unit employees idx that are below their tier's minimum to
    it, where their firm complies; returns how many were raised."""
    floor = tiers[people.tier[idx]]
    below = below_minimum(people.wage[idx], floor, firms.complies_min_wage[people.firm[idx]])
    people.wage[idx[below]] = floor[below]
    return int(np.count_nonzero(below))


@sized_pass(ns_per_row=8)
@numba.njit(cache=True, parallel=True)
def _raise_all_to_minimum(status, firm, tier, wage, complies, floors) -> int:
    """apply_minimum_wage over every unit employee, in one pass; the firm's
    compliance is read only for the few wages below the floor."""
    n = len(status)
    blocks = block_count(n)
    raised = np.zeros(blocks, dtype=np.int64)
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b, firm_b, tier_b, wage_b = status[lo:hi], firm[lo:hi], tier[lo:hi], wage[lo:hi]
        count = 0
        for i in range(hi - lo):
            floor = floors[tier_b[i]]
            if (status_b[i] == Status.UNIT) & (wage_b[i] < floor):
                if complies[firm_b[i]]:
                    wage_b[i] = floor
                    count += 1
        raised[b] = count
    return raised.sum()


@sized_pass(ns_per_row=15, rows=lambda wage, earners, *rest: len(earners))
@numba.njit(cache=True, parallel=True)
def _raise_in_january(wage, earners, firm, non_private, covered, normal, log_growth, half_variance, guideline_on,
                      log_guideline, pass_through, premium) -> None:
    """Each earner's wage times exp(log raise): their draw plus the growth of
    their ownership (non-private units, or private units and own-account
    work) less half the variance; unit employees' raises moved towards the
    guideline when there is one; plus the bargaining premium for employees
    of covered firms.  The same floating-point operations in the same order
    as the numpy expressions this replaced (exp in float64, then float32), so
    the same bits, in one parallel pass without temporaries."""
    for j in numba.prange(len(earners)):
        row = earners[j]
        f = firm[row]
        employed = f >= 0
        g = log_growth[1] if employed and non_private[f] else log_growth[0]
        r = normal[j] + g - half_variance
        if guideline_on:
            r += pass_through * (log_guideline - g) if employed else 0.0
        r += premium * (1.0 if employed and covered[f] else 0.0)
        wage[row] *= np.float32(np.exp(r))


def covered_firms(sizes: np.ndarray, persons: np.ndarray, alive: np.ndarray, share: float) -> np.ndarray:
    """Firms that bargain collectively: the largest (unionised) firms first, by
    employees per firm (`persons`), until they employ `share` of unit employees
    (`sizes`, person rows of each firm row)."""
    most = share * sizes[alive].sum()
    # Only the start of the order matters: up to the first firm past `most`.
    order = largest_first_until(np.where(alive, persons, -1.0), sizes, np.nextafter(most, np.inf, dtype=most.dtype))
    within = np.cumsum(sizes[order]) <= most
    covered = np.zeros(len(sizes), dtype=bool)
    covered[order[within]] = True
    return covered


class Wages(Process):
    name = "wages"
    person_columns = PERSON_COLUMNS
    flows = {
        "raised_to_minimum": "employees whose wage was raised to the minimum",
        "firms_evading_minimum_wage": "firms that stop complying after a minimum-wage rise",
    }

    def __init__(self, model):
        super().__init__(model)
        self._floor_checked = False  # whether a month of this run has raised every wage to the floor

    def step(self, month: int) -> None:
        model, people = self.model, self.model.people
        # Wage growth by ownership: private units (and own-account work), non-private units.
        growth = np.array([model.condition("wage_growth_private"), model.condition("wage_growth_non_private")])
        model.wage_index *= (1.0 + growth) ** (1.0 / 12.0)
        january = calendar_month(month) == 1
        if january:
            self._raise_wages(month, growth)
        previous = model.minimum_wage.copy()
        model.government.set_minimum_wage(month)
        floor_rose = bool(np.any(model.minimum_wage > previous))
        if floor_rose:
            self._respond_to_minimum_wage(month)
            self._spill_over(previous)
        # A unit employee of a complying firm can fall below the floor only when
        # it rises or in January's raises (an individual raise may be negative):
        # hires are floored when they start (matching), other wages do not fall,
        # and firms only stop complying.  In other months the pass over every
        # row would raise nobody (tests/test_dynamics.py checks that nobody is
        # below the floor after every month), so it is skipped: 54 of 60
        # months in the baseline, 50 in the plan.
        raised = 0
        if january or floor_rose or not self._floor_checked:
            raised = _raise_all_to_minimum(people.status, people.firm, people.tier, people.wage,
                                           model.firms.complies_min_wage, model.minimum_wage.astype(np.float32))
            self._floor_checked = True
        model.flows["raised_to_minimum"] += raised

    def _respond_to_minimum_wage(self, month: int) -> None:
        """Firms facing a higher minimum: each complying firm's wage bill would rise
        by the gap of its low-paid employees to the new floor; it cuts desired
        employment by `minimum_wage_demand_elasticity` x that rise, and stops
        complying with a chance of `minimum_wage_evasion` x that rise."""
        model, people, firms = self.model, self.model.people, self.model.firms
        employees = rows_with_status(people.status, Status.UNIT)
        firm = people.firm[employees]
        wage = people.wage[employees].astype(np.float64)
        gap = np.maximum(model.minimum_wage[people.tier[employees]] - wage, 0.0) * firms.complies_min_wage[firm]
        bill = np.bincount(firm, weights=wage, minlength=firms.n)
        rise = np.divide(np.bincount(firm, weights=gap, minlength=firms.n), bill, out=np.zeros(firms.n), where=bill > 0)
        firms.target *= (1.0 - np.minimum(self.param("minimum_wage_demand_elasticity") * rise, 0.9)).astype(np.float32)
        evades = firms.complies_min_wage & (self.rng(month, "evasion").random(firms.n) < self.param("minimum_wage_evasion") * rise)
        firms.complies_min_wage[evades] = False
        model.flows["firms_evading_minimum_wage"] += int(np.count_nonzero(evades))

    def _spill_over(self, previous: np.ndarray) -> None:
        """Spillovers of a minimum-wage rise: employees of complying firms paid
        from the new minimum of their tier up to `minimum_wage_spillover_reach`
        above it get `minimum_wage_spillover` of the rise, tapering linearly
        to nothing at the reach (wages below the new minimum are raised to it
        by the floor).  Off when the spillover is 0."""
        share = self.param("minimum_wage_spillover")
        if share <= 0.0:
            return
        model, people = self.model, self.model.people
        employees = rows_with_status(people.status, Status.UNIT)
        tier = people.tier[employees]
        new, rise = model.minimum_wage[tier].astype(np.float64), (model.minimum_wage - previous)[tier].astype(np.float64)
        reach = self.param("minimum_wage_spillover_reach") * new
        wage = people.wage[employees].astype(np.float64)
        taper = np.clip(1.0 - (wage - new) / reach, 0.0, 1.0) * (wage >= new)
        taper *= model.firms.complies_min_wage[people.firm[employees]]
        people.wage[employees] = (wage + share * rise * taper).astype(np.float32)

    def _raise_wages(self, month: int, growth: np.ndarray) -> None:
        """January: every earner's wage rises by the growth of their ownership
        with an individual spread (log-normal, mean preserving), towards the
        guideline if there is one, plus the premium of collective bargaining.
        The draws come from the month's stream in the earners' row order."""
        model, people = self.model, self.model.people
        earners = rows_with_status_between(people.status, Status.UNIT, Status.FLEX)
        sd = self.param("raise_sd")
        normal = self.rng(month, "raise").normal(0.0, sd, len(earners))
        guideline = model.policy.wage_guideline
        _raise_in_january(
            people.wage, earners, people.firm, model.firms.non_private, self._covered_firms(), normal,
            np.log1p(growth), sd * sd / 2.0, guideline is not None,
            float(np.log1p(guideline)) if guideline is not None else 0.0,
            float(self.param("guideline_pass_through")), float(self.param("bargaining_premium")))

    def _covered_firms(self) -> np.ndarray:
        """Firms under collective bargaining (`covered_firms` at the lever's share)."""
        model = self.model
        share = model.policy.collective_bargaining
        if share is None:
            share = self.param("bargaining_coverage_2020")
        return covered_firms(model.firm_sizes(), model.firm_persons(), model.firms.alive, share)
