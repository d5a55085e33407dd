"""The fast engine (simulations/kernel.py) against the readable rules: the same numbers in, the same month out."""

import copy
from dataclasses import fields

import numpy as np
import pytest

from simulations import LoyaltyMarket, kernel, metrics, rules
from simulations.kernel import DRAWS

MARKETS = {
    "one firm": dict(scenario="telecom", strategy="balanced"),
    "every lever high": dict(scenario="utility", strategy={"service_platinum": 1.0, "cross_sell": 1.0, "social_bond": 1.0,
                                                          "loyalty_programme": "membership_club", "reward_rate": 0.05}),
    "three rivals": dict(scenario="retail_bank", firms={"a": "balanced", "b": "neglect", "c": "bonding"}),
    "bonds deepening with tenure": dict(scenario="telecom", strategy="balanced", tenure_bonding=0.8),
    # a six-month term: in six months customers cross its end, the starting base and joiners alike
    "contracts with a term": dict(scenario="telecom", strategy="balanced", contract_lock_in=0.9, contract_months=6),
}


def predrawn(n, seed):
    """A table of random numbers for `n` customers, in the rows the kernel and `live_month` both read."""
    rng = np.random.default_rng(seed)
    return np.vstack([rng.standard_normal(n), rng.random((len(DRAWS) - 1, n))])


@pytest.mark.parametrize("market", MARKETS)
def test_the_kernel_lives_the_same_month_as_the_rules_on_the_same_draws(market):
    """Every customer's state, every exit and the month's books agree: integers exactly, money to float rounding."""
    start = LoyaltyMarket(n_customers=3000, seed=3, engine="numpy", **MARKETS[market]).run(6)
    by_rules, by_kernel = copy.deepcopy(start), copy.deepcopy(start)
    seats = np.flatnonzero(start.active_mask())
    draws = predrawn(len(seats), seed=11)
    for model in (by_rules, by_kernel):
        model.ledger.begin_month(np.zeros(len(model.firms)), model.active_by_firm())
    by_rules.live_month(seats, draws)
    kernel.live_month(by_kernel, draws)

    for field in fields(start.people):
        expected, got = getattr(by_rules.people, field.name), getattr(by_kernel.people, field.name)
        if expected.dtype.kind == "f":
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=field.name)
        else:
            np.testing.assert_array_equal(got, expected, err_msg=field.name)
    expected, got = by_rules.ledger.month, by_kernel.ledger.month
    for key in ("churned", "won", "lost", "complaints", "recovered"):
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
    for key in ("revenue", "cost", "profit_by_tier"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, err_msg=key)
    assert expected["churned"].sum() >= 10 and expected["complaints"] >= 10  # the month had exits and complaints to compare
    if market == "three rivals":
        assert expected["won"].sum() > 0  # and customers who moved to a rival


def test_the_census_counts_what_the_readable_record_counts():
    model = LoyaltyMarket("coffee_chain", firms={"a": "balanced", "b": "tiered"}, n_customers=3000, seed=4, engine="numpy").run(8)
    for expected, got in zip(metrics.census(model), kernel.census(model)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    fast = copy.deepcopy(model)
    fast.engine = "fast"
    readable, compiled = metrics.month_record(model), metrics.month_record(fast)
    assert readable.keys() == compiled.keys()
    for key, value in readable.items():
        assert compiled[key] == pytest.approx(value, rel=1e-12, nan_ok=True), key


def test_the_fast_engine_is_the_default_and_reproducible():
    runs = [LoyaltyMarket("telecom", "bonding", 600, seed=s).run(12).datacollector.get_model_vars_dataframe()
            for s in (5, 5, 6)]
    assert LoyaltyMarket(n_customers=50, seed=1).engine == "fast"
    assert runs[0].equals(runs[1]) and not runs[0].equals(runs[2])
    reference = LoyaltyMarket("telecom", "bonding", 600, seed=5, engine="numpy").run(12).datacollector.get_model_vars_dataframe()
    assert not runs[0].equals(reference)  # other draws, in another order: the same market, not the same numbers


def test_the_fast_engine_agrees_with_the_readable_one_over_seeds():
    """Paired seeds (the same starting market), 18 months: outcomes differ by no more than sampling noise."""
    outcomes = {"fast": [], "numpy": []}
    for seed in range(6):
        for engine in outcomes:
            model = LoyaltyMarket("telecom", "balanced", 1500, seed=100 + seed, engine=engine).run(18)
            df = model.datacollector.get_model_vars_dataframe()
            outcomes[engine].append([df["churned"].iloc[-1] / df["acquired"].iloc[-1], model.retention_12m(),
                                     df["mean_satisfaction"].iloc[-1], df["churned_competitor"].iloc[-1] / df["churned"].iloc[-1],
                                     df["profit"].sum() / 1e5])
    fast, reference = np.array(outcomes["fast"]), np.array(outcomes["numpy"])
    difference = fast - reference
    noise = difference.std(axis=0, ddof=1) / np.sqrt(len(difference))
    assert np.all(np.abs(difference.mean(axis=0)) < 4 * noise + 1e-3), (difference.mean(axis=0), noise)


@pytest.mark.parametrize("compiled", ["live_month_kernel", "census_kernel", "count_by_firm"])
def test_the_compiled_kernels_are_keyed_on_the_rules_source(compiled):
    """numba's cache would otherwise serve a kernel compiled from an older rules.py (its stages' codes, say)."""
    closed_over = [cell.cell_contents for cell in getattr(kernel, compiled).py_func.__closure__ or ()]
    assert kernel._source_hash() in closed_over
    assert kernel._source_hash() != kernel._source_hash_of(b"edited rules")



def test_the_rules_keep_to_what_compiles_fast_for_single_numbers():
    """np.where, np.select and np.clip do not compile for single numbers; np.asarray does, but makes an array each call
    (about 100 ns). Only the rules the kernels never call may use them."""
    import inspect
    never_in_a_kernel = {"choose_cause", "net_promoter_score", "survivor_proneness", "churn_proneness", "cost_per_contact",
                         "customer_lifetime_value"}
    offenders = [name for name, rule in inspect.getmembers(rules, inspect.isfunction)
                 if rule.__module__ == rules.__name__ and name not in never_in_a_kernel
                 and any(f"np.{call}(" in inspect.getsource(rule) for call in ("where", "select", "clip", "asarray"))]
    assert not offenders, f"rules to rewrite with arithmetic, np.minimum/np.maximum or rules.pick: {offenders}"


def test_a_month_in_which_more_leave_than_the_kernel_first_makes_room_for():
    model = LoyaltyMarket("telecom", "neglect", 40_000, seed=2, death_rate=0.05, move_rate=0.05).run(1)
    record = model._record
    assert record["churned"] > max(1024, len(model.people.stage) // 32)
    assert record["acquired"] == record["active"] + record["churned"]
