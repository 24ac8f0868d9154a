"""Convergence in --scale: does a coarser resolution give the same answer?

`--scale` is a resolution (persons per row), not a model parameter.  For each
scale the baseline scenario is run `replicates` times (replicate seeds shared
across scales) and every plan indicator's judged 2025 value (the 2021-2025 sum
for cumulative targets) is summarised by its median and 5-95% interval.  The
answer converges when the median at each scale lies inside the 5-95% interval
of the finest scale.

That criterion is stricter than the replicates can judge: with 10 replicates
and a spread that shrinks as 1/sqrt(rows), a scale-100 median falls outside
the scale-10 interval about 30% of the time with no drift at all (simulated
with normal draws).  So the table also gives each scale's drift in standard
errors: the difference of its mean from the finest scale's, over the standard
error of that difference from the two replicate spreads.  Drift is a |z| of 3
or more.
"""

import numpy as np

from dataclasses import replace

import pandas as pd

from .executors import LocalExecutor
from .runner import rows_to_table, simulate
from .scenario import load_scenario
from .streams import replicate_seeds
from .targets import judged_values, plan_indicators


def _judged(task: tuple) -> list[tuple]:
    """One run at one scale: (scale, replicate, indicator, judged value) rows."""
    scenario, replicate, seed = task
    frame = rows_to_table(simulate(scenario, replicate, seed)).to_pandas()
    return [(scenario.scale, replicate, row["id"], float(judged_values(frame, row)["value"].iloc[0]))
            for row in plan_indicators()]


def scale_runs(scenario_file, scales: list[float], replicates: int, seed: int = 1, jobs: int = 1) -> pd.DataFrame:
    """Long table (scale, replicate, indicator, value) of judged 2025 values;
    replicate r uses the same child seed at every scale."""
    scenario = load_scenario(scenario_file)
    seeds = replicate_seeds(seed, replicates)
    work = {(scale, r): ((replace(scenario, scale=float(scale)), r, seeds[r]),) for scale in scales for r in range(replicates)}
    rows = []
    for _, result in sorted(LocalExecutor(jobs).map(_judged, work), key=lambda item: item[0]):
        rows += result
    return pd.DataFrame(rows, columns=["scale", "replicate", "indicator", "value"])


def convergence_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per indicator and scale: median, 5% and 95%; whether the median lies in
    the 5-95% interval of the finest scale (the reference); and z, the
    difference of the means from the reference's over its standard error (0
    where neither scale varies)."""
    summary = runs.groupby(["indicator", "scale"])["value"].agg(
        median="median", p05=lambda v: v.quantile(0.05), p95=lambda v: v.quantile(0.95),
        mean="mean", var=lambda v: v.var(ddof=1) / len(v) if len(v) > 1 else 0.0).reset_index()
    finest = summary.loc[summary.groupby("indicator")["scale"].idxmin()].set_index("indicator")
    reference = finest.loc[summary["indicator"]]
    summary["inside_finest"] = ((summary["median"].to_numpy() >= reference["p05"].to_numpy())
                                & (summary["median"].to_numpy() <= reference["p95"].to_numpy()))
    difference = summary["mean"].to_numpy() - reference["mean"].to_numpy()
    error = np.sqrt(summary["var"].to_numpy() + reference["var"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        summary["z"] = np.where(error > 0, difference / error, np.where(difference == 0, 0.0, np.inf * np.sign(difference)))
    return summary.drop(columns=["mean", "var"])
