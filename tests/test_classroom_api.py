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


def play(client, game, reveal: bool = True) -> dict:
    """Play the next round and (as an instructor does once the room is ready) reveal it."""
    answer = client.post(f"/api/games/{game}/rounds", headers=instructor())
    assert answer.status_code == 202, answer.text
    status = wait_round(client, game)
    assert status["status"] == "idle", status
    if reveal:
        assert client.post(f"/api/games/{game}/reveal", headers=instructor()).status_code == 200
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
    body = mine.json()
    flows = [result.pop("flows") for result in body["results"]]  # who took whose customers names the rivals (issue 19)
    assert set(flows[0]["won_from"]) | set(flows[0]["lost_to"]) <= {"blue team", ""}
    assert "blue team" not in json.dumps(body)  # no other team's strategy, results or debrief
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
            409, "name")
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


def test_failed_joins_are_rate_limited_per_address_and_successful_ones_never(make_client):
    client = make_client(join_rate_limit=(3, 60.0))
    game, code = new_game(client)
    for name in ("a", "b", "c", "d", "e"):  # five joins from one address: more than the limit, all fine
        join(client, game, code, name)
    for _ in range(3):
        refused(client.post(f"/api/games/{game}/teams", json={"join_code": "BAD", "name": "f"}), 403, "join_code")
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "f"}), 429, "join")
    assert len(client.get(f"/api/games/{game}").json()["teams"]) == 5


def test_two_hundred_joins_from_one_campus_address_are_all_let_in(client):
    """A lecture hall behind one NAT address: 5 games of 40 teams join within seconds, none refused."""
    answers = []
    for _ in range(5):
        game, code = new_game(client)
        answers += [client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": f"team {n}"}).status_code
                    for n in range(40)]
    assert answers == [201] * 200


# ---------------------------------------------------------------------------------------------- names and PINs
@pytest.mark.parametrize("name, allowed", [
    ("l\u043ewer", "one alphabet"), ("\u200b\u200b", "invisible"), ("exe\u202egnp.", "invisible"),
    ("a\u0000b", "control"), ("x" * 31, "at most 30"), ("   ", "at least one letter"), ("\U0001F525" * 3, "at least one letter"),
    ("red\u2028team", "line break"), ("\ue000", "private-use"),
])
def test_names_that_cannot_be_told_apart_or_read_are_refused_saying_why(client, name, allowed):
    game, code = new_game(client)
    error = refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": name}), 400, "name")
    assert allowed in error["allowed"], error


@pytest.mark.parametrize("first, second", [
    ("lower", "\uff2c\uff4f\uff57\uff45\uff52"), ("lower", "LOWER"), ("Top", "\u0422\u043e\u0440"),
    ("red  team", " red team "), ("Stra\u00dfe", "STRASSE"), ("team 10", "team lo"),
])
def test_names_that_look_the_same_clash_with_409(client, first, second):
    game, code = new_game(client)
    join(client, game, code, first)
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": second}), 409, "name")


def test_a_name_is_shown_normalized_and_may_hold_a_slash(client):
    game, code = new_game(client)
    _, token = join(client, game, code, "\uff32\uff45\uff44  /  Blue")
    assert client.get(f"/api/games/{game}").json()["teams"][0]["name"] == "Red / Blue"
    join(client, game, code, "\u0417\u0435\u043d\u0438\u0442")  # a name in one other alphabet is fine
    play(client, game)


