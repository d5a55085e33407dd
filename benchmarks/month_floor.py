"""What a month at 100,000 customers costs at the least on one core: the per-core target against the rules' own cost.

Run on demand (never as a timed test):  .venv/bin/python benchmarks/month_floor.py  [--repeats N]
One thread's month (LOYALTY_LAB_THREADS=1) is split into what it is made of, each part measured in the same run as
`bench_speed.py`'s bare loop, the parts and the loop taking turns:
- the phases outside the kernel: word of mouth, acquisition and its new customers' risks, moving on, tier reviews,
  the monthly record (the month's time less the kernel's);
- the kernel (`kernel.live_month_kernel`), and the same kernel replaying a month on a table of pre-drawn numbers:
  the difference is what drawing the month's random numbers costs;
- the rules' exponentials and logarithms alone: `transaction_satisfaction` (an exp) and `rival_preference` (a log and
  an exp) for every customer, in a compiled loop over the same customers and nothing else.
If the kernel's arithmetic, branches and memory cost nothing, a month would still take the phases outside it, its
draws and its exp and log calls. The ratio of the bare loop to that sum is the most any kernel of these rules, drawing
these numbers, could reach on one core. A speed-up that stays bit for bit the same run (issue 16, part 5) has to
draw the same numbers in the same order and call the same functions, so this bound holds for it.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import bare_loop_seconds, threads  # noqa: E402
from engine_agreement import whole_number  # noqa: E402

from simulations import LoyaltyMarket, kernel, rules  # noqa: E402
from simulations.model import DRAWS  # noqa: E402

N_CUSTOMERS = 100_000


@njit  # not cached: compiled afresh, so an edited rule is never timed from a stale cache
def exp_and_log_only(stage, satisfaction, expectation, rival_value):
    """The rules' three exp and log calls for every customer, and nothing else the kernel does."""
    total = 0.0
    for seat in range(len(stage)):
        if rules.FIRST_TIME <= stage[seat] <= rules.ADVOCATE:
            total += rules.transaction_satisfaction(satisfaction[seat], expectation[seat])
            total += rules.rival_preference(satisfaction[seat], expectation[seat], rival_value)
    return total


class KernelClock:
    """Seconds spent in the compiled kernel, summed over the calls made while it is installed."""

    def __init__(self):
        self.seconds, self._kernel = 0.0, kernel.live_month_kernel

    def __enter__(self):
        def timed(*args):
            start = time.perf_counter()
            out = self._kernel(*args)
            self.seconds += time.perf_counter() - start
            return out
        kernel.live_month_kernel = timed
        return self

    def __exit__(self, *_):
        kernel.live_month_kernel = self._kernel


def one_month(market) -> tuple[float, float]:
    """(the month's seconds, the kernel's seconds) of a copy of `market` living its next month."""
    market = copy.deepcopy(market)
    with KernelClock() as clock:
        start = time.perf_counter()
        market.step()
        month = time.perf_counter() - start
    return month, clock.seconds


def kernel_on_predrawn_numbers(market) -> float:
    """The kernel's seconds for a copy of `market`'s next month, its random numbers read from a table drawn before."""
    market = copy.deepcopy(market)
    n_active = int(market.active_mask().sum())
    rng = np.random.default_rng(0)
    draws = np.vstack([rng.standard_normal(n_active), rng.random((len(DRAWS) - 1, n_active))])
    with KernelClock() as clock:
        kernel.live_month(market, draws=draws)
    return clock.seconds


def exp_and_log_seconds(market) -> float:
    p = market.people
    start = time.perf_counter()
    exp_and_log_only(p.stage, p.satisfaction, p.expectation, float(market.scenario["competitor_standard"]))
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=whole_number(1), default=7, help="months timed, each part (default 7)")
    repeats = parser.parse_args().repeats
    with threads("1"):
        market = LoyaltyMarket("telecom", "balanced", N_CUSTOMERS, seed=1).run(3)
        exp_and_log_seconds(market)  # compiled (or loaded from the cache) before the clock runs
        kernel_on_predrawn_numbers(market)
        parts = {"bare": [], "month": [], "kernel": [], "predrawn": [], "exp_log": []}
        for _ in range(repeats):
            parts["bare"].append(bare_loop_seconds(N_CUSTOMERS, 12) / 12)
            month, in_kernel = one_month(market)
            parts["month"].append(month)
            parts["kernel"].append(in_kernel)
            parts["predrawn"].append(kernel_on_predrawn_numbers(market))
            parts["exp_log"].append(exp_and_log_seconds(market))
    ms = {name: statistics.median(values) * 1e3 for name, values in parts.items()}
    outside, drawing = ms["month"] - ms["kernel"], ms["kernel"] - ms["predrawn"]
    floor = outside + max(drawing, 0.0) + ms["exp_log"]
    print(f"A month at {N_CUSTOMERS:,} customers on one thread, medians of {repeats} (ms):")
    print(f"  bare loop                                  {ms['bare']:7.3f}")
    print(f"  the month                                  {ms['month']:7.2f}   ratio {ms['bare'] / ms['month']:.3f}"
          "  (target >= 0.03)")
    print(f"    the kernel                               {ms['kernel']:7.2f}")
    print(f"      on pre-drawn numbers                   {ms['predrawn']:7.2f}   so drawing costs {drawing:.2f}")
    print(f"    everything outside the kernel            {outside:7.2f}")
    print(f"  the rules' exp and log calls alone         {ms['exp_log']:7.2f}")
    print(f"  outside + drawing + exp and log            {floor:7.2f}   ratio {ms['bare'] / floor:.3f}: the most a "
          "kernel whose own arithmetic cost nothing could give")
    print(f"  the target asks for a month of at most     {ms['bare'] / 0.03:7.2f}")


if __name__ == "__main__":
    main()
