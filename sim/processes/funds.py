"""Social insurance funds: contributions, benefits and the balances of the
employee pension fund and the unemployment insurance fund.

Each month, on the state the labour-market processes leave:

* **Contributions.**  Unit employees who are members of the employee pension
  pay on their base: the wage as reported (`funds.base_reporting` of it; the
  夯实缴费基数 measure raises it) clipped to the floor and ceiling, 60% and
  300% of the previous year's social average wage (国办发〔2019〕13号 第三条;
  both bounds are levers).  Employer and individual rates are the 2020 rates
  (calibration `contributions.*`); the `employer_contribution_rate` lever
  scales the employer's rates in proportion.  Own-account and flexible
  members pay 20% (12 points pooled, 8 to the personal account,
  国发〔2005〕38号) on a base of `funds.flexible_base_share` of the average
  wage.  Unit employees insured against unemployment pay its two rates on the
  same base.
* **Pensions.**  Pensions in payment rise each January by the indexation of
  the year (the `pension_indexation` lever; the published national rises
  4.5% in 2021 and 4% in 2022).  A new pensioner's pension follows the
  basic-plus-personal-account formula of 国发〔2005〕38号: the basic pension
  is the average of last year's social average monthly wage and the person's
  indexed wage, times 1% per year of contributions; the personal pension is
  the account (8% of the base for every month contributed, the account's
  interest taken as keeping pace with wages) divided by 139, the divisor at
  age 60.  The person's indexed wage is their last wage relative to the
  social average, clipped to 0.6-3 (the career average is not tracked).
* **Unemployment benefits.**  A unit employee insured against unemployment
  who loses the job and has contributed for a year or more draws the benefit
  for 12, 18 or 24 months (contributions of 1-5, 5-10 and 10+ years, 社会保险法
  第四十六条) while unemployed, at `funds.benefit_share_of_minimum` of the
  minimum wage of their tier (浙江省失业保险条例: 70-80% of the minimum).
  Finding work ends the entitlement.  Beside benefits the fund spends
  `funds.unemployment_other_spending` of its contributions on job-retention
  refunds (稳岗返还) and skills subsidies.
* **Funds.**  Income is contributions, interest on the balance, the fiscal
  subsidy and transfers of state capital (levers, 亿元 a year); the national
  pooling transfer (全国统筹 调剂, a dated net flow, 亿元 a year) is booked on
  its own; expenditure is the pensions (benefits) paid.  The balance moves by
  income plus the transfer minus expenditure, month by month, so the funds
  are stock-flow consistent by construction.  The opening balances (end-2020,
  or end-2015 for the run from 2015) are months of the opening expenditure (assumptions: the Zhejiang fund accounts
  were not found).

Money is summed over rows in yuan and kept per row (x scale in the
indicators), like every count of the model, so it does not depend on the
scale.
"""

import numba
import numpy as np

from ..kernels import block, block_count
from ..status import Status
from ..table import Column
from .base import Process

PERSON_COLUMNS = {
    "contribution_months": Column(np.int16, 0, "months of employee-pension contributions (pension formula, benefit duration)"),
    "pension": Column(np.float32, 0.0, "employee pension in payment, yuan a month (0: none yet)"),
    "benefit_left": Column(np.int8, 0, "months of unemployment benefit left in the current spell"),
}

ACCOUNT_DIVISOR_60 = 139.0  # months: the personal-account divisor at retirement age 60 (国发〔2005〕38号 附表)
BASIC_PER_YEAR = 0.01  # basic pension per year of contributions (国发〔2005〕38号)
ACCOUNT_RATE = 0.08  # individual contribution credited to the personal account
FLEXIBLE_RATE = 0.20  # own-account and flexible members' rate (国发〔2005〕38号)
# Unemployment benefit months by years contributed (社会保险法 第四十六条).
BENEFIT_MONTHS = ((10 * 12, 24), (5 * 12, 18), (12, 12))

INIT_CHUNK = 1 << 22  # rows per chunk when the opening records are set (the draws are the same as in one call)

