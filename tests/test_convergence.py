"""Scale is a resolution: two scales give the same answer within sampling noise."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.convergence import convergence_table, scale_runs

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
REPLICATES = 4


@pytest.fixture(scope="module")
def runs():
    return scale_runs(BASELINE, [2000, 500], REPLICATES, seed=3, jobs=2)


def test_two_scales_agree_within_the_replicate_spread(runs):
    """For every plan indicator the difference of the two scales' means is within
    four standard errors of that difference (from the replicate spread at each
    scale), with a floor of 1% of the value for indicators that barely vary."""
    stats = runs.groupby(["indicator", "scale"])["value"].agg(["mean", "std", "count"]).unstack("scale")
    for indicator, row in stats.iterrows():
        coarse, fine = row[("mean", 2000.0)], row[("mean", 500.0)]
        error = np.sqrt(row[("std", 2000.0)] ** 2 / REPLICATES + row[("std", 500.0)] ** 2 / REPLICATES)
        allowed = max(4.0 * error, 0.01 * abs(fine))
        assert abs(coarse - fine) <= allowed, (indicator, coarse, fine, allowed)


def test_the_convergence_table_marks_a_median_outside_the_finest_interval():
    runs = pd.DataFrame({"scale": [10.0] * 3 + [100.0] * 3, "replicate": [0, 1, 2] * 2, "indicator": ["x"] * 6,
                         "value": [1.0, 2.0, 3.0, 2.5, 9.0, 9.5]})
    table = convergence_table(runs).set_index("scale")
    assert table.loc[10.0, "inside_finest"] and not table.loc[100.0, "inside_finest"]
    assert table.loc[10.0, "p05"] == pytest.approx(1.1) and table.loc[100.0, "median"] == 9.0
    # z: the means 2 and 7 apart, over the standard error from the two sample variances
    error = np.sqrt(np.var([1.0, 2.0, 3.0], ddof=1) / 3 + np.var([2.5, 9.0, 9.5], ddof=1) / 3)
    assert table.loc[100.0, "z"] == pytest.approx((7.0 - 2.0) / error) and table.loc[10.0, "z"] == 0.0
