"""What a run costs besides its rows (start-up, a month's fixed part) and what passes over every row.  Prints figures.

The speed goals (issue 12) are whole-command times.  This splits them into
what no change to the model's passes can remove and what can:

- start-up, in fresh interpreters: importing the libraries the model is built
  on (numpy, numba, mesa with what it imports, pyarrow), importing the model,
  and the first build, which loads the cached compiled kernels (the second
  build in the same process does not);
- a month as a fixed cost plus a cost per person row: months are timed at a
  few coarse scales on one kernel thread (as pool and Dask workers run them)
  and fitted by least squares, month = fixed + per_row * rows;
- the compiled passes that read every person row each month (or each
  December), timed inside a month: what a redesign that kept counts and sums
  up to date as people change, instead of recounting them, could at most
  remove;
- what the goals then leave for the model's own work.

    python benchmarks/bench_floor.py                    # scales 1000, 500, 300, 200, 100
    python benchmarks/bench_floor.py --scales 1000 100 --months 24

This machine's speed drifts by 10-30% within minutes, so a fit over five
scales is steadier than one over two; run it twice before trusting a digit.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

# Run in a fresh interpreter: the libraries, then the model, then two builds.
_START_UP = """
import json, time
t0 = time.perf_counter()
import numpy, numba, mesa, pyarrow.parquet
t1 = time.perf_counter()
from sim.model import LabourModel
t2 = time.perf_counter()
LabourModel(seed=1, scale={scale})
t3 = time.perf_counter()
LabourModel(seed=2, scale={scale})
t4 = time.perf_counter()
print(json.dumps({{"libraries": t1 - t0, "model": t2 - t1, "first_build": t3 - t2, "second_build": t4 - t3}}))
"""

# The compiled passes that read every person row, by module.  Each is timed
# where its process calls it (the module's global, which the process reads).
ALL_ROW_PASSES = {
    "sim.processes.insurance": ("_enrol",),
    "sim.processes.funds": ("_month",),
    "sim.indicators": ("_count",),
    "sim.distribution": ("_snapshot",),  # December
    "sim.processes.demography": ("_retirements", "_age", "_movers", "_leave_school"),  # school leaving: August
    "sim.processes.training": ("_eligible_groups",),
    "sim.processes.matching": ("_find_seekers", "_count_months"),
    "sim.processes.labour_demand": ("_employees_of",),
}
DEFAULT_MONTHS = 60  # the default scenario, 2021-01 to 2025-12
ENSEMBLE = {"replicates": 20, "scenarios": 2, "workers": 2, "goal_s": 25.0}
DEFAULT_COMMAND_GOAL_S = 1.5


def start_up(scale: float, runs: int) -> dict[str, float]:
    """Median over `runs` fresh interpreters of each start-up phase, and of
    the interpreter's whole life (wall clock around the subprocess)."""
    phases: dict[str, list[float]] = {}
    for _ in range(runs):
        began = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _START_UP.format(scale=scale)], check=True,
                             capture_output=True, text=True).stdout
        whole = time.perf_counter() - began
        for name, seconds in {**json.loads(out.strip().splitlines()[-1]), "interpreter": whole}.items():
            phases.setdefault(name, []).append(seconds)
    return {name: statistics.median(values) for name, values in phases.items()}


def month_costs(scales: list[float], months: int) -> list[tuple[float, float, float]]:
    """(scale, mean person rows, mean seconds a month) at each scale, on one
    kernel thread, after two months that settle the caches."""
    import numba

    from sim.model import LabourModel

    numba.set_num_threads(1)
    points = []
    for scale in scales:
        model = LabourModel(seed=1, scale=scale)
        model.step()
        model.step()
        rows, began = 0, time.perf_counter()
        for _ in range(months):
            model.step()
            rows += model.people.n
        points.append((scale, rows / months, (time.perf_counter() - began) / months))
    return points


