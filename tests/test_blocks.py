"""A large market's month, lived in blocks of seats side by side (simulations/blocks.py).

The blocks are made small here (blocks.BLOCK_SEATS), so that a market of a few thousand customers has several.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields

import numpy as np
import pytest

from simulations import LoyaltyMarket, blocks, kernel, metrics
from simulations.errors import InvalidParameter
from simulations.population import small_world_network

RIVALS = dict(scenario="retail_bank", firms={"a": "balanced", "b": "neglect", "c": "bonding"})


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_SEATS", 1000)


def people_of(model) -> dict:
    return {field.name: getattr(model.people, field.name).copy() for field in fields(model.people)}


def assert_same_run(a, b):
    np.testing.assert_array_equal(a.neighbours, b.neighbours)
    for name, column in people_of(a).items():
        np.testing.assert_array_equal(column, getattr(b.people, name), err_msg=name)
    record_a, record_b = a.datacollector.get_model_vars_dataframe(), b.datacollector.get_model_vars_dataframe()
    assert record_a.equals(record_b)


@pytest.mark.parametrize("n_seats", [1, 999, 1000, 1001, 4000, 4321])
def test_the_blocks_cover_every_seat_once_in_order_and_are_of_about_one_size(small_blocks, n_seats):
    cuts = blocks.block_bounds(n_seats)
    sizes = np.diff(cuts)
    assert cuts[0] == 0 and cuts[-1] == n_seats
    assert (sizes > 0).all() and sizes.max() <= 1000 and sizes.max() - sizes.min() <= 1
    assert len(sizes) == -(-n_seats // 1000)


def test_a_market_of_one_block_is_lived_in_one_pass_on_the_models_own_generator():
    model = LoyaltyMarket("telecom", "balanced", n_customers=2000, seed=3)
    assert blocks.block_bounds(len(model.people.stage)) == [0, len(model.people.stage)]
    state = model.rng.bit_generator.state
    assert blocks.block_generators(model.rng, 1) == [model.rng]
    assert model.rng.bit_generator.state == state  # nothing drawn for generators of other blocks


@pytest.mark.parametrize("threads", ["2", "3"])
def test_a_run_is_the_same_whatever_the_number_of_threads_that_live_its_blocks(small_blocks, monkeypatch, threads):
    runs = []
    for count in ("1", threads):
        monkeypatch.setenv("LOYALTY_LAB_THREADS", count)
        runs.append(LoyaltyMarket(n_customers=2000, seed=5, **RIVALS).run(6))
    assert len(blocks.block_bounds(len(runs[0].people.stage))) > 2
    assert_same_run(*runs)


def test_blocks_draw_numbers_of_their_own_and_the_same_seed_gives_the_same_run(small_blocks, monkeypatch):
    in_blocks = [LoyaltyMarket("telecom", "balanced", n_customers=2000, seed=7).run(4) for _ in range(2)]
    assert_same_run(*in_blocks)
    monkeypatch.setattr(blocks, "BLOCK_SEATS", 2 ** 17)
    in_one_pass = LoyaltyMarket("telecom", "balanced", n_customers=2000, seed=7).run(4)
    assert not np.array_equal(in_one_pass.people.satisfaction, in_blocks[0].people.satisfaction)


def test_a_network_rewired_block_by_block_has_its_long_ties_in_every_block(small_blocks):
    rewired = small_world_network(np.random.default_rng(0), 20_000, 6, 0.25)
    lattice = small_world_network(np.random.default_rng(0), 20_000, 6, 0.0)
    changed = (rewired != lattice).reshape(20, -1).mean(axis=1)  # by block of 1,000 people
    assert ((0.22 < changed) & (changed < 0.28)).all()  # a quarter redrawn in each block (6,000 ties: sd 0.006)
    assert rewired.min() >= 0 and rewired.max() < 20_000
    long_ties = np.abs(rewired.astype(np.int64) - np.arange(20_000)[:, None])
    assert (long_ties[:1000] > 1000).mean() > 0.2  # a block's people reach across the whole market, not only their block


def test_starting_customers_drawn_block_by_block_keep_their_history(small_blocks):
    """The starting base's history (tenure, products, rung), drawn in blocks of 1,000 customers."""
    model = LoyaltyMarket("telecom", "balanced", n_customers=4000, seed=4)
    active = model.active_mask()
    tenure, products = model.people.tenure[active], model.people.products[active]
    assert 20 < tenure.mean() < 27  # geometric, mean 23 months
    assert products[tenure >= 30].mean() > products[tenure < 6].mean()


def test_the_census_of_blocks_counts_what_the_readable_record_counts(small_blocks):
    model = LoyaltyMarket(n_customers=2000, seed=2, **RIVALS).run(3)
    expected, got = metrics.census(model), kernel.census(model)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)  # sums: added block by block
    np.testing.assert_allclose(got[-1], expected[-1], rtol=1e-12)  # satisfaction by firm
    for counted_by_rules, counted_by_blocks in zip(expected[1:-1], got[1:-1]):
        np.testing.assert_array_equal(counted_by_blocks, counted_by_rules)


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_is_refused_with_the_setting_named(monkeypatch, value):
    monkeypatch.setenv("LOYALTY_LAB_THREADS", value)
    with pytest.raises(InvalidParameter) as refused:
        blocks.threads()
    assert refused.value.field == "LOYALTY_LAB_THREADS" and refused.value.value == value


def _satisfaction_after_two_months(block_seats: int) -> np.ndarray:
    blocks.BLOCK_SEATS = block_seats
    return LoyaltyMarket("telecom", "balanced", n_customers=2000, seed=9).run(2).people.satisfaction


def test_a_forked_process_lives_blocks_on_threads_of_its_own(small_blocks, monkeypatch):
    """A child forked after the parent's pool started (Dask and multiprocessing do this) must not wait on threads
    that exist only in the parent."""
    monkeypatch.setenv("LOYALTY_LAB_THREADS", "2")
    here = _satisfaction_after_two_months(1000)  # the parent's pool exists now
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as child:
        there = child.submit(_satisfaction_after_two_months, 1000).result(timeout=120)
    np.testing.assert_array_equal(there, here)
