"""The struct-of-arrays table: stable rows, growth, in-place column updates."""

import numpy as np

from sim.table import Column, Table


def make(rows=3):
    return Table({"age": Column(np.int16, 0, ""), "wage": Column(np.float32, 1.5, "")}, rows, capacity=4)


def test_append_grows_and_keeps_rows():
    table = make()
    table.age[:] = [1, 2, 3]
    new = table.append(5)
    assert (new.start, new.stop) == (3, 8) and table.n == 8 and table.capacity >= 8
    assert table.age.tolist() == [1, 2, 3, 0, 0, 0, 0, 0]
    assert table.wage[3:].tolist() == [1.5] * 5


def test_operators_write_into_the_column():
    table = make()
    table.age += np.array([True, False, True])
    table.wage = 2.0
    assert table.age.tolist() == [1, 0, 1]
    table.append(2)
    assert table.age.tolist() == [1, 0, 1, 0, 0]  # no stale view shadows the column
    assert table.wage.tolist() == [2.0, 2.0, 2.0, 1.5, 1.5]