def test_a_team_joins_again_from_any_device_with_its_pin(client):
    game, code = new_game(client)
    created = client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "Red"})
    assert created.status_code == 201
    team, first_token, pin = created.json()["team"], created.json()["token"], created.json()["pin"]
    assert len(pin) == 6 and pin.isdigit() and pin not in client.get(f"/api/games/{game}").text
    assert client.app.state.store.team_pin(team) == pin
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "red"}), 409, "name")
    wrong = f"{(int(pin) + 1) % 10**6:06d}"
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "red", "pin": wrong}), 403, "pin")
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "Rd", "pin": pin}), 404, "name")
    refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "Red", "pin": "12ab"}), 400, "pin")
    play(client, game)  # joining again works after the game has started
    again = client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": " RED", "pin": pin[:3] + " " + pin[3:]})
    assert again.status_code == 200, again.text
    assert again.json()["team"] == team and again.json()["token"] != first_token and "pin" not in again.json()
    for token in (first_token, again.json()["token"]):  # both devices act for the team
        assert client.put(f"/api/games/{game}/teams/{team}/strategy", json={"price_index": 0.9},
                          headers=bearer(token)).status_code == 200
    assert len(client.get(f"/api/games/{game}").json()["teams"]) == 1  # no ghost team


def test_a_new_team_after_the_first_round_is_told_in_plain_words(client):
    game, code = new_game(client)
    join(client, game, code, "red")
    play(client, game)
    error = refused(client.post(f"/api/games/{game}/teams", json={"join_code": code, "name": "late"}), 409, "game")
    assert error["allowed"] == "joining before the first round is played (the instructor can allow late joins)"


@pytest.mark.parametrize("raw, field", [
    (b'{"rounds": NaN}', "rounds"), (b'{"rounds": Infinity}', "rounds"), (b'{"seed": -Infinity}', "seed"),
    (b'{"seed": 1e400}', "seed"), (b'{"seed": ' + b"9" * 400 + b"}", "seed"),
    (b'{"rounds": ' + b"[" * 20 + b"]" * 20 + b"}", "rounds"), (b"[" * 30_000 + b"]" * 30_000, "body"),
    (b'{"a": ' * 3000 + b"1" + b"}" * 3000, "body"),
])
def test_numbers_a_double_cannot_hold_and_deep_nesting_are_400s_naming_the_field(client, raw, field):
    refused(client.post("/api/games", content=raw, headers=instructor()), 400, field)


