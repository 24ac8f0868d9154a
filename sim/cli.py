"""The `zjsim` command line.

    zjsim run SCENARIO... [--replicates N] [--jobs J] [--seed N] [--scale N] [--out DIR] [--start/--end YYYY-MM]
    zjsim targets RUN_DIR [--format table|csv|markdown|json]
    zjsim compare RUN_DIR... [--baseline NAME] [--year YYYY] [--format ...]
    zjsim scenario validate|show SCENARIO
    zjsim reproduce RUN_DIR
    zjsim report RUN_DIR [--out FILE.html] [--scenarios NAMES] [--baseline NAME] [--png DIR]
    zjsim calibrate [--window 2022|2020] [--particles N] [--generations G] [--jobs J]
    zjsim backtest [RUN_DIR] [--scenario NAME] [--replicates N] [--format ...]

Bad input (a missing or malformed scenario, an option out of range) prints one
message naming the file, the key and what is allowed, and exits with status 2
without a traceback and without a results folder.
"""

import sys

import click

from .errors import InputError, Interrupted, caused_by_ctrl_c


class BadInput(click.ClickException):
    exit_code = 2


SUMMARY = ("resident_population", "labour_force", "employed", "surveyed_unemployment_rate", "new_urban_jobs",
           "average_wage", "minimum_wage_to_average_wage")


# What a command that stopped by Ctrl-C leaves behind, where there is more to say.
AFTER_CTRL_C = {
    "calibrate": "; the generations finished are kept in the checkpoint, and the same command resumes from the last",
}


class Commands(click.Group):
    """The `zjsim` group: a Ctrl-C ends any command with one line on stderr
    and exit status 130 (the shell's status for SIGINT), never with a
    traceback or click's bare "Aborted!".  A run that stops inside any
    command (`run`, `reproduce`, `backtest`) says why and prints the command
    that finishes it."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, Exception) as err:
            if isinstance(err, Interrupted):  # a run stopped (sim.runner), in any command
                _interrupted(err)
            if not caused_by_ctrl_c(err):
                raise
            name = ctx.invoked_subcommand or "zjsim"
            click.echo(f"zjsim {name} stopped by Ctrl-C{AFTER_CTRL_C.get(name, '')}.", err=True)
            sys.exit(130)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zjsim")
def main():
    """Zhejiang labour-market and social-insurance simulator (2020 baseline, monthly to 2025)."""


FORMATS = click.Choice(["table", "csv", "markdown", "json"])
# Limits of the run options (shown in --help): enough for any study on one
# machine or a cluster, small enough that a typo cannot queue a year of work.
REPLICATES = click.IntRange(min=1, max=10000)
JOBS = click.IntRange(min=1, max=256)


def uncertainty_options(prefix: str = ""):
    """--uncertainty and --posterior, for the commands that run ensembles."""
    def decorate(command):
        command = click.option("--posterior", "posterior_file", default=None, metavar="FILE.parquet",
                               help=f"{prefix}posterior to draw from (default: calibration/posterior.parquet).")(command)
        return click.option(
            "--uncertainty", type=click.Choice(["posterior", "fixed"]), default="posterior", show_default=True,
            help=f"{prefix}posterior: each pair of replicates draws one parameter set from the calibrated posterior "
                 "(the same draw in every scenario), so intervals and probabilities include what we do not know "
                 "about the parameters; fixed: every replicate uses params.toml's values (chance only).")(command)
    return decorate


def _interrupted(stop) -> None:
    """One line on why a run stopped and the exact command that finishes it; exit 130 for Ctrl-C, else 1."""
    import shlex

    click.echo(f"run stopped: {stop.reason}. The finished runs are kept; finish it with:\n"
               f"  zjsim run --resume {shlex.quote(str(stop.staging))}", err=True)
    sys.exit(130 if stop.keyboard else 1)


def _task_progress(what: str = "run"):
    """A progress bar (tqdm) on stderr when it is a terminal: months (one
    process) or runs (a pool) done out of the total, and the time left.
    The same bar serves run, sweep, calibrate's check and reproduce."""
    bar = None

    def report(done: int, total: int, unit: str) -> None:
        nonlocal bar
        if not sys.stderr.isatty():
            return
        if bar is None or bar.total != total or bar.unit != unit:
            from tqdm import tqdm

            if bar is not None:
                bar.close()
            bar = tqdm(total=total, unit=f" {unit}", desc=what, file=sys.stderr, dynamic_ncols=True, leave=True)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return report


