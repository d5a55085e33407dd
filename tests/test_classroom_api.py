"""The classroom's JSON API through the real ASGI interface (Starlette's TestClient), each test on an empty database.

Authentication, isolation between teams, and every kind of bad input answered 400/401/403/404/409/413/429 with
the field named. `test_classroom_pg.py` runs the same tests (the ones named in CORE) against PostgreSQL by
overriding the `database_url` fixture.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest
from classroom_helpers import INSTRUCTOR, bearer, instructor, wait_round
from starlette.testclient import TestClient

from classroom.app import create_app
from classroom.settings import Settings
from simulations.strategy import Strategy

SMALL = {"scenario": "telecom", "rounds": 2, "months_per_round": 3, "n_customers": 300, "seed": 5}


@pytest.fixture
def database_url():
    """None: SQLite in the test's own data folder (test_classroom_pg overrides this with a fresh PostgreSQL database)."""
    return None


@pytest.fixture
def make_client(tmp_path, database_url):
    """Build a TestClient on a new, empty database; extra settings (limits) by keyword."""
    clients = []

    def make(**overrides):
        settings = Settings(data_dir=tmp_path / f"data{len(clients)}", database_url=database_url,
                            instructor_token=INSTRUCTOR, **overrides)
        client = TestClient(create_app(settings), raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


def new_game(client, **settings) -> tuple[str, str]:
    answer = client.post("/api/games", json=SMALL | settings, headers=instructor())
    assert answer.status_code == 201, answer.text
    return answer.json()["game"], answer.json()["join_code"]


def join(client, game, code, name) -> tuple[str, str]:
    answer = client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()["team"], answer.json()["token"]


def refused(answer, status: int, field: str) -> dict:
    """Assert the answer is `status` with the API's error body naming `field`; returns the error."""
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["field"] == field, error
    assert {"field", "value", "allowed"} <= set(error)
    return error


def play(client, game) -> dict:
    answer = client.post(f"/api/games/{game}/rounds", headers=instructor())
    assert answer.status_code == 202, answer.text
    status = wait_round(client, game)
    assert status["status"] == "idle", status
    return status


# ---------------------------------------------------------------------------------------------- authentication
def test_only_the_instructor_creates_games_and_plays_rounds(client):
    refused(client.post("/api/games", json=SMALL), 401, "Authorization")
    refused(client.post("/api/games", json=SMALL, headers=bearer("not-the-token")), 403, "Authorization")
    game, code = new_game(client)
    _, token = join(client, game, code, "red")
    refused(client.post("/api/games", json=SMALL, headers=bearer(token)), 403, "Authorization")
    refused(client.post(f"/api/games/{game}/rounds"), 401, "Authorization")
    refused(client.post(f"/api/games/{game}/rounds", headers=bearer(token)), 403, "Authorization")
    assert client.get(f"/api/games/{game}/rounds").json()["rounds_played"] == 0  # nothing was played


def test_ids_are_short_random_strings_and_the_join_code_is_for_the_instructor(client):
    games = [new_game(client) for _ in range(3)]
    ids = [game for game, _ in games]
    assert len(set(ids)) == 3 and all(6 <= len(i) <= 16 and not i.isdigit() for i in ids)
    game, code = games[0]
    assert client.app.state.store.game_by_join_code(code.lower()) == game  # what the join page looks up
    assert client.app.state.store.game_by_join_code("NOSUCH") is None
    assert "join_code" not in client.get(f"/api/games/{game}").json()
    assert client.get(f"/api/games/{game}", headers=instructor()).json()["join_code"] == code


def test_tokens_are_stored_hashed(client, tmp_path, database_url):
    if database_url:
        pytest.skip("reads the SQLite file")
    game, code = new_game(client)
    _, token = join(client, game, code, "red")
    raw = b"".join(path.read_bytes() for path in (tmp_path / "data0").glob("classroom.sqlite3*"))
    assert token.encode() not in raw and INSTRUCTOR.encode() not in raw
    with sqlite3.connect(tmp_path / "data0" / "classroom.sqlite3") as db:
        (stored,) = db.execute("select token_hash from teams").fetchone()
    assert len(stored) == 64 and stored != token


def test_a_cookie_needs_the_csrf_token_to_change_anything(client):
    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    client.cookies.set(f"ll_team_{game}", token)
    refused(client.put(f"/api/games/{game}/teams/{team}/strategy", json={"frontline_care": 0.8}), 403, "X-CSRF-Token")
    client.cookies.set("ll_csrf", "abc123")
    refused(client.put(f"/api/games/{game}/teams/{team}/strategy", json={"frontline_care": 0.8},
                       headers={"X-CSRF-Token": "other"}), 403, "X-CSRF-Token")
    answer = client.put(f"/api/games/{game}/teams/{team}/strategy", json={"frontline_care": 0.8},
                        headers={"X-CSRF-Token": "abc123"})
    assert answer.status_code == 200, answer.text
    assert client.get(f"/api/games/{game}/teams/{team}").json()["strategy"]["levers"]["frontline_care"] == 0.8


# ---------------------------------------------------------------------------------------------- isolation
def test_a_team_sees_and_changes_only_its_own_strategy_and_debrief(client):
    game, code = new_game(client)
    red, red_token = join(client, game, code, "red")
    blue, blue_token = join(client, game, code, "blue team")
    refused(client.put(f"/api/games/{game}/teams/{blue}/strategy", json={"frontline_care": 0.1},
                       headers=bearer(red_token)), 403, "Authorization")
    refused(client.get(f"/api/games/{game}/teams/{blue}", headers=bearer(red_token)), 403, "Authorization")
    refused(client.put(f"/api/games/{game}/teams/{blue}/strategy", json={"frontline_care": 0.1}), 401, "Authorization")
    refused(client.put(f"/api/games/{game}/teams/{blue}/strategy", json={"frontline_care": 0.1},
                       headers=instructor()), 403, "Authorization")  # hand-ins are the team's own
    assert client.put(f"/api/games/{game}/teams/{blue}/strategy", json={"frontline_care": 0.9},
                      headers=bearer(blue_token)).status_code == 200
    play(client, game)
    mine = client.get(f"/api/games/{game}/teams/{red}", headers=bearer(red_token))
    assert mine.status_code == 200
    assert "blue team" not in mine.text  # no other team's strategy, results or debrief
    assert mine.json()["results"][0]["strategy"] == Strategy().as_dict()  # red handed in nothing: the default
    theirs = client.get(f"/api/games/{game}/teams/{blue}", headers=instructor()).json()  # the instructor sees all
    assert theirs["results"][0]["strategy"]["frontline_care"] == 0.9
    assert theirs["debrief"].startswith("Round 1 of 2 on telecom: blue team ranks")


def test_a_token_of_another_game_is_refused(client):
    game_a, code_a = new_game(client)
    game_b, code_b = new_game(client)
    team_a, token_a = join(client, game_a, code_a, "red")
    join(client, game_b, code_b, "red")
    refused(client.put(f"/api/games/{game_b}/teams/{team_a}/strategy", json={}, headers=bearer(token_a)),
            403, "Authorization")  # the token is checked before the team: a stranger learns nothing
    team_b = client.get(f"/api/games/{game_b}").json()["teams"][0]["team"]
    refused(client.put(f"/api/games/{game_b}/teams/{team_b}/strategy", json={}, headers=bearer(token_a)),
            403, "Authorization")


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("body, field", [
    ({"scenario": "mars"}, "scenario"), ({"scenario": "../../etc/passwd"}, "scenario"), ({"scenario": 3}, "scenario"),
    ({"rounds": 0}, "rounds"), ({"rounds": 21}, "rounds"), ({"months_per_round": "six"}, "months_per_round"),
    ({"n_customers": 10}, "n_customers"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"colour": "red"}, "colour"),
])
def test_bad_game_settings_name_the_field(client, body, field):
    error = refused(client.post("/api/games", json=SMALL | body, headers=instructor()), 400, field)
    assert error["allowed"]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\"levers\"", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused(client, raw):
    refused(client.post("/api/games", content=raw, headers=instructor()), 400, "body")
    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    refused(client.put(f"/api/games/{game}/teams/{team}/strategy", content=raw, headers=bearer(token)), 400, "body")


