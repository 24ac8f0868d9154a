"""Policy levers: what a scenario may change, and their dated schedules.

Every lever is declared once here with its type, allowed range, 2020 default,
unit, the mechanism it moves and the plan measure it stands for.  A scenario
gives a lever either a plain value (from the run's start), a table
`{from = "YYYY-MM", value = ...}` (a step from that month) or a table
`{path = [["YYYY-MM", value], ...]}` (linear interpolation between the
points; the 2020 default before the first point, the last value after the
last).  `Schedule.at(month)` gives the value in force; `policy_at` turns all
schedules into the `Policy` the mechanisms read that month.
"""

from dataclasses import dataclass, field, replace

from .policy import MinimumWagePolicy, Policy


@dataclass(frozen=True)
class Lever:
    name: str
    kind: type  # float or bool
    lo: float | None
    hi: float | None
    default: float | bool | None
    unit: str
    mechanism: str
    plan: str  # the plan measure (plan_measures.csv section) it stands for


LEVERS = {
    lever.name: lever
    for lever in (
        Lever("retirement_reform", bool, None, None, True, "on/off",
              "statutory retirement ages rise from 2025-01 (demography)", "四(二) gradual rise of the statutory retirement age"),
        Lever("platform_injury_protection", bool, None, None, False, "on/off",
              "platform workers covered against occupational injury (social insurance)", "专栏4 02 occupational-injury protection"),
        Lever("insurance_enforcement", float, 0.0, 10.0, 1.0, "x 2020 catch-up enrolment",
              "enrolment of uninsured employees (social insurance)", "二 enrolment drives, 专栏9 01 labour-use health checks"),
        Lever("employer_contribution_rate", float, 0.05, 0.40, None, "share of the wage (pension+UI+WI)",
              "employers' contribution burden slows or speeds catch-up enrolment (social insurance)", "contribution-rate cuts"),
        Lever("training_subsidy_rate", float, 0.0, 1.0, None, "share of course cost refunded",
              "training take-up and private trainers' capacity (training)", "专栏6 subsidised skills training"),
        Lever("training_volume", float, 0.0, 10.0, 1.0, "x 2020 take-up",
              "subsidised training places offered: take-up (training)", "专栏6 at least 100万 person-times a year"),
        Lever("training_capacity", float, 0.0, 10.0, 1.0, "x 2020 capacity",
              "training providers' capacity (training)", "专栏7 technician colleges and new technical schools"),
        Lever("high_skill_training", float, 0.0, 10.0, 1.0, "x 2020 take-up at intermediate level and above",
              "training towards senior-worker level and above (training)", "专栏6 20万 new high-skilled a year"),
        Lever("postdoc_quota", float, 0.0, 20000.0, None, "persons a year",
              "postdoctoral recruitment (talent)", "专栏5 02 5500 postdocs over 2021-2025"),
        Lever("mediation_capacity", float, 0.0, 10.0, 1.0, "x 2020 capacity", "dispute mediation (labour relations)", "专栏9"),
        Lever("arbitration_capacity", float, 0.0, 10.0, 1.0, "x 2020 capacity", "arbitration (labour relations)", "专栏9"),
        Lever("inspection_capacity", float, 0.0, 10.0, 1.0, "x 2020 capacity", "labour inspection (labour relations)", "专栏9"),
        Lever("ecard_promotion", float, 0.0, 10.0, 1.0, "x 2020 adoption effort",
              "electronic social security card adoption (public services)", "六 electronic card promotion"),
        Lever("matching_efficiency", float, 0.1, 5.0, 1.0, "x 2020 matching efficiency",
              "HR-service matching of job seekers and vacancies (matching)", "六(六) HR service industry"),
        Lever("hard_to_employ_placement", float, 0.0, 100.0, 0.0, "10k persons a year beyond 2020 practice",
              "targeted placement of the long-term unemployed (matching)", "专栏3 02 7万 hard-to-employ a year"),
        Lever("graduate_placement", float, 0.0, 1.0, 0.0, "monthly share of job-seeking graduates placed",
              "placement of college graduates looking for work (matching)", "专栏3 01 all graduates who want a job placed"),
        Lever("startup_support", float, 0.0, 100.0, 0.0, "10k persons a year beyond 2020 practice",
              "start-up loans and training: job seekers starting a business (matching)", "专栏3 04 3万 loans + 3万 trainees a year"),
        Lever("collective_bargaining", float, 0.0, 1.0, None, "share of employees in firms that bargain",
              "wage growth in covered firms and fewer wage disputes (wages, labour relations)", "专栏11 03 collective bargaining"),
        Lever("wage_guideline", float, -0.1, 0.3, None, "recommended nominal raise a year (基准线)",
              "January raises of unit employees move towards the guideline by `wages.guideline_pass_through` (wages); "
              "default none: raises follow the macro wage growth", "七 工资指导线 (wage guideline)"),
        Lever("contribution_base_floor", float, 0.3, 1.0, 0.6, "share of last year's social average wage",
              "lowest contribution base (funds)", "四(四) contribution bases: the 60% floor of 国办发〔2019〕13号"),
        Lever("contribution_base_ceiling", float, 1.0, 5.0, 3.0, "share of last year's social average wage",
              "highest contribution base (funds)", "四(四) contribution bases: the 300% ceiling of 国办发〔2019〕13号"),
        Lever("base_compliance", float, 0.5, 2.0, 1.0, "x 2020 share of wages reported as the base",
              "under-reported contribution bases (funds)", "四(五) 夯实缴费基数, fund supervision"),
        Lever("pension_indexation", float, -0.05, 0.2, None, "yearly rise of pensions in payment",
              "January rise of employee pensions in payment (funds); default the dated path of calibration/macro.toml",
              "四(一) pension adjustment mechanism"),
        Lever("pension_fiscal_subsidy", float, 0.0, 5000.0, None, "100 million yuan a year",
              "fiscal subsidy to the employee pension fund (funds); default the 2020 subsidy", "四(四) fiscal support"),
        Lever("state_capital_transfer", float, 0.0, 5000.0, 0.0, "100 million yuan a year",
              "returns of state capital transferred to the pension fund (funds)", "四(四) 划转国有资本充实社保基金"),
    )
}
# Macro conditions: not policy levers but assumptions a scenario makes about
# the economy around the policy.  Their default is the dated, cited path of
# `calibration/macro.toml` (realised years from published figures, a stated
# projection after); a scenario's `[assumptions]` table replaces that path.
ASSUMPTIONS = {
    assumption.name: assumption
    for assumption in (
        Lever("wage_growth_private", float, -0.2, 0.5, None, "nominal growth a year",
              "growth of the wage for the same job in private units and own-account work (wages)", "macro condition"),
        Lever("wage_growth_non_private", float, -0.2, 0.5, None, "nominal growth a year",
              "growth of the wage for the same job in non-private units (wages)", "macro condition"),
        Lever("labour_demand_growth", float, -0.2, 0.2, None, "growth a year",
              "growth of the firms' desired unit employment (labour demand)", "macro condition"),
        Lever("net_migration", float, -200.0, 300.0, None, "10k persons a year",
              "arrivals from other provinces beyond those who leave (demography)", "macro condition"),
        Lever("college_intake", float, 0.0, 200.0, None, "10k persons a year",
              "first-year students of the province's colleges each July, residents and students from other "
              "provinces (demography)", "macro condition"),
        Lever("pension_pooling_transfer", float, -5000.0, 5000.0, None, "100 million yuan a year",
              "net transfer to the employee pension fund from the central adjustment fund and national pooling "
              "(funds; negative: paid out)", "macro condition"),
    )
}
# Levers whose default is a dated path of calibration/macro.toml (a policy
# that changes by year, published up to 2022), read like a macro condition.
DATED_DEFAULTS = ("pension_indexation",)
DECLARED = {**LEVERS, **ASSUMPTIONS}  # everything a scenario may schedule
POLICY_FIELD = {"insurance_enforcement": "enforcement"}  # lever name -> Policy field, where they differ


