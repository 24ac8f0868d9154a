"""Compiled building blocks shared by the processes' kernels (numba).

The processes step tens of millions of rows a month at full scale.  Each
one's hot pass is a compiled loop over the rows (`numba.njit`, cached on disk)
that reads the columns it needs once and collects the few rows an event
happens to, instead of a chain of numpy expressions each of which allocates
a temporary the size of the population.  A kernel takes and returns plain
arrays; the process around it stays readable numpy.

Three habits keep the loops fast.  Row conditions that vary from row to row
(status, sex, age) are combined with `&` into 0/1 values rather than tested
with `if`: a mispredicted branch costs more than the row's arithmetic.  Rows
are collected block by block into a small buffer without branching
(`buffer[k] = i; k += condition`), then appended to the growable result
(`extend`); where rows come in long runs of one status, a branch is
predicted and the plain `if` is faster.  And a loop over a block of rows
indexes views of the block from 0 (`block`): an index that numba cannot
prove non-negative is checked for wrap-around at every access, which costs
a little in a branchy loop and stops LLVM from turning a simple loop into
vector instructions (7x on a plain sum of flags).  Where a pass's events are rare but its test
is not (the insurance pass: a quarter of the rows draw, 3% may change), a
first loop marks the rows without a branch, testing draws in integers
(`streams.units_below`), and a second applies the rules to the marked rows.

Passes over all rows run in parallel blocks of `BLOCK_ROWS` rows, most of
them dealt to the threads in a strided order (`dealt`): rows of one status
sit together, and a thread given one contiguous range of blocks may get all
of a month's work.  Searches keep what each block finds in room sized for
the chance of the event (`block_room`); the blocks are joined in row order,
so the result does not depend on the number of threads, and `search` runs a
block search again with more room in the rare month a block runs out of it.

A pass wakes as many kernel threads as its size is worth (`sized_pass`):
the threads sleep between passes, and waking one costs more than a small
pass saves, so at coarse scales most passes run on the calling thread alone.
"""

import functools
from collections.abc import Callable

import numba
import numpy as np

# The kernel threads sleep between passes (OMP_WAIT_POLICY=PASSIVE,
# sim/__init__.py), and waking them is not free.  On the 2-core virtual
# machines we measure on, a pass on two threads took 0.35-0.7 ms more than
# half its time on one (each parallel kernel of a month at scale 100, timed
# on one thread and on two; benchmarks/README.md, twelfth round), so a step
# at scale 1000 took 10 ms on two threads and 6 ms on one.  A pass is
# spread over another thread only where that thread saves more than this.
THREAD_WAKE_NS = 500_000.0


def threads_worth(work_ns: float, most: int) -> int:
    """How many of `most` threads to wake for a pass that takes one thread
    `work_ns`: on t threads it takes about work / t plus a wake-up per
    thread woken, so thread t + 1 pays while work / (t (t + 1)) exceeds a
    wake-up."""
    threads = 1
    while threads < most and work_ns > THREAD_WAKE_NS * threads * (threads + 1):
        threads += 1
    return threads


def sized_pass(ns_per_row: float, rows: Callable[..., float] | None = None):
    """Decorator for a parallel kernel called from Python: each call runs on
    as many of the caller's kernel threads as its size is worth
    (`threads_worth`), and gives the caller back its thread count after.

    `ns_per_row` is the kernel's time per row on one thread (measured at
    scale 100, benchmarks/README.md, twelfth round; only its order of
    magnitude matters) and `rows(*args)` its rows for those arguments
    (default: the length of the first).  A kernel's results do not depend
    on its threads (each block writes its own slots), so neither do a run's
    bytes.  Only Python can call the wrapper, not compiled code."""
    def decorate(kernel):
        def call(*args):
            most = numba.get_num_threads()
            size = len(args[0]) if rows is None else rows(*args)
            threads = threads_worth(ns_per_row * size, most)
            if threads == most:
                return kernel(*args)
            numba.set_num_threads(threads)
            try:
                return kernel(*args)
            finally:
                numba.set_num_threads(most)

        functools.update_wrapper(call, kernel.py_func)
        return call
    return decorate


