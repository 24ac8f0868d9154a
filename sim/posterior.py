"""The shipped posterior over the behavioural parameters, and how ensembles use it.

`calibration/posterior.parquet` (written by `zjsim calibrate`, `sim.abc`) holds
weighted parameter sets: a `weight` column and one column per parameter with a
prior (`sim.priors`), named as in params.toml (`insurance.enrolment_catch_up[1]`).
Reading it needs pyarrow only, not the inference library.

An ensemble under `--uncertainty posterior` gives each replicate one parameter
set: the sets are drawn by weight from a stream named after the run's root
seed, and replicates 2k and 2k+1 share draw k.  The same draw serves
replicate r of every scenario, so paired differences keep common random
numbers.  Pairs make the split of the spread possible: the variance between
replicates of one draw is chance, the rest comes from the parameters (a
one-way random-effects decomposition, `variance_split`).
"""

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .calibration import CALIBRATION_DIR
from .errors import InputError
from .parquet import read_parquet
from .streams import stable_key

POSTERIOR = CALIBRATION_DIR / "posterior.parquet"
MODES = ("posterior", "fixed")
REPLICATES_PER_DRAW = 2


@dataclass(frozen=True)
class Posterior:
    path: Path
    sha256: str
    names: list[str]
    values: np.ndarray  # draws x parameters
    weights: np.ndarray  # normalised
    metadata: dict

    @classmethod
    def load(cls, path: str | Path = POSTERIOR) -> "Posterior":
        path = Path(path)
        try:
            data = path.read_bytes()
            table = read_parquet(data)  # the bytes checksummed below, read once
        except FileNotFoundError:
            raise InputError("posterior file not found; run `zjsim calibrate` or use --uncertainty fixed",
                             file=str(path)) from None
        except (IsADirectoryError, OSError, ValueError) as err:
            raise InputError(f"cannot read the posterior ({err.__class__.__name__})", file=str(path)) from None
        names = [n for n in table.column_names if n != "weight"]
        if "weight" not in table.column_names or not names:
            raise InputError("a posterior needs a weight column and one column per parameter", file=str(path))
        try:
            values = np.column_stack([table[n].to_numpy().astype(float) for n in names])
            weights = table["weight"].to_numpy().astype(float)
        except (TypeError, ValueError, AttributeError):
            raise InputError("posterior columns must be numbers", file=str(path)) from None
        if not (np.isfinite(values).all() and np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0):
            raise InputError("posterior values and weights must be finite, weights non-negative", file=str(path))
        raw = (table.schema.metadata or {}).get(b"zjsim", b"{}")
        return cls(path, hashlib.sha256(data).hexdigest(), names, values, weights / weights.sum(), json.loads(raw))

    def parameters(self, draw: int) -> dict[str, float]:
        return {name: float(value) for name, value in zip(self.names, self.values[draw])}

    def weighted_quantiles(self, q) -> np.ndarray:
        """Per parameter (columns), the weighted quantiles q (rows)."""
        order = np.argsort(self.values, axis=0)
        out = np.empty((len(q), len(self.names)))
        for j in range(len(self.names)):
            cumulative = np.cumsum(self.weights[order[:, j]])
            out[:, j] = np.interp(q, cumulative - self.weights[order[:, j]] / 2, self.values[order[:, j], j])
        return out


def choose_draws(posterior: Posterior, replicates: int, root_seed: int) -> list[int]:
    """The posterior row of each replicate: drawn by weight from a stream of the
    root seed, one draw per pair of replicates."""
    rng = np.random.default_rng(np.random.SeedSequence([root_seed % 2**63, stable_key("posterior draws")]))
    draws = rng.choice(len(posterior.weights), size=math.ceil(replicates / REPLICATES_PER_DRAW), p=posterior.weights)
    return [int(draws[r // REPLICATES_PER_DRAW]) for r in range(replicates)]


def uncertainty_record(mode: str, replicates: int, root_seed: int, path: str | Path | None = None) -> dict:
    """What the request and the manifest say of the parameters: the mode, and under
    `posterior` the file, its SHA-256, the draw of each replicate and the
    parameter values of every draw used (so a rerun needs only the manifest)."""
    if mode not in MODES:
        raise InputError(f"--uncertainty {mode!r} is not allowed; expected {' or '.join(MODES)}", key="--uncertainty")
    if mode == "fixed":
        return {"mode": "fixed"}
    posterior = Posterior.load(path or POSTERIOR)
    draws = choose_draws(posterior, replicates, root_seed)
    try:
        shown = str(posterior.path.resolve().relative_to(CALIBRATION_DIR.parent))
    except ValueError:
        shown = str(posterior.path)
    return {"mode": "posterior", "posterior": shown, "posterior_sha256": posterior.sha256, "draws": draws,
            "parameters": {str(d): posterior.parameters(d) for d in sorted(set(draws))}}


def replicate_parameters(record: dict, replicates: int) -> list[dict[str, float] | None]:
    """Per replicate, the parameter values to set (None: params.toml as it is),
    from an uncertainty record, checked."""
    if record.get("mode", "fixed") == "fixed":
        return [None] * replicates
    draws, parameters = record.get("draws"), record.get("parameters")
    if (not isinstance(draws, list) or len(draws) != replicates or not isinstance(parameters, dict)
            or not all(isinstance(d, int) and str(d) in parameters for d in draws)):
        raise InputError("uncertainty record is damaged: draws must list one recorded draw per replicate", key="uncertainty")
    for values in parameters.values():
        if not isinstance(values, dict) or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values.values()):
            raise InputError("uncertainty record is damaged: parameter values must be finite numbers", key="uncertainty")
    return [parameters[str(d)] for d in draws]


def variance_split(values: np.ndarray, groups: np.ndarray) -> float:
    """Share of the variance of `values` that comes from the parameters, when
    replicates in one group share a parameter draw: 1 - (within-group mean
    square / total variance), clipped to [0, 1]; NaN without a group of two."""
    values, groups = np.asarray(values, dtype=float), np.asarray(groups)
    total = values.var(ddof=1) if len(values) > 1 else np.nan
    within, dof = 0.0, 0
    for g in np.unique(groups):
        member = values[groups == g]
        if len(member) > 1:
            within += float(((member - member.mean()) ** 2).sum())
            dof += len(member) - 1
    if dof == 0 or not total > 0:
        return np.nan if dof == 0 else 0.0
    return float(np.clip(1.0 - (within / dof) / total, 0.0, 1.0))