@pytest.mark.parametrize("raw, field", [
    (b'{"price_index": NaN}', "price_index"), (b'{"price_index": Infinity}', "price_index"),
    (b'{"price_index": 1e400}', "price_index"), (b'{"price_index": 1e308}', "price_index"),
    (b'{"frontline_care": -1e400}', "frontline_care"),
])
def test_a_hand_in_with_a_number_out_of_range_is_a_400_naming_the_lever(client, raw, field):
    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    refused(client.put(f"/api/games/{game}/teams/{team}/strategy", content=raw, headers=bearer(token)), 400, field)
    assert client.get(f"/api/games/{game}/teams/{team}", headers=bearer(token)).json()["handed_in"] is False


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_a_body_that_is_not_sent_as_json_is_415(client, media):
    refused(client.post("/api/games", content=json.dumps(SMALL), headers=instructor() | {"Content-Type": media}),
            415, "Content-Type")
    game, code = new_game(client)
    refused(client.post(f"/api/games/{game}/teams", content=json.dumps({"join_code": code, "name": "red"}),
                        headers={"Content-Type": media}), 415, "Content-Type")
    assert client.get(f"/api/games/{game}").json()["teams"] == []
    ok = client.post("/api/games", content=json.dumps(SMALL), headers=instructor() | {
        "Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 201, ok.text


def test_an_empty_body_creates_a_game_with_the_defaults_like_an_empty_object(client):
    empty = client.post("/api/games", content=b"", headers=instructor())
    braces = client.post("/api/games", json={}, headers=instructor())
    assert empty.status_code == braces.status_code == 201, empty.text
    assert empty.json()["settings"] == braces.json()["settings"]
    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    refused(client.put(f"/api/games/{game}/teams/{team}/strategy", content=b"", headers=bearer(token)), 400, "body")


# ---------------------------------------------------------------------------------------------- lost updates
def test_a_hand_in_based_on_a_replaced_strategy_is_409_with_the_teammate_s(client):
    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    url = f"/api/games/{game}/teams/{team}"
    seen = client.get(url, headers=bearer(token))
    assert seen.headers["ETag"] == '"0"' and seen.json()["strategy"]["version"] == 0
    first = client.put(f"{url}/strategy", json={"price_index": 0.75}, headers=bearer(token) | {"If-Match": '"0"'})
    assert first.status_code == 200 and first.json()["version"] == 1 and first.headers["ETag"] == '"1"'
    stale = client.put(f"{url}/strategy", json={"price_index": 0.85}, headers=bearer(token) | {"If-Match": '"0"'})
    error = refused(stale, 409, "version")
    assert error["current"]["levers"]["price_index"] == 0.75 and error["current"]["version"] == 1
    assert client.get(url, headers=bearer(token)).json()["strategy"]["levers"]["price_index"] == 0.75  # kept
    again = client.put(f"{url}/strategy", json={"price_index": 0.8}, headers=bearer(token) | {"If-Match": "1"})
    assert again.status_code == 200 and again.json()["version"] == 2
    assert client.put(f"{url}/strategy", json={"price_index": 0.9}, headers=bearer(token)).json()["version"] == 3
    refused(client.put(f"{url}/strategy", json={}, headers=bearer(token) | {"If-Match": "three"}), 400, "If-Match")
    play(client, game)  # versions go on across rounds: a form loaded before the round is still current after it
    after = client.put(f"{url}/strategy", json={"price_index": 1.0}, headers=bearer(token) | {"If-Match": "3"})
    assert after.status_code == 200 and after.json()["round"] == 2


# ---------------------------------------------------------------------------------------------- the reveal
def test_nothing_of_a_round_is_shown_before_the_instructor_reveals_it(client):
    game, code = new_game(client)
    red, red_token = join(client, game, code, "red")
    join(client, game, code, "blue")

    def public():
        return (client.get(f"/api/games/{game}/leaderboard").json(),
                client.get(f"/api/games/{game}/history").json()["history"],
                client.get(f"/api/games/{game}/teams/{red}", headers=bearer(red_token)).json())

    play(client, game, reveal=False)
    board, history, mine = public()
    assert board["round"] == 0 and board["standings"] == [] and board["rounds_played"] == 1
    assert history == [] and mine["results"] == [] and mine["debrief"] is None
    assert "blue" not in json.dumps([board, history, mine])
    seen = client.get(f"/api/games/{game}/leaderboard", headers=instructor()).json()  # the instructor sees all
    assert seen["round"] == 1 and len(seen["standings"]) == 2
    assert len(client.get(f"/api/games/{game}/teams/{red}", headers=instructor()).json()["results"]) == 1

    assert client.post(f"/api/games/{game}/reveal", headers=instructor()).json()["revealed"] == 1
    board_1, history_1, mine_1 = public()
    assert board_1["round"] == 1 and board_1["standings"] == seen["standings"] and len(mine_1["results"]) == 1

    play(client, game, reveal=False)  # round 2 played, not revealed: the room still sees round 1, all of it
    board, history, mine = public()
    assert board == board_1 | {"rounds_played": 2} and history == history_1 and mine["results"] == mine_1["results"]
    assert {row["round"] for row in history} == {0, 1}
    assert client.get(f"/api/games/{game}/rounds").json()["revealed"] == 1
    assert client.get(f"/api/games/{game}/leaderboard", headers=instructor()).json()["round"] == 2


def test_only_the_instructor_reveals_and_only_a_played_round(client):
    game, code = new_game(client)
    _, token = join(client, game, code, "red")
    refused(client.post(f"/api/games/{game}/reveal"), 401, "Authorization")
    refused(client.post(f"/api/games/{game}/reveal", headers=bearer(token)), 403, "Authorization")
    refused(client.post(f"/api/games/{game}/reveal", json={"round": 1}, headers=instructor()), 400, "round")
    refused(client.post(f"/api/games/{game}/reveal", json={"round": "1"}, headers=instructor()), 400, "round")
    play(client, game)
    assert client.get(f"/api/games/{game}/rounds").json()["revealed"] == 1


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
    assert status == {"status": "idle", "rounds_played": 1, "rounds": 2, "revealed": 0}
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
    assert wait_round(client, game) == {"status": "idle", "rounds_played": 1, "rounds": 2, "revealed": 0}


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
    # the customers won and lost by rival are saved as numbers (flows) and shown as a table, not in the text
    assert results["debriefs"] == {team: game.debrief(team, flows=False) for team in game.teams}
    assert results["flows"] == {team: {way: {("" if k is None else k): n for k, n in counts.items()}
                                       for way, counts in flow.items()} for team, flow in game.customer_flows().items()}
    assert {row["round"] for row in results["history"]} == {2}
    for index, row in enumerate(results["standings"]):  # the debrief's why: score parts and churn by cause
        assert sum(results["score_parts"][row["team"]].values()) == pytest.approx(row["score"], abs=1e-9)
    ledger, active = game.market.ledger, game.market.active_by_firm()
    for index, team in enumerate(game.market.firms):
        assert sum(results["churn"][team].values()) == ledger.acquired[index] - active[index]


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


def test_the_instructor_renames_merges_and_removes_teams_before_the_first_round(client):
    game, code = new_game(client)
    red, red_token = join(client, game, code, "red")
    ghost, ghost_token = join(client, game, code, "red 2")  # a second phone made a second team
    blue, _ = join(client, game, code, "blue")
    refused(client.patch(f"/api/games/{game}/teams/{red}", json={"name": "Reds"}, headers=bearer(red_token)),
            403, "Authorization")
    assert client.patch(f"/api/games/{game}/teams/{red}", json={"name": "Ｒeds"},
                        headers=instructor()).json()["name"] == "Reds"
    refused(client.patch(f"/api/games/{game}/teams/{blue}", json={"name": "REDS"}, headers=instructor()), 409, "name")
    refused(client.patch(f"/api/games/{game}/teams/{blue}", json={"name": "\u200b"}, headers=instructor()), 400, "name")
    refused(client.patch(f"/api/games/{game}/teams/{blue}", json={}, headers=instructor()), 400, "body")
    merged = client.patch(f"/api/games/{game}/teams/{ghost}", json={"merge_into": red}, headers=instructor())
    assert merged.status_code == 200 and merged.json()["devices_moved"] == 1
    assert client.put(f"/api/games/{game}/teams/{red}/strategy", json={"price_index": 0.9},
                      headers=bearer(ghost_token)).status_code == 200  # the second phone now acts for red
    assert client.delete(f"/api/games/{game}/teams/{blue}", headers=instructor()).status_code == 204
    assert [t["name"] for t in client.get(f"/api/games/{game}").json()["teams"]] == ["Reds"]
    refused(client.delete(f"/api/games/{game}/teams/{blue}", headers=instructor()), 404, "team")
    play(client, game)
    refused(client.patch(f"/api/games/{game}/teams/{red}", json={"name": "x"}, headers=instructor()), 409, "game")
    refused(client.delete(f"/api/games/{game}/teams/{red}", headers=instructor()), 409, "game")


# ---------------------------------------------------------------------------------------------- round control, grading
def test_the_export_has_a_row_per_team_and_round_with_levers_outcomes_and_score_parts(client):
    import csv
    import io

    game, code = new_game(client)
    red, token = join(client, game, code, "=red")  # a name a spreadsheet would run as a formula
    join(client, game, code, "blue")
    client.put(f"/api/games/{game}/teams/{red}/strategy", json={"price_index": 0.8}, headers=bearer(token))
    play(client, game, reveal=False)
    play(client, game, reveal=False)
    refused(client.get(f"/api/games/{game}/export.csv"), 401, "Authorization")
    refused(client.get(f"/api/games/{game}/export.csv", headers=bearer(token)), 403, "Authorization")
    answer = client.get(f"/api/games/{game}/export.csv", headers=instructor())
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert f"loyalty-lab-{game}.csv" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["round"], r["team"]) for r in rows if r["team"] == "'=red"] == [("1", "'=red"), ("2", "'=red")]
    assert len(rows) == 4
    board = client.get(f"/api/games/{game}/leaderboard", headers=instructor()).json()["standings"]
    for row in (r for r in rows if r["round"] == "2"):
        standing = next(s for s in board if s["team"] == row["team"].lstrip("'"))
        parts = [float(row[f"points_{o}"]) for o in ("profit", "retention_12m", "mean_satisfaction", "nps")]
        assert abs(sum(parts) - float(row["score"])) < 1e-9 and float(row["score"]) == pytest.approx(standing["score"])
        assert float(row["profit"]) == pytest.approx(standing["profit"]) and int(row["rank"]) == standing["rank"]
    red_rows = [r for r in rows if r["team"] == "'=red"]
    assert float(red_rows[0]["lever_price_index"]) == 0.8 and red_rows[1]["note"].startswith("handed in nothing")