@main.command()
@click.argument("scenario_files", metavar="SCENARIO...", nargs=-1)
@click.option("--seed", type=int, default=None, help="Root seed of the run (default: the first scenario's `seed`).")
@click.option("--scale", type=float, default=None, help="Persons per row (default: the scenarios' `scale`, else 100; 1 = whole province).")
@click.option("--replicates", type=REPLICATES, default=1, show_default=True, help="Replicates of each scenario (1 to 10000).")
@click.option("--jobs", type=JOBS, default=1, show_default=True, help="Worker processes, 1 to 256 (the numbers do not depend on it).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the runs execute: this machine's processes, or Dask distributed.")
@click.option("--scheduler", envvar="ZJSIM_SCHEDULER", default=None,
              help="Dask scheduler address tcp://HOST:PORT (or ZJSIM_SCHEDULER); without it --executor dask starts a LocalCluster.")
@click.option("--out", "out_dir", default="results", show_default=True, help="Folder that receives the run folder.")
@click.option("--start", default=None, help="First simulated month, YYYY-MM: 2021-01 (from the end-2020 population) or 2016-01 (end-2015, for backtests).")
@click.option("--end", default=None, help="Last simulated month, YYYY-MM (default: the scenario's `end`; up to 2035-12).")
@click.option("--resume", "resume_dir", default=None, metavar="RUN_DIR",
              help="Finish an interrupted run (its .incomplete-* folder), skipping the runs it completed.")
@uncertainty_options()
def run(scenario_files, seed, scale, replicates, jobs, executor, scheduler, out_dir, start, end, resume_dir,
        uncertainty, posterior_file):
    """Simulate each SCENARIO from its baseline population and write results/<run-id>/.

    Replicate r of every scenario uses the same child seed of the run's root
    seed and the same parameter draw (common random numbers), so paired
    differences isolate the levers."""
    from .executors import make_executor
    from .runner import resume, run_scenarios
    from .scenario import load_scenario

    if resume_dir:
        if scenario_files:
            raise BadInput("give either SCENARIO files or --resume RUN_DIR, not both")
        try:
            result = resume(resume_dir, jobs=jobs, executor=make_executor(executor, jobs, scheduler), progress=_task_progress())
        except InputError as err:
            raise BadInput(str(err)) from None
        click.echo(f"resumed: run folder {result.folder}")
        return
    if not scenario_files:
        raise BadInput("give at least one SCENARIO file (or --resume RUN_DIR)")
    try:
        scenarios = [load_scenario(f, seed=seed, scale=scale, start=start, end=end) for f in scenario_files]
        result = run_scenarios(scenarios, out_dir, replicates=replicates, jobs=jobs, seed=seed,
                               command_line=["zjsim", *sys.argv[1:]], progress=_task_progress(),
                               executor=make_executor(executor, jobs, scheduler), uncertainty=uncertainty,
                               posterior=posterior_file)
    except InputError as err:
        raise BadInput(str(err)) from None
    click.echo(_summary(result.table, scenarios[0] if len(scenarios) == 1 else None,
                        seed if seed is not None else scenarios[0].seed, uncertainty))
    click.echo(f"\nrun folder: {result.folder}  ({result.seconds:.1f} s)")


WIDE = click.option("--wide", is_flag=True, default=False,
                    help="Every column, the ids and the rule code words (the default table fits 100 columns).")


