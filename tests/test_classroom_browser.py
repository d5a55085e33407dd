"""The classroom's pages in a real browser: Playwright drives Debian's Chromium against `loyalty-lab classroom`.

The real server runs as a subprocess on 127.0.0.1 (a free port, a temporary --data folder, the instructor's token in
LOYALTY_LAB_INSTRUCTOR_TOKEN). Every browser context blocks any request that does not go to localhost, and every
test checks that none was made, that no dialog opened and that the pages logged no error (a Content-Security-Policy
violation, such as an inline script, is logged as one). Screenshots go to `_build/screenshots/classroom/`; with
LOYALTY_LAB_UPDATE_SCREENSHOTS=1 those the instructor guide shows are also copied to book/instructor/img/classroom/.

Chromium: `/usr/bin/chromium` (Debian's package; `make test` installs it). Missing, the tests fail on CI and are
skipped elsewhere, as in tests/test_browser.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

import pytest

from conftest import CHROMIUM_ARGS, require_chromium

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots" / "classroom"
BOOK_IMAGES = ROOT / "book" / "instructor" / "img" / "classroom"
INSTRUCTOR_TOKEN = "browser-test-instructor-token"
HOSTILE = "<script>alert(1)</script>"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1366, "height": 768}
WAIT = 60_000  # ms: the longest a page may take to show a played round or a grade (2 shared cores)

pytestmark = [pytest.mark.slow, pytest.mark.browser]



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(page, condition: str, **options):
    """Wait until the JavaScript `condition` holds on `page`.

    Pages reload when a round is played, and while the new document is being parsed an element may not exist yet;
    an error in the condition (reading a property of null) then means "not yet" rather than failing the test.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"() => {{ try {{ return Boolean({condition}); }} catch (error) {{ return false; }} }}",
                               **options)
    except PlaywrightTimeout:
        raise AssertionError(f"never true on {page.url}: {condition}") from None


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`loyalty-lab classroom` on a free localhost port with a fresh data folder; stopped after the module."""
    folder = tmp_path_factory.mktemp("classroom")
    port = free_port()
    env = os.environ | {"LOYALTY_LAB_INSTRUCTOR_TOKEN": INSTRUCTOR_TOKEN,
                        # rounds long enough to watch their progress, as on a slow machine (Settings.month_pause)
                        "LOYALTY_LAB_MONTH_PAUSE": "0.1",
                        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log = open(folder / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "simulations.cli", "classroom", "--host", "127.0.0.1",
                                "--port", str(port), "--data", str(folder / "data")],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"the server stopped at start: {(folder / 'server.log').read_text()}"
        try:
            with urlopen(f"{url}/api/levers", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the server did not answer within 60 s"
        time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Person:
    """One browser context (its own cookies: the instructor, a team, the projector) with one page, watched."""

    def __init__(self, browser, base: str, viewport: dict):
        self.context = browser.new_context(viewport=viewport)
        self.base, self.blocked, self.problems, self.dialogs = base, [], [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT)
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        self.page.on("console", self._console)
        self.page.on("response", lambda answer: self.problems.append(f"{answer.status} from {answer.url}")
                     if answer.status >= 500 else None)
        self.page.on("dialog", self._dialog)

    def _route(self, route):
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _console(self, message):
        # a refused form answers 400/403 on purpose, and Chromium logs that as "Failed to load resource"
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, path: str):
        response = self.page.goto(self.base + path)
        assert response.status == 200, f"{path}: {response.status}"
        return response

    def check_clean(self):
        assert self.blocked == [], f"requests left localhost: {self.blocked}"
        assert self.dialogs == [], f"a dialog opened (a script ran?): {self.dialogs}"
        assert self.problems == [], f"the page logged errors: {self.problems}"

    def close(self):
        self.context.close()


@pytest.fixture
def people(browser, server):
    made = []

    def person(viewport=PROJECTOR) -> Person:
        made.append(Person(browser, server, viewport))
        return made[-1]

    yield person
    for one in made:
        one.close()


def shoot(page, name: str, full_page=True):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=full_page)
    used_in_the_guide = f"img/classroom/{name}" in (ROOT / "book" / "instructor" / "classroom.md").read_text()
    if os.environ.get("LOYALTY_LAB_UPDATE_SCREENSHOTS") == "1" and used_in_the_guide:
        BOOK_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, BOOK_IMAGES / name)
    return path


def set_lever(page, name: str, value: str):
    """Move a slider as a finger would end up (the input event updates its value and cost)."""
    page.locator(f"#{name}").evaluate(
        "(input, value) => { input.value = value; input.dispatchEvent(new Event('input', {bubbles: true})); }", value)


# ------------------------------------------------------------------------------------------------ steps
def sign_in_and_create_game(host: Person) -> tuple[str, str]:
    host.goto("/host")
    host.page.fill("#token", INSTRUCTOR_TOKEN)
    host.page.click("#login-form button")
    host.page.fill("#rounds", "2")
    host.page.fill("#months_per_round", "3")
    host.page.fill("#n_customers", "600")
    host.page.click("#new-game button")
    host.page.wait_for_url("**/host/*")
    code = host.page.inner_text("#join-code").strip()
    game = host.page.url.rstrip("/").split("/")[-1]
    return game, code


def join(team: Person, code: str, name: str):
    team.goto(f"/?code={code}")
    assert team.page.input_value("#join_code") == code
    team.page.fill("#name", name)
    team.page.click("#join-form button")
    team.page.wait_for_url("**/play/*")
    assert team.page.inner_text("#team-name") == name  # shown as the text typed, whatever it contains


def hand_in(team: Person, levers: dict):
    for name, value in levers.items():
        if name == "loyalty_programme":
            team.page.select_option(f"#{name}", value)
        else:
            set_lever(team.page, name, value)
    team.page.click("#hand-in")
    team.page.wait_for_selector("#notice")
    assert "Handed in" in team.page.inner_text("#handed-in-state")


def play_and_reveal(host: Person, number: int, teams: int):
    page = host.page
    wait_until(page, f"document.getElementById('handed-count').textContent === '{teams}'")
    page.click("#play-round-open")  # the console asks before it plays
    page.click("#play-round")
    wait_until(page, f"document.getElementById('rounds-played').textContent === '{number}'")
    page.click("#reveal")
    wait_until(page, f"document.getElementById('revealed').textContent === '{number}'")


# ------------------------------------------------------------------------------------------------ tests
def test_an_instructor_and_three_teams_play_two_rounds_while_the_projector_follows(people):
    host = people()
    game, code = sign_in_and_create_game(host)
    screen = people()
    screen.goto(f"/screen/{game}")
    screen.page.evaluate("window.stillTheSamePage = true")  # a reload would drop it

    teams = [people(PHONE), people(), people()]
    names = ["Alpha", HOSTILE, "Gamma"]
    for team, name in zip(teams, names):
        join(team, code, name)
    wait_until(host.page, "document.getElementById('team-count').textContent === '3'")
    assert HOSTILE in host.page.inner_text("#teams")  # the console writes names as text too
    shoot(host.page, "host_console.png", full_page=False)
    shoot(teams[0].page, "play_phone.png", full_page=False)
    assert teams[0].page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling

    # a value the slider cannot make (typed into a text box) is refused with the field named, on the same page
    teams[1].page.locator("#price_index").evaluate("input => { input.type = 'text'; input.value = 'cheap'; }")
    teams[1].page.click("#hand-in")
    assert "'cheap' is not a number" in teams[1].page.inner_text("#error-price_index")
    assert "Not handed in" in teams[1].page.inner_text("#form-error")

    hand_in(teams[0], {"price_index": "0.9", "loyalty_programme": "membership_club"})
    hand_in(teams[1], {"price_index": "1.2", "acquisition_budget": "0.9"})
    hand_in(teams[2], {"frontline_care": "0.9", "service_lead": "0.2"})
    play_and_reveal(host, 1, 3)

    wait_until(screen.page, "document.querySelectorAll('#standings tr').length === 3")
    assert screen.page.evaluate("window.stillTheSamePage") is True  # updated in place, not reloaded
    cells = screen.page.locator("#standings tr td:nth-child(2)").all_inner_texts()
    assert sorted(cells) == sorted(names)
    wait_until(screen.page, "document.getElementById('market-chart').dataset.drawnRound === '1'")
    assert screen.page.locator("#market-chart polyline").count() == 2 * 3  # two panels, a line per team

    for team in teams:  # each team's page notices the new round and shows its results and debrief
        team.page.wait_for_selector("#results")
        assert "Round 1 of 2" in team.page.inner_text("#debrief")
    for team in teams:  # the figure is drawn for each team (its own lines thicker)
        wait_until(team.page, "document.getElementById('team-chart').dataset.drawnRound === '1'")
        assert team.page.locator("#team-chart polyline[stroke-width='4']").count() == 2  # its own line, thick
    shoot(teams[0].page, "play_results_phone.png", full_page=False)
    teams[0].page.locator("#score-parts").scroll_into_view_if_needed()  # the debrief's why: score parts, churn, decisions
    assert teams[0].page.locator("#score-parts td.adds").count() == 4
    shoot(teams[0].page, "play_why_phone.png", full_page=False)

    hand_in(teams[0], {"price_index": "0.95"})
    hand_in(teams[1], {"price_index": "1.1"})
    hand_in(teams[2], {"staying_in_touch": "0.8"})
    play_and_reveal(host, 2, 3)
    wait_until(screen.page, "document.getElementById('standings-round').textContent === '2'")
    wait_until(screen.page, "document.getElementById('market-chart').dataset.drawnRound === '2'")
    assert screen.page.evaluate("window.stillTheSamePage") is True
    assert "game is over" in screen.page.inner_text("#screen-status")
    shoot(screen.page, "screen.png", full_page=False)
    shoot(host.page, "host_finished.png", full_page=False)
    for team in teams:
        wait_until(team.page, "document.body.dataset.revealed === '2'")
        assert "Round 2 of 2" in team.page.inner_text("#debrief")

    for person in [host, screen, *teams]:
        person.check_clean()


def test_the_practice_page_grades_a_strategy(people):
    learner = people(PHONE)
    learner.goto("/practice?challenge=ch03_tiering")
    assert learner.page.inner_text("#challenge-title") == "Serve each tier at what it is worth"
    assert learner.page.is_disabled("#price_index")  # levers the challenge fixes cannot be moved
    set_lever(learner.page, "service_lead", "0.2")
    assert "0.20 per Lead customer per month" in learner.page.inner_text("#cost-service_lead")
    learner.page.click("#grade")
    learner.page.wait_for_selector("#verdict")
    verdict = learner.page.inner_text("#verdict h2")
    assert verdict.startswith(("Passed", "Not yet")) and "score" in verdict
    feedback = learner.page.locator("#feedback li").all_inner_texts()
    assert any(line.startswith("Profit over the run") for line in feedback)
    learner.page.locator("#verdict").scroll_into_view_if_needed()
    shoot(learner.page, "practice_phone.png", full_page=False)
    learner.check_clean()


def test_a_wrong_join_code_is_refused_on_the_page(people):
    team = people(PHONE)
    team.goto("/")
    team.page.fill("#join_code", "ZZZZZZ")
    team.page.fill("#name", HOSTILE)
    team.page.click("#join-form button")
    assert "No game has the join code" in team.page.inner_text("#join-error")
    assert team.page.input_value("#name") == HOSTILE  # given back as typed, inside the field
    team.check_clean()


def test_the_console_shows_a_long_round_s_progress(people):
    host = people()
    host.goto("/host")
    host.page.fill("#token", INSTRUCTOR_TOKEN)
    host.page.click("#login-form button")
    host.page.fill("#rounds", "1")
    host.page.fill("#months_per_round", "24")
    host.page.fill("#n_customers", "200000")  # the largest market: a round of several seconds even on a quiet machine
    host.page.click("#new-game button")
    host.page.wait_for_url("**/host/*")
    team = people(PHONE)
    join(team, host.page.inner_text("#join-code").strip(), "Solo")
    host.page.click("#play-round-open")
    host.page.click("#play-round")
    host.page.wait_for_selector("#progress:not([hidden])")
    # the console's script writes the worker's progress: the months simulated so far
    wait_until(host.page, "/month [1-9]\\d* of 24/.test(document.getElementById('progress-text').textContent)")
    assert host.page.evaluate("parseFloat(document.getElementById('progress-bar').style.width)") > 0
    shoot(host.page, "host_progress.png", full_page=False)
    wait_until(host.page, "document.getElementById('rounds-played').textContent === '1'", timeout=120_000)
    assert host.page.is_hidden("#progress")
    team.page.wait_for_selector("#awaiting-reveal", timeout=30_000)  # played: the team waits for the reveal
    assert team.page.locator("#results").count() == 0
    host.page.click("#reveal")
    team.page.wait_for_selector("#results", timeout=30_000)
    host.check_clean()
    team.check_clean()


def test_the_projector_shows_forty_teams_a_page_at_a_time_at_1280x720(people, server):
    """Forty teams (joined over the API), one round revealed: every row fits the projector, names are never broken
    mid-word, the score and its formula are shown, and the chart colours the top six and greys the rest."""
    import json as json_module
    from urllib.request import Request

    def call(path, body=None, token=INSTRUCTOR_TOKEN, method="POST"):
        request = Request(server + path, data=None if body is None else json_module.dumps(body).encode(),
                          method=method, headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
        with urlopen(request, timeout=60) as answer:
            return json_module.loads(answer.read() or b"null")

    made = call("/api/games", {"rounds": 2, "months_per_round": 3, "n_customers": 2000})
    game = made["game"]
    for number in range(40):
        call(f"/api/games/{game}/teams", {"join_code": made["join_code"], "name": f"Team {number + 1:02d} Lions"},
             token=None)
    call(f"/api/games/{game}/rounds")
    deadline = time.monotonic() + WAIT / 1000
    while call(f"/api/games/{game}/rounds", method="GET")["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    call(f"/api/games/{game}/reveal")

    screen = people({"width": 1280, "height": 720})
    screen.goto(f"/screen/{game}")
    wait_until(screen.page, "document.querySelectorAll('#standings tr').length === 10")
    assert screen.page.inner_text("#standings-page") == "page 1 of 4"
    bottom = screen.page.evaluate("document.getElementById('leaderboard').getBoundingClientRect().bottom")
    assert bottom <= 720, f"the standings end at {bottom} px: below the screen"
    assert "Score = 40% profit" in screen.page.inner_text("#score-formula")
    names = screen.page.locator("#standings td.name")
    for index in range(names.count()):  # one line each: cut with an ellipsis, never broken mid-word
        height = names.nth(index).evaluate("cell => cell.getBoundingClientRect().height")
        assert height < 50, f"row {index} wraps ({height} px)"
    wait_until(screen.page, "document.getElementById('market-chart').dataset.drawnRound === '1'")
    grey = screen.page.locator("#market-chart polyline[stroke='#b8c0cc']").count()
    assert grey == 2 * 34 and "34 other teams" in screen.page.inner_text("#market-chart .legend")
    shoot(screen.page, "screen_40_teams.png", full_page=False)
    screen.check_clean()
