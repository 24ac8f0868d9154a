"""Sweeps and global sensitivity: which inputs decide each 2025 target.

Inputs are levers (`sim/levers.py`, numeric ones) or behavioural parameters
(dotted names of `calibration/params.toml`, e.g. `separations.quit_rate` or
`insurance.enrolment_catch_up[1]`), each varied over a range.  The design is
Saltelli's extension of a Sobol sequence (SALib) for Sobol indices, or a Latin
hypercube (`scipy.stats.qmc`) for plain exploration.  Every design point runs
`replicates` times with the same replicate seeds (common random numbers),
through the same executors as `zjsim run`.  Per point: each plan indicator's
judged 2025 value (as in `zjsim targets`, replicate mean) and the probability
of meeting its target; for Sobol designs, first-order and total indices with
confidence intervals of both, per input (SALib's analysis).
"""

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.stats import qmc

from .errors import InputError
from .levers import LEVERS, Levers, Schedule
from .runner import _calibration, replicate_seeds, rows_to_table, simulate
from .scenario import Scenario
from .targets import judged_values, meets, plan_indicators

_VARY = re.compile(r"^(?P<name>[\w.\[\]]+)=(?P<lo>[-+\d.eE]+):(?P<hi>[-+\d.eE]+)$")


@dataclass(frozen=True)
class Input:
    name: str
    lo: float
    hi: float

    @property
    def is_lever(self) -> bool:
        return "." not in self.name


_PRIOR = re.compile(r"^(?P<name>[\w.\[\]]+)=prior$")


def prior_range(name: str) -> Input:
    """A parameter varied over its prior's 5-95% range (calibration/params.toml)."""
    from .priors import read_priors

    priors = {p.name: p for p in read_priors(_calibration().params)}
    if name not in priors:
        raise InputError(f"--vary {name}=prior: no prior for {name!r}; parameters with a prior are listed in "
                         "calibration/params.toml (vector elements as name[i])", key="--vary")
    lo, hi = priors[name].quantiles([0.05, 0.95])
    return Input(name, float(lo), float(hi))


def parse_vary(text: str) -> Input:
    """'training_volume=0.5:2', 'separations.quit_rate=0.0005:0.002', or
    'separations.quit_rate=prior' (the 5-95% range of its prior)."""
    prior = _PRIOR.match(text.strip())
    if prior:
        return prior_range(prior["name"])
    match = _VARY.match(text.strip())
    if not match:
        raise InputError(f"--vary {text!r} is not NAME=LOW:HIGH", key="--vary")
    item = Input(match["name"], float(match["lo"]), float(match["hi"]))
    if not item.lo < item.hi:
        raise InputError(f"--vary {text!r}: LOW must be below HIGH", key="--vary")
    if item.is_lever:
        lever = LEVERS.get(item.name)
        if lever is None or lever.kind is not float:
            numeric = ", ".join(n for n, lv in LEVERS.items() if lv.kind is float)
            raise InputError(f"--vary {item.name}: not a numeric lever; levers: {numeric} (or a dotted parameter name)", key="--vary")
        if lever.lo is not None and (item.lo < lever.lo or item.hi > lever.hi):
            raise InputError(f"--vary {item.name}: the range must lie within {lever.lo:g} to {lever.hi:g}", key="--vary")
    else:
        from .calibration import ELEMENT

        match = ELEMENT.match(item.name)
        if not match or match["name"] not in _calibration().params.entries:
            raise InputError(f"--vary {item.name}: no such parameter in calibration/params.toml", key="--vary")
    return item


def read_sweep_file(path: str) -> list[Input]:
    """A sweep file: TOML with a [vary] table of NAME = [LOW, HIGH] (see scenarios/sweeps/)."""
    import tomllib

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise InputError("sweep file not found", file=path) from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML: {err}", file=path) from None
    unknown = set(data) - {"vary"}
    if unknown or not isinstance(data.get("vary"), dict) or not data["vary"]:
        raise InputError("expected a non-empty [vary] table of NAME = [LOW, HIGH] and nothing else", file=path, key="vary")
    inputs = []
    for name, bounds in data["vary"].items():
        if bounds == "prior":
            try:
                inputs.append(parse_vary(f"{name}=prior"))
            except InputError as err:
                raise InputError(str(err), file=path, key=f"vary.{name}") from None
            continue
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)):
            raise InputError(f"value {bounds!r} is not allowed; expected [LOW, HIGH] or \"prior\"", file=path, key=f"vary.{name}")
        try:
            inputs.append(parse_vary(f"{name}={bounds[0]}:{bounds[1]}"))
        except InputError as err:
            raise InputError(str(err), file=path, key=f"vary.{name}") from None
    return inputs


def design(inputs: list[Input], method: str, samples: int, seed: int) -> np.ndarray:
    problem = _problem(inputs)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    if method == "lhs":
        unit = qmc.LatinHypercube(d=len(inputs), seed=seed).random(samples)
        return qmc.scale(unit, [i.lo for i in inputs], [i.hi for i in inputs])
    raise InputError(f"unknown sampling method {method!r}; allowed: sobol, lhs", key="--method")