@main.command()
@click.argument("run_dir")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="table for reading, csv or json for other tools (every column), markdown for documents.")
@WIDE
def targets(run_dir, fmt, wide):
    """The 2025 target verdict of each scenario in RUN_DIR (median, 5-95% interval, probability),
    and the funds' sustainability by the rules of calibration/sustainability_rules.csv."""
    from .targets import (COLUMNS, load_draws, load_run, narrow_targets, reaches, render, render_blocks, target_table,
                          uncertainty_note, unjudged_rules)

    try:
        draws = load_draws(run_dir)
        frame = load_run(run_dir)
        if not reaches(frame, 2025):
            last = frame.loc[frame["period"].str.len() == 7, "period"].max()
            raise InputError(f"the run ends in {last}: the targets are judged on 2025 (and 2021-2025 totals); "
                             "run to 2025-12 or later", file=run_dir)
        table = target_table(frame, draws)
        unjudged = unjudged_rules(frame)
    except InputError as err:
        raise BadInput(str(err)) from None
    if table.empty:
        raise BadInput(f"{run_dir}: the run does not reach 2025; targets are judged on 2025 values")
    shown = COLUMNS if fmt != "table" else ["scenario", "rule_set", "indicator", "name_zh", "name_en", "unit", "period",
                                            "base_2020", "target", "comparison", "median", "p05", "p95", "probability",
                                            "verdict"]
    if "from_parameters" in table:
        shown = shown + ["from_parameters"]
    if fmt == "table" and not wide:
        click.echo(render_blocks(narrow_targets(table), "scenario: "))
    else:
        click.echo(render(table, fmt, shown))
    if fmt == "table":
        note = uncertainty_note(table, draws)
        years = sorted({rule["year"] for rule in unjudged})
        if years:
            note += (f" The funds' sustainability rules for {', '.join(map(str, years))} are not judged: the run ends "
                     f"before; run to {years[-1]}-12 (--end {years[-1]}-12) to judge them.")
        click.echo("\n" + note, err=True)


@main.command()
@click.argument("run_dirs", metavar="RUN_DIR...", nargs=-1, required=True)
@click.option("--baseline", default="baseline", show_default=True, help="Scenario the others are compared with.")
@click.option("--year", "years", type=int, multiple=True, default=(2025,), show_default=True, help="Year(s) to compare; repeat the option.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="table for reading, csv or json for other tools (every column), markdown for documents.")
@click.option("--by", "by", type=click.Choice(["indicator", "group"]), default="indicator", show_default=True,
              help="indicator: every indicator; group: employment and mean work income by group of the employed "
                   "(age, registration, residence, education), each partition adding up to the total.")
@WIDE
def compare(run_dirs, baseline, years, fmt, by, wide):
    """Scenarios side by side with their paired difference against the baseline."""
    import pandas as pd

    from .targets import (FEW_REPLICATES, compare_table, group_effects, load_run, narrow_compare, narrow_groups,
                          render, render_blocks, uncertainty_mode)

    try:
        frame = pd.concat([load_run(d) for d in run_dirs], ignore_index=True)
        table = compare_table(frame, baseline, list(years))
        if by == "group":
            table = group_effects(table)
            if table.empty:
                raise InputError("the run(s) have no employment by group: they were made before it was recorded; "
                                 "run them again", key="--by")
    except InputError as err:
        raise BadInput(str(err)) from None
    if fmt == "table" and not wide:
        narrow = narrow_groups(table) if by == "group" else narrow_compare(table)
        click.echo(render_blocks(narrow, f"against {baseline}: "))
    else:
        click.echo(render(table, fmt))
    if fmt == "table" and len(table):
        modes = {uncertainty_mode(d) for d in run_dirs}
        note = ("The paired differences include parameter uncertainty (posterior draws shared by the scenarios)."
                if modes == {"posterior"} else "Parameters fixed in at least one run: the intervals show chance only.")
        if table["replicates"].min() < FEW_REPLICATES:
            note += f" Caution: fewer than {FEW_REPLICATES} replicates; the intervals are rough."
        click.echo("\n" + note, err=True)


@main.command()
@click.argument("run_dir")
@click.option("--out", default=None, metavar="FILE.html", help="Where to write the report (default: RUN_DIR/report.html).")
@click.option("--scenarios", default=None, metavar="NAMES", help="Comma-separated scenarios to show, in this order (default: all).")
@click.option("--baseline", default=None, metavar="NAME",
              help="Scenario the others are compared with (default: 'baseline' if present, else the first).")
@click.option("--png", "png_dir", default=None, metavar="DIR", help="Also save every figure as a PNG file in DIR, for slides.")
@click.option("--sweep", "sweep_dirs", multiple=True, metavar="SWEEP_DIR",
              help="A sweep folder whose sensitivity table to include (sweeps inside RUN_DIR are found without it); repeatable.")
def report(run_dir, out, scenarios, baseline, png_dir, sweep_dirs):
    """One self-contained HTML page for planners: target dashboard, fan charts, scenario comparison."""
    from .report import write_report

    wanted = [name.strip() for name in scenarios.split(",") if name.strip()] if scenarios else None
    try:
        path, pngs, notes = write_report(run_dir, out, scenarios=wanted, baseline=baseline, png_dir=png_dir,
                                         sweep_dirs=sweep_dirs)
    except InputError as err:
        raise BadInput(str(err)) from None
    for note in notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"report: {path}")
    if pngs:
        click.echo(f"{len(pngs)} figures as PNG in {pngs[0].parent}")