def test_a_deadline_locks_hand_ins_at_zero_and_the_round_clears_it(client, monkeypatch):
    from classroom import storage

    game, code = new_game(client)
    team, token = join(client, game, code, "red")
    refused(client.post(f"/api/games/{game}/deadline", json={"seconds": 60}), 401, "Authorization")
    refused(client.post(f"/api/games/{game}/deadline", json={"seconds": -5}, headers=instructor()), 400, "seconds")
    refused(client.post(f"/api/games/{game}/deadline", json={}, headers=instructor()), 400, "seconds")
    assert client.post(f"/api/games/{game}/deadline", json={"seconds": 60}, headers=instructor()).status_code == 200
    status = client.get(f"/api/games/{game}/rounds").json()
    assert 55 < status["deadline_in"] <= 60
    assert client.put(f"/api/games/{game}/teams/{team}/strategy", json={}, headers=bearer(token)).status_code == 200
    now = time.time()
    monkeypatch.setattr(storage, "_now", lambda: now + 61)  # the minute is up
    assert client.get(f"/api/games/{game}/rounds").json()["deadline_in"] == 0
    refused(client.put(f"/api/games/{game}/teams/{team}/strategy", json={}, headers=bearer(token)), 409, "deadline")
    monkeypatch.undo()
    play(client, game)
    assert "deadline_in" not in client.get(f"/api/games/{game}/rounds").json()  # the round cleared it
    assert client.put(f"/api/games/{game}/teams/{team}/strategy", json={}, headers=bearer(token)).status_code == 200


