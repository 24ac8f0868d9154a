"""Time a run: population build, monthly steps, time per process, peak memory.  Prints figures; asserts nothing.

The compiled kernels are cached on disk by numba: a fresh checkout compiles
them once (some seconds, in the first run's build and first step); time a
second run.

    python benchmarks/bench_run.py --scale 100          # the default scale
    python benchmarks/bench_run.py --scale 1            # the whole province (~65M people)
"""

import argparse
import resource
import time

from sim.model import LabourModel
from sim.status import Status
from sim.timeline import parse_month


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=100.0)
    parser.add_argument("--end", default="2025-12")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from sim.processes.base import Process  # noqa: F401 - import (and kernel loading) outside the clock

    t0 = time.perf_counter()
    model = LabourModel(seed=args.seed, scale=args.scale)
    t1 = time.perf_counter()
    model.timings = {}
    rows_stepped = 0
    step_times = []
    while model.month < parse_month(args.end):
        start = time.perf_counter()
        model.step()
        step_times.append(time.perf_counter() - start)
        rows_stepped += int((model.people.status != Status.ABSENT).sum())
    t2 = time.perf_counter()
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"scale                 {args.scale:g} persons per row")
    print(f"person rows           {model.people.n:,} (capacity {model.people.capacity:,}), firm rows {model.firms.n:,}")
    print(f"state memory          {(model.people.nbytes() + model.firms.nbytes()) / 1024**3:.2f} GB")
    print(f"build                 {t1 - t0:.1f} s")
    print(f"{len(step_times)} monthly steps       {t2 - t1:.1f} s (median step {sorted(step_times)[len(step_times) // 2]:.3f} s)")
    print(f"total                 {t2 - t0:.1f} s")
    print(f"person-steps per s    {rows_stepped / (t2 - t1):,.0f} rows, {rows_stepped * args.scale / (t2 - t1):,.0f} persons")
    print(f"peak memory (RSS)     {peak_gb:.2f} GB")
    print("time per process per step (ms):")
    for name, seconds in sorted(model.timings.items(), key=lambda item: -item[1]):
        print(f"  {name:20s} {1000 * seconds / len(step_times):9.1f}")


if __name__ == "__main__":
    main()