@main.command()
@click.option("--window", "end_year", type=click.Choice(["2022", "2020"]), default="2022", show_default=True,
              help="Last year of the fit: 2022 (every published point, the shipped posterior) or 2020 (for the "
                   "out-of-sample check of 2021-2022).")
@click.option("--particles", type=click.IntRange(min=10, max=5000), default=120, show_default=True,
              help="Accepted parameter sets (the posterior's size).")
@click.option("--generations", type=click.IntRange(min=1, max=50), default=1, show_default=True,
              help="ABC generations: 1 is rejection ABC from the prior (equal weights); more refine by ABC-SMC, "
                   "whose importance weights collapsed onto about 10 of 150 particles with 12 parameters here.")
@click.option("--quantile", type=click.FloatRange(min=0.01, max=0.9), default=0.1, show_default=True,
              help="Acceptance threshold: this quantile of the distances of a prior sample (then of each generation).")
@click.option("--max-simulations", type=click.IntRange(min=1, max=1000000), default=3000, show_default=True,
              help="Stop after this many simulations in all.")
@click.option("--scale", type=click.FloatRange(min=100, max=100000), default=1000.0, show_default=True,
              help="Persons per row of the calibration runs.")
@click.option("--checks", type=click.IntRange(min=10, max=1000), default=40, show_default=True,
              help="Posterior draws simulated afresh for the predictive check.")
@click.option("--seed", type=int, default=2015, show_default=True,
              help="Seed of the simulations (each point's seed also depends on its parameter values).")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="pyabc's database of generations so far (default: calibration/abc-WINDOW.db); an interrupted "
                   "calibration resumes from its last complete generation.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default=None,
              help="Where to write the posterior (default: calibration/posterior.parquet for 2022, "
                   "calibration/posterior_2020.parquet for 2020); the report goes beside it.")
@click.option("--jobs", type=JOBS, default=1, show_default=True, help="Worker processes for the simulations, 1 to 256.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the simulations execute: this machine's processes, or Dask distributed.")
@click.option("--scheduler", envvar="ZJSIM_SCHEDULER", default=None, help="Dask scheduler address (see `run`).")
@click.option("--write", "write_points", is_flag=True,
              help="Also make the best fit (of the accepted particles closest to the data, the one closest on "
                   "average over fresh seeds) the point values of the inferred parameters in calibration/params.toml "
                   "(what --uncertainty fixed runs); layout and comments are kept.")
