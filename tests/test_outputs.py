"""The output contract of a run folder (later tools read it)."""

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from sim.calibration import Calibration
from sim.errors import InputError
from sim.indicators import INDICATORS
from sim.runner import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def test_columns_types_and_periods(small_run):
    folder, frame = small_run
    assert list(frame.columns) == ["scenario", "replicate", "period", "indicator", "value"]
    assert frame["replicate"].dtype == np.int64 and frame["value"].dtype == np.float64
    assert set(frame["scenario"]) == {"baseline"}
    annual = sorted(frame.loc[frame["period"].str.len() == 4, "period"].unique())
    assert annual == ["2020", "2021", "2022", "2023", "2024", "2025"]
    monthly = sorted(frame.loc[frame["period"].str.len() == 7, "period"].unique())
    assert monthly[0] == "2020-12" and monthly[-1] == "2025-12" and len(monthly) == 61
    assert not frame.duplicated(["scenario", "replicate", "period", "indicator"]).any()
    assert frame["value"].notna().all()


def test_indicator_ids_match_the_plan_table(small_run):
    _, frame = small_run
    with (ROOT / "calibration" / "plan_indicators_2025.csv").open() as handle:
        plan = {row["id"]: row["unit"] for row in csv.DictReader(handle)}
    produced = set(frame["indicator"])
    assert produced == {i.id for i in INDICATORS}
    for indicator in INDICATORS:
        if indicator.id in plan:
            assert indicator.unit == plan[indicator.id]
    assert {"new_urban_jobs", "surveyed_unemployment_rate", "minimum_wage_to_average_wage"} <= produced & set(plan)


def test_2020_rows_hold_the_baseline(small_run, calibration):
    _, frame = small_run
    base = frame[frame["period"] == "2020"].set_index("indicator")["value"]
    s = calibration.stocks
    assert base["resident_population"] == pytest.approx(s("population.resident_total") / 1e4, rel=1e-4)
    assert base["employed"] == pytest.approx(s("labour.employed_total") / 1e4, rel=1e-3)
    assert base["surveyed_unemployment_rate"] == pytest.approx(100 * s("labour.surveyed_unemployment_rate"), abs=0.1)
    # The social average wage lies between the private and non-private unit means.
    assert s("wages.private_annual") < base["average_wage"] < s("wages.non_private_annual")
    # Against the previous year's (2019) published average wage, as the standard is set.
    assert base["minimum_wage_to_average_wage"] == pytest.approx(100 * 12 * 2010 / s("wages.average_previous_year"))
    assert "new_urban_jobs" not in base.index  # a flow: no 2020 simulation, no 2020 value


def test_annual_values_are_formed_from_the_months(small_run):
    _, frame = small_run
    monthly = frame[frame["period"].str.startswith("2023-")].pivot(index="period", columns="indicator", values="value")
    annual = frame[frame["period"] == "2023"].set_index("indicator")["value"]
    assert annual["new_urban_jobs"] == pytest.approx(monthly["new_urban_jobs"].sum())
    assert annual["surveyed_unemployment_rate"] == pytest.approx(monthly["surveyed_unemployment_rate"].mean())
    assert annual["employed"] == pytest.approx(monthly.loc["2023-12", "employed"])
    assert monthly["average_wage"].min() <= annual["average_wage"] <= monthly["average_wage"].max()


def test_paths_are_plausible(small_run):
    """No jumps or collapses over 2021-2025 under the 2020 policies."""
    _, frame = small_run
    annual = frame[frame["period"].str.len() == 4].pivot(index="period", columns="indicator", values="value")
    assert (annual["surveyed_unemployment_rate"].between(2.5, 7.5)).all()
    assert (annual["employed"].pct_change().dropna().abs() < 0.03).all()
    assert (annual["resident_population"].diff().dropna() > 0).all()  # net in-migration exceeds natural decrease
    # Wages of each ownership grow with its macro condition (calibration/macro.toml), give or take composition.
    macro = Calibration.load().macro
    for ownership in ("private", "non_private"):
        growth = annual[f"average_wage_{ownership}"].pct_change().dropna()
        for period, value in growth.items():
            assert value == pytest.approx(macro[f"wage_growth_{ownership}"].at(int(period) * 12), abs=0.02), (ownership, period)
    assert annual.loc["2021":, "new_urban_jobs"].between(40, 400).all()


def test_manifest_is_self_contained(small_run):
    folder, _ = small_run
    manifest = json.loads((folder / "manifest.json").read_text())
    scenario_text = (ROOT / "scenarios" / "baseline.toml").read_text()
    assert manifest["scenarios"][0]["text"] == scenario_text
    assert manifest["seed"] == 11 and manifest["scale"] == 1000
    assert manifest["replicates"][0]["spawn_key"] == [0]
    for key in ("code", "packages", "python", "command_line", "started_at", "finished_at", "calibration_sha256"):
        assert manifest[key]
    assert manifest["packages"]["mesa"].startswith("3.")


def test_failed_run_leaves_no_folder(tmp_path, monkeypatch):
    import sim.runner as runner

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner.pq, "write_table", explode)
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml", scale=5000, end="2021-02")
    with pytest.raises(RuntimeError):
        run_scenario(scenario, tmp_path)
    # What is left is resumable work in progress, never a folder that looks finished.
    left = list(tmp_path.iterdir())
    assert all(p.name.startswith(".incomplete-") and not (p / "manifest.json").exists() for p in left)


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml", scale=5000, end="2021-02")
    with pytest.raises(InputError, match="cannot create the output folder"):
        run_scenario(scenario, blocker / "results")


@pytest.mark.parametrize("shared_bytes", [1 << 30, 0], ids=["shared build", "state too large to share"])
def test_scenarios_of_a_replicate_share_a_build_and_give_the_bytes_of_separate_runs(tmp_path, monkeypatch, shared_bytes):
    """A run of two scenarios builds each replicate's population once and
    copies it (or, above the size limit, builds it per scenario); each
    scenario's rows are byte for byte those of a run of that scenario alone."""
    import sim.runner as runner
    from sim.runner import run_scenarios

    monkeypatch.setattr(runner, "SHARED_BUILD_BYTES", shared_bytes)
    builds = []
    from sim.model import LabourModel

    original = LabourModel.build
    monkeypatch.setattr(LabourModel, "build", staticmethod(lambda *a: builds.append(1) or original(*a)))
    names = ("baseline", "minimum_wage_40")
    scenarios = [load_scenario(ROOT / f"scenarios/{n}.toml", scale=4000, end="2022-12") for n in names]
    together = run_scenarios(scenarios, tmp_path / "together", replicates=2, seed=3, command_line=["test"]).table
    assert len(builds) == (2 if shared_bytes else 4)  # once per replicate, or once per scenario and replicate
    for scenario in scenarios:
        alone = run_scenarios([scenario], tmp_path / scenario.name, replicates=2, seed=3, command_line=["test"]).table
        mine = together.filter(pc.equal(together["scenario"], scenario.name))
        assert mine.equals(alone)
