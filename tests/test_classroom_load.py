"""Forty teams join one game and hand in at the same moment, against the real server on 127.0.0.1: all succeed.

Bounded: 40 teams, two requests each, a 60 s timeout per request; the server stops at the end. Prints the
median and 95th percentile response times (run with -s to see them; benchmarks/bench_classroom.py reports them
too, with round times).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import httpx2 as httpx
import pytest
from classroom_helpers import Server, instructor, percentile, wait_round

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_classroom import game_for, join_and_hand_in_at_once  # noqa: E402

pytestmark = pytest.mark.slow
TEAMS = 40


def test_forty_teams_join_and_hand_in_at_once(tmp_path):
    (tmp_path / "data").mkdir()
    with Server(tmp_path / "data") as server, httpx.Client(base_url=server.url, timeout=60) as api:
        game, code = game_for(api, TEAMS, customers=2000)
        times = join_and_hand_in_at_once(server.url, game, code, TEAMS)
        assert times["failures"] == []
        assert len(times["join"]) == len(times["hand_in"]) == TEAMS
        every = times["join"] + times["hand_in"]
        print(f"\n{TEAMS} teams at once: median {statistics.median(every) * 1000:.0f} ms, "
              f"p95 {percentile(every, 0.95) * 1000:.0f} ms over {len(every)} requests")
        assert percentile(every, 0.95) < 10.0  # a room waits a few seconds at most, even on a 2-core machine

        listed = api.get(f"/api/games/{game}").json()["teams"]
        assert len(listed) == TEAMS and all(team["handed_in"] for team in listed)
        assert len({team["name"] for team in listed}) == TEAMS
        assert api.post(f"/api/games/{game}/rounds", headers=instructor()).status_code == 202
        assert wait_round(api, game)["status"] == "idle"
        standings = api.get(f"/api/games/{game}/leaderboard", headers=instructor()).json()["standings"]
        assert len(standings) == TEAMS  # one market of forty rival firms
