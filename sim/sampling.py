"""Vectorised sampling helpers used when building and stepping the population."""

import numba
import numpy as np

from .streams import draw


@numba.njit(cache=True, parallel=True)
def _exponential_keys(weights: np.ndarray, key: np.uint64) -> np.ndarray:
    """Key E_i / w_i of each row (E_i standard exponential from the row's
    counter-based draw), +inf where the weight is not positive."""
    keys = np.empty(len(weights), dtype=np.float32)
    for i in numba.prange(len(weights)):
        w = np.float32(weights[i])
        u = np.float32(1.0) - draw(key, i)  # in (0, 1]
        keys[i] = -np.log(u) / w if w > 0 else np.inf
    return keys


@numba.njit(cache=True)
def _smallest(keys: np.ndarray, kth: np.float32, k: int) -> np.ndarray:
    """Mask of the k rows with the smallest keys, given the k-th smallest key:
    every key below it, then keys equal to it in row order (float32 ties)."""
    mask = np.zeros(len(keys), dtype=np.bool_)
    taken = 0
    for i in range(len(keys)):
        below = keys[i] < kth
        mask[i] = below
        taken += below
    for i in range(len(keys)):
        if taken == k:
            break
        if keys[i] == kth:
            mask[i] = True
            taken += 1
    return mask


def choose_exact(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of exactly k rows, drawn without replacement, favouring large weights.

    Efraimidis-Spirakis: with E_i standard exponential, the k smallest keys
    E_i / w_i are a weighted sample without replacement.  Rows with weight 0
    are never chosen; k is capped at the number of rows with positive weight.
    The keys come from a compiled, parallel pass (counter-based draws keyed by
    one number from `rng`, so the sample does not depend on the threads), and
    the k-th smallest from a partial sort of a float32 copy.
    """
    weights = np.asarray(weights)
    positive = int(np.count_nonzero(weights > 0))
    k = int(min(max(k, 0), positive))
    if k == 0:
        return np.zeros(len(weights), dtype=bool)
    if k == positive:
        return weights > 0
    keys = _exponential_keys(weights, np.uint64(rng.integers(0, 2**63)))
    kth = np.partition(keys, k - 1)[k - 1]
    return _smallest(keys, kth, k)


def apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Split an integer total by shares, largest remainders first (Hamilton's method)."""
    shares = np.asarray(shares, dtype=np.float64)
    exact = total * shares / shares.sum()
    counts = np.floor(exact).astype(np.int64)
    short = int(total - counts.sum())
    if short > 0:
        counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def stochastic_round(x: float, rng: np.random.Generator) -> int:
    """floor(x) plus one with probability frac(x): unbiased integer counts at any scale."""
    base = np.floor(x)
    return int(base + (rng.random() < x - base))


def categorical(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Category index for each uniform u under one probability vector."""
    cdf = np.cumsum(probabilities) / np.sum(probabilities)
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1).astype(np.int8)
