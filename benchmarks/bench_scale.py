"""Convergence in --scale: the baseline's judged 2025 values at several scales.  Prints figures; asserts nothing.

    python benchmarks/bench_scale.py                       # scales 1000 300 100 30 10, 10 replicates, + one scale-1 run
    python benchmarks/bench_scale.py --scales 1000 100 --replicates 4 --no-full --jobs 2

For each plan indicator and scale: median and 5-95% interval over replicates
(replicate seeds shared across scales), whether the median lies inside the
5-95% interval of the finest scale of the sweep (`*` if not), and the drift
in standard errors against the finest scale (z; `!` where |z| >= 3).  The single scale-1 run (the
whole province, about 7 minutes and 7 GB) is shown beside them.
"""

import argparse
import time
from pathlib import Path

from sim.convergence import convergence_table, scale_runs

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--scales", type=float, nargs="+", default=[1000, 300, 100, 30, 10])
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-full", action="store_true", help="skip the single scale-1 run")
    args = parser.parse_args()

    timings = {}
    frames = []
    for scale in args.scales:
        started = time.perf_counter()
        frames.append(scale_runs(args.scenario, [scale], args.replicates, jobs=args.jobs))
        timings[scale] = time.perf_counter() - started
    import pandas as pd

    runs = pd.concat(frames, ignore_index=True)
    table = convergence_table(runs)
    wide = table.pivot(index="indicator", columns="scale", values=["median", "p05", "p95", "inside_finest", "z"])
    full = None
    if not args.no_full:
        started = time.perf_counter()
        full = scale_runs(args.scenario, [1], 1, jobs=1).set_index("indicator")["value"]
        timings[1] = time.perf_counter() - started

    scales = sorted(args.scales, reverse=True)
    header = f"{'indicator':36s}" + "".join(f"{f'scale {s:g}':>33s}" for s in scales) + ("   scale 1 (1 run)" if full is not None else "")
    print(header)
    for indicator in wide.index:
        cells = []
        for s in scales:
            mark = "" if wide.loc[indicator, ("inside_finest", s)] else " *"
            z = wide.loc[indicator, ("z", s)]
            drift = f"{z:+5.1f}{'!' if abs(z) >= 3 else ' '}" if s != min(scales) else " " * 6
            cells.append(f"{wide.loc[indicator, ('median', s)]:9.1f} [{wide.loc[indicator, ('p05', s)]:7.1f}-{wide.loc[indicator, ('p95', s)]:7.1f}]{mark:2s} {drift}")
        line = f"{indicator:36s}" + "".join(f"{c:>33s}" for c in cells)
        if full is not None:
            line += f"   {full[indicator]:12.1f}"
        print(line)
    outside = table[~table["inside_finest"]]
    coarser = table[table["scale"] != min(scales)]
    print(f"\n* median outside the 5-95% interval of scale {min(scales):g}: {len(outside)} of {len(coarser)} (indicator, coarser scale) cells")
    print(f"! drift of 3 or more standard errors: {int((coarser['z'].abs() >= 3).sum())} of {len(coarser)} cells")
    print("wall time: " + ", ".join(f"scale {s:g} {timings[s]:.0f} s" for s in sorted(timings, reverse=True)))


if __name__ == "__main__":
    main()
