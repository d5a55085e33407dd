"""Late joins (a team joining after round 1 enters as a newcomer firm) and customers won and lost by rival, through
the classroom's API and pages (issue 19). Same fixtures as test_classroom_api: each test on an empty database."""

from __future__ import annotations

import csv
import io

import pytest
from classroom_helpers import bearer, instructor
from classroom.auth import team_cookie
from test_classroom_api import SMALL, client, database_url, join, make_client, new_game, play, refused  # noqa: F401

THREE_ROUNDS = {"rounds": 3}


def late_game(client):
    """red and blue from the start; after round 1 the instructor allows late joins and green joins."""
    game, code = new_game(client, **THREE_ROUNDS)
    red, red_token = join(client, game, code, "red")
    join(client, game, code, "blue")
    play(client, game)
    answer = client.post(f"/api/games/{game}/late-joins", json={"allow": True}, headers=instructor())
    assert answer.status_code == 200 and answer.json()["late_joins"] is True
    joined = client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "green"})
    assert joined.status_code == 201, joined.text
    assert joined.json()["first_round"] == 2
    green, green_token = joined.json()["team"], joined.json()["token"]
    answer = client.put(f"/api/games/{game}/teams/{green}/strategy", json={"price_index": 0.85,
                                                                          "acquisition_budget": 0.9},
                        headers=bearer(green_token))
    assert answer.status_code == 200 and answer.json()["round"] == 2
    play(client, game)
    return game, code, (red, red_token), (green, green_token)


def test_late_joins_are_off_unless_the_instructor_allows_them(client):
    game, code = new_game(client)
    join(client, game, code, "red")
    play(client, game)
    error = refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "late"}), 409, "game")
    assert "the instructor can allow late joins" in error["allowed"]
    refused(client.post(f"/api/games/{game}/late-joins", json={"allow": True}), 401, "Authorization")
    refused(client.post(f"/api/games/{game}/late-joins", json={"allow": "yes"}, headers=instructor()), 400,
            "late_joins")
    refused(client.post(f"/api/games/{game}/late-joins", json={}, headers=instructor()), 400, "allow")
    assert client.get(f"/api/games/{game}").json()["late_joins"] is False
    refused(client.post("/api/games", json=SMALL | {"late_joins": 1}, headers=instructor()), 400, "late_joins")
    created = client.post("/api/games", json=SMALL | {"late_joins": True}, headers=instructor()).json()
    assert client.get(f"/api/games/{created['game']}").json()["late_joins"] is True


def test_a_late_team_enters_at_the_next_round_as_a_newcomer_and_its_earlier_rounds_are_not_played(client):
    game, code, (red, red_token), (green, green_token) = late_game(client)
    board = client.get(f"/api/games/{game}/leaderboard").json()["standings"]
    rounds_played = {row["team"]: row["rounds_played"] for row in board}
    assert rounds_played == {"red": 2, "blue": 2, "green": 1}
    history = client.get(f"/api/games/{game}/history").json()["history"]
    green_months = sorted(row["month"] for row in history if row["team"] == "green")
    assert green_months == [4, 5, 6], "no rows (not zeros) before it entered the market"
    view = client.get(f"/api/games/{game}/teams/{green}", headers=bearer(green_token)).json()
    assert view["not_played"] == [1] and view["first_round"] == 2 and [r["round"] for r in view["results"]] == [2]
    flows = view["results"][0]["flows"]
    assert sum(flows["won_from"].values()) > 0 and set(flows["won_from"]) <= {"red", "blue", ""}
    assert "joined in round 2 as a newcomer firm" in view["results"][0]["debrief"]
    chart = client.get(f"/screen/{game}/market.json?round=2").json()
    green_share = next(t for t in chart["teams"] if t["name"] == "green")["share"]
    assert green_share[:4] == [None] * 4 and green_share[-1] > 0, "the chart's line starts when it entered"