def test_an_announcement_reaches_everyone_and_is_one_line(client):
    game, code = new_game(client)
    refused(client.post(f"/api/games/{game}/announcement", json={"text": "a\nb"}, headers=instructor()), 400, "text")
    refused(client.post(f"/api/games/{game}/announcement", json={"text": "x" * 201}, headers=instructor()), 400, "text")
    assert client.post(f"/api/games/{game}/announcement", json={"text": "Two minutes left"},
                       headers=instructor()).status_code == 200
    assert client.get(f"/api/games/{game}/rounds").json()["announcement"] == "Two minutes left"
    client.post(f"/api/games/{game}/announcement", json={"text": ""}, headers=instructor())
    assert "announcement" not in client.get(f"/api/games/{game}/rounds").json()


def test_undo_takes_back_the_last_round_and_replaying_it_gives_the_same_results(client):
    game, code = new_game(client)
    red, token = join(client, game, code, "red")
    join(client, game, code, "blue")
    client.put(f"/api/games/{game}/teams/{red}/strategy", json={"price_index": 0.8}, headers=bearer(token))
    play(client, game)
    first = client.get(f"/api/games/{game}/leaderboard").json()
    refused(client.post(f"/api/games/{game}/undo", headers=bearer(token)), 403, "Authorization")
    assert client.post(f"/api/games/{game}/undo", headers=instructor()).json()["undone"] == 1
    status = client.get(f"/api/games/{game}/rounds").json()
    assert status["rounds_played"] == 0 and status["revealed"] == 0
    assert client.get(f"/api/games/{game}/leaderboard").json()["standings"] == []
    assert client.get(f"/api/games/{game}/teams/{red}", headers=bearer(token)).json()["strategy"]["levers"][
        "price_index"] == 0.8  # the hand-in for the round stays
    refused(client.post(f"/api/games/{game}/undo", headers=instructor()), 409, "round")
    play(client, game)
    assert client.get(f"/api/games/{game}/leaderboard").json() == first  # replayed from the record: the same
    play(client, game)
    client.post(f"/api/games/{game}/undo", headers=instructor())
    play(client, game)  # round 2 again, on the game replayed from round 1's record
    assert client.get(f"/api/games/{game}/leaderboard").json()["round"] == 2


