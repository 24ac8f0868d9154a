"""Labour demand: firms close, open and change the employment they want.

Each month a share of firms closes (their employees are laid off into job
search); new firms open so that the stock of firms grows at its trend rate;
every firm's desired employment takes a log-normal shock around the growth
of labour demand, a macro condition (`calibration/macro.toml`: the realised
growth of employment in the years published, a projection after), and firms
give up part of the openings they cannot fill.  Vacancies are the gap between
desired and actual employment (computed by the matching process after
separations).
"""

import numba
import numpy as np

from ..kernels import BLOCK_ROWS, block, block_count, extend, sized_pass
from ..status import Status
from ..table import Column
from .base import Process

FIRM_COLUMNS = {
    "alive": Column(np.bool_, False, "the firm is operating"),
    "sector": Column(np.int8, 0, "sector index (sim.status.SECTORS)"),
    "tier": Column(np.int8, 0, "minimum-wage area tier of the firm's location"),
    "non_private": Column(np.bool_, False, "state, collective, foreign or joint-stock unit (non-private in the wage statistics)"),
    "premium": Column(np.float32, 0.0, "firm wage premium (log points)"),
    "compliance": Column(np.float32, 1.0, "propensity to follow labour law (0..1)"),
    "complies_min_wage": Column(np.bool_, True, "pays at least the minimum wage"),
    "target": Column(np.float32, 0.0, "desired employment in person rows"),
    "represents": Column(np.float32, 1.0, "firms the row stands for, all of the same size (model.firm_persons)"),
}


