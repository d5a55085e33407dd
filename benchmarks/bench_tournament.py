"""Benchmark: a workshop-sized tournament (20 teams, 5 seeds, 2,000 customers, 36 months) with 1 and 2 workers.

Run on demand, never as a timed test:

    .venv/bin/python benchmarks/bench_tournament.py            # the full size
    .venv/bin/python benchmarks/bench_tournament.py --teams 4 --seeds 2   # a quick look

Prints the wall-clock time per number of workers, the speed-up over one worker, and checks that the
leaderboards are identical (the number of workers must change the speed, never the result).
Target on the 2-core reference machine: under two minutes.

Also times `loyalty-lab check` on the same team files, as a team or instructor runs it (a new process, so
Python's start-up is included). Target: a few seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from simulations import Strategy
from simulations.parameters import LEVERS
from simulations.strategy import PRESETS
from simulations.workshop import tournament


def team_strategies(n_teams: int, seed: int = 2024) -> dict[str, Strategy]:
    """The four presets, then teams with levers drawn at random inside their ranges (seeded, so always the same)."""
    rng = np.random.default_rng(seed)
    teams = {name: Strategy.preset(name) for name in list(PRESETS)[:n_teams]}
    while len(teams) < n_teams:
        levers = {}
        for lever in LEVERS:
            if lever.choices:
                levers[lever.name] = str(rng.choice(lever.choices))
            else:
                levers[lever.name] = round(float(rng.uniform(lever.min, lever.max)), 2)
        teams[f"team_{len(teams) + 1:02d}"] = Strategy(**levers)
    return teams


def check_time(folder: str, n_files: int, target: float = 5.0) -> float:
    """Wall-clock time of `python -m simulations.cli check FOLDER` (best of three), printed against the target."""
    measured = []
    for _ in range(3):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "simulations.cli", "check", folder], capture_output=True, text=True)
        measured.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"check failed on the benchmark's own files:\n{done.stdout}{done.stderr}")
    best = min(measured)
    print(f"check: {n_files} files in {best:.2f} s (best of {', '.join(f'{t:.2f}' for t in measured)}); "
          f"target (under {target:g} s): {'met' if best < target else 'NOT met'}")
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2, help="timings per worker count; the best is kept (the machine is shared)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        files = [strategy.to_file(Path(tmp) / f"{name}.yaml") for name, strategy in team_strategies(args.teams).items()]
        runs = args.teams * args.seeds
        print(f"tournament: {args.teams} teams x {args.seeds} seeds = {runs} runs of {args.customers:,} customers "
              f"x {args.months} months")
        print(f"  load average before (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        times, boards = {}, {}
        for workers in args.workers:
            measured = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                result = tournament("telecom", files, seeds=args.seeds, n_customers=args.customers, months=args.months,
                                    workers=workers)
                measured.append(time.perf_counter() - start)
            times[workers] = min(measured)
            boards[workers] = result.leaderboard
            print(f"  workers={workers}: best {times[workers]:6.1f} s of {', '.join(f'{t:.1f}' for t in measured)} "
                  f"({times[workers] / runs * 1000:.0f} ms a run)")
        first = args.workers[0]
        for workers in args.workers[1:]:
            pd.testing.assert_frame_equal(boards[first], boards[workers])
            print(f"  speed-up with {workers} workers over {first}: {times[first] / times[workers]:.2f}x")
        print("  leaderboards identical across worker counts: yes")
        print(f"  load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"  target (under 120 s): {'met' if max(times.values()) < 120 else 'NOT met'}")
        check_time(tmp, args.teams)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
