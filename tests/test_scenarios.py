"""Scenario files: inheritance, dated levers, every lever moving its mechanism, CRN."""

import copy
import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.calibration import Calibration
from sim.levers import LEVERS, Schedule
from sim.model import LabourModel
from sim.policy import Policy
from sim.scenario import load_scenario
from sim.timeline import parse_month

ROOT = Path(__file__).resolve().parent.parent
M = parse_month


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_a_child_changes_only_what_it_names(tmp_path):
    write(tmp_path, "parent.toml", 'name = "parent"\nseed = 5\nscale = 200\n[levers]\ntraining_volume = 2.0\necard_promotion = 1.5\n')
    child = write(tmp_path, "child.toml", 'name = "child"\nextends = "parent.toml"\n[levers]\ntraining_volume = 3.0\n')
    scenario = load_scenario(child)
    assert (scenario.name, scenario.seed, scenario.scale) == ("child", 5, 200)
    policy = scenario.levers.policy_at(M("2022-01"))
    assert policy.training_volume == 3.0 and policy.ecard_promotion == 1.5
    assert [path for path, _ in scenario.files] == [str(child), str(tmp_path / "parent.toml")]


def test_extends_cycles_are_refused(tmp_path):
    write(tmp_path, "a.toml", 'name = "a"\nextends = "b.toml"\n')
    write(tmp_path, "b.toml", 'name = "b"\nextends = "a.toml"\n')
    with pytest.raises(Exception, match="cycle of extends"):
        load_scenario(tmp_path / "a.toml")


def test_step_and_path_schedules():
    step = Schedule(((M("2022-01"), 2.0),))
    assert step.at(M("2021-12"), 1.0) == 1.0 and step.at(M("2022-01"), 1.0) == 2.0 and step.at(M("2025-12"), 1.0) == 2.0
    path = Schedule(((M("2021-01"), 1.0), (M("2021-11"), 2.0), (M("2022-01"), 4.0)), mode="linear")
    assert path.at(M("2020-12"), 0.5) == 0.5  # the 2020 default before the first point
    assert path.at(M("2021-06"), 0.5) == pytest.approx(1.5)
    assert path.at(M("2021-12"), 0.5) == pytest.approx(3.0)
    assert path.at(M("2024-01"), 0.5) == 4.0


def test_levers_in_a_file_become_the_monthly_policy(tmp_path):
    path = write(tmp_path, "s.toml", 'name = "s"\n[levers]\nplatform_injury_protection = {from = "2022-07", value = true}\n'
                 'postdoc_quota = {path = [["2021-01", 1000], ["2021-11", 2000]]}\n')
    levers = load_scenario(path).levers
    assert levers.policy_at(M("2022-06")).platform_injury_protection is False
    assert levers.policy_at(M("2022-07")).platform_injury_protection is True
    assert levers.policy_at(M("2021-06")).postdoc_quota == pytest.approx(1500)


def test_the_library_is_valid_and_cites_the_plan():
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    assert {f.stem for f in files} >= {"baseline", "plan", "minimum_wage_40", "skills_drive", "insurance_drive", "employment_assistance"}
    for path in files:
        scenario = load_scenario(path)
        if scenario.name == "realised":  # the backtest's policy of 2016-2022 cites its standards instead
            assert "浙政发〔2021〕22号" in path.read_text() and scenario.start == parse_month("2016-01")
        elif scenario.name != "baseline":
            assert "plan" in scenario.description and "extends" in path.read_text()
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "scenario", "show", str(ROOT / "scenarios/plan.toml")],
                          capture_output=True, text=True)
    assert done.returncode == 0 and '"postdoc_quota"' in done.stdout and '"2021-08"' in done.stdout


def annual(model, indicator, year):
    return dict(((y, k), v) for y, k, v in model.recorder.annual())[(year, indicator)]


