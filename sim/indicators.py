"""The plan's indicators, computed from the agents under the official definitions.

Each month the recorder takes the model's counts and the month's flows (the
"parts"); every indicator says how a month's value and a year's value are
formed from them, with its definition beside it.  Counts of rows are converted
to real-world units (persons = rows x scale); the postdoc count is kept in
persons.  Ids and units are those of `calibration/plan_indicators_2025.csv`.

2020 rows are the baseline: stocks and rates of the synthetic end-2020
population (the dispute rates are the steady state of the 2020 caseloads and
capacities); flows start in 2021, the first simulated year.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from .distribution import DEFINITIONS, snapshot_parts
from .kernels import as_bytes, block, block_count, deal_stride, dealt, sized_pass
from .status import Status

TEN_THOUSAND = 1e4
Parts = dict[str, float]


@dataclass(frozen=True)
class Indicator:
    id: str
    unit: str
    kind: str  # "stock" (end of period), "flow" (total over the period) or "rate"
    definition: str
    monthly: Callable[[Parts], float]
    annual: Callable[[list[Parts]], float]


def _ratio(numerator: float, denominator: float, percent: bool = True) -> float:
    return (100.0 if percent else 1.0) * numerator / denominator if denominator else float("nan")


def stock(id_: str, key: str, definition: str, unit: str = "10k persons") -> Indicator:
    monthly = lambda p: p[key] * p["scale"] / TEN_THOUSAND  # noqa: E731
    return Indicator(id_, unit, "stock", definition + " At the end of the period.", monthly, lambda months: monthly(months[-1]))


def flow(id_: str, key: str, definition: str, unit: str = "10k persons", in_rows: bool = True) -> Indicator:
    monthly = (lambda p: p[key] * p["scale"] / TEN_THOUSAND) if in_rows else (lambda p: p[key])
    return Indicator(id_, unit, "flow", definition + " Total over the period.", monthly, lambda months: sum(map(monthly, months)))


def share_of_sums(id_: str, numerator: str, denominator: str, definition: str, opening: str | None = None) -> Indicator:
    """A rate of flows: the year's value divides the year's totals (plus the
    stock pending at the start of the year, when `opening` is given)."""

    def monthly(p: Parts) -> float:
        return _ratio(p[numerator], p[denominator] + (p[opening] if opening else 0.0))

    def annual(months: list[Parts]) -> float:
        pending = months[0][opening] if opening else 0.0
        return _ratio(sum(p[numerator] for p in months), pending + sum(p[denominator] for p in months))

    return Indicator(id_, "%", "rate", definition, monthly, annual)


def _unemployment(p: Parts) -> float:
    return _ratio(p["urban_unemployed"], p["urban_employed"] + p["urban_unemployed"])


def _average_wage(months: list[Parts], ownership: str = "") -> float:
    """Yearly wage bill over the average number of urban unit employees;
    ownership "" (all units), "non_private" or "private"."""
    def part(p: Parts, what: str) -> float:
        total, non_private = p[f"urban_unit_{what}"], p[f"urban_non_private_{what}"]
        return {"": total, "non_private": non_private, "private": total - non_private}[ownership]

    count = sum(part(p, "employees") for p in months)
    return 12.0 * sum(part(p, "wage_bill") for p in months) / count if count else float("nan")


def average_wage(id_: str, ownership: str, definition: str) -> Indicator:
    return Indicator(id_, "yuan per year", "rate", definition,
                     lambda p: _average_wage([p], ownership), lambda months: _average_wage(months, ownership))


def _new_urban_jobs(p: Parts) -> float:
    attrition = p["retirements_employed_urban"] + p["deaths_employed_urban"]
    return (p["urban_job_entries"] - attrition) * p["scale"] / TEN_THOUSAND


INDICATORS = (
    stock("resident_population", "alive", "Residents."),
    stock("employed", "employed", "Employed persons: unit employees, self-employed and flexible workers."),
    Indicator("labour_force", "10k persons", "stock", "Employed plus unemployed (ILO), at the end of the period.",
              lambda p: (p["employed"] + p["unemployed"]) * p["scale"] / TEN_THOUSAND,
              lambda months: (months[-1]["employed"] + months[-1]["unemployed"]) * months[-1]["scale"] / TEN_THOUSAND),
    Indicator("surveyed_unemployment_rate", "%", "rate",
              "ILO unemployed (without work, seeking and available) over the urban labour force, urban residents; "
              "the year's value is the mean of its months, as published.",
              _unemployment, lambda months: float(np.mean([_unemployment(p) for p in months]))),
    Indicator("new_urban_jobs", "10k persons", "flow",
              "Urban job entries (urban residents below the statutory age entering unit, self- or flexible employment "
              "from unemployment, inactivity, school or another province; re-employed retirees are not registered) "
              "minus natural attrition (urban employed who retire or die). Total over the period.", _new_urban_jobs, lambda months: sum(map(_new_urban_jobs, months))),
    average_wage("average_wage", "",
                 "Social average wage: total wages of urban unit employees over their average number, per year "
                 "(full-caliber urban unit average wage)."),
    average_wage("average_wage_non_private", "non_private",
                 "Average wage of urban non-private units (state, collective, foreign and joint-stock), per year, "
                 "as in the province's average-wage bulletin."),
    average_wage("average_wage_private", "private",
                 "Average wage of urban private units, per year, as in the province's average-wage bulletin."),
    Indicator("minimum_wage_to_average_wage", "%", "rate",
              "Tier-1 monthly minimum wage x 12 over the social average wage of the previous year (the latest "
              "published when the standard is set); the year's value uses the minimum in force in December.",
              lambda p: _ratio(12.0 * p["minimum_wage"], p["previous_average_wage"]),
              lambda months: _ratio(12.0 * months[-1]["minimum_wage"], months[-1]["previous_average_wage"])),
    flow("vocational_training", "training_person_times",
         "Vocational skill training person-times: enrolments on skills courses at training providers.",
         unit="10k person-times"),
    stock("pension_insured", "pension_insured",
          "Basic pension insured: employee-pension contributors and pensioners plus resident-pension insured."),
    stock("unemployment_insured", "unemployment_insured", "Unemployment insurance insured (unit employees)."),
    stock("work_injury_insured", "work_injury_insured",
          "Work-injury insured: unit employees, and platform workers under occupational-injury protection."),
    stock("professional_technical_talent", "professional_technical",
          "Professional-technical talent: holders of a junior, intermediate or senior title who are not retired "
          "(including those in management posts)."),
    stock("senior_title_talent", "senior_title", "Holders of a senior professional title who are not retired."),
    flow("new_professional_qualifications", "qualifications",
         "People newly obtaining a professional-technical qualification certificate."),
    flow("postdoc_recruitment", "postdocs", "Postdoctoral researchers recruited (an exact count of persons).",
         unit="persons", in_rows=False),
    stock("skilled_talent", "skilled",
          "Skilled talent: holders of a vocational qualification or skill-level certificate in working life (not in "
          "school, not retired); the stock grows with certification and skilled arrivals from other provinces and "
          "shrinks with retirement, death and departures."),
    stock("high_skilled_talent", "high_skilled", "Skilled talent at senior-worker level (level 3) or above."),
    flow("new_vocational_certificates", "certificates",
         "People newly obtaining a vocational qualification or skill-level certificate (assessments passed)."),
    flow("new_senior_vocational_certificates", "senior_certificates",
         "Of which at senior-worker level or above."),
    share_of_sums("dispute_mediation_success_rate", "mediation_settled", "mediated",
                  "Labour and personnel disputes settled by mediation over disputes mediated."),
    share_of_sums("arbitration_closure_rate", "arbitration_closed", "arbitration_accepted",
                  "Arbitration cases closed over cases handled (pending at the start plus accepted).",
                  opening="arbitration_pending"),
    share_of_sums("inspection_closure_rate", "inspection_closed", "inspection_accepted",
                  "Labour-inspection report and complaint cases closed over cases handled.",
                  opening="inspection_pending"),
    stock("social_security_card_holders", "cards", "Social security card holders.", unit="10k cards"),
    Indicator("electronic_card_coverage", "%", "stock",
              "Residents who have applied for the electronic social security card over residents, at the end of the period.",
              lambda p: _ratio(p["ecards"], p["alive"]), lambda months: _ratio(months[-1]["ecards"], months[-1]["alive"])),
)
HUNDRED_MILLION = 1e8  # 亿元


def money_flow(id_: str, keys: tuple[str, ...], definition: str) -> Indicator:
    """Money summed over rows (yuan per row) into 亿元, the sum of `keys`."""
    monthly = lambda p: sum(p[k] for k in keys) * p["scale"] / HUNDRED_MILLION  # noqa: E731
    return Indicator(id_, "100 million yuan", "flow", definition + " Total over the period.", monthly,
                     lambda months: sum(map(monthly, months)))


def money_stock(id_: str, key: str, definition: str) -> Indicator:
    monthly = lambda p: p[key] * p["scale"] / HUNDRED_MILLION  # noqa: E731
    return Indicator(id_, "100 million yuan", "stock", definition + " At the end of the period.", monthly,
                     lambda months: monthly(months[-1]))


def months_of_cover(id_: str, balance: str, expenditure: str, definition: str) -> Indicator:
    """Balance over monthly expenditure (可支付月数): the month's own, or the
    year's mean month for the year."""
    return Indicator(id_, "months", "stock", definition,
                     lambda p: _ratio(p[balance], p[expenditure], percent=False),
                     lambda months: _ratio(months[-1][balance], sum(p[expenditure] for p in months) / len(months),
                                           percent=False))


