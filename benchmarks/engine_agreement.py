"""Does the fast engine give the same market as the readable one? Outcomes over paired seeds, side by side.

Run on demand:  .venv/bin/python benchmarks/engine_agreement.py [SEEDS [FIRST]]   (default 24 seeds from 1000)
The fast engine (`kernel.py`) draws fewer random numbers, in another order, than the readable reference
(`engine="numpy"`), so no run is the same number for number; the same seed gives both the same starting market
(paired seeds). For every market and outcome the table shows each engine's mean over the seeds, the mean paired
difference and that difference in standard errors (z); |z| below about 3 is sampling noise. Outcomes: monthly
churn (months 13-36), 12-month retention at month 36, mean satisfaction, each churn cause's share of all exits,
and profit over the 36 months.
"""

from __future__ import annotations

import argparse

import numpy as np

from simulations import LoyaltyMarket, rules

MARKETS = {
    "telecom, balanced": dict(scenario="telecom", strategy="balanced"),
    "retail bank, neglect": dict(scenario="retail_bank", strategy="neglect"),
    "coffee chain, tiered": dict(scenario="coffee_chain", strategy="tiered"),
    "utility, bonding": dict(scenario="utility", strategy="bonding"),
    "telecom, three rivals": dict(scenario="telecom", firms={"a": "balanced", "b": "neglect", "c": "bonding"}),
}
OUTCOMES = ("monthly churn", "retention 12m", "mean satisfaction", *(f"share {c}" for c in rules.CHURN_CAUSES), "profit (k)")


def outcomes(model) -> list[float]:
    df = model.datacollector.get_model_vars_dataframe()
    late = df.iloc[12:]
    monthly_churn = np.mean(np.diff(df["churned"].to_numpy())[12:] / late["active"].to_numpy()[:-1].clip(1)) \
        if len(late) > 1 else float("nan")
    exits = max(df["churned"].iloc[-1], 1)
    return [monthly_churn, model.retention_12m(), df["mean_satisfaction"].iloc[-1],
            *(df[f"churned_{c}"].iloc[-1] / exits for c in rules.CHURN_CAUSES), model.totals["profit"] / 1e3]


def compare(market: str, runs: dict) -> float:
    """Print each outcome's mean under two ways of running (runs: name -> seeds x OUTCOMES), their paired difference
    and that difference in standard errors; returns the largest |z|."""
    (name_a, a), (name_b, b) = runs.items()
    difference = a - b
    error = difference.std(axis=0, ddof=1) / np.sqrt(len(difference))
    z = np.divide(difference.mean(axis=0), error, out=np.zeros(len(OUTCOMES)), where=error > 0)
    print(f"\n{market}\n  {'outcome':22s} {name_a:>11s} {name_b:>11s} {'difference':>11s} {'z':>6s}")
    for k, name in enumerate(OUTCOMES):
        print(f"  {name:22s} {a[:, k].mean():11.4f} {b[:, k].mean():11.4f} {difference[:, k].mean():11.4f} {z[k]:6.2f}")
    return float(np.abs(z).max())


def main(seeds: int, first: int):
    print(f"{seeds} paired seeds from {first}, 2,000 customers, 36 months; fast engine against the readable reference (numpy)")
    worst = 0.0
    for market, settings in MARKETS.items():
        runs = {engine: np.array([outcomes(LoyaltyMarket(n_customers=2000, seed=first + s, engine=engine, **settings).run(36))
                                  for s in range(seeds)]) for engine in ("fast", "numpy")}
        worst = max(worst, compare(market, runs))
    tests = len(MARKETS) * len(OUTCOMES)
    print(f"\nlargest |z| over {tests} comparisons: {worst:.2f} (with {tests} comparisons, about 3 or less is noise)")


def whole_number(least: int):
    """An argparse type: a whole number of at least `least` (anything else: a message naming what is allowed, exit 2)."""
    def parse(text: str) -> int:
        if not text.strip().isdigit() or int(text) < least:
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: a whole number of at least {least}")
        return int(text)
    return parse


def seeds_from_command_line(description: str, first: int) -> tuple[int, int]:
    """(SEEDS, FIRST) from the command line, each optional: 24 paired seeds from `first` unless given."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("seeds", nargs="?", type=whole_number(2), default=24, help="paired seeds (default 24)")
    parser.add_argument("first", nargs="?", type=whole_number(0), default=first, help=f"the first seed (default {first})")
    arguments = parser.parse_args()
    return arguments.seeds, arguments.first


if __name__ == "__main__":
    main(*seeds_from_command_line(__doc__.splitlines()[0], 1000))
