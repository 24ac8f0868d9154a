"""Separations: quits and layoffs of unit employees, exits from self-employment
and flexible work.  Everybody who separates becomes a job seeker (UNEMP)."""

import numba
import numpy as np

from ..kernels import sized_pass
from ..status import Status
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


def _largest_quit_chance(rates: np.ndarray) -> float:
    """The largest quit chance anyone has (multipliers below 1 left out)."""
    return float(rates[0] * np.prod(np.maximum(rates[1:], 1.0)))


@sized_pass(ns_per_row=15)
@numba.njit(cache=True, parallel=True)
def separation_outcomes(idx, u, status, firm, age_m, local, firm_non_private, firm_layoff, quit_rates, self_exit,
                        flex_exit) -> np.ndarray:
    """What happens to each candidate row idx[j] with uniform u[j] (below the
    largest chance anyone has): 0 stays, 1 laid off (draw below their firm's
    layoff chance), 2 quits (the next quit-chance slice of the draw), 3
    self-employed exit, 4 flexible exit.  Only candidates read their firm:
    random reads into the firm table cost more than a row's own arithmetic."""
    out = np.zeros(len(idx), dtype=np.int8)
    for j in numba.prange(len(idx)):
        i, d = idx[j], u[j]
        s = status[i]
        if s == Status.UNIT:
            f = firm[i]
            layoff = firm_layoff[f]
            if d < layoff:
                out[j] = 1
            elif d < layoff + _quit_chance(age_m[i], local[i], firm_non_private[f], quit_rates):
                out[j] = 2
        elif s == Status.SELF:
            out[j] = 3 * np.int8(d < self_exit)
        elif s == Status.FLEX:
            out[j] = 4 * np.int8(d < flex_exit)
    return out


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
        model.expected_layoffs += float(np.sum(layoff_chance * size))
        largest_unit = float(layoff_chance.max(initial=0.0)) + _largest_quit_chance(rates)
        # One uniform per worker: candidates at the largest chance anyone has,
        # their fate decided by their own chances (separation_outcomes).
        idx, u = model.streams.rows_below(self.name, month, "separate", people.n, max(largest_unit, self_exit, flex_exit))
        outcome = separation_outcomes(idx, u, people.status, people.firm, people.age_m, people.local, firms.non_private,
                                      layoff_chance, rates, self_exit, flex_exit)
        _, layoffs, quits, self_exits, flex_exits = (int(c) for c in np.bincount(outcome, minlength=5))
        separating = idx[outcome > 0]
        model.flows["quits"] += quits
        model.flows["layoffs_downsizing"] += layoffs
        model.flows["self_employed_exits"] += self_exits
        model.flows["flexible_exits"] += flex_exits
        model.separate(separating)
