"""The stylized facts of DESIGN.md, each held over several seeds.

Thresholds sit well inside what the model shows (measured with benchmarks/calibration_report.py and
recorded in each test's docstring) yet far enough from 'no effect' that a broken rule fails them.
Fact 6 (ledger, probabilities in [0, 1], same seed same run) is held in test_model.py.
"""

import numpy as np
import pytest

from simulations import LoyaltyMarket, Strategy
from simulations.metrics import retention_by_satisfaction, top_share, whale_curve

SEEDS = (11, 12, 13)
COMPETITIVE_MARKETS = ("telecom", "retail_bank", "coffee_chain")
BONDS = dict(loyalty_programme="standalone_points", reward_rate=0.03, social_bond=0.7, customization_bond=0.7,
             structural_bond=0.7, cross_sell=0.7)
POOR_SERVICE = Strategy(product_quality=0.4, frontline_care=0.3, service_platinum=0.35, service_gold=0.35,
                        service_iron=0.35, service_lead=0.35)


def mean_band_retention(competitive_intensity):
    """Retention a year on by satisfaction band, averaged over SEEDS (telecom, balanced strategy)."""
    frames = []
    for seed in SEEDS:
        model = LoyaltyMarket("telecom", "balanced", 2000, seed=seed, competitive_intensity=competitive_intensity).run(24)
        frames.append(retention_by_satisfaction(model, 12).set_index("band")["retention"])
    return np.mean(frames, axis=0), frames[0].index.tolist()


@pytest.mark.slow
def test_fact1_satisfaction_retention_is_nonlinear_and_competition_moderates_it():
    """Measured: at intensity 0.9 bands keep about .72/.73/.77/.84/.90; at 0.05 about .9 for every band."""
    competitive, bands = mean_band_retention(0.9)
    monopoly, _ = mean_band_retention(0.05)
    top, middle, bottom = bands.index("completely satisfied"), bands.index("neutral"), bands.index("very dissatisfied")
    # high competition: the top band keeps customers far better than the middle band
    assert competitive[top] - competitive[middle] >= 0.07
    assert competitive[top] - competitive[bottom] >= 0.12
    # the gain is concentrated at the top: the upper step beats the step across the lower bands
    assert competitive[top] - competitive[middle] > competitive[middle] - competitive[bottom]
    # monopoly: even the dissatisfied stay (hostages), and satisfaction hardly matters
    assert monopoly.min() >= 0.8
    assert monopoly.max() - monopoly.min() <= 0.08
    assert (competitive.max() - competitive.min()) > 2 * (monopoly.max() - monopoly.min())


@pytest.mark.slow
@pytest.mark.parametrize("scenario", COMPETITIVE_MARKETS)
def test_fact2_under_neglect_indifference_is_the_largest_churn_cause(scenario):
    """Measured: indifference is 0.42-0.61 of all exits under neglect; the next cause (competitor) 0.18-0.38."""
    for seed in SEEDS:
        churned = LoyaltyMarket(scenario, "neglect", 2000, seed=seed).run(36).summary()["churned"]
        assert max(churned, key=churned.get) == "indifference", (seed, churned)
    cared_for = LoyaltyMarket(scenario, "balanced", 2000, seed=SEEDS[0]).run(36).summary()["churned"]
    assert max(cared_for, key=cared_for.get) != "indifference"  # it is neglect, not the model, that makes it first


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["telecom", "retail_bank", "coffee_chain", "utility"])
def test_fact3_profit_is_concentrated_and_lead_loses_money(scenario):
    """Measured: the top fifth earn 0.75-1.22 of all profit, Lead sums to a loss, the whale curve peaks at 1.2-1.4."""
    for seed in SEEDS[:2]:
        table = LoyaltyMarket(scenario, "balanced", 2000, seed=seed).run(36).customer_table()
        assert top_share(table["monthly_profit"], 0.2) > 0.6
        assert table.loc[table["tier"] == "lead", "monthly_profit"].sum() < 0
        assert whale_curve(table["monthly_profit"])["share_of_profit"].max() > 1.1


@pytest.mark.slow
@pytest.mark.parametrize("scenario", COMPETITIVE_MARKETS)
def test_fact4_bonds_cut_churn_and_with_poor_service_make_hostages(scenario):
    """Measured (poor service, 36 months): retention +0.07 to +0.18 with bonds; hostage share +0.08 to +0.70."""
    for seed in SEEDS[:2]:
        plain = LoyaltyMarket(scenario, POOR_SERVICE, 2000, seed=seed).run(36)
        bonded = LoyaltyMarket(scenario, POOR_SERVICE.replace(**BONDS), 2000, seed=seed).run(36)
        assert bonded.summary()["retention_12m"] > plain.summary()["retention_12m"] + 0.04
        hostage_share = [m._record["quadrant_hostage"] / m._record["active"] for m in (plain, bonded)]
        assert hostage_share[1] > hostage_share[0] + 0.05
        balanced = LoyaltyMarket(scenario, "balanced", 2000, seed=seed).run(36)
        with_bonds = LoyaltyMarket(scenario, Strategy().replace(**BONDS), 2000, seed=seed).run(36)
        assert with_bonds.summary()["retention_12m"] > balanced.summary()["retention_12m"]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["telecom", "coffee_chain"])
def test_fact5_a_few_points_of_retention_raise_long_run_profit_far_more(scenario):
    """Reichheld & Sasser (1990). Measured over ten years: +3 to +6 points of retention, +25% to +92% profit.

    Rivals' lure and indifference are made 30% weaker, everything else (costs, strategy) equal.
    The retail bank is left out: there the same change moves retention by only about 1.5 points.
    """
    retention_gain, profit_gain = [], []
    for seed in SEEDS:
        base = LoyaltyMarket(scenario, "balanced", 2000, seed=seed)
        better = LoyaltyMarket(scenario, "balanced", 2000, seed=seed, lure_rate=base.scenario["lure_rate"] * 0.7,
                               indifference_rate=base.scenario["indifference_rate"] * 0.7)
        retention = [m.run(120).datacollector.get_model_vars_dataframe()["retention_12m"].iloc[12:].mean() for m in (base, better)]
        retention_gain.append(retention[1] - retention[0])
        profit_gain.append(better.summary()["profit"] / base.summary()["profit"] - 1)
    assert 0.02 <= np.mean(retention_gain) <= 0.08  # 'a few points'
    assert np.mean(profit_gain) >= 0.2
    assert np.mean(profit_gain) >= 3 * np.mean(retention_gain) / 0.8  # far more than the relative retention gain
