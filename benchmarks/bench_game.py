"""Rival firms and rounds (issue 8), measured side by side. Run on demand:  .venv/bin/python benchmarks/bench_game.py

- speed: the same market (telecom, 20,000 customers, 24 months) with 1 firm and with 8 firms (target: 8 firms
  cost at most twice one firm);
- a round of a game for 8 teams at 2,000 and at 20,000 customers (6 months a round), and the replay of a
  saved game (what `loyalty-lab game play` and the classroom do before each round).
"""

from __future__ import annotations

import statistics
import time

from simulations import LoyaltyMarket, Strategy
from simulations.game import Game, GameSettings

TEAMS = {f"team{i}": Strategy(price_index=0.9 + 0.03 * i, frontline_care=0.3 + 0.08 * i) for i in range(8)}


def timed(make, repeats=3):
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        make(seed)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    one = timed(lambda seed: LoyaltyMarket("telecom", firms={"only": "balanced"}, n_customers=20000, seed=seed).run(24))
    eight = timed(lambda seed: LoyaltyMarket("telecom", firms={f"f{i}": "balanced" for i in range(8)}, n_customers=20000,
                                             seed=seed).run(24))
    single = timed(lambda seed: LoyaltyMarket("telecom", "balanced", 20000, seed=seed).run(24))
    print(f"20,000 customers x 24 months: one-firm form {single:.2f} s, 1 firm (firms=) {one:.2f} s, 8 firms {eight:.2f} s; "
          f"8 firms / 1 firm = {eight / one:.2f}  (target <= 2)")
    for customers in (2000, 20000):
        game = Game(GameSettings("telecom", rounds=4, months_per_round=6, n_customers=customers, seed=1))
        rounds = []
        for _ in range(4):
            start = time.perf_counter()
            game.play_round(TEAMS)
            rounds.append(time.perf_counter() - start)
        start = time.perf_counter()
        Game.from_record(game.to_record())
        replay = time.perf_counter() - start
        print(f"8 teams, {customers:,} customers, 6 months a round: a round takes {statistics.median(rounds):.2f} s "
              f"(median of 4); replaying the 4 saved rounds {replay:.2f} s")


if __name__ == "__main__":
    main()