def relative_closure_hazard(persons: np.ndarray, represents: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Each firm row's closure hazard relative to the mean over operating firms
    (not rows): 1/sqrt(1 + employees in persons), small firms closing more often."""
    relative = 1.0 / np.sqrt(1.0 + persons)
    mean = np.average(relative[alive], weights=represents[alive]) if alive.any() else 1.0
    return relative / mean


WAVE_BLOCKS = 16  # blocks searched in parallel at a time, each with room for all its rows (8 MB in all)


@numba.njit(cache=True, parallel=True)
def _employees_in_blocks(status, firm, closing, first, found, counts) -> int:
    """Search blocks first, first + 1, ... (one per row of `found`) in
    parallel: found[w, :counts[w]] are the rows of block first + w that
    `_employees_of` wants.  Returns the number of blocks searched.

    Branchy, against the habit of `sim.kernels`: the rows come in long runs
    of one status and a firm's employees together, so the branches are
    predicted, and a row that is not a unit employee neither reads its firm
    nor writes (21.4 -> 15.9 ms on one thread at scale 4, 17 million rows)."""
    n = len(status)
    wave = min(len(counts), block_count(n) - first)
    for w in numba.prange(wave):
        lo, hi = block(first + w, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b, firm_b, found_b = status[lo:hi], firm[lo:hi], found[w]
        k = 0
        for i in range(hi - lo):
            if status_b[i] == Status.UNIT and closing[firm_b[i]]:
                found_b[k] = lo + i
                k += 1
        counts[w] = k
    return wave


@sized_pass(ns_per_row=2)
@numba.njit(cache=True)
def _employees_of(status, firm, closing) -> np.ndarray:
    """Rows of the unit employees of the firms marked in `closing`, in row order.

    Blocks of rows are searched in parallel, a wave of `WAVE_BLOCKS` at a
    time, each with room for every one of its rows: a closing firm's
    employees sit together (rows are grouped by firm), so one block may hold
    thousands of them and no room sized by the average share would do, while
    room for every row of every block at once would cost 8 bytes a person."""
    blocks = block_count(len(status))
    found = np.empty((WAVE_BLOCKS, BLOCK_ROWS), dtype=np.int64)
    counts = np.zeros(WAVE_BLOCKS, dtype=np.int64)
    rows, count = np.empty(256, dtype=np.int64), 0
    for first in range(0, blocks, WAVE_BLOCKS):
        for w in range(_employees_in_blocks(status, firm, closing, first, found, counts)):
            rows, count = extend(rows, count, found[w], counts[w])
    return rows[:count]


@sized_pass(ns_per_row=15)
@numba.njit(cache=True, parallel=True)
def _shift_demand(target, alive, shock, drift, sd, sizes, normal, give_up) -> None:
    """Each firm's desired employment for the month, in one parallel pass:

    * an operating firm's is multiplied by exp(drift + sd * shock), its
      standard normal shock in float32 (the drift is the log growth of labour
      demand less half the variance, so the mean moves with the drift alone);
    * every firm then gives up `give_up` of the openings it has beyond the
      normal vacancy rate (`normal` = 1 + that rate, times its employees in
      rows): firms give up openings they cannot fill, so unfilled demand
      does not pile up without end when labour is short.  Answers to the
      surveyed unemployment rate: with demand growing at the realised
      employment growth and no give-up, vacancies piled up and unemployment
      fell to 2.5% by 2024 (published: 4.4% in 2022 Q3, low confidence).

    The arithmetic is that of the numpy expressions it replaced, in their
    precisions and order (the shock's exponential in float64, the rest in
    float32): the same bits, without their temporaries."""
    for i in numba.prange(len(target)):
        demand = target[i]
        if alive[i]:
            demand *= np.float32(np.exp(drift + np.float64(sd * np.float32(shock[i]))))
        excess = max(demand - normal * sizes[i], np.float32(0.0))
        target[i] = demand - give_up * excess


class LabourDemand(Process):
    name = "labour_demand"
    firm_columns = FIRM_COLUMNS
    flows = {
        "firm_exits": "firms closing",
        "firm_entries": "firms opening",
        "layoffs_closure": "employees laid off by closing firms",
    }

    def step(self, month: int) -> None:
        model, firms, people = self.model, self.model.firms, self.model.people
        streams = model.streams
        alive_before = float(firms.represents[firms.alive].sum())  # firms, not rows

        hazard = self.exit_hazard()
        model.expected_layoffs += float(np.sum(hazard * model.firm_sizes()))
        closing = firms.alive & (streams.uniform_per_row(self.name, month, "exit", firms.n) < hazard)
        closed_demand = float(firms.target[closing].sum())
        firms.alive[closing] = False
        laid_off = _employees_of(people.status, people.firm, closing)
        model.separate(laid_off)
        model.flows["firm_exits"] += float(firms.represents[closing].sum()) / model.scale  # in rows' units (x scale = firms)
        model.flows["layoffs_closure"] += len(laid_off)

        self._open_firms(month, alive_before, closed_demand)

        # Desired employment: every operating firm's log-normal shock around the
        # demand drift, then the openings it gives up (`_shift_demand`).
        sd = self.param("demand_shock_sd")
        _shift_demand(firms.target, firms.alive, self.rng(month, "demand").standard_normal(firms.n),
                      np.log1p(model.condition("labour_demand_growth")) / 12.0 - sd * sd / 2.0, np.float32(sd),
                      model.firm_sizes(), np.float32(1.0 + model.calibration.params("matching.vacancy_rate_2020")),
                      np.float32(self.param("vacancy_give_up_rate")))

    def exit_hazard(self) -> np.ndarray:
        """Monthly closure probability of each firm: falling with size as
        1/sqrt(1 + employees) (small firms close more often; employees in
        persons), scaled so that the mean over operating firms (not rows) is
        `firm_exit_rate`."""
        firms = self.model.firms
        relative = relative_closure_hazard(self.model.firm_persons(), firms.represents, firms.alive)
        return np.where(firms.alive, self.param("firm_exit_rate") * relative, 0.0)

    def _open_firms(self, month: int, alive_before: int, closed_demand: float) -> None:
        """New firms: their number keeps the firm stock on its trend; together
        they want the employment the closing firms wanted, so entry and exit
        churn jobs without changing aggregate demand (which moves with the
        demand drift alone).  New firms are small: each row stands for `scale`
        of them."""
        model, firms = self.model, self.model.firms
        rng = self.rng(month, "entry")
        rate = self.param("firm_exit_rate") + np.log1p(self.param("firm_stock_growth_annual")) / 12.0
        count = int(rng.poisson(alive_before * rate / model.scale))
        if count == 0:
            return
        alive = np.flatnonzero(firms.alive)
        # A new firm copies sector and location from an operating firm drawn at
        # random, so entry keeps the sector mix; it starts small and private.
        template = rng.choice(alive, size=count)
        rows = firms.append(count)
        firms.alive[rows] = True
        firms.represents[rows] = model.scale
        firms.sector[rows] = firms.sector[template]
        firms.tier[rows] = firms.tier[template]
        firms.non_private[rows] = False
        firms.premium[rows] = rng.normal(0.0, model.calibration.params("wages.firm_premium_sd"), count)
        compliance = rng.beta(
            model.calibration.params("wages.compliance_alpha"), model.calibration.params("wages.compliance_beta"), count
        )
        firms.compliance[rows] = compliance
        firms.complies_min_wage[rows] = rng.random(count) < compliance
        firms.target[rows] = closed_demand / count
        model.flows["firm_entries"] += count
