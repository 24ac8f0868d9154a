"""Named random streams: deterministic, independent and prefix-stable per row."""

import numpy as np
import pytest

from sim.streams import Streams, float32_bound, replicate_seeds


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


def test_uniform_at_gives_the_per_row_draws():
    streams = Streams(11)
    u = streams.uniform_per_row("talent", 400, "titles", 200_000)
    idx = np.arange(0, 200_000, 7)
    assert np.array_equal(streams.uniform_at("talent", 400, "titles", idx), u[idx])


def test_rows_below_draws_each_row_with_the_chance_and_a_uniform_below_it():
    """Candidates for an event of chance t, drawn by skipping: each row is one
    with chance t (count, the first row of a block, spread over the rows),
    their uniforms are uniform on [0, t), and a row's fate depends neither on
    the rows after it nor on the room the blocks get."""
    from scipy import stats

    from sim.kernels import BLOCK_ROWS, search
    from sim.streams import _rows_below

    rows = 3 * BLOCK_ROWS + 1234
    for t in (0.004, 0.05, 0.3):
        counts, firsts, below = [], 0, []
        for k in range(60):
            idx, u = Streams(k).rows_below("talent", 400, "titles", rows, t)
            assert np.all(np.diff(idx) > 0) and idx.min() >= 0 and idx.max() < rows
            assert u.dtype == np.float32 and np.all((u >= 0) & (u < np.float32(t)))
            counts.append(len(idx))
            firsts += BLOCK_ROWS in set(idx.tolist())
            below.append(u / t)
        sd = np.sqrt(rows * t * (1 - t) / len(counts))
        assert abs(np.mean(counts) - rows * t) < 4 * sd
        assert abs(firsts / 60 - t) < 4 * np.sqrt(t * (1 - t) / 60) + 0.02
        assert stats.kstest(np.concatenate(below), "uniform").pvalue > 1e-3
    streams = Streams(5)
    idx, u = streams.rows_below("talent", 400, "titles", rows, 0.05)
    head, u_head = streams.rows_below("talent", 400, "titles", BLOCK_ROWS + 999, 0.05)
    assert np.array_equal(head, idx[idx < BLOCK_ROWS + 999]) and np.array_equal(u_head, u[:len(head)])
    key = streams.key("talent", 400, "titles")
    unfiltered = (np.zeros(0, np.int8), np.zeros(0, np.float32))
    assert not _rows_below(key, rows, 0.05, *unfiltered, 8)[0]  # out of room: said so, and searched again
    assert all(np.array_equal(a, b) for a, b in zip(search(_rows_below, 8, key, rows, 0.05, *unfiltered), (idx, u)))
    assert len(streams.rows_below("talent", 400, "titles", rows, 0.0)[0]) == 0
    assert np.array_equal(streams.rows_below("talent", 400, "titles", rows, 1.0)[0], np.arange(rows))