def test_ending_early_stops_the_game_and_a_rematch_keeps_the_roster_and_devices(client):
    game, code = new_game(client, rounds=3)
    red, token = join(client, game, code, "red")
    join(client, game, code, "blue")
    refused(client.post(f"/api/games/{game}/end", headers=instructor()), 409, "game")  # nothing played yet
    play(client, game)
    assert client.post(f"/api/games/{game}/end", headers=instructor()).status_code == 200
    refused(client.post(f"/api/games/{game}/rounds", headers=instructor()), 409, "round")
    refused(client.put(f"/api/games/{game}/teams/{red}/strategy", json={}, headers=bearer(token)), 409, "game")
    shown = client.get(f"/api/games/{game}").json()
    assert shown["finished"] is True and shown["ended_early"] is True
    made = client.post(f"/api/games/{game}/rematch", headers=instructor())
    assert made.status_code == 201, made.text
    new = made.json()["rematch"]
    assert client.get(f"/api/games/{game}").json()["rematch"] == new
    again = client.get(f"/api/games/{new}").json()
    assert [t["name"] for t in again["teams"]] == ["red", "blue"] and again["rounds_played"] == 0
    assert again["settings"]["seed"] == SMALL["seed"] + 1
    new_red = again["teams"][0]["team"]
    assert client.put(f"/api/games/{new}/teams/{new_red}/strategy", json={"price_index": 0.9},
                      headers=bearer(token)).status_code == 200  # the same phone plays on
    refused(client.post(f"/api/games/{game}/rematch", headers=instructor()), 409, "game")


def test_a_database_made_by_the_previous_version_opens_and_plays(tmp_path):
    """Columns added since (versions, deadlines, announcements, ...) are added to an older classroom's database."""
    from classroom.storage import Store

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE games (id VARCHAR(16) PRIMARY KEY, join_code VARCHAR(16) NOT NULL, record TEXT NOT NULL,
                rounds_played INTEGER NOT NULL, status VARCHAR(16) NOT NULL, claim VARCHAR(32), heartbeat FLOAT,
                progress TEXT, error TEXT, revealed INTEGER NOT NULL, created FLOAT NOT NULL);
            CREATE TABLE teams (id VARCHAR(16) PRIMARY KEY, game_id VARCHAR(16) NOT NULL REFERENCES games(id),
                name VARCHAR(40) NOT NULL, name_key VARCHAR(40) NOT NULL, token_hash VARCHAR(64) NOT NULL UNIQUE,
                position INTEGER NOT NULL, joined FLOAT NOT NULL, UNIQUE (game_id, name_key));
        """)
    store = Store(f"sqlite:///{path}")
    game, code = store.create_game("telecom", 2, 2, 200, 1)
    joined = store.join(game, code, "red")
    assert store.submit(game, joined["team"], {"price_index": 0.9}, based_on=0)["version"] == 1
    store.set_deadline(game, 60)
    store.announce(game, "hello")
    assert store.round_status(game)["announcement"] == "hello"
    store.close()
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(games)")}
    assert {"deadline", "announcement", "ended", "rematch"} <= columns
