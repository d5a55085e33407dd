"""Quiz banks: every bank follows the schema, bad banks fail with a clear message, and quizzes render without a kernel."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from IPython.utils.capture import capture_output

from exercises import list_quizzes, load_quiz, show_quiz, validate_quiz
from exercises.quizzes import QUIZ_DIR, SCHEMA_PATH, QuizError, quiz_path, to_jupyterquiz
from simulations.errors import LoyaltyLabError


def good_bank() -> dict:
    return {
        "chapter": "ch09",
        "title": "A test chapter",
        "questions": [
            {"id": "ch09_q1", "concept": "churn", "question": "Which?", "type": "single",
             "answers": [{"text": "A", "correct": True, "feedback": "Right, A."},
                         {"text": "B", "correct": False, "feedback": "No, not B."}]},
            {"id": "ch09_q2", "concept": "churn", "question": "Which ones? Select all that apply.", "type": "many",
             "answers": [{"text": "C", "correct": True, "feedback": "Yes, C."},
                         {"text": "D", "correct": True, "feedback": "Yes, D."},
                         {"text": "E", "correct": False, "feedback": "No, not E."}]},
        ],
    }


def write_bank(tmp_path: Path, bank: dict, name: str = "ch09.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(bank, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ the real banks
def test_there_is_a_bank_for_chapter_one():
    assert "ch01" in list_quizzes()


@pytest.mark.parametrize("chapter", list_quizzes())
def test_every_bank_validates(chapter):
    bank = load_quiz(chapter)
    assert bank["chapter"] == chapter
    for question in bank["questions"]:
        assert all(answer["feedback"].strip() for answer in question["answers"])


@pytest.mark.parametrize("chapter", list_quizzes())
def test_every_bank_renders_for_jupyterquiz(chapter):
    converted = to_jupyterquiz(load_quiz(chapter))
    assert all(q["type"] in ("multiple_choice", "many_choice") for q in converted)
    assert all(a["feedback"] for q in converted for a in q["answers"])


def single_questions(bank):
    return [q for q in bank["questions"] if q["type"] == "single"]


@pytest.mark.parametrize("chapter", list_quizzes())
def test_the_right_answer_is_not_given_away_by_its_length(chapter):
    """A reader who always picks the longest option should do no better than by chance."""
    questions = single_questions(load_quiz(chapter))
    longest = []
    for question in questions:
        right = next(len(a["text"]) for a in question["answers"] if a["correct"])
        wrong = [len(a["text"]) for a in question["answers"] if not a["correct"]]
        if right > max(wrong):
            longest.append(question["id"])
    assert len(longest) <= len(questions) / 3, f"the right answer is the longest option in {longest}"


def test_right_answers_are_spread_over_positions():
    """In file order (the page shuffles too): no place in the list is where the right answer usually sits."""
    positions = [next(i for i, a in enumerate(q["answers"]) if a["correct"])
                 for chapter in list_quizzes() for q in single_questions(load_quiz(chapter))]
    shares = {place: positions.count(place) / len(positions) for place in range(3)}
    assert all(0.2 <= share <= 0.45 for share in shares.values()), shares


def test_schema_file_is_valid_json_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_the_good_bank_is_valid(tmp_path):
    assert validate_quiz(good_bank(), source="ch09.yaml")["chapter"] == "ch09"
    assert load_quiz(write_bank(tmp_path, good_bank()))["title"] == "A test chapter"


# ------------------------------------------------------------------------------------------ bad banks
def broken(change) -> dict:
    bank = copy.deepcopy(good_bank())
    change(bank)
    return bank


BAD_BANKS = {
    "missing feedback": (lambda b: b["questions"][0]["answers"][1].pop("feedback"),
                         ["ch09_q1", "answers[1].feedback", "missing"]),
    "empty feedback": (lambda b: b["questions"][1]["answers"][2].update(feedback=""),
                       ["ch09_q2", "answers[2].feedback", "''"]),
    "two correct in a single question": (lambda b: b["questions"][0]["answers"][1].update(correct=True),
                                         ["ch09_q1", "answers", "exactly one correct"]),
    "unknown question field": (lambda b: b["questions"][1].update(hint="think"),
                               ["ch09_q2", "hint", "'think'", "only the fields"]),
    "unknown answer field": (lambda b: b["questions"][0]["answers"][0].update(points=3),
                             ["ch09_q1", "answers[0].points", "only the fields"]),
    "unknown bank field": (lambda b: b.update(author="me"), ["author", "only the fields"]),
    "unknown type": (lambda b: b["questions"][0].update(type="multi"), ["ch09_q1", "type", "'multi'", "single, many"]),
    "no correct answer": (lambda b: [a.update(correct=False) for a in b["questions"][1]["answers"]],
                          ["ch09_q2", "answers", "at least one answer with correct: true"]),
    "one answer only": (lambda b: b["questions"][0].update(answers=b["questions"][0]["answers"][:1]),
                        ["ch09_q1", "answers", "at least 2"]),
    "missing concept": (lambda b: b["questions"][1].pop("concept"), ["ch09_q2", "concept", "missing"]),
    "missing id": (lambda b: b["questions"][1].pop("id"), ["number 2", "'id'", "missing"]),
    "duplicate id": (lambda b: b["questions"][1].update(id="ch09_q1"), ["ch09_q1", "id", "no other question"]),
    "id of another chapter": (lambda b: b["questions"][1].update(id="ch03_q2"), ["ch03_q2", "id", "ch09_"]),
    "correct is not a boolean": (lambda b: b["questions"][0]["answers"][0].update(correct="yes"),
                                 ["ch09_q1", "answers[0].correct", "'yes'", "true or false"]),
    "many answers, not said": (lambda b: b["questions"][1].update(question="Which ones?"),
                               ["ch09_q2", "field 'question'", "'Which ones?'", "Select all that apply", "Choose two"]),
    "choose two, three correct": (lambda b: b["questions"][1].update(question="Which? Choose two.") or
                                  b["questions"][1]["answers"][2].update(correct=True),
                                  ["ch09_q2", "field 'answers'", "3 answers marked correct", "'Choose two'"]),
    "single that asks for all": (lambda b: b["questions"][0].update(question="Which? Select all that apply."),
                                 ["ch09_q1", "field 'question'", "use type: many"]),
}


@pytest.mark.parametrize("name", sorted(BAD_BANKS))
def test_a_bad_bank_names_file_question_field_value_and_allowed(tmp_path, name):
    change, expected = BAD_BANKS[name]
    path = write_bank(tmp_path, broken(change))
    with pytest.raises(QuizError) as caught:
        load_quiz(path)
    message = str(caught.value)
    assert str(path) in message and ("allowed" in message or "required" in message)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert isinstance(caught.value, LoyaltyLabError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text", ["Which ones? Select all that apply.", "Select all that apply: which ones?",
                                  "Which two? Choose two."])
def test_a_many_question_that_says_so_is_accepted(text):
    bank = copy.deepcopy(good_bank())
    bank["questions"][1]["question"] = text
    assert validate_quiz(bank, source="ch09.yaml") is bank


def test_a_bank_whose_chapter_does_not_match_its_file_is_refused(tmp_path):
    path = write_bank(tmp_path, good_bank(), name="ch08.yaml")
    with pytest.raises(QuizError, match=r"ch08.yaml.*field 'chapter': 'ch09'.*'ch08'"):
        load_quiz(path)


def test_invalid_yaml_is_a_clear_error(tmp_path):
    path = tmp_path / "ch09.yaml"
    path.write_text("chapter: ch09\nquestions: [\n", encoding="utf-8")
    with pytest.raises(QuizError, match="ch09.yaml.*valid YAML"):
        load_quiz(path)


@pytest.mark.parametrize("chapter", ["ch99", "chapter one", None])
def test_unknown_chapter_names_what_is_allowed(chapter):
    with pytest.raises(QuizError, match="chapter"):
        quiz_path(chapter)


def test_chapter_can_be_given_as_a_number():
    assert quiz_path(1) == QUIZ_DIR / "ch01.yaml"


# ------------------------------------------------------------------------------------------ rendering
def test_show_quiz_displays_html_and_inline_javascript_without_a_kernel():
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()  # a shell to display into, as in Jupyter; no kernel is started
    with capture_output() as captured:
        result = show_quiz("ch01")
    assert result is None  # a notebook cell shows the quiz, not a dict
    html = "".join(o.data.get("text/html", "") for o in captured.outputs)
    script = "".join(o.data.get("application/javascript", "") for o in captured.outputs)
    assert "<div id=" in html and "<style>" in html
    bank = load_quiz("ch01")
    for question in bank["questions"]:
        assert json.dumps(question["answers"][0]["feedback"].strip())[1:-1] in script
    # the quiz must work offline: its code and questions are in the page, nothing is fetched
    assert "show_questions" in script and "function check_mc" in script
    assert "fetch(" not in script and "XMLHttpRequest" not in script
    assert not re.findall(r"https?://", script + html), "the quiz refers to a remote resource"
