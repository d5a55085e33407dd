"""Kill -9 the real server at several moments of a game, restart it on the same folder, and check nothing acknowledged
was lost and a round is recorded whole or not at all (an interrupted round can be played again).

The server is `loyalty-lab classroom` in a subprocess on 127.0.0.1 (a free port) with a temporary --data folder.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx2 as httpx
import pytest
from classroom_helpers import Server, bearer, instructor, wait_round

from simulations.game import Game, GameSettings

pytestmark = pytest.mark.slow

# a round of the real size; the server waits PAUSE s after each month, so a round lasts 3 s and the kill lands in it
PAUSE = 0.25
SETTINGS = {"scenario": "telecom", "rounds": 3, "months_per_round": 12, "n_customers": 100_000, "seed": 3}
NAMES = ["red", "blue", "<b>green</b>", "gold"]


def stored_rounds(data_dir) -> tuple[int, list[int]]:
    """(rounds_played in the games table, round numbers in the rounds table), read from the file itself."""
    with sqlite3.connect(data_dir / "classroom.sqlite3") as db:
        (played,) = db.execute("select rounds_played from games").fetchone()
        numbers = [n for (n,) in db.execute("select round from rounds order by round")]
    return played, numbers


def test_a_killed_server_loses_nothing_it_acknowledged(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    server = Server(data, month_pause=PAUSE).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as api:
            # moment 1: right after the last acknowledged join and hand-in
            made = api.post("/api/games", json=SETTINGS, headers=instructor())
            assert made.status_code == 201
            game, code = made.json()["game"], made.json()["join_code"]
            teams = {}
            for name in NAMES:
                answer = api.post(f"/api/games/{game}/teams", json={"join_code": code, "name": name})
                assert answer.status_code == 201
                teams[name] = (answer.json()["team"], answer.json()["token"])
            first = {"red": {"frontline_care": 0.9}, "blue": {"price_index": 0.85}}
            for name, levers in first.items():
                team, token = teams[name]
                assert api.put(f"/api/games/{game}/teams/{team}/strategy", json=levers, headers=bearer(token)).status_code == 200
        server.kill()

        server = Server(data, port=server.port, month_pause=PAUSE).start()
        with httpx.Client(base_url=server.url, timeout=60) as api:
            listed = api.get(f"/api/games/{game}").json()["teams"]
            assert [t["name"] for t in listed] == NAMES and [t["handed_in"] for t in listed] == [True, True, False, False]
            for name, levers in first.items():  # the tokens still work and the hand-ins are there
                team, token = teams[name]
                view = api.get(f"/api/games/{game}/teams/{team}", headers=bearer(token)).json()
                assert {k: view["strategy"]["levers"][k] for k in levers} == levers

            # moment 2: round 1 acknowledged, then a kill while round 2 runs
            assert api.post(f"/api/games/{game}/rounds", headers=instructor()).status_code == 202
            assert wait_round(api, game)["status"] == "idle"
            board_1 = api.get(f"/api/games/{game}/leaderboard", headers=instructor()).json()
            second = {"gold": {"cross_sell": 0.8}}
            team, token = teams["gold"]
            assert api.put(f"/api/games/{game}/teams/{team}/strategy", json=second["gold"], headers=bearer(token)).json()["round"] == 2
            assert api.post(f"/api/games/{game}/rounds", headers=instructor()).status_code == 202
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status = api.get(f"/api/games/{game}/rounds").json()
                if status["status"] == "running" and status["progress"].get("months_done", 0) >= 2:
                    break
                time.sleep(0.05)
            assert status["status"] == "running", status
        server.kill()
        assert stored_rounds(data) == (1, [1])  # round 2 left no trace: not a row, not a counter
        print(f"\nkilled in round 2 at {status['progress']}; stored rounds after the kill: {stored_rounds(data)}")

        server = Server(data, port=server.port, month_pause=PAUSE).start()
        with httpx.Client(base_url=server.url, timeout=60) as api:
            status = api.get(f"/api/games/{game}/rounds").json()
            assert status["status"] == "interrupted" and status["rounds_played"] == 1
            assert api.get(f"/api/games/{game}/leaderboard", headers=instructor()).json() == board_1
            assert api.post(f"/api/games/{game}/rounds", headers=instructor()).status_code == 202  # played again
            assert wait_round(api, game, timeout=180)["status"] == "idle"
            board_2 = api.get(f"/api/games/{game}/leaderboard", headers=instructor()).json()

            # moment 3: a kill in the middle of a burst of hand-ins
            acknowledged = {name: -1 for name in NAMES}
            stop = threading.Event()

            def hand_in_again_and_again(name):
                team, token = teams[name]
                with httpx.Client(base_url=server.url, timeout=10) as own:
                    for step in range(200):
                        if stop.is_set():
                            return
                        try:
                            answer = own.put(f"/api/games/{game}/teams/{team}/strategy",
                                             json={"frontline_care": step / 200}, headers=bearer(token))
                        except httpx.TransportError:
                            return  # the server died under this request: it was not acknowledged
                        if answer.status_code == 200:
                            acknowledged[name] = step

            threads = [threading.Thread(target=hand_in_again_and_again, args=(name,)) for name in NAMES]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 30
            while min(acknowledged.values()) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert min(acknowledged.values()) >= 5, acknowledged

        server = Server(data, port=server.port, month_pause=PAUSE).start()
        with httpx.Client(base_url=server.url, timeout=60) as api:
            assert api.get(f"/api/games/{game}/leaderboard", headers=instructor()).json() == board_2
            for name in NAMES:
                team, token = teams[name]
                kept = api.get(f"/api/games/{game}/teams/{team}", headers=bearer(token)).json()["strategy"]["levers"]
                step = round(kept["frontline_care"] * 200)
                # the last acknowledged hand-in, or the one in flight when the server died (done, not yet answered)
                assert step in (acknowledged[name], acknowledged[name] + 1), (name, step, acknowledged[name])
                print(f"{name}: last acknowledged hand-in #{acknowledged[name]}, kept #{step}")

            # the rounds the server recorded are the engine's own: replaying the same hand-ins gives the same standings
            expected = Game(GameSettings("telecom", 3, 12, 100_000, 3), teams=NAMES)
            expected.play_round(first)
            expected.play_round(second)
            assert [(r["team"], r["profit"]) for r in board_2["standings"]] == \
                   [(r["team"], r["profit"]) for r in expected.standings().to_dict("records")]
    finally:
        server.stop()
