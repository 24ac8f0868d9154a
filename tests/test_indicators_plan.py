"""Every plan indicator comes out of the agents: 2020 values, invariants, stock-flow consistency."""

import csv
from pathlib import Path

import numpy as np
import pytest

from sim.indicators import INDICATORS
from sim.model import LabourModel
from sim.policy import Policy
from sim.status import Status
from sim.timeline import parse_month

ROOT = Path(__file__).resolve().parent.parent
PLAN = {row["id"]: row for row in csv.DictReader((ROOT / "calibration" / "plan_indicators_2025.csv").open())}


@pytest.mark.parametrize("scale", [1000, 100])
def test_2020_values_equal_the_plan_base_values(scale):
    model = LabourModel(seed=2, scale=scale)
    base = {key: value for year, key, value in model.recorder.annual() if year == 2020}
    checked = 0
    for key, row in PLAN.items():
        # Flows (postdoc recruitment) start in 2021, the first simulated year.
        if row["base_2020"] and row["kind"] != "flow_annual":
            assert base[key] == pytest.approx(float(row["base_2020"]), rel=0.01), key
            checked += 1
    assert checked == 12


def test_every_plan_indicator_is_produced_each_year(small_run):
    _, frame = small_run
    annual = frame[frame["period"].str.len() == 4]
    for key, row in PLAN.items():
        years = set(annual.loc[annual["indicator"] == key, "period"])
        expected = {"2021", "2022", "2023", "2024", "2025"} | ({"2020"} if row["kind"] != "flow_cumulative_5y" and row["kind"] != "flow_annual" else set())
        assert years == expected, key
        assert next(i for i in INDICATORS if i.id == key).unit == row["unit"]


@pytest.fixture(scope="module")
def tracked():
    """Step a model month by month, checking invariants and stock-flow consistency."""
    model = LabourModel(seed=9, scale=1000)
    failures = []
    columns = ("card", "ecard", "unemployment_insured", "qualified")
    while model.month < parse_month("2023-12"):
        before = {c: model.people[c].copy() for c in columns}
        before_title = model.people.title.copy()
        n_before = model.people.n
        model.step()
        p = model.people
        status = p.status
        alive = status != Status.ABSENT
        unit = status == Status.UNIT
        checks = {
            "unemployment insured outside unit jobs": (p.unemployment_insured & ~unit).sum(),
            "work-injury insured outside unit jobs": (p.work_injury_insured & ~unit).sum(),
            "pension member and pensioner at once": (p.pension_employee & p.pension_retiree).sum(),
            "employee and resident pension at once": ((p.pension_employee | p.pension_retiree) & p.pension_resident).sum(),
            "insured children": ((p.pension_employee | p.pension_resident | p.unemployment_insured) & (p.age_m < 16 * 12)).sum(),
            "flags on people who left": ((p.card | p.ecard | p.pension_resident | p.unemployment_insured) & ~alive).sum(),
            "e-card without card": (p.ecard & ~p.card).sum(),
        }
        # Stock-flow: every new card, e-card, UI enrolment, qualification and junior
        # title among existing rows is one counted in the month's flow.
        # New rows (births, arrivals) had nothing before the month.
        grown = {c: np.concatenate([before[c], np.zeros(p.n - n_before, dtype=bool)]) for c in columns}
        gained = {c: int((~grown[c] & model.people[c]).sum()) for c in columns}
        flows = model.flows
        checks["cards issued"] = gained["card"] - flows["cards_issued"]
        checks["e-cards adopted"] = gained["ecard"] - flows["ecard_adoptions"]
        checks["UI enrolments"] = gained["unemployment_insured"] - flows["unemployment_enrolments"]
        checks["qualifications"] = gained["qualified"] - flows["qualifications"]
        title_before = np.concatenate([before_title, np.zeros(p.n - n_before, dtype=np.int8)])
        checks["junior titles"] = int(((title_before == 0) & (p.title == 1)).sum()) - flows["junior_titles"]
        failures += [f"{model.month}: {name} ({value})" for name, value in checks.items() if value != 0]
    return model, failures


def test_invariants_and_stock_flow_consistency_hold_every_month(tracked):
    _, failures = tracked
    assert failures == []