# Sums of the month's pass, in this order (yuan per row, or rows).
SUMS = ("employer_pension", "individual_pension", "flexible_pension", "unemployment_contributions", "pensions_paid",
        "benefits_paid", "pension_contributors", "pensioners", "benefit_recipients", "new_pensions")


@numba.njit(cache=True)
def contribution_base(wage, average_monthly, floor_share, ceiling_share, reporting=1.0):
    """The contribution base: the reported wage clipped to `floor_share` and
    `ceiling_share` of last year's social average monthly wage
    (国办发〔2019〕13号: 60% and 300%).  Scalars or arrays; the month's pass
    calls it per row."""
    return np.minimum(np.maximum(wage * reporting, floor_share * average_monthly), ceiling_share * average_monthly)


@numba.njit(cache=True)
def new_pension(months, relative_wage, average_monthly):
    """Monthly pension at retirement (国发〔2005〕38号): basic pension
    average x (1 + indexed wage) / 2 x 1% per year, plus the personal account
    (8% of the base each month contributed) over the divisor 139.  The
    indexed wage is clipped to the base's bounds, 0.6-3.  Scalars or arrays;
    the month's pass calls it per row."""
    relative = np.minimum(np.maximum(relative_wage, 0.6), 3.0)
    basic = average_monthly * (1.0 + relative) / 2.0 * BASIC_PER_YEAR * months / 12.0
    personal = ACCOUNT_RATE * relative * average_monthly * months / ACCOUNT_DIVISOR_60
    return basic + personal


@numba.njit(cache=True)
def _benefit_months(contributed: int) -> int:
    for least, months in BENEFIT_MONTHS:
        if contributed >= least:
            return months
    return 0


@numba.njit(cache=True, parallel=True)
def _month(status, wage, tier, pension_employee, pension_retiree, unemployment_insured, contribution_months, pension,
           benefit_left, average_monthly, floor_share, ceiling_share, reporting, flexible_base, rates, indexation,
           benefits_by_tier, write=True):
    """One pass over the rows: contributions, pensions and benefits paid, and
    the state they change (months contributed, pensions set and indexed,
    benefit months; left as they are when `write` is false, to read the
    opening accounts).  rates: employer and individual pension, employer and
    individual unemployment.  Returns the sums of SUMS, added in row order
    within each block of BLOCK_ROWS and then block by block, so the result
    does not depend on the number of threads."""
    n = len(status)
    blocks = block_count(n)
    partial = np.zeros((blocks, len(SUMS)), dtype=np.float64)
    er_pe, ee_pe, er_ui, ee_ui = rates[0], rates[1], rates[2], rates[3]
    flexible = FLEXIBLE_RATE * flexible_base
    for b in numba.prange(blocks):
        # Each sum in a scalar of its own (kept in a register), added in row order.
        employer = individual = flexible_paid = unemployment = pensions = benefits = 0.0
        contributors = pensioners = recipients = new = 0
        lo, hi = block(b, n)  # views of the block, indexed from 0 (sim.kernels)
        status_b, wage_b, tier_b = status[lo:hi], wage[lo:hi], tier[lo:hi]
        employee_b, retiree_b, insured_b = pension_employee[lo:hi], pension_retiree[lo:hi], unemployment_insured[lo:hi]
        months_b, pension_b, left_b = contribution_months[lo:hi], pension[lo:hi], benefit_left[lo:hi]
        for i in range(hi - lo):
            s = status_b[i]
            if s == Status.ABSENT:
                continue
            if retiree_b[i]:
                if pension_b[i] == 0.0:  # retired this month: the pension is set
                    paid = np.float32(new_pension(float(months_b[i]), wage_b[i] / average_monthly,
                                                  average_monthly))
                    new += 1
                else:
                    paid = np.float32(pension_b[i] * indexation)
                if write:
                    pension_b[i] = paid
                pensions += paid
                pensioners += 1
                continue
            contributed = months_b[i]
            if employee_b[i]:
                if s == Status.UNIT:
                    base = contribution_base(float(wage_b[i]), average_monthly, floor_share, ceiling_share, reporting)
                    employer += er_pe * base
                    individual += ee_pe * base
                    contributors += 1
                    contributed = min(contributed + 1, 32767)
                    if insured_b[i]:
                        unemployment += (er_ui + ee_ui) * base
                elif (s == Status.SELF) | (s == Status.FLEX):
                    flexible_paid += flexible
                    contributors += 1
                    contributed = min(contributed + 1, 32767)
            left = left_b[i]
            if s == Status.UNEMP:
                if insured_b[i] & (left == 0):  # lost an insured job this month
                    left = _benefit_months(contributed)
                if left > 0:
                    benefits += benefits_by_tier[tier_b[i]]
                    recipients += 1
                    left -= 1
            else:
                left = 0
            if write:
                months_b[i] = contributed
                left_b[i] = left
        partial[b, 0], partial[b, 1], partial[b, 2], partial[b, 3] = employer, individual, flexible_paid, unemployment
        partial[b, 4], partial[b, 5] = pensions, benefits
        partial[b, 6], partial[b, 7], partial[b, 8], partial[b, 9] = contributors, pensioners, recipients, new
    return partial.sum(axis=0)


