"""Invariants of the monthly dynamics: conservation, consistency, no negative counts."""

import numpy as np
import pytest

from sim.model import LabourModel
from sim.status import EMPLOYED, Status
from sim.timeline import parse_month


@pytest.fixture(scope="module")
def stepped():
    """A model at scale 1000 stepped through 2021-2025, checked every month."""
    model = LabourModel(seed=5, scale=1000)
    checks = []
    while model.month < parse_month("2025-12"):
        model.step()
        checks.append(_check_month(model))
    return model, checks


def _check_month(model):
    people, firms = model.people, model.firms
    status = people.status
    unit = status == Status.UNIT
    sizes = model.firm_sizes()
    fresh = np.bincount(people.firm[unit], minlength=firms.n)
    return {
        "firm_size_cache_drift": int(np.abs(sizes - fresh).sum()),
        "unit_without_live_firm": int((unit & ((people.firm < 0) | ~firms.alive[np.maximum(people.firm, 0)])).sum()),
        "firm_without_unit_job": int((~unit & (people.firm >= 0)).sum()),
        "employed_without_sector": int((np.isin(status, EMPLOYED) & (people.sector < 0)).sum()),
        "closed_firms_with_staff": int((~firms.alive & (sizes > 0)).sum()),
        "negative_wages": int((people.wage[np.isin(status, EMPLOYED)] <= 0).sum()),
        "negative_ages": int((people.age_m[status != Status.ABSENT] < 0).sum()),
        "negative_targets": int((firms.target < 0).sum()),
        "unit_past_statutory": int(model.past_statutory_age(np.flatnonzero(unit)).sum()),
        "unit_below_the_floor": _below_the_floor(model),
    }


def _below_the_floor(model):
    """Unit employees of complying firms paid below their tier's minimum wage
    after the month: none, which is why the wages process skips its pass over
    every row in months when the floor does not rise and nobody gets a raise."""
    people, firms = model.people, model.firms
    unit = np.flatnonzero(people.status == Status.UNIT)
    complying = firms.complies_min_wage[people.firm[unit]]
    return int(np.count_nonzero(complying & (people.wage[unit] < model.minimum_wage[people.tier[unit]])))


def test_no_one_is_left_below_a_rising_minimum_wage():
    """The plan raises the minimum wage to 40% of the average wage by 2025:
    after every month, no unit employee of a complying firm is below it."""
    from sim.scenario import load_scenario

    scenario = load_scenario("scenarios/plan.toml", scale=4000)
    model = LabourModel(seed=6, scale=4000, policy=scenario.levers)
    rises = 0
    while model.month < parse_month("2025-12"):
        floor = model.minimum_wage.copy()
        model.step()
        rises += bool(np.any(model.minimum_wage > floor))
        assert _below_the_floor(model) == 0, model.month
    assert rises >= 4  # the floor did rise, in most years


def test_people_are_conserved_every_month(stepped):
    model, _ = stepped
    assert len(model.ledger) == 60
    previous_end = None
    for month in model.ledger:
        assert month["start"] + month["births"] + month["in_migrants"] - month["deaths"] - month["out_migrants"] == month["end"]
        if previous_end is not None:
            assert month["start"] == previous_end
        previous_end = month["end"]
    assert previous_end == int((model.people.status != Status.ABSENT).sum())


def test_state_is_consistent_every_month(stepped):
    _, checks = stepped
    for month, check in enumerate(checks):
        assert all(value == 0 for value in check.values()), f"month {month + 1}: {check}"


def test_flows_are_non_negative(stepped):
    """Every flow but the pension fund's pooling transfer, which is signed
    (Zhejiang pays into national pooling)."""
    model, _ = stepped
    assert model.flows["pension_fund_transfer"] < 0
    assert all(value >= 0 for key, value in model.flows.items() if key != "pension_fund_transfer")


def test_demography_moves_in_the_expected_direction(stepped):
    model, _ = stepped
    births = sum(m["births"] for m in model.ledger) * model.scale
    deaths = sum(m["deaths"] for m in model.ledger) * model.scale
    # Five years of births and deaths near the 2020 crude rates (7.13 and 5.84 per mille of ~65M).
    assert 0.8 * 5 * 0.00713 * 64.7e6 < births < 1.2 * 5 * 0.00713 * 64.7e6
    assert 0.8 * 5 * 0.00584 * 64.7e6 < deaths < 1.4 * 5 * 0.00584 * 64.7e6


def test_retirement_reform_keeps_older_workers_in_work():
    """With the reform switched off, more people retire in 2025 (same seed, same draws)."""
    from sim.policy import Policy

    retired = {}
    for reform in (True, False):
        model = LabourModel(seed=3, scale=2000, policy=Policy(retirement_reform=reform))
        model.run_until(parse_month("2025-12"))
        retired[reform] = int((model.people.status == Status.RETIRED).sum())
    assert retired[False] > retired[True]


def test_every_flow_counted_is_declared_by_a_process(stepped):
    from sim.processes import STEP_ORDER

    declared = {name for process in STEP_ORDER for name in process.flows}
    # `retirements*` are also counted by the model when a separation happens past the statutory age.
    assert set(stepped[0].flows) <= declared


def test_new_hires_are_enrolled_at_the_current_coverage_of_unit_employees():
    """Coverage at hire follows the population, not the one it was built as
    (otherwise a run from 2015 hires at the 2015 coverage into 2022)."""
    from sim.processes.insurance import SocialInsurance

    model = LabourModel(seed=3, scale=3000)
    people = model.people
    insurance = next(p for p in model.processes if isinstance(p, SocialInsurance))
    unit = people.status == Status.UNIT
    built = insurance.coverage_at_hire()
    assert built[1] == pytest.approx(people.unemployment_insured[unit].mean())
    assert 0.3 < built[1] < built[2] < 1.0  # 2020: 57% of unit employees insured against unemployment, more against injury
    people.unemployment_insured[unit] = True
    assert insurance.coverage_at_hire()[1] == 1.0
    people.work_injury_insured[:] = False
    assert insurance.coverage_at_hire()[2] == 0.0


def test_the_coverage_carried_to_next_month_is_the_coverage_after_the_step():
    """The enrolment pass counts next month's coverage at hire as it goes; it
    must equal a fresh count of the unit employees after the month."""
    from sim.processes.insurance import SocialInsurance

    model = LabourModel(seed=4, scale=3000)
    insurance = next(p for p in model.processes if isinstance(p, SocialInsurance))
    model.run_until(model.month + 2)
    assert np.array_equal(insurance._coverage, insurance.coverage_at_hire())
    assert 0.3 < insurance._coverage[1] < insurance._coverage[2] < 1.0
