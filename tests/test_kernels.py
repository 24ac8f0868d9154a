"""The compiled kernels: same rows whatever room their parallel blocks get,
weighted sampling without replacement that is exact and unbiased, and the
build's helpers (selection, categories, pick, reorder) that match numpy's answers, and passes that
wake only the threads their size is worth."""

import pickle

import numba
import numpy as np
import pytest

from sim import kernels
from sim.kernels import BLOCK_ROWS, deal_stride, dealt, search
from sim.processes import demography, labour_demand, matching, separations
from sim.population import pick, stable_order_by_code, status_then_firm
from sim.sampling import SPARSE_SHARE, _exponential_keys, _select, categorical, choose_exact, largest_first_until
from sim.table import Column, Table
from sim.status import Status

ROWS = 3 * BLOCK_ROWS + 1234  # several blocks and a partial one


def _people(seed=1):
    rng = np.random.default_rng(seed)
    status = rng.choice(np.array([Status.ABSENT, Status.SCHOOL, Status.UNIT, Status.SELF, Status.FLEX, Status.UNEMP,
                                  Status.INACTIVE, Status.RETIRED], dtype=np.int8), ROWS)
    age_m = rng.integers(0, 100 * 12, ROWS).astype(np.int16)
    female, cadre, local = rng.random(ROWS) < 0.5, rng.random(ROWS) < 0.2, rng.random(ROWS) < 0.7
    firm = np.where(status == Status.UNIT, rng.integers(0, 500, ROWS), -1).astype(np.int32)
    return rng, status, age_m, female, cadre & female, local, firm