@numba.njit(inline="always")
def extend(buffer: np.ndarray, count: int, chunk: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """Append chunk[:k] at position count of a growable buffer; returns (buffer, count + k)."""
    if count + k > len(buffer):
        grown = np.empty(max(2 * len(buffer), count + k, 256), dtype=buffer.dtype)
        grown[:count] = buffer[:count]
        buffer = grown
    buffer[count:count + k] = chunk[:k]
    return buffer, count + k


BLOCK_ROWS = 1 << 16  # rows per block of a parallel search; the number of blocks does not depend on the threads


@numba.njit(inline="always")
def block_count(n: int) -> int:
    """Blocks of BLOCK_ROWS rows that cover n rows (the last may be partial)."""
    return (n + BLOCK_ROWS - 1) // BLOCK_ROWS


@numba.njit(inline="always")
def block(b: int, n: int) -> tuple[int, int]:
    """First row and end (exclusive) of block b among n rows; a kernel slices
    its columns to them and loops from 0 (see the module's docstring)."""
    lo = b * BLOCK_ROWS
    return lo, min(n, lo + BLOCK_ROWS)


@numba.njit(cache=True)
def deal_stride(blocks: int) -> int:
    """The stride of `dealt` for `blocks` blocks: the integer nearest
    blocks / golden ratio that is coprime to `blocks`."""
    stride = max(1, int(0.6180339887498949 * blocks + 0.5))
    while True:
        a, b = stride, blocks
        while b:
            a, b = b, a % b
        if a == 1:
            return stride
        stride += 1


@numba.njit(inline="always")
def dealt(t: int, stride: int, blocks: int) -> int:
    """The block that iteration t of a parallel loop over `blocks` blocks
    works on: (t * stride) mod blocks, a permutation (`stride` from
    `deal_stride`) that deals neighbouring blocks to far-apart iterations.

    numba hands each thread one contiguous range of a `prange`'s iterations,
    and rows are grouped by status at build: with blocks in row order, the
    thread that drew the own-account workers' rows did all of a month's
    retirement decisions while the other idled.  Dealt, every thread's range
    holds blocks from every part of the table.  Each block still writes its
    own slots, so the results are the same bytes."""
    return (t * stride) % blocks


@numba.njit(inline="always")
def as_bytes(flags: np.ndarray) -> np.ndarray:
    """A bool column as 0/1 bytes (a view), for sums and `&` of flags."""
    return flags.view(np.uint8)


@sized_pass(ns_per_row=3)
@numba.njit(cache=True, parallel=True)
def rows_with_status_between(status: np.ndarray, lowest: int, highest: int) -> np.ndarray:
    """Rows whose status code is in lowest..highest, in row order
    (np.flatnonzero((status >= lowest) & (status <= highest)) without the masks).

    Two parallel passes over blocks of rows: one counts each block's rows, the
    other writes them from where the earlier blocks' end.  The write branches,
    as statuses come in long runs (the build groups rows by status)."""
    n = len(status)
    blocks = block_count(n)
    counts = np.zeros(blocks, dtype=np.int64)
    stride = deal_stride(blocks)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)
        status_b = status[lo:hi]  # a view indexed from 0 (see the module's docstring)
        k = 0
        for i in range(hi - lo):
            k += (status_b[i] >= lowest) & (status_b[i] <= highest)
        counts[b] = k
    starts = np.zeros(blocks + 1, dtype=np.int64)
    for b in range(blocks):
        starts[b + 1] = starts[b] + counts[b]
    rows = np.empty(starts[blocks], dtype=np.int64)
    for t in numba.prange(blocks):
        b = dealt(t, stride, blocks)  # blocks dealt to threads (sim.kernels)
        lo, hi = block(b, n)
        status_b, rows_b = status[lo:hi], rows[starts[b]:starts[b + 1]]
        k = 0
        for i in range(hi - lo):
            if (status_b[i] >= lowest) & (status_b[i] <= highest):
                rows_b[k] = lo + i
                k += 1
    return rows


def rows_with_status(status: np.ndarray, code: int) -> np.ndarray:
    """Rows whose status is `code` (np.flatnonzero(status == code) without the mask)."""
    return rows_with_status_between(status, code, code)


@numba.njit(cache=True)  # cached: called from Python too, so an uncached one compiled in every run (0.7 s)
def room_for(rows: int, chance: float) -> int:
    """Room for the rows found among `rows` with at most `chance` each: the
    expected count plus eight standard deviations (a block that still
    overflows is searched again with room for all its rows, `search`)."""
    mean = rows * min(max(chance, 0.0), 1.0)
    return int(min(rows, mean + 8.0 * np.sqrt(mean) + 64.0))


def block_room(chance: float) -> int:
    """Room per block of a parallel search for rows found with at most `chance` each."""
    return room_for(BLOCK_ROWS, chance)


def room_after(most: int) -> int:
    """Room per block for next month's search of rows that cluster (grouped by
    status and firm, so some blocks hold far more than the average share):
    the fullest block's count this month, with a margin."""
    return min(BLOCK_ROWS, int(1.25 * most) + 256)


@numba.njit(cache=True)
def join_blocks(found: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The values found by each block (found[b, :counts[b]]), joined in block order."""
    joined = np.empty(counts.sum(), dtype=found.dtype)
    start = 0
    for b in range(len(counts)):
        joined[start:start + counts[b]] = found[b, :counts[b]]
        start += counts[b]
    return joined


def search(kernel, room: int, *args):
    """Run a parallel block search: `kernel(*args, room)` returns whether every
    block had room for what it found, then its results.  A block that
    overflowed (about 1e-15 a month for room from `block_room`) sends the
    search round again with room for every row of a block, so the results
    never depend on the room; kernels that search must not change state."""
    complete, *results = kernel(*args, room)
    if not complete:
        complete, *results = kernel(*args, BLOCK_ROWS)
    return results[0] if len(results) == 1 else tuple(results)
