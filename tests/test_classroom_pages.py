"""The classroom's pages through Starlette's in-process client: who may open what, escaping, CSRF, per-field errors.

The real browser plays the game in tests/test_classroom_browser.py; these check the rules of the pages one by one,
quickly, on a fresh SQLite database each.
"""

from __future__ import annotations

import re
import time

import pytest
from starlette.testclient import TestClient

from classroom import lever_form
from classroom.app import create_app
from classroom.pages import TEMPLATES_DIR
from classroom.settings import Settings
from simulations import rules
from simulations.parameters import LEVERS
from simulations.scenarios import load_scenario

TOKEN = "pages-test-instructor"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def app(tmp_path):
    return create_app(Settings(data_dir=tmp_path / "data", instructor_token=TOKEN))


def client(app) -> TestClient:
    browser = TestClient(app, follow_redirects=False)
    browser.get("/")  # the first page sets the CSRF cookie, as in a browser
    return browser


def csrf(browser) -> str:
    return browser.cookies["ll_csrf"]


def signed_in_host(app) -> TestClient:
    host = client(app)
    answer = host.post("/host/login", data={"token": TOKEN, "csrf_token": csrf(host), "next": "/host"})
    assert answer.status_code == 303
    return host


def new_game(host, **settings) -> tuple[str, str]:
    form = {"scenario": "telecom", "rounds": "2", "months_per_round": "2", "n_customers": "300", "seed": "3"} | settings
    answer = host.post("/host/games", data={"csrf_token": csrf(host), **form})
    assert answer.status_code == 303, answer.text
    game = answer.headers["location"].rsplit("/", 1)[-1]
    code = re.search(r'id="join-code">(\w+)<', host.get(f"/host/{game}").text).group(1)
    return game, code


def joined_team(app, code, name) -> TestClient:
    team = client(app)
    answer = team.post("/join", data={"csrf_token": csrf(team), "join_code": code.lower(), "name": name})
    assert answer.status_code == 303, answer.text
    return team


def play_round(host, game, reveal: bool = False):
    """Play the next round from the console (and reveal it, when `reveal`)."""
    assert host.post(f"/host/{game}/play", data={"csrf_token": csrf(host)}).status_code == 303
    deadline = time.monotonic() + 60
    while host.get(f"/api/games/{game}/rounds").json()["status"] == "running":
        assert time.monotonic() < deadline, "the round did not finish within 60 s"
        time.sleep(0.1)
    if reveal:
        assert host.post(f"/host/{game}/reveal", data={"csrf_token": csrf(host)}).status_code == 303


