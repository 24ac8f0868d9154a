"""Priors in params.toml, the posterior file, and ensembles that draw from it."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from sim.calibration import CALIBRATION_DIR, Calibration, EntryFile
from sim.errors import InputError
from sim.fit import INFERRED, write_posterior
from sim.posterior import Posterior, choose_draws, replicate_parameters, variance_split
from sim.priors import read_priors
from sim.runner import run_scenarios
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def priors():
    return read_priors(Calibration.load().params)


def posterior_file(path, rows: list[dict], weights=None):
    frame = pd.DataFrame(rows)
    frame["weight"] = weights if weights is not None else 1.0
    write_posterior(frame, path, {"test": True})
    return path


def shipped_values(priors) -> dict:
    params = Calibration.load().params
    values = {}
    for p in priors:
        name, _, index = p.name.partition("[")
        value = params(name)
        values[p.name] = float(value[int(index[:-1])] if index else value)
    return values


def test_every_behavioural_parameter_has_a_prior_around_its_value(priors):
    params = Calibration.load().params
    names = {p.name.split("[")[0] for p in priors}
    without = {key for key, entry in params.entries.items() if "prior" not in entry}
    assert without == {"demography.school_leaving_month", "labour_demand.largest_firm", "labour_demand.rows_per_large_firm"}
    assert names | without == set(params.entries)
    for p in priors:
        assert p.lo < p.hi and p.why
    assert set(INFERRED) <= {p.name for p in priors}
    assert len(INFERRED) < 36  # fewer inferred parameters than informative moments: over-identified


@pytest.mark.parametrize("prior, message", [
    ({"dist": "normal", "lo": 0.0, "hi": 1.0, "why": "x"}, "dist 'normal' is not allowed"),
    ({"dist": "uniform", "lo": 0.5, "hi": 0.1, "why": "x"}, "must be below hi"),
    ({"dist": "uniform", "lo": 0.0, "hi": 0.0001, "why": "x"}, "outside the prior"),
    ({"dist": "loguniform", "lo": 0.0, "hi": 1.0, "why": "x"}, "needs lo > 0"),
    ({"dist": "uniform", "lo": float("nan"), "hi": 1.0, "why": "x"}, "finite numbers"),
    ({"dist": "uniform", "lo": 0.0, "hi": 1.0}, "expected prior ="),
])
def test_a_malformed_prior_names_the_file_and_key(prior, message):
    params = EntryFile("params.toml", {"talent.senior_rate": {"value": 0.003, "status": "assumption", "prior": prior}})
    with pytest.raises(InputError, match=message) as err:
        read_priors(params)
    assert "talent.senior_rate.prior" in str(err.value) and "params.toml" in str(err.value)


def test_a_behavioural_parameter_without_prior_is_refused():
    params = EntryFile("params.toml", {"talent.senior_rate": {"value": 0.003, "status": "assumption"}})
    with pytest.raises(InputError, match="has no prior"):
        read_priors(params)


def test_draws_are_by_weight_paired_and_reproducible(tmp_path, priors):
    values = shipped_values(priors)
    path = posterior_file(tmp_path / "p.parquet", [values] * 4, weights=[0.0, 1.0, 0.0, 3.0])
    posterior = Posterior.load(path)
    draws = choose_draws(posterior, 41, root_seed=5)
    assert draws == choose_draws(posterior, 41, root_seed=5)
    assert set(draws) <= {1, 3}  # zero weight is never drawn
    assert all(draws[2 * k] == draws[2 * k + 1] for k in range(20))
    many = choose_draws(posterior, 4000, root_seed=6)
    assert many.count(3) / len(many) == pytest.approx(0.75, abs=0.04)


def test_the_variance_split_separates_parameters_from_chance():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(50), 2)
    chance_only = rng.standard_normal(100)
    parameters_only = np.repeat(rng.standard_normal(50), 2)
    assert variance_split(chance_only, groups) < 0.25
    assert variance_split(parameters_only, groups) == 1.0
    assert variance_split(parameters_only + 0.1 * chance_only, groups) > 0.95
    assert np.isnan(variance_split(chance_only[:5], np.arange(5)))  # no pair: cannot tell


def test_a_posterior_at_the_shipped_values_gives_the_fixed_run_byte_for_byte(tmp_path, priors):
    scenario = load_scenario("scenarios/baseline.toml", scale=10000, end="2022-12")
    path = posterior_file(tmp_path / "p.parquet", [shipped_values(priors)] * 3)
    fixed = run_scenarios([scenario], tmp_path / "fixed", replicates=2, uncertainty="fixed")
    drawn = run_scenarios([scenario], tmp_path / "posterior", replicates=2, uncertainty="posterior", posterior=path)
    assert fixed.table.equals(drawn.table)
    manifest = json.loads((drawn.folder / "manifest.json").read_text())
    assert manifest["uncertainty"]["mode"] == "posterior" and len(manifest["uncertainty"]["draws"]) == 2
    assert manifest["uncertainty"]["posterior_sha256"] == Posterior.load(path).sha256
    assert json.loads((fixed.folder / "manifest.json").read_text())["uncertainty"] == {"mode": "fixed"}


def _spread_posterior(tmp_path, priors, n=6):
    rng = np.random.default_rng(3)
    rows = [{p.name: float(p.frozen().rvs(random_state=rng)) for p in priors} for _ in range(n)]
    return posterior_file(tmp_path / "spread.parquet", rows)


def test_posterior_draws_keep_common_random_numbers_across_scenarios(tmp_path, priors):
    path = _spread_posterior(tmp_path, priors)
    base = load_scenario("scenarios/baseline.toml", scale=10000, end="2022-12")
    twin_file = tmp_path / "twin.toml"
    twin_file.write_text('format = 1\nname = "twin"\nextends = "%s"\n' % (CALIBRATION_DIR.parent / "scenarios/baseline.toml"))
    twin = load_scenario(twin_file, scale=10000, end="2022-12")
    result = run_scenarios([base, twin], tmp_path / "out", replicates=4, uncertainty="posterior", posterior=path)
    frame = result.table.to_pandas()
    wide = frame.pivot_table(index=["replicate", "period", "indicator"], columns="scenario", values="value")
    assert (wide["baseline"] == wide["twin"]).all()  # same seed and same draw: identical
    employed = frame[(frame["indicator"] == "employed") & (frame["period"] == "2022") & (frame["scenario"] == "baseline")]
    assert employed["value"].nunique() > 1


def test_targets_split_the_spread_only_under_the_posterior(tmp_path, priors):
    from sim.targets import load_draws, target_table

    path = _spread_posterior(tmp_path, priors)
    scenario = load_scenario("scenarios/baseline.toml", scale=10000)
    result = run_scenarios([scenario], tmp_path, replicates=4, uncertainty="posterior", posterior=path)
    draws = load_draws(result.folder)
    table = target_table(result.table.to_pandas(), draws)
    assert "from_parameters" in table
    # Within [0, 1]; undefined (NaN) only where a rate was undefined in some replicates (no disputes at this
    # coarse scale), leaving no draw with two replicates to measure the spread within.
    share = table["from_parameters"]
    assert (share.between(0, 1) | (share.isna() & (table["replicates"] < 4))).all()
    assert share.notna().sum() >= len(table) - 2
    assert pd.read_parquet(result.folder / "targets.parquet").equals(table)
    assert "from_parameters" not in target_table(result.table.to_pandas())


def test_reproduce_uses_the_recorded_draws_even_without_the_posterior_file(tmp_path, priors):
    from sim.reproduce import reproduce

    path = _spread_posterior(tmp_path, priors)
    scenario = load_scenario("scenarios/baseline.toml", scale=10000, end="2021-12")
    result = run_scenarios([scenario], tmp_path / "runs", replicates=2, uncertainty="posterior", posterior=path)
    path.unlink()
    report = reproduce(result.folder, tmp_path / "again")
    assert report.ok and "indicators.parquet" in report.identical


def test_a_damaged_uncertainty_record_is_refused():
    with pytest.raises(InputError, match="one recorded draw per replicate"):
        replicate_parameters({"mode": "posterior", "draws": [0, 7], "parameters": {"0": {}}}, 2)
    with pytest.raises(InputError, match="finite numbers"):
        replicate_parameters({"mode": "posterior", "draws": [0], "parameters": {"0": {"talent.senior_rate": "x"}}}, 1)


def test_a_missing_posterior_says_how_to_make_one(tmp_path):
    scenario = load_scenario("scenarios/baseline.toml", scale=10000)
    with pytest.raises(InputError, match="zjsim calibrate"):
        run_scenarios([scenario], tmp_path, uncertainty="posterior", posterior=tmp_path / "none.parquet")
    assert not any(tmp_path.iterdir())  # nothing written


def test_sweeps_can_vary_a_parameter_over_its_prior(priors):
    from sim.sweep import parse_vary

    item = parse_vary("talent.senior_rate=prior")
    prior = next(p for p in priors if p.name == "talent.senior_rate")
    assert (item.lo, item.hi) == pytest.approx(tuple(prior.quantiles([0.05, 0.95])))
    with pytest.raises(InputError, match="no prior"):
        parse_vary("labour_demand.rows_per_large_firm=prior")
