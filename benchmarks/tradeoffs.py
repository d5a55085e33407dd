"""Is there an easy answer? A broad random sample of strategies played in every market (issue 16's goals).

Run on demand: .venv/bin/python benchmarks/tradeoffs.py [--random 200] [--seeds 1,2] [--workers 2]

Prints each market's best strategy and profit, the most robust strategy and its worst shortfall, how many
different strategies are best somewhere, and the maximal plan's shortfall in each market, then whether
the three goals hold: no strategy within 15% of the best everywhere; the markets' bests differ; the
maximal plan gives up at least a quarter of the best profit in every market.
"""

import argparse
import time

from simulations import tradeoffs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=200, help="random strategies (default 200)")
    parser.add_argument("--sample-seed", type=int, default=2024, help="seed of the strategy sample")
    parser.add_argument("--seeds", default="1,2", help="market seeds, comma-separated (default 1,2)")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))

    start = time.perf_counter()
    strategies = tradeoffs.candidate_strategies(args.random, seed=args.sample_seed)
    table = tradeoffs.profit_table(strategies, seeds=seeds, n_customers=args.customers, months=args.months,
                                   workers=args.workers, progress=True)
    summary = tradeoffs.summarise(table)
    print(f"{len(strategies)} strategies x {table.shape[1]} markets x {len(seeds)} seeds in "
          f"{time.perf_counter() - start:.0f} s ({args.customers} customers, {args.months} months)\n")
    for market, best in summary["best"].items():
        print(f"{market:13s} best {best:28s} profit {summary['best_profit'][market]:12,.0f}   "
              f"maximal plan gives up {100 * summary['maximal_shortfall'][market]:6.0f}%")
    worst = tradeoffs.shortfalls(table).loc[summary["robust"]]
    print(f"\nmost robust: {summary['robust']} (worst shortfall {100 * summary['robust_worst_shortfall']:.0f}% in "
          f"{worst.idxmax()}); distinct bests: {summary['distinct_bests']}")
    goals = {
        "no strategy within 15% of the best in every market": summary["robust_worst_shortfall"] >= 0.15,
        "the markets' best strategies differ": summary["distinct_bests"] >= 2,
        "the maximal plan gives up >= 25% in every market": summary["maximal_min_shortfall"] >= 0.25,
    }
    for goal, met in goals.items():
        print(f"  {'met' if met else 'NOT MET':7s} {goal}")


if __name__ == "__main__":
    main()
