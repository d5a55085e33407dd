"""Loyalty Lab's simulated market: customers who judge, bond, talk and leave (a Mesa 3 model).

    from simulations import LoyaltyMarket, Strategy
    model = LoyaltyMarket(scenario="telecom", strategy=Strategy(), n_customers=2000, seed=42)
    model.run(months=36)
    model.datacollector.get_model_vars_dataframe()
"""

from .errors import BadFile, InvalidParameter, LoyaltyLabError, UnknownField, UnknownScenario
from .model import LoyaltyMarket
from .scenarios import list_scenarios, load_scenario
from .strategy import PRESETS, Strategy

__all__ = ["LoyaltyMarket", "Strategy", "PRESETS", "load_scenario", "list_scenarios", "LoyaltyLabError",
           "InvalidParameter", "UnknownField", "UnknownScenario", "BadFile"]