# Each lever against its 2020 default, same seed: the indicator its mechanism feeds moves the expected way.
LEVER_EFFECTS = {
    "retirement_reform": (False, "labour_force", -1, 2025),
    "platform_injury_protection": (True, "work_injury_insured", +1, 2023),
    "insurance_enforcement": (3.0, "unemployment_insured", +1, 2023),
    "employer_contribution_rate": (0.30, "unemployment_insured", -1, 2023),
    "training_subsidy_rate": (0.9, "vocational_training", +1, 2023),
    # Take-up: baseline demand is about 1.1x the training capacity, so more take-up
    # is turned away; less take-up is what moves the volume (the rise at 2.0 was
    # an artefact of capping noisy draws at scale 1000).
    "training_volume": (0.5, "vocational_training", -1, 2023),
    "training_capacity": (0.3, "vocational_training", -1, 2023),
    "high_skill_training": (3.0, "new_senior_vocational_certificates", +1, 2023),
    "postdoc_quota": (3000.0, "postdoc_recruitment", +1, 2023),
    "mediation_capacity": (0.5, "dispute_mediation_success_rate", -1, 2023),
    "arbitration_capacity": (0.5, "arbitration_closure_rate", -1, 2023),
    "inspection_capacity": (0.5, "inspection_closure_rate", -1, 2023),
    "ecard_promotion": (2.0, "electronic_card_coverage", +1, 2023),
    "matching_efficiency": (1.5, "surveyed_unemployment_rate", -1, 2023),
    "hard_to_employ_placement": (20.0, "surveyed_unemployment_rate", -1, 2023),
    "graduate_placement": (0.3, "surveyed_unemployment_rate", -1, 2023),
    "startup_support": (20.0, "surveyed_unemployment_rate", -1, 2023),
    "collective_bargaining": (1.0, "average_wage", +1, 2023),
    "wage_guideline": (0.15, "average_wage", +1, 2023),
    "contribution_base_floor": (0.9, "pension_fund_contributions", +1, 2021),
    "contribution_base_ceiling": (1.2, "pension_fund_contributions", -1, 2021),
    "base_compliance": (1.3, "pension_fund_contributions", +1, 2021),
    "pension_indexation": (0.10, "pension_fund_expenditure", +1, 2021),
    "pension_fiscal_subsidy": (100.0, "pension_fund_income", +1, 2021),
    "state_capital_transfer": (100.0, "pension_fund_income", +1, 2021),
}


def test_every_lever_has_an_effect_test():
    assert set(LEVER_EFFECTS) == set(LEVERS)


@functools.cache
def _built():
    """The seed-8 population at scale 1000, built once (levers do not enter the build)."""
    return LabourModel.build(8, 1000, Calibration.load())


@functools.cache
def _default_run(end: int) -> LabourModel:
    """The 2020 defaults run to `end` from that population, shared by every lever's comparison."""
    model = LabourModel(seed=8, scale=1000, population=copy.deepcopy(_built()))
    model.run_until(end)
    return model


@pytest.mark.parametrize("lever", sorted(LEVER_EFFECTS))
def test_every_lever_moves_its_mechanism(lever):
    value, indicator, direction, year = LEVER_EFFECTS[lever]
    field = {"insurance_enforcement": "enforcement"}.get(lever, lever)
    end = parse_month(f"{year}-12")
    moved = LabourModel(seed=8, scale=1000, policy=Policy(**{field: value}), population=copy.deepcopy(_built()))
    moved.run_until(end)
    # The mean over 2021..year, so small counts at this scale do not decide the sign.
    results = [np.mean([annual(model, indicator, y) for y in range(2021, year + 1)])
               for model in (_default_run(end), moved)]
    assert np.sign(results[1] - results[0]) == direction, results


def test_minimum_wage_share_rule_reaches_its_share(tmp_path):
    path = write(tmp_path, "mw.toml", 'name = "mw"\nend = "2023-12"\n[levers.minimum_wage]\nrule = "share_of_average_wage"\n'
                 'share = 0.4\nfirst_adjustment = "2021-08"\ninterval_months = 12\n')
    scenario = load_scenario(path)
    model = LabourModel(seed=1, scale=2000, policy=scenario.levers)
    model.run_until(scenario.end)
    assert annual(model, "minimum_wage_to_average_wage", 2023) == pytest.approx(40.0, abs=0.01)


