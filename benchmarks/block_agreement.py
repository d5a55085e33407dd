"""Does a market lived in blocks of seats give the same market as one pass over the seats? Paired seeds, side by side.

Run on demand:  .venv/bin/python benchmarks/block_agreement.py [SEEDS [FIRST]]   (default 24 seeds from 2000)
A market of more than `blocks.BLOCK_SEATS` seats is lived in blocks, each block but the first drawing from a
generator of its own (`blocks.block_generators`), so its runs are new draws: no run is the same number for
number as one pass would give. Two comparisons, each over paired seeds (the same seed gives both the same
starting market):
- every market of `engine_agreement.py`, 2,000 customers for 36 months, in blocks of 1,000 seats (four blocks)
  against one pass;
- telecom at 100,000 customers for 24 months: its two blocks against one pass.
The table shows each way's mean over the seeds, the mean paired difference and that difference in standard
errors (z); |z| below about 3 is sampling noise.
"""

from __future__ import annotations

import numpy as np

from engine_agreement import MARKETS, OUTCOMES, compare, outcomes, seeds_from_command_line
from simulations import LoyaltyMarket, blocks

ONE_PASS = 2 ** 40  # seats in a block: every market is one block


def runs_in(block_seats: int, seeds: range, months: int, **market) -> np.ndarray:
    blocks.BLOCK_SEATS = block_seats
    return np.array([outcomes(LoyaltyMarket(seed=seed, **market).run(months)) for seed in seeds])


def main(n_seeds: int, first: int):
    seeds, worst, tests = range(first, first + n_seeds), 0.0, 0
    print(f"{n_seeds} paired seeds from {first}: blocks of seats against one pass over them")
    for market, settings in MARKETS.items():
        runs = {"blocks": runs_in(1000, seeds, 36, n_customers=2000, **settings),
                "one pass": runs_in(ONE_PASS, seeds, 36, n_customers=2000, **settings)}
        worst, tests = max(worst, compare(f"{market}, 2,000 customers, four blocks", runs)), tests + len(OUTCOMES)
    large = dict(scenario="telecom", strategy="balanced", n_customers=100_000)
    seeds = range(first, first + max(n_seeds * 2 // 3, 2))
    runs = {"blocks": runs_in(2 ** 17, seeds, 24, **large), "one pass": runs_in(ONE_PASS, seeds, 24, **large)}
    worst, tests = max(worst, compare(f"telecom, balanced, 100,000 customers, two blocks ({len(seeds)} seeds)", runs)), tests + len(OUTCOMES)
    print(f"\nlargest |z| over {tests} comparisons: {worst:.2f} (with {tests} comparisons, about 3 or less is noise)")


if __name__ == "__main__":
    main(*seeds_from_command_line(__doc__.splitlines()[0], 2000))
