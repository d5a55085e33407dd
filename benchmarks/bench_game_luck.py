"""Benchmark: how much luck ranks a classroom game's teams, by market size (issue 19: the default market's size).

    .venv/bin/python benchmarks/bench_game_luck.py                  # 2,000 to 50,000 customers, 12 seeds each
    .venv/bin/python benchmarks/bench_game_luck.py --sizes 2000,20000 --seeds 4

Six teams with six different, fixed strategies (the four presets and two variations) play the same 3-round game
(6 months a round) on several seeds. If the market is large enough, the same strategies come out in nearly the same
order whatever the seed: the script prints, for each size, the mean Spearman rank correlation of the final standings
(by score) over every pair of seeds, its lowest pair, and the seconds a game takes. Luck (the seed) should not rank
teams: the issue asks for a correlation of at least 0.85 at the default size (simulations.game.DEFAULT_CUSTOMERS).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simulations.game import Game, GameSettings  # noqa: E402

TEAMS = {
    "balanced": "balanced", "neglect": "neglect", "tiered": "tiered", "bonding": "bonding",
    "cheap": {"price_index": 0.85, "acquisition_budget": 0.7},
    "caring": {"frontline_care": 0.9, "feedback_channel": 0.8, "price_index": 1.05},
}


def ranks(size: int, seed: int) -> tuple[list[int], float]:
    """The teams' final ranks (in TEAMS order) after a 3-round game on `seed`, and the game's seconds."""
    start = time.perf_counter()
    game = Game(GameSettings("telecom", 3, 6, size, seed), teams=list(TEAMS))
    for _ in range(3):
        game.play_round(dict(TEAMS))
    standings = game.standings().set_index("team")
    return [int(standings.loc[team, "rank"]) for team in TEAMS], time.perf_counter() - start


def spearman(a: list[int], b: list[int]) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000,30000,50000", help="market sizes (customers)")
    parser.add_argument("--seeds", type=int, default=12, help="seeds per size (default 12)")
    args = parser.parse_args(argv)
    print(f"{len(TEAMS)} teams, fixed strategies, 3 rounds of 6 months on telecom, {args.seeds} seeds per size:")
    print(f"  {'customers':>9}  {'mean rank correlation':>21}  {'lowest pair':>11}  {'seconds a game':>14}")
    for size in (int(n) for n in args.sizes.split(",")):
        runs = [ranks(size, seed) for seed in range(1, args.seeds + 1)]
        pairs = [spearman(a, b) for (a, _), (b, _) in itertools.combinations(runs, 2)]
        print(f"  {size:>9,}  {statistics.mean(pairs):>21.2f}  {min(pairs):>11.2f}  "
              f"{statistics.median(t for _, t in runs):>14.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
