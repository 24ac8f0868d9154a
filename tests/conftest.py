"""Shared fixtures: small models and one small finished run."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration import Calibration
from sim.population import build_population
from sim.runner import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


@pytest.fixture(scope="session")
def calibration():
    return Calibration.load()


@pytest.fixture(scope="session", params=[1000, 100], ids=["scale1000", "scale100"])
def population(request, calibration):
    """(people, firms, derived, scale) of the 2020 build at two scales."""
    people, firms, derived = build_population(calibration, request.param, np.random.default_rng(7))
    return people, firms, derived, request.param


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """A full 2021-2025 baseline run at scale 1000: (folder, indicators frame)."""
    out = tmp_path_factory.mktemp("results")
    scenario = load_scenario(BASELINE, scale=1000, seed=11)
    result = run_scenario(scenario, out, command_line=["test"])
    return result.folder, pd.read_parquet(result.folder / "indicators.parquet")


@pytest.fixture
def scenario_dir(tmp_path):
    """A folder with a copy of the baseline scenario to edit."""
    shutil.copy(BASELINE, tmp_path / "baseline.toml")
    return tmp_path