# ------------------------------------------------------------------------------------------------ safety
def test_templates_have_no_inline_script_and_pages_forbid_it(app):
    for template in TEMPLATES_DIR.glob("*.html"):
        for tag in re.findall(r"<script[^>]*>", template.read_text()):
            assert 'src="/static/' in tag, f"{template.name}: inline script {tag}"
        assert not re.search(r"\son[a-z]+=", template.read_text()), f"{template.name}: an inline event handler"
    policy = client(app).get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_a_hostile_team_name_is_escaped_on_every_page(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    team = joined_team(app, code, HOSTILE)
    play_round(host, game)
    host.post(f"/host/{game}/reveal", data={"csrf_token": csrf(host)})
    for page in (host.get(f"/host/{game}"), team.get(f"/play/{game}")):
        assert page.status_code == 200
        assert HOSTILE not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert host.get(f"/screen/{game}/data.json").json()["standings"][0]["team"] == HOSTILE  # JSON; the script writes text


def test_posts_without_the_csrf_token_or_from_another_site_are_refused(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    team = joined_team(app, code, "Alpha")
    assert team.post(f"/play/{game}", data={"price_index": "1.0"}).status_code == 403
    assert team.post(f"/play/{game}", data={"price_index": "1.0", "csrf_token": "forged"}).status_code == 403
    other_site = team.post(f"/play/{game}", data={"price_index": "1.0", "csrf_token": csrf(team)},
                           headers={"Origin": "https://elsewhere.example"})
    assert other_site.status_code == 403
    assert host.post(f"/host/{game}/play", data={"confirm": "yes"}).status_code == 403
    assert team.post(f"/play/{game}", data={"price_index": "1.0", "csrf_token": csrf(team)}).status_code == 303


def test_host_pages_are_for_the_instructor_only(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    team = joined_team(app, code, "Alpha")
    stranger = client(app)
    assert 'id="login-form"' in stranger.get(f"/host/{game}").text
    assert stranger.get(f"/host/{game}/status.json").status_code == 401
    assert team.post(f"/host/{game}/play", data={"csrf_token": csrf(team)}).status_code == 401
    assert stranger.post("/host/games", data={"csrf_token": csrf(stranger), "scenario": "telecom"}).status_code == 401
    wrong = stranger.post("/host/login", data={"token": "guess", "csrf_token": csrf(stranger), "next": "/host"})
    assert wrong.status_code == 403 and "ll_instructor" not in stranger.cookies
    assert stranger.post("/host/login", data={"token": TOKEN, "csrf_token": csrf(stranger),
                                              "next": "https://evil.example/"}).headers["location"] == "/host"


def test_a_team_sees_its_own_page_and_no_other(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    alpha, beta = joined_team(app, code, "Alpha"), joined_team(app, code, "Beta")
    play_round(host, game, reveal=True)
    page = alpha.get(f"/play/{game}").text
    assert "Alpha ranks" in page and "Beta ranks" not in page
    assert client(app).get(f"/play/{game}").headers["location"].startswith("/?")  # no team cookie: join first
    assert client(app).get(f"/play/{game}/market.png").status_code == 403
    assert alpha.get(f"/play/{game}/market.png").headers["content-type"] == "image/png"
    assert client(app).get("/play/no-such-game").status_code == 404


def test_bad_levers_come_back_with_every_field_named(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    team = joined_team(app, code, "Alpha")
    answer = team.post(f"/play/{game}", data={"csrf_token": csrf(team), "price_index": "2", "service_gold": "lots",
                                              "loyalty_programme": "free_lunch", "not_a_lever": "x"})
    assert answer.status_code == 400
    errors = dict(re.findall(r'id="error-(\w+)">([^<]*)<', answer.text))
    assert set(errors) == {"price_index", "service_gold", "loyalty_programme"}
    assert "0.7 to 1.3" in errors["price_index"] and "not a number" in errors["service_gold"]
    assert 'value="lots"' in answer.text  # what the team typed is given back to correct
    assert not re.search(r'class="ok"', answer.text)  # nothing was handed in


def test_a_team_s_profit_is_labelled_as_what_it_is_after_every_round(app):
    """The standing's profit is the books' total since the start: after round 2 it is not the round's profit."""
    host = signed_in_host(app)
    game, code = new_game(host)
    alpha = joined_team(app, code, "Alpha")
    joined_team(app, code, "Beta")
    for _ in range(2):
        play_round(host, game, reveal=True)
        page = alpha.get(f"/play/{game}").text
        shown = re.search(r'<th>([^<]*)</th><td id="result-profit">([^<]+)<', page)
        cumulative = re.search(r"\(cumulative ([-\d,]+)\)", page).group(1)
        assert shown.group(1) == "profit (all rounds so far)" and shown.group(2) == cumulative


def test_the_projector_shows_a_round_only_once_revealed(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    joined_team(app, code, "Alpha")
    joined_team(app, code, "Beta")
    play_round(host, game)
    hidden = client(app).get(f"/screen/{game}/data.json").json()
    assert hidden["rounds_played"] == 1 and hidden["standings"] == [] and hidden["figure"] is None
    host.post(f"/host/{game}/reveal", data={"csrf_token": csrf(host)})
    shown = client(app).get(f"/screen/{game}/data.json").json()
    assert [row["team"] for row in shown["standings"]] != [] and shown["revealed"] == 1
    assert client(app).get(shown["figure"]).headers["content-type"] == "image/png"


def test_the_projector_and_team_pages_keep_the_revealed_round_while_the_next_is_played(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    alpha = joined_team(app, code, "Alpha")
    joined_team(app, code, "Beta")
    play_round(host, game)
    assert 'id="results"' not in alpha.get(f"/play/{game}").text  # played, not revealed: no result on the page
    assert 'id="awaiting-reveal"' in alpha.get(f"/play/{game}").text
    host.post(f"/host/{game}/reveal", data={"csrf_token": csrf(host)})
    shown = client(app).get(f"/screen/{game}/data.json").json()
    page_1 = alpha.get(f"/play/{game}").text
    figure_1 = alpha.get(f"/play/{game}/market.png").content
    play_round(host, game)  # round 2 played: the room keeps seeing round 1 until it is revealed
    still = client(app).get(f"/screen/{game}/data.json").json()
    assert still["standings"] == shown["standings"] != [] and still["revealed"] == 1 and still["rounds_played"] == 2
    page_2 = alpha.get(f"/play/{game}").text
    assert "Round 1: your results" in page_2 and "Round 2: your results" not in page_2 and 'id="awaiting-reveal"' in page_2
    assert re.search(r'id="result-profit">([^<]+)<', page_1).group(1) == re.search(r'id="result-profit">([^<]+)<', page_2).group(1)
    assert alpha.get(f"/play/{game}/market.png?round=2").content == figure_1  # asking for round 2 shows round 1
    host.post(f"/host/{game}/reveal", data={"csrf_token": csrf(host)})
    assert "Round 2: your results" in alpha.get(f"/play/{game}").text
    assert alpha.get(f"/play/{game}/market.png").content != figure_1


def test_a_teammate_s_earlier_form_does_not_silently_undo_a_hand_in(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    first = joined_team(app, code, "Alpha")
    second = client(app)  # the teammate's phone, signed in as the same team
    second.cookies.set(f"ll_team_{game}", first.cookies[f"ll_team_{game}"])
    loaded = second.get(f"/play/{game}").text
    version = re.search(r'name="version" value="(\d+)"', loaded).group(1)
    form = {"csrf_token": csrf(first), "version": version, "price_index": "0.75"}
    assert first.post(f"/play/{game}", data=form).status_code == 303
    late = second.post(f"/play/{game}", data={"csrf_token": csrf(second), "version": version, "price_index": "0.85"})
    assert late.status_code == 409 and 'id="stale"' in late.text
    assert re.search(r"<td>Price index[^<]*</td><td>0.85</td><td>0.75</td>", late.text, re.I), late.text
    assert 'id="price_index"' in late.text and 'value="0.75"' in late.text  # the form now shows what was handed in
    newer = re.search(r'name="version" value="(\d+)"', late.text).group(1)
    assert newer != version
    assert second.post(f"/play/{game}", data={"csrf_token": csrf(second), "version": newer,
                                              "price_index": "0.85"}).status_code == 303


def test_a_phone_that_died_joins_its_team_again_with_the_pin(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    first = client(app)
    joined = first.post("/join", data={"csrf_token": csrf(first), "join_code": code, "name": "Alpha"})
    welcome = first.get(joined.headers["location"]).text
    pin = re.search(r'class="pin">(\d{6})<', welcome).group(1)
    assert pin not in first.get(f"/play/{game}").text  # shown once, right after joining
    assert f"PIN {pin}" in host.get(f"/host/{game}").text  # and on the console
    play_round(host, game, reveal=True)
    other = client(app)  # a new phone: the game has started, but a team member gets in with the PIN
    late = other.post("/join", data={"csrf_token": csrf(other), "join_code": code, "name": "Beta"})
    assert late.status_code == 409 and "This game has started" in late.text and "is not allowed" not in late.text
    wrong = other.post("/join", data={"csrf_token": csrf(other), "join_code": code, "name": "alpha", "pin": "000000"
                                      if pin != "000000" else "111111"})
    assert wrong.status_code == 403 and "not the PIN of this team" in wrong.text
    again = other.post("/join", data={"csrf_token": csrf(other), "join_code": code, "name": "alpha", "pin": pin})
    assert again.status_code == 303 and "Alpha ranks" in other.get(f"/play/{game}").text


def test_the_console_renames_merges_and_removes_teams(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    alpha, ghost = joined_team(app, code, "Alpha"), joined_team(app, code, "Alpha again")
    joined_team(app, code, "Nobody")
    teams = {t["name"]: t["team"] for t in host.get(f"/api/games/{game}").json()["teams"]}
    post = {"csrf_token": csrf(host)}
    assert host.post(f"/host/{game}/teams/{teams['Alpha']}/rename", data=post | {"name": "Alphas"}).status_code == 303
    assert host.post(f"/host/{game}/teams/{teams['Alpha again']}/merge",
                     data=post | {"into": teams["Alpha"]}).status_code == 303
    assert host.post(f"/host/{game}/teams/{teams['Nobody']}/remove", data=post).status_code == 303
    clash = host.post(f"/host/{game}/teams/{teams['Alpha']}/rename", data=post | {"name": "\u200bx"})
    assert clash.status_code == 400 and "invisible" in clash.text
    assert [t["name"] for t in host.get(f"/api/games/{game}").json()["teams"]] == ["Alphas"]
    assert "Alphas" in ghost.get(f"/play/{game}").text and "Alphas" in alpha.get(f"/play/{game}").text
    assert 'id="roster"' in host.get(f"/host/{game}").text
    play_round(host, game)
    assert 'id="roster"' not in host.get(f"/host/{game}").text


def test_the_chart_data_stops_at_the_revealed_round_and_is_built_once_per_round(app):
    from classroom import pages

    host = signed_in_host(app)
    game, code = new_game(host)
    alpha = joined_team(app, code, "Alpha")
    joined_team(app, code, "Beta")
    play_round(host, game)
    assert client(app).get(f"/screen/{game}/market.json?round=1").json() == {
        "round": 0, "months": [], "round_ends": [], "teams": []}  # played, not revealed: nothing
    host.post(f"/host/{game}/reveal", data={"csrf_token": csrf(host)})
    play_round(host, game)
    data = alpha.get(f"/screen/{game}/market.json?round=2").json()  # round 2 asked for, round 1 revealed
    board = client(app).get(f"/api/games/{game}/leaderboard").json()
    assert data["round"] == 1 and data["months"] == [0, 1, 2] and data["round_ends"] == [2]
    assert [t["name"] for t in data["teams"]] == [row["team"] for row in board["standings"]]
    assert all(len(t["share"]) == len(t["profit"]) == 3 for t in data["teams"])
    assert abs(sum(t["share"][-1] for t in data["teams"]) - 100 * sum(r["market_share"] for r in board["standings"])) < 0.1
    before = len(pages._charts)
    for _ in range(5):
        alpha.get(f"/screen/{game}/market.json?round=1")
    assert len(pages._charts) == before  # served from the cache
    host.post(f"/host/{game}/reveal", data={"csrf_token": csrf(host)})
    assert alpha.get(f"/screen/{game}/market.json?round=2").json()["round_ends"] == [2, 4]


def test_join_refuses_a_wrong_code_and_a_taken_name(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    joined_team(app, code, "Alpha")
    team = client(app)
    assert team.post("/join", data={"csrf_token": csrf(team), "join_code": "WRONG1", "name": "X"}).status_code == 403
    taken = team.post("/join", data={"csrf_token": csrf(team), "join_code": code, "name": "alpha"})
    assert taken.status_code == 409 and "If it is your team, type its PIN" in taken.text


# ------------------------------------------------------------------------------------------------ the lever form
def test_every_lever_has_a_cost_hint_and_squared_costs_match_the_rule():
    scenario = load_scenario("telecom")
    shown = lever_form.fields({lever.name: lever.default for lever in LEVERS}, scenario)
    assert [field.name for field in shown] == [lever.name for lever in LEVERS]
    assert all(field.cost_hint for field in shown), [field.name for field in shown if not field.cost_hint]
    service = next(field for field in shown if field.name == "service_lead")
    expected = float(rules.lever_cost(0.6, scenario["service_unit_cost"]))
    assert service.cost_hint.startswith(f"{expected:.2f} per Lead customer per month")


def test_the_practice_page_grades_only_the_levers_the_challenge_allows(app):
    learner = client(app)
    page = learner.get("/practice?challenge=ch03_tiering").text
    assert re.search(r'id="price_index"[^>]*disabled', page)
    answer = learner.post("/practice", data={"csrf_token": csrf(learner), "challenge": "ch03_tiering",
                                             "service_lead": "0.2", "price_index": "1.3"})
    assert answer.status_code == 200 and 'id="verdict"' in answer.text
    assert "Profit over the run" in answer.text
    assert learner.post("/practice", data={"csrf_token": csrf(learner), "challenge": "../etc"}).status_code == 400


def test_a_practice_link_with_a_former_challenge_id_opens_the_renamed_challenge(app):
    """The capstone challenge was ch07_capstone until the chapters were numbered in reading order (issue 17)."""
    learner = client(app)
    page = learner.get("/practice?challenge=ch07_capstone").text
    assert 'value="ch08_capstone" selected' in page or re.search(r'value="ch08_capstone"[^>]*selected', page), page[:2000]


def test_the_practice_page_says_how_the_score_is_made(app):
    learner = client(app)
    learner.get("/practice?challenge=ch03_tiering")
    answer = learner.post("/practice", data={"csrf_token": csrf(learner), "challenge": "ch03_tiering", "service_lead": "0.2"})
    assert answer.status_code == 200
    explained = re.search(r'id="score-explained">([^<]*)<', answer.text)
    assert explained and "of 100" in explained.group(1) and "conditions" in explained.group(1)


def test_the_figure_draws_team_names_as_text_even_with_dollar_signs():
    from classroom.figures import market_png

    names = ["$x^2$", "a$b", HOSTILE]
    history = [{"team": name, "month": month, "round": (month + 2) // 3, "market_share": 1 / 3,
                "cumulative_profit": 10.0 * month * index} for index, name in enumerate(names) for month in range(7)]
    for stacked in (False, True):
        png = market_png(history, names, highlight="a$b", stacked=stacked)
        assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_the_console_controls_the_rounds_and_exports_the_results(app):
    host = signed_in_host(app)
    game, code = new_game(host, rounds="3")
    alpha = joined_team(app, code, "Alpha")
    joined_team(app, code, "Beta")
    post = {"csrf_token": csrf(host)}
    console = host.get(f"/host/{game}").text
    assert 'id="play-round-open"' in console and "0 of 2 teams have handed in" in console  # asked before playing
    assert host.post(f"/host/{game}/control/deadline", data=post | {"minutes": "2"}).status_code == 303
    assert host.post(f"/host/{game}/control/announce", data=post | {"text": "Two minutes!"}).status_code == 303
    page = alpha.get(f"/play/{game}").text
    assert "Two minutes!" in page and re.search(r'id="countdown" data-deadline-in="1[12]\d', page)
    assert host.post(f"/host/{game}/control/deadline", data=post | {"minutes": "none"}).status_code == 303
    assert 'data-deadline-in=""' in alpha.get(f"/play/{game}").text
    play_round(host, game, reveal=True)
    play_round(host, game, reveal=True)
    assert host.post(f"/host/{game}/control/undo", data=post).status_code == 303
    assert host.get(f"/api/games/{game}/rounds").json()["rounds_played"] == 1
    assert 'href="/api/games/' + game + '/export.csv"' in host.get(f"/host/{game}").text
    csv_text = host.get(f"/api/games/{game}/export.csv").text  # the console's link works with its cookie
    assert csv_text.startswith("game,round,team,rank,score,points_profit") and len(csv_text.splitlines()) == 3
    assert host.post(f"/host/{game}/control/end", data=post).status_code == 303
    assert "instructor ended it after round 1" in alpha.get(f"/play/{game}").text
    made = host.post(f"/host/{game}/control/rematch", data=post)
    assert made.status_code == 303
    new = made.headers["location"].rsplit("/", 1)[-1]
    assert f'href="/play/{game}/rematch"' in alpha.get(f"/play/{game}").text
    moved = alpha.get(f"/play/{game}/rematch")
    assert moved.headers["location"] == f"/play/{new}"
    assert 'id="team-name">Alpha<' in alpha.get(f"/play/{new}").text  # the same phone, the new game
    bad = host.post(f"/host/{new}/control/deadline", data=post | {"minutes": "soon"})
    assert bad.status_code == 400 and "minutes" in bad.text


def test_a_hand_in_after_the_deadline_is_refused_in_words(app, monkeypatch):
    from classroom import storage

    host = signed_in_host(app)
    game, code = new_game(host)
    alpha = joined_team(app, code, "Alpha")
    host.post(f"/host/{game}/control/deadline", data={"csrf_token": csrf(host), "minutes": "1"})
    now = time.time()
    monkeypatch.setattr(storage, "_now", lambda: now + 61)
    late = alpha.post(f"/play/{game}", data={"csrf_token": csrf(alpha), "price_index": "0.9"})
    assert late.status_code == 409 and "closed at the deadline" in late.text
    assert alpha.get(f"/api/games/{game}/teams/" + host.get(f"/api/games/{game}").json()["teams"][0]["team"],
                     headers={"Authorization": f"Bearer {TOKEN}"}).json()["handed_in"] is False


def test_the_debrief_explains_the_score_the_customers_lost_and_the_decisions(app):
    host = signed_in_host(app)
    game, code = new_game(host)
    alpha = joined_team(app, code, "Alpha")
    joined_team(app, code, "Beta")
    alpha.post(f"/play/{game}", data={"csrf_token": csrf(alpha), "price_index": "0.9"})
    play_round(host, game, reveal=True)
    alpha.post(f"/play/{game}", data={"csrf_token": csrf(alpha), "price_index": "1.1"})
    play_round(host, game, reveal=True)
    page = alpha.get(f"/play/{game}").text
    parts = re.search(r'<table class="why" id="score-parts">(.*?)</table>', page, re.S).group(1)
    adds = [float(x) for x in re.findall(r'<td class="adds">(-?[\d.]+)</td>', parts)]
    total = float(re.search(r'<td class="score">([\d.]+)</td>', parts).group(1))
    assert len(adds) == 4 and abs(sum(adds) - total) <= 0.2  # four parts (one decimal each) make the score
    team = host.get(f"/api/games/{game}").json()["teams"][0]["team"]
    view = host.get(f"/api/games/{game}/teams/{team}").json()
    assert f"{view['results'][-1]['standing']['score']:.1f}" == f"{total:.1f}"
    lost = re.search(r'id="lost-by-cause">(.*?)</table>', page, re.S).group(1)
    counted = sum(int(n) for n in re.findall(r"<td>(\d+)</td></tr>", lost))
    assert f"the {counted} customers you lost this round" in page
    by_round = re.search(r'id="by-round">(.*?)</table>', page, re.S).group(1)
    assert [int(n) for n in re.findall(r"<tr><td>(\d+)</td><td>\d+</td>", by_round)] == [1, 2]  # every round, not the last
    decisions = re.search(r'id="decisions">(.*?)</table>', page, re.S).group(1)
    assert re.search(r'class="changed"><td>Price index[^<]*</td>\s*<td>0.9</td><td>1.1</td>', decisions, re.I), decisions
