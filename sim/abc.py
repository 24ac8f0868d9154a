"""Approximate Bayesian computation (ABC-SMC, pyabc) over a stochastic simulator.

The engine behind `zjsim calibrate` (`sim.fit` gives it the model and the
published moments), written against any simulator so that it can be tested on
a toy with a known answer.

* Parameters have independent priors (`sim.priors.Prior`, uniform or
  log-uniform).  pyabc works on the unit cube: it sees p000, p001, ... each
  uniform on [0, 1], and a coordinate u stands for the prior's quantile u
  (the inverse of its distribution function).  Every coordinate then has the
  same scale and a flat prior, which keeps pyabc's Gaussian proposals and
  importance weights well conditioned (on the raw scale, rates spanning
  decades made the proposal densities underflow to zero in 24 dimensions).
  The simulator gets the real names and values.
* Each moment has an observed value and a standard deviation (its data
  uncertainty); the distance is the Euclidean norm of the standardised
  errors, (simulated - observed) / sd.  A simulation that fails or returns a
  non-finite moment gets an infinite distance and is rejected.
* The simulator is deterministic given its parameters and the calibration
  seed: each point's random numbers come from a seed derived from the
  parameter values, so reruns and retries simulate the same thing.
* pyabc keeps every generation in an SQLite database: an interrupted
  calibration resumes from its last complete generation when run again with
  the same settings (a settings file beside the database says which).
* Simulations run in this process, in a local process pool, or on a Dask
  cluster, through pyabc's concurrent-futures sampler.

pyabc is an optional extra (`pip install -e '.[calibrate]'`): only this module
imports it, and running scenarios with the shipped posterior does not.
"""

import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .priors import Prior


@dataclass(frozen=True)
class Moment:
    name: str
    observed: float
    sd: float  # absolute: the data uncertainty of the observed value
    note: str = ""


@dataclass
class Inference:
    particles: pd.DataFrame  # one row per particle: the parameters by name and `weight`
    distances: np.ndarray
    epsilons: list[float]
    simulations: int
    seconds: float
    generations: int


def parameter_seed(seed: int, values: np.ndarray) -> np.random.SeedSequence:
    """The simulation seed of a parameter point: the calibration seed and a hash of the values."""
    digest = hashlib.sha256(np.ascontiguousarray(values, dtype=np.float64).tobytes()).digest()
    return np.random.SeedSequence([seed % 2**63, int.from_bytes(digest[:8], "little")])


def to_values(priors: list[Prior], unit: np.ndarray) -> np.ndarray:
    """Unit-cube coordinates (rows of draws, or one draw) to parameter values: each prior's quantile."""
    unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
    columns = [p.frozen().ppf(unit[..., i]) for i, p in enumerate(priors)]
    return np.stack(columns, axis=-1)


class _Model:
    """The simulator as pyabc calls it: pyabc's parameter dict in, a dict of moments out."""

    def __init__(self, simulate: Callable, priors: list[Prior], moments: list[Moment], seed: int, one_thread: bool):
        self.simulate, self.seed, self.one_thread = simulate, seed, one_thread
        self.priors = priors
        self.names = [p.name for p in priors]
        self.moments = [m.name for m in moments]

    def __call__(self, pars) -> dict:
        if self.one_thread:
            from .executors import single_threaded_kernels

            single_threaded_kernels()
        x = to_values(self.priors, np.array([float(pars[f"p{i:03d}"]) for i in range(len(self.names))]))
        try:
            out = self.simulate(dict(zip(self.names, x)), parameter_seed(self.seed, x))
        except (ArithmeticError, ValueError, IndexError, InputError):
            out = {}  # a parameter point where the model cannot run: rejected
        return {m: float(out.get(m, np.nan)) for m in self.moments}


def distance(moments: list[Moment]):
    """The distance of a simulation's moments to the published ones: the root
    of the summed squared standardised errors; infinite when a moment is
    missing or not finite.  (pyabc calls it with the observed dict second.)"""
    observed = np.array([m.observed for m in moments])
    sd = np.array([m.sd for m in moments])
    names = [m.name for m in moments]

    def measure(x: dict, x0: dict | None = None) -> float:
        simulated = np.array([x.get(n, np.nan) for n in names])
        if not np.isfinite(simulated).all():
            return math.inf
        return float(np.sqrt((((simulated - observed) / sd) ** 2).sum()))

    return measure


def _settings_fingerprint(priors: list[Prior], moments: list[Moment], settings: dict) -> dict:
    return {"priors": [asdict(p) for p in priors], "moments": [asdict(m) for m in moments], "settings": settings,
            "coordinates": "unit cube of prior quantiles"}


@contextlib.contextmanager
def _sampler(executor):
    """A pyabc sampler over this process, a local process pool or a Dask cluster,
    and whether its simulations run in workers (which use one kernel thread each)."""
    import pyabc

    if executor is None or (executor.name == "local" and executor.jobs == 1):
        yield pyabc.SingleCoreSampler(), False
        return
    with executor.futures() as pool:
        yield pyabc.ConcurrentFutureSampler(pool, client_max_jobs=executor.jobs), True