FUND_INDICATORS = (
    money_flow("pension_fund_income", ("pension_fund_contributions", "pension_fund_other_income"),
               "Employee pension fund income: contributions of employers, employees and flexible members, interest, "
               "fiscal subsidy and state-capital transfers (the national pooling transfer is shown apart)."),
    money_flow("pension_fund_contributions", ("pension_fund_contributions",),
               "Employee pension contributions (征缴收入): employers and employees on the base, flexible and "
               "own-account members at 20% of theirs."),
    money_flow("pension_fund_pooling_transfer", ("pension_fund_transfer",),
               "Net transfer from the central adjustment fund and national pooling to the province's employee "
               "pension fund (negative: paid out)."),
    money_flow("pension_fund_expenditure", ("pension_fund_expenditure",), "Employee pensions paid."),
    money_stock("pension_fund_balance", "pension_fund_balance", "Employee pension fund balance (累计结余)."),
    months_of_cover("pension_fund_months", "pension_fund_balance", "pension_month_expenditure",
                    "Months of expenditure the employee pension fund's balance covers (可支付月数): the balance at "
                    "the end of the period over the period's mean monthly pension expenditure."),
    Indicator("pension_dependency_ratio", "ratio", "stock",
              "Contributors per pensioner of the employee pension (抚养比): members paying contributions this month "
              "(unit employees, flexible and own-account members) over pensioners, at the end of the period.",
              lambda p: _ratio(p["pension_contributors"], p["pensioners"], percent=False),
              lambda months: _ratio(months[-1]["pension_contributors"], months[-1]["pensioners"], percent=False)),
    money_flow("unemployment_fund_income", ("unemployment_fund_income",),
               "Unemployment insurance fund income: contributions of insured unit employees and their employers, and "
               "interest."),
    money_flow("unemployment_fund_expenditure", ("unemployment_fund_expenditure",), "Unemployment benefits paid."),
    money_stock("unemployment_fund_balance", "unemployment_fund_balance", "Unemployment insurance fund balance."),
    months_of_cover("unemployment_fund_months", "unemployment_fund_balance", "unemployment_month_expenditure",
                    "Months of benefit expenditure the unemployment fund's balance covers: the balance at the end of "
                    "the period over the period's mean monthly benefit expenditure."),
    stock("unemployment_benefit_recipients", "benefit_recipients",
          "Job seekers drawing unemployment benefit (insured job losers with a year of contributions, for 12-24 "
          "months)."),
)
# Who gains (sim/distribution.py): yearly, from the December state.
DISTRIBUTION_INDICATORS = tuple(
    Indicator(id_, unit, kind, definition, value, lambda months, value=value: value(months[-1]))
    for id_, _, _, unit, kind, definition, value in DEFINITIONS)
