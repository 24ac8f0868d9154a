"""Vectorised sampling helpers used when building and stepping the population."""

import numba
import numpy as np

from .kernels import block, block_count, sized_pass
from .streams import draw


@numba.njit(inline="always")
def _exponential_key(weight, key: np.uint64, row) -> np.float32:
    """Key E / w of row `row` (E standard exponential from the row's
    counter-based draw), +inf where the weight is not positive."""
    w = np.float32(weight)
    u = np.float32(1.0) - draw(key, row)  # in (0, 1]
    return -np.log(u) / w if w > 0 else np.float32(np.inf)


@sized_pass(ns_per_row=8)
@numba.njit(cache=True, parallel=True)
def _exponential_keys(weights: np.ndarray, key: np.uint64) -> np.ndarray:
    """The key of every row (`_exponential_key`)."""
    keys = np.empty(len(weights), dtype=np.float32)
    for i in numba.prange(len(weights)):
        keys[i] = _exponential_key(weights[i], key, i)
    return keys


@sized_pass(ns_per_row=13)
@numba.njit(cache=True, parallel=True)
def _exponential_keys_at(weights: np.ndarray, rows: np.ndarray, key: np.uint64) -> np.ndarray:
    """The keys `_exponential_keys` gives rows `rows` (weights[j] for row
    rows[j]): each row keeps its own draw."""
    keys = np.empty(len(rows), dtype=np.float32)
    for j in numba.prange(len(rows)):
        keys[j] = _exponential_key(weights[j], key, rows[j])
    return keys


@sized_pass(ns_per_row=0.3)
@numba.njit(cache=True, parallel=True)
def _count_positive(weights: np.ndarray) -> int:
    """np.count_nonzero(weights > 0) without the mask, in parallel blocks."""
    n = len(weights)
    blocks = block_count(n)
    counts = np.zeros(blocks, dtype=np.int64)
    for b in numba.prange(blocks):
        lo, hi = block(b, n)
        weights_b = weights[lo:hi]  # a view indexed from 0 (sim.kernels)
        positive = 0
        for i in range(hi - lo):
            positive += weights_b[i] > 0
        counts[b] = positive
    return counts.sum()


@numba.njit(cache=True)
def _smallest(keys: np.ndarray, kth: np.float32, k: int) -> np.ndarray:
    """Mask of the k rows with the smallest keys, given the k-th smallest key:
    every key below it, then keys equal to it in row order (float32 ties).
    Serial: the fallback of `_select` when its bracket misses."""
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


@sized_pass(ns_per_row=0.5)
@numba.njit(cache=True, parallel=True)
def _count_between(keys: np.ndarray, lo: np.float32, hi: np.float32) -> np.ndarray:
    """Per block of rows: the keys below `lo`, and those in [lo, hi)."""
    blocks = block_count(len(keys))
    counts = np.zeros((blocks, 2), dtype=np.int64)
    for b in numba.prange(blocks):
        first, end = block(b, len(keys))
        keys_b = keys[first:end]  # a view indexed from 0 (sim.kernels)
        below = inside = 0
        for i in range(end - first):
            below += keys_b[i] < lo
            inside += (keys_b[i] >= lo) & (keys_b[i] < hi)
        counts[b, 0], counts[b, 1] = below, inside
    return counts


@sized_pass(ns_per_row=1.5)
@numba.njit(cache=True, parallel=True)
def _gather_between(keys: np.ndarray, lo: np.float32, hi: np.float32, starts: np.ndarray, total: int):
    """The rows whose key is in [lo, hi) and their keys, in row order (block b
    writes from starts[b], as `_count_between` counted).  A block first lists
    its rows without a branch (`kernels`' habit; a branch per row took 8x as
    long though it is rarely taken)."""
    rows = np.empty(total, dtype=np.int64)
    values = np.empty(total, dtype=np.float32)
    for b in numba.prange(block_count(len(keys))):
        first, end = block(b, len(keys))
        keys_b = keys[first:end]  # a view indexed from 0 (sim.kernels)
        found = np.empty(end - first, dtype=np.int64)
        k = 0
        for i in range(end - first):
            found[k] = i
            k += (keys_b[i] >= lo) & (keys_b[i] < hi)
        at = starts[b]
        for j in range(k):
            rows[at + j] = first + found[j]
            values[at + j] = keys_b[found[j]]
    return rows, values


@sized_pass(ns_per_row=0.4)
@numba.njit(cache=True, parallel=True)
def _below(keys: np.ndarray, kth: np.float32) -> np.ndarray:
    """Mask of the keys below kth."""
    mask = np.empty(len(keys), dtype=np.bool_)
    for i in numba.prange(len(keys)):
        mask[i] = keys[i] < kth
    return mask


SPARSE_SHARE = 8  # choose_exact keys only the rows with a positive weight when they are under 1 in 8
SAMPLE_STRIDE = 256  # one key in this many estimates where the k-th smallest lies


