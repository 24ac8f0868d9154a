"""The `zjsim` command line.

    zjsim run scenarios/baseline.toml [--seed N] [--scale N] [--out DIR] [--start YYYY-MM] [--end YYYY-MM]

Bad input (a missing or malformed scenario, an option out of range) prints one
message naming the file, the key and what is allowed, and exits with status 2
without a traceback and without a results folder.
"""

import sys
from contextlib import contextmanager

import click

from .errors import InputError
from .indicators import BY_ID


class BadInput(click.ClickException):
    exit_code = 2


SUMMARY = ("resident_population", "labour_force", "employed", "surveyed_unemployment_rate", "new_urban_jobs",
           "average_wage", "minimum_wage_to_average_wage")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zjsim")
def main():
    """Zhejiang labour-market and social-insurance simulator (2020 baseline, monthly to 2025)."""


class _Silent:
    def update(self, steps: int) -> None:
        pass


@contextmanager
def _progress(months: int, label: str):
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield _Silent()
        return
    with click.progressbar(length=months, label=label, file=sys.stderr, show_eta=True) as bar:
        yield bar


@main.command()
@click.argument("scenario_file", metavar="SCENARIO")
@click.option("--seed", type=int, default=None, help="Root seed (default: the scenario's `seed`).")
@click.option("--scale", type=float, default=None, help="Persons per row (default: the scenario's, else 100; 1 = whole province).")
@click.option("--out", "out_dir", default="results", show_default=True, help="Folder that receives the run folder.")
@click.option("--start", default=None, help="First simulated month, YYYY-MM (only 2021-01: the baseline is end-2020).")
@click.option("--end", default=None, help="Last simulated month, YYYY-MM (default: the scenario's `end`; up to 2035-12).")
def run(scenario_file, seed, scale, out_dir, start, end):
    """Simulate SCENARIO from the 2020 baseline and write results/<run-id>/."""
    from .runner import run_scenario
    from .scenario import load_scenario

    try:
        scenario = load_scenario(scenario_file, seed=seed, scale=scale, start=start, end=end)
        result = run_scenario(scenario, out_dir, command_line=["zjsim", *sys.argv[1:]], progress_factory=_progress)
    except InputError as err:
        raise BadInput(str(err)) from None
    click.echo(_summary(result.table, scenario))
    click.echo(f"\nrun folder: {result.folder}  ({result.seconds:.1f} s)")


def _summary(table, scenario) -> str:
    """The baseline year and the run's last year (or last month if the run ends mid-year)."""
    frame = table.to_pandas()
    last_month = frame["period"][frame["period"].str.len() == 7].max()
    years = sorted(frame["period"][frame["period"].str.len() == 4].unique())
    last = years[-1] if last_month.endswith("-12") else last_month
    shown = [years[0]] + ([last] if last != years[0] else [])
    pivot = frame[frame["period"].isin(shown)].groupby(["indicator", "period"])["value"].median().unstack()
    lines = [f"scenario {scenario.name}: seed {scenario.seed}, scale {scenario.scale:g}",
             f"{'indicator':<30} {'unit':<14}" + "".join(f"{p:>12}" for p in shown)]
    for key in SUMMARY:
        cells = []
        for period in shown:
            value = pivot.loc[key, period] if key in pivot.index and period in pivot.columns else float("nan")
            cells.append(f"{value:>12,.2f}" if value == value else f"{'-':>12}")
        lines.append(f"{key:<30} {BY_ID[key].unit:<14}" + "".join(cells))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
