"""Report generation time for an ensemble (default: 3 scenarios x 20 replicates
at the default scale): the run is made once, then `zjsim report` is timed as a
whole command, with and without PNG export.  Prints figures; asserts nothing.

    python benchmarks/bench_report.py [--replicates 20] [--scale 100] [--run RUN_DIR] [--repeat 3]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.executors import LocalExecutor
from sim.runner import run_scenarios
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("baseline", "plan", "minimum_wage_40")


def timed(command: list[str], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--scale", type=float, default=100.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--run", default=None, help="An existing run folder (skips the simulation).")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.run) if args.run else None
        if folder is None:
            scenarios = [load_scenario(ROOT / f"scenarios/{name}.toml", scale=args.scale) for name in SCENARIOS]
            start = time.perf_counter()
            folder = run_scenarios(scenarios, scratch, replicates=args.replicates, jobs=args.jobs,
                                   executor=LocalExecutor(args.jobs)).folder
            print(f"ensemble {len(SCENARIOS)} scenarios x {args.replicates} replicates, scale {args.scale:g}: "
                  f"{time.perf_counter() - start:.1f} s")
        report = [sys.executable, "-m", "sim.cli", "report", str(folder), "--out", f"{scratch}/report.html"]
        for label, command in (("report", report), ("report + PNG", report + ["--png", f"{scratch}/png"])):
            seconds = timed(command, args.repeat)
            print(f"{label:<14} median {statistics.median(seconds):5.2f} s  (min {min(seconds):.2f}, max {max(seconds):.2f}, "
                  f"{args.repeat} runs, whole command)")
        print(f"report.html: {Path(scratch, 'report.html').stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
