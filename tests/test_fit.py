"""Calibration to the 13th plan period: the 2015 baseline, parameter overrides, writing params.toml."""

import shutil
import tomllib

import numpy as np
import pytest

from sim.calibrate import Evaluation, Result
from sim.calibration import CALIBRATION_DIR, Calibration
from sim.fit import MOMENTS, PARAMETERS, period_moments, with_parameters, write_parameters
from sim.model import LabourModel


def test_the_2015_population_matches_column_1_of_the_plan():
    model = LabourModel(seed=1, scale=1000, calibration=Calibration.load(baseline_year=2015))
    base = {key: value for year, key, value in model.recorder.annual() if year == 2015}
    # plan_history_2015_2020.csv, value_2015
    for key, value in {"pension_insured": 3684, "unemployment_insured": 1260, "work_injury_insured": 1930,
                       "professional_technical_talent": 480, "high_skilled_talent": 220,
                       "social_security_card_holders": 4677}.items():
        assert base[key] == pytest.approx(value, rel=0.01), key
    assert model.month == 2015 * 12 + 11


def test_parameter_overrides_replace_values_and_vector_elements():
    params = Calibration.load().params
    changed = with_parameters(params, {"talent.senior_rate": 0.002, "insurance.enrolment_catch_up[1]": 0.02})
    assert changed("talent.senior_rate") == 0.002
    assert changed("insurance.enrolment_catch_up")[1] == 0.02
    assert changed("insurance.enrolment_catch_up")[0] == params("insurance.enrolment_catch_up")[0]
    assert params("talent.senior_rate") != 0.002  # the original is untouched


def test_writing_fitted_values_keeps_params_toml_valid_and_commented(tmp_path):
    path = tmp_path / "params.toml"
    shutil.copy(CALIBRATION_DIR / "params.toml", path)
    x = tuple(p.lo + 0.25 * (p.hi - p.lo) for p in PARAMETERS)
    result = Result(best=Evaluation(x, 0.1, {}), design_best=Evaluation(x, 0.1, {}))
    write_parameters(result, path)
    write_parameters(result, path)  # twice: no duplicated keys
    data = tomllib.loads(path.read_text())
    assert data["talent"]["senior_rate"]["value"] == pytest.approx(x[4], rel=1e-5)
    assert data["insurance"]["enrolment_catch_up"]["value"][2] == pytest.approx(x[2], rel=1e-5)
    assert data["talent"]["senior_rate"]["status"] == "fitted" and "senior_title_talent" in data["talent"]["senior_rate"]["fit"]
    assert path.read_text().startswith("# Behavioural parameters")


def test_the_period_run_produces_every_moment():
    moments = period_moments(Calibration.load(baseline_year=2015), {}, np.random.SeedSequence(3), 5000)
    assert set(moments) == {m.name for m in MOMENTS}
    assert all(value > 0 for value in moments.values())


def test_the_shipped_parameters_reproduce_the_plan_2020_actuals_within_tolerance():
    """The fitted params.toml, run 2016-2020 from the 2015 baseline at a small scale,
    lands within the fit report's stated tolerance of every moment."""
    from sim.fit import TOLERANCE

    moments = period_moments(Calibration.load(baseline_year=2015), {}, np.random.SeedSequence(2015).spawn(1)[0], 1000)
    for moment in MOMENTS:
        assert moments[moment.name] == pytest.approx(moment.target, rel=TOLERANCE), moment.name
    report = (CALIBRATION_DIR / "fit_report.md").read_text()
    assert f"tolerance per moment = {TOLERANCE:.0%}" in report
