"""Separations: quits and layoffs of unit employees, exits from self-employment
and flexible work.  Everybody who separates becomes a job seeker (UNEMP)."""

import numba
import numpy as np

from ..kernels import BLOCK_ROWS, block_room, join_blocks, search
from ..status import Status
from ..streams import draw
from .base import Process


@numba.njit(inline="always")
def _quit_chance(age_m, local, non_private, rates) -> float:
    """rates: base quit rate and the young, migrant and non-private multipliers
    (selected arithmetically: the conditions vary from row to row)."""
    young = rates[1] if age_m < 25 * 12 else 1.0
    migrant = 1.0 if local else rates[2]
    public = rates[3] if non_private else 1.0
    return rates[0] * young * migrant * public


def _quit_rates(params) -> np.ndarray:
    return np.array([params("separations.quit_rate"), params("separations.young_multiplier"),
                     params("separations.migrant_multiplier"), params("separations.non_private_multiplier")])


@numba.njit(cache=True)
def _quit_chances(age_m, local, non_private, rates) -> np.ndarray:
    out = np.empty(len(age_m), dtype=np.float64)
    for j in range(len(age_m)):
        out[j] = _quit_chance(age_m[j], local[j], non_private[j], rates)
    return out


def quit_probability(params, age_m: np.ndarray, local: np.ndarray, non_private: np.ndarray) -> np.ndarray:
    """Monthly chance that each unit employee quits into job search: the base
    rate, higher for the young and for migrants, lower in non-private units."""
    return _quit_chances(age_m, local, non_private, _quit_rates(params))


@numba.njit(cache=True)
def _separate_candidates(rows, k, key, status, firm, age_m, local, firm_non_private, firm_layoff, quit_rates):
    """Of the k candidate rows, those who separate (moved to the front of
    rows): [how many, layoffs, quits, self-employed exits, flexible exits]."""
    leaving = layoffs = quits = self_exits = flex_exits = 0
    for j in range(k):
        i = rows[j]
        s, u = status[i], draw(key, i)
        separates = True
        if s == Status.UNIT:
            f = firm[i]
            layoff = firm_layoff[f]
            if u < layoff:
                layoffs += 1
            elif u < layoff + _quit_chance(age_m[i], local[i], firm_non_private[f], quit_rates):
                quits += 1
            else:
                separates = False
        elif s == Status.SELF:
            self_exits += 1
        else:
            flex_exits += 1
        if separates:
            rows[leaving] = i
            leaving += 1
    return np.array([leaving, layoffs, quits, self_exits, flex_exits])


def _largest_quit_chance(rates: np.ndarray) -> float:
    """The largest quit chance anyone has (multipliers below 1 left out)."""
    return float(rates[0] * np.prod(np.maximum(rates[1:], 1.0)))


@numba.njit(cache=True, parallel=True)
def _draw_separations(key, status, firm, age_m, local, firm_non_private, firm_layoff, quit_rates, self_exit, flex_exit,
                      largest_unit, room):
    """One draw per worker: unit employees are laid off (draw below their firm's
    layoff chance) or quit (the next quit-chance slice of the draw); the
    self-employed and flexible workers stop with their exit rates.  Returns
    whether every block had room, the rows separating (ascending) and the
    counts of layoffs, quits, self-employed and flexible exits.

    Blocks of rows run in parallel, in two stages: rows whose draw is below
    the largest chance their status allows are kept (at most `room` a block,
    ample for that chance) without reading their firm; only for those (a few
    percent) are the firm's layoff chance and ownership looked up, as random
    reads into the firm table cost more than the row's own arithmetic."""
    n = len(status)
    blocks = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    found = np.empty((blocks, room), dtype=np.int64)
    candidates = np.zeros(blocks, dtype=np.int64)  # candidates of each block, kept or not
    counts = np.zeros((blocks, 5), dtype=np.int64)  # each block's leavers, layoffs, quits, self-employed and flexible exits
    for b in numba.prange(blocks):
        k = 0
        for i in range(b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS)):
            s, u = status[i], draw(key, i)
            if (((s == Status.UNIT) & (u < largest_unit)) | ((s == Status.SELF) & (u < self_exit))
                    | ((s == Status.FLEX) & (u < flex_exit))):
                if k < room:
                    found[b, k] = i
                k += 1
        candidates[b] = k
        counts[b] = _separate_candidates(found[b], min(k, room), key, status, firm, age_m, local, firm_non_private,
                                         firm_layoff, quit_rates)
    layoffs, quits, self_exits, flex_exits = counts[:, 1].sum(), counts[:, 2].sum(), counts[:, 3].sum(), counts[:, 4].sum()
    return np.all(candidates <= room), join_blocks(found, counts[:, 0].copy()), layoffs, quits, self_exits, flex_exits


class Separations(Process):
    name = "separations"
    flows = {
        "quits": "unit employees quitting into job search",
        "layoffs_downsizing": "unit employees laid off by firms above their desired size",
        "self_employed_exits": "self-employed people closing their business",
        "flexible_exits": "flexible workers stopping",
    }

    def step(self, month: int) -> None:
        model, people, firms = self.model, self.model.people, self.model.firms
        # Firms above their desired size shed a share of the excess.
        size = model.firm_sizes()
        excess = np.maximum(size - firms.target, 0.0)
        layoff_chance = model.calibration.params("labour_demand.excess_shed_share") * excess / np.maximum(size, 1.0)
        rates = _quit_rates(model.calibration.params)
        self_exit, flex_exit = float(self.param("self_employed_exit_rate")), float(self.param("flexible_exit_rate"))
        layoff_chance = layoff_chance.astype(np.float64)
        largest_unit = float(layoff_chance.max(initial=0.0)) + _largest_quit_chance(rates)
        separating, layoffs, quits, self_exits, flex_exits = search(
            _draw_separations, block_room(max(largest_unit, self_exit, flex_exit)),
            model.streams.key(self.name, month, "separate"), people.status, people.firm, people.age_m, people.local,
            firms.non_private, layoff_chance, rates, self_exit, flex_exit, largest_unit)
        model.flows["quits"] += quits
        model.flows["layoffs_downsizing"] += layoffs
        model.flows["self_employed_exits"] += self_exits
        model.flows["flexible_exits"] += flex_exits
        model.separate(separating)
