"""The classroom in the student's language: which language a request gets, every page with no English left, the
JSON errors' translated message, and the catalogs complete (Starlette's in-process client, a fresh SQLite each)."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest
from starlette.testclient import TestClient

from classroom import i18n
from classroom.app import create_app
from classroom.settings import Settings
from simulations.i18n import TRANSLATIONS, catalog_path
from tests.catalog_checks import assert_catalog_complete

TOKEN = "i18n-test-instructor"
# What each language's pages must say (from its catalog), and English that must be gone from them.
SAMPLES = {"it": ["Entra in una partita", "Codice di accesso", "turno", "Consegna"],
           "pl": ["Dołącz do gry", "Kod dołączenia", "runda", "Oddaj"],
           "zh_CN": ["加入游戏", "加入代码", "回合", "提交"]}
ENGLISH = ["Join a game", "Team name", "Hand in", "round", "Round", "market share", "profit", "customers", "Practice",
           "Challenge", "Goal", "Market", "score", "Debrief", "lever", "Instructor", "The game", "Your ", "Not ",
           "per customer per month", "at this level", "the cost grows", "standings", "Standings", "Loading",
           "Rename", "Remove", "Download", "projector", "retention", "satisfaction", "rivals", "handed in"]
BRAND = "Loyalty Lab"  # the course's name, the same in every language


# ------------------------------------------------------------------------------------------------ helpers
class VisibleText(HTMLParser):
    """The text a reader sees: text nodes outside <script>/<style>, plus <title>, labels of <option>."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible(html: str, skip=()) -> str:
    parser = VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts).replace(BRAND, "")
    for name in skip:  # team names and codes are the players' own words
        text = text.replace(name, "")
    return text


def english_left(text: str) -> list[str]:
    """The English phrases still in `text` (as words: 'round' is not found inside 'around')."""
    return [phrase for phrase in ENGLISH if re.search(r"(?<![A-Za-z])" + re.escape(phrase.strip()) + r"(?![a-z])",
                                                      text)]


@pytest.fixture
def app(tmp_path):
    return create_app(Settings(data_dir=tmp_path / "data", instructor_token=TOKEN))


def browser(app, language: str | None = None) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    if language:
        client.cookies.set(i18n.COOKIE, language)
    client.get("/")
    return client


def csrf(client) -> str:
    return client.cookies["ll_csrf"]


def played_game(app):
    """A game with two teams and one played, revealed round: (host, game id, join code, team browser factory)."""
    host = browser(app)
    assert host.post("/host/login", data={"token": TOKEN, "csrf_token": csrf(host), "next": "/host"}).status_code == 303
    form = {"scenario": "telecom", "rounds": "3", "months_per_round": "2", "n_customers": "300", "seed": "3"}
    answer = host.post("/host/games", data={"csrf_token": csrf(host), **form})
    game = answer.headers["location"].rsplit("/", 1)[-1]
    code = re.search(r'id="join-code">(\w+)<', host.get(f"/host/{game}").text).group(1)
    teams = {}
    for name in ("Rossi", "Nowak"):
        team = browser(app)
        assert team.post("/join", data={"csrf_token": csrf(team), "join_code": code, "name": name}).status_code == 303
        teams[name] = team
    assert host.post(f"/host/{game}/play", data={"csrf_token": csrf(host)}).status_code == 303
    deadline = time.monotonic() + 60
    while host.get(f"/api/games/{game}/rounds").json()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert host.post(f"/host/{game}/reveal", data={"csrf_token": csrf(host)}).status_code == 303
    return host, game, code, teams


