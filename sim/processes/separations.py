"""Separations: quits and layoffs of unit employees, exits from self-employment
and flexible work.  Everybody who separates becomes a job seeker (UNEMP)."""

import numpy as np

from ..status import Status
from .base import Process


def quit_probability(params, age_m: np.ndarray, local: np.ndarray, non_private: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Monthly chance that each unit employee quits into job search: the base
    rate, higher for the young and for migrants, lower in non-private units."""
    quit_p = np.full(len(age_m), params("separations.quit_rate"), dtype=dtype)
    quit_p[age_m < 25 * 12] *= params("separations.young_multiplier")
    quit_p[~local] *= params("separations.migrant_multiplier")
    quit_p[non_private] *= params("separations.non_private_multiplier")
    return quit_p


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
        u = self.uniform(month, "separate")
        status = people.status
        employees = np.flatnonzero(status == Status.UNIT)
        firm = people.firm[employees]

        quit_p = quit_probability(model.calibration.params, people.age_m[employees], people.local[employees],
                                  firms.non_private[firm])

        size = model.firm_sizes()
        excess = np.maximum(size - firms.target, 0.0)
        shed_p = model.calibration.params("labour_demand.excess_shed_share") * excess / np.maximum(size, 1.0)
        layoff_p = shed_p[firm]

        draw = u[employees]
        laid_off = employees[draw < layoff_p]
        quits = employees[(draw >= layoff_p) & (draw < layoff_p + quit_p)]
        leaves_self = (status == Status.SELF) & (u < self.param("self_employed_exit_rate"))
        leaves_flex = (status == Status.FLEX) & (u < self.param("flexible_exit_rate"))

        model.flows["quits"] += len(quits)
        model.flows["layoffs_downsizing"] += len(laid_off)
        model.flows["self_employed_exits"] += int(np.count_nonzero(leaves_self))
        model.flows["flexible_exits"] += int(np.count_nonzero(leaves_flex))
        separating = leaves_self | leaves_flex
        separating[laid_off] = True
        separating[quits] = True
        model.separate(separating)
