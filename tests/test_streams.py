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


def test_rows_below_and_uniform_at_give_the_per_row_draws():
    """The searches the kernels use return exactly the rows whose per-row draw
    is below the chance, with those draws, on the serial and the parallel
    path (below and above one block of rows)."""
    streams = Streams(11)
    for rows, chance in ((1_000, 0.3), (200_000, 0.004), (200_000, 0.2), (200_000, 0.6)):
        u = streams.uniform_per_row("talent", 400, "titles", rows)
        idx, below = streams.rows_below("talent", 400, "titles", rows, chance)
        assert np.array_equal(idx, np.flatnonzero(u < np.float32(chance)))
        assert np.array_equal(below, u[idx])
        assert np.array_equal(streams.uniform_at("talent", 400, "titles", idx[::7]), u[idx[::7]])


def test_per_row_draws_are_uniform_and_independent():
    """SplitMix64 by row: moments of U(0,1), a Kolmogorov-Smirnov test, and no
    correlation between neighbouring rows or between two streams."""
    from scipy import stats

    streams = Streams(3)
    u = streams.uniform_per_row("demography", 100, "death", 400_000).astype(np.float64)
    v = streams.uniform_per_row("demography", 101, "death", 400_000).astype(np.float64)
    assert abs(u.mean() - 0.5) < 0.003 and abs(u.var() - 1 / 12) < 0.002
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01
    assert 0.0 <= u.min() and u.max() < 1.0


def test_three_uniforms_from_one_draw_are_independent():
    """`third` cuts three 21-bit uniforms out of one 64-bit draw (insurance uses
    them for three schemes): each uniform, pairwise uncorrelated."""
    import numba

    from sim.streams import draw_bits, third

    @numba.njit
    def cut(key, rows):
        out = np.empty((rows, 3))
        for i in range(rows):
            bits = draw_bits(key, i)
            for k in range(3):
                out[i, k] = third(bits, k)
        return out

    parts = cut(Streams(5).key("insurance", 1, "enrol"), 300_000)
    assert np.all(np.abs(parts.mean(axis=0) - 0.5) < 0.004)
    correlation = np.corrcoef(parts.T)
    assert np.all(np.abs(correlation[np.triu_indices(3, 1)]) < 0.01)
