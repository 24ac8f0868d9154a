"""Social insurance funds (sim/processes/funds.py): the contribution and
pension rules against hand-computed values, the month's pass on a small
population, stock-flow consistency of the funds, and the levers."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.model import LabourModel
from sim.policy import Policy
from sim.processes.funds import _month, contribution_base, new_pension
from sim.status import Status
from sim.timeline import parse_month

ROOT = Path(__file__).resolve().parent.parent
AVERAGE = 6000.0  # last year's social average monthly wage in the hand computations


def test_the_base_is_the_reported_wage_clipped_to_the_floor_and_the_ceiling():
    # 60% of 6000 = 3600, 300% = 18000 (国办发〔2019〕13号)
    wages = np.array([2000.0, 3600.0, 5000.0, 18000.0, 25000.0])
    assert contribution_base(wages, AVERAGE, 0.6, 3.0).tolist() == [3600.0, 3600.0, 5000.0, 18000.0, 18000.0]
    # Reported at 70%: 5000 -> 3500, below the floor; 25000 -> 17500, below the ceiling.
    assert contribution_base(wages, AVERAGE, 0.6, 3.0, reporting=0.7).tolist() == [3600.0, 3600.0, 3600.0, 12600.0, 17500.0]


def test_the_months_pass_uses_the_base_rule_for_every_contributor():
    """The pass writes the base rule out for speed: its contributions are
    those of `contribution_base`, floor, ceiling and reporting included."""
    rng = np.random.default_rng(7)
    n = 70_000  # two blocks of rows
    status = rng.choice(np.array([Status.ABSENT, Status.UNIT, Status.SELF, Status.UNEMP, Status.RETIRED],
                                 dtype=np.int8), n)
    wage = rng.lognormal(np.log(6000.0), 0.8, n).astype(np.float32)
    member, insured = rng.random(n) < 0.7, rng.random(n) < 0.5
    retiree = (status == Status.RETIRED) & (rng.random(n) < 0.9)
    months = rng.integers(0, 400, n).astype(np.int16)
    pension = np.where(retiree, 3000.0, 0.0).astype(np.float32)
    rates = np.array([0.14, 0.08, 0.005, 0.005])
    sums = _month(status, wage, np.zeros(n, np.int8), member, retiree, insured, months, pension,
                  np.zeros(n, np.int8), AVERAGE, 0.6, 3.0, 0.7, 0.6 * AVERAGE, rates, 1.0,
                  np.full(4, 1500.0), False)
    paying = (status == Status.UNIT) & member & ~retiree
    bases = contribution_base(wage[paying].astype(np.float64), AVERAGE, 0.6, 3.0, reporting=0.7)
    assert sums[0] == pytest.approx(0.14 * bases.sum(), rel=1e-12)
    assert sums[3] == pytest.approx(0.01 * bases[insured[paying]].sum(), rel=1e-12)
    assert (bases == 3600.0).any() and (bases == 18000.0).any()  # both bounds reached


def test_a_new_pension_follows_the_basic_plus_personal_account_formula():
    # 30 years at the average wage: basic 6000 x (1+1)/2 x 1% x 30 = 1800;
    # personal 8% x 6000 x 360 / 139 = 1243.17
    assert new_pension(360, 1.0, AVERAGE) == pytest.approx(1800.0 + 0.08 * 6000 * 360 / 139)
    # 15 years at twice the average: basic 6000 x 3/2 x 15% = 1350; personal 8% x 12000 x 180 / 139
    assert new_pension(180, 2.0, AVERAGE) == pytest.approx(1350.0 + 0.08 * 12000 * 180 / 139)
    # The indexed wage is clipped to 0.6-3 of the average.
    assert new_pension(120, 0.1, AVERAGE) == new_pension(120, 0.6, AVERAGE)


def _people():
    """Eight people: a unit employee insured against unemployment (wage 5000,
    10 years contributed), one above the ceiling, a flexible member, a
    pensioner, a new pensioner, an insured job loser with 6 years, one with
    11 years, and a re-employed person who was drawing the benefit."""
    status = np.array([Status.UNIT, Status.UNIT, Status.FLEX, Status.RETIRED, Status.RETIRED, Status.UNEMP,
                       Status.UNEMP, Status.UNIT], dtype=np.int8)
    wage = np.array([5000, 30000, 4000, 0, 6000, 0, 0, 5000], dtype=np.float32)
    tier = np.zeros(8, dtype=np.int8)
    member = np.array([1, 1, 1, 0, 0, 1, 1, 0], dtype=np.bool_)
    retiree = np.array([0, 0, 0, 1, 1, 0, 0, 0], dtype=np.bool_)
    insured = np.array([1, 0, 0, 0, 0, 1, 1, 0], dtype=np.bool_)
    months = np.array([120, 200, 50, 0, 360, 72, 132, 0], dtype=np.int16)
    pension = np.array([0, 0, 0, 3000, 0, 0, 0, 0], dtype=np.float32)
    benefit_left = np.array([0, 0, 0, 0, 0, 0, 0, 5], dtype=np.int8)
    return status, wage, tier, member, retiree, insured, months, pension, benefit_left


def test_the_months_pass_collects_and_pays_by_the_rules():
    status, wage, tier, member, retiree, insured, months, pension, benefit_left = _people()
    rates = np.array([0.14, 0.08, 0.005, 0.005])
    benefits = np.array([1500.0, 1400.0, 1300.0, 1200.0])
    arguments = (AVERAGE, 0.6, 3.0, 1.0, 0.6 * AVERAGE, rates, 1.05, benefits)
    state = (months, pension, benefit_left)
    before = tuple(column.copy() for column in state)
    read = _month(status, wage, tier, member, retiree, insured, *state, *arguments, False)
    assert all(np.array_equal(a, b) for a, b in zip(state, before))  # reading leaves the state as it is
    sums = _month(status, wage, tier, member, retiree, insured, *state, *arguments, True)
    assert np.array_equal(read, sums)
    employer, individual, flexible, unemployment, paid, benefit, contributors, pensioners, recipients, new = sums
    assert employer == pytest.approx(0.14 * (5000 + 18000))
    assert individual == pytest.approx(0.08 * (5000 + 18000))
    assert flexible == pytest.approx(0.20 * 3600)
    assert unemployment == pytest.approx(0.01 * 5000)  # only the insured employee
    assert contributors == 3 and pensioners == 2 and new == 1
    # The pension in payment indexed by 5%; the new pensioner's set by the formula.
    assert pension[3] == pytest.approx(3150.0)
    assert pension[4] == pytest.approx(new_pension(360, 1.0, AVERAGE), rel=1e-6)
    assert paid == pytest.approx(pension[3] + pension[4], rel=1e-6)
    # Job losers: 6 years -> 18 months, 11 years -> 24, one month paid at once.
    assert benefit_left[5] == 17 and benefit_left[6] == 23 and recipients == 2
    assert benefit == pytest.approx(2 * 1500.0)
    # Work ends the benefit; contributions add a month.
    assert benefit_left[7] == 0
    assert months[:3].tolist() == [121, 201, 51] and months[5] == 72


@pytest.fixture(scope="module")
def monthly():
    model = LabourModel(seed=3, scale=5000)
    model.run_until(parse_month("2022-12"))
    values = {}
    for month, key, value in model.recorder.monthly():
        values.setdefault(key, {})[month] = value
    return model, values


def test_every_months_balance_is_last_months_plus_income_minus_expenditure(monthly):
    _, values = monthly
    months = sorted(values["pension_fund_expenditure"])
    assert len(months) == 24
    for fund, income, other in (("pension", "pension_fund_income", "pension_fund_pooling_transfer"),
                                ("unemployment", "unemployment_fund_income", None)):
        balance = values[f"{fund}_fund_balance"]
        for month in months:
            moved = values[income][month] + (values[other][month] if other else 0.0) - values[f"{fund}_fund_expenditure"][month]
            assert balance[month] == pytest.approx(balance[month - 1] + moved, rel=1e-9, abs=1e-6), (fund, month)


def test_fund_accounts_are_positive_and_pensioners_are_the_retired_members(monthly):
    model, values = monthly
    people = model.people
    alive = people.status != Status.ABSENT
    # Pensions are set the month after retirement (the funds pass runs before enrolment).
    unset = np.count_nonzero(people.pension[alive & people.pension_retiree] == 0)
    assert unset == model.flows["new_pensioners"] and np.all(people.pension[alive & people.pension_retiree] >= 0)
    assert np.all(people.pension[alive & ~people.pension_retiree] == 0)
    assert np.all(people.benefit_left[people.status != Status.UNEMP] == 0)
    assert min(values["pension_fund_expenditure"].values()) > 0
    assert min(values["unemployment_benefit_recipients"].values()) > 0


def _january_expenditure(indexation: float) -> tuple[float, float]:
    model = LabourModel(seed=4, scale=5000, policy=Policy(pension_indexation=indexation))
    model.run_until(parse_month("2020-12"))
    pensions_before = float(model.people.pension[model.people.pension_retiree & (model.people.status != Status.ABSENT)].sum())
    model.run_until(parse_month("2021-01"))
    paid = model.flows["pension_fund_expenditure"]
    return paid, pensions_before


def test_indexation_raises_the_first_years_expenditure_by_its_rate_on_the_pensions_in_payment():
    base, before = _january_expenditure(0.0)
    raised, _ = _january_expenditure(0.10)
    # The same people (same seed); the 10% rise applies to the pensions in payment before January.
    assert raised - base == pytest.approx(0.10 * before, rel=0.02)


def test_without_the_retirement_reform_the_2035_pension_balance_is_lower():
    balances = []
    for reform in (True, False):
        model = LabourModel(seed=2, scale=20000, policy=Policy(retirement_reform=reform))
        model.run_until(parse_month("2035-12"))
        balances.append(model.fund_state["pension_fund_balance"])
    assert balances[1] < balances[0]


@pytest.mark.parametrize("lever, value", [("contribution_base_floor", 1.5), ("pension_indexation", "fast"),
                                          ("state_capital_transfer", -10)])
def test_bad_fund_lever_values_exit_2_with_a_message(tmp_path, lever, value):
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\n[levers]\n{lever} = {value if not isinstance(value, str) else repr(value)}\n'.replace("'", '"'))
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "scenario", "validate", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert lever in done.stderr and str(path) in done.stderr
