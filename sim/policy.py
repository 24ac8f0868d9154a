"""Policy settings of a run (the government agent that applies them is in
`sim.government`, so that validating a scenario does not import Mesa).

The minimum wage has four area tiers.  Two rules are supported:

* `fixed`: the tiers in force are those of the latest entry of a dated
  schedule (the 2020 tiers until the first entry);
* `share_of_average_wage`: at each adjustment month the tier-1 minimum is set
  to `share` of the simulated social average wage of the previous calendar
  year (monthly), the other tiers keeping their 2020 ratios to tier 1; share
  "2020" holds the 2020 ratio.  Zhejiang re-sets its minimum wage every two to
  four years (2014-08, 2017-12, 2021-08).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MinimumWagePolicy:
    rule: str = "fixed"  # "fixed" | "share_of_average_wage"
    schedule: tuple[tuple[int, tuple[float, ...]], ...] = ()  # (from month, tiers) for "fixed"
    share: object = None  # a number, None (hold the 2020 ratio) or a levers.Schedule read at each adjustment
    first_adjustment: int | None = None  # month index
    interval_months: int = 36


@dataclass(frozen=True)
class Policy:
    """The policy settings a run's mechanisms read.  Defaults are the 2020
    policies; multipliers are relative to the 2020 level (1.0)."""

    minimum_wage: MinimumWagePolicy = field(default_factory=MinimumWagePolicy)
    retirement_reform: bool = True  # the national reform of statutory retirement ages from 2025-01
    platform_injury_protection: bool = False  # occupational-injury protection for platform workers
    enforcement: float = 1.0  # insurance enforcement and enrolment drives (catch-up enrolment)
    employer_contribution_rate: float | None = None  # pension + UI + WI employer share; None: 2020 statutory
    training_subsidy_rate: float | None = None  # None: the 2020 rate in calibration/params.toml
    training_volume: float = 1.0  # subsidised training take-up
    training_capacity: float = 1.0  # training providers' capacity
    postdoc_quota: float | None = None  # persons a year; None: the 2020 recruitment
    mediation_capacity: float = 1.0
    arbitration_capacity: float = 1.0
    inspection_capacity: float = 1.0
    ecard_promotion: float = 1.0  # electronic-card promotion effort
    high_skill_training: float = 1.0  # take-up of training at intermediate level and above
    matching_efficiency: float = 1.0  # HR-service matching efficiency
    hard_to_employ_placement: float = 0.0  # extra placements of the long-term unemployed, 10k persons a year
    graduate_placement: float = 0.0  # monthly share of job-seeking graduates placed
    startup_support: float = 0.0  # extra business start-ups of job seekers, 10k persons a year
    collective_bargaining: float | None = None  # share of employees covered; None: the 2020 coverage
    wage_guideline: float | None = None  # recommended raise a year; None: raises follow the macro wage growth
    contribution_base_floor: float = 0.6  # share of last year's social average wage
    contribution_base_ceiling: float = 3.0
    base_compliance: float = 1.0  # x 2020 share of wages reported as the base
    pension_indexation: float | None = None  # yearly rise; None: the path of calibration/macro.toml
    pension_fiscal_subsidy: float | None = None  # 100 million yuan a year; None: the 2020 subsidy
    state_capital_transfer: float = 0.0  # 100 million yuan a year
    # Macro conditions (sim.levers.ASSUMPTIONS); None: the path of calibration/macro.toml.
    wage_growth_private: float | None = None
    wage_growth_non_private: float | None = None
    labour_demand_growth: float | None = None
    net_migration: float | None = None  # 10k persons a year
    college_intake: float | None = None  # 10k persons a year
    pension_pooling_transfer: float | None = None  # 100 million yuan a year
