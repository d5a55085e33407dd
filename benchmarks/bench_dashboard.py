"""How long a learner waits: a dashboard re-run (2,000 customers x 36 months) and a challenge grade.

    .venv/bin/python benchmarks/bench_dashboard.py [--repeats 7]

A dashboard re-run is what happens when a slider settles: run the model, draw the six panels, render
them to PNG. The target is under half a second. A grade runs the learner's and the starting strategy
on every seed of the challenge.
"""

from __future__ import annotations

import argparse
import statistics
import time

from exercises import grade, list_challenges
from simulations.widgets import dashboard

TARGET_RERUN_SECONDS = 0.5


def time_reruns(repeats: int) -> list[float]:
    """Wall time of `repeats` dashboard re-runs, each triggered like a settled slider."""
    dash = dashboard(scenario="telecom", n_customers=2000, months=36, seed=1)
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        dash.controls["service_lead"].value = 0.1 + 0.05 * (i % 2)  # a different value each time, so it re-runs
        times.append(time.perf_counter() - started)
    return times


def time_grades(repeats: int) -> dict:
    """Median wall time of grading each challenge (its own customers and seeds)."""
    medians = {}
    for challenge_id in list_challenges():
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            grade(challenge_id, "balanced" if challenge_id in ("ch01_first_look", "ch08_capstone") else {})
            times.append(time.perf_counter() - started)
        medians[challenge_id] = statistics.median(times)
    return medians


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    reruns = time_reruns(args.repeats)
    median = statistics.median(reruns)
    verdict = "within" if median < TARGET_RERUN_SECONDS else "OVER"
    print(f"dashboard re-run, 2,000 customers x 36 months: median {median:.3f} s over {len(reruns)} "
          f"(min {min(reruns):.3f}, max {max(reruns):.3f}); {verdict} the {TARGET_RERUN_SECONDS} s target")
    for challenge_id, seconds in time_grades(max(1, args.repeats // 3)).items():
        print(f"grade {challenge_id}: median {seconds:.3f} s (learner + starting strategy on every seed)")


if __name__ == "__main__":
    main()