def all_row_passes(scale: float, months: int) -> tuple[float, dict[str, float]]:
    """Mean seconds a month at `scale` on one kernel thread, and of it the
    seconds of each pass of ALL_ROW_PASSES (timed in place, then put back)."""
    import importlib

    import numba

    from sim.model import LabourModel

    numba.set_num_threads(1)
    spent: dict[str, float] = {}
    originals = []

    def timed(kernel, name):
        def call(*args):
            began = time.perf_counter()
            result = kernel(*args)
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - began
            return result
        return call

    for module_name, names in ALL_ROW_PASSES.items():
        module = importlib.import_module(module_name)
        for name in names:
            kernel = getattr(module, name)
            originals.append((module, name, kernel))
            setattr(module, name, timed(kernel, f"{module_name.rpartition('.')[2]}.{name}"))
    try:
        model = LabourModel(seed=1, scale=scale)
        model.step()
        model.step()
        spent.clear()
        began = time.perf_counter()
        for _ in range(months):
            model.step()
        month = (time.perf_counter() - began) / months
    finally:
        for module, name, kernel in originals:
            setattr(module, name, kernel)
    return month, {name: seconds / months for name, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1000.0, 500.0, 300.0, 200.0, 100.0])
    parser.add_argument("--months", type=int, default=12, help="months timed at each scale")
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters for the start-up")
    args = parser.parse_args()
    if len(args.scales) < 2:
        parser.error("--scales needs at least two scales to separate the fixed cost from the cost per row")
    from scipy.stats import linregress

    phases = start_up(100.0, args.runs)
    print(f"start-up at scale 100, median of {args.runs} fresh interpreters (s):")
    for name in ("libraries", "model", "first_build", "second_build", "interpreter"):
        print(f"  {name:14s} {phases[name]:6.2f}")
    loading = phases["first_build"] - phases["second_build"]
    print(f"  kernel loading and first calls (first build - second) {loading:.2f}")

    points = month_costs(args.scales, args.months)
    print(f"a month on one kernel thread, mean of {args.months}:")
    for scale, rows, seconds in points:
        print(f"  scale {scale:7g}  {rows:11,.0f} rows  {1000 * seconds:7.2f} ms")
    fit = linregress([rows for _, rows, _ in points], [seconds for *_, seconds in points])
    print(f"  fit: month = {1000 * fit.intercept:.2f} ms (+- {1000 * fit.intercept_stderr:.2f}) "
          f"+ {1e9 * fit.slope:.1f} ns (+- {1e9 * fit.stderr:.1f}) a row")
    for scale, rows, seconds in (points[0], points[-1]):
        print(f"  the fixed part is {fit.intercept / seconds:.0%} of a month at scale {scale:g}")

    passes_months = max(args.months, 12)  # a whole year, with its December and August passes
    month, passes = all_row_passes(args.scales[-1], passes_months)
    total = sum(passes.values())
    print(f"passes over every row at scale {args.scales[-1]:g}, mean of {passes_months} months on one kernel thread:")
    for name, seconds in sorted(passes.items(), key=lambda item: -item[1]):
        print(f"  {name:28s} {1000 * seconds:6.2f} ms")
    print(f"  all {1000 * total:.1f} ms of a {1000 * month:.1f} ms month ({total / month:.0%}); "
          f"the rest {1000 * (month - total):.1f} ms")

    rows_100 = next((rows for scale, rows, _ in points if scale == 100.0), None)
    if rows_100 is None:
        return
    month_100 = fit.intercept + fit.slope * rows_100
    fixed_start = phases["libraries"] + phases["model"] + loading
    print("what the goals leave (one kernel thread):")
    print(f"  default command: libraries, model import and kernel loading {fixed_start:.2f} s, build "
          f"{phases['second_build']:.2f} s, {DEFAULT_MONTHS} months {DEFAULT_MONTHS * month_100:.2f} s; "
          f"goal {DEFAULT_COMMAND_GOAL_S} s")
    per_worker = ENSEMBLE["replicates"] / ENSEMBLE["workers"]
    budget = ENSEMBLE["goal_s"] / per_worker - phases["second_build"]
    month_budget = budget / (ENSEMBLE["scenarios"] * DEFAULT_MONTHS)
    print(f"  ensemble: {per_worker:g} replicates a worker, each a build and {ENSEMBLE['scenarios']} x "
          f"{DEFAULT_MONTHS} months; {ENSEMBLE['goal_s']:g} s leaves {1000 * month_budget:.1f} ms a month "
          f"(now {1000 * month_100:.1f} ms: {month_100 / month_budget:.1f}x)")
    if args.scales[-1] == 100.0:
        print(f"  without any pass over every row, a month would still take {1000 * (month - total):.1f} ms "
              f"(then {(month - total) / month_budget:.2f}x the ensemble's budget), before the bookkeeping that "
              f"replaces the passes")


if __name__ == "__main__":
    main()
