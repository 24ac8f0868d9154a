"""Named random streams: deterministic, independent and prefix-stable per row."""

import numpy as np

from sim.streams import Streams, replicate_seeds


def test_same_seed_same_numbers_and_names_separate_streams():
    a, b = Streams(42), Streams(42)
    assert np.array_equal(a.uniform_per_row("matching", 300, "hire", 100), b.uniform_per_row("matching", 300, "hire", 100))
    assert not np.array_equal(a.uniform_per_row("matching", 300, "hire", 100), a.uniform_per_row("separations", 300, "hire", 100))
    assert not np.array_equal(a.uniform_per_row("matching", 300, "hire", 100), a.uniform_per_row("matching", 301, "hire", 100))
    assert not np.array_equal(Streams(43).uniform_per_row("matching", 300, "hire", 100), a.uniform_per_row("matching", 300, "hire", 100))


def test_a_row_keeps_its_draw_however_many_rows_exist():
    streams = Streams(7)
    short = streams.uniform_per_row("demography", 250, "death", 1000)
    long = streams.uniform_per_row("demography", 250, "death", 5000)
    assert np.array_equal(short, long[:1000])


def test_replicate_seeds_are_children_of_the_root():
    first, second = replicate_seeds(5, 3), replicate_seeds(5, 3)
    assert [s.spawn_key for s in first] == [(0,), (1,), (2,)]
    assert all(Streams(x).generator("p", 1).random() == Streams(y).generator("p", 1).random() for x, y in zip(first, second))
    assert Streams(first[0]).generator("p", 1).random() != Streams(first[1]).generator("p", 1).random()