@pytest.mark.parametrize("levers, field", [
    ({"frontline_care": 1.5}, "frontline_care"), ({"frontline_care": "high"}, "frontline_care"),
    ({"price_index": -1}, "price_index"), ({"loyalty_programme": "free_money"}, "loyalty_programme"),
    ({"frontline_cares": 0.5}, "frontline_cares"), ({"<script>alert(1)</script>": 1}, "<script>alert(1)</script>"),
    ({"frontline_care": 0.5, "Frontline_Care": 0.6}, "frontline_care"),
])
def test_bad_levers_name_the_field_and_change_nothing(client, levers, field):
    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    error = refused(client.put(f"/api/games/{game}/teams/{team}/strategy", json=levers, headers=bearer(token)), 400, field)
    assert error["allowed"]
    view = client.get(f"/api/games/{game}/teams/{team}", headers=bearer(token)).json()
    assert view["handed_in"] is False and view["strategy"]["source"] == "default"


def test_several_bad_levers_are_all_listed(client):
    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    error = refused(client.put(f"/api/games/{game}/teams/{team}/strategy", json={"frontline_care": 2, "nope": 1},
                               headers=bearer(token)), 400, "frontline_care")
    assert [e["field"] for e in error["errors"]] == ["frontline_care", "nope"]


