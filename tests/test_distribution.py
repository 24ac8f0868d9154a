"""Who gains (issue 16): the binned quantiles, shares and Gini against exact
computation on known samples, and the group partitions adding up."""

import numpy as np
import pytest

from sim import distribution as d
from sim.status import Status

MINIMA = np.array([2010, 1800, 1660, 1500], dtype=np.float32)


def _sample(n=100_000, seed=1):
    rng = np.random.default_rng(seed)
    wage = (5000 * np.exp(rng.normal(0.0, 0.6, n))).astype(np.float32)
    status = np.full(n, Status.UNIT, dtype=np.int8)
    status[: n // 5] = Status.FLEX  # a fifth flexible: employed, not unit employees
    status[-n // 10:] = Status.UNEMP  # a tenth unemployed: in neither population
    columns = {
        "status": status, "urban": rng.random(n) < 0.7, "age_m": rng.integers(16 * 12, 64 * 12, n).astype(np.int16),
        "local": rng.random(n) < 0.7, "edu": rng.integers(0, 3, n).astype(np.int8),
        "tier": rng.integers(0, 4, n).astype(np.int8), "sector": rng.integers(-1, 6, n).astype(np.int8), "wage": wage}
    return columns


def _run(c):
    return d._snapshot(c["status"], c["urban"], c["age_m"], c["local"], c["edu"], c["tier"], c["sector"], c["wage"], MINIMA)


def test_quantiles_shares_and_gini_match_exact_computation():
    c = _sample()
    counts, sums, near, _ = _run(c)
    employed = (c["status"] >= Status.UNIT) & (c["status"] <= Status.FLEX)
    unit = (c["status"] == Status.UNIT) & c["urban"]
    for population, chosen in ((0, unit), (1, employed)):
        wages = c["wage"][chosen].astype(np.float64)
        for q in d.QUANTILES:
            assert d.quantile(counts[population], sums[population], q / 100) == pytest.approx(np.percentile(wages, q), rel=0.002)
        x = np.sort(wages)
        k = np.arange(1, len(x) + 1)
        exact_gini = 2 * np.sum(k * x) / (len(x) * x.sum()) - (len(x) + 1) / len(x)
        assert d.gini(counts[population], sums[population]) == pytest.approx(exact_gini, abs=0.001)
        median = np.median(wages)
        assert d.share_below(counts[population], 2 / 3 * median) == pytest.approx(np.mean(wages < 2 / 3 * median), abs=0.002)
        assert counts[population].sum() == chosen.sum() and sums[population].sum() == pytest.approx(wages.sum() * 100, rel=1e-6)
    # The bite is an exact count: at most 5% above the own tier's minimum, urban unit employees.
    close = unit & (c["wage"] <= np.float32(1.05) * MINIMA[c["tier"]])
    assert near[0, :4].sum() == close.sum() and near[1, :4].sum() == unit.sum()
    for t in range(4):
        assert near[0, t] == (close & (c["tier"] == t)).sum()


def test_a_hand_made_sample_gives_hand_computed_values():
    """Ten wages 1000..10000: the Gini of an arithmetic sequence and the shares by hand."""
    wage = np.arange(1, 11, dtype=np.float32) * 1000
    n = len(wage)
    c = {"status": np.full(n, Status.UNIT, dtype=np.int8), "urban": np.ones(n, bool), "age_m": np.full(n, 400, np.int16),
         "local": np.ones(n, bool), "edu": np.zeros(n, np.int8), "tier": np.zeros(n, np.int8),
         "sector": np.zeros(n, np.int8), "wage": wage}
    counts, sums, near, groups = _run(c)
    # Gini of 1..10: sum |xi - xj| / (2 n^2 mean) = 330 / (2 * 100 * 5.5) = 0.3
    assert d.gini(counts[0], sums[0]) == pytest.approx(0.3, abs=1e-3)
    assert d.share_below(counts[0], 3500.0) == pytest.approx(0.3, abs=1e-6)  # 1000, 2000, 3000
    assert near[0, 0] == 2  # 1000 and 2000 are at most 1.05 x 2010 = 2110.5 (paid below it: non-compliant firms)
    assert groups[0].tolist()[:3] == [0, 10, 0]  # aged 33: prime age


def test_the_groups_of_each_partition_add_up_to_all_employed():
    c = _sample()
    _, _, _, groups = _run(c)
    employed = int(((c["status"] >= Status.UNIT) & (c["status"] <= Status.FLEX)).sum())
    income = int(np.sum((c["wage"][(c["status"] >= Status.UNIT) & (c["status"] <= Status.FLEX)] * np.float32(100) + np.float32(0.5)).astype(np.int64)))
    start = 0
    for _, ids, _, _ in d.GROUPS:
        block = groups[:, start:start + len(ids)]
        assert block[0].sum() == employed and block[1].sum() == income
        start += len(ids)
    migrants = (~c["local"]) & (c["status"] >= Status.UNIT) & (c["status"] <= Status.FLEX)
    assert groups[0, d.GROUP_IDS.index("migrant")] == migrants.sum()


def test_group_effects_add_up_to_the_total_effect(small_run):
    """In a run, each partition's employed add up to the employed indicator,
    so the paired differences by group add up to the total difference."""
    _, frame = small_run
    annual = frame[frame["period"].str.len() == 4].set_index(["period", "indicator"])["value"]
    for year in ("2020", "2025"):
        total = annual[(year, "employed")]
        for _, ids, _, _ in d.GROUPS:
            assert sum(annual[(year, f"employed_{g}")] for g in ids) == pytest.approx(total, rel=1e-9)


def test_spillovers_raise_wages_just_above_a_new_minimum_and_not_far_above():
    """With `wages.minimum_wage_spillover`, the 2021-08 minimum-wage rise lifts
    complying firms' wages between the new minimum and the reach above it, by
    part of the rise; wages far above do not move, and with 0 nothing changes."""
    from sim.calibration import Calibration
    from sim.model import LabourModel
    from sim.scenario import load_scenario
    from sim.timeline import parse_month
    from pathlib import Path

    levers = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "realised.toml").levers
    wages = {}
    for share in (0.0, 0.4):
        calibration = Calibration.load().with_parameters({"wages.minimum_wage_spillover": share})
        model = LabourModel(seed=4, scale=2000, policy=levers, calibration=calibration)
        model.run_until(parse_month("2021-07"))
        before = model.people.wage.copy()
        old = model.minimum_wage.copy()
        model.run_until(parse_month("2021-08"))  # the realised rise: 2,010 -> 2,280 in tier 1
        wages[share] = (before, model.people.wage.copy(), old, model.minimum_wage.copy(), model)
    before, after_off, old, new, model = wages[0.0]
    _, after_on, _, _, _ = wages[0.4]
    assert np.all(new >= old) and new[0] > old[0]
    people = model.people
    unit = (people.status == Status.UNIT) & model.firms.complies_min_wage[people.firm]
    floor = new[people.tier].astype(np.float64)
    just_above = unit & (after_off >= floor * 1.02) & (after_off < floor * 1.15)
    far_above = unit & (after_off > floor * 1.5)
    gain = after_on.astype(np.float64) - after_off
    rise = (new - old)[people.tier]
    assert just_above.sum() > 10
    assert np.all(gain[just_above] > 0) and np.all(gain[just_above] <= 0.4 * rise[just_above] + 0.01)
    assert np.all(gain[far_above] == 0)