def test_rates_and_nested_stocks(small_run):
    _, frame = small_run
    values = frame.pivot_table(index=["period"], columns="indicator", values="value")
    for key in ("surveyed_unemployment_rate", "dispute_mediation_success_rate", "arbitration_closure_rate",
                "inspection_closure_rate", "electronic_card_coverage", "minimum_wage_to_average_wage"):
        assert values[key].dropna().between(0, 100).all(), key
    assert (values["high_skilled_talent"] <= values["skilled_talent"]).all()
    assert (values["senior_title_talent"] <= values["professional_technical_talent"]).all()
    assert (values["new_senior_vocational_certificates"].dropna() <= values["new_vocational_certificates"].dropna()).all()
    assert (values["unemployment_insured"] <= values["employed"]).all()
    assert (values["social_security_card_holders"] <= values["resident_population"]).all()


def test_paths_continue_the_2016_2020_trends(small_run):
    """Under 2020 policies the stocks keep growing as in the plan's column 1, without jumps."""
    _, frame = small_run
    annual = frame[frame["period"].str.len() == 4].pivot(index="period", columns="indicator", values="value")
    for key in ("pension_insured", "unemployment_insured", "work_injury_insured", "professional_technical_talent",
                "senior_title_talent", "skilled_talent", "high_skilled_talent", "social_security_card_holders"):
        growth = annual[key].pct_change().dropna()
        # Insured stocks may level off as coverage of unit employees saturates; none may fall.
        floor = -0.001 if key.endswith("_insured") else 0.0
        assert (growth > floor).all() and (growth < 0.15).all(), (key, growth.round(3).tolist())
    for key in ("vocational_training", "new_vocational_certificates", "new_senior_vocational_certificates",
                "new_professional_qualifications"):
        flows = annual.loc["2021":, key]
        assert flows.min() > 0.6 * flows.max(), key
    assert annual.loc["2021":, "postdoc_recruitment"].between(1300, 1950).all()


def test_postdocs_are_counted_in_persons_at_any_scale():
    totals = []
    for scale in (100, 5000):
        model = LabourModel(seed=4, scale=scale)
        model.run_until(parse_month("2021-12"))
        totals.append(dict(((y, k), v) for y, k, v in model.recorder.annual())[(2021, "postdoc_recruitment")])
    assert all(1400 < total < 1850 for total in totals)  # ~1612 a year whatever the scale


def test_training_providers_are_mesa_agents_that_did_the_training():
    from sim.processes.training import TrainingProvider

    model = LabourModel(seed=4, scale=2000)
    model.run_until(parse_month("2021-06"))
    providers = list(model.agents_by_type[TrainingProvider])
    assert len(providers) == 2000
    training = next(p for p in model.processes if p.name == "training")
    assert sum(p.trained for p in providers) > 0
    assert sum(p.passed for p in providers) <= sum(p.trained for p in providers)
    assert {p.kind for p in providers} == {0, 1, 2}
    assert training.providers == providers


@pytest.mark.parametrize(
    "change, indicator, direction",
    [
        ({"platform_injury_protection": True}, "work_injury_insured", +1),
        ({"enforcement": 3.0}, "unemployment_insured", +1),
        ({"training_subsidy_rate": 0.9}, "vocational_training", +1),
        ({"training_capacity": 0.3}, "vocational_training", -1),
        ({"postdoc_quota": 3000}, "postdoc_recruitment", +1),
        ({"mediation_capacity": 0.5}, "dispute_mediation_success_rate", -1),
        ({"arbitration_capacity": 0.5}, "arbitration_closure_rate", -1),
        ({"ecard_promotion": 2.0}, "electronic_card_coverage", +1),
    ],
)
def test_policy_mechanisms_move_their_indicator(change, indicator, direction):
    """Same seed, mechanism on vs off: the indicator moves the expected way in 2022."""
    def value(policy):
        model = LabourModel(seed=8, scale=2000, policy=policy)
        model.run_until(parse_month("2022-12"))
        return dict(((y, k), v) for y, k, v in model.recorder.annual())[(2022, indicator)]

    assert np.sign(value(Policy(**change)) - value(Policy())) == direction
