"""The government agent: applies the run's policy settings (`sim.policy`) to
the model each month."""

import mesa
import numpy as np

from .policy import Policy


class Government(mesa.Agent):
    """Sets the minimum-wage tiers from the run's policy (one agent per run)."""

    def __init__(self, model, policy: Policy, tiers_2020: np.ndarray):
        super().__init__(model)
        self.policy = policy
        self.tiers_2020 = np.asarray(tiers_2020, dtype=np.float32)
        model.minimum_wage = self.tiers_2020.copy()

    def set_minimum_wage(self, month: int) -> None:
        rule = self.policy.minimum_wage
        if rule.rule == "fixed":
            in_force = [tiers for start, tiers in rule.schedule if start <= month]
            if in_force:
                self.model.minimum_wage = np.asarray(in_force[-1], dtype=np.float32)
            return
        if rule.first_adjustment is None or month < rule.first_adjustment:
            return
        if (month - rule.first_adjustment) % rule.interval_months:
            return
        previous_year_wage = self.model.annual_average_wage[month // 12 - 1]
        share = rule.share.at(month, None) if hasattr(rule.share, "at") else rule.share
        if share is None:
            share = self.model.derived["minimum_wage_ratio_2020"]
        tier1 = share * previous_year_wage / 12.0
        # Published standards are whole yuan; rounding also keeps a re-set at an
        # unchanged level from being a rise of a fraction of a fen.
        self.model.minimum_wage = np.round(self.tiers_2020.astype(np.float64) * (tier1 / float(self.tiers_2020[0]))).astype(np.float32)
