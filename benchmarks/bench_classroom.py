"""Benchmark: the live classroom under a room's load, on this machine only (127.0.0.1), bounded, stops by itself.

    .venv/bin/python benchmarks/bench_classroom.py                 # 40 teams; rounds for 8 and 40 teams
    .venv/bin/python benchmarks/bench_classroom.py --teams 20 --customers 2000

Starts the real server (`loyalty-lab classroom`, uvicorn, SQLite in a temporary folder) and:
1. has N teams join one game and hand in a strategy at the same moment (N threads released by one barrier),
   and prints the median and 95th percentile response times of the joins and the hand-ins;
2. times a round for 8 and for 40 teams (from the instructor's POST to the status saying it is saved,
   as the console sees it), with the engine's own time for the same round beside it.
`tests/test_classroom_load.py` runs part 1 as a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from classroom_helpers import Server, bearer, instructor, percentile, wait_round  # noqa: E402

TIMEOUT = 60.0  # seconds a single request may take before it counts as failed


def game_for(api, teams: int, customers: int, months: int = 6) -> tuple[str, str]:
    made = api.post("/api/games", json={"scenario": "telecom", "rounds": 2, "months_per_round": months,
                                        "n_customers": customers, "seed": 1}, headers=instructor())
    made.raise_for_status()
    return made.json()["game"], made.json()["join_code"]


def join_and_hand_in_at_once(url: str, game: str, code: str, teams: int) -> dict:
    """N teams, each in its own thread and HTTP client, join and then hand in, all released at the same moment.

    Returns {"join": [seconds...], "hand_in": [seconds...], "failures": [descriptions]}.
    """
    barrier = threading.Barrier(teams)
    times = {"join": [], "hand_in": [], "failures": []}
    lock = threading.Lock()

    def team(number: int):
        with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            barrier.wait(timeout=TIMEOUT)
            try:
                start = time.perf_counter()
                joined = client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": f"team {number:02d}"})
                middle = time.perf_counter()
                if joined.status_code != 201:
                    raise RuntimeError(f"join {joined.status_code}: {joined.text[:200]}")
                levers = {"frontline_care": round(0.2 + 0.015 * number, 3), "price_index": 0.95}
                handed = client.put(f"/api/games/{game}/teams/{joined.json()['team']}/strategy", json=levers,
                                    headers=bearer(joined.json()["token"]))
                end = time.perf_counter()
                if handed.status_code != 200:
                    raise RuntimeError(f"hand-in {handed.status_code}: {handed.text[:200]}")
            except Exception as err:
                with lock:
                    times["failures"].append(f"team {number}: {err}")
                return
            with lock:
                times["join"].append(middle - start)
                times["hand_in"].append(end - middle)

    threads = [threading.Thread(target=team, args=(n,)) for n in range(teams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT + 10)
    return times


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:.0f} ms, p95 {percentile(times, 0.95) * 1000:.0f} ms, " \
           f"max {max(times) * 1000:.0f} ms ({len(times)} requests)"


def round_time(api, teams: int, customers: int, months: int) -> tuple[float, float]:
    """(seconds from the POST to the round saved, as the console sees it; the engine's own seconds for that round)."""
    from simulations.game import Game, GameSettings

    game, code = game_for(api, teams, customers, months)
    for number in range(teams):
        api.post(f"/api/games/{game}/teams", json={"join_code": code, "name": f"team {number:02d}"}).raise_for_status()
    start = time.perf_counter()
    api.post(f"/api/games/{game}/rounds", headers=instructor()).raise_for_status()
    status = wait_round(api, game, timeout=600)
    served = time.perf_counter() - start
    assert status["status"] == "idle", status
    engine = Game(GameSettings("telecom", 2, months, customers, 1), teams=[f"team {n:02d}" for n in range(teams)])
    start = time.perf_counter()
    engine.play_round({})
    return served, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=40, help="teams joining and handing in at once (default 40)")
    parser.add_argument("--customers", type=int, default=2000, help="customers in the timed rounds (default 2000)")
    parser.add_argument("--months", type=int, default=6, help="months per round (default 6)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "data").mkdir()
        with Server(Path(folder) / "data") as server, httpx.Client(base_url=server.url, timeout=TIMEOUT) as api:
            game, code = game_for(api, args.teams, args.customers)
            times = join_and_hand_in_at_once(server.url, game, code, args.teams)
            print(f"{args.teams} teams joining and handing in at the same moment (SQLite, one uvicorn process):")
            print(f"  failures: {len(times['failures'])}" + "".join(f"\n    {f}" for f in times["failures"]))
            print(f"  join:    {summary(times['join'])}")
            print(f"  hand-in: {summary(times['hand_in'])}")
            print(f"  both:    {summary(times['join'] + times['hand_in'])}")
            print(f"A round of {args.months} months on {args.customers:,} customers:")
            for teams in (8, 40):
                served, engine = round_time(api, teams, args.customers, args.months)
                print(f"  {teams:>2} teams: {served:.2f} s from the instructor's click to the round saved "
                      f"(the engine alone: {engine:.2f} s)")
    return 1 if times["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
