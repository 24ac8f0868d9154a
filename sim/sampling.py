"""Vectorised sampling helpers used when building and stepping the population."""

import numpy as np


def choose_exact(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of exactly k rows, drawn without replacement, favouring large weights.

    Efraimidis-Spirakis keys log(u)/w: the k largest keys are a weighted sample
    without replacement.  Rows with weight 0 are never chosen; k is capped at
    the number of rows with positive weight.
    """
    weights = np.asarray(weights)
    mask = np.zeros(len(weights), dtype=bool)
    candidates = np.flatnonzero(weights > 0)
    k = int(min(max(k, 0), len(candidates)))
    if k == 0:
        return mask
    if k == len(candidates):
        mask[candidates] = True
        return mask
    # float32 keys: ranking precision is ample and the memory is halved at full scale.
    keys = np.log1p(-rng.random(len(candidates), dtype=np.float32)) / weights[candidates].astype(np.float32)
    mask[candidates[np.argpartition(keys, len(keys) - k)[len(keys) - k :]]] = True
    return mask


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
