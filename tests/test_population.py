"""The people of a market: gathering a selection once, writing in seat order, the small-world network."""

import numpy as np
import pytest

from simulations import LoyaltyMarket
from simulations.population import (People, Selection, in_seat_order, keep_freed_memory_for_reuse, small_world_network,
                                    without_huge_pages)


@pytest.fixture
def people():
    p = People.empty(50)
    p.satisfaction[:] = np.linspace(0.0, 1.0, 50)
    p.products[:] = np.arange(50) % 4 + 1
    return p


def test_a_selection_reads_the_selected_people(people):
    seats = np.array([3, 10, 47])
    chosen = Selection(people, seats)
    assert len(chosen) == 3
    np.testing.assert_array_equal(chosen.satisfaction, people.satisfaction[seats])
    np.testing.assert_array_equal(chosen.products, people.products[seats])


def test_a_selection_writes_through_and_then_reads_what_it_wrote(people):
    seats = np.array([0, 5, 9])
    chosen = Selection(people, seats)
    chosen.satisfaction  # gathered before the write: the write must not leave a stale copy
    chosen.set(satisfaction=np.array([0.1, 0.2, 0.3]), products=chosen.products + 1, stage=4)
    np.testing.assert_array_equal(people.satisfaction[seats], [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(chosen.satisfaction, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(people.products[seats], [2, 3, 3])
    np.testing.assert_array_equal(chosen.stage, [4, 4, 4])
    assert chosen.products.dtype == people.products.dtype
    assert people.satisfaction[1] == pytest.approx(1 / 49)  # people outside the selection are untouched


def test_an_update_that_bypasses_set_fails_instead_of_being_lost(people):
    chosen = Selection(people, np.array([1, 2]))
    with pytest.raises(ValueError):
        chosen.satisfaction[0] = 0.5
    with pytest.raises(ValueError):
        chosen.products += 1


def test_in_seat_order_lines_values_up_with_sorted_seats():
    rng = np.random.default_rng(3)
    seats = rng.permutation(1000)[:300]
    values = rng.random(300)
    direct, sorted_write = np.zeros(1000), np.zeros(1000)
    direct[seats] = values
    ordered, position = in_seat_order(seats, 1000)
    assert np.all(np.diff(ordered) > 0)
    sorted_write[ordered] = values[position]
    np.testing.assert_array_equal(direct, sorted_write)


def test_the_network_is_a_ring_lattice_before_rewiring_and_random_after():
    ring = small_world_network(np.random.default_rng(0), 20, 4, 0.0)
    assert ring.dtype == np.int32 and ring.shape == (20, 4)
    assert sorted(ring[0]) == [1, 2, 18, 19]
    assert sorted(ring[19]) == [0, 1, 17, 18]
    rewired = small_world_network(np.random.default_rng(0), 20_000, 6, 0.25)
    lattice = small_world_network(np.random.default_rng(0), 20_000, 6, 0.0)
    share = (rewired != lattice).mean()
    assert 0.2 < share < 0.26  # a quarter redrawn; a few redrawn ties land on the lattice tie by chance
    assert rewired.min() >= 0 and rewired.max() < 20_000


def test_keeping_freed_memory_is_asked_once_and_never_breaks_a_run():
    assert keep_freed_memory_for_reuse() in (True, False)
    assert keep_freed_memory_for_reuse() is keep_freed_memory_for_reuse()  # done once per process
    LoyaltyMarket("telecom", "balanced", 50, seed=1).run(2)


def test_a_selection_names_an_unknown_attribute():
    with pytest.raises(AttributeError, match="loyalty_points"):
        Selection(People.empty(3), np.array([0])).loyalty_points


def test_selection_of_reuses_a_selection_and_wraps_seat_numbers(people):
    chosen = Selection(people, np.array([2, 4]))
    assert Selection.of(people, chosen) is chosen
    np.testing.assert_array_equal(Selection.of(people, np.array([2, 4])).satisfaction, chosen.satisfaction)


def test_set_up_asks_for_no_huge_pages_and_puts_numpy_back_as_it_was():
    """`without_huge_pages` (a million-customer set-up a third quicker on a fragmented machine) is numpy's switch,
    off within the block and back to what it was after, even when the block fails."""
    multiarray = pytest.importorskip("numpy._core.multiarray")
    if not hasattr(multiarray, "_get_madvise_hugepage"):
        pytest.skip("this numpy has no huge-page switch")
    before = multiarray._get_madvise_hugepage()
    with without_huge_pages():
        assert multiarray._get_madvise_hugepage() is False
    assert multiarray._get_madvise_hugepage() == before
    with pytest.raises(RuntimeError), without_huge_pages():
        raise RuntimeError("set-up failed")
    assert multiarray._get_madvise_hugepage() == before
