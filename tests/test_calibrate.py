"""The calibration engine recovers known parameters of a toy model and resumes from its checkpoint."""

import numpy as np
import pytest

from sim.calibrate import Moment, Parameter, calibrate, report


def toy_model(values, seed):
    """Moments of a toy model with parameters a and b, plus simulation noise."""
    noise = np.random.default_rng(seed).normal(0.0, 0.01, 2)
    return {"level": values["a"] * (1 + noise[0]), "product": values["a"] * values["b"] * (1 + noise[1])}


PARAMETERS = [Parameter("a", 0.5, 5.0, "level"), Parameter("b", 0.5, 5.0, "product")]
MOMENTS = [Moment("level", 2.0), Moment("product", 6.0)]  # true a = 2, b = 3


def test_recovers_known_parameters_and_the_objective_decreases():
    result = calibrate(toy_model, PARAMETERS, MOMENTS, points=16, replicates=3, local_evaluations=120, seed=1)
    a, b = result.best.x
    assert a == pytest.approx(2.0, rel=0.03) and b == pytest.approx(3.0, rel=0.03)
    assert result.best.loss <= result.design_best.loss
    assert result.design_best.loss < np.median([e.loss for e in result.evaluations[:16]])
    text = report(PARAMETERS, MOMENTS, result, {"points": 16})
    assert "| a |" in text and "| product | 6 |" in text


def test_an_interrupted_calibration_resumes_from_its_checkpoint(tmp_path):
    checkpoint = tmp_path / "calibration.jsonl"
    first = calibrate(toy_model, PARAMETERS, MOMENTS, points=8, replicates=2, local_evaluations=20, seed=4, checkpoint=checkpoint)
    assert first.simulated > 0 and checkpoint.exists()
    again = calibrate(toy_model, PARAMETERS, MOMENTS, points=8, replicates=2, local_evaluations=20, seed=4, checkpoint=checkpoint)
    assert again.simulated == 0  # every point read back, none simulated again
    assert again.best.x == first.best.x


def test_a_better_starting_point_is_refined_from():
    """Given a start at the true values, the local search begins there and keeps the loss at its minimum."""
    truth = {"a": 2.0, "b": 3.0}
    refined = calibrate(toy_model, PARAMETERS, MOMENTS, points=2, replicates=2, local_evaluations=5, seed=4, start=truth)
    cold = calibrate(toy_model, PARAMETERS, MOMENTS, points=2, replicates=2, local_evaluations=5, seed=4)
    assert refined.best.loss <= cold.best.loss and refined.best.loss < 1e-3


def test_the_design_runs_through_an_executor_with_the_same_result():
    from sim.executors import LocalExecutor

    serial = calibrate(toy_model, PARAMETERS, MOMENTS, points=8, replicates=2, local_evaluations=10, seed=3)
    pooled = calibrate(toy_model, PARAMETERS, MOMENTS, points=8, replicates=2, local_evaluations=10, seed=3,
                       executor=LocalExecutor(2))
    assert pooled.best.x == serial.best.x and pooled.best.loss == serial.best.loss
