"""The posterior calibration: the model, started in 2015, against what was published.

`zjsim calibrate` runs the realised scenario (`scenarios/realised.toml`: the
policy in force 2016-2022) from the end-2015 population to the end of the fit
window and compares it with every published point of the window:

* `calibration/observed.csv`: the yearly and monthly series 2016-2022
  (published floors such as "at least 100万" and the wage-growth points derived
  from two levels are left to the backtest: a floor is not a measurement, and
  growth repeats the levels);
* plan column 1 (`calibration/plan_history_2015_2020.csv`): the 2015 stocks
  (which the 2015 population is built to, so they only check the build) and
  the 2020 share of senior titles.

Each moment's standard deviation is its data uncertainty: half the backtest's
tolerance for a high-confidence figure (stocks and wage levels 1.5%, flows 5%,
rates 0.25 pp), the tolerance for a medium one and twice it for a low one.

The parameters inferred (`INFERRED`) are the thirteen the moments speak to most
directly, each listed with the moments it mostly moves; there are about three
informative moments for each (36 for 13), so the fit is over-identified and its posterior
predictive check can fail.  (With 24 inferred parameters, ABC-SMC's
importance weights collapsed to an effective sample of 2-10 particles out of
120 from the second generation: in that many dimensions its Gaussian
proposals cannot follow the posterior.  The report gives the effective
sample size of the final population.)  Every other behavioural parameter (lever
elasticities, wage structure, ...) is held at its params.toml value during the
inference and drawn from its prior in the posterior file: the published
history says nothing about it, and the ensembles carry that ignorance.

The inference is ABC-SMC with pyabc (`sim.abc`).  Outputs:
`calibration/posterior.parquet` (weighted parameter sets, every parameter
with a prior) and `calibration/posterior_report.md` (settings, cost, the
prior/posterior table with each parameter's width ratio, and the posterior
predictive check of every moment: observed against the simulated 5-95%
interval of fresh simulations of posterior draws).
"""

import functools
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .abc import Inference, Moment, distance, infer, parameter_seed
from .backtest import TOLERANCE, Point, read_observed
from .calibration import CALIBRATION_DIR, Calibration, write_point_values
from .errors import InputError
from .posterior import POSTERIOR
from .priors import Prior, read_priors
from .runner import write_atomically
from .timeline import format_month, parse_month

START_YEAR = 2015
WINDOWS = (2020, 2022)  # last year of the fit: 2020 for the out-of-sample check, 2022 for the shipped posterior
REPORT = CALIBRATION_DIR / "posterior_report.md"
CONFIDENCE_SD = {"high": 0.5, "medium": 1.0, "low": 2.0}  # sd as a multiple of the backtest tolerance

# Inferred parameters and the moments each mostly moves.
INFERRED = {
    "demography.other_province_outflow_rate": "new urban jobs, resident population",
    "demography.work_on_share": "employed",
    "separations.quit_rate": "new urban jobs",
    "matching.participation_elasticity": "employed",
    "insurance.enrolment_catch_up[0]": "pension insured",
    "insurance.enrolment_catch_up[1]": "unemployment insured",
    "insurance.enrolment_catch_up[2]": "work-injury insured",
    "training.level_weight[2]": "high-skilled talent",
    "training.incumbent_recognition_rate": "skilled talent",
    "training.recognition_reform_factor": "skilled talent 2021-2022",
    "talent.junior_title_rate": "professional-technical talent",
    "talent.senior_rate": "senior titles",
    "public_services.card_issue_rate": "social security card holders",
}
# Plan column 1 (calibration/plan_history_2015_2020.csv) as points: the 2015
# stocks, and the 2020 senior titles (7.4% of 610万 professional-technical
# talent in the title mix, 45.3万 as the plan's 2020 base).
PLAN_COLUMN_1 = [
    ("pension_insured", "2015", 3684.0), ("unemployment_insured", "2015", 1260.0),
    ("work_injury_insured", "2015", 1930.0), ("professional_technical_talent", "2015", 480.0),
    ("high_skilled_talent", "2015", 220.0), ("social_security_card_holders", "2015", 4677.0),
    ("senior_title_talent", "2020", 45.3),
]


def moment_name(point: Point) -> str:
    return f"{point.indicator} {point.start + '..' if point.start else ''}{point.period}"