def test_dealt_blocks_are_a_permutation_that_gives_each_half_of_the_iterations_every_part_of_the_table():
    for blocks in list(range(1, 40)) + [249, 256, 1103, 1200]:
        stride = deal_stride(blocks)
        order = np.array([dealt(t, stride, blocks) for t in range(blocks)])
        assert np.array_equal(np.sort(order), np.arange(blocks))  # every block once
        if blocks >= 16:
            # numba gives each of two threads one half of the iterations: the
            # first half holds a quarter to three quarters of any run of
            # neighbouring blocks (eight, or a tenth of the table)
            window = max(8, blocks // 10)
            first = np.zeros(blocks, dtype=int)
            first[order[:blocks // 2]] = 1
            share = np.convolve(first, np.ones(window), "valid") / window
            assert 0.25 <= share.min() and share.max() <= 0.75, (blocks, share.min(), share.max())


def test_ageing_ages_everyone_alive():
    _, status, age_m, *_ = _people()
    ages = age_m.copy()
    assert demography._age(status, ages) == np.count_nonzero(status)
    assert np.array_equal(ages, age_m + (status != Status.ABSENT))


def test_retirements_are_the_rows_past_the_age_that_leave_working_life_with_any_room():
    from sim.streams import _uniforms_at
    _, status, age_m, female, cadre, *_ = _people(2)
    key, stop, work_on_from = np.uint64(12345), np.float32(0.3), np.float32(0.6)
    args = (status, age_m, female, cadre, 900, True, *demography.RULES, key, stop, work_on_from)
    complete, ample, works_on, most = demography._retirements(*args, BLOCK_ROWS)
    assert complete
    assert not demography._retirements(*args, 8)[0]
    rows, working_on, most_found = search(demography._retirements, 8, *args)
    assert np.array_equal(rows, ample) and np.array_equal(working_on, works_on) and most_found == most
    # the fullest block's count, which sets next month's room
    assert most == np.bincount(ample // BLOCK_ROWS).max()
    # the same rows as the rules applied with numpy to every row
    idx = np.arange(ROWS)
    active = (status != Status.ABSENT) & (status != Status.RETIRED)
    past = demography._months_past_statutory_age(age_m, female, cadre, idx, 900, True, *demography.RULES) >= 0
    u = _uniforms_at(key, idx)
    own_account = (status == Status.SELF) | (status == Status.FLEX)
    expected_on = active & past & (status == Status.UNIT) & (u >= work_on_from)
    retires = active & past & ((own_account & (u < stop)) | (~own_account & (status != Status.SCHOOL) & ~expected_on))
    assert np.array_equal(ample, np.flatnonzero(retires | expected_on))
    assert np.array_equal(ample[works_on], np.flatnonzero(expected_on))
    assert 0 < np.count_nonzero(works_on) < len(ample)


def test_movers_are_the_residents_not_retired_and_the_locals_among_them():
    _, status, _, _, _, local, _ = _people(3)
    movers, local_movers = demography._movers(status, local)
    moves = (status != Status.ABSENT) & (status != Status.RETIRED)
    assert movers == np.count_nonzero(moves) and local_movers == np.count_nonzero(moves & local)
    assert 0 < local_movers < movers < ROWS


def test_mothers_are_drawn_uniformly_among_women_aged_20_to_39():
    from types import SimpleNamespace
    _, status, age_m, female, *_ = _people(4)
    people = SimpleNamespace(n=ROWS, status=status, age_m=age_m, female=female)
    eligible = np.flatnonzero(demography._is_mother(status, age_m, female))
    drawn = demography.draw_mothers(np.random.default_rng(5), people, 20000)
    assert len(drawn) == 20000 and np.isin(drawn, eligible).all()
    assert np.array_equal(drawn, demography.draw_mothers(np.random.default_rng(5), people, 20000))
    # uniform: the eligible rows of the first and second half are drawn in proportion
    first = np.count_nonzero(drawn < ROWS // 2) / len(drawn)
    assert abs(first - np.count_nonzero(eligible < ROWS // 2) / len(eligible)) < 0.015
    # so few eligible that rejection finds none: drawn among them all
    few = SimpleNamespace(n=ROWS, status=status, age_m=age_m, female=np.zeros(ROWS, bool))
    few.female[eligible[:3]] = True
    assert set(demography.draw_mothers(np.random.default_rng(6), few, 50)) <= set(eligible[:3])


def test_separation_outcomes_follow_each_row_s_chances():
    rng, status, age_m, female, cadre, local, firm = _people(3)
    non_private, layoff = rng.random(500) < 0.3, rng.random(500) * 0.05
    rates = np.array([0.02, 1.5, 1.3, 0.7])
    idx = np.flatnonzero(status != Status.ABSENT)
    u = rng.random(len(idx)).astype(np.float32) * np.float32(0.2)
    out = separations.separation_outcomes(idx, u, status, firm, age_m, local, non_private, layoff, rates, 0.01, 0.02)
    s = status[idx]
    unit = s == Status.UNIT
    f = np.where(unit, firm[idx], 0)
    quit = separations._quit_chances(age_m[idx], local[idx], non_private[f], rates)
    expected = np.select([unit & (u < layoff[f]), unit & (u < layoff[f] + quit), (s == Status.SELF) & (u < 0.01),
                          (s == Status.FLEX) & (u < 0.02)], [1, 2, 3, 4], 0)
    assert np.array_equal(out, expected) and np.all(np.bincount(out, minlength=5)[1:] > 50)


def test_seekers_and_spells():
    _, status, *_ = _people(4)
    spell = np.full(ROWS, 32767, dtype=np.int16)
    spell[::2] = 5
    matching._count_months(status, spell)
    assert np.all(spell[1::2] == 32767)  # capped
    assert np.all(spell[::2] == np.where(status[::2] != Status.ABSENT, 6, 5))
    unemployed, flexible = matching._find_seekers(status)
    assert np.array_equal(unemployed, np.flatnonzero(status == Status.UNEMP))
    assert np.array_equal(flexible, np.flatnonzero(status == Status.FLEX))
    clustered = np.where(np.arange(ROWS) < 2 * BLOCK_ROWS + 10, Status.FLEX, status).astype(status.dtype)  # whole blocks of one kind
    unemployed, flexible = matching._find_seekers(clustered)
    assert np.array_equal(unemployed, np.flatnonzero(clustered == Status.UNEMP))
    assert np.array_equal(flexible, np.flatnonzero(clustered == Status.FLEX))


def test_choose_exact_is_exact_and_unbiased():
    rng = np.random.default_rng(5)
    weights = np.array([0.0, 1.0, 1.0, 2.0, 4.0, 0.0, 8.0])
    counts = np.zeros(len(weights))
    for _ in range(4000):
        mask = choose_exact(weights, 2, rng)
        assert mask.sum() == 2 and not mask[[0, 5]].any()
        counts += mask
    # One draw (k = 1) picks row i with probability w_i / sum(w).
    single = np.zeros(len(weights))
    for _ in range(4000):
        single += choose_exact(weights, 1, rng)
    assert np.allclose(single / 4000, weights / weights.sum(), atol=0.025)
    assert counts[6] > counts[4] > counts[3] > max(counts[1], counts[2])
    assert choose_exact(weights, 10, rng).sum() == 5  # capped at the rows with positive weight


def test_choose_exact_keys_only_the_rows_with_weight_when_they_are_few():
    """With few positive weights `choose_exact` keys those rows alone; it
    must choose the rows that keying every row chooses (each row keeps its
    own draw, zero weights never come first, ties go in row order)."""
    rng = np.random.default_rng(14)
    for share, levels in ((0.01, None), (0.05, 3), (1.0 / SPARSE_SHARE - 0.01, None)):
        weights = np.where(rng.random(ROWS) < share, rng.random(ROWS) + 0.1, 0.0).astype(np.float32)
        if levels:  # a few weight values: ties of keys are likelier
            weights = np.ceil(weights * levels) / levels
        positive = int(np.count_nonzero(weights > 0))
        assert positive * SPARSE_SHARE < ROWS  # the sparse path is taken
        for k in (1, 7, positive // 2, positive - 1):
            seed = int(rng.integers(1 << 30))
            key = np.uint64(np.random.default_rng(seed).integers(0, 2**63))  # the key choose_exact draws
            expected = _select(_exponential_keys(weights, key), k)
            got = choose_exact(weights, k, np.random.default_rng(seed))
            assert got.sum() == k and np.array_equal(got, expected), (share, levels, k)
            assert not got[weights == 0].any()


def _smallest_by_sorting(keys, k):
    """The k smallest keys' rows as a full partial sort finds them, ties at
    the k-th key taken in row order (what `_select` must give)."""
    kth = np.partition(keys, k - 1)[k - 1]
    mask = keys < kth
    mask[np.flatnonzero(keys == kth)[: k - mask.sum()]] = True
    return mask


def test_select_finds_the_same_rows_as_a_partial_sort():
    rng = np.random.default_rng(11)
    cases = {
        "exponential": rng.exponential(size=ROWS).astype(np.float32),
        "ties": rng.integers(0, 40, ROWS).astype(np.float32),  # the k-th key shared by hundreds of rows
        "with_inf": np.where(rng.random(ROWS) < 0.3, np.inf, rng.exponential(size=ROWS)).astype(np.float32),
        "descending": np.sort(rng.exponential(size=ROWS).astype(np.float32))[::-1].copy(),
        "small": rng.exponential(size=500).astype(np.float32),  # too few to sample: the partial sort itself
    }
    for name, keys in cases.items():
        finite = int(np.isfinite(keys).sum())
        for k in (1, 2, 17, finite // 3, finite // 2, finite - 1):
            got = _select(keys.copy(), k)
            assert got.sum() == k, (name, k)
            assert np.array_equal(got, _smallest_by_sorting(keys, k)), (name, k)


def test_categorical_is_a_search_of_the_cumulative_shares():
    rng = np.random.default_rng(12)
    u = np.concatenate([rng.random(ROWS), [0.0, 0.2, 0.5, 0.7, 1.0 - 1e-16, 1.0]])
    for shares in ([0.2, 0.3, 0.5], [0.0, 1.0, 0.0, 2.0], [1.0], [0.1, 0.0, 0.0, 0.9], rng.random(6)):
        cdf = np.cumsum(shares) / np.sum(shares)
        for uniforms in (u, u.astype(np.float32)):
            got = categorical(np.array(shares), uniforms)
            assert got.dtype == np.int8
            assert np.array_equal(got, np.minimum(np.searchsorted(cdf, uniforms, side="right"), len(cdf) - 1))


def test_pick_and_reorder_keep_their_values():
    rng = np.random.default_rng(13)
    condition = rng.random(ROWS) < 0.4
    picked = pick(condition, 1.5, 0.25)
    assert picked.dtype == np.float32 and np.array_equal(picked, np.where(condition, 1.5, 0.25))
    table = Table({"a": Column(np.int32, 0, ""), "b": Column(np.int8, -1, ""), "c": Column(np.float32, 0.0, "")}, ROWS)
    table.a[:] = np.arange(ROWS)
    table.c[5] = 2.0
    order = rng.permutation(ROWS)
    table.reorder(order)
    assert np.array_equal(table.a, order)
    assert np.all(table.b == -1)  # a column of defaults stays one
    assert table.c[np.flatnonzero(order == 5)[0]] == 2.0 and np.count_nonzero(table.c) == 1


def test_the_builds_order_is_a_lexsort_by_status_and_firm():
    _, status, *_, firm = _people(14)
    assert np.array_equal(status_then_firm(status, firm), np.lexsort((firm, status)))
    firm[np.flatnonzero(status != Status.UNIT)[:3]] = 7  # firms beyond unit employees: still the lexsort
    assert np.array_equal(status_then_firm(status, firm), np.lexsort((firm, status)))
    _, status, *_, firm = _people(15)
    status[5], firm[5] = 9, -1  # a code beyond the counting sort's room
    assert np.array_equal(status_then_firm(status, firm), np.lexsort((firm, status)))


def test_the_builds_sector_grouping_is_a_stable_argsort():
    rng = np.random.default_rng(16)
    for codes in (rng.integers(0, 6, 50_000).astype(np.int8), rng.integers(-1, 3, 1000).astype(np.int8),
                  np.full(10, 4, dtype=np.int8), np.zeros(0, dtype=np.int8)):
        assert np.array_equal(stable_order_by_code(codes), np.argsort(codes, kind="stable"))
    # The build's shuffle of positions is rng.permutation of the rows themselves.
    rows = np.sort(rng.choice(10**6, 5000, replace=False))
    assert np.array_equal(np.random.default_rng(3).permutation(rows), rows[np.random.default_rng(3).permutation(len(rows))])


def test_the_non_private_draw_sorts_only_the_start_it_needs():
    rng = np.random.default_rng(17)
    n = 100_000
    size = rng.integers(0, 50, n).astype(np.float64)
    keys = np.where(size > 0, np.round(np.log(rng.random(n)) / np.maximum(size, 1e-9), 2), -np.inf)  # rounded: ties
    full = np.argsort(-keys, kind="stable")
    cumulative = np.cumsum(size[full])
    for wanted in (1.0, 1000.0, 0.3 * size.sum(), size.sum() - 1.0, size.sum() + 10.0):
        start = largest_first_until(keys, size, wanted)
        assert np.array_equal(start, full[:len(start)])
        take = int(np.searchsorted(cumulative, wanted))  # the firm that reaches `wanted` is in the start
        assert take < len(start) or len(start) == n


def test_training_eligibility_counts_every_block():
    from sim.processes import training

    _, status, age_m, *_ = _people(7)
    skill = np.random.default_rng(8).integers(0, 6, ROWS).astype(np.int8)
    eligible = ((status >= Status.UNIT) & (status <= Status.UNEMP) & (age_m >= 16 * 12) & (age_m < 60 * 12)
                & (skill < 5))
    expected = np.bincount((5 * (status == Status.UNEMP) + np.minimum(skill, 4))[eligible], minlength=10)
    assert np.array_equal(training._eligible_groups(status, age_m, skill), expected)


def test_insurance_skips_only_rows_that_cannot_enrol():
    """The enrolment pass reads a unit employee's firm only when one of its
    draws is below the largest chance; with no such bound (every lacking row
    read) it must give the same memberships and counts."""
    from sim.processes import insurance

    rng, status, age_m, *_, firm = _people(7)
    flags = [rng.random(ROWS) < share for share in (0.5, 0.1, 0.2, 0.4, 0.5)]
    sector = np.where(firm >= 0, rng.integers(0, 6, ROWS), rng.integers(-1, 6, ROWS)).astype(np.int8)
    spell_m = rng.integers(0, 3, ROWS).astype(np.int16)  # a third are new hires
    relative = rng.uniform(0.2, 1.8, 500).astype(np.float32)
    months = rng.integers(0, 3, ROWS).astype(np.int16)

    def enrol(most_relative):
        state = [flag.copy() for flag in flags]
        counts = insurance._enrol(status, sector, spell_m, age_m, firm, months, *state, relative,
                                  np.array([0.8, 0.7, 0.75]), np.array([0.02, 0.03, 0.05]), 0.003, 0.03, 0.004,
                                  True, np.uint64(11), np.uint64(12), most_relative)
        return counts, state

    counts, state = enrol(float(relative.max()))
    every_counts, every_state = enrol(1e9)
    assert np.array_equal(counts, every_counts)
    assert all(np.array_equal(a, b) for a, b in zip(state, every_state))
    assert counts[2] > 1000  # the test has enrolments to lose
    # A bound below the largest firm's compliance would lose enrolments.
    assert enrol(0.5 * float(relative.max()))[0][2] < counts[2]


def _splitmix(key: int, rows: np.ndarray) -> np.ndarray:
    """SplitMix64 in numpy (wrapping uint64 arithmetic): the reference for `streams.draw_bits`."""
    with np.errstate(over="ignore"):
        z = np.uint64(key) + rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def test_insurance_pass_follows_the_rules_row_by_row():
    """The two-pass enrolment kernel (marks, then the marked rows) against the
    rules of sim/processes/insurance.py written out in numpy for every row,
    with the draws computed from SplitMix64 independently of the kernel."""
    from sim.processes import insurance

    rng, status, age_m, *_, firm = _people(8)
    pe, pr, pres, ui, wi = (rng.random(ROWS) < share for share in (0.5, 0.1, 0.2, 0.4, 0.5))
    sector = np.where(firm >= 0, rng.integers(0, 6, ROWS), rng.integers(-1, 6, ROWS)).astype(np.int8)
    spell_m = rng.integers(0, 3, ROWS).astype(np.int16)
    relative = rng.uniform(0.2, 1.8, 500).astype(np.float32)
    months = rng.integers(0, 3, ROWS).astype(np.int16)
    hire, catch = np.array([0.8, 0.7, 0.75]), np.array([0.02, 0.03, 0.05])
    individual, platform_rate, resident, key, scheme_key = 0.003, 0.03, 0.004, 11, 12
    state = [flag.copy() for flag in (pe, pr, pres, ui, wi)]
    counts = insurance._enrol(status, sector, spell_m, age_m, firm, months, *state, relative, hire, catch,
                              individual, platform_rate, resident, True, np.uint64(key), np.uint64(scheme_key),
                              float(relative.max()))

    rows = np.arange(ROWS)
    u = (_splitmix(key, rows) >> np.uint64(40)).astype(np.float64) / 2**24
    bits = _splitmix(scheme_key, rows)
    thirds = [((bits >> np.uint64(43 - 21 * k)) & np.uint64(2**21 - 1)).astype(np.float64) / 2**21 for k in range(3)]
    unit = status == Status.UNIT
    platform = (status == Status.FLEX) & (sector == insurance.PLATFORM_SECTOR)
    retired = pe & (status == Status.RETIRED)
    retiring = retired & (months > 0)
    ui_after, wi_after = ui & unit, wi & (unit | platform)
    pr_after, pe_after = pr | retiring, pe & ~retired
    firm_relative = relative[np.maximum(firm, 0)].astype(np.float64)
    chance = [np.where(spell_m == 0, hire[k], catch[k]) * firm_relative for k in range(3)]
    joins = [unit & ~held & (thirds[k] < chance[k]) for k, held in enumerate((pe_after, ui_after, wi_after))]
    pe_after, ui_after, wi_after = pe_after | joins[0], ui_after | joins[1], wi_after | joins[2]
    starts = ((status == Status.SELF) | (status == Status.FLEX)) & ~pe_after & ~pr_after & (u < individual)
    pe_after |= starts
    covered = platform & ~wi_after & (u < platform_rate)
    wi_after |= covered
    outside = ~pe_after & ~pr_after
    joins_res = (outside & ~(pres & outside) & (u < resident) & (age_m >= 16 * 12)
                 & (status != Status.SCHOOL) & (status != Status.ABSENT))
    pres_after = (pres & outside) | joins_res

    for got, expected in zip(state, (pe_after, pr_after, pres_after, ui_after, wi_after)):
        assert np.array_equal(got, expected)
    expected_counts = [retiring.sum(), joins[0].sum() + starts.sum(), joins[1].sum(),
                       joins[2].sum() + covered.sum(), joins_res.sum(), unit.sum(),
                       (unit & pe_after).sum(), (unit & ui_after).sum(), (unit & wi_after).sum()]
    assert counts.tolist() == expected_counts
    assert min(expected_counts) > 50  # every kind of event happens in the test


def test_integer_tests_of_draws_agree_with_float_tests():
    """`units_below` turns `uniform < chance` into an integer test; it must
    agree at the chances that fall exactly on a uniform's grid and next to it."""
    from sim.streams import units_below

    for resolution in (21, 24):
        grid = 2.0**-resolution
        m = np.arange(0, 2**resolution, 4099, dtype=np.int64)
        for chance in (0.0, grid, 0.5, 0.5 + grid / 3, 0.75 - grid, 1 / 3, 0.999, 1.0, 1.7, -0.2):
            assert np.array_equal(m < units_below(chance, resolution), m * grid < chance), (resolution, chance)


def test_january_raises_match_the_numpy_expressions_bit_for_bit():
    """The January pass (one compiled loop over the earners) against the
    numpy expressions it replaced, with and without a wage guideline: the
    same floating-point operations in the same order, so the same wages."""
    from sim.kernels import rows_with_status_between
    from sim.processes import wages

    rng, status, *_, firm = _people(9)
    wage = rng.lognormal(8.5, 0.6, ROWS).astype(np.float32)
    non_private, covered = rng.random(500) < 0.3, rng.random(500) < 0.4
    growth, sd, premium = np.array([0.055, 0.072]), 0.08, 0.03
    earners = rows_with_status_between(status, Status.UNIT, Status.FLEX)
    assert np.array_equal(earners, np.flatnonzero((status == Status.UNIT) | (status == Status.SELF)
                                                   | (status == Status.FLEX)))
    normal = rng.normal(0.0, sd, len(earners))
    for guideline in (None, 0.08):
        # the numpy of sim/processes/wages.py before the compiled pass
        f = firm[earners]
        growth_of_ownership = np.log1p(growth)[((f >= 0) & non_private[np.maximum(f, 0)]).astype(np.int8)]
        raise_ = normal + growth_of_ownership - sd * sd / 2.0
        if guideline is not None:
            raise_ += np.where(f >= 0, 0.5 * (np.log1p(guideline) - growth_of_ownership), 0.0)
        raise_ += premium * ((f >= 0) & covered[np.maximum(f, 0)]).astype(np.float64)
        expected = wage.copy()
        expected[earners] *= np.exp(raise_).astype(np.float32)

        got = wage.copy()
        wages._raise_in_january(got, earners, firm, non_private, covered, normal, np.log1p(growth), sd * sd / 2.0,
                                guideline is not None, float(np.log1p(guideline or 0.0)), 0.5, premium)
        assert np.array_equal(got, expected)
        assert np.count_nonzero(got != wage) > 0.9 * len(earners)  # the raises happened


def test_would_be_trainees_match_the_numpy_expressions():
    from sim.processes import training

    rng, status, age_m, *_ = _people(10)
    skill = rng.integers(0, 6, ROWS).astype(np.int8)
    idx = np.sort(rng.choice(ROWS, ROWS // 5, replace=False))
    u = (rng.random(len(idx)) * 0.06).astype(np.float32)
    level_weight, unemployed_weight, rate = np.array([1.0, 0.8, 0.6, 0.4, 0.3]), 2.5, 0.01
    s, age, level = status[idx], age_m[idx], skill[idx]
    eligible = (age >= 16 * 12) & (age < 60 * 12) & (level < 5) & (s >= Status.UNIT) & (s <= Status.UNEMP)
    weight = np.where(s == Status.UNEMP, unemployed_weight, 1.0) * level_weight[np.minimum(level, 4)]
    expected = idx[eligible & (u < rate * weight)]
    got = training._would_be_trainees(idx, u, status, age_m, skill, level_weight, unemployed_weight, rate)
    assert np.array_equal(got, expected) and 100 < len(expected) < eligible.sum()


def test_kept_firms_are_drawn_as_if_every_firm_were_drawn_and_thinned():
    """Firm sizes drawn directly among the kept firms have the law of drawing
    every firm from the capped Lomax and keeping it with chance 1 / represents."""
    from scipy import stats

    from sim.population import firm_rows, kept_firm_sizes

    shape, lam, cap, per_row, scale, firms = 1.2, 1.5, 1e5, 20.0, 50.0, 2_000_000
    rng = np.random.default_rng(3)
    every = 1.0 + np.minimum(rng.pareto(shape, firms) * lam, cap)
    thinned = every[rng.random(firms) < every / (firm_rows(every, scale, per_row) * scale)]
    direct = kept_firm_sizes(np.random.default_rng(4), firms, shape, lam, cap, per_row, scale)
    # As many firms kept, within sampling noise (sd about 210 of 45,000)...
    assert abs(len(direct) - len(thinned)) < 5 * np.sqrt(len(thinned))
    # ...with the same sizes, small and large (a seventh are above per_row).
    assert np.mean(direct > per_row) > 0.05
    assert stats.ks_2samp(direct, thinned).pvalue > 0.01
    assert stats.ks_2samp(np.log(direct[direct > per_row]), np.log(thinned[thinned > per_row])).pvalue > 0.01
    # in random order, not small firms first
    assert abs(np.mean(direct[: len(direct) // 2] > per_row) - np.mean(direct > per_row)) < 0.01


def test_members_who_retire_without_a_month_contributed_draw_no_employee_pension():
    from sim.processes import insurance

    status = np.full(4, Status.RETIRED, dtype=np.int8)
    months = np.array([0, 1, 0, 200], dtype=np.int16)
    pension_employee = np.array([True, True, False, True])
    pension_retiree, pension_resident = np.zeros(4, bool), np.zeros(4, bool)
    counts = insurance._enrol(status, np.full(4, -1, np.int8), np.zeros(4, np.int16), np.full(4, 61 * 12, np.int16),
                              np.full(4, -1, np.int32), months, pension_employee, pension_retiree, pension_resident,
                              np.zeros(4, bool), np.zeros(4, bool), np.ones(1, np.float32), np.full(3, 0.8),
                              np.full(3, 0.01), 0.0, 0.0, 0.0, False, np.uint64(1), np.uint64(2), 1.0)
    assert pension_retiree.tolist() == [False, True, False, True]
    assert pension_employee.tolist() == [False, False, False, False]
    assert counts[0] == 2  # new pensioners


def test_employees_of_closing_firms_across_several_waves_of_blocks():
    """The parallel search gives numpy's rows in row order, with a closing firm
    whose employees fill whole blocks and rows beyond the first waves."""

    rows = (labour_demand.WAVE_BLOCKS + 3) * BLOCK_ROWS + 777
    rng = np.random.default_rng(5)
    status = rng.choice(np.array([Status.SCHOOL, Status.UNIT, Status.FLEX, Status.UNEMP], dtype=np.int8), rows)
    firm = np.where(status == Status.UNIT, rng.integers(1, 3000, rows), -1).astype(np.int32)
    big = slice(2 * BLOCK_ROWS - 100, 4 * BLOCK_ROWS + 100)  # one firm's employees fill two whole blocks
    status[big], firm[big] = Status.UNIT, 0
    closing = rng.random(3000) < 0.02
    closing[0] = True
    expected = np.flatnonzero((status == Status.UNIT) & closing[np.maximum(firm, 0)])
    found = labour_demand._employees_of(status, firm, closing)
    assert found[-1] >= labour_demand.WAVE_BLOCKS * BLOCK_ROWS  # the last waves were searched
    assert np.array_equal(found, expected)


def test_monthly_counts_match_numpy():
    """The monthly counts (vectorised loops over block views) against numpy, with
    wages large enough that the bills overflow 32 bits."""
    from sim import indicators

    rng, status, age_m, female, cadre, local, firm = _people(7)
    urban = rng.random(ROWS) < 0.6
    non_private = rng.random(500) < 0.3
    wage = (rng.lognormal(8.5, 0.6, ROWS)).astype(np.float32)
    flags = [rng.random(ROWS) < share for share in (0.4, 0.2, 0.3, 0.3, 0.35, 0.9, 0.6)]
    pe, pr, pres, ui, wi, card, ecard = flags
    title, skill = rng.integers(0, 4, ROWS).astype(np.int8), rng.integers(0, 6, ROWS).astype(np.int8)
    counts = indicators._count(status, urban, firm, non_private, wage, pe, pr, pres, ui, wi, title, skill, card, ecard)
    alive = status != Status.ABSENT
    employed = (status >= Status.UNIT) & (status <= Status.FLEX)
    unemployed = status == Status.UNEMP
    unit_urban = (status == Status.UNIT) & urban
    public = unit_urban & non_private[np.maximum(firm, 0)]
    working = alive & (status != Status.RETIRED) & (status != Status.SCHOOL)
    fen = (wage * np.float32(100.0) + np.float32(0.5)).astype(np.int64)
    expected = [alive, employed, unemployed, employed & urban, unemployed & urban, unit_urban, public,
                pe | pr | pres, ui, wi, working & (title >= 1), working & (title == 3), working & (skill >= 1),
                working & (skill >= 3), card, ecard]
    assert [int(c) for c in counts[:16]] == [int(np.count_nonzero(mask)) for mask in expected]
    assert int(counts[16]) == int(fen[unit_urban].sum()) and int(counts[17]) == int(fen[public].sum())
    assert int(counts[16]) > 2**31


def test_desired_employment_shift_matches_the_numpy_expressions_bit_for_bit():
    """Labour demand's month (shock, then openings given up) against the
    numpy expressions `_shift_demand` replaced."""
    rng = np.random.default_rng(18)
    n = 50_000
    target = rng.gamma(2.0, 8.0, n).astype(np.float32)
    alive, sizes = rng.random(n) < 0.8, rng.integers(0, 30, n).astype(np.float32)
    shock = rng.standard_normal(n)
    sd, growth, vacancy_rate, give_up = 0.01, 0.023, 0.04, 0.15
    drift = np.log1p(growth) / 12.0 - sd * sd / 2.0
    # the numpy of sim/processes/labour_demand.py before the compiled pass
    expected = target.copy()
    expected[alive] *= np.exp(drift + sd * shock.astype(np.float32)[alive]).astype(np.float32)
    expected -= (give_up * np.maximum(expected - (1.0 + vacancy_rate) * sizes, 0.0)).astype(np.float32)

    got = target.copy()
    labour_demand._shift_demand(got, alive, shock, drift, np.float32(sd), sizes, np.float32(1.0 + vacancy_rate),
                                np.float32(give_up))
    assert np.array_equal(got, expected)
    assert not np.array_equal(got, target)


def test_collective_bargaining_covers_the_largest_firms_as_a_full_sort_would():
    from sim.processes.wages import covered_firms

    rng = np.random.default_rng(19)
    n = 60_000
    sizes = rng.integers(0, 40, n).astype(np.float32)
    persons = np.round(sizes * rng.uniform(0.5, 3.0, n)).astype(np.float32)  # rounded: ties between firms
    alive = rng.random(n) < 0.9
    for share in (0.0, 0.001, 0.3, 0.999, 1.0):
        order = np.argsort(-np.where(alive, persons, -1.0), kind="stable")  # the full sort it replaced
        expected = np.zeros(n, dtype=bool)
        expected[order[np.cumsum(sizes[order]) <= share * sizes[alive].sum()]] = True
        assert np.array_equal(covered_firms(sizes, persons, alive, share), expected), share


def test_vacancies_match_the_numpy_expressions():
    rng = np.random.default_rng(20)
    n = 40_000
    alive = rng.random(n) < 0.85
    target, sizes = rng.gamma(2.0, 6.0, n).astype(np.float32), rng.integers(0, 20, n).astype(np.float32)
    u = rng.random(n)
    # the numpy of sim/processes/matching.py before the compiled pass
    gap = np.maximum(np.where(alive, target - sizes, 0.0), 0.0)
    whole = np.floor(gap)
    expected = (whole + (u < gap - whole)).astype(np.int64)
    got = matching._vacancies(alive, target, sizes, u)
    assert np.array_equal(got, expected)
    assert got[~alive].sum() == 0 and got.sum() > 0


def test_school_leaving_matches_the_numpy_expressions():
    """July's pass against the numpy expressions `_leave_school` replaced,
    with a Python-float and a numpy-float64 chance (numpy compares the
    float32 uniforms against them in float32 and in float64)."""
    from sim.streams import Streams, float32_bound

    rng, status, *_ = _people(21)
    status[rng.random(ROWS) < 0.5] = Status.SCHOOL  # many pupils
    age_m = rng.integers(14 * 12, 25 * 12, ROWS).astype(np.int16)
    edu = rng.integers(0, 3, ROWS).astype(np.int8)
    spell = rng.integers(0, 50, ROWS).astype(np.int16)
    streams = Streams(5)
    for senior, college in ((0.85, 0.7), (np.float64(0.7), np.float64(1.0 / 3.0))):
        # the numpy of sim/processes/demography.py before the compiled pass
        u = streams.uniform_per_row("demography", 7, "school", ROWS)
        in_school, age_y = status == Status.SCHOOL, age_m // 12
        at16, at19 = in_school & (age_y == 16), in_school & (age_y == 19)
        continue_senior = at16 & (u < senior)
        continue_college = at19 & (edu == 1) & (u < college)
        graduates = in_school & (age_y >= 22)
        leavers = (at16 & ~continue_senior) | (at19 & ~continue_college) | graduates
        expected_edu, expected_status, expected_spell = edu.copy(), status.copy(), spell.copy()
        expected_edu[continue_senior], expected_edu[continue_college] = 1, 2
        expected_status[leavers], expected_spell[leavers] = Status.UNEMP, 0

        got_status, got_edu, got_spell = status.copy(), edu.copy(), spell.copy()
        counts = demography._leave_school(got_status, age_m, got_edu, got_spell, streams.key("demography", 7, "school"),
                                          float32_bound(senior), float32_bound(college))
        assert np.array_equal(got_status, expected_status) and np.array_equal(got_edu, expected_edu)
        assert np.array_equal(got_spell, expected_spell)
        assert list(counts) == [leavers.sum(), graduates.sum(), continue_college.sum()]
        assert 0 < continue_college.sum() < at19.sum()


def test_log_wage_terms_match_the_numpy_expression_bit_for_bit():
    """The compiled wage terms against the numpy expression they replaced,
    with the calibration's own parameters, on ages, educations, sectors and
    firm premia of every kind."""
    from sim.calibration import Calibration
    from sim.processes.wages import log_wage_terms

    params = Calibration.load().params
    rng = np.random.default_rng(19)
    n = 50_000
    edu = rng.integers(0, 3, n).astype(np.int8)
    sector = rng.integers(0, 6, n).astype(np.int8)
    age_m = rng.integers(16 * 12, 70 * 12, n).astype(np.int16)
    premium = rng.normal(0.0, 0.3, n).astype(np.float32)
    age = age_m / 12.0  # the numpy of sim/processes/wages.py before the compiled pass
    expected = (params("wages.education_premium")[edu] + params("wages.sector_premium")[sector]
                - params("wages.experience_curvature") * (age - params("wages.experience_peak_age")) ** 2 + premium)
    got = log_wage_terms(params, edu, sector, age_m, premium)
    assert got.dtype == np.float64 and np.array_equal(got, expected)
    assert np.unique(got).size > n // 2  # the terms vary, so equality is not trivial


# -- threads worth waking (kernels.sized_pass) ----------------------------------

@numba.njit(parallel=True)
def _threads_inside(rows):
    """The kernel threads a parallel pass may use, as the pass sees them."""
    total = 0
    for i in numba.prange(4):
        total += i
    return numba.get_num_threads()


@numba.njit
def _refusing(values):
    raise ValueError("refused")


def _all_threads():
    """The process's kernel threads, given back to the calling thread (an
    earlier test may have left it fewer); skips where there is only one."""
    most = numba.config.NUMBA_NUM_THREADS
    if most < 2:
        pytest.skip("one kernel thread: nothing to choose")
    numba.set_num_threads(most)
    return most


def test_a_pass_wakes_a_thread_only_where_it_saves_more_than_the_wake_up():
    wake = kernels.THREAD_WAKE_NS
    assert kernels.threads_worth(0.0, 8) == 1
    assert kernels.threads_worth(2 * wake, 2) == 1  # on two threads: wake + 1 ms = 2 ms, no faster
    assert kernels.threads_worth(2.01 * wake, 2) == 2
    assert kernels.threads_worth(1e12, 2) == 2 and kernels.threads_worth(1e12, 1) == 1  # never more than the caller has
    # thread t + 1 pays while work / (t (t + 1)) exceeds a wake-up
    assert [kernels.threads_worth(f * wake, 8) for f in (5.9, 6.1, 11.9, 12.1, 20.1)] == [2, 3, 3, 4, 5]


def test_a_sized_pass_runs_small_calls_on_the_calling_thread_and_gives_the_threads_back():
    most = _all_threads()
    pass_ = kernels.sized_pass(ns_per_row=1.0, rows=lambda rows: rows)(_threads_inside)
    rows_worth_two = int(2 * kernels.THREAD_WAKE_NS) + 1
    assert pass_(1000) == 1 and numba.get_num_threads() == most
    assert pass_(rows_worth_two) == 2 and numba.get_num_threads() == most
    assert pass_(10**12) == most
    # a caller limited to one thread (a pool or Dask worker) stays at one
    numba.set_num_threads(1)
    try:
        assert pass_(10**12) == 1 and numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(most)
    # given back after an error too
    with pytest.raises(ValueError):
        kernels.sized_pass(ns_per_row=1.0)(_refusing)(np.zeros(3))
    assert numba.get_num_threads() == most
    # the default size is the length of the first argument
    assert kernels.sized_pass(ns_per_row=1.0)(_threads_inside)(np.zeros(10)) == 1


def test_a_run_gives_the_same_bytes_with_every_pass_on_all_threads_and_on_one(monkeypatch):
    """The thread counts `sized_pass` picks change no result: a run whose
    passes all wake every thread (no wake-up cost) against one on the
    calling thread alone, at a scale with several blocks of rows."""
    from sim.model import LabourModel

    most = _all_threads()

    def final_state():
        model = LabourModel(seed=8, scale=400)  # about 160,000 rows: three blocks
        assert model.people.n > 2 * BLOCK_ROWS
        for _ in range(14):  # through a January (raises) and a July (school leaving)
            model.step()
        return ({name: model.people[name].copy() for name in model.people.columns},
                {name: model.firms[name].copy() for name in model.firms.columns}, model.recorder.parts, model.ledger)

    monkeypatch.setattr(kernels, "THREAD_WAKE_NS", 0.0)
    threaded = final_state()
    numba.set_num_threads(1)
    try:
        alone = final_state()
    finally:
        numba.set_num_threads(most)
    for a, b in zip(threaded[:2], alone[:2]):
        assert a.keys() == b.keys() and all(np.array_equal(a[name], b[name]) for name in a)
    assert pickle.dumps(threaded[2:]) == pickle.dumps(alone[2:])  # the months' parts and ledger, to the bit


def test_every_parallel_kernel_that_python_calls_declares_its_size():
    """A parallel kernel left bare would wake every thread at any scale
    (a step at scale 1000 took 10 ms so against 6 ms on one thread): the
    processes call each through `sized_pass`, bar the one that only compiled
    code calls, from a sized kernel."""
    import importlib
    import pkgutil

    import sim

    called_from_compiled_code = {"sim.processes.labour_demand._employees_in_blocks"}  # by _employees_of, sized
    bare = []
    for module_info in pkgutil.walk_packages(sim.__path__, "sim."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (isinstance(value, numba.core.registry.CPUDispatcher) and value.targetoptions.get("parallel")
                    and value.py_func.__module__ == module.__name__):
                bare.append(f"{module.__name__}.{name}")
    assert sorted(set(bare) - called_from_compiled_code) == []  # called bare
    assert called_from_compiled_code <= set(bare)  # the exception names a kernel that is there