@pytest.mark.parametrize("body, status, field", [
    ({"join_code": "WRONG1", "name": "red"}, 403, "join_code"), ({"name": "red"}, 400, "join_code"),
    ({"join_code": 123456, "name": "red"}, 400, "join_code"), ({"join_code": "CODE", "name": ""}, 400, "name"),
    ({"join_code": "CODE", "name": "x" * 41}, 400, "name"), ({"join_code": "CODE", "name": "a\nb"}, 400, "name"),
    ({"join_code": "CODE", "name": ["red"]}, 400, "name"), ({"join_code": "CODE", "name": "red", "x": 1}, 400, "x"),
])
def test_bad_joins_name_the_field(client, body, status, field):
    game, code = new_game(client)
    body = {k: (code if v == "CODE" else v) for k, v in body.items()}
    refused(client.post(f"/api/games/{game}/teams", json=body), status, field)
    assert client.get(f"/api/games/{game}").json()["teams"] == []


def test_a_team_name_is_taken_once_whatever_its_case_and_kept_as_typed(client):
    game, code = new_game(client)
    join(client, game, code, "<script>alert(1)</script>")
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "<SCRIPT>alert(1)</SCRIPT>"}),
            400, "name")
    assert client.get(f"/api/games/{game}").json()["teams"][0]["name"] == "<script>alert(1)</script>"


def test_unknown_games_and_teams_are_404(client):
    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    for answer in (client.get("/api/games/nosuchgame"), client.get("/api/games/nosuchgame/leaderboard"),
                   client.get("/api/games/nosuchgame/rounds"), client.get("/api/games/nosuchgame/history"),
                   client.post("/api/games/nosuchgame/teams", json={"join_code": code, "name": "x"}),
                   client.put(f"/api/games/nosuchgame/teams/{team}/strategy", json={}, headers=bearer(token)),
                   client.post("/api/games/nosuchgame/rounds", headers=instructor())):
        refused(answer, 404, "game")
    refused(client.get(f"/api/games/{game}/teams/nosuchteam", headers=instructor()), 404, "team")


def test_a_body_over_64_kb_is_413(client):
    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    big = {"frontline_care": 0.5, "padding": "x" * 70_000}
    refused(client.put(f"/api/games/{game}/teams/{team}/strategy", json=big, headers=bearer(token)), 413, "body")
    refused(client.post("/api/games", content=b" " * 65_537, headers=instructor()), 413, "body")

    def chunks():  # no Content-Length: the limit holds on what actually arrives
        for _ in range(20):
            yield b" " * 4096
    refused(client.post(f"/api/games/{game}/teams", content=chunks()), 413, "body")
    assert client.post("/api/games", content=json.dumps(SMALL).ljust(65_536).encode(),
                       headers=instructor()).status_code == 201  # exactly the limit is fine