def _problem(inputs: list[Input]) -> dict:
    return {"num_vars": len(inputs), "names": [i.name for i in inputs], "bounds": [[i.lo, i.hi] for i in inputs]}


def point_task(scenario: Scenario, inputs: list[Input], x: np.ndarray, replicate: int, seed) -> dict[str, float]:
    """One design point, one replicate: each plan indicator's judged value and whether it meets its target."""
    levers = dict(scenario.levers.schedules)
    params = {}
    for item, value in zip(inputs, x):
        if item.is_lever:
            levers[item.name] = Schedule(((scenario.start, float(value)),))
        else:
            params[item.name] = float(value)
    calibration = _calibration().with_parameters(params)
    varied = replace(scenario, levers=Levers(schedules=levers, minimum_wage=scenario.levers.minimum_wage))
    frame = rows_to_table(simulate(varied, replicate, seed, calibration)).to_pandas()
    out = {}
    for plan in plan_indicators():
        values = judged_values(frame, plan)["value"].to_numpy(dtype=float)
        if len(values):
            out[plan["id"]] = float(values[0])
            out[f"meets:{plan['id']}"] = float(meets(values, float(plan["target_2025"]), plan["comparison"])[0])
    return out


def run_sweep(scenario: Scenario, inputs: list[Input], *, method: str, samples: int, replicates: int, seed: int,
              executor, progress=None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(per-point table, Sobol indices table or None)."""
    if scenario.end < scenario.start + 59:
        raise InputError("a sweep judges 2025 targets: the scenario must run to 2025-12", key="end")
    points = design(inputs, method, samples, seed)
    seeds = replicate_seeds(seed, replicates)
    work = {(p, r): (scenario, inputs, points[p], r, seeds[r]) for p in range(len(points)) for r in range(replicates)}
    results = {}
    for count, (key, value) in enumerate(executor.map(point_task, work), start=1):
        results[key] = value
        if progress:
            progress(count, len(work), "runs")
    rows = []
    for p, x in enumerate(points):
        runs = [results[p, r] for r in range(replicates)]
        row = {"point": p, **{i.name: float(v) for i, v in zip(inputs, x)}}
        for key in runs[0]:
            name = key.replace("meets:", "probability:") if key.startswith("meets:") else key
            row[name] = float(np.mean([run[key] for run in runs]))
        rows.append(row)
    table = pd.DataFrame(rows)
    indices = sobol_indices(table, inputs, seed) if method == "sobol" else None
    return table, indices


def sobol_indices(table: pd.DataFrame, inputs: list[Input], seed: int) -> pd.DataFrame:
    from SALib.analyze import sobol

    rows = []
    outputs = [c for c in table.columns if c not in {"point", *(i.name for i in inputs)}]
    for output in outputs:
        y = table[output].to_numpy(dtype=float)
        if np.allclose(y, y[0]):  # constant output: nothing decides it
            s1 = st = np.zeros(len(inputs))
            s1c = stc = np.zeros(len(inputs))
        else:
            result = sobol.analyze(_problem(inputs), y, calc_second_order=False, seed=seed)
            s1, s1c, st, stc = result["S1"], result["S1_conf"], result["ST"], result["ST_conf"]
        for item, a, b, c, d in zip(inputs, s1, s1c, st, stc):
            rows.append({"output": output, "input": item.name, "S1": float(a), "S1_conf": float(b),
                         "ST": float(c), "ST_conf": float(d)})
    return pd.DataFrame(rows)


def deciders(indices: pd.DataFrame, threshold: float = 0.1) -> pd.DataFrame:
    """For each output, the inputs whose total index is at least `threshold`, largest first."""
    rows = []
    for output, group in indices.groupby("output", sort=False):
        strong = group[group["ST"] >= threshold].sort_values("ST", ascending=False)
        rows.append({"output": output, "decided by": ", ".join(f"{r.input} (ST {r.ST:.2f})" for r in strong.itertuples())
                     or "none of the varied inputs"})
    return pd.DataFrame(rows)


RELIABLE_SAMPLES = 64  # base samples below which Saltelli's estimates are mostly noise


def sobol_warning(indices: pd.DataFrame, samples: int) -> str | None:
    """A caution when the Sobol indices cannot be trusted: too few base samples,
    indices outside [0, 1], or confidence intervals wider than the indices' range."""
    outside = int(((indices["S1"] > 1) | (indices["ST"] > 1) | (indices["S1"] < -0.1) | (indices["ST"] < 0)).sum())
    wide = int((indices["ST_conf"] > 0.5).sum())
    if samples >= RELIABLE_SAMPLES and not outside and not wide:
        return None
    return (f"Sobol indices from {samples} base samples are unreliable ({outside} outside [0, 1], {wide} with a "
            f"confidence interval wider than 0.5); use --samples {RELIABLE_SAMPLES} or more before reading them")
