"""Struct-of-arrays tables for people and firms.

One numpy array per column, with spare capacity so that entrants (births,
in-migrants, new firms) are appended without copying every month.  Rows are
never reused or reordered: a row index is a stable id, which the random streams
rely on for per-person common random numbers.  Leavers (deaths, emigrants,
closed firms) keep their row and are marked by their status column.
"""

from dataclasses import dataclass

import numba
import numpy as np

from .kernels import sized_pass


@sized_pass(ns_per_row=1.5)
@numba.njit(cache=True, parallel=True)
def _take(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """values[order], gathered in parallel."""
    out = np.empty(len(order), dtype=values.dtype)
    for i in numba.prange(len(order)):
        out[i] = values[order[i]]
    return out


@numba.njit(cache=True)
def _all_equal(values: np.ndarray, value) -> bool:
    """Whether every value equals `value` (stops at the first that does not)."""
    for i in range(len(values)):
        if values[i] != value:
            return False
    return True


def _filled(rows: int, column: "Column") -> np.ndarray:
    """A new column of `rows` rows holding the column's default.  Zero
    defaults come from np.zeros, whose memory the system hands out already
    zeroed: no pass writes it (a second of the whole province's build was
    filling columns that the build then overwrote)."""
    if column.default == 0:
        return np.zeros(rows, dtype=column.dtype)
    return np.full(rows, column.default, dtype=column.dtype)


@dataclass(frozen=True)
class Column:
    """A state column: its dtype, the value new rows get, and what it means."""

    dtype: type
    default: float | int | bool
    doc: str


class Table:
    GROWTH = 1.25

    def __init__(self, columns: dict[str, Column], rows: int, capacity: int | None = None):
        self.columns = dict(columns)
        self.n = int(rows)
        capacity = max(int(capacity or rows), 1)
        self._data = {name: _filled(capacity, col) for name, col in self.columns.items()}

    def __getattr__(self, name: str) -> np.ndarray:
        data = self.__dict__.get("_data")
        if data is not None and name in data:
            return data[name][: self.n]
        raise AttributeError(name)

    def __setattr__(self, name: str, value) -> None:
        """`table.col = x` and `table.col += x` write into the column in place."""
        data = self.__dict__.get("_data")
        if data is None or name not in data:
            object.__setattr__(self, name, value)
            return
        column = data[name]
        if isinstance(value, np.ndarray) and value.base is column and len(value) == self.n:
            return  # an in-place operator already wrote into the column
        column[: self.n] = value

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name][: self.n]

    @property
    def capacity(self) -> int:
        return len(next(iter(self._data.values())))

    def append(self, count: int) -> slice:
        """Add `count` rows filled with column defaults; returns their slice."""
        count = int(count)
        if self.n + count > self.capacity:
            new_capacity = max(int(self.capacity * self.GROWTH), self.n + count)
            for name, col in self.columns.items():
                grown = _filled(new_capacity, col)
                grown[: self.n] = self._data[name][: self.n]
                self._data[name] = grown
        start = self.n
        self.n += count
        return slice(start, self.n)

    def reorder(self, order: np.ndarray) -> None:
        """Put the rows in the order given (a permutation of 0..n-1).  Only
        while building, before any row id has been handed out.  A column that
        still holds its default everywhere is left as it is (a gather of a
        column costs 0.2 s at the whole province)."""
        for name, col in self.columns.items():
            column = self._data[name][: self.n]
            if not _all_equal(column, col.default):
                column[:] = _take(column, order)

    def nbytes(self) -> int:
        return sum(array.nbytes for array in self._data.values())
