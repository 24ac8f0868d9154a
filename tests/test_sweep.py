"""Sweeps: designs, inputs, and Sobol indices that tell a driver from an input that does not matter."""

from pathlib import Path

import pytest

from sim.errors import InputError
from sim.executors import LocalExecutor
from sim.scenario import load_scenario
from sim.sweep import Input, deciders, design, parse_vary, run_sweep

ROOT = Path(__file__).resolve().parent.parent


def test_inputs_are_validated():
    assert parse_vary("training_volume=0.5:2") == Input("training_volume", 0.5, 2.0)
    assert parse_vary("insurance.enrolment_catch_up[1]=0.001:0.02").name == "insurance.enrolment_catch_up[1]"
    with pytest.raises(InputError, match="not a numeric lever"):
        parse_vary("retirement_reform=0:1")
    with pytest.raises(InputError, match="no such parameter"):
        parse_vary("talent.no_such_rate=0:1")
    with pytest.raises(InputError, match="LOW must be below HIGH"):
        parse_vary("training_volume=2:1")
    with pytest.raises(InputError, match="within 0 to 10"):
        parse_vary("training_volume=0.5:20")


def test_designs_cover_the_ranges():
    inputs = [Input("a", 0.0, 1.0), Input("b", 10.0, 20.0)]
    sobol = design(inputs, "sobol", 8, seed=1)
    assert sobol.shape == (8 * (2 + 2), 2)  # Saltelli without second-order terms
    lhs = design(inputs, "lhs", 10, seed=1)
    assert lhs.shape == (10, 2) and (lhs[:, 1] >= 10).all() and (lhs[:, 1] <= 20).all()


def test_total_index_is_near_zero_for_an_input_that_does_not_matter_and_dominates_for_the_driver():
    scenario = load_scenario(ROOT / "scenarios/baseline.toml", scale=5000)
    inputs = [Input("insurance_enforcement", 0.5, 3.0), Input("postdoc_quota", 1000.0, 3000.0)]
    table, indices = run_sweep(scenario, inputs, method="sobol", samples=8, replicates=1, seed=7, executor=LocalExecutor(2))
    assert len(table) == 8 * 4
    st = indices.set_index(["output", "input"])["ST"]
    # The postdoc quota does not touch social insurance (its own streams: common random numbers) ...
    assert abs(st["unemployment_insured", "postdoc_quota"]) < 0.05
    # ... while enforcement drives it, and the quota drives postdoc recruitment.
    assert st["unemployment_insured", "insurance_enforcement"] > 0.5
    assert st["postdoc_recruitment", "postdoc_quota"] > 0.5 > abs(st["postdoc_recruitment", "insurance_enforcement"])
    decided = deciders(indices).set_index("output")["decided by"]
    assert decided["unemployment_insured"].startswith("insurance_enforcement")


def test_sweep_files_are_read_and_checked(tmp_path):
    from sim.sweep import read_sweep_file

    inputs = read_sweep_file(str(ROOT / "scenarios/sweeps/insurance_and_skills.toml"))
    assert [i.name for i in inputs][:2] == ["insurance_enforcement", "high_skill_training"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[vary]\ntraining_volume = [2]\n')
    with pytest.raises(InputError, match="key 'vary.training_volume': value \\[2\\] is not allowed"):
        read_sweep_file(str(bad))
    bad.write_text('[vary]\nretirement_reform = [0, 1]\n')
    with pytest.raises(InputError, match="not a numeric lever"):
        read_sweep_file(str(bad))


def test_unreliable_sobol_indices_carry_a_warning():
    import pandas as pd

    from sim.sweep import sobol_warning

    noisy = pd.DataFrame({"S1": [1.3, 0.2], "ST": [1.1, 0.3], "S1_conf": [0.9, 0.1], "ST_conf": [0.8, 0.1]})
    assert "2 base samples are unreliable (1 outside [0, 1], 1 with a confidence" in sobol_warning(noisy, 2)
    assert sobol_warning(noisy.iloc[[1]], 128) is None
    assert "64 or more" in sobol_warning(noisy.iloc[[1]], 16)