def test_a_lever_in_one_process_leaves_another_process_draws_unchanged():
    """Common random numbers: a training lever changes who trains, not who dies or
    which firms close (their streams are their own)."""
    died, closed = [], []
    for policy in (Policy(), Policy(training_volume=3.0, high_skill_training=3.0)):
        model = LabourModel(seed=12, scale=2000, policy=policy)
        model.run_until(parse_month("2021-06"))
        died.append(model.streams.uniform_per_row("demography", parse_month("2021-06"), "death", 1000))
        closed.append(model.streams.uniform_per_row("labour_demand", parse_month("2021-06"), "exit", 1000))
    assert np.array_equal(died[0], died[1]) and np.array_equal(closed[0], closed[1])
    # and the deaths themselves are the same people: the demography outcome does not depend on training
    ledgers = []
    for policy in (Policy(), Policy(training_volume=3.0)):
        model = LabourModel(seed=12, scale=2000, policy=policy)
        model.run_until(parse_month("2021-12"))
        ledgers.append([m["deaths"] for m in model.ledger])
    assert ledgers[0] == ledgers[1]


def test_minimum_wage_lever_raises_wages_and_costs_low_wage_jobs():
    base = load_scenario(ROOT / "scenarios/baseline.toml", scale=1000)
    high = load_scenario(ROOT / "scenarios/minimum_wage_40.toml", scale=1000)
    results = {}
    for scenario in (base, high):
        model = LabourModel(seed=3, scale=1000, policy=scenario.levers)
        model.run_until(parse_month("2025-12"))
        results[scenario.name] = (annual(model, "average_wage", 2025), np.mean([m["end"] for m in model.ledger]),
                                  int((~model.firms.complies_min_wage & model.firms.alive).sum()))
        results[scenario.name] += (float(model.firm_sizes().sum()),)
        results[scenario.name] += ({key: annual(model, key, 2025) for key in
                                    ("wage_p10_unit", "wage_p50_unit", "minimum_wage_bite", "kaitz_index")},)
    assert results["minimum_wage_40"][0] > results["baseline"][0]  # higher wages
    assert results["minimum_wage_40"][2] > results["baseline"][2]  # more firms evading
    assert results["minimum_wage_40"][3] < results["baseline"][3]  # fewer unit jobs
    # Who gains (issue 16): the bottom of the distribution rises, more are paid near the minimum, the median does not fall.
    high, low = results["minimum_wage_40"][4], results["baseline"][4]
    assert high["wage_p10_unit"] > 1.05 * low["wage_p10_unit"]
    assert high["minimum_wage_bite"] > 2 * low["minimum_wage_bite"]
    assert high["kaitz_index"] > low["kaitz_index"] + 3
    assert high["wage_p50_unit"] >= low["wage_p50_unit"]


def test_minimum_wage_standards_are_whole_yuan_and_a_reset_at_the_same_level_is_no_rise():
    """The baseline re-sets the minimum in 2021-08 at its 2020 ratio to the 2020
    average wage, which gives the 2020 standard again: no rise (a float32
    product once made it 2,010.0002, and the wage process treated that as a
    rise).  Minimum wage 40 sets whole-yuan standards."""
    for name, month in (("baseline", "2021-08"), ("minimum_wage_40", "2022-08")):
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.toml", scale=4000)
        model = LabourModel(seed=2, scale=4000, policy=scenario.levers)
        model.run_until(parse_month(month))
        assert np.all(model.minimum_wage == np.round(model.minimum_wage)), name
        if name == "baseline":
            assert model.minimum_wage.tolist() == [2010, 1800, 1660, 1500]
            assert model.flows["firms_evading_minimum_wage"] == 0


def test_scenario_show_prints_the_minimum_wage_as_a_scenario_file_writes_it(tmp_path):
    """The shown [levers.minimum_wage] table, written back into a file, validates to the same rule."""
    import json as _json

    from sim.scenario import describe, load_scenario

    for name in ("baseline", "realised", "minimum_wage_40"):
        original = load_scenario(ROOT / "scenarios" / f"{name}.toml")
        table = describe(original)["minimum_wage"]
        lines = [f"{k} = {_toml(v)}" for k, v in table.items()]
        path = tmp_path / f"{name}.toml"
        path.write_text(f'format = 1\nname = "{name}"\nstart = "{describe(original)["start"]}"\nend = "{describe(original)["end"]}"\n'
                        "[levers.minimum_wage]\n" + "\n".join(lines) + "\n")
        assert load_scenario(path).levers.minimum_wage == original.levers.minimum_wage, name


def _toml(value) -> str:
    """A value as TOML (strings, numbers, arrays, inline tables)."""
    import json as _json

    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return _json.dumps(value)
