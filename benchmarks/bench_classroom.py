"""Benchmark: the live classroom under a room's load, on this machine only (127.0.0.1), bounded, stops by itself.

    .venv/bin/python benchmarks/bench_classroom.py                       # 40 teams; rounds for 8 and 40 teams
    .venv/bin/python benchmarks/bench_classroom.py --teams 20 --customers 2000
    .venv/bin/python benchmarks/bench_classroom.py --room 40,100,200     # the latency table (issue 19)
    .venv/bin/python benchmarks/bench_classroom.py --room 40,100,200 --database-url postgresql://... --processes 2

Starts the real server (`loyalty-lab classroom`, uvicorn, SQLite in a temporary folder) and:
1. has N teams join one game and hand in a strategy at the same moment (N threads released by one barrier),
   and prints the median and 95th percentile response times of the joins and the hand-ins;
2. times a round for 8 and for 40 teams (from the instructor's POST to the status saying it is saved,
   as the console sees it), with the engine's own time for the same round beside it.
With --room SIZES, for each size N instead: N teams (in games of at most 40, the most one market holds) join at
once, hand in at once; the instructor plays and reveals a round of every game; then all N teams reload their page
at once, and then their chart at once (the JSON the page draws from). Each step's median, p95 and max go into one
table; --png-sizes also times the per-team PNG (the matplotlib figure the pages drew before) for a side-by-side
ratio. With --processes 2 (PostgreSQL only) two servers share the database and the teams alternate between them.
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


MAX_TEAMS_PER_GAME = 40  # simulations.firms.MAX_FIRMS: a bigger room plays several markets


def at_once(count: int, work) -> dict:
    """Run work(i) for i in range(count) in `count` threads released together; {"times": [...], "failures": [...]}."""
    barrier, lock = threading.Barrier(count), threading.Lock()
    found = {"times": [], "failures": [], "results": [None] * count}

    def one(index: int):
        barrier.wait(timeout=TIMEOUT)
        start = time.perf_counter()
        try:
            found["results"][index] = work(index)
        except Exception as err:
            with lock:
                found["failures"].append(f"{index}: {err}")
            return
        with lock:
            found["times"].append(time.perf_counter() - start)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=4 * TIMEOUT)
    return found


def room(urls: list[str], size: int, customers: int, months: int, png: bool) -> dict:
    """One room of `size` teams: the step -> timings of its requests (see the module's docstring)."""
    admin = httpx.Client(base_url=urls[0], timeout=TIMEOUT)
    games = []
    for first in range(0, size, MAX_TEAMS_PER_GAME):
        games.append(game_for(admin, min(MAX_TEAMS_PER_GAME, size - first), customers, months))
    seats = [(games[i // MAX_TEAMS_PER_GAME], i) for i in range(size)]
    clients = [httpx.Client(base_url=urls[i % len(urls)], timeout=TIMEOUT) for i in range(size)]
    teams = [None] * size

    def join(i):
        (game, code), _ = seats[i]
        answer = clients[i].post(f"/api/games/{game}/teams", json={"join_code": code, "name": f"team {i:03d}"})
        if answer.status_code != 201:
            raise RuntimeError(f"join {answer.status_code}: {answer.text[:200]}")
        teams[i] = answer.json()
        clients[i].cookies.set(f"ll_team_{game}", teams[i]["token"])

    def hand_in(i):
        (game, _), _ = seats[i]
        levers = {"frontline_care": round(0.2 + 0.015 * (i % 40), 3), "price_index": 0.95}
        answer = clients[i].put(f"/api/games/{game}/teams/{teams[i]['team']}/strategy", json=levers,
                                headers=bearer(teams[i]["token"]))
        if answer.status_code != 200:
            raise RuntimeError(f"hand-in {answer.status_code}: {answer.text[:200]}")

    def fetch(path):
        def get(i):
            (game, _), _ = seats[i]
            answer = clients[i].get(path.format(game=game))
            if answer.status_code != 200:
                raise RuntimeError(f"{path} {answer.status_code}: {answer.text[:200]}")
        return get

    steps = {"join": at_once(size, join), "hand-in": at_once(size, hand_in)}
    start = time.perf_counter()
    for game, _ in games:
        admin.post(f"/api/games/{game}/rounds", headers=instructor()).raise_for_status()
    for game, _ in games:
        assert wait_round(admin, game, timeout=600)["status"] == "idle"
    steps["round"] = {"times": [time.perf_counter() - start], "failures": []}
    for game, _ in games:
        admin.post(f"/api/games/{game}/reveal", headers=instructor()).raise_for_status()
    steps["page"] = at_once(size, fetch("/play/{game}"))
    steps["chart"] = at_once(size, fetch("/screen/{game}/market.json?round=1"))
    if png:
        steps["chart as PNG (before)"] = at_once(size, fetch("/play/{game}/market.png?round=1"))
    for client in clients + [admin]:
        client.close()
    return steps


def room_table(urls: list[str], sizes: list[int], customers: int, months: int, png_sizes: set, label: str) -> int:
    failures = 0
    print(f"Latency of a room ({label}; {customers:,} customers, {months}-month rounds), all teams at once:")
    print(f"  {'teams':>5}  {'step':<22} {'median':>9} {'p95':>9} {'max':>9}  requests")
    for size in sizes:
        steps = room(urls, size, customers, months, size in png_sizes)
        for step, found in steps.items():
            times = found["times"]
            failures += len(found["failures"])
            if not times:
                print(f"  {size:>5}  {step:<22} all {len(found['failures'])} failed: {found['failures'][:2]}")
                continue
            note = f"  ({len(found['failures'])} failed: {found['failures'][:2]})" if found["failures"] else ""
            print(f"  {size:>5}  {step:<22} {statistics.median(times) * 1000:>7.0f}ms "
                  f"{percentile(times, 0.95) * 1000:>7.0f}ms {max(times) * 1000:>7.0f}ms  {len(times)}{note}",
                  flush=True)
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=40, help="teams joining and handing in at once (default 40)")
    parser.add_argument("--customers", type=int, default=2000, help="customers in the timed rounds (default 2000)")
    parser.add_argument("--months", type=int, default=6, help="months per round (default 6)")
    parser.add_argument("--room", default="", help="room sizes for the latency table, e.g. 40,100,200")
    parser.add_argument("--png-sizes", default="40", help="room sizes that also time the per-team PNG (default 40)")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL instead of SQLite")
    parser.add_argument("--processes", type=int, default=1, help="app processes on the database (2 needs PostgreSQL)")
    args = parser.parse_args(argv)
    if args.room:
        sizes = [int(n) for n in args.room.split(",")]
        png_sizes = {int(n) for n in args.png_sizes.split(",") if n}
        with tempfile.TemporaryDirectory() as folder:
            servers = []
            try:
                for number in range(args.processes):
                    data = Path(folder) / f"data{number}"
                    data.mkdir()
                    servers.append(Server(data, database_url=args.database_url).start())
                label = (f"PostgreSQL, {args.processes} processes" if args.database_url else "SQLite, one process")
                failures = room_table([s.url for s in servers], sizes, args.customers, args.months, png_sizes, label)
            finally:
                for server in servers:
                    server.stop()
        return 1 if failures else 0
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
