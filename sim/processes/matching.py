"""Matching job seekers to vacancies, and moves into own-account work.

Matches per month follow a constant-returns Cobb-Douglas matching function
M = A * U^a * V^(1-a) (Petrongolo and Pissarides 2001), capped by vacancies and
seekers; U counts the unemployed plus flexible workers searching on the job at
a lower intensity.  Which seekers match depends on education and unemployment
duration; vacancies are filled in proportion to each firm's openings.  Seekers
who do not match may start an individual business, take up flexible work or
give up searching; working-age inactive people may start searching.
"""

import numba
import numpy as np

from ..kernels import block, block_count, deal_stride, dealt, sized_pass
from ..sampling import categorical, choose_exact, stochastic_round
from ..status import PUBLIC_SECTOR, Status
from ..table import Column
from .base import Process
from .wages import apply_minimum_wage, offer_wages, own_account_income

PERSON_COLUMNS = {
    "sector": Column(np.int8, -1, "sector of the current job (sim.status.SECTORS), -1 if none"),
    "firm": Column(np.int32, -1, "row of the employing firm, -1 if none"),
    "spell_m": Column(np.int16, 0, "months in the current labour status"),
}


def vacancies(model, rng: np.random.Generator) -> np.ndarray:
    """Open vacancies of each firm: desired minus actual employment, rounded without bias."""
    firms = model.firms
    return _vacancies(firms.alive, firms.target, model.firm_sizes(), rng.random(firms.n))


@sized_pass(ns_per_row=10)
@numba.njit(cache=True, parallel=True)
def _vacancies(alive, target, sizes, u) -> np.ndarray:
    """Each operating firm's gap between desired and actual employment (rows,
    float32), rounded up with a chance of its fraction (uniforms `u`): the
    numpy expressions this replaced, in their precisions, in one pass."""
    out = np.empty(len(target), dtype=np.int64)
    for i in numba.prange(len(target)):
        gap = max(target[i] - sizes[i], np.float32(0.0)) if alive[i] else np.float32(0.0)
        whole = np.floor(gap)
        out[i] = np.int64(whole + np.float32(u[i] < np.float64(gap - whole)))
    return out


@sized_pass(ns_per_row=0.5)
@numba.njit(cache=True, parallel=True)
def _count_months(status, spell_m) -> None:
    """Every resident's spell in their status grows a month (capped at the
    column's largest value)."""
    n = len(status)
    blocks = block_count(n)
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b, spell_b = status[lo:hi], spell_m[lo:hi]
        for i in range(hi - lo):
            spell_b[i] += np.int16((status_b[i] != Status.ABSENT) & (spell_b[i] < 32767))