def test_joining_is_rate_limited_per_address(make_client):
    client = make_client(join_rate_limit=(3, 60.0))
    game, code = new_game(client)
    for name in ("a", "b"):
        join(client, game, code, name)
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": "BAD", "name": "c"}), 403, "join_code")
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "d"}), 429, "join")
    assert len(client.get(f"/api/games/{game}").json()["teams"]) == 2


# ---------------------------------------------------------------------------------------------- rounds
def test_rounds_play_the_hand_ins_and_report_standings_history_and_debriefs(client):
    game, code = new_game(client)
    red, red_token = join(client, game, code, "red")
    blue, blue_token = join(client, game, code, "blue")
    assert client.get(f"/api/games/{game}/leaderboard").json()["standings"] == []
    answer = client.put(f"/api/games/{game}/teams/{red}/strategy", json={"price_index": 0.8}, headers=bearer(red_token))
    assert answer.json()["round"] == 1
    assert [t["handed_in"] for t in client.get(f"/api/games/{game}").json()["teams"]] == [True, False]
    play(client, game)
    board = client.get(f"/api/games/{game}/leaderboard").json()
    assert board["round"] == 1 and sorted(row["team"] for row in board["standings"]) == ["blue", "red"]
    assert [row["rank"] for row in board["standings"]] == [1, 2]
    history = client.get(f"/api/games/{game}/history").json()["history"]
    assert len(history) == 2 * (SMALL["months_per_round"] + 1)  # months 0..3 for two teams
    red_view = client.get(f"/api/games/{game}/teams/{red}", headers=bearer(red_token)).json()
    assert red_view["results"][0]["strategy"]["price_index"] == 0.8 and red_view["results"][0]["note"] is None
    blue_view = client.get(f"/api/games/{game}/teams/{blue}", headers=bearer(blue_token)).json()
    assert "handed in nothing" in blue_view["results"][0]["note"]
    assert [t["handed_in"] for t in client.get(f"/api/games/{game}").json()["teams"]] == [False, False]
    play(client, game)
    refused(client.post(f"/api/games/{game}/rounds", headers=instructor()), 409, "round")  # the game is over
    refused(client.put(f"/api/games/{game}/teams/{red}/strategy", json={}, headers=bearer(red_token)), 409, "game")
    assert client.get(f"/api/games/{game}/leaderboard").json()["round"] == 2
    assert len(client.get(f"/api/games/{game}/history").json()["history"]) == 2 * (2 * SMALL["months_per_round"] + 1)


def test_the_same_game_gives_the_same_standings_as_the_engine(client):
    from simulations.game import Game, GameSettings

    game, code = new_game(client)
    red, token = join(client, game, code, "red")
    join(client, game, code, "blue")
    client.put(f"/api/games/{game}/teams/{red}/strategy", json={"frontline_care": 0.9}, headers=bearer(token))
    play(client, game)
    expected = Game(GameSettings("telecom", 2, 3, 300, 5), teams=["red", "blue"])
    expected.play_round({"red": {"frontline_care": 0.9}})
    served = client.get(f"/api/games/{game}/leaderboard").json()["standings"]
    assert [(r["team"], r["profit"]) for r in served] == [(r["team"], r["profit"]) for r in expected.standings().to_dict("records")]


def test_no_round_without_teams_and_no_joining_after_the_first_round(client):
    game, code = new_game(client)
    refused(client.post(f"/api/games/{game}/rounds", headers=instructor()), 409, "teams")
    join(client, game, code, "red")
    play(client, game)
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "late"}), 409, "game")