def test_customers_won_and_lost_by_rival_are_in_each_team_s_view_and_agree(client):
    game, code, (red, red_token), (green, green_token) = late_game(client)
    red_flows = client.get(f"/api/games/{game}/teams/{red}", headers=bearer(red_token)).json()["results"][-1]["flows"]
    green_flows = client.get(f"/api/games/{game}/teams/{green}",
                             headers=bearer(green_token)).json()["results"][-1]["flows"]
    assert red_flows["lost_to"].get("green", 0) == green_flows["won_from"].get("red", 0)
    assert red_flows["won_from"].get("green", 0) == green_flows["lost_to"].get("red", 0)
    board = {r["team"]: r for r in client.get(f"/api/games/{game}/leaderboard").json()["standings"]}
    assert green_flows["won_from"].get("red", 0) + green_flows["won_from"].get("blue", 0) == \
        board["green"]["won_from_rivals"]


def test_the_export_shows_rounds_not_played_and_customers_won_and_lost_by_rival(client):
    game, *_ = late_game(client)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/games/{game}/export.csv", headers=instructor()).text)))
    green = {row["round"]: row for row in rows if row["team"] == "green"}
    assert green["1"]["played"] == "0" and green["1"]["profit"] == "" and green["1"]["score"] == ""
    assert green["1"]["note"] == "not played: joined the game in round 2" and green["2"]["played"] == "1"
    assert green["2"]["first_round"] == "2"
    by_team = {row["team"]: row for row in rows if row["round"] == "2"}
    for team, row in by_team.items():
        for rival in by_team:
            if rival != team:
                assert row[f"won_from[{rival}]"] == by_team[rival][f"lost_to[{team}]"]
        won = sum(int(row[f"won_from[{r}]"]) for r in by_team if r != team)
        assert won == int(row["won_from_rivals"]) - int(next(
            (r["won_from_rivals"] for r in rows if r["round"] == "1" and r["team"] == team and r["played"] == "1"), 0))
    assert int(by_team["green"]["won_from_pool"]) > 0


def test_the_projector_names_the_round_s_largest_switches_once_revealed(client):
    game, *_ = late_game(client)
    shown = client.get(f"/screen/{game}/data.json").json()
    moves = shown["switches"]
    assert 1 <= len(moves) <= 3 and moves == sorted(moves, key=lambda m: -m["customers"])
    board = {r["team"]: r for r in shown["standings"]}
    assert all(m["from"] in board and m["to"] in board and m["from"] != m["to"] for m in moves)
    play(client, game, reveal=False)  # round 3 played, not revealed: the projector still names round 2's
    assert client.get(f"/screen/{game}/data.json").json()["switches"] == moves


def test_undoing_the_round_a_team_joined_at_replays_it_the_same(client):
    game, *_ = late_game(client)
    before = client.get(f"/api/games/{game}/leaderboard").json()["standings"]
    assert client.post(f"/api/games/{game}/undo", headers=instructor()).status_code == 200
    play(client, game)
    assert client.get(f"/api/games/{game}/leaderboard").json()["standings"] == before
    play(client, game)  # round 3 from the record (the worker's kept game or a replay): green plays on
    board = client.get(f"/api/games/{game}/leaderboard").json()["standings"]
    assert {row["team"]: row["rounds_played"] for row in board} == {"red": 3, "blue": 3, "green": 2}


def test_no_team_joins_late_once_the_last_round_is_played(client):
    game, code = new_game(client, late_joins=True)
    join(client, game, code, "red")
    play(client, game)
    play(client, game)
    error = refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "late"}), 409, "game")
    assert error["allowed"] == "joining while rounds remain to be played"


def test_the_pages_show_the_newcomer_and_the_rivals_table(client):
    game, code, (red, red_token), (green, green_token) = late_game(client)
    client.cookies.set(team_cookie(game), green_token)
    page = client.get(f"/play/{game}")
    assert page.status_code == 200, page.text
    text = page.text
    assert 'id="by-rival"' in text and 'id="late-note"' in text and "not played (your team had not joined yet)" in text
    client.cookies.set(team_cookie(game), red_token)
    red_page = client.get(f"/play/{game}").text
    assert '<td class="name">green</td>' in red_page and 'id="late-note"' not in red_page