# ------------------------------------------------------------------------------------------------ the language
def test_accept_language_picks_the_language_with_its_q_values(app):
    client = TestClient(app)
    assert 'lang="it"' in client.get("/", headers={"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"}).text
    assert 'lang="pl"' in client.get("/", headers={"Accept-Language": "en;q=0.3, pl;q=0.8, de"}).text
    assert 'lang="zh-CN"' in client.get("/", headers={"Accept-Language": "zh-CN"}).text
    assert 'lang="zh-CN"' in client.get("/", headers={"Accept-Language": "fr, zh;q=0.7, it;q=0.6"}).text
    page = client.get("/", headers={"Accept-Language": "pl;q=0.5, it;q=0.9"})
    assert 'lang="it"' in page.text and "Entra in una partita" in page.text
    assert page.headers["content-language"] == "it"


def test_an_unknown_language_falls_back_to_english(app):
    client = TestClient(app)
    for header in ("fr-FR, de;q=0.8", "", "*", "xx;q=abc", "it;q=0"):
        page = client.get("/", headers={"Accept-Language": header})
        assert '<html lang="en">' in page.text and "Join a game" in page.text, header
    client.cookies.set(i18n.COOKIE, "klingon")  # a cookie nobody set through the switch: ignored
    assert '<html lang="en">' in client.get("/").text
    refused = client.get("/language?lang=fr&next=/")
    assert refused.status_code == 400 and "fr" in refused.text


def test_the_switch_wins_over_accept_language_and_persists_for_the_browser(app):
    client = TestClient(app, follow_redirects=False)
    page = client.get("/practice", headers={"Accept-Language": "it"})
    assert 'href="/language?lang=pl&amp;next=/practice"' in page.text  # every page lists the languages by own name
    for own_name in ("English", "Italiano", "Polski", "简体中文"):
        assert own_name in page.text
    switched = client.get("/language?lang=pl&next=/practice")
    assert switched.status_code == 303 and switched.headers["location"] == "/practice"
    assert client.cookies[i18n.COOKIE] == "pl"
    for path in ("/", "/practice", "/host"):  # later pages, whatever the browser's header says
        page = client.get(path, headers={"Accept-Language": "it"})
        assert '<html lang="pl">' in page.text, path
    assert "Dołącz do gry" in client.get("/", headers={"Accept-Language": "zh-CN"}).text
    back = client.get("/language?lang=en&next=/")
    assert back.status_code == 303 and "Join a game" in client.get("/", headers={"Accept-Language": "it"}).text


def test_the_switch_goes_back_only_to_this_site(app):
    client = TestClient(app, follow_redirects=False)
    for elsewhere in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        answer = client.get("/language", params={"lang": "it", "next": elsewhere})
        assert answer.status_code == 303 and answer.headers["location"] == "/", elsewhere


# ------------------------------------------------------------------------------------------------ every page
@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_page_speaks_the_language_with_no_english_left(app, language):
    host, game, code, teams = played_game(app)
    host.cookies.set(i18n.COOKIE, language)
    team = teams["Rossi"]
    team.cookies.set(i18n.COOKIE, language)
    pages = {"join": browser(app, language).get("/").text,
             "join refused": browser(app, language).post("/join", data={"join_code": "NOPE9", "name": "x"}).text,
             "play": team.get(f"/play/{game}").text,
             "host": host.get(f"/host/{game}").text,
             "host sign-in": browser(app, language).get("/host").text,
             "new game": host.get("/host").text,
             "screen": browser(app, language).get(f"/screen/{game}").text,
             "practice": browser(app, language).get("/practice").text}
    for name, html in pages.items():
        text = visible(html, skip=("Rossi", "Nowak", code, "PIN"))
        assert not english_left(text), f"{language} {name}: English left: {english_left(text)}"
        assert f'<html lang="{language.replace("_", "-")}">' in html, name
    assert all(sample in visible(pages["play"]) + visible(pages["join"]) for sample in SAMPLES[language])
    debrief = re.search(r'id="debrief">(.*?)</div>', pages["play"], re.S).group(1)
    assert "Rossi" in debrief and not english_left(visible(debrief, skip=("Rossi",)))


