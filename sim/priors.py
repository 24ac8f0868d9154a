"""Priors of the behavioural parameters, read from `calibration/params.toml`.

Every behavioural entry of params.toml carries a prior next to its value:

    quit_rate = { value = 0.0008, ..., prior = { dist = "loguniform", lo = 0.0004, hi = 0.002, why = "..." } }

`dist` is `uniform` or `loguniform` (for rates known only to within a factor);
`lo` and `hi` are its bounds, lists for vector entries (an element with
lo == hi is a fixed reference, not inferred).  Entries whose status is
`convention` or `resolution` (school-leaving month, the cap on firm size, rows
per large firm) are not behaviour and have none.  The priors feed the
posterior calibration (`sim.abc`), and sweeps can vary a parameter over its
prior range (`--vary NAME=prior`).
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .errors import InputError

DISTRIBUTIONS = ("uniform", "loguniform")
WITHOUT_PRIOR = ("convention", "resolution")  # statuses of entries that are not behaviour


@dataclass(frozen=True)
class Prior:
    """The prior of one scalar parameter (a vector entry gives one per free element)."""

    name: str  # "separations.quit_rate" or "insurance.enrolment_catch_up[1]"
    dist: str
    lo: float
    hi: float
    why: str

    def frozen(self):
        """The scipy distribution."""
        if self.dist == "uniform":
            return stats.uniform(self.lo, self.hi - self.lo)
        return stats.loguniform(self.lo, self.hi)

    def quantiles(self, q) -> np.ndarray:
        return self.frozen().ppf(q)

    @property
    def width(self) -> float:
        """Width of the central 90% interval."""
        lo, hi = self.quantiles([0.05, 0.95])
        return float(hi - lo)


def read_priors(params) -> list[Prior]:
    """The priors of a parameter file (`sim.calibration.EntryFile`), in file order, checked:
    a behavioural entry without a prior, an unknown distribution, bounds out of
    order or a value outside its prior is an InputError naming the key."""
    priors = []
    for key, entry in params.entries.items():
        prior = entry.get("prior")
        if prior is None:
            if entry.get("status") not in WITHOUT_PRIOR:
                raise InputError(f"behavioural parameter has no prior; add prior = {{ dist, lo, hi, why }} "
                                 f"or mark it status = {' or '.join(map(repr, WITHOUT_PRIOR))}",
                                 file=str(params.path), key=key)
            continue
        priors.extend(_entry_priors(params.path, key, entry["value"], prior))
    return priors


def _entry_priors(path, key: str, value, prior) -> list[Prior]:
    def bad(message: str):
        raise InputError(message, file=str(path), key=f"{key}.prior")

    if not isinstance(prior, dict) or set(prior) != {"dist", "lo", "hi", "why"}:
        bad("expected prior = { dist = ..., lo = ..., hi = ..., why = \"...\" }")
    if prior["dist"] not in DISTRIBUTIONS:
        bad(f"dist {prior['dist']!r} is not allowed; expected {' or '.join(DISTRIBUTIONS)}")
    vector = isinstance(value, list)
    los, his = prior["lo"], prior["hi"]
    if vector:
        if not (isinstance(los, list) and isinstance(his, list) and len(los) == len(his) == len(value)):
            bad(f"a vector entry needs lo and hi lists of {len(value)} numbers")
    else:
        los, his, value = [los], [his], [value]
    priors = []
    for index, (lo, hi, v) in enumerate(zip(los, his, value)):
        name = f"{key}[{index}]" if vector else key
        numbers = (lo, hi, v)
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in numbers):
            bad(f"{name}: lo, hi and the value must be finite numbers")
        if lo == hi:
            if v != lo:
                bad(f"{name}: a fixed element (lo == hi = {lo:g}) must equal its value {v:g}")
            continue
        if not lo < hi:
            bad(f"{name}: lo {lo:g} must be below hi {hi:g}")
        if prior["dist"] == "loguniform" and lo <= 0:
            bad(f"{name}: a loguniform prior needs lo > 0, got {lo:g}")
        if not lo <= v <= hi:
            bad(f"{name}: the value {v:g} lies outside the prior [{lo:g}, {hi:g}]")
        priors.append(Prior(name, prior["dist"], float(lo), float(hi), str(prior["why"])))
    return priors


def sample(priors: list[Prior], n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws from the independent priors, one column per prior."""
    return np.column_stack([p.frozen().rvs(size=n, random_state=rng) for p in priors]) if priors else np.empty((n, 0))
