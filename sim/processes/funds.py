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

from ..kernels import as_bytes, block, block_count, deal_stride, dealt, sized_pass
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


SUB_ROWS = 2048  # rows per sub-block of the month's pass: its float64 buffers stay in the CPU cache


@sized_pass(ns_per_row=5)
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
    does not depend on the number of threads.

    Each sub-block of SUB_ROWS rows is passed in four short loops (the
    habits of `sim.kernels`): one without a branch puts every row's
    contribution base, flexible contribution and pension paid in small
    buffers (0 where the row pays or draws none), which LLVM turns into
    vector instructions; a branchy one handles the few rows left (new
    pensioners, the unemployed, benefits that end); one writes the months
    contributed and the pensions; the last adds the buffers in row order.
    Adding 0.0 leaves a sum unchanged, so the sums are the bytes of one
    branchy pass over the rows that pay or draw (5.8 -> 4.1-4.5 ns a row on
    one thread at scale 10)."""
    n = len(status)
    blocks = block_count(n)
    partial = np.zeros((blocks, len(SUMS)), dtype=np.float64)
    er_pe, ee_pe, ui_rate = rates[0], rates[1], rates[2] + rates[3]
    flexible = FLEXIBLE_RATE * flexible_base
    lowest, highest = floor_share * average_monthly, ceiling_share * average_monthly
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        employer = individual = flexible_paid = unemployment = pensions = benefits = 0.0
        contributors = pensioners = recipients = new = 0
        base = np.empty(SUB_ROWS, dtype=np.float64)  # pension contribution base (0: pays none)
        base_ui = np.empty(SUB_ROWS, dtype=np.float64)  # the same for unemployment insurance
        flexible_due = np.empty(SUB_ROWS, dtype=np.float64)
        paid = np.empty(SUB_ROWS, dtype=np.float64)  # pension paid (0: draws none)
        paying = np.empty(SUB_ROWS, dtype=np.int16)  # 1: a month contributed
        rest = np.empty(SUB_ROWS, dtype=np.uint8)  # 1: new pensioner, unemployed or benefit months to clear
        lo_b, hi_b = block(b, n)
        for lo in range(lo_b, hi_b, SUB_ROWS):
            hi = min(hi_b, lo + SUB_ROWS)
            # Views of the sub-block, indexed from 0 (sim.kernels).
            status_b, wage_b, tier_b = status[lo:hi], wage[lo:hi], tier[lo:hi]
            employee_b, retiree_b = as_bytes(pension_employee[lo:hi]), as_bytes(pension_retiree[lo:hi])
            insured_b = as_bytes(unemployment_insured[lo:hi])
            months_b, pension_b, left_b = contribution_months[lo:hi], pension[lo:hi], benefit_left[lo:hi]
            # Every row, without a branch.
            for i in range(hi - lo):
                s = status_b[i]
                present = np.uint8(s != Status.ABSENT)
                retiree = retiree_b[i] & present
                member = employee_b[i] & present & (retiree ^ np.uint8(1))
                unit = member & np.uint8(s == Status.UNIT)
                own = member & np.uint8((s == Status.SELF) | (s == Status.FLEX))
                # contribution_base, written out: calling it (numpy's NaN-aware min and max) costs 12% of the pass
                wage_base = min(max(np.float64(wage_b[i]) * reporting, lowest), highest)
                base[i] = wage_base if unit else 0.0
                base_ui[i] = wage_base if unit & insured_b[i] else 0.0
                flexible_due[i] = flexible if own else 0.0
                paying[i] = np.int16(unit | own)
                # Pensions in payment, indexed in January; new ones are set below.
                paid[i] = np.float64(np.float32(pension_b[i] * indexation)) if retiree else 0.0
                fresh = retiree & np.uint8(pension_b[i] == np.float32(0.0))
                unemployed = present & (retiree ^ np.uint8(1)) & np.uint8(s == Status.UNEMP)
                clears = present & (retiree ^ np.uint8(1)) & np.uint8(left_b[i] != 0)
                rest[i] = fresh | unemployed | clears
                contributors += np.int64(unit | own)
                pensioners += np.int64(retiree)
            # The few rows left, in row order.
            for i in range(hi - lo):
                if rest[i] == 0:
                    continue
                if retiree_b[i]:  # retired this month: the pension is set
                    paid[i] = np.float64(np.float32(new_pension(float(months_b[i]), wage_b[i] / average_monthly,
                                                                average_monthly)))
                    new += 1
                    continue
                left = left_b[i]
                if status_b[i] == Status.UNEMP:  # the unemployed contribute nothing: months_b is this month's
                    if insured_b[i] & (left == 0):  # lost an insured job this month
                        left = _benefit_months(months_b[i])
                    if left > 0:
                        benefits += benefits_by_tier[tier_b[i]]
                        recipients += 1
                        left -= 1
                else:
                    left = 0
                if write:
                    left_b[i] = left
            if write:
                for i in range(hi - lo):
                    months_b[i] = min(months_b[i] + paying[i], np.int16(32767))
                    drawing = retiree_b[i] & np.uint8(status_b[i] != Status.ABSENT)
                    pension_b[i] = np.float32(paid[i]) if drawing else pension_b[i]
            # The sums, in row order.
            for i in range(hi - lo):
                employer += er_pe * base[i]
                individual += ee_pe * base[i]
                unemployment += ui_rate * base_ui[i]
                flexible_paid += flexible_due[i]
                pensions += paid[i]
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