def _select(keys: np.ndarray, k: int) -> np.ndarray:
    """Mask of the k rows with the smallest keys (ties at the k-th key taken in
    row order): the same rows as a partial sort of every key, found without one.

    The k-th smallest key is bracketed by quantiles of a sample of the keys (every
    SAMPLE_STRIDE-th), a margin of several standard errors wide; one parallel pass
    counts the keys below the bracket and within it, a second gathers those
    within (a few per thousand), and the k-th smallest is found among them.  In
    the rare case the bracket misses (or the sample is too small to be worth
    it) every key is sorted partially, as before.  At 65 million keys: 0.07-0.10
    s a call against 0.19-0.22 s for the copy, the partial sort and the serial
    mask; a build makes 37 calls."""
    n = len(keys)
    sample = np.sort(keys[::SAMPLE_STRIDE])
    m = len(sample)
    if m >= 64:
        position = k / n * m
        margin = 4.0 * np.sqrt(max(position * (1.0 - position / m), 1.0)) + 4.0
        low, high = int(np.floor(position - margin)), int(np.ceil(position + margin))
        lo = sample[low] if low >= 0 else np.float32(-np.inf)
        hi = sample[high] if high < m else np.float32(np.inf)
        counts = _count_between(keys, lo, hi)
        below = int(counts[:, 0].sum())
        inside = counts[:, 1]
        if below < k <= below + int(inside.sum()):
            starts = np.concatenate(([0], np.cumsum(inside)[:-1]))
            rows, values = _gather_between(keys, lo, hi, starts, int(inside.sum()))
            kth = np.partition(values, k - 1 - below)[k - 1 - below]
            mask = _below(keys, kth)
            short = k - below - int(np.count_nonzero(values < kth))
            if short > 0:  # ties at the k-th key: the first in row order
                mask[rows[values == kth][:short]] = True
            return mask
    kth = np.partition(keys, k - 1)[k - 1]
    return _smallest(keys, kth, k)


def choose_exact(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of exactly k rows, drawn without replacement, favouring large weights.

    Efraimidis-Spirakis: with E_i standard exponential, the k smallest keys
    E_i / w_i are a weighted sample without replacement.  Rows with weight 0
    are never chosen; k is capped at the number of rows with positive weight.
    The keys come from a compiled, parallel pass (counter-based draws keyed by
    one number from `rng`, so the sample does not depend on the threads), and
    the rows with the k smallest keys from `_select`.  When fewer than one row
    in SPARSE_SHARE has a positive weight (a cohort of one age, the students
    of three), only those rows are keyed, each with its own draw: the same
    rows, for the work of the few.
    """
    weights = np.asarray(weights)
    positive = _count_positive(weights)
    k = int(min(max(k, 0), positive))
    if k == 0:
        return np.zeros(len(weights), dtype=bool)
    if k == positive:
        return weights > 0
    key = np.uint64(rng.integers(0, 2**63))
    if positive * SPARSE_SHARE < len(weights):
        # Few rows can be chosen: key those alone.  Rows without weight have
        # infinite keys and are never among the k smallest, and `_select`
        # breaks ties in row order, which the list keeps: the same rows.
        rows = np.flatnonzero(weights > 0)
        chosen = np.zeros(len(weights), dtype=bool)
        chosen[rows[_select(_exponential_keys_at(weights[rows], rows, key), k)]] = True
        return chosen
    return _select(_exponential_keys(weights, key), k)


def largest_first_until(keys: np.ndarray, weights: np.ndarray, wanted: float) -> np.ndarray:
    """The start of np.argsort(-keys, kind="stable") (the largest keys first,
    ties in row order) long enough that its weights add up to `wanted`, or
    all of it.  Sorts the largest 4,096 keys, then four times as many while
    they fall short, instead of all of them (at scale 10, 300,000 firm rows
    of which the first 4,096 sufficed for both callers, the build's
    non-private units and January's collective bargaining)."""
    ranked = np.flatnonzero(keys > -np.inf)  # keys of -inf come last, in row order: the full sort covers them
    size = 4096
    while size < len(ranked):
        # The `size` largest keys and every key tied with the smallest of them: a
        # start of the full order, since no key left out is as large.
        cut = np.partition(-keys[ranked], size - 1)[size - 1]
        top = ranked[-keys[ranked] <= cut]
        top = top[np.argsort(-keys[top], kind="stable")]
        if np.cumsum(weights[top])[-1] >= wanted:  # the caller's running sum reaches it within `top`
            return top
        size *= 4
    return np.argsort(-keys, kind="stable")


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


@sized_pass(ns_per_row=1.5, rows=lambda cdf, u: len(u))
@numba.njit(cache=True, parallel=True)
def _categories(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each uniform, the number of cdf entries at or below it (capped at the
    last category): np.searchsorted(cdf, u, side="right") for a nondecreasing
    cdf of a few categories, without the binary search's 40 ns per row."""
    out = np.empty(len(u), dtype=np.int8)
    last = len(cdf) - 1
    for i in numba.prange(len(u)):
        below = 0
        for j in range(len(cdf)):
            below += cdf[j] <= u[i]
        out[i] = min(below, last)
    return out


def categorical(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Category index (int8) for each uniform u under one probability vector."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if len(probabilities) > 127:
        raise ValueError("categorical: at most 127 categories")
    cdf = np.cumsum(probabilities) / np.sum(probabilities)
    return _categories(cdf, np.asarray(u))
