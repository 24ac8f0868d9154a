"""Named random streams derived from one root seed (common random numbers).

Every random draw in a run comes from a stream named by (process, month,
purpose), whose key is the run's `SeedSequence` extended by stable keys of
the three names.  Three kinds of stream:

* `Streams.generator(process, month, purpose)`: a `numpy.random.Generator`
  (SFC64) for draws whose number depends on the state (Poisson counts,
  wages of this month's hires, ...);
* per-row uniforms: one float32 in [0, 1) for every table row, a pure
  function of the stream key and the row's stable id (a counter-based
  generator, `draw`).  Person i gets the same draw for (process, purpose,
  month) however many other people exist, and a kernel computes a row's draw
  only where it needs it, so no full-population array of uniforms is made;
* candidates for rare events (`Streams.rows_below`): the rows whose event
  may happen this month, drawn by geometric skipping within blocks of rows,
  again the same for a row however many others exist.

A stream's key is what numpy's `SeedSequence(root entropy, spawn_key=root
spawn key + the three keys)` generates, computed by a compiled copy of its
algorithm (`_stream_state`, checked word for word against numpy in the tests).

Consequences: the same seed gives the same numbers in any process, on any
executor; a process's draws in month t do not depend on how many draws it or
any other process made before, so switching a lever in one process does not
reshuffle another process's draws.

The per-row generator is SplitMix64 (Steele, Lea and Flood 2014, "Fast
splittable pseudorandom number generators", OOPSLA; the generator of Java's
SplittableRandom, which passes BigCrush): the draw of row i in a stream with
key k is mix64(k + i * golden gamma), the i-th output of SplitMix64 started at
k.  Keys are 64-bit outputs of `SeedSequence`, so two streams overlap only if
their keys fall within a population's length of each other on the 2^64 cycle
(about 1e-11 per pair of streams at the whole province's 74 million rows).
The top 24 bits make the float32 uniform, as numpy's float32 draws do.
"""

import zlib

import numba
import numpy as np
from numpy.random.bit_generator import ISeedSequence

from .kernels import BLOCK_ROWS, block_count, block_room, join_blocks, search, sized_pass

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S40 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(40)
_TWO_TO_MINUS_24 = np.float32(1.0 / 16777216.0)


def stable_key(name: str) -> int:
    """A 32-bit key for a name that does not change between Python sessions."""
    return zlib.crc32(name.encode("utf-8"))


@numba.njit(inline="always")
def draw_bits(key: np.uint64, row) -> np.uint64:
    """The 64 random bits of row `row` in the per-row stream `key` (SplitMix64)."""
    z = key + np.uint64(row) * GOLDEN_GAMMA
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@numba.njit(inline="always")
def draw(key: np.uint64, row) -> np.float32:
    """The uniform in [0, 1) of row `row` in the per-row stream `key` (24 bits)."""
    return np.float32(draw_bits(key, row) >> _S40) * _TWO_TO_MINUS_24


_MASK21 = np.uint64((1 << 21) - 1)
_TWO_TO_MINUS_21 = np.float32(1.0 / 2097152.0)


@numba.njit(inline="always")
def third(bits: np.uint64, k) -> np.float32:
    """The k-th (0, 1, 2) of three independent uniforms in [0, 1) cut from 64
    random bits, 21 bits each (resolution 5e-7: ample for monthly chances
    above 1e-4).  One draw then serves three independent events of a row."""
    return np.float32((bits >> np.uint64(43 - 21 * k)) & _MASK21) * _TWO_TO_MINUS_21


@numba.njit(inline="always")
def draw_units(key: np.uint64, row) -> np.int64:
    """The integer m behind `draw(key, row)`, which is m / 2^24 (see `units_below`)."""
    return np.int64(draw_bits(key, row) >> _S40)


@numba.njit(inline="always")
def third_units(bits: np.uint64, k) -> np.int64:
    """The integer m behind `third(bits, k)`, which is m / 2^21 (see `units_below`)."""
    return np.int64((bits >> np.uint64(43 - 21 * k)) & _MASK21)


@numba.njit(inline="always")
def units_below(chance: float, resolution_bits: int) -> np.int64:
    """The count c such that a uniform m / 2^resolution_bits (m an integer,
    as `draw` and `third` make them) is below `chance` exactly when m < c:
    c = ceil(chance * 2^resolution_bits), exact because the scaling is by a
    power of two.  A kernel that tests draws in integers gives the same
    answers as the float test, and its loop vectorises (no integer-to-float
    conversion of 64-bit values on AVX2)."""
    return np.int64(np.ceil(min(max(chance, 0.0), 2.0) * (1 << resolution_bits)))