def test_rows_below_with_chances_by_group_keeps_the_same_draws_below_each_group_chance():
    """Chances by group (status codes; years of age from months) leave out
    the candidates of groups not named and those at or above their group's
    chance, and keep the others with the same uniforms; a chance is rounded
    up to float32, so a uniform below it in float64 is kept."""
    from sim.kernels import BLOCK_ROWS
    from sim.status import Status

    rows = 3 * BLOCK_ROWS + 1234
    status = np.random.default_rng(3).integers(0, 8, rows).astype(np.int8)
    streams = Streams(9)
    idx, u = streams.rows_below("matching", 400, "transition", rows, 0.06)
    chances = {Status.UNEMP: 0.06, Status.INACTIVE: 0.02, Status.RETIRED: 0.1 / 3}
    kept, u_kept = streams.rows_below("matching", 400, "transition", rows, 0.06, status, chances)
    limit, rounded_up = np.zeros(8), np.zeros(8, dtype=np.float32)
    for code, chance in chances.items():
        limit[code], rounded_up[code] = chance, np.nextafter(np.float32(chance), np.float32(1))
    expected = u < rounded_up[status[idx]]
    assert np.array_equal(kept, idx[expected]) and np.array_equal(u_kept, u[expected])
    assert np.isin(idx[u < limit[status[idx]]], kept).all()  # every uniform below its chance in float64
    assert set(status[kept].tolist()) == {Status.UNEMP, Status.INACTIVE, Status.RETIRED}
    assert 2 < len(idx) / len(kept) < 8
    with pytest.raises(ValueError, match="at least"):
        streams.rows_below("matching", 400, "transition", rows, 0.06, status[:-1], chances)
    # a chance by year of age, ages in months: groups past the end take the last chance
    age_m = np.random.default_rng(4).integers(0, 130 * 12, rows).astype(np.int16)
    hazard = np.linspace(0.0, 0.06, 110)
    idx, u = streams.rows_below("demography", 400, "death", rows, 0.06)
    dying, u_dying = streams.rows_below("demography", 400, "death", rows, 0.06, age_m, hazard, per=12)
    years = np.minimum(age_m[idx] // 12, len(hazard) - 1)
    rounded = np.nextafter(hazard.astype(np.float32), np.float32(1))
    rounded[hazard == 0] = 0
    expected = u < rounded[years]
    assert np.array_equal(dying, idx[expected]) and np.array_equal(u_dying, u[expected])
    assert np.isin(idx[u < hazard[years]], dying).all() and 0 < len(dying) < len(idx) / 1.5


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


def test_float32_bound_gives_numpys_comparison_of_float32_uniforms():
    """A kernel's `u < float32_bound(c)` is numpy's `u < c` on a float32
    array, whether numpy compares in float32 (a Python float) or in float64
    (a numpy float64), including thresholds that round down to float32."""
    u = Streams(4).uniform_per_row("test", 1, "bound", 200_000)
    grid = np.arange(1, 2**16, dtype=np.float32) / np.float32(2**16)  # float32 values themselves, as uniforms may be
    for value in (0.1, 0.3, 0.7, 0.85, 0.6666666, 1.0 / 3.0, float(np.float32(0.7)), 0.0, 1.0):
        for threshold in (value, np.float64(value)):
            bound = float32_bound(threshold)
            assert isinstance(bound, np.float32)
            assert np.array_equal(u < bound, u < threshold), threshold
            assert np.array_equal(grid < bound, grid < threshold), threshold
            near = np.nextafter(np.float32(value), np.float32([-1.0, 2.0]))  # the float32 neighbours of the threshold
            near = np.concatenate([near, [np.float32(value)]]).astype(np.float32)
            assert np.array_equal(near < bound, near < threshold), threshold
    # The two comparisons do differ where the threshold rounds down to float32.
    c = 0.7
    assert float(np.float32(c)) < c  # rounds down
    assert (np.float32([np.float32(c)]) < np.float64(c))[0] and not (np.float32([np.float32(c)]) < c)[0]


ROOTS = [0, 20201231, 2**32, 2**127 + 99, [5, 2**63 - 1], [3, 2**40, 0]]


@pytest.mark.parametrize("root", [np.random.SeedSequence(e) for e in ROOTS]
                         + np.random.SeedSequence(7).spawn(2) + np.random.SeedSequence(2**100).spawn(2)[1].spawn(1))
def test_stream_seeds_are_numpys_seed_sequences(root):
    """A stream's seed is computed compiled (`streams._stream_state`), word for
    word what numpy's SeedSequence of the run's entropy and spawn key extended
    by the stream's keys generates: the run's draws depend on it."""
    from sim.streams import stable_key

    streams = Streams(root)
    for process, month, purpose in [("matching", 24250, "transition"), ("population", 24180, ""), ("p", 0, "rows:x")]:
        numpys = np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key)
                                        + (stable_key(process), stable_key(purpose), month))
        ours = streams._sequence(process, month, purpose)
        for words, dtype in [(1, np.uint64), (3, np.uint64), (4, np.uint32), (7, np.uint32)]:
            expected, got = numpys.generate_state(words, dtype), ours.generate_state(words, dtype)
            assert got.dtype == expected.dtype and np.array_equal(got, expected)
        assert np.array_equal(streams.generator(process, month, purpose).random(4),
                              np.random.Generator(np.random.SFC64(numpys)).random(4))
    rows = np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key)
                                  + (stable_key("insurance"), stable_key("rows:enrol"), 300))
    key = streams.key("insurance", 300, "enrol")
    assert isinstance(key, np.uint64) and key == rows.generate_state(1, np.uint64)[0]


def test_a_stream_month_outside_the_word_range_is_refused():
    with pytest.raises(ValueError, match="month index"):
        Streams(1).key("matching", -1, "transition")
    with pytest.raises(ValueError, match="month index"):
        Streams(1).generator("matching", 2**32)
