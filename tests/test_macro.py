"""Macro conditions: dated, cited inputs (calibration/macro.toml) that a scenario may replace."""

import shutil
from pathlib import Path

import pytest

from sim.calibration import CALIBRATION_DIR, Calibration
from sim.errors import InputError
from sim.levers import ASSUMPTIONS
from sim.macro import load_macro
from sim.model import LabourModel
from sim.scenario import load_scenario
from sim.timeline import parse_month

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_paths_are_realised_to_2022_and_projected_after():
    macro = Calibration.load().macro
    assert set(macro) == set(ASSUMPTIONS)
    for path in macro.values():
        realised = [year for year, _, kind, _ in path.points if kind == "realised"]
        projected = [year for year, _, kind, _ in path.points if kind == "projection"]
        assert max(realised) == 2022 and min(projected) == 2023, path.name
        assert all(source for *_, source in path.points)
    wages = macro["wage_growth_private"]
    # 2022 bulletin: non-private 128,825 on 122,309, private 71,934 on 69,228.
    assert wages.at(parse_month("2022-06")) == pytest.approx(71934 / 69228 - 1, abs=1e-4)
    assert macro["wage_growth_non_private"].at(parse_month("2022-06")) == pytest.approx(128825 / 122309 - 1, abs=1e-4)
    assert wages.at(parse_month("2015-01")) == wages.points[0][1]  # before the first year: the first value
    assert wages.at(parse_month("2030-01")) == wages.points[-1][1]  # after the last: the last


@pytest.mark.parametrize(
    "old, new, key, message",
    [
        ('{ year = 2022, value = 0.0391, kind = "realised"', '{ year = 2022, value = 0.9, kind = "realised"',
         "wage_growth_private.values[3]", "value 0.9 is not allowed; expected a number from -0.2 to 0.5"),
        ('{ year = 2022, value = 0.0391, kind = "realised"', '{ year = 2022, value = 0.0391, kind = "guess"',
         "wage_growth_private.values[3]", "kind 'guess' is not allowed"),
        ('{ year = 2021, value = 0.1439', '{ year = 2023, value = 0.1439', "wage_growth_private", "years must be distinct and in increasing order"),
        ("[net_migration]", "[net_migration_renamed]", "net_migration", "missing"),
    ],
)
def test_a_bad_macro_file_names_the_key(tmp_path, old, new, key, message):
    folder = tmp_path / "calibration"
    shutil.copytree(CALIBRATION_DIR, folder)
    text = (folder / "macro.toml").read_text(encoding="utf-8")
    assert old in text
    (folder / "macro.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_macro(folder / "macro.toml", ASSUMPTIONS)
    assert f"key '{key}'" in str(err.value) and message in str(err.value)


def test_a_scenario_assumption_replaces_the_path_and_moves_wages(tmp_path):
    flat = tmp_path / "flat.toml"
    flat.write_text(f'name = "flat"\nextends = "{ROOT / "scenarios/baseline.toml"}"\n'
                    '[assumptions]\nwage_growth_private = 0.0\nwage_growth_non_private = 0.0\nnet_migration = { from = "2021-01", value = -20.0 }\n')
    scenario = load_scenario(flat)
    growth = []
    for levers in (load_scenario(ROOT / "scenarios/baseline.toml").levers, scenario.levers):
        model = LabourModel(seed=2, scale=2000, policy=levers)
        model.run_until(parse_month("2021-12"))
        annual = {(y, k): v for y, k, v in model.recorder.annual()}
        growth.append((annual[(2021, "average_wage")] / annual[(2020, "average_wage")] - 1,
                       annual[(2021, "resident_population")] - annual[(2020, "resident_population")]))
    (base_wage, base_people), (flat_wage, flat_people) = growth
    assert base_wage == pytest.approx(0.135, abs=0.02)  # the realised 2021 growth (12.6% and 14.4%)
    assert abs(flat_wage) < 0.02  # no wage growth assumed: composition only
    assert flat_people < 0 < base_people  # net out-migration of 20万 shrinks the population


@pytest.mark.parametrize(
    "body, message",
    [
        ("[assumptions]\nwage_growth_private = 0.9\n", "key 'assumptions.wage_growth_private': value 0.9 is not allowed"),
        ("[assumptions]\ninflation = 0.02\n", "key 'assumptions.inflation': unknown macro condition"),
        ('start = "2018-01"\n', "key 'start': month 2018-01 is not allowed; a run starts in 2016-01 or 2021-01"),
        ("assumptions = 3\n", "key 'assumptions': expected a table of macro conditions"),
    ],
)
def test_bad_assumptions_and_starts_are_refused(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\nextends = "{ROOT / "scenarios/baseline.toml"}"\n' + body)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert message in str(err.value)