def float32_bound(threshold) -> np.float32:
    """The float32 t such that, for float32 uniforms u, `u < t` in a kernel
    is what numpy gives for `u < threshold` on a float32 array: numpy
    compares in float32 against a Python float but in float64 against a
    numpy float64, and the two differ when the threshold rounds down to
    float32.  Asked of numpy itself, on the float32 nearest the threshold."""
    nearest = np.float32(threshold)
    if (np.array([nearest], dtype=np.float32) < threshold)[0]:  # numpy compared in float64, and it rounded down
        return np.nextafter(nearest, np.float32(np.inf))
    return nearest


@sized_pass(ns_per_row=10, rows=lambda key, rows: rows)
@numba.njit(cache=True, parallel=True)
def _uniforms(key: np.uint64, rows: int) -> np.ndarray:
    out = np.empty(rows, dtype=np.float32)
    for i in numba.prange(rows):
        out[i] = draw(key, i)
    return out


@numba.njit(cache=True)
def _uniforms_at(key: np.uint64, idx: np.ndarray) -> np.ndarray:
    out = np.empty(len(idx), dtype=np.float32)
    for j in range(len(idx)):
        out[j] = draw(key, idx[j])
    return out


_TWO_TO_MINUS_53 = 1.0 / 9007199254740992.0
_NO_LIMITS = np.zeros(0, dtype=np.float32)  # `_rows_below` without groups
_NO_GROUPS = np.zeros(0, dtype=np.int8)


# Skipping costs the candidates, not the rows: its size is the expected candidates.
@sized_pass(ns_per_row=20, rows=lambda key, rows, threshold, *rest: rows * min(max(threshold, 0.0), 1.0))
@numba.njit(cache=True, parallel=True)
def _rows_below(key: np.uint64, rows: int, threshold: float, by: np.ndarray, limits: np.ndarray, room: int):
    """Whether every block had room, and the rows that are candidates for an
    event of chance `threshold` with their uniforms in [0, threshold): each
    row is one independently with that chance, and its uniform is uniform
    below the threshold, as if every row had drawn a uniform and those below
    the threshold had been kept.  When `limits` is not empty, a candidate is
    kept only if its uniform is below the limit of its value `by[row]`
    (values past the end of `limits` take its last; `rows_below` spreads a
    group's limit over its values, so the kernel does not divide): the same
    draws, fewer rows.

    Drawn by skipping: within each block of rows the gaps between candidates
    are geometric (inversion of a 53-bit uniform), so the cost is the
    candidates', not the rows'.  A block's draws come from its own key, so a
    row's fate does not depend on how many rows there are or on the threads;
    blocks run in parallel, each keeping at most `room` rows, joined in row
    order."""
    t = min(max(threshold, 0.0), 1.0)
    blocks = block_count(rows)
    found_idx = np.empty((blocks, room), dtype=np.int64)
    found_u = np.empty((blocks, room), dtype=np.float32)
    found = np.zeros(blocks, dtype=np.int64)  # rows found by each block, kept or not
    filtered = len(limits) > 0
    if t > 0.0:
        log_q = np.log1p(-t)  # -inf when every row is a candidate: every gap is then 0
        below = np.nextafter(np.float32(t), np.float32(0.0))
        for b in numba.prange(blocks):
            block_key = draw_bits(key, b)
            end = min(rows, (b + 1) * BLOCK_ROWS)
            i, j, k = b * BLOCK_ROWS - 1, 0, 0
            while True:
                bits = draw_bits(block_key, 2 * j)
                u53 = (np.float64(bits >> np.uint64(11)) + 1.0) * _TWO_TO_MINUS_53  # in (0, 1]
                gap = np.log(u53) / log_q
                if gap >= end - i:
                    break
                i += 1 + np.int64(gap)
                if i >= end:
                    break
                u = min(np.float32(t * np.float64(draw(block_key, 2 * j + 1))), below)
                j += 1
                if filtered and not u < limits[min(max(np.int64(by[i]), 0), len(limits) - 1)]:
                    continue
                if k < room:
                    found_idx[b, k] = i
                    found_u[b, k] = u
                k += 1
            found[b] = k
    kept = np.minimum(found, room)
    return np.all(found <= room), join_blocks(found_idx, kept), join_blocks(found_u, kept)


