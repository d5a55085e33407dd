"""A team joining late and the table of customers won and lost by rival, in a real browser (issue 19).

Same server, browser and checks as tests/test_classroom_browser.py: a host, two teams, a third team refused after round
1 until the instructor allows late joins on the console, then entering as a newcomer; the projector marks it and
explains the score's rule; every team's debrief says which rival took its customers and whose it took.
"""

from __future__ import annotations

import pytest
from test_classroom_browser import (INSTRUCTOR_TOKEN, PHONE, Person, browser, hand_in, join, people,  # noqa: F401
                                    play_and_reveal, server, shoot, wait_until)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def create_game(host: Person, rounds: int) -> tuple[str, str]:
    host.goto("/host")
    host.page.fill("#token", INSTRUCTOR_TOKEN)
    host.page.click("#login-form button")
    host.page.fill("#rounds", str(rounds))
    host.page.fill("#months_per_round", "3")
    host.page.fill("#n_customers", "1500")
    assert not host.page.is_checked("#late_joins")  # off unless the instructor allows them
    host.page.click("#new-game button")
    host.page.wait_for_url("**/host/*")
    return host.page.url.rstrip("/").split("/")[-1], host.page.inner_text("#join-code").strip()


def test_a_third_team_joins_late_as_a_newcomer_and_debriefs_name_the_rivals(people):
    host = people()
    game, code = create_game(host, rounds=3)
    screen = people()
    screen.goto(f"/screen/{game}")
    alpha, beta, gamma = people(PHONE), people(), people(PHONE)
    join(alpha, code, "Alpha")
    join(beta, code, "Beta")
    hand_in(alpha, {"price_index": "0.95"})
    hand_in(beta, {"frontline_care": "0.8"})
    play_and_reveal(host, 1, 2)

    # after round 1 a new team is refused, in plain words, until the instructor allows late joins
    gamma.goto(f"/?code={code}")
    gamma.page.fill("#name", "Gamma")
    gamma.page.click("#join-form button")
    assert "This game has started" in gamma.page.inner_text("#join-error")
    assert "Late joins are off" in host.page.inner_text("#late-joins-form")
    host.page.click("#late-joins")
    host.page.wait_for_selector("text=Late joins are allowed")
    join(gamma, code, "Gamma")
    wait_until(host.page, "document.getElementById('team-count').textContent === '3'")
    host.page.locator("#control").scroll_into_view_if_needed()
    shoot(host.page, "late_host_console.png", full_page=False)
    assert "enters the market in round 2 as a newcomer firm" in gamma.page.inner_text("#newcomer")
    shoot(gamma.page, "late_newcomer_phone.png", full_page=False)

    hand_in(gamma, {"price_index": "0.85", "acquisition_budget": "0.9"})
    hand_in(alpha, {"price_index": "0.95"})
    hand_in(beta, {"frontline_care": "0.8"})
    play_and_reveal(host, 2, 3)

    wait_until(screen.page, "document.querySelectorAll('#standings tr').length === 3")
    wait_until(screen.page, "document.getElementById('market-chart').dataset.drawnRound === '2'")
    assert screen.page.inner_text("#standings .joined") == "from round 2"
    assert screen.page.is_visible("#late-rule") and "per round played" in screen.page.inner_text("#late-rule")
    assert screen.page.inner_text("#switches").startswith("Most customers switched in round 2:")
    assert "→" in screen.page.inner_text("#switches")
    shoot(screen.page, "late_screen.png", full_page=False)

    for team, rivals in ((alpha, {"Beta", "Gamma"}), (gamma, {"Alpha", "Beta"})):
        wait_until(team.page, "document.body.dataset.revealed === '2'")
        team.page.wait_for_selector("#by-rival")
        assert set(team.page.locator("#by-rival tr.rival td.name").all_inner_texts()) <= rivals
        assert team.page.locator("#by-rival tr.pool").count() == 1
    gained = gamma.page.locator("#by-rival tr.rival td:nth-child(2)").all_inner_texts()
    assert sum(int(n.replace(",", "")) for n in gained) > 0, "the newcomer won customers from the other teams"
    assert "not played" in gamma.page.inner_text("#by-round") and gamma.page.is_visible("#late-note")
    alpha.page.locator("#by-rival").scroll_into_view_if_needed()
    shoot(alpha.page, "play_rivals_phone.png", full_page=False)
    gamma.page.locator("#by-round").scroll_into_view_if_needed()
    shoot(gamma.page, "late_by_round_phone.png", full_page=False)
    assert alpha.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling

    # the same table in the newcomer's language of choice (Polish here), numbers and words translated
    gamma.goto(f"/language?lang=pl&next=/play/{game}")
    gamma.page.locator("#by-rival").scroll_into_view_if_needed()
    assert "Kto przejął waszych klientów" in gamma.page.inner_text("#results")
    assert "nierozegrana" in gamma.page.inner_text("#by-round")
    shoot(gamma.page, "late_rivals_phone_pl.png", full_page=False)

    for person in (host, screen, alpha, beta, gamma):
        person.check_clean()
