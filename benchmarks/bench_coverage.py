"""Out-of-sample check of the posterior: fitted on 2016-2020, does it predict 2021-2022?  Prints figures; asserts nothing.

    python benchmarks/bench_coverage.py                    # calibration/posterior_2020.parquet, 40 replicates, scale 1000
    python benchmarks/bench_coverage.py --replicates 20 --scale 300 --jobs 2 --posterior FILE.parquet

The posterior of `zjsim calibrate --window 2020` has seen nothing after 2020.
The realised scenario is run from the end-2015 population to 2022 with
`--uncertainty posterior` (and, for contrast, with the parameters fixed), and
every published 2021-2022 measurement of calibration/observed.csv (floors
aside; wage growth derived from two levels included) is compared with the
simulated 90% interval.  Two figures:

* coverage: the share of those points inside the 5-95% interval (goal: at
  least 80%);
* width: the median relative width (p95 - p05) / observed of the intervals of
  stocks (goal: at most 25%), so the intervals are honest and not useless.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from sim.backtest import backtest_table, read_observed
from sim.runner import run_scenarios
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def judge(frame, points) -> tuple[float, float, object]:
    table = backtest_table(frame, points, "realised")
    table = table[table["status"] != "not simulated"].copy()
    table["inside"] = (table["p05"] <= table["observed"]) & (table["observed"] <= table["p95"])
    table["relative_width"] = (table["p95"] - table["p05"]) / table["observed"].abs()
    stocks = table[table["kind"] == "stock"]
    return float(table["inside"].mean()), float(np.median(stocks["relative_width"])), table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posterior", default=str(ROOT / "calibration" / "posterior_2020.parquet"))
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--scale", type=float, default=1000.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()

    points = [p for p in read_observed() if p.period[:4] in ("2021", "2022") and p.bound != "lower"]
    scenario = load_scenario(ROOT / "scenarios" / "realised.toml", scale=args.scale, seed=args.seed)
    results = {}
    with tempfile.TemporaryDirectory() as out:
        for mode in ("posterior", "fixed"):
            started = time.perf_counter()
            run = run_scenarios([scenario], out, replicates=args.replicates, jobs=args.jobs, seed=args.seed,
                                uncertainty=mode, posterior=args.posterior)
            results[mode] = (*judge(run.table.to_pandas(), points), time.perf_counter() - started)

    print(f"Out-of-sample check: realised 2016-2022, {args.replicates} replicates at scale {args.scale:g}, "
          f"posterior {args.posterior} (fitted to 2016-2020)")
    print(f"{len(points)} published 2021-2022 points (floors left out)\n")
    table = results["posterior"][2]
    fixed = results["fixed"][2]
    print(f"{'indicator':<28} {'period':<16} {'kind':<6} {'observed':>10} {'posterior 5-95%':>24} {'in':>3} "
          f"{'fixed 5-95%':>24} {'in':>3}")
    for row, f in zip(table.itertuples(), fixed.itertuples()):  # the same points in the same order
        print(f"{row.indicator:<28} {row.period:<16} {row.kind:<6} {row.observed:>10.4g} "
              f"{row.p05:>11.4g}-{row.p95:<12.4g} {'yes' if row.inside else 'no':>3} "
              f"{f.p05:>11.4g}-{f.p95:<12.4g} {'yes' if f.inside else 'no':>3}")
    print()
    for mode, (coverage, width, _, seconds) in results.items():
        print(f"{mode:<9}: coverage {coverage:.0%} of points inside the 90% interval (goal >= 80%); "
              f"median relative width of stocks {width:.1%} (goal <= 25%); {seconds:.0f} s")


if __name__ == "__main__":
    main()
