"""Rival firms in one market (issue 8): ledgers, fairness, competition, Jones & Sasser with real rivals."""

import numpy as np
import pandas as pd
import pytest

from simulations import LoyaltyMarket, Strategy
from simulations.errors import InvalidParameter
from simulations.metrics import retention_by_satisfaction
from simulations.population import NO_FIRM

FOUR = ("red", "blue", "green", "gold")


def rivals(strategies, n_customers=2000, seed=1, scenario="telecom", **overrides):
    return LoyaltyMarket(scenario, firms=dict(zip(FOUR, strategies)), n_customers=n_customers, seed=seed, **overrides)


@pytest.mark.parametrize("scenario", ["telecom", "coffee_chain", "retail_bank", "utility"])
def test_ledgers_balance_every_month_for_every_firm(scenario):
    model = rivals(["balanced", "neglect", Strategy(price_index=0.85), "bonding"], scenario=scenario, seed=3)
    for _ in range(18):
        model.step()
        p = model.people
        active = model.active_mask()
        assert np.all(p.firm[active] >= 0) and np.all(p.firm[active] < 4)  # each customer belongs to exactly one firm
        assert np.all(p.firm[~active] == NO_FIRM)  # and nobody else belongs to any
        r = model._record
        assert sum(r[f"won_from_rivals[{f}]"] for f in FOUR) == sum(r[f"lost_to_rivals[{f}]"] for f in FOUR)
        for firm in FOUR:
            assert r[f"acquired[{firm}]"] == r[f"active[{firm}]"] + r[f"churned[{firm}]"], (model.month, firm)
            assert r[f"lost_to_rivals[{firm}]"] <= r[f"churned[{firm}]"]
        assert r["acquired"] == r["active"] + r["churned"]
        assert sum(r[f"active[{f}]"] for f in FOUR) == r["active"]
    table = model.firm_table()
    assert list(table.columns) == ["firm", "active", "market_share", "profit", "revenue", "retention_12m",
                                   "mean_satisfaction", "nps", "won_from_rivals", "lost_to_rivals"]
    assert table["market_share"].sum() == pytest.approx(1.0)
    assert table["won_from_rivals"].sum() == table["lost_to_rivals"].sum() > 0


def test_identical_firms_get_equal_shares_whatever_their_name_or_place():
    """Measured over seeds 1-6 (4,000 customers, 24 months): shares within 1.4% of a quarter."""
    shares = []
    for seed in range(1, 7):
        model = rivals(["balanced"] * 4, n_customers=4000, seed=seed).run(24)
        shares.append(model.firm_table()["market_share"].to_numpy())
    mean = np.mean(shares, axis=0)
    assert np.all(np.abs(mean / 0.25 - 1) <= 0.10), mean


def test_a_caring_firm_wins_customers_from_a_neglectful_rival():
    for seed in (1, 2):
        model = LoyaltyMarket("telecom", firms={"neglect": "neglect", "care": Strategy(frontline_care=0.9, feedback_channel=0.8,
                                                                                       staying_in_touch=0.7)},
                              n_customers=2000, seed=seed).run(24)
        table = model.firm_table().set_index("firm")
        assert table.loc["care", "won_from_rivals"] > 5 * max(table.loc["neglect", "won_from_rivals"], 1)
        assert table.loc["neglect", "lost_to_rivals"] > table.loc["care", "lost_to_rivals"]
        assert table.loc["care", "market_share"] > 0.6


def test_a_lower_price_takes_share():
    for seed in (1, 2, 3):
        model = LoyaltyMarket("telecom", firms={"dear": "balanced", "cheap": Strategy(price_index=0.9)}, n_customers=2000,
                              seed=seed).run(24)
        table = model.firm_table().set_index("firm")
        assert table.loc["cheap", "market_share"] > table.loc["dear", "market_share"] + 0.05
        assert table.loc["cheap", "won_from_rivals"] > table.loc["dear", "won_from_rivals"]


@pytest.mark.slow
def test_jones_and_sasser_hold_with_real_rivals():
    """Four balanced firms, telecom, 20,000 customers, seeds 1-2. Measured at intensity 0.9: .32/.47/.58/.71/.94
    (a switch to a rival counts as a customer lost); at 0.05 the very dissatisfied keep .89."""
    def bands(intensity):
        frames = [retention_by_satisfaction(rivals(["balanced"] * 4, 20000, seed, competitive_intensity=intensity).run(24), 12)
                  .set_index("band")["retention"] for seed in (1, 2)]
        return pd.Series(np.mean(frames, axis=0), index=frames[0].index)
    competitive, monopoly = bands(0.9), bands(0.05)
    assert competitive["completely satisfied"] >= 0.90
    assert competitive["very dissatisfied"] <= 0.45
    assert competitive["completely satisfied"] - competitive["satisfied"] >= 0.10
    assert monopoly["very dissatisfied"] >= 0.85


def test_set_strategy_changes_a_firm_between_months_and_names_an_unknown_firm():
    model = rivals(["balanced"] * 4, n_customers=500).run(3)
    model.set_strategy("blue", {"price_index": 0.8})
    assert model.firm_book.strategies[1].price_index == 0.8 and model.strategy.price_index == 1.0
    model.run(2)
    with pytest.raises(ValueError, match="'purple'.*red, blue, green, gold"):
        model.set_strategy("purple", "balanced")
    assert model.firms == FOUR


@pytest.mark.parametrize("firms, field", [
    ({}, "firms"), ({f"f{i}": "balanced" for i in range(41)}, "firms"), ({"a": "balanced", "A": "balanced"}, "firms"),
    ({"": "balanced"}, "firms"), ({"a": "no_such_preset"}, "strategy"),
])
def test_bad_firms_are_refused_with_the_field_named(firms, field):
    with pytest.raises(ValueError, match=field):
        LoyaltyMarket("telecom", firms=firms, n_customers=100)


def test_one_firm_market_keeps_its_form():
    single = LoyaltyMarket("telecom", "balanced", 300, seed=4).run(6)
    assert single.firms == ("firm",) and not any("[" in column for column in single._record)
    with pytest.raises(InvalidParameter, match="either strategy"):
        LoyaltyMarket("telecom", "balanced", 300, firms={"a": "balanced"})


def test_same_seed_same_rival_market():
    frames = [rivals(["balanced", "neglect", "tiered", "bonding"], 500, seed=8).run(12).datacollector.get_model_vars_dataframe()
              for _ in range(2)]
    pd.testing.assert_frame_equal(*frames)