def fit_points(end_year: int, observed: list[Point] | None = None) -> list[Point]:
    """The published points the fit uses, up to the end of `end_year`."""
    points = [p for p in (observed if observed is not None else read_observed())
              if p.kind != "growth" and p.bound != "lower" and int(p.period[:4]) <= end_year]
    have = {(p.indicator, p.period, p.start) for p in points}
    for indicator, period, value in PLAN_COLUMN_1:
        if int(period) <= end_year and (indicator, period, "") not in have:
            confidence = "low" if indicator == "senior_title_talent" else "high"
            points.append(Point(indicator, period, "", value, "", "10k persons", "stock",
                                "14th FYP human resources and social security, column 1", confidence))
    return points


def moments_of(points: list[Point]) -> list[Moment]:
    moments = []
    for p in points:
        unit, tolerance = TOLERANCE[p.kind]
        sd = CONFIDENCE_SD[p.confidence] * tolerance
        moments.append(Moment(moment_name(p), p.value, sd if unit == "pp" else sd / 100.0 * abs(p.value), p.confidence))
    return moments


def point_value(values: dict[tuple[str, str], float], point: Point) -> float:
    """A point's simulated value from one simulation's {(period, indicator): value}."""
    if point.kind == "flow" and point.start:
        last = parse_month(f"{point.period}-12") if len(point.period) == 4 else parse_month(point.period)
        months = [format_month(m) for m in range(parse_month(point.start), last + 1)]
        return float(sum(values.get((m, point.indicator), np.nan) for m in months))
    return float(values.get((point.period, point.indicator), np.nan))


@functools.cache
def _realised(end_year: int, scale: float):
    from .runner import REPO_ROOT
    from .scenario import load_scenario

    return load_scenario(REPO_ROOT / "scenarios" / "realised.toml", scale=scale, end=f"{end_year}-12")


@functools.cache
def _calibration() -> Calibration:
    return Calibration.load(baseline_year=START_YEAR)


def simulate_points(parameters: dict[str, float], seed: np.random.SeedSequence, *, scale: float, end_year: int,
                    points: tuple[Point, ...]) -> dict[str, float]:
    """Run the realised scenario 2016..end_year from the end-2015 population with these
    parameter values; the simulated value of every point, by moment name."""
    from .runner import simulate

    rows = simulate(_realised(end_year, scale), 0, seed, _calibration().with_parameters(parameters))
    values = {(period, indicator): value for _, _, period, indicator, value in rows}
    return {moment_name(p): point_value(values, p) for p in points}


def _check_task(parameters: dict[str, float], seed: np.random.SeedSequence, scale: float, end_year: int,
                points: tuple[Point, ...]) -> dict[str, float]:
    return simulate_points(parameters, seed, scale=scale, end_year=end_year, points=points)


def posterior_frame(inference: Inference, priors: list[Prior], seed: int) -> pd.DataFrame:
    """Every parameter with a prior: the inferred ones as the particles have them,
    the others drawn from their priors (independently, one per particle)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed % 2**63, 1]))
    n = len(inference.particles)
    columns = {}
    for prior in priors:
        if prior.name in inference.particles:
            columns[prior.name] = inference.particles[prior.name].to_numpy()
        else:
            columns[prior.name] = prior.frozen().rvs(size=n, random_state=rng)
    columns["weight"] = inference.particles["weight"].to_numpy()
    return pd.DataFrame(columns)


def write_posterior(frame: pd.DataFrame, path: Path, metadata: dict) -> None:
    """The posterior as Parquet, written whole or not at all."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({b"zjsim": json.dumps(metadata).encode()})
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, path)


def inferred_priors(priors: list[Prior]) -> list[Prior]:
    by_name = {p.name: p for p in priors}
    missing = [name for name in INFERRED if name not in by_name]
    if missing:
        raise InputError(f"inferred parameters without a prior: {', '.join(missing)}",
                         file=str(CALIBRATION_DIR / "params.toml"))
    return [by_name[name] for name in INFERRED]


