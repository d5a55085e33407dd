"""Challenges and grader feedback in the reader's language (catalog `exercises`): the same grading in English and
Polish, the numbers and verdict the same, the words Polish; the catalogs complete with their placeholders kept."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from exercises import grade
from exercises.challenges import challenge_text, load_challenge
from simulations.i18n import TRANSLATIONS, catalog_path, set_language
from tests.catalog_checks import assert_catalog_complete

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/exercises_catalog.py
PLACEHOLDERS = re.compile(r"%\(\w+\)s|%%")
ENGLISH = ["against", "starting strategy", "the goal asks", "Revenue changed", "Churn by cause", "Apostles",
           "Score ", "Hint:", "customers", "profit", "retention", " met"]


@pytest.fixture
def english_afterwards():
    yield
    set_language(None)


def test_a_challenge_graded_in_polish_gives_polish_feedback_and_english_is_unchanged(english_afterwards):
    strategy = {"product_quality": 0.8, "frontline_care": 0.7}
    english = grade("ch01_first_look", strategy, n_customers=300)
    set_language("pl")
    polish = grade("ch01_first_look", strategy, n_customers=300)
    set_language(None)
    assert (polish.passed, polish.score, polish.outcome) == (english.passed, english.score, english.outcome)
    assert len(polish.feedback) == len(english.feedback)
    text = polish.to_text()
    assert "Zatrzymaj ich i zarabiaj więcej" in text and "strategii startowej" in text
    assert "Wynik" in polish.score_explanation() and "cel wymaga" in polish.feedback[0]
    left = [phrase for phrase in ENGLISH if phrase in "\n".join(polish.feedback) + polish.score_explanation()]
    assert not left, left
    assert english.feedback[0].startswith("12-month retention:") or english.feedback[0].startswith("Profit over")
    assert "against" in english.feedback[0] and english.title == "Keep them and earn more"
    assert english.to_text() == grade("ch01_first_look", strategy, n_customers=300, language="en").to_text()


def test_the_language_can_be_passed_to_grade_and_numbers_follow_it():
    result = grade("ch03_tiering", {"service_lead": 0.2}, n_customers=300, language="it")
    assert result.language == "it" and "Servi ogni livello per quanto vale" == result.title
    profit_line = next(line for line in result.feedback if line.startswith("I ricavi"))
    assert re.search(r"\d,\d", profit_line), profit_line  # the decimal comma
    chinese = grade("ch03_tiering", {"service_lead": 0.2}, n_customers=300, language="zh_CN")
    assert "起始策略" in chinese.feedback[0]


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_challenge_text_is_translated(language):
    from exercises import list_challenges

    for challenge_id in list_challenges():
        challenge = load_challenge(challenge_id)
        for part in ("title", "teaches", "goal"):
            assert challenge_text(challenge, part, language) != challenge_text(challenge, part, "en"), \
                (language, challenge_id, part)


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_the_exercises_catalog_is_complete_and_keeps_placeholders(language):
    from exercises_catalog import extract

    assert_catalog_complete(catalog_path(language, "exercises"), extract(), PLACEHOLDERS, language)
