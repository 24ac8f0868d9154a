"""Ensemble throughput: the issue's ensemble (20 replicates of the baseline and
the plan at scale 100) on 2 local workers and on a 2-worker Dask cluster, with
runs per minute, the scaling efficiency against one worker and the Dask
overhead.  Prints figures; asserts nothing.

    python benchmarks/bench_ensemble.py                       # 20 replicates x 2 scenarios
    python benchmarks/bench_ensemble.py --replicates 8 --serial   # also 1 worker, for the efficiency
"""

import argparse
import tempfile
import time
from pathlib import Path

from sim.executors import DaskExecutor, LocalExecutor
from sim.runner import run_scenarios
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def timed(executor, scenarios, replicates: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run_scenarios(scenarios, out, replicates=replicates, jobs=getattr(executor, "jobs", 1), executor=executor)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--scale", type=float, default=100.0)
    parser.add_argument("--scenarios", nargs="+", default=["baseline", "plan"])
    parser.add_argument("--serial", action="store_true", help="also time one worker (for the scaling efficiency)")
    args = parser.parse_args()
    scenarios = [load_scenario(ROOT / f"scenarios/{name}.toml", scale=args.scale) for name in args.scenarios]
    runs = args.replicates * len(scenarios)
    rows = []
    if args.serial:
        rows.append(("local, 1 worker", timed(LocalExecutor(1), scenarios, args.replicates)))
    rows.append(("local, 2 workers", timed(LocalExecutor(2), scenarios, args.replicates)))
    rows.append(("dask LocalCluster, 2 workers", timed(DaskExecutor(None, 2), scenarios, args.replicates)))
    print(f"{runs} runs: {args.replicates} replicates of {', '.join(args.scenarios)} at scale {args.scale:g}")
    for label, seconds in rows:
        print(f"{label:<30} {seconds:7.1f} s   {60 * runs / seconds:6.1f} runs/min")
    times = dict(rows)
    if args.serial:
        print(f"scaling efficiency, 2 local workers: {times['local, 1 worker'] / (2 * times['local, 2 workers']):.0%}")
    local, dask = times["local, 2 workers"], times["dask LocalCluster, 2 workers"]
    print(f"dask against the local pool: {dask / local - 1:+.0%} ({(dask - local) / runs:+.2f} s per run, "
          f"including starting the cluster)")


if __name__ == "__main__":
    main()
