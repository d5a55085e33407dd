"""The month's speed against issue 16's targets, every figure measured side by side in one run.

Run on demand (never as a timed test):  .venv/bin/python benchmarks/bench_speed.py  [--quick]
Targets (issue 16, part 3):
- a month at 100,000 customers at least 0.03 of a bare numpy loop's customer-months per second (stretch 0.05);
- 1,000,000 customers for 12 months, set-up included, within 50 times the bare loop's time for the same customer-months;
- 2,000 customers x 36 months under 0.5 s in a fresh process with a warm kernel cache;
- at most 800 bytes a customer at 1,000,000 customers (set-up and a month);
- 8 firms no more than twice one firm (benchmarks/bench_game.py measures that one).
The bare loop and the model take turns, so that a busy machine slows both alike; each figure is a median.
The readable reference engine (engine="numpy") is timed beside the fast one.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from simulations import LoyaltyMarket

ROOT = Path(__file__).resolve().parent.parent


def bare_loop_seconds(n: int, months: int) -> float:
    """Seconds of the least a vectorised model can do: one random update per customer per month."""
    rng = np.random.default_rng(0)
    satisfaction = np.full(n, 0.5)
    start = time.perf_counter()
    for _ in range(months):
        satisfaction = 0.9 * satisfaction + 0.1 * rng.random(n)
    return time.perf_counter() - start


def month_seconds(model, months: int) -> float:
    start = time.perf_counter()
    model.run(months)
    return (time.perf_counter() - start) / months


def month_at_100k(repeats: int):
    n, months = 100_000, 12
    fast, reference, bare = [], [], []
    models = {engine: LoyaltyMarket("telecom", "balanced", n, seed=1, engine=engine).run(1) for engine in ("fast", "numpy")}
    for _ in range(repeats):
        bare.append(bare_loop_seconds(n, months) / months)
        fast.append(month_seconds(models["fast"], months))
        bare.append(bare_loop_seconds(n, months) / months)
        reference.append(month_seconds(models["numpy"], months))
    bare_month = statistics.median(bare)
    for name, times in (("fast", fast), ("numpy (reference)", reference)):
        month = statistics.median(times)
        print(f"  {name:18s} a month {month * 1e3:7.2f} ms; bare loop {bare_month * 1e3:.3f} ms: ratio {bare_month / month:.3f}"
              + ("  (target >= 0.03, stretch 0.05)" if name == "fast" else ""))


def million_for_a_year(engine: str):
    n, months = 1_000_000, 12
    bare = bare_loop_seconds(n, months)
    start = time.perf_counter()
    model = LoyaltyMarket("telecom", "balanced", n, seed=1, engine=engine)
    setup = time.perf_counter() - start
    run = month_seconds(model, months) * months
    bare = min(bare, bare_loop_seconds(n, months))
    print(f"  {engine:18s} set-up {setup:.2f} s + 12 months {run:.2f} s = {setup + run:.2f} s; bare loop {bare:.3f} s: "
          f"{(setup + run) / bare:.0f} x" + ("  (target <= 50)" if engine == "fast" else ""))


FRESH = r'''
import json, resource, sys, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start, start_cpu = time.perf_counter(), cpu()
from simulations import LoyaltyMarket
imported, imported_cpu = time.perf_counter(), cpu()
LoyaltyMarket("telecom", "balanced", 2000, seed=1, engine=sys.argv[1]).run(36)
print(json.dumps([imported - start, time.perf_counter() - imported, cpu() - imported_cpu]))
'''


def small_run_in_a_fresh_process(engine: str, repeats: int):
    """Set-up and 36 months in a new Python process: numba imported and the kernels loaded from its cache, not compiled.

    Wall time, and CPU time (what a machine shared with other work still gives the process)."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", FRESH, engine], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        runs.append(json.loads(out.stdout))
    imports, run, run_cpu = (statistics.median(column) for column in zip(*runs))
    print(f"  {engine:18s} set-up + 36 months {run:.3f} s, CPU {run_cpu:.3f} s (after `import simulations`, {imports:.2f} s)"
          + ("  (target < 0.5 s)" if engine == "fast" else ""))


def bytes_per_customer(engine: str):
    n = 1_000_000
    tracemalloc.start()
    LoyaltyMarket("telecom", "balanced", n, seed=1, engine=engine).run(1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  {engine:18s} peak traced memory {peak / 2**20:,.0f} MB = {peak / n:,.0f} bytes a customer"
          + ("  (target <= 800)" if engine == "fast" else ""))


def main():
    quick = "--quick" in sys.argv
    LoyaltyMarket("telecom", "balanced", 1000, seed=0).run(2)  # imports and loading the kernels are not the month
    print("A month at 100,000 customers, against the bare loop (medians):")
    month_at_100k(3 if quick else 5)
    print("2,000 customers x 36 months in a fresh process, warm kernel cache (median of 5):")
    for engine in ("fast", "numpy"):
        small_run_in_a_fresh_process(engine, 5)
    print("1,000,000 customers x 12 months, set-up included, against the bare loop's 12 months of 1,000,000:")
    for engine in ("fast",) if quick else ("fast", "numpy"):
        million_for_a_year(engine)
    print("Memory at 1,000,000 customers (set-up and a month; numba's own buffers are not traced, they hold no customer state):")
    for engine in ("fast",) if quick else ("fast", "numpy"):
        bytes_per_customer(engine)
    print("8 firms against one firm: run benchmarks/bench_game.py")


if __name__ == "__main__":
    main()