@dataclass(frozen=True)
class Schedule:
    """A lever's dated values: points (month, value); 'step' or 'linear' between them."""

    points: tuple[tuple[int, float | bool], ...]
    mode: str = "step"

    def at(self, month: int, default):
        if not self.points or month < self.points[0][0]:
            return default
        if self.mode == "step" or len(self.points) == 1:
            return [value for start, value in self.points if start <= month][-1]
        for (m0, v0), (m1, v1) in zip(self.points, self.points[1:]):
            if m0 <= month <= m1:
                return v0 + (v1 - v0) * (month - m0) / (m1 - m0)
        return self.points[-1][1]

    def as_data(self) -> dict:
        from .timeline import format_month

        return {"mode": self.mode, "points": [[format_month(m), v] for m, v in self.points]}


@dataclass(frozen=True)
class Levers:
    """All of a scenario's lever (and macro assumption) schedules, and the minimum-wage rule."""

    schedules: dict[str, Schedule] = field(default_factory=dict)
    minimum_wage: MinimumWagePolicy = field(default_factory=MinimumWagePolicy)

    def policy_at(self, month: int) -> Policy:
        values = {
            POLICY_FIELD.get(name, name): schedule.at(month, DECLARED[name].default)
            for name, schedule in self.schedules.items()
        }
        return replace(Policy(minimum_wage=self.minimum_wage), **values)
