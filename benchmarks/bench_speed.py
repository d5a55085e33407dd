"""The month's speed against issue 16's targets, every figure measured side by side in one run.

Run on demand (never as a timed test):  .venv/bin/python benchmarks/bench_speed.py  [--quick]
Targets (issue 16, part 3):
- a month at 100,000 customers at least 0.03 of a bare numpy loop's customer-months per second (stretch 0.05);
- 1,000,000 customers for 12 months, set-up included, within 50 times the bare loop's time for the same customer-months;
- 2,000 customers x 36 months under 0.5 s in a fresh process with a warm kernel cache;
- at most 800 bytes a customer at 1,000,000 customers (set-up and a month);
- 8 firms no more than twice one firm (benchmarks/bench_game.py measures that one).
The bare loop and the model take turns, so that a busy machine slows both alike; each figure is a median.
The readable reference engine (engine="numpy") is timed beside the fast one. The fast engine lives a market
of more than one block of seats on several cores (simulations/blocks.py) while the bare loop uses one, so it
is timed both ways: on every core the process may use (wall time, with the CPU time of all its threads beside
it) and on one thread (LOYALTY_LAB_THREADS=1: the same runs, one block after another).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from simulations import LoyaltyMarket, blocks

ROOT = Path(__file__).resolve().parent.parent


def bare_loop_seconds(n: int, months: int) -> float:
    """Seconds of the least a vectorised model can do: one random update per customer per month."""
    rng = np.random.default_rng(0)
    satisfaction = np.full(n, 0.5)
    start = time.perf_counter()
    for _ in range(months):
        satisfaction = 0.9 * satisfaction + 0.1 * rng.random(n)
    return time.perf_counter() - start


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def threads(count: str | None):
    """Blocks lived `count` at a time (None: as many as the process has cores)."""
    before = os.environ.pop("LOYALTY_LAB_THREADS", None)
    if count is not None:
        os.environ["LOYALTY_LAB_THREADS"] = count
    try:
        yield
    finally:
        os.environ.pop("LOYALTY_LAB_THREADS", None)
        if before is not None:
            os.environ["LOYALTY_LAB_THREADS"] = before


WAYS = {f"fast, {blocks.threads()} threads": ("fast", None), "fast, one thread": ("fast", "1"),
        "numpy (reference)": ("numpy", None)}


def month_seconds(model, months: int) -> tuple[float, float]:
    """(wall, CPU) seconds of one month, averaged over `months`."""
    start, start_cpu = time.perf_counter(), cpu_seconds()
    model.run(months)
    return (time.perf_counter() - start) / months, (cpu_seconds() - start_cpu) / months


def month_at_100k(repeats: int):
    n, months = 100_000, 12
    times, bare = {way: [] for way in WAYS}, []
    models = {way: LoyaltyMarket("telecom", "balanced", n, seed=1, engine=engine).run(1)
              for way, (engine, _) in WAYS.items()}
    for _ in range(repeats):
        for way, (_, count) in WAYS.items():
            bare.append(bare_loop_seconds(n, months) / months)
            with threads(count):
                times[way].append(month_seconds(models[way], months))
    bare_month = statistics.median(bare)
    for way, measured in times.items():
        month, cpu = (statistics.median(column) for column in zip(*measured))
        print(f"  {way:18s} a month {month * 1e3:7.2f} ms (CPU {cpu * 1e3:6.2f} ms); bare loop {bare_month * 1e3:.3f} ms: "
              f"ratio {bare_month / month:.3f} (by CPU time {bare_month / cpu:.3f})"
              + ("  (target >= 0.03, stretch 0.05)" if way.startswith("fast") else ""))


def million_for_a_year(way: str):
    n, months = 1_000_000, 12
    engine, count = WAYS[way]
    bare = bare_loop_seconds(n, months)
    with threads(count):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        model = LoyaltyMarket("telecom", "balanced", n, seed=1, engine=engine)
        setup = time.perf_counter() - start
        run = month_seconds(model, months)[0] * months
        cpu = cpu_seconds() - start_cpu
    bare = min(bare, bare_loop_seconds(n, months))
    print(f"  {way:18s} set-up {setup:.2f} s + 12 months {run:.2f} s = {setup + run:.2f} s (CPU {cpu:.2f} s); "
          f"bare loop {bare:.3f} s: {(setup + run) / bare:.0f} x (by CPU time {cpu / bare:.0f} x)"
          + ("  (target <= 50)" if engine == "fast" else ""))


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
    for way in list(WAYS)[:2] if quick else WAYS:
        million_for_a_year(way)
    print("Memory at 1,000,000 customers (set-up and a month; numba's own buffers are not traced, they hold no customer state):")
    for engine in ("fast",) if quick else ("fast", "numpy"):
        bytes_per_customer(engine)
    print("8 firms against one firm: run benchmarks/bench_game.py")


if __name__ == "__main__":
    main()