INDICATORS = INDICATORS + FUND_INDICATORS + DISTRIBUTION_INDICATORS
BY_ID = {indicator.id: indicator for indicator in INDICATORS}


COUNTS = ("alive", "employed", "unemployed", "urban_employed", "urban_unemployed", "urban_unit_employees",
          "urban_non_private_employees", "pension_insured", "unemployment_insured", "work_injury_insured",
          "professional_technical", "senior_title", "skilled", "high_skilled", "cards", "ecards")


@sized_pass(ns_per_row=3.5)
@numba.njit(cache=True, parallel=True)
def _count(status, urban, firm, firm_non_private, wage, pension_employee, pension_retiree, pension_resident,
           unemployment_insured, work_injury_insured, title, skill, card, ecard):
    """The counts of COUNTS, in its order, and the wage bills of urban unit
    employees (all, non-private) in fen (1/100 yuan), in one pass over blocks
    of rows.

    Each block is counted by a few short loops over views of the block that
    start at row 0 (`kernels.block`), each adding 0/1 terms of a few columns:
    numba then need not check an index for negative values, and LLVM turns
    such loops into vector instructions (about 2.5x faster than one loop that
    carries all eighteen sums).  Wage bills are summed as whole fen, an exact
    integer sum, so blocks can run in parallel and the result depends neither
    on the order nor on the number of threads."""
    n = len(status)
    blocks = block_count(n)
    partial = np.zeros((blocks, len(COUNTS) + 2), dtype=np.int64)
    firm_is_non_private = as_bytes(firm_non_private)
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)
        st, ur, fi, wa = status[lo:hi], as_bytes(urban)[lo:hi], firm[lo:hi], wage[lo:hi]
        # Labour status and area.
        alive = employed = unemployed = employed_urban = unemployed_urban = unit_urban = np.int32(0)
        for i in range(hi - lo):
            s, u = st[i], ur[i]
            is_employed = np.int32((s >= Status.UNIT) & (s <= Status.FLEX))
            is_unemployed = np.int32(s == Status.UNEMP)
            alive += np.int32(s != Status.ABSENT)
            employed += is_employed
            unemployed += is_unemployed
            employed_urban += is_employed & u
            unemployed_urban += is_unemployed & u
            unit_urban += np.int32(s == Status.UNIT) & u
        # Urban unit employees' firms and wage bills.
        non_private = np.int32(0)
        bill = bill_non_private = np.int64(0)
        for i in range(hi - lo):
            counted = np.int64((st[i] == Status.UNIT) & ur[i])
            fen = np.int64(wa[i] * np.float32(100.0) + np.float32(0.5))
            # firm -1 (no firm) reads firm 0, masked by `counted`.
            public = counted & np.int64(firm_is_non_private[max(fi[i], 0)])
            non_private += np.int32(public)
            bill += counted * fen
            bill_non_private += public * fen
        # Insurance and cards.
        pe, pr, pres, ui, wi = (as_bytes(pension_employee)[lo:hi], as_bytes(pension_retiree)[lo:hi],
                                as_bytes(pension_resident)[lo:hi], as_bytes(unemployment_insured)[lo:hi],
                                as_bytes(work_injury_insured)[lo:hi])
        ca, ec = as_bytes(card)[lo:hi], as_bytes(ecard)[lo:hi]
        pension = unemployment = injury = cards = ecards = np.int32(0)
        for i in range(hi - lo):
            pension += np.int32(pe[i] | pr[i] | pres[i])
            unemployment += np.int32(ui[i])
            injury += np.int32(wi[i])
            cards += np.int32(ca[i])
            ecards += np.int32(ec[i])
        # Talent of people in working life (neither in school nor retired).
        ti, sk = title[lo:hi], skill[lo:hi]
        titled = senior = skilled = high_skilled = np.int32(0)
        for i in range(hi - lo):
            s = st[i]
            working_life = np.int32((s != Status.ABSENT) & (s != Status.RETIRED) & (s != Status.SCHOOL))
            titled += working_life & np.int32(ti[i] >= 1)
            senior += working_life & np.int32(ti[i] == 3)
            skilled += working_life & np.int32(sk[i] >= 1)
            high_skilled += working_life & np.int32(sk[i] >= 3)
        row = partial[b]
        row[0], row[1], row[2], row[3], row[4], row[5] = alive, employed, unemployed, employed_urban, unemployed_urban, unit_urban
        row[6], row[7], row[8], row[9] = non_private, pension, unemployment, injury
        row[10], row[11], row[12], row[13], row[14], row[15] = titled, senior, skilled, high_skilled, cards, ecards
        row[16], row[17] = bill, bill_non_private
    return partial.sum(axis=0)


