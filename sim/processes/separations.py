"""Separations: quits and layoffs of unit employees, exits from self-employment
and flexible work.  Everybody who separates becomes a job seeker (UNEMP)."""

import numba
import numpy as np

from ..kernels import BLOCK_ROWS, block_room, join_blocks
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
    """Of the k candidate rows, those who separate (moved to the front of rows),
    and the counts of layoffs, quits, self-employed and flexible exits."""
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
    return leaving, layoffs, quits, self_exits, flex_exits


@numba.njit(cache=True, parallel=True)
def _draw_separations(key, status, firm, age_m, local, firm_non_private, firm_layoff, quit_rates, self_exit, flex_exit,
                      room):
    """One draw per worker: unit employees are laid off (draw below their firm's
    layoff chance) or quit (the next quit-chance slice of the draw); the
    self-employed and flexible workers stop with their exit rates.  Returns the
    rows separating (ascending) and the counts of layoffs, quits, self-employed
    and flexible exits; counts of -1 if a block overflowed.

    Blocks of rows run in parallel, in two stages: rows whose draw is below
    the largest chance their status allows are kept (at most `room` a block,
    ample for that chance) without reading their firm; only for those (a few
    percent) are the firm's layoff chance and ownership looked up, as random
    reads into the firm table cost more than the row's own arithmetic."""
    n = len(status)
    largest_unit = firm_layoff.max() + quit_rates[0] * max(quit_rates[1], 1.0) * max(quit_rates[2], 1.0) * max(quit_rates[3], 1.0)
    blocks = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    found = np.empty((blocks, room), dtype=np.int64)
    counts = np.zeros(blocks, dtype=np.int64)
    layoffs = quits = self_exits = flex_exits = overflow = 0
    for b in numba.prange(blocks):
        k = 0
        for i in range(b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS)):
            s, u = status[i], draw(key, i)
            if (((s == Status.UNIT) & (u < largest_unit)) | ((s == Status.SELF) & (u < self_exit))
                    | ((s == Status.FLEX) & (u < flex_exit))):
                if k < room:
                    found[b, k] = i
                k += 1
        if k > room:
            overflow += 1
            k = room
        leaving, laid_off_here, quits_here, self_here, flex_here = _separate_candidates(
            found[b], k, key, status, firm, age_m, local, firm_non_private, firm_layoff, quit_rates)
        counts[b] = leaving
        layoffs += laid_off_here
        quits += quits_here
        self_exits += self_here
        flex_exits += flex_here
    if overflow > 0:
        return np.empty(0, dtype=np.int64), -1, -1, -1, -1
    return join_blocks(found, counts), layoffs, quits, self_exits, flex_exits


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
        largest = max(float(layoff_chance.max(initial=0.0)) + rates[0] * max(rates[1], 1.0) * max(rates[2], 1.0)
                      * max(rates[3], 1.0), self_exit, flex_exit)
        args = (model.streams.key(self.name, month, "separate"), people.status, people.firm, people.age_m, people.local,
                firms.non_private, layoff_chance, rates, self_exit, flex_exit)
        separating, layoffs, quits, self_exits, flex_exits = _draw_separations(*args, block_room(largest))
        if layoffs < 0:  # a block found more candidates than it had room for: room for every row
            separating, layoffs, quits, self_exits, flex_exits = _draw_separations(*args, BLOCK_ROWS)
        model.flows["quits"] += quits
        model.flows["layoffs_downsizing"] += layoffs
        model.flows["self_employed_exits"] += self_exits
        model.flows["flexible_exits"] += flex_exits
        model.separate(separating)
