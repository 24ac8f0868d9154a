"""Macro conditions: dated, cited inputs (calibration/macro.toml) that a scenario may replace."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.calibration import CALIBRATION_DIR, MACRO_PATHS, Calibration
from sim.errors import InputError
from sim.levers import ASSUMPTIONS, DATED_DEFAULTS
from sim.macro import load_macro
from sim.model import LabourModel
from sim.scenario import load_scenario
from sim.status import Status
from sim.timeline import parse_month

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_paths_are_realised_to_2022_and_projected_after():
    macro = Calibration.load().macro
    assert set(macro) == set(ASSUMPTIONS) | set(DATED_DEFAULTS)
    # The colleges' intake of a year is known from its graduates three years later.
    lead = {"college_intake": 3}
    for path in macro.values():
        if any(kind == "assumption" for *_, kind, _ in path.points):
            # No figure published at all (the pooling transfer): realised zeros before it existed, then one stated value.
            assert {kind for *_, kind, _ in path.points} == {"realised", "assumption"}, path.name
            continue
        realised = [year + lead.get(path.name, 0) for year, _, kind, _ in path.points if kind == "realised"]
        projected = [year + lead.get(path.name, 0) for year, _, kind, _ in path.points if kind == "projection"]
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
        # The funds' paths are checked the same way (kind, and the range of their lever).
        ('{ year = 2017, value = 0.055, kind = "realised"', '{ year = 2017, value = 0.055, kind = "estimate"',
         "pension_indexation.values[1]", "kind 'estimate' is not allowed; expected one of realised, projection, assumption"),
        ('{ year = 2017, value = 0.055, kind = "realised"', '{ year = 2017, value = 0.55, kind = "realised"',
         "pension_indexation.values[1]", "value 0.55 is not allowed; expected a number from -0.05 to 0.2"),
        ('{ year = 2018, value = -187.0, kind = "assumption"', '{ year = 2018, value = -187.0, kind = "Assumption"',
         "pension_pooling_transfer.values[1]", "kind 'Assumption' is not allowed"),
    ],
)
def test_a_bad_macro_file_names_the_key(tmp_path, old, new, key, message):
    folder = tmp_path / "calibration"
    shutil.copytree(CALIBRATION_DIR, folder)
    text = (folder / "macro.toml").read_text(encoding="utf-8")
    assert old in text
    (folder / "macro.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_macro(folder / "macro.toml", MACRO_PATHS)
    assert f"key '{key}'" in str(err.value) and message in str(err.value)


def test_a_scenario_assumption_replaces_the_path_and_moves_wages(tmp_path):
    flat = tmp_path / "flat.toml"
    flat.write_text(f'name = "flat"\nextends = "{ROOT / "scenarios/baseline.toml"}"\n'
                    '[assumptions]\nwage_growth_private = 0.0\nwage_growth_non_private = 0.0\nnet_migration = { from = "2021-01", value = -20.0 }\n'
                    'college_intake = 0.0\n')  # students from other provinces would come on top of so few arrivals
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
        ("[assumptions]\ncollege_intake = -5.0\n", "key 'assumptions.college_intake': value -5.0 is not allowed"),
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


def test_students_from_other_provinces_fill_the_colleges_intake(tmp_path):
    """Each July the residents who go on to college plus the students from other
    provinces make the intake of macro.toml; the 2020 population graduates the
    published classes (38.3万 in 2022); students count in net migration; and a
    scenario may assume another intake."""
    model = LabourModel(seed=4, scale=1000)
    model.run_until(parse_month("2021-06"))
    people = model.people
    students = lambda: (people.status == Status.SCHOOL) & (people.edu == 2)  # noqa: E731
    before, rows_before = students(), people.n
    model.step()  # July 2021
    arrivals = model.flows["college_arrivals"]
    after = students()
    residents_going_on = int(np.count_nonzero(after[:rows_before] & ~before))
    intake = model.calibration.macro["college_intake"].at(parse_month("2021-07")) * 1e4 / model.scale
    assert 0 < arrivals == int(np.count_nonzero(after[rows_before:]))
    assert residents_going_on + arrivals == pytest.approx(intake, abs=1.0)
    assert model.ledger[-1]["in_migrants"] >= arrivals
    model.run_until(parse_month("2022-12"))
    graduates = sum(p.get("college_graduates", 0) for m, p in model.recorder.parts.items() if m // 12 == 2022)
    assert graduates * model.scale / 1e4 == pytest.approx(38.3, rel=0.05)  # calibration/macro.toml, the class of 2022

    none = tmp_path / "none.toml"
    none.write_text(f'name = "none"\nextends = "{ROOT / "scenarios/baseline.toml"}"\n[assumptions]\ncollege_intake = 0.0\n')
    model = LabourModel(seed=4, scale=1000, policy=load_scenario(none).levers)
    model.run_until(parse_month("2021-07"))
    assert model.flows["college_arrivals"] == 0