def calibrate(*, end_year: int, particles: int, generations: int, max_simulations: int, scale: float, seed: int,
              checks: int, checkpoint: Path, executor=None, out: Path = POSTERIOR, report_path: Path = REPORT,
              quantile: float = 0.1, progress=None, check_progress=None, write_points: bool = False) -> str:
    """Fit, check and write the posterior and its report; the report's text.

    With `write_points`, the best fit (`point_estimate`) also becomes the
    point value of each inferred parameter in params.toml: what
    `--uncertainty fixed` runs and what every other parameter is held at
    during the next inference."""
    if end_year not in WINDOWS:
        raise InputError(f"--window must end in {' or '.join(map(str, WINDOWS))}", key="--window")
    priors = read_priors(_calibration().params)
    inferred = inferred_priors(priors)
    points = tuple(fit_points(end_year))
    moments = moments_of(list(points))
    simulate = functools.partial(simulate_points, scale=scale, end_year=end_year, points=points)
    # What the generations so far depend on; the stopping rules (--generations,
    # --max-simulations) may change between sessions of a resumed calibration.
    settings = {"window": f"{START_YEAR + 1}-{end_year}", "scale": scale, "calibration_sha256": _calibration().digest}
    inference = infer(simulate, inferred, moments, particles=particles, generations=generations,
                      max_simulations=max_simulations, database=checkpoint, seed=seed, executor=executor,
                      quantile=quantile, settings=settings, progress=progress)
    frame = posterior_frame(inference, priors, seed)
    started = time.monotonic()
    checked = posterior_check(frame, points, checks, scale, end_year, seed, executor, check_progress)
    check_seconds = time.monotonic() - started
    metadata = {"window": settings["window"], "scale": scale, "particles": particles, "quantile": quantile,
                "generations": inference.generations,
                "simulations": inference.simulations, "seed": seed, "calibration_sha256": _calibration().digest,
                "inferred": list(INFERRED), "checks": checks}
    best = point_estimate(inference, moments, points, scale, end_year, seed, executor)
    text = report_text(priors, inference, frame, moments, checked, metadata, check_seconds, best, write_points)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_posterior(frame, out, metadata)
    write_atomically(report_path, text)
    if write_points:
        params = _calibration().params.path
        write_atomically(params, write_point_values(params, best))
    return text


POINT_CANDIDATES = 12  # accepted particles closest to the data, re-simulated for the point estimate
POINT_REPLICATES = 4  # fresh seeds per candidate


def closest_particles(inference: Inference, count: int) -> list[dict[str, float]]:
    """The inferred parameters' values in the `count` accepted particles closest to the data, closest first."""
    order = np.argsort(inference.distances, kind="stable")[:count]
    return [{name: float(inference.particles.iloc[i][name]) for name in INFERRED} for i in order]


def expected_distance(simulated: list[dict[str, float]], moments: list[Moment]) -> float:
    """Mean over replicates of the squared distance to the published moments (`sim.abc.distance`)."""
    to_data = distance(moments)
    return float(np.mean([to_data(s) ** 2 for s in simulated]))


def point_estimate(inference: Inference, moments: list[Moment], points: tuple[Point, ...], scale: float,
                   end_year: int, seed: int, executor=None, candidates: int = POINT_CANDIDATES,
                   replicates: int = POINT_REPLICATES) -> dict[str, float]:
    """The point values: of the accepted particles closest to the data, the one
    closest on average over fresh seeds.  (The single closest particle is
    partly luck: one seed's noise decides the order of the best few; its
    values once put the run from 2015 15% above the 2020 senior titles.)"""
    from .executors import LocalExecutor

    chosen = closest_particles(inference, candidates)
    tasks = {}
    for k, parameters in enumerate(chosen):
        for r in range(replicates):
            tasks[(k, r)] = (parameters, parameter_seed(seed + 3, np.array([k, r, *parameters.values()])), scale,
                             end_year, points)
    simulated: dict[int, list] = {k: [] for k in range(len(chosen))}
    for (k, _), values in (executor or LocalExecutor(1)).map(_check_task, tasks):
        simulated[k].append(values)
    scores = [expected_distance(simulated[k], moments) for k in range(len(chosen))]
    return chosen[int(np.argmin(scores))]


def posterior_check(frame: pd.DataFrame, points: tuple[Point, ...], checks: int, scale: float, end_year: int,
                    seed: int, executor=None, progress=None) -> pd.DataFrame:
    """Fresh simulations of `checks` posterior draws (by weight, new seeds): per
    moment, the simulated 5%, 50% and 95% points."""
    from .executors import LocalExecutor

    rng = np.random.default_rng(np.random.SeedSequence([seed % 2**63, 2]))
    draws = rng.choice(len(frame), size=checks, p=frame["weight"].to_numpy() / frame["weight"].sum())
    names = [c for c in frame.columns if c != "weight"]
    tasks = {}
    for k, d in enumerate(draws):
        parameters = {n: float(frame.at[d, n]) for n in names}
        tasks[k] = (parameters, parameter_seed(seed + 1, np.array([k, *parameters.values()])), scale, end_year, points)
    results = {}
    for key, moments in (executor or LocalExecutor(1)).map(_check_task, tasks):
        results[key] = moments
        if progress:
            progress(len(results), len(tasks), "runs")
    simulated = pd.DataFrame([results[k] for k in sorted(results)])
    return simulated.quantile([0.05, 0.5, 0.95]).T.set_axis(["p05", "median", "p95"], axis=1)