def count_parts(model) -> Parts:
    """The counts of the model's state that the indicators need, taken once a month."""
    people = model.people
    counts = _count(
        people.status, people.urban, people.firm, model.firms.non_private, people.wage, people.pension_employee,
        people.pension_retiree, people.pension_resident, people.unemployment_insured, people.work_injury_insured,
        people.title, people.skill, people.card, people.ecard)
    return {
        "scale": model.scale,
        **{name: int(count) for name, count in zip(COUNTS, counts)},
        "urban_unit_wage_bill": int(counts[-2]) / 100.0,  # yuan
        "urban_non_private_wage_bill": int(counts[-1]) / 100.0,
        **model.fund_state,  # sim/processes/funds.py
        "minimum_wage": float(model.minimum_wage[0]),
        "previous_average_wage": float(model.annual_average_wage[model.month // 12 - 1]),
        **(snapshot_parts(model) if model.month % 12 == 11 else {}),  # the yearly distribution, in December
    }


class Recorder:
    """Collects each month's parts and forms monthly and annual values."""

    def __init__(self):
        self.parts: dict[int, Parts] = {}
        self.flows_recorded: dict[int, bool] = {}

    def record(self, model, month: int, flows: dict[str, float], simulated: bool = True) -> None:
        """Store the month's parts; `simulated` is False for the baseline snapshot (no flows)."""
        self.parts[month] = {**flows, **count_parts(model)}
        self.flows_recorded[month] = simulated

    def _defined(self, indicator: Indicator, month: int) -> bool:
        return indicator.kind != "flow" or self.flows_recorded[month]

    def monthly(self) -> list[tuple[int, str, float]]:
        """(month, id, value); a rate whose denominator is zero that month (no
        disputes at a coarse scale, say) is undefined and left out."""
        rows = []
        for month, parts in sorted(self.parts.items()):
            for indicator in INDICATORS:
                if self._defined(indicator, month):
                    value = float(indicator.monthly(_with_zero_flows(parts)))
                    if value == value:
                        rows.append((month, indicator.id, value))
        return rows

    def annual_average_wage(self, year: int) -> float:
        return _average_wage([p for m, p in self.parts.items() if m // 12 == year])

    def annual(self) -> list[tuple[int, str, float]]:
        """(year, id, value) for every year whose December was recorded."""
        rows = []
        for year in sorted({month // 12 for month in self.parts}):
            months = [m for m in sorted(self.parts) if m // 12 == year]
            if months[-1] % 12 != 11:
                continue  # incomplete year: no annual value
            parts = [_with_zero_flows(self.parts[m]) for m in months]
            for indicator in INDICATORS:
                if all(self._defined(indicator, m) for m in months):
                    value = float(indicator.annual(parts))
                    if value == value:
                        rows.append((year, indicator.id, value))
        return rows


class _ZeroDefault(dict):
    def __missing__(self, key):
        return 0.0


def _with_zero_flows(parts: Parts) -> Parts:
    """Flows a month did not count are zero."""
    return _ZeroDefault(parts)
