"""Ensemble throughput: replicate-runs per minute with 1 and 2 local workers and a
2-worker Dask cluster; scaling efficiency and the scheduler's overhead per task.
Prints figures; asserts nothing.

    python benchmarks/bench_ensemble.py --replicates 8 --scale 100
"""

import argparse
import tempfile
import time
from pathlib import Path

from sim.executors import DaskExecutor, LocalExecutor
from sim.runner import run_scenarios
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def timed(executor, scenario, replicates: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run_scenarios([scenario], out, replicates=replicates, jobs=getattr(executor, "jobs", 1), executor=executor)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--scale", type=float, default=100.0)
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios/baseline.toml", scale=args.scale)
    n = args.replicates
    one = timed(LocalExecutor(1), scenario, n)
    two = timed(LocalExecutor(2), scenario, n)
    dask = timed(DaskExecutor(None, 2), scenario, n)
    print(f"{n} replicate-runs of the baseline at scale {args.scale:g}")
    for label, seconds in (("local, 1 worker", one), ("local, 2 workers", two), ("dask LocalCluster, 2 workers", dask)):
        print(f"{label:<30} {seconds:7.1f} s   {60 * n / seconds:6.1f} runs/min")
    print(f"scaling efficiency, 2 local workers: {one / (2 * two):.0%}")
    print(f"dask overhead against the local pool: {(dask - two) / n:+.2f} s per task (includes starting the cluster)")


if __name__ == "__main__":
    main()