# numpy's SeedSequence (O'Neill's seed_seq_fe: hash a run's entropy words into
# a pool of four 32-bit words, then hash the pool into output words), its
# constants as numpy documents them (numpy/random/bit_generator.pyx).  A
# stream's SeedSequence cost 18-27 us to build in Python, some 23 a month: 5%
# of a month at scale 1000.  `_stream_state` computes the same words compiled.
_POOL_WORDS = 4  # numpy's DEFAULT_POOL_SIZE, which `SeedSequence(entropy, spawn_key=...)` uses
_INIT_A, _MULT_A = np.uint64(0x43B0D7E5), np.uint64(0x931E8875)
_INIT_B, _MULT_B = np.uint64(0x8B51F9DD), np.uint64(0x58F38DED)
_MIX_MULT_L, _MIX_MULT_R = np.uint64(0xCA01F9DD), np.uint64(0x4973F715)
_MASK32, _XSHIFT = np.uint64(0xFFFFFFFF), np.uint64(16)


@numba.njit(inline="always")
def _hashmix(value: np.uint64, hash_const: np.uint64) -> tuple[np.uint64, np.uint64]:
    """numpy's `hashmix` on 32-bit words held in 64-bit integers: the mixed value and the next hash constant."""
    value = value ^ hash_const
    hash_const = (hash_const * _MULT_A) & _MASK32
    value = (value * hash_const) & _MASK32
    return value ^ (value >> _XSHIFT), hash_const


@numba.njit(inline="always")
def _mix(x: np.uint64, y: np.uint64) -> np.uint64:
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK32
    return result ^ (result >> _XSHIFT)


@numba.njit(cache=True)
def _stream_state(root: np.ndarray, process: int, purpose: int, month: int, n_words: int) -> np.ndarray:
    """`SeedSequence(...).generate_state(n_words, np.uint32)` of the stream
    whose assembled entropy is the words `root` then `process`, `purpose`,
    `month`: numpy's `mix_entropy` into the pool, then its `generate_state`."""
    entropy = np.empty(len(root) + 3, dtype=np.uint64)
    entropy[:len(root)] = root
    entropy[len(root)], entropy[len(root) + 1], entropy[len(root) + 2] = process, purpose, month
    pool = np.zeros(_POOL_WORDS, dtype=np.uint64)
    hash_const = _INIT_A
    for i in range(_POOL_WORDS):  # `root` is padded to the pool's words (`Streams`), so none is missing
        pool[i], hash_const = _hashmix(entropy[i], hash_const)
    for i_src in range(_POOL_WORDS):
        for i_dst in range(_POOL_WORDS):
            if i_src != i_dst:
                mixed, hash_const = _hashmix(pool[i_src], hash_const)
                pool[i_dst] = _mix(pool[i_dst], mixed)
    for i_src in range(_POOL_WORDS, len(entropy)):
        for i_dst in range(_POOL_WORDS):
            mixed, hash_const = _hashmix(entropy[i_src], hash_const)
            pool[i_dst] = _mix(pool[i_dst], mixed)
    state = np.empty(n_words, dtype=np.uint32)
    hash_const = _INIT_B
    for i in range(n_words):
        value = pool[i % _POOL_WORDS] ^ hash_const
        hash_const = (hash_const * _MULT_B) & _MASK32
        value = (value * hash_const) & _MASK32
        state[i] = np.uint32(value ^ (value >> _XSHIFT))
    return state


def _words(value) -> list[int]:
    """numpy's coercion of entropy or a spawn key to 32-bit words: an integer
    as its little-endian words (0 as one word), a sequence as its items' words
    one after the other."""
    if isinstance(value, (int, np.integer)):
        value = int(value)
        if value < 0:
            raise ValueError(f"seed entropy must be non-negative, not {value}")
        words = [value & 0xFFFFFFFF] if value == 0 else []
        while value > 0:
            words.append(value & 0xFFFFFFFF)
            value >>= 32
        return words
    if isinstance(value, (str, bytes, float, np.inexact)):
        raise TypeError(f"seed entropy must be integers, not {value!r}")
    return [word for item in value for word in _words(item)]


class StreamSeed(ISeedSequence):
    """The seed sequence of one named stream: the words numpy's
    `SeedSequence(root.entropy, spawn_key=root.spawn_key + (process, purpose,
    month))` generates, computed by `_stream_state` (a bit generator takes
    any ISeedSequence)."""

    def __init__(self, root: np.ndarray, process: int, purpose: int, month: int):
        self.words = root, process, purpose, month  # ints, as `Streams.key` passes them (one compiled version)

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.uint32), np.dtype(np.uint64)):
            raise ValueError("only np.uint32 and np.uint64 are supported")
        words = _stream_state(*self.words, int(n_words) * (2 if dtype == np.uint64 else 1))
        return words.view("<u8").astype(np.uint64) if dtype == np.uint64 else words


