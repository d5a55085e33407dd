"""Is there an easy answer? Many strategies played in every market, and how far each falls short of the best.

A business game teaches only if no plan wins everywhere and pushing every lever to the top is not the
answer. This module samples strategies over every lever's allowed range, plays each in every market on
the same seeds, and measures:

- each market's best strategy (the most profit found);
- each strategy's shortfall in a market: how much of that market's best profit it gives up,
  `(best - profit) / |best|`;
- the most robust strategy: the one whose worst shortfall over the markets is smallest;
- the maximal plan (every lever at its maximum) and its shortfall in each market.

The capstone chapter, `benchmarks/tradeoffs.py` and the tests read these numbers from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .parameters import LEVERS, PROGRAMME_KINDS
from .result_cache import is_seed, remembered
from .scenarios import list_scenarios, load_scenario
from .strategy import PRESETS, Strategy
from .workshop import run_many

MAXIMAL = "maximal"


def random_strategies(n: int, seed: int) -> dict[str, Strategy]:
    """`n` strategies with every lever drawn uniformly over its allowed range (the programme kind at random too).

    Values are rounded to each lever's step, as a learner would set them. Named `random_1` ... `random_n`.
    """
    rng = np.random.default_rng(seed)
    strategies = {}
    for i in range(1, n + 1):
        levers = {}
        for lever in LEVERS:
            if lever.choices:
                levers[lever.name] = lever.choices[rng.integers(len(lever.choices))]
            else:
                steps = round((lever.max - lever.min) / lever.step)
                levers[lever.name] = round(lever.min + lever.step * rng.integers(steps + 1), 6)
        strategies[f"random_{i}"] = Strategy(**levers)
    return strategies


def maximal_strategies() -> dict[str, Strategy]:
    """Every numeric lever at its maximum, once with each kind of loyalty programme (`maximal:<programme>`)."""
    top = {lever.name: lever.max for lever in LEVERS if not lever.choices}
    return {f"{MAXIMAL}:{kind}": Strategy(**top, loyalty_programme=kind) for kind in PROGRAMME_KINDS}


def candidate_strategies(n_random: int = 48, seed: int = 2024) -> dict[str, Strategy]:
    """The four presets, the maximal plans and `n_random` random strategies."""
    return {**{name: Strategy.preset(name) for name in PRESETS}, **maximal_strategies(),
            **random_strategies(n_random, seed)}


def profit_table(strategies: dict[str, Strategy], markets=None, seeds=(1, 2), n_customers: int = 2000,
                 months: int = 36, workers: int = 1, progress: bool = False) -> pd.DataFrame:
    """Mean profit over `seeds` of every strategy (rows) in every market (columns), each on the same customers."""
    markets = list(markets or list_scenarios())
    tasks = [dict(scenario=market, strategy=strategy, n_customers=n_customers, months=months, seed=seed)
             for name, strategy in strategies.items() for market in markets for seed in seeds]

    def play_them_all():
        results = run_many(tasks, workers=workers, progress=progress, desc="strategies x markets")
        return [float(r["profit"]) for r in results]

    if all(is_seed(s) for s in seeds):  # the same seeded runs give the same profits: kept when the cache is on
        asked = dict(strategies=[Strategy.coerce(s).as_dict() for s in strategies.values()],
                     markets=[load_scenario(m) for m in markets], seeds=[int(s) for s in seeds],
                     n_customers=int(n_customers), months=int(months))
        profits = remembered("profit_table", asked, play_them_all)
    else:
        profits = play_them_all()
    profit = np.array(profits, float).reshape(len(strategies), len(markets), len(seeds))
    return pd.DataFrame(profit.mean(axis=2), index=list(strategies), columns=markets)


def shortfalls(table: pd.DataFrame) -> pd.DataFrame:
    """The share of each market's best profit that each strategy gives up (0 for the best, 1 for zero profit)."""
    best = table.max(axis=0)
    return (best - table) / best.abs()


def summarise(table: pd.DataFrame) -> dict:
    """The headline numbers: each market's best, the most robust strategy, the maximal plan's shortfall.

    Returns:
        dict with `best` (market -> strategy name), `best_profit` (market -> profit), `robust` (the name
        of the strategy whose worst shortfall is smallest), `robust_worst_shortfall`, `distinct_bests`
        (how many different strategies are best somewhere), `maximal_shortfall` (market -> the shortfall
        of the best of the maximal plans there) and `maximal_min_shortfall` (its smallest over markets).
    """
    gap = shortfalls(table)
    worst = gap.max(axis=1)
    maximal = gap.loc[[name for name in gap.index if name.startswith(MAXIMAL)]].min(axis=0)
    return {
        "best": table.idxmax(axis=0).to_dict(),
        "best_profit": table.max(axis=0).to_dict(),
        "robust": worst.idxmin(),
        "robust_worst_shortfall": float(worst.min()),
        "distinct_bests": int(table.idxmax(axis=0).nunique()),
        "maximal_shortfall": maximal.to_dict(),
        "maximal_min_shortfall": float(maximal.min()),
    }
