"""Compiled building blocks shared by the processes' kernels (numba).

The processes step tens of millions of rows a month at full scale.  Each
one's hot pass is a compiled loop over the rows (`numba.njit`, cached on disk)
that reads the columns it needs once and collects the few rows an event
happens to, instead of a chain of numpy expressions each of which allocates
a temporary the size of the population.  A kernel takes and returns plain
arrays; the process around it stays readable numpy.
"""

import numba
import numpy as np


@numba.njit(inline="always")
def push(buffer: np.ndarray, count: int, value) -> tuple[np.ndarray, int]:
    """Append value at position count of a growable buffer; returns (buffer, count + 1)."""
    if count == len(buffer):
        grown = np.empty(max(2 * len(buffer), 256), dtype=buffer.dtype)
        grown[:count] = buffer
        buffer = grown
    buffer[count] = value
    return buffer, count + 1


@numba.njit(cache=True)
def rows_with_status(status: np.ndarray, code: int) -> np.ndarray:
    """Rows whose status is `code` (np.flatnonzero(status == code) without the mask)."""
    rows = np.empty(256, dtype=np.int64)
    count = 0
    for i in range(len(status)):
        if status[i] == code:
            rows, count = push(rows, count, i)
    return rows[:count]