def calibrate(end_year, particles, generations, quantile, max_simulations, scale, checks, seed, checkpoint, out_file,
              jobs, executor, scheduler, write_points):
    """Posterior over the behavioural parameters (ABC-SMC, pyabc) from the realised 2016-2022 history.

    Writes the weighted parameter sets (calibration/posterior.parquet) and a fit
    report with each parameter's posterior-to-prior width and a posterior
    predictive check of every published moment.  Needs the `calibrate` extra."""
    from pathlib import Path

    from .calibration import CALIBRATION_DIR
    from .executors import make_executor
    from .fit import calibrate as run_calibration

    end_year = int(end_year)
    suffix = "" if end_year == 2022 else f"_{end_year}"
    out = Path(out_file) if out_file else CALIBRATION_DIR / f"posterior{suffix}.parquet"
    report_path = out.with_name(out.stem.replace("posterior", "posterior_report") + ".md")
    if report_path == out.with_suffix(".md") and "posterior" not in out.stem:
        report_path = out.with_name(out.stem + "_report.md")
    try:
        text = run_calibration(end_year=end_year, particles=particles, generations=generations, quantile=quantile,
                               max_simulations=max_simulations, scale=scale, seed=seed, checks=checks,
                               checkpoint=Path(checkpoint) if checkpoint else CALIBRATION_DIR / f"abc-{end_year}.db",
                               executor=make_executor(executor, jobs, scheduler), out=out, report_path=report_path,
                               progress=lambda line: click.echo(line, err=True),
                               check_progress=_task_progress("predictive check"), write_points=write_points)
    except InputError as err:
        raise BadInput(str(err)) from None
    click.echo(text)
    click.echo(f"wrote {out} and {report_path}")


@main.command("fit-wages")  # defaults: sim.wage_fit.FIT_SCALE, FIT_SEEDS (not imported here: start-up stays light)
@click.option("--scale", type=click.FloatRange(min=10, max=10000), default=200.0, show_default=True,
              help="Persons per row of the populations built for the fit.")
@click.option("--seeds", type=click.IntRange(min=1, max=20), default=8, show_default=True,
              help="Populations averaged per evaluation (the same seeds in every evaluation).")
@click.option("--write", "write_values", is_flag=True,
              help="Also write the fitted values into calibration/params.toml and the baseline files.")
def fit_wages(scale, seeds, write_values):
    """Fit the 2020 wage structure (sector premia, log_sd) to the published figures of calibration/wage_structure.csv.

    Builds the end-2020 population (no month is simulated) and writes the
    report calibration/wage_fit_report.md: each target, the model before and
    after, and where the data run out (sim/wage_fit.py)."""
    from .calibration import Calibration
    from .wage_fit import REPORT, fit, report_text, write_values as write

    try:
        outcome = fit(Calibration.load(), scale=scale, seeds=seeds)
    except InputError as err:
        raise BadInput(str(err)) from None
    text = report_text(outcome)
    REPORT.write_text(text, encoding="utf-8")
    if write_values:
        write(outcome["values"])
    click.echo(text)
    click.echo(f"wrote {REPORT}" + (" and the fitted values" if write_values else ""))


@main.command()
@click.argument("scenario_file", metavar="SCENARIO")
@click.option("--vary", "varied", multiple=True, metavar="NAME=LOW:HIGH",
              help="A numeric lever or a dotted parameter of params.toml and its range, or NAME=prior for the 5-95% range of the parameter's prior (so Sobol indices say which unknowns decide each verdict); repeat for more inputs.")
@click.option("--sweep-file", default=None, help="A TOML file with a [vary] table of NAME = [LOW, HIGH].")
@click.option("--method", type=click.Choice(["sobol", "lhs"]), default="sobol", show_default=True,
              help="sobol: Saltelli's design and Sobol indices; lhs: a Latin hypercube to explore (no indices).")