def test_numbers_are_written_the_language_s_way(app):
    host, game, code, teams = played_game(app)
    team = teams["Rossi"]
    profit = {}
    for language in ("en", "it", "pl"):
        team.cookies.set(i18n.COOKIE, language)
        profit[language] = re.search(r'id="result-profit">([^<]+)<', team.get(f"/play/{game}").text).group(1)
    digits = re.sub(r"\D", "", profit["en"])
    assert re.sub(r"\D", "", profit["it"]) == digits == re.sub(r"\D", "", profit["pl"])
    if len(digits) > 3:  # 12,345 / 12.345 / 12 345 (a no-break space)
        assert "," in profit["en"] and "." in profit["it"] and "\xa0" in profit["pl"]
    with i18n.use_language("it"):
        assert i18n.number(1234.5, 1) == "1.234,5" and i18n.percent(0.253) == "25%"
    with i18n.use_language("pl"):
        assert i18n.number(1234.5, 1) == "1\xa0234,5"


def test_the_english_pages_are_unchanged(app):
    """No cookie, no header: the English words, numbers and markup the other classroom tests know."""
    client = TestClient(app)
    page = client.get("/").text
    assert '<html lang="en">' in page and "Join a game" in page and "Team PIN" in page
    assert "No game today? <a href=\"/practice\">Try one of the course's challenges</a> on your own." in page
    practice = client.get("/practice").text
    assert "Cost: " in practice and "at 1 (the cost grows with the square of the level)" in practice


# ------------------------------------------------------------------------------------------------ JSON errors
def test_a_json_error_keeps_its_field_and_has_a_translated_message(app):
    client = TestClient(app)
    english = client.post("/api/games/nope/teams", json={"join_code": "X", "name": "a"})
    assert english.status_code == 404
    for language, word in (("it", "non è ammesso"), ("pl", "niedozwolone"), ("zh_CN", "不允许")):
        answer = client.post("/api/games/nope/teams", json={"join_code": "X", "name": "a"},
                             headers={"Accept-Language": language})
        error = answer.json()["error"]
        assert answer.status_code == 404
        assert {k: error[k] for k in ("field", "value", "allowed")} == \
            {k: english.json()["error"][k] for k in ("field", "value", "allowed")}
        assert word in error["message"] and error["field"] in error["message"]
        assert error["message"] != english.json()["error"]["message"]
    bad = client.post("/api/games", content=b"{not json", headers={"Accept-Language": "pl",
                                                                      "Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "body"
    assert "obiekt JSON" in bad.json()["error"]["message"]


def test_a_refusal_with_numbers_is_translated_with_the_numbers_in_place():
    with i18n.use_language("it"):
        assert i18n.translate_like("a played round, 0 to 12") == "un turno giocato, da 0 a 12"
        assert i18n.translate_like("at most 1,500 teams in a game") == "al massimo 1.500 squadre in una partita"
        assert i18n.translate_like("something the catalog does not know") == "something the catalog does not know"
    with i18n.use_language("en"):
        assert i18n.translate_like("a played round, 0 to 12") == "a played round, 0 to 12"


# ------------------------------------------------------------------------------------------------ catalogs
PLACEHOLDERS = re.compile(r"%\(\w+\)s|%%|\{\w+\}|</?\w+[^>]*>")


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_the_catalog_is_complete_and_keeps_every_placeholder(language):
    from tools.classroom_catalog import extract

    assert_catalog_complete(catalog_path(language, "classroom"), extract(), PLACEHOLDERS, language)


def test_the_graded_practice_page_speaks_the_language(app):
    client = browser(app, "pl")
    page = client.post("/practice", data={"csrf_token": csrf(client), "challenge": "ch01_first_look",
                                          "product_quality": "0.8"})
    assert page.status_code == 200, page.text[:300]
    text = visible(page.text)
    assert not english_left(text), english_left(text)
    assert "strategii startowej" in text and "Wynik" in text and 'id="checks-figure"' in page.text
    figure = re.search(r'<svg .*?</svg>', page.text, re.S).group(0)
    assert "strategia startowa" in figure and "starting strategy" not in figure
