"""Labour relations: disputes, mediation, arbitration and labour inspection.

Disputes arise among unit employees each month (more often in firms that do
not comply with the minimum wage: wage arrears) and from a share of layoffs
(dismissals).  Every dispute goes first to mediation, whose success rate falls
when its caseload exceeds its capacity; disputes that mediation does not settle
go to arbitration, where each pending case closes in a month with a chance
that falls when the cases handled exceed capacity.  Employees also complain to
labour inspection (more often under wage arrears), a second such queue.
Capacities are set to the first month's caseload (the 2020 level), with the
2020 rates of the plan as the steady state, and grow at a trend rate; the rates
then come out of caseload against capacity.

Official definitions (as in the plan): mediation success rate = disputes
settled by mediation / disputes mediated; arbitration (inspection) closure
rate = cases closed / cases handled (pending at the start plus accepted).
"""

import numpy as np

from .base import Process


class LabourRelations(Process):
    name = "labour_relations"
    flows = {
        "disputes": "new labour disputes (rows)",
        "mediated": "disputes mediated",
        "mediation_settled": "disputes settled by mediation",
        "arbitration_pending": "arbitration cases pending at the start of the month",
        "arbitration_accepted": "disputes accepted for arbitration",
        "arbitration_closed": "arbitration cases closed",
        "inspection_pending": "inspection cases pending at the start of the month",
        "inspection_accepted": "inspection complaints accepted",
        "inspection_closed": "inspection cases closed",
    }

    def __init__(self, model):
        super().__init__(model)
        stocks = model.calibration.stocks
        self.dispute_rate = stocks("labour_relations.disputes_per_employee") / 12.0
        self.complaint_rate = stocks("labour_relations.complaints_per_employee") / 12.0
        self.arrears_2020 = self._arrears_exposure()
        # Monthly closure chance of a handled case at 2020 capacity, from the
        # steady state: with inflow a and pending P, q (P + a) = a and
        # 12a / (P + 12a) = r give q = 1 / (1 + 12 (1/r - 1)).
        self.closure = {
            name: 1.0 / (1.0 + 12.0 * (1.0 / stocks(f"labour_relations.{name}_closure_rate") - 1.0))
            for name in ("arbitration", "inspection")
        }
        self.capacity: dict[str, float] = {}  # solved from the first month's caseload, the 2020 level
        self.pending: dict[str, int] = {}  # cases (rows) pending
        self.expected_pending: dict[str, float] = {}  # the same queue fed by expected inflows: what congestion reads

    def _arrears_exposure(self) -> float:
        """Mean relative exposure of employees to wage arrears (1 where every firm
        complies), from the firms' sizes."""
        sizes, firms = self.model.firm_sizes(), self.model.firms
        employees = float(sizes.sum())
        if employees == 0:
            return 1.0
        weight = np.where(firms.complies_min_wage, 1.0, self.param("arrears_weight"))
        return float((sizes * weight).sum()) / employees

    def step(self, month: int) -> None:
        model, policy = self.model, self.model.policy
        rng = self.rng(month, "cases")
        employees = float(model.firm_sizes().sum())
        arrears = self._arrears_exposure() / self.arrears_2020
        # Expected, not drawn, layoffs: a closing firm row lays off all its rows
        # at once, so the drawn count is lumpier the coarser the scale, and the
        # capacity solved from the first month's caseload (and congestion after)
        # carried that noise: the arbitration closure rate fell from 94.3% at
        # scale 10 to 93.3% at scale 100 and 91.5% at scale 1000.
        layoffs = model.expected_layoffs
        expected = (self.dispute_rate * employees * arrears + self.param("dismissal_dispute_share") * layoffs)
        to_arbitration = expected * (1.0 - self._mediation_success(1.0))
        complaints_expected = self.complaint_rate * employees * arrears
        if not self.capacity:  # capacities at the 2020 caseloads (steady state)
            self.capacity["mediation"] = expected
            for name, inflow in (("arbitration", to_arbitration), ("inspection", complaints_expected)):
                q = self.closure[name]
                self.expected_pending[name] = inflow / q - inflow
                base = np.floor(self.expected_pending[name])  # whole cases, unbiased
                self.pending[name] = int(base + (rng.random() < self.expected_pending[name] - base))
                self.capacity[name] = inflow / q  # cases handled a month in the steady state
        growth = (1.0 + self.param("capacity_growth_annual")) ** ((month - model.calibration.baseline_month - 1) / 12.0)

        disputes = int(rng.poisson(expected))
        # Congestion acts through the expected caseload, so the rate does not
        # carry the month-to-month noise of the draw.
        load = self.capacity["mediation"] * growth * policy.mediation_capacity / max(expected, 1e-9)
        settled = int(rng.binomial(disputes, self._mediation_success(load)))
        model.flows["disputes"] += disputes
        model.flows["mediated"] += disputes
        model.flows["mediation_settled"] += settled

        complaints = int(rng.poisson(complaints_expected))
        expected_accepted = {"arbitration": expected * (1.0 - self._mediation_success(load)), "inspection": complaints_expected}
        for name, accepted, multiplier in (("arbitration", disputes - settled, policy.arbitration_capacity),
                                           ("inspection", complaints, policy.inspection_capacity)):
            pending = self.pending[name]
            handled = pending + accepted
            capacity = self.capacity[name] * growth * multiplier
            # Congestion acts through the expected caseload (the queue fed by
            # expected inflows), as in mediation: against the drawn caseload,
            # min(1, capacity / handled) would cut closures more, the fewer the
            # rows, i.e. the coarser the scale.
            expected_handled = self.expected_pending[name] + expected_accepted[name]
            closure = min(self.closure[name] * min(1.0, capacity / max(expected_handled, 1e-9)) ** self.param("congestion_elasticity"), 1.0)
            self.expected_pending[name] = expected_handled * (1.0 - closure)
            closed = int(rng.binomial(handled, closure))
            self.pending[name] = handled - closed
            model.flows[f"{name}_pending"] += pending
            model.flows[f"{name}_accepted"] += accepted
            model.flows[f"{name}_closed"] += closed

    def _mediation_success(self, capacity_over_load: float) -> float:
        rate = self.model.calibration.stocks("labour_relations.mediation_success_rate")
        return rate * min(1.0, capacity_over_load) ** self.param("congestion_elasticity")

    def baseline_flows(self) -> dict[str, float]:
        """One year of the 2020 steady state per unit of caseload: the flows behind
        the 2020 rows of the mediation, arbitration and inspection rates."""
        stocks = self.model.calibration.stocks
        flows = {"mediated": 12.0, "mediation_settled": 12.0 * stocks("labour_relations.mediation_success_rate")}
        for name, q in self.closure.items():
            flows[f"{name}_pending"] = 1.0 / q - 1.0
            flows[f"{name}_accepted"] = 12.0
            flows[f"{name}_closed"] = 12.0
        return flows