@click.option("--samples", type=click.IntRange(min=2, max=4096), default=16, show_default=True,
              help="Base samples (Sobol: runs = samples x (inputs + 2) x replicates).")
@click.option("--replicates", type=click.IntRange(min=1, max=1000), default=2, show_default=True,
              help="Replicates of every design point (same seeds at every point), 1 to 1000.")
@click.option("--scale", type=float, default=None, help="Persons per row (default: the scenario's).")
@click.option("--seed", type=int, default=None, help="Root seed (default: the scenario's).")
@click.option("--jobs", type=JOBS, default=1, show_default=True, help="Worker processes, 1 to 256.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the runs execute: this machine's processes, or Dask distributed.")
@click.option("--scheduler", envvar="ZJSIM_SCHEDULER", default=None, help="Dask scheduler address (see `run`).")
@click.option("--out", "out_dir", default="results", show_default=True, help="Folder that receives the sweep folder.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="table for reading, csv or json for other tools, markdown for documents.")
def sweep(scenario_file, varied, sweep_file, method, samples, replicates, scale, seed, jobs, executor, scheduler, out_dir, fmt):
    """Vary levers and parameters over ranges: 2025 values and target probabilities per design point,
    Sobol indices, and which inputs decide each target."""
    import datetime as dt
    import json

    from pathlib import Path

    from .executors import make_executor
    from .scenario import load_scenario
    from .sweep import deciders, parse_vary, read_sweep_file, run_sweep, sobol_warning
    from .targets import render

    try:
        base = load_scenario(scenario_file, scale=scale, seed=seed)
        inputs = (read_sweep_file(sweep_file) if sweep_file else []) + [parse_vary(v) for v in varied]
        if not inputs:
            raise InputError("nothing to vary: give --vary NAME=LOW:HIGH or --sweep-file FILE")
        table, indices = run_sweep(base, inputs, method=method, samples=samples, replicates=replicates,
                                   seed=base.seed, executor=make_executor(executor, jobs, scheduler),
                                   progress=_task_progress("sweep"))
    except InputError as err:
        raise BadInput(str(err)) from None
    folder = Path(out_dir) / f"sweep-{base.name}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-seed{base.seed}"
    staging = folder.with_name(".incomplete-" + folder.name)
    staging.mkdir(parents=True)
    table.to_parquet(staging / "sweep_points.parquet", index=False)
    if indices is not None:
        indices.to_parquet(staging / "sensitivity.parquet", index=False)
    (staging / "sweep.json").write_text(json.dumps({
        "scenario": base.text, "scenario_file": base.path, "inputs": [vars(i) for i in inputs], "method": method,
        "samples": samples, "replicates": replicates, "seed": base.seed, "scale": base.scale, "points": len(table)},
        indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    staging.rename(folder)
    if indices is not None:
        click.echo(render(indices, fmt))
        warning = sobol_warning(indices, samples)
        if warning:
            click.echo(f"warning: {warning}", err=True)
        click.echo("\nWhich inputs decide each target (total Sobol index >= 0.1):")
        click.echo(render(deciders(indices), fmt))
    else:
        click.echo(render(table, fmt))
    click.echo(f"\nsweep folder: {folder}")


@main.command()
@click.argument("run", metavar="RUN_DIR")
@click.option("--out", "out_dir", default="results", show_default=True, help="Folder that receives the rerun.")
@click.option("--jobs", type=JOBS, default=1, show_default=True,
              help="Worker processes for the rerun, 1 to 256 (the bytes do not depend on it).")
def reproduce(run, out_dir, jobs):
    """Rerun RUN_DIR (or its manifest.json) exactly and compare every output's checksum."""
    from .reproduce import reproduce as rerun

    try:
        report = rerun(run, out_dir, jobs=jobs, progress=_task_progress("reproduce"))
    except InputError as err:
        raise BadInput(str(err)) from None
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.ok:
        click.echo(f"reproduced: {len(report.identical)} files identical (rerun in {report.folder})")
        return
    click.echo(f"NOT reproduced: {len(report.differing)} file(s) differ, {len(report.identical)} identical "
               f"(rerun in {report.folder})")
    for line in report.details:
        click.echo(line)
    sys.exit(1)


@main.command()
@click.argument("run_dir", required=False)
@click.option("--scenario", "scenario_name", default=None, metavar="NAME",
              help="Scenario of RUN_DIR to judge (default: 'realised', or the only one).")
@click.option("--replicates", type=REPLICATES, default=20, show_default=True,
              help="Without RUN_DIR: replicates of scenarios/realised.toml to run.")
@click.option("--scale", type=float, default=None, help="Without RUN_DIR: persons per row (default: the scenario's).")
@click.option("--seed", type=int, default=None, help="Without RUN_DIR: root seed (default: the scenario's).")
@click.option("--jobs", type=JOBS, default=1, show_default=True, help="Without RUN_DIR: worker processes, 1 to 256.")
@click.option("--out", "out_dir", default="results", show_default=True, help="Without RUN_DIR: folder that receives the run folder.")
@click.option("--observed", default=None, metavar="FILE.csv", help="Published points (default: calibration/observed.csv).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="table for reading, csv or json for other tools, markdown for documents.")
@uncertainty_options("Without RUN_DIR: ")
def backtest(run_dir, scenario_name, replicates, scale, seed, jobs, out_dir, observed, fmt, uncertainty, posterior_file):
    """Compare a run with every figure published for 2016-2022 (calibration/observed.csv).

    Without RUN_DIR, runs scenarios/realised.toml (from the end-2015 population
    to 2022) first.  For every point: observed value, simulated median and 5-95%
    interval, error and whether it is within tolerance (stocks 3%, annual flows
    10%, wage levels 3%, rates 0.5 pp, wage growth 2 pp).  Exit status 1 when a
    high-confidence point is outside its tolerance."""
    from .backtest import OBSERVED, TABLE_COLUMNS, backtest_table, failed, pick_scenario, read_observed
    from .runner import REPO_ROOT, run_scenarios
    from .scenario import load_scenario
    from .targets import load_run, render

    try:
        points = read_observed(observed or OBSERVED)
        if run_dir is None:
            realised = load_scenario(REPO_ROOT / "scenarios" / "realised.toml", seed=seed, scale=scale)
            result = run_scenarios([realised], out_dir, replicates=replicates, jobs=jobs, seed=seed,
                                   command_line=["zjsim", *sys.argv[1:]], progress=_task_progress(),
                                   uncertainty=uncertainty, posterior=posterior_file)
            run_dir = str(result.folder)
            click.echo(f"run folder: {run_dir}", err=True)
        frame = load_run(run_dir)
        table = backtest_table(frame, points, pick_scenario(frame, scenario_name, run_dir))
    except InputError as err:
        raise BadInput(str(err)) from None
    click.echo(render(table, fmt, None if fmt in ("csv", "json") else TABLE_COLUMNS))
    outside = failed(table)
    judged = table[table["status"] != "not simulated"]
    summary = (f"{int((judged['status'] == 'within').sum())} of {len(judged)} simulated points within tolerance; "
               f"{len(outside)} high-confidence point(s) outside")
    click.echo(summary, err=True)
    if len(outside):
        sys.exit(1)


@main.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="table for reading, csv or json for other tools, markdown for documents.")
def levers(fmt):
    """Every lever a scenario may set (and the macro conditions it may assume): unit, range, 2020 default,
    what it moves and the plan measure it stands for."""
    import pandas as pd

    from .levers import ASSUMPTIONS, LEVERS
    from .targets import render

    def default(lever) -> str:
        if lever.default is None:
            return "2020 value" if lever.plan != "macro condition" else "calibration/macro.toml"
        return str(lever.default).lower() if lever.kind is bool else f"{lever.default:g}"

    rows = [{"lever": lv.name, "kind": "assumption" if lv.name in ASSUMPTIONS else "lever",
             "unit": lv.unit, "range": "true/false" if lv.kind is bool else f"{lv.lo:g} to {lv.hi:g}",
             "default": default(lv), "plan measure": lv.plan, "moves": lv.mechanism}
            for lv in (*LEVERS.values(), *ASSUMPTIONS.values())]
    rows.append({"lever": "minimum_wage", "kind": "lever", "unit": "yuan a month (four tiers) or share of the average wage",
                 "range": "rule fixed or share_of_average_wage, share 0.1 to 0.8", "default": "2020 tiers held",
                 "plan measure": "第七部分 minimum wage", "moves": "wage floor by tier (wages, labour demand)"})
    table = pd.DataFrame(rows)
    if fmt != "table":
        click.echo(render(table, fmt))
        return
    for row in rows:  # two lines a lever, to fit a terminal
        click.echo(f"{row['lever']}  ({row['kind']}: {row['range']}; default {row['default']})\n"
                   f"    unit: {row['unit']}\n    plan: {row['plan measure']}\n    moves: {row['moves']}")


@main.group()
def scenario():
    """Check and inspect scenario files."""


def _load(scenario_file: str):
    """A validated scenario, or the input error as exit status 2."""
    from .scenario import load_scenario

    try:
        return load_scenario(scenario_file)
    except InputError as err:
        raise BadInput(str(err)) from None


@scenario.command()
@click.argument("scenario_file", metavar="SCENARIO")
def validate(scenario_file):
    """Check SCENARIO (and the files it extends) without running it."""
    loaded = _load(scenario_file)
    click.echo(f"{scenario_file}: valid (scenario '{loaded.name}', {len(loaded.levers.schedules)} levers set, "
               f"{len(loaded.files)} file(s))")


@scenario.command()
@click.argument("scenario_file", metavar="SCENARIO")
def show(scenario_file):
    """Print the fully resolved levers of SCENARIO as JSON."""
    import json

    from .scenario import describe

    click.echo(json.dumps(describe(_load(scenario_file)), indent=2, ensure_ascii=False))


def _summary(table, scenario, seed, uncertainty: str = "fixed") -> str:
    """2020 and the last year (or last month) of the main indicators, per scenario
    (medians over replicates)."""
    from .indicators import BY_ID

    frame = table.to_pandas()
    last_month = frame["period"][frame["period"].str.len() == 7].max()
    years = sorted(frame["period"][frame["period"].str.len() == 4].unique())
    last = years[-1] if last_month.endswith("-12") else last_month
    names = list(dict.fromkeys(frame["scenario"]))
    replicates = frame["replicate"].nunique()
    medians = frame[frame["period"].isin([years[0], last])].groupby(["scenario", "indicator", "period"])["value"].median()
    columns = [(names[0], years[0], years[0])] + [(name, last, f"{name} {last}" if len(names) > 1 else last) for name in names]
    scale = f", scale {scenario.scale:g}" if scenario else ""
    parameters = "parameters drawn from the posterior" if uncertainty == "posterior" else "parameters fixed"
    lines = [f"scenario(s) {', '.join(names)}: seed {seed}{scale}, {replicates} replicate(s), {parameters}",
             f"{'indicator':<30} {'unit':<14}" + "".join(f"{label:>{max(12, len(label) + 1)}}" for _, _, label in columns)]
    for key in SUMMARY:
        cells = []
        for name, period, label in columns:
            value = medians.get((name, key, period), float("nan"))
            width = max(12, len(label) + 1)
            cells.append(f"{value:>{width},.2f}" if value == value else f"{'-':>{width}}")
        lines.append(f"{key:<30} {BY_ID[key].unit:<14}" + "".join(cells))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
