"""Speed and memory of the simulated market, against a toy Mesa model measured in the same run.

Run on demand (never as a timed test):  .venv/bin/python benchmarks/bench_model.py
Targets (issue 2): the full model at least a third of the toy's customer-months per second;
2,000 customers over 36 months in under half a second (so a slider feels live).
Targets (issue 7), run with --scale: at 100,000 customers at least 0.10 of a bare numpy loop's
customer-months per second, timed side by side; at 1,000,000 customers at most 1 KB per customer
(peak traced memory of set-up and a month); set-up no slower than two months of running.
--scale also times the model's own random draws from inside the model (`TimedGenerator`): no
implementation that makes the same draws can be faster than they are, so they bound both ratios. It runs the
readable engine (engine="numpy"): the compiled kernel of the fast engine reads numpy's Generator itself and
cannot take a wrapper; benchmarks/bench_speed.py times the fast engine against issue 16's targets.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from unittest import mock

import mesa
import numpy as np

from simulations import LoyaltyMarket


class ToyCustomer(mesa.Agent):
    """One random update a month: the least a Mesa agent can do."""

    def __init__(self, model):
        super().__init__(model)
        self.satisfaction = 0.5

    def step(self):
        self.satisfaction = 0.9 * self.satisfaction + 0.1 * self.random.random()


class ToyMarket(mesa.Model):
    def __init__(self, n_customers=2000, seed=None):
        super().__init__(seed=seed)
        ToyCustomer.create_agents(self, n_customers)

    def step(self):
        self.agents.shuffle_do("step")


def timed(make, months, repeats=3):
    """Median (init seconds, run seconds) over `repeats` fresh models."""
    inits, runs = [], []
    for seed in range(repeats):
        start = time.perf_counter()
        model = make(seed)
        built = time.perf_counter()
        for _ in range(months):
            model.step()
        inits.append(built - start)
        runs.append(time.perf_counter() - built)
    return statistics.median(inits), statistics.median(runs)


def peak_memory_mb(make, months):
    tracemalloc.start()
    model = make(0)
    for _ in range(months):
        model.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def bare_numpy_speed(n, months):
    """Customer-months per second of the least a vectorised model can do: one random update per customer per month."""
    rng = np.random.default_rng(0)
    satisfaction = np.full(n, 0.5)
    start = time.perf_counter()
    for _ in range(months):
        satisfaction = 0.9 * satisfaction + 0.1 * rng.random(n)
    return n * months / (time.perf_counter() - start)


class TimedGenerator:
    """A model's random generator that keeps count of the seconds spent drawing (same draws, same order)."""

    def __init__(self, rng):
        self._rng, self.seconds = rng, 0.0

    def __getattr__(self, name):
        attribute = getattr(self._rng, name)
        if not callable(attribute):
            return attribute

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return timed


def setup_against_months(n, months, repeats=3):
    """Medians over `repeats` seeds for `n` customers: (set-up s, a month's s, set-up's draws s, a month's draws s).

    The draws are timed inside the model (its generator counts its own time), so their share is a floor
    under what any implementation of the same model, making the same draws, could reach. The readable engine:
    the fast engine's compiled kernel takes only a real Generator.
    """
    rows = []
    for seed in range(1, repeats + 1):
        with mock.patch("numpy.random.default_rng", lambda seed=None, make=np.random.default_rng: TimedGenerator(make(seed))):
            start = time.perf_counter()
            model = LoyaltyMarket("telecom", "balanced", n, seed=seed, engine="numpy")
            setup = time.perf_counter() - start
        setup_draws, model.rng.seconds = model.rng.seconds, 0.0
        start = time.perf_counter()
        model.run(months)
        rows.append((setup, (time.perf_counter() - start) / months, setup_draws, model.rng.seconds / months))
    return tuple(statistics.median(column) for column in zip(*rows))


def scale():
    LoyaltyMarket("telecom", "balanced", 1000, seed=0, engine="numpy").run(2)  # one-time costs (lazy imports) are not set-up
    n, months = 100_000, 24
    setup, month, _, month_draws = setup_against_months(n, months)
    full, bare, ceiling = n / month, bare_numpy_speed(n, months), n / month_draws
    print("The readable engine (engine=\"numpy\"), its draws timed from inside; the fast engine: bench_speed.py")
    print(f"100,000 customers (median of 3): set-up {setup:.3f} s, a month {month:.4f} s, of which random draws {month_draws:.4f} s")
    print(f"  full model {full:,.0f} customer-months/s, bare numpy loop {bare:,.0f}: ratio {full / bare:.3f}  (target >= 0.10)")
    print(f"  the model's random draws alone would run {ceiling:,.0f} customer-months/s: ratio {ceiling / bare:.3f}, "
          "a ceiling for any implementation making the same draws")
    print("set-up / two months of running  (target <= 1); in brackets, the same for the random draws alone:")
    for n, months, repeats in ((2_000, 36, 5), (20_000, 24, 3), (100_000, 24, 3), (1_000_000, 4, 2)):
        setup, month, setup_draws, month_draws = setup_against_months(n, months, repeats)
        print(f"  {n:>9,} customers: set-up {setup:.4f} s, two months {2 * month:.4f} s: {setup / (2 * month):.2f}  "
              f"(draws {setup_draws:.4f} s against {2 * month_draws:.4f} s)")
    n = 1_000_000
    tracemalloc.start()
    model = LoyaltyMarket("telecom", "balanced", n, seed=1, engine="numpy").run(1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"1,000,000 customers: peak traced memory {peak / 2**20:,.0f} MB = {peak / n:,.0f} bytes per customer  (target <= 1024)")


def main():
    if "--scale" in sys.argv:
        scale()
        return
    print(f"{'model':8s} {'customers':>9s} {'months':>6s} {'init s':>8s} {'run s':>8s} {'customer-months/s':>18s} {'peak MB':>8s}")
    speeds = {}
    for n, months in ((2000, 60), (10000, 60), (2000, 36)):
        for name, make in (("full", lambda seed, n=n: LoyaltyMarket("telecom", "balanced", n, seed=seed)),
                           ("toy", lambda seed, n=n: ToyMarket(n, seed=seed))):
            init, run = timed(make, months)
            speed = n * months / run
            speeds[name, n, months] = (speed, init + run)
            print(f"{name:8s} {n:9d} {months:6d} {init:8.3f} {run:8.3f} {speed:18,.0f} {peak_memory_mb(make, months):8.1f}")
    for n in (2000, 10000):
        ratio = speeds["full", n, 60][0] / speeds["toy", n, 60][0]
        print(f"full / toy speed at {n} customers: {ratio:.2f}  (target >= 0.33)")
    print(f"2,000 customers x 36 months, init + run: {speeds['full', 2000, 36][1]:.3f} s  (target < 0.5 s)")


if __name__ == "__main__":
    main()