class Funds(Process):
    name = "funds"
    person_columns = PERSON_COLUMNS
    flows = {
        "pension_fund_contributions": "employee-pension contributions (employers, employees, flexible members), yuan",
        "pension_fund_other_income": "interest, fiscal subsidy and state-capital transfers to the pension fund, yuan",
        "pension_fund_transfer": "national pooling net transfer to the pension fund (negative: paid out), yuan",
        "pension_fund_expenditure": "employee pensions paid, yuan",
        "unemployment_fund_income": "unemployment contributions and interest, yuan",
        "unemployment_fund_expenditure": "unemployment benefits paid, job-retention refunds and skills subsidies, yuan",
        "new_pensions": "pensions set for new pensioners",
    }

    def __init__(self, model):
        super().__init__(model)
        self._initialise_people()
        opening = self._pass(model.month, indexation=1.0, dry=True)
        ui_spending = opening["benefits_paid"] + self.param("unemployment_other_spending") * opening["unemployment_contributions"]
        self.balance = {
            "pension": self._stock("pension_fund_months") * opening["pensions_paid"],
            "unemployment": self._stock("unemployment_fund_months") * ui_spending,
        }
        self._publish(opening, ui_spending)

    def _stock(self, key: str) -> float:
        return float(self.model.calibration.stocks(f"funds.{key}"))

    def _initialise_people(self) -> None:
        """The built population's contribution records, pensions and benefits
        (assumptions, as the individual records are not public): members have
        contributed `funds.contribution_density` of the months since age 20;
        pensioners draw the 2020 average pension; the 2020 number of benefit
        recipients, drawn from the unemployed, have a uniformly spread 1-12
        months of benefit left."""
        model, people = self.model, self.model.people
        rng = self.rng(model.month, "initial records")
        density = self._stock("contribution_density")
        for start in range(0, people.n, INIT_CHUNK):  # in chunks: whole-population float64 temporaries cost GBs
            rows = slice(start, min(start + INIT_CHUNK, people.n))
            since_20 = np.maximum(people.age_m[rows].astype(np.float64) - 20 * 12, 0.0)
            months = np.minimum(np.floor(since_20 * density + rng.random(rows.stop - rows.start)), 32767)
            members = people.pension_employee[rows] | people.pension_retiree[rows]
            people.contribution_months[rows] = np.where(members, months, 0).astype(np.int16)
        people.pension[:] = 0.0
        people.pension[people.pension_retiree] = np.float32(model.calibration.stocks("funds.average_pension"))
        unemployed = np.flatnonzero(people.status == Status.UNEMP)
        wanted = self._stock("unemployment_benefit_recipients") / model.scale
        count = min(int(np.floor(wanted + rng.random())), len(unemployed))  # whole rows, unbiased
        drawing = rng.choice(unemployed, size=count, replace=False)
        people.benefit_left[:] = 0
        people.benefit_left[drawing] = (1 + np.floor(rng.random(count) * 12)).astype(np.int8)

    def _rates(self) -> np.ndarray:
        """Employer and individual pension rates, employer and individual
        unemployment rates: the 2020 rates, the employer's scaled in proportion
        when the `employer_contribution_rate` lever sets the total employer
        burden (pension + unemployment + work injury)."""
        stocks = self.model.calibration.stocks
        er_pe, er_ui = stocks("contributions.pension_employer"), stocks("contributions.unemployment_employer")
        burden_2020 = er_pe + er_ui + stocks("contributions.work_injury_employer")
        lever = self.model.policy.employer_contribution_rate
        factor = 1.0 if lever is None else lever / burden_2020
        return np.array([er_pe * factor, stocks("contributions.pension_employee"), er_ui * factor,
                         stocks("contributions.unemployment_employee")], dtype=np.float64)

    def _pass(self, month: int, indexation: float, dry: bool = False) -> dict[str, float]:
        """The month's sums (SUMS); `dry` leaves the state as it is (the
        opening accounts are read from the built population)."""
        model, people, policy = self.model, self.model.people, self.model.policy
        average = float(model.annual_average_wage[month // 12 - 1]) / 12.0
        reporting = min(1.0, self.param("base_reporting") * policy.base_compliance)
        benefits = (self.param("benefit_share_of_minimum") * model.minimum_wage).astype(np.float64)
        sums = _month(people.status, people.wage, people.tier, people.pension_employee, people.pension_retiree,
                      people.unemployment_insured, people.contribution_months, people.pension, people.benefit_left,
                      average, policy.contribution_base_floor, policy.contribution_base_ceiling, reporting,
                      self.param("flexible_base_share") * average, self._rates(), indexation, benefits, not dry)
        return dict(zip(SUMS, (float(v) for v in sums)))

    def step(self, month: int) -> None:
        model, policy = self.model, self.model.policy
        indexation = 1.0 + model.condition("pension_indexation") if month % 12 == 0 else 1.0  # January
        sums = self._pass(month, indexation)
        scale = model.scale
        interest = self.param("interest_rate") / 12.0
        per_row = 1e8 / 12.0 / scale  # 亿元 a year -> yuan a month per row
        contributions = sums["employer_pension"] + sums["individual_pension"] + sums["flexible_pension"]
        subsidy = policy.pension_fiscal_subsidy
        if subsidy is None:
            subsidy = self._stock("pension_fiscal_subsidy")
        other = (interest * self.balance["pension"] + subsidy * per_row
                 + policy.state_capital_transfer * per_row)
        transfer = model.condition("pension_pooling_transfer") * per_row
        self.balance["pension"] += contributions + other + transfer - sums["pensions_paid"]
        ui_income = sums["unemployment_contributions"] + interest * self.balance["unemployment"]
        ui_spending = sums["benefits_paid"] + self.param("unemployment_other_spending") * sums["unemployment_contributions"]
        self.balance["unemployment"] += ui_income - ui_spending
        flows = model.flows
        flows["pension_fund_contributions"] += contributions
        flows["pension_fund_other_income"] += other
        flows["pension_fund_transfer"] += transfer
        flows["pension_fund_expenditure"] += sums["pensions_paid"]
        flows["unemployment_fund_income"] += ui_income
        flows["unemployment_fund_expenditure"] += ui_spending
        flows["new_pensions"] += sums["new_pensions"]
        self._publish(sums, ui_spending)

    def _publish(self, sums: dict[str, float], ui_spending: float) -> None:
        """The funds' state the indicators read (`model.fund_state`): balances
        (yuan per row), contributors, pensioners and benefit recipients (rows),
        and the month's expenditure for the months of cover."""
        self.model.fund_state = {
            "pension_fund_balance": self.balance["pension"],
            "unemployment_fund_balance": self.balance["unemployment"],
            "pension_contributors": sums["pension_contributors"],
            "pensioners": sums["pensioners"],
            "benefit_recipients": sums["benefit_recipients"],
            "pension_month_expenditure": sums["pensions_paid"],
            "unemployment_month_expenditure": ui_spending,
        }
