"""LabourModel: the province's people and firms, stepped month by month.

A `mesa.Model` owns time, the seeded streams, the population arrays and the
institutional agents (the government).  `step()` runs the processes in the
fixed order of `sim.processes.STEP_ORDER` and records the indicators.
"""

import time
from collections import defaultdict

import mesa
import numpy as np

from .calibration import Calibration
from .indicators import Recorder
from .levers import Levers
from .memory import keep_freed_memory, return_freed_memory
from .government import Government
from .policy import Policy
from .population import build_population
from .processes import STEP_ORDER
from .processes.demography import REFORM_START, months_past_statutory_age
from .status import Status, is_employed
from .timeline import parse_month
from .streams import Streams


class LabourModel(mesa.Model):
    def __init__(
        self,
        *,
        seed: np.random.SeedSequence | int,
        scale: float = 100.0,
        policy: "Policy | Levers | None" = None,
        calibration: Calibration | None = None,
        population: tuple | None = None,
    ):
        """`population`: the (people, firms, derived) that `LabourModel.build`
        gives for this seed, scale and calibration, to start from instead of
        building it again (scenarios of one replicate share it); it is used as
        it is, not copied."""
        keep_freed_memory()
        seed = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.streams = Streams(seed)
        # Mesa's own generator (unused by the processes) is seeded from the run's stream too.
        super().__init__(rng=int(self.streams.generator("mesa", 0).integers(2**31)))
        self.scale = float(scale)
        # A constant Policy, or a scenario's dated Levers read afresh each month.
        self.levers = policy if isinstance(policy, Levers) else None
        self.calibration = calibration or Calibration.load()
        baseline = self.calibration.baseline_month
        self.policy = self.levers.policy_at(baseline + 1) if self.levers else (policy or Policy())
        self.month = baseline
        self.flows: defaultdict[str, float] = defaultdict(float)
        # Layoffs the month's chances imply (persons in rows, before the draws):
        # what dispute caseloads read, so congestion does not carry the lumpy
        # draw of whole firm rows closing (see labour_relations).
        self.expected_layoffs = 0.0
        self.ledger: list[dict] = []
        self.wage_index = np.ones(2)  # offered-wage index of private (0) and non-private (1) units
        self._firm_sizes: np.ndarray | None = None
        self.timings: dict[str, float] | None = None  # seconds per process, when a benchmark asks for them
        if population is None:
            population = self.build(seed, self.scale, self.calibration)
        self.people, self.firms, self.derived = population
        self.government = Government(self, self.policy, self.calibration.stocks("wages.minimum_wage_tiers"))
        # Published social average wages by year: 2019 from the data, later years simulated.
        # Set before the processes are built: the funds open their accounts on last year's average.
        self.annual_average_wage = {baseline // 12 - 1: self.calibration.stocks("wages.average_previous_year")}
        self.processes = [process(self) for process in STEP_ORDER]
        self.recorder = Recorder()
        baseline = next(p for p in self.processes if p.name == "labour_relations").baseline_flows()
        self.recorder.record(self, self.month, baseline, simulated=False)
        self.annual_average_wage[self.month // 12] = self.recorder.annual_average_wage(self.month // 12)

    @staticmethod
    def build(seed: np.random.SeedSequence | int, scale: float, calibration: Calibration) -> tuple:
        """The end-of-baseline population (people, firms, derived) of a model
        with this seed, scale and calibration: it depends on nothing else (no
        lever), so the scenarios of a replicate can share one build."""
        seed = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        population = build_population(calibration, float(scale),
                                      Streams(seed).generator("population", calibration.baseline_month))
        return_freed_memory()
        return population

    # -- the month ---------------------------------------------------------------
    def step(self) -> None:
        self.month += 1
        self.flows = defaultdict(float)
        self.expected_layoffs = 0.0
        if self.levers is not None:
            self.policy = self.levers.policy_at(self.month)
        if self.timings is None:
            for process in self.processes:
                process.step(self.month)
            self.recorder.record(self, self.month, self.flows)
        else:
            for process in self.processes:
                start = time.perf_counter()
                process.step(self.month)
                self.timings[process.name] = self.timings.get(process.name, 0.0) + time.perf_counter() - start
            start = time.perf_counter()
            self.recorder.record(self, self.month, self.flows)
            self.timings["indicators"] = self.timings.get("indicators", 0.0) + time.perf_counter() - start
        if self.month % 12 == 11:
            year = self.month // 12
            self.annual_average_wage[year] = self.recorder.annual_average_wage(year)

    def run_until(self, last_month: int, progress=None) -> None:
        while self.month < last_month:
            self.step()
            if progress is not None:
                progress(1)

    def condition(self, name: str) -> float:
        """A macro condition this month (`sim.levers.ASSUMPTIONS`): the scenario's
        assumption where it sets one, else the path of calibration/macro.toml."""
        value = getattr(self.policy, name)
        return self.calibration.macro[name].at(self.month) if value is None else value

    # -- shared operations on people -------------------------------------------
    def remove_people(self, idx: np.ndarray) -> None:
        """People idx leave the province (death or emigration): their row is
        kept (stable ids) but marked absent, and their memberships end."""
        people = self.people
        self.leave_firm(idx)
        people.status[idx] = Status.ABSENT
        for name, column in people.columns.items():
            if column.dtype is np.bool_ and name not in ("female", "urban", "local", "cadre"):
                people[name][idx] = False

    def leave_firm(self, idx: np.ndarray) -> None:
        """People idx no longer work for a firm (their status is set by the caller)."""
        people = self.people
        leaving = idx[people.firm[idx] >= 0]
        if self._firm_sizes is not None:
            # one decrement per leaver (ufunc.at), not a count over every firm
            np.subtract.at(self._firm_sizes, people.firm[leaving], np.float32(1.0))
        people.firm[leaving] = -1
        people.sector[leaving] = -1

    def join_firms(self, idx: np.ndarray, firm: np.ndarray) -> None:
        """People idx start working for firms `firm` (their status is set by the caller)."""
        self.people.firm[idx] = firm
        self.people.sector[idx] = self.firms.sector[firm]
        if self._firm_sizes is not None:
            self.firm_sizes()  # grow to new firm rows first
            np.add.at(self._firm_sizes, firm, np.float32(1.0))

    def reform_in_force(self) -> bool:
        """Whether the 2025 retirement-age reform applies this month."""
        return bool(self.policy.retirement_reform and self.month >= parse_month(REFORM_START))

    def months_past_statutory_age(self, idx: np.ndarray) -> np.ndarray:
        """Months since each person in idx reached their statutory retirement age (negative before it)."""
        return months_past_statutory_age(self.people, idx, self.month, self.reform_in_force())

    def past_statutory_age(self, idx: np.ndarray) -> np.ndarray:
        """Whether each person in idx is at or past their statutory retirement age this month."""
        return self.months_past_statutory_age(idx) >= 0

    def retire(self, idx: np.ndarray) -> None:
        """People idx retire; the urban employed among them are natural attrition."""
        people = self.people
        self.flows["retirements"] += len(idx)
        self.flows["retirements_employed_urban"] += int(np.count_nonzero(people.urban[idx] & is_employed(people.status[idx])))
        self.leave_firm(idx)
        people.status[idx] = Status.RETIRED

    def separate(self, idx: np.ndarray) -> None:
        """People idx (distinct rows) lose their job or business: they look for
        work, or retire if they are past the statutory age (natural attrition)."""
        people = self.people
        past = self.past_statutory_age(idx)
        self.retire(idx[past])
        searching = idx[~past]
        self.leave_firm(searching)
        people.sector[idx] = -1
        people.status[searching] = Status.UNEMP
        people.spell_m[idx] = 0

    def firm_persons(self) -> np.ndarray:
        """Employees (persons) of each of the firms a firm row stands for: the
        size that size-dependent rules read, the same at every scale."""
        return self.firm_sizes() * np.float32(self.scale) / self.firms.represents

    def firm_sizes(self) -> np.ndarray:
        """Unit employees (person rows) of each firm row; read-only.

        Counted once and then kept up to date by `leave_firm` and `join_firms`,
        so the processes of a month do not recount tens of millions of rows."""
        if self._firm_sizes is None:
            employees = self.people.status == Status.UNIT
            self._firm_sizes = np.bincount(self.people.firm[employees], minlength=self.firms.n).astype(np.float32)
        elif len(self._firm_sizes) < self.firms.n:  # new firms start empty
            self._firm_sizes = np.concatenate([self._firm_sizes, np.zeros(self.firms.n - len(self._firm_sizes), np.float32)])
        return self._firm_sizes