class _Progress(logging.Handler):
    """pyabc's own lines on each generation ("t: 2, eps: 1.9e+01.", "Accepted: ...") to our progress callback."""

    def __init__(self, progress: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "ABC":
            self.progress(record.getMessage())


def _forward_progress(progress: Callable[[str], None] | None) -> None:
    root = logging.getLogger("ABC")  # pyabc's loggers are ABC and ABC.<part>
    root.handlers = [_Progress(progress)] if progress else []
    root.propagate = False
    root.setLevel(logging.INFO if progress else logging.WARNING)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("ABC."):
            logging.getLogger(name).setLevel(logging.WARNING)


def _wall_time(populations: pd.DataFrame, started: float) -> float:
    """Seconds spent on all generations, over every session of a resumed
    calibration (pyabc records each generation's wall time, idle time excluded)."""
    recorded = pd.to_numeric(populations.get("wall_time"), errors="coerce")
    if recorded is None or recorded.isna().all():
        return time.monotonic() - started
    return float(recorded.fillna(0).sum())


def infer(simulate: Callable[[dict, np.random.SeedSequence], dict], priors: list[Prior], moments: list[Moment], *,
          particles: int, generations: int, max_simulations: int, database: Path, seed: int, executor=None,
          quantile: float = 0.5, settings: dict | None = None,
          progress: Callable[[str], None] | None = None) -> Inference:
    """ABC-SMC: the last generation's weighted particles.  Resumes from `database`
    when it holds a run with the same priors, moments and settings.

    With `generations=1` this is rejection ABC: `particles` draws from the
    prior whose distance is below the `quantile` of a first prior sample, all
    of equal weight.  Later generations propose around the previous one and
    reweight by prior over proposal density; in many dimensions those weights
    can collapse onto a few particles (the effective sample size says so)."""
    try:
        import pyabc
    except ImportError:
        raise InputError("calibration needs the inference library: pip install -e '.[calibrate]'") from None
    _forward_progress(progress)
    if not priors:
        raise InputError("nothing to calibrate: no parameter has a prior")
    database = Path(database)
    fingerprint = _settings_fingerprint(priors, moments, {**(settings or {}), "particles": particles, "seed": seed,
                                                          "quantile": quantile})
    settings_file = database.with_suffix(database.suffix + ".json")
    resume = database.exists()
    if resume:
        try:
            recorded = json.loads(settings_file.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            recorded = None
        if recorded != json.loads(json.dumps(fingerprint)):
            raise InputError("the checkpoint was made with other priors, moments or settings; delete it to start "
                             "afresh or give another --checkpoint", file=str(database))
    database.parent.mkdir(parents=True, exist_ok=True)
    prior = pyabc.Distribution(**{f"p{i:03d}": pyabc.RV("uniform", 0.0, 1.0) for i in range(len(priors))})
    started = time.monotonic()
    np.random.seed(seed % 2**32)  # pyabc draws its proposals from numpy's global generator
    with _sampler(executor) as (sampler, parallel):
        model = _Model(simulate, priors, moments, seed, one_thread=parallel)
        # Each generation's threshold is the `quantile` of the previous one's distances
        # (the first: of a sample from the prior).
        abc = pyabc.ABCSMC(model, prior, distance(moments), population_size=particles, sampler=sampler,
                           eps=pyabc.QuantileEpsilon(alpha=quantile))
        url = f"sqlite:///{database.resolve()}"
        if resume:
            history = abc.load(url, 1)
        else:
            history = abc.new(url, {m.name: m.observed for m in moments})
            settings_file.write_text(json.dumps(fingerprint, indent=1) + "\n", encoding="utf-8")
        remaining = generations - (history.max_t + 1)
        if progress:
            progress(f"{'resuming at' if resume else 'starting'} generation {history.max_t + 1} of {generations}")
        if remaining > 0 and history.total_nr_simulations < max_simulations:
            history = abc.run(max_nr_populations=remaining, max_total_nr_simulations=max_simulations)
    if history.max_t < 0:
        raise InputError("the calibration did not complete a generation; give it more --max-simulations")
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    unit = np.column_stack([frame[f"p{i:03d}"].to_numpy(float) for i in range(len(priors))])
    particles_frame = pd.DataFrame(to_values(priors, unit), columns=[p.name for p in priors])
    particles_frame["weight"] = np.asarray(weights, dtype=float) / np.sum(weights)
    populations = history.get_all_populations()
    distances = history.get_weighted_distances(t=history.max_t)["distance"].to_numpy(float)
    return Inference(particles=particles_frame, distances=distances,
                     epsilons=[float(e) for e in populations.loc[populations["t"] >= 0, "epsilon"]],
                     simulations=int(history.total_nr_simulations), seconds=_wall_time(populations, started),
                     generations=history.max_t + 1)