def test_a_round_runs_in_the_worker_with_progress_and_only_once(client, monkeypatch):
    # the worker reports progress every HEARTBEAT_SECONDS (0.5 s); on a quiet machine this round takes less than
    # that, so beat faster here, or whether any progress shows would depend on the machine's load
    monkeypatch.setattr("classroom.rounds.HEARTBEAT_SECONDS", 0.02)
    game, code = new_game(client, n_customers=60_000, months_per_round=6)
    team, token = join(client, game, code, "red")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        client.post(f"/api/games/{game}/rounds", headers=instructor()))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [202, 409, 409, 409]  # one claim wins
    status = client.get(f"/api/games/{game}/rounds").json()
    assert status["status"] == "running" and status["round"] == 1 and "phase" in status["progress"]
    handed = client.put(f"/api/games/{game}/teams/{team}/strategy", json={"frontline_care": 0.7}, headers=bearer(token))
    assert handed.json()["round"] == 2  # handed in while round 1 runs: it counts for round 2
    seen = set()
    while status["status"] == "running":
        seen.add(status["progress"].get("months_done"))
        status = client.get(f"/api/games/{game}/rounds").json()
    assert status == {"status": "idle", "rounds_played": 1, "rounds": 2}
    assert seen & {1, 2, 3, 4, 5, 6}, seen  # the months simulated so far were reported while it ran
    play(client, game)
    view = client.get(f"/api/games/{game}/teams/{team}", headers=bearer(token)).json()
    assert [r["strategy"]["frontline_care"] for r in view["results"]] == [Strategy().frontline_care, 0.7]


def test_a_round_whose_worker_died_counts_as_interrupted_and_can_be_played_again(client, monkeypatch):
    from classroom import storage

    game, code = new_game(client)
    join(client, game, code, "red")
    client.app.state.store.claim_round(game)  # claimed, but no worker plays it: as if its process had died
    assert client.get(f"/api/games/{game}/rounds").json()["status"] == "running"
    refused(client.post(f"/api/games/{game}/rounds", headers=instructor()), 409, "round")
    monkeypatch.setattr(storage, "STALE_AFTER", 0.2)
    time.sleep(0.5)  # no heartbeat for longer than STALE_AFTER
    status = client.get(f"/api/games/{game}/rounds").json()
    assert status["status"] == "interrupted" and "play it again" in status["error"]
    assert client.post(f"/api/games/{game}/rounds", headers=instructor()).status_code == 202
    monkeypatch.undo()  # the new worker beats every 0.5 s: back to the normal staleness limit while it plays
    assert wait_round(client, game) == {"status": "idle", "rounds_played": 1, "rounds": 2}


CORE = [  # the tests test_classroom_pg.py runs again on PostgreSQL
    "test_only_the_instructor_creates_games_and_plays_rounds", "test_a_team_sees_and_changes_only_its_own_strategy_and_debrief",
    "test_bad_levers_name_the_field_and_change_nothing", "test_bad_joins_name_the_field", "test_unknown_games_and_teams_are_404",
    "test_rounds_play_the_hand_ins_and_report_standings_history_and_debriefs",
    "test_a_round_runs_in_the_worker_with_progress_and_only_once", "test_a_body_over_64_kb_is_413",
    "test_a_round_whose_worker_died_counts_as_interrupted_and_can_be_played_again",
]


def test_stored_debriefs_are_the_engines_own():
    from classroom.rounds import round_results
    from simulations.game import Game, GameSettings

    game = Game(GameSettings("telecom", 2, 3, 300, 1), teams=["a", "<b>"])
    game.play_round({})
    game.play_round({"a": "neglect"})
    results = round_results(game)
    assert results["debriefs"] == {team: game.debrief(team) for team in game.teams}
    assert {row["round"] for row in results["history"]} == {2}


def test_the_command_refuses_bad_options_in_one_line(tmp_path, capsys):
    from simulations.cli import main

    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    assert main(["classroom", "--port", "70000"]) == 2
    assert main(["classroom", "--data", str(a_file)]) == 2
    assert main(["classroom", "--data", str(tmp_path / "d"), "--database-url", "nosuchdb://x"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and "Traceback" not in "\n".join(lines)
    assert "--port" in lines[0] and "--data" in lines[1] and "--database-url" in lines[2]


def test_what_the_room_is_shown_is_kept_with_the_game(tmp_path):
    """The projector's revealed round lives in the database: every app process and a restarted server agree on it."""
    from classroom.storage import Store, StoreError

    url = f"sqlite:///{tmp_path / 'classroom.sqlite'}"
    store = Store(url)
    game_id, _ = store.create_game("telecom", 2, 2, 200, 1)
    assert store.revealed(game_id) == 0
    with pytest.raises(StoreError, match="round"):
        store.reveal(game_id, 1)  # nothing played yet: nothing to show
    store.close()
    assert Store(url).revealed(game_id) == 0