@sized_pass(ns_per_row=2)
@numba.njit(cache=True, parallel=True)
def _find_seekers(status) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the unemployed and of flexible workers (who search on the
    job), each in row order.

    Two parallel passes over blocks of rows (`kernels.rows_with_status_between`
    for two codes at once): one counts each block's rows of either kind
    without a branch, the other writes them after the earlier blocks' rows.
    Nothing to size in advance: a single pass would need room for a whole
    block of either kind in every block, as flexible workers cluster (a
    quarter of a gigabyte at scale 4, most of it never touched).  At scale
    4 (16 million rows) 15 ms a month on two threads against 19-21 ms for
    that single pass, 26-28 against 31-32 on one."""
    n = len(status)
    blocks = block_count(n)
    stride = deal_stride(blocks)
    count_u = np.zeros(blocks, dtype=np.int64)
    count_f = np.zeros(blocks, dtype=np.int64)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b = status[lo:hi]
        ku = kf = 0
        for j in range(hi - lo):
            ku += status_b[j] == Status.UNEMP
            kf += status_b[j] == Status.FLEX
        count_u[b], count_f[b] = ku, kf
    start_u, start_f = np.zeros(blocks + 1, dtype=np.int64), np.zeros(blocks + 1, dtype=np.int64)
    for b in range(blocks):
        start_u[b + 1], start_f[b + 1] = start_u[b] + count_u[b], start_f[b] + count_f[b]
    unemployed, flexible = np.empty(start_u[blocks], dtype=np.int64), np.empty(start_f[blocks], dtype=np.int64)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)
        lo, hi = block(b, n)
        status_b = status[lo:hi]
        unemployed_b, flexible_b = unemployed[start_u[b]:start_u[b + 1]], flexible[start_f[b]:start_f[b + 1]]
        ku = kf = 0
        for j in range(hi - lo):
            s = status_b[j]
            if s == Status.UNEMP:
                unemployed_b[ku] = lo + j
                ku += 1
            elif s == Status.FLEX:
                flexible_b[kf] = lo + j
                kf += 1
    return unemployed, flexible


class Matching(Process):
    name = "matching"
    person_columns = PERSON_COLUMNS
    flows = {
        "hires": "job seekers hired by units",
        "hires_from_flexible": "flexible workers hired by units",
        "self_employment_entries": "job seekers starting an individual business",
        "flexible_entries": "job seekers taking up flexible work",
        "urban_job_entries": "urban residents entering employment from outside it",
        "retiree_returns": "retirees under 65 going back to (flexible) work (not new urban jobs)",
        "placements_hard_to_employ": "long-term unemployed placed in public-welfare posts (lever)",
        "placements_graduates": "job-seeking college graduates placed (lever)",
        "supported_startups": "job seekers starting a business with start-up loans and training (lever)",
        "vacancies": "open vacancies before matching",
        "job_seekers": "unemployed job seekers before matching",
    }

    def __init__(self, model):
        super().__init__(model)
        self.tightness = model.derived["tightness_baseline"]  # vacancies per job seeker, last month

    def participation_response(self) -> float:
        """How much more often the inactive start looking for work and retirees
        go back to work when jobs are plentiful: (tightness / baseline
        tightness) ^ participation_elasticity, within [1/4, 4].

        Answers to the published growth of employed persons (3,706万 in 2015,
        3,860万 in 2020, 3,930万 in 2022) while the working-age population
        shrinks: with a fixed participation the model's employment fell; labour
        demand (a macro condition) now draws people into work."""
        ratio = self.tightness / self.model.derived["tightness_baseline"]
        return float(np.clip(ratio ** self.param("participation_elasticity"), 0.25, 4.0))

    def step(self, month: int) -> None:
        people = self.model.people
        assert people.spell_m.dtype == np.int16  # the kernel caps spells at 32767
        _count_months(people.status, people.spell_m)
        unemployed, flexible = _find_seekers(people.status)
        self._hire(month, unemployed, flexible)
        self._employment_programmes(month, unemployed)
        self._own_account_and_inactivity(month)

    def _hire(self, month: int, unemployed: np.ndarray, flexible: np.ndarray) -> None:
        model, people, firms = self.model, self.model.people, self.model.firms
        rng = self.rng(month, "hire")
        open_ = vacancies(model, rng)
        # Flexible workers past the statutory age (re-employed retirees) do not take unit jobs.
        flexible = flexible[~model.past_statutory_age(flexible)]
        candidates = np.concatenate([unemployed, flexible])
        weight = np.concatenate([
            self.param("education_weight")[people.edu[unemployed]]
            * np.where(people.spell_m[unemployed] > 12, self.param("long_term_weight"), 1.0),
            np.full(len(flexible), self.param("on_the_job_search_weight")),
        ])

        seekers = len(unemployed) + self.param("on_the_job_search_weight") * len(flexible)
        total_open = int(open_.sum())
        model.flows["vacancies"] += total_open
        model.flows["job_seekers"] += len(unemployed)
        self.tightness = total_open / seekers if seekers else model.derived["tightness_baseline"]
        if total_open == 0 or seekers == 0:
            return
        a = self.param("elasticity_unemployment")
        efficiency = model.derived["matching_efficiency"] * model.policy.matching_efficiency
        expected = efficiency * seekers**a * total_open ** (1 - a)
        count = stochastic_round(min(expected, total_open, len(candidates)), rng)
        hired = candidates[choose_exact(weight, count, rng)]
        count = len(hired)
        # Fill vacancy slots at random: each open slot equally likely.
        slots = np.repeat(np.arange(firms.n), open_)
        firm = slots[rng.permutation(len(slots))[:count]]
        hired = hired[rng.permutation(count)]

        from_flex = people.status[hired] == Status.FLEX
        entering = hired[~from_flex]
        model.flows["hires"] += len(entering)
        model.flows["hires_from_flexible"] += int(np.count_nonzero(from_flex))
        model.flows["urban_job_entries"] += int(np.count_nonzero(people.urban[entering]))
        self._start_unit_jobs(hired, firm, rng)

    def _employment_programmes(self, month: int, seekers: np.ndarray) -> None:
        """Employment-assistance levers beyond 2020 practice (zero in the baseline):
        public-welfare posts for the long-term unemployed, placement of job-seeking
        college graduates, and supported business start-ups.  `seekers`: the
        month's unemployed before hiring; the programmes only take people out
        of unemployment, so those still unemployed are found among them, in
        row order, without a pass over every row."""
        model, people, firms, policy = self.model, self.model.people, self.model.firms, self.model.policy
        if not (policy.hard_to_employ_placement or policy.graduate_placement or policy.startup_support):
            return
        rng = self.rng(month, "programmes")
        per_month = lambda persons_10k: stochastic_round(persons_10k * 1e4 / 12.0 / model.scale, rng)  # noqa: E731
        still_unemployed = lambda rows: rows[people.status[rows] == Status.UNEMP]  # noqa: E731
        unemployed = still_unemployed(seekers)
        long_term = unemployed[people.spell_m[unemployed] > 12]
        placed = long_term[choose_exact(np.ones(len(long_term)), per_month(policy.hard_to_employ_placement), rng)]
        # Public-welfare posts are created in public bodies (their desired size grows with them).
        self._place(placed, np.flatnonzero(firms.alive & (firms.sector == PUBLIC_SECTOR)), rng, "placements_hard_to_employ")

        unemployed = still_unemployed(unemployed)
        graduates = unemployed[(people.edu[unemployed] == 2) & (people.age_m[unemployed] < 30 * 12)]
        chosen = graduates[rng.random(len(graduates)) < policy.graduate_placement]
        self._place(chosen, np.flatnonzero(firms.alive & (firms.sector != PUBLIC_SECTOR)), rng, "placements_graduates")

        unemployed = still_unemployed(unemployed)
        starters = unemployed[choose_exact(np.ones(len(unemployed)), per_month(policy.startup_support), rng)]
        self._start_own_account(starters, Status.SELF, "self", rng, "supported_startups")

    def _start_unit_jobs(self, idx: np.ndarray, firm: np.ndarray, rng: np.random.Generator) -> None:
        """People idx start unit jobs at firms `firm`: wage offered, minimum wage applied."""
        model, people = self.model, self.model.people
        people.status[idx] = Status.UNIT
        model.join_firms(idx, firm)
        people.spell_m[idx] = 0
        people.wage[idx] = offer_wages(model, idx, firm, rng)
        apply_minimum_wage(people, model.firms, model.minimum_wage, idx)

    def _start_own_account(self, idx: np.ndarray, status: Status, kind: str, rng: np.random.Generator, flow: str,
                           counted: bool = True) -> None:
        """People idx start self-employment or flexible work (kind "self" or "flexible"):
        a sector from that kind's mix and an income from its ratio to private wages.

        `counted`: whether the entries are new urban jobs.  Retirees who go back
        to work are not: employment registration (就业登记), from which new urban
        jobs are counted, covers the labour force below the statutory age.  This
        answers to the published 2016-2020 total of 606万 (plan column 1) and the
        annual 127.2万 (2017) and 125.3万 (2018), which the model overshot."""
        model, people = self.model, self.model.people
        ratio = {"self": "wages.self_employed_income_ratio", "flexible": "wages.flexible_income_ratio"}[kind]
        people.status[idx] = status
        people.sector[idx] = categorical(model.calibration.stocks(f"labour.sector_shares.{kind}"), rng.random(len(idx)))
        people.wage[idx] = own_account_income(model, len(idx), ratio, rng)
        people.spell_m[idx] = 0
        model.flows[flow] += len(idx)
        if counted:
            model.flows["urban_job_entries"] += int(np.count_nonzero(people.urban[idx]))

    def _place(self, idx: np.ndarray, pool: np.ndarray, rng: np.random.Generator, flow: str) -> None:
        """Hire people idx into firms of `pool`, in proportion to firm size; each
        firm's desired size grows by the hires so they are not shed again."""
        model, people, firms = self.model, self.model.people, self.model.firms
        if len(idx) == 0 or len(pool) == 0:
            return
        weight = model.firm_sizes()[pool] + 1.0
        firm = pool[np.minimum(np.searchsorted(np.cumsum(weight) / weight.sum(), rng.random(len(idx)), side="right"), len(pool) - 1)]
        self._start_unit_jobs(idx, firm, rng)
        np.add.at(firms.target, firm, 1.0)
        model.flows[flow] += len(idx)
        model.flows["urban_job_entries"] += int(np.count_nonzero(people.urban[idx]))

    def _own_account_and_inactivity(self, month: int) -> None:
        model, people = self.model, self.model.people
        rng = self.rng(month, "own_account")
        p_self = model.derived["self_employment_entry_rate"] * self.param("self_employment_entry_share")
        p_flex = model.derived["flexible_entry_rate"] * self.param("flexible_entry_share")
        p_quit = self.param("search_to_inactive_rate")
        response = self.participation_response()
        p_search = self.param("inactive_to_search_rate") * response
        p_return = self.param("retiree_return_rate") * response
        # Only rows whose draw is below the largest chance their status allows can move: test those.
        idx, u = model.streams.rows_below(
            self.name, month, "transition", people.n, max(p_self + p_flex + p_quit, p_search, p_return), people.status,
            {Status.UNEMP: p_self + p_flex + p_quit, Status.INACTIVE: p_search, Status.RETIRED: p_return})
        status, spell = people.status[idx], people.spell_m[idx]
        unemployed = (status == Status.UNEMP) & (spell > 0)  # not separated this month
        to_self = idx[unemployed & (u < p_self)]
        to_flex = idx[unemployed & (u >= p_self) & (u < p_self + p_flex)]
        to_inactive = idx[unemployed & (u >= p_self + p_flex) & (u < p_self + p_flex + p_quit)]
        to_search = idx[(status == Status.INACTIVE) & (u < p_search)]
        # Retirees under 65 who go back to work take flexible jobs (re-employed retirees).
        returning = idx[(status == Status.RETIRED) & (people.age_m[idx] < 65 * 12) & (u < p_return)]

        self._start_own_account(to_self, Status.SELF, "self", rng, "self_employment_entries")
        self._start_own_account(to_flex, Status.FLEX, "flexible", rng, "flexible_entries")
        self._start_own_account(returning, Status.FLEX, "flexible", rng, "retiree_returns", counted=False)
        people.status[to_inactive] = Status.INACTIVE
        people.status[to_search] = Status.UNEMP
        people.spell_m[to_inactive] = 0
        people.spell_m[to_search] = 0