class Streams:
    def __init__(self, seed: np.random.SeedSequence | int):
        self.root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        # The words every stream's entropy starts with: the run's entropy, padded
        # to the pool's four words (numpy pads when there is a spawn key, and a
        # stream always has one), then the root's spawn key.  A stream adds
        # three words: the keys of its process and purpose (32-bit CRCs) and its month.
        run = _words(self.root.entropy)
        self._root_words = np.array(run + [0] * (_POOL_WORDS - len(run)) + _words(self.root.spawn_key), dtype=np.uint32)

    @staticmethod
    def _month_word(month: int) -> int:
        if not 0 <= month < 2**32:
            raise ValueError(f"a stream's month is a month index from 0 to 2**32 - 1, not {month}")
        return int(month)

    def _sequence(self, process: str, month: int, purpose: str) -> StreamSeed:
        return StreamSeed(self._root_words, stable_key(process), stable_key(purpose), self._month_word(month))

    def generator(self, process: str, month: int, purpose: str = "") -> np.random.Generator:
        return np.random.Generator(np.random.SFC64(self._sequence(process, month, purpose)))

    def key(self, process: str, month: int, purpose: str) -> np.uint64:
        """The 64-bit key of a per-row stream (for kernels that call `draw`)."""
        return self._sequence(process, month, "rows:" + purpose).generate_state(1, np.uint64)[0]

    def uniform_per_row(self, process: str, month: int, purpose: str, rows: int) -> np.ndarray:
        """float32 uniforms in [0, 1), one per row id 0..rows-1."""
        return _uniforms(self.key(process, month, purpose), int(rows))

    def uniform_at(self, process: str, month: int, purpose: str, idx: np.ndarray) -> np.ndarray:
        """The per-row uniforms of rows idx (the same numbers `uniform_per_row` gives them)."""
        return _uniforms_at(self.key(process, month, purpose), np.asarray(idx, dtype=np.int64))

    def rows_below(self, process: str, month: int, purpose: str, rows: int, threshold: float,
                   by: np.ndarray | None = None, chances=None, per: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Rows among 0..rows-1 that are candidates for an event whose chance
        is at most `threshold` (each with that chance), and their uniforms
        below it: a row with chance p < threshold has the event when its
        uniform is below p.  Drawn by skipping between candidates, so neither
        the work nor the memory grows with the table (`_rows_below`).

        `chances` (with the integer column `by`) names the largest chance of
        each group of rows, the group being `by[row] // per`: a dict by group
        (groups not named are left out), such as status codes, or a sequence
        indexed by group (groups past its end take its last), such as a
        hazard by year of age with `per=12` on ages in months.  Candidates at
        or above their group's chance are left out.  The draws are the same,
        so the rows kept are those the caller's own tests would keep, without
        listing the rest: matching's transitions list at most a quarter of
        the candidates, deaths fewer than two in a hundred.  Each chance is
        rounded up to the next float32, so no uniform below it (in float32
        or float64) is left out."""
        if chances is None:
            by, limits = _NO_GROUPS, _NO_LIMITS
        else:
            if isinstance(chances, dict):
                values = np.zeros(max(int(group) for group in chances) + 2)  # one past the largest named: 0
                for group, chance in chances.items():
                    values[int(group)] = chance
            else:
                values = np.asarray(chances, dtype=np.float64)
            limits = np.nextafter(np.clip(values, 0.0, 1.0).astype(np.float32), np.float32(np.inf))
            limits[values <= 0.0] = 0.0  # no chance: left out
            by = np.asarray(by)
            if len(by) < rows or by.dtype.kind not in "iu" or int(per) < 1:
                raise ValueError(f"rows_below groups rows by an integer column of at least {rows} rows and per >= 1")
            # The limit of each value of `by` (group = value // per): an integer
            # division per candidate cost more than the filter saved.
            limits = np.repeat(limits, int(per))
        return search(_rows_below, block_room(threshold), self.key(process, month, purpose), int(rows), float(threshold),
                      by, limits)


def replicate_seeds(root_seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """Child seed of each replicate; replicate r gets the same child in every scenario."""
    return np.random.SeedSequence(root_seed).spawn(replicates)