def _number(x: float) -> str:
    return f"{x:.4g}"


def report_text(priors: list[Prior], inference: Inference, frame: pd.DataFrame, moments: list[Moment],
                checked: pd.DataFrame, metadata: dict, check_seconds: float, best: dict[str, float] | None = None,
                written: bool = False) -> str:
    from .posterior import Posterior

    weights = frame["weight"].to_numpy() / frame["weight"].sum()
    post = Posterior(Path(""), "", [p.name for p in priors], frame[[p.name for p in priors]].to_numpy(float), weights, {})
    q = post.weighted_quantiles([0.05, 0.5, 0.95])
    informative = sum(1 for m in moments if not m.name.endswith(" 2015"))
    inside = [(m, checked.loc[m.name]) for m in moments]
    covered = sum(1 for m, c in inside if c["p05"] <= m.observed <= c["p95"])
    ess = 1.0 / float((weights ** 2).sum())
    lines = [
        "# Posterior calibration report", "",
        f"Fit window {metadata['window']}: the realised scenario from the end-2015 population at scale "
        f"{metadata['scale']:g}, ABC (pyabc) with {metadata['particles']} particles, each generation accepting "
        f"distances below the {metadata['quantile']:g} quantile of the previous one's"
        + (" (one generation: rejection ABC from the prior)." if inference.generations == 1 else "."),
        "",
        f"- Cost: {inference.simulations} simulations in {inference.generations} generations, "
        f"{inference.seconds / 60:.1f} min of inference (all sessions) and {check_seconds / 60:.1f} min for the "
        f"predictive check ({metadata['checks']} posterior draws); epsilon by generation: "
        + ", ".join(f"{e:.3g}" for e in inference.epsilons) + ".",
        f"- {len(INFERRED)} parameters inferred against {len(moments)} moments ({informative} informative: the "
        f"{len(moments) - informative} end-2015 stocks only check the build); {len(priors) - len(INFERRED)} other "
        "parameters drawn from their priors.",
        f"- Effective sample size of the final population: {ess:.0f} of {len(weights)} particles.",
        f"- Posterior predictive check: {covered} of {len(moments)} observed values inside the simulated 5-95% interval.",
        "", "## Parameters", "",
        "Width ratio: the posterior's 5-95% width over the prior's, on the prior's scale (log for log-uniform "
        "priors); 1 = the data say nothing, small = pinned down.", "",
        f"Best fit: of the {POINT_CANDIDATES} accepted particles closest to the data, the one closest on average "
        f"over {POINT_REPLICATES} fresh seeds ("
        + ("written to params.toml as the point values, `--uncertainty fixed`)." if written
           else "not written to params.toml; `--write` would make it the point values)."), "",
        "| parameter | prior | prior 5-95% | posterior median | posterior 5-95% | width ratio | best fit | inferred from |",
        "|---|---|---|---|---|---|---|---|",
    ]
    best = best or {}
    for j, p in enumerate(priors):
        lo, hi = p.quantiles([0.05, 0.95])
        # Widths on the prior's own scale: log for a log-uniform prior (a rate known to a factor).
        scale = np.log if p.dist == "loguniform" else (lambda x: x)
        ratio = (scale(q[2, j]) - scale(q[0, j])) / (scale(hi) - scale(lo))
        lines.append(f"| {p.name} | {p.dist} [{_number(p.lo)}, {_number(p.hi)}] | {_number(lo)}-{_number(hi)} | "
                     f"{_number(q[1, j])} | {_number(q[0, j])}-{_number(q[2, j])} | {ratio:.2f} | "
                     f"{_number(best[p.name]) if p.name in best else ''} | {INFERRED.get(p.name, 'prior only')} |")
    lines += ["", "## Posterior predictive check", "",
              "| moment | confidence | observed | sd | simulated median | simulated 5-95% | inside |",
              "|---|---|---|---|---|---|---|"]
    for m, c in inside:
        mark = "yes" if c["p05"] <= m.observed <= c["p95"] else "**no**"
        lines.append(f"| {m.name} | {m.note} | {_number(m.observed)} | {_number(m.sd)} | {_number(c['median'])} | "
                     f"{_number(c['p05'])}-{_number(c['p95'])} | {mark} |")
    return "\n".join(lines) + "\n"
