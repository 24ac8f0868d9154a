"""The calibration's data and simulator: the 2015 baseline, parameter overrides, the moments."""

import numpy as np
import pytest

from sim.backtest import Point
from sim.calibration import Calibration
from sim.errors import InputError
from sim.fit import PLAN_COLUMN_1, fit_points, moment_name, moments_of, point_value, simulate_points
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
    changed = params.with_values({"talent.senior_rate": 0.002, "insurance.enrolment_catch_up[1]": 0.02})
    assert changed("talent.senior_rate") == 0.002
    assert changed("insurance.enrolment_catch_up")[1] == 0.02
    assert changed("insurance.enrolment_catch_up")[0] == params("insurance.enrolment_catch_up")[0]
    assert params("talent.senior_rate") != 0.002  # the original is untouched
    with pytest.raises(InputError, match="no such parameter"):
        params.with_values({"talent.no_such_rate": 1.0})


def test_the_fit_window_takes_measurements_up_to_its_last_year_only():
    early, full = fit_points(2020), fit_points(2022)
    assert max(int(p.period[:4]) for p in early) == 2020 and max(int(p.period[:4]) for p in full) == 2022
    for points in (early, full):
        assert not any(p.bound == "lower" or p.kind == "growth" for p in points)  # floors and derived growth are left out
        names = [moment_name(p) for p in points]
        assert len(names) == len(set(names))
    assert {("pension_insured", "2015"), ("senior_title_talent", "2020")} <= {(p.indicator, p.period) for p in full}
    assert len(full) == len(early) + sum(1 for p in full if p.period[:4] in ("2021", "2022"))
    assert len(PLAN_COLUMN_1) == 7


def test_moment_uncertainty_follows_the_kind_and_the_confidence():
    points = [Point("employed", "2022", "", 4000.0, "", "", "stock", "s", "high"),
              Point("new_urban_jobs", "2017", "", 100.0, "", "", "flow", "s", "medium"),
              Point("surveyed_unemployment_rate", "2022-09", "", 4.4, "", "", "rate", "s", "low")]
    # half the backtest tolerance (3%, 10%, 0.5 pp) for high, the tolerance for medium, twice it for low
    assert [m.sd for m in moments_of(points)] == pytest.approx([60.0, 10.0, 1.0])


def test_a_cumulative_point_sums_its_months():
    values = {(f"2020-{m:02d}", "new_urban_jobs"): float(m) for m in range(1, 13)}
    values[("2020", "employed")] = 3860.0
    assert point_value(values, Point("new_urban_jobs", "2020-03", "2020-01", 26, "", "", "flow", "s", "medium")) == 6.0
    assert point_value(values, Point("employed", "2020", "", 3860, "", "", "stock", "s", "high")) == 3860.0
    assert np.isnan(point_value(values, Point("employed", "2021", "", 1, "", "", "stock", "s", "high")))


def test_the_shipped_values_reproduce_the_2020_actuals_within_15_percent():
    """params.toml (the values of --uncertainty fixed), 2016-2020 from the 2015 baseline at scale 1000."""
    points = tuple(p for p in fit_points(2020) if p.period == "2020" or p.start == "2016-01")
    simulated = simulate_points({}, np.random.SeedSequence(2015).spawn(1)[0], scale=1000, end_year=2020, points=points)
    assert len(points) >= 10
    for p in points:
        assert simulated[moment_name(p)] == pytest.approx(p.value, rel=0.15), moment_name(p)


def test_writing_point_values_changes_only_those_values(tmp_path):
    """`zjsim calibrate --write` rewrites the inferred values in params.toml and
    keeps every other byte (comments, priors, notes)."""
    from sim.calibration import EntryFile, write_point_values

    source = Calibration.load().params.path
    copy = tmp_path / "params.toml"
    copy.write_bytes(source.read_bytes())
    text = write_point_values(copy, {"insurance.enrolment_catch_up[1]": 0.0031234567, "talent.senior_rate": 0.002})
    before, after = source.read_text().splitlines(), text.splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after) and len(changed) == 2
    shipped = EntryFile.load(source)("insurance.enrolment_catch_up")
    assert changed[0][1].startswith(f"enrolment_catch_up = {{ value = [{shipped[0]:.6g}, 0.00312346, {shipped[2]:.6g}],")
    assert changed[1][1].startswith('senior_rate = { value = 0.002, status = "fitted", fit = "the best-fitting accepted')
    copy.write_text(text)
    reread = EntryFile.load(copy)
    assert reread("insurance.enrolment_catch_up")[1] == pytest.approx(0.00312346)
    assert reread("talent.senior_rate") == 0.002
    assert reread.entries["talent.senior_rate"]["prior"] == EntryFile.load(source).entries["talent.senior_rate"]["prior"]
    # An assumption whose value the calibration wrote becomes fitted, and says how.
    text = write_point_values(copy, {"separations.young_multiplier": 2.0})
    line = next(l for l in text.splitlines() if l.startswith("young_multiplier"))
    assert 'value = 2.0, status = "fitted", fit = "the best-fitting' in line and "note = " in line


def test_point_candidates_are_the_particles_closest_to_the_data_and_scored_by_expected_distance():
    import pandas as pd

    from sim.abc import Inference, Moment
    from sim.fit import INFERRED, closest_particles, expected_distance

    first = next(iter(INFERRED))
    particles = pd.DataFrame({name: [1.0, 2.0, 3.0] for name in INFERRED} | {"weight": [1 / 3] * 3})
    particles[first] = [0.1, 0.2, 0.3]
    inference = Inference(particles, np.array([0.5, 0.2, 0.9]), [1.0], 3, 1.0, 1)
    closest = closest_particles(inference, 2)
    assert [c[first] for c in closest] == [0.2, 0.1] and set(closest[0]) == set(INFERRED)

    moments = [Moment("a", 10.0, 2.0), Moment("b", 0.0, 1.0)]
    # (1/2)^2 + 1^2 = 1.25 and (3/2)^2 + 1^2 = 3.25: mean 2.25
    assert expected_distance([{"a": 11.0, "b": 1.0}, {"a": 13.0, "b": -1.0}], moments) == pytest.approx(2.25)
    assert expected_distance([{"a": 11.0}], moments) == float("inf")
