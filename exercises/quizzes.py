"""Chapter quizzes: YAML banks in `exercises/quizzes/`, checked against `quiz_schema.json`, shown with jupyterquiz.

    from exercises import show_quiz
    show_quiz("ch02")          # an interactive quiz, in Jupyter and in the static book (no kernel, no network)

A bank is one file per chapter (`exercises/quizzes/ch02.yaml`). Every question names the concept it
checks and gives feedback for every answer; a bad bank raises `QuizError`, which names the file, the
question, the field, the value and what is allowed.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path

import yaml

from simulations.errors import LoyaltyLabError

QUIZ_DIR = Path(__file__).with_name("quizzes")
SCHEMA_PATH = Path(__file__).with_name("quiz_schema.json")
CHAPTER_PATTERN = re.compile(r"^ch\d{2}$")
# A 'many' question must say so (the schema asks for the phrase); "Choose two" must then mean two.
CHOOSE_COUNT = re.compile(r"[Cc]hoose (two|three|four|five|six)\b")
SELECT_ALL = re.compile(r"select all that apply", re.I)
NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}

# jupyterquiz's names for our two question types
JUPYTERQUIZ_TYPES = {"single": "multiple_choice", "many": "many_choice"}


class QuizError(LoyaltyLabError):
    """A quiz bank that breaks the schema: names the file, the question, the field, the value and what is allowed."""

    def __init__(self, source, question, field, value, allowed):
        self.source, self.question, self.field, self.value, self.allowed = str(source), question, field, value, allowed
        where = f"question {question}, " if question else ""
        if value is _MISSING:
            message = f"{source}: {where}field '{field}' is missing; required: {allowed}"
        else:
            message = f"{source}: {where}field '{field}': {_short(value)} is not allowed; allowed: {allowed}"
        super().__init__(message)


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@lru_cache(1)
def quiz_schema() -> dict:
    """The JSON Schema every bank must satisfy (exercises/quiz_schema.json)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def list_quizzes() -> list[str]:
    """Chapters that have a quiz bank, e.g. ['ch01', 'ch02', ...]."""
    return sorted(p.stem for p in QUIZ_DIR.glob("ch*.yaml") if CHAPTER_PATTERN.match(p.stem))


def quiz_path(chapter) -> Path:
    """The bank file of `chapter` ('ch02', 'ch2', 2, or a path to a YAML file)."""
    if isinstance(chapter, Path) or (isinstance(chapter, str) and chapter.endswith((".yaml", ".yml"))):
        return Path(chapter)
    if isinstance(chapter, int) and not isinstance(chapter, bool):
        chapter = f"ch{chapter:02d}"
    match = re.fullmatch(r"ch(\d{1,2})", str(chapter).strip().lower())
    if not match:
        raise QuizError("quizzes", None, "chapter", chapter, "a chapter id such as 'ch02', a chapter number or a YAML path")
    path = QUIZ_DIR / f"ch{int(match.group(1)):02d}.yaml"
    if not path.exists():
        raise QuizError(path, None, "chapter", chapter, f"a chapter with a quiz bank: {', '.join(list_quizzes()) or 'none yet'}")
    return path


def load_quiz(chapter, language: str | None = None) -> dict:
    """Read and validate a chapter's bank; returns the bank as a dict (chapter, title, questions).

    The texts (title, questions, answers, feedback) come in `language`, by default simulations.i18n's language in
    use: each is looked up in the `quizzes` catalog in the context of its question's id (the chapter's id for the
    title), English where it has no translation. Ids, types and which answers are right are never translated.
    """
    bank = _load_english(chapter)
    return translate_quiz(bank, language)


def translate_quiz(bank: dict, language: str | None = None) -> dict:
    """A copy of a validated bank with its texts in `language` (catalog `quizzes`, by question id)."""
    from simulations.i18n import check_language, gettext, get_language

    chosen = check_language(language) if language else get_language()
    if chosen == "en":
        return bank

    def text(value, context):
        return gettext(str(value).strip(), "quizzes", context=context, language=chosen)

    questions = []
    for question in bank["questions"]:
        qid = question["id"]
        answers = [{**answer, "text": text(answer["text"], qid),
                    **({"feedback": text(answer["feedback"], qid)} if answer.get("feedback") else {})}
                   for answer in question["answers"]]
        questions.append({**question, "question": text(question["question"], qid), "answers": answers})
    return {**bank, "title": text(bank["title"], bank["chapter"]), "questions": questions}


def _load_english(chapter) -> dict:
    path = quiz_path(chapter)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise QuizError(path, None, "file", str(path), f"a readable YAML file ({err.strerror or err})") from None
    except yaml.YAMLError as err:
        raise QuizError(path, None, "file", str(err).splitlines()[0], "valid YAML") from None
    return validate_quiz(data, source=path)


def validate_quiz(bank, source="quiz") -> dict:
    """Check a bank (a dict, or a path to a YAML file) against the schema and the rules the schema cannot say.

    Rules: every question has an id, a concept, a type (single or many), at least two answers, at
    least one correct answer and feedback for every answer; a single-answer question has exactly one
    correct answer; a many-answer question says so in its text ("Select all that apply", "Choose two"); ids are unique and start with the bank's chapter; the chapter matches the file name.

    Returns:
        The bank, unchanged, when it is valid.

    Raises:
        QuizError: for the first problem found, naming the file, question, field, value and what is allowed.
    """
    if isinstance(bank, (str, Path)) and str(bank).endswith((".yaml", ".yml")):
        return load_quiz(bank)
    _check_schema(bank, source)
    _check_rules(bank, source)
    return bank


def _check_schema(bank, source):
    import jsonschema

    validator = jsonschema.Draft202012Validator(quiz_schema())
    # First problem in file order; "no correct answer" last, as a wrong-typed `correct` also causes it.
    errors = sorted(validator.iter_errors(bank),
                    key=lambda e: (e.validator == "contains", [str(p) for p in e.absolute_path]))
    if errors:
        raise _explain(errors[0], bank, source)


def _check_rules(bank, source):
    chapter = bank["chapter"]
    stem = Path(str(source)).stem
    if CHAPTER_PATTERN.match(stem) and stem != chapter:
        raise QuizError(source, None, "chapter", chapter, f"'{stem}', the name of the file")
    seen = set()
    for question in bank["questions"]:
        qid = question["id"]
        if qid in seen:
            raise QuizError(source, qid, "id", qid, "an id used by no other question in the bank")
        seen.add(qid)
        if not qid.startswith(chapter + "_"):
            raise QuizError(source, qid, "id", qid, f"an id that starts with '{chapter}_' (e.g. {chapter}_q1)")
        correct = sum(answer["correct"] for answer in question["answers"])
        if question["type"] == "single" and correct != 1:
            raise QuizError(source, qid, "answers", f"{correct} answers marked correct",
                            "exactly one correct answer in a 'single' question (use type: many for several)")
        told = CHOOSE_COUNT.search(question["question"])
        if question["type"] == "single" and (told or SELECT_ALL.search(question["question"])):
            raise QuizError(source, qid, "question", question["question"],
                            "no 'Select all that apply' or 'Choose two' in a 'single' question (use type: many)")
        if question["type"] == "many" and told and NUMBER_WORDS[told.group(1)] != correct:
            raise QuizError(source, qid, "answers", f"{correct} answers marked correct",
                            f"{NUMBER_WORDS[told.group(1)]}, as the question says '{told.group(0)}'")


def _field_name(path) -> str:
    """'answers[1].feedback' from a jsonschema path inside a question."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _explain(error, bank, source) -> QuizError:
    """Turn a jsonschema error into a QuizError in the words of the course."""
    path = list(error.absolute_path)
    question = None
    if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
        item = bank["questions"][path[1]]
        question = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else f"number {path[1] + 1}"
        path = path[2:]
    schema, kind = error.schema, error.validator
    if kind == "required":
        missing = next(f for f in error.validator_value if not isinstance(error.instance, dict) or f not in error.instance)
        return QuizError(source, question, _field_name(path + [missing]), _MISSING,
                         _allowed(schema.get("properties", {}).get(missing, {})))
    if kind == "additionalProperties":
        known = list(schema.get("properties", {}))
        unknown = next(k for k in error.instance if k not in known)
        return QuizError(source, question, _field_name(path + [unknown]), error.instance[unknown],
                         f"only the fields {', '.join(known)} ('{unknown}' is not one of them)")
    if kind == "contains":
        return QuizError(source, question, _field_name(path), "no answer marked correct",
                         "at least one answer with correct: true")
    value = f"{len(error.instance)} item(s)" if kind == "minItems" else error.instance
    return QuizError(source, question, _field_name(path) or "bank", value, _allowed(schema, kind))


def _allowed(schema: dict, kind: str | None = None) -> str:
    """A sentence saying what a schema node allows."""
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if kind == "minItems" or ("minItems" in schema and schema.get("type") == "array" and kind in (None, "minItems")):
        return f"a list of at least {schema['minItems']} items"
    if "pattern" in schema:
        return schema.get("description", f"text matching {schema['pattern']}")
    words = {"string": "a non-empty text", "boolean": "true or false", "array": "a list", "object": "a mapping of fields"}
    described = words.get(schema.get("type"), "a value of the right kind")
    return f"{described} ({schema['description']})" if "description" in schema else described


def to_jupyterquiz(bank: dict) -> list[dict]:
    """The bank's questions in jupyterquiz's JSON format, with text escaped for HTML."""
    def esc(text):
        return html.escape(str(text).strip(), quote=False)

    return [
        {
            "question": esc(q["question"]),
            "type": JUPYTERQUIZ_TYPES[q["type"]],
            "answers": [{"answer": esc(a["text"]), "correct": bool(a["correct"]), "feedback": esc(a["feedback"])}
                        for a in q["answers"]],
        }
        for q in bank["questions"]
    ]


def quiz_display_parts(chapter, shuffle_answers: bool = True) -> tuple[str, str]:
    """The HTML (container and styles) and the JavaScript that show a chapter's quiz, built with jupyterquiz.

    jupyterquiz embeds the questions and all of its JavaScript, so a static page needs nothing else, with one
    exception that we remove: on a page where MathJax is configured but not loaded, it would load MathJax 3
    from a CDN. Our quizzes hold no mathematics, so that loader is cut out and the quiz never uses the network.
    """
    from jupyterquiz.dynamic.loader import load_questions_script
    from jupyterquiz.dynamic.renderer import build_script, build_styles, render_div

    bank = load_quiz(chapter)  # in the language in use
    div_id = "LoyaltyLabQuiz" + bank["chapter"]  # stable, so a page's output does not change from build to build
    prefix, static, url = load_questions_script(to_jupyterquiz(bank), div_id)
    html_part = render_div(div_id, False, shuffle_answers, False, 1_000_000, 600, 10, "left") + "</div>"
    html_part += build_styles(div_id, QUIZ_COLOURS)
    script = _REMOTE_SCRIPT.sub("/* Loyalty Lab: no remote script */", build_script(prefix, static, url, div_id, True))
    return html_part, _widget_words(script)


# jupyterquiz writes these words itself (its JavaScript has no option for them): where an answer has no feedback
# of its own. They are replaced in the embedded script by their translation (catalog `exercises`).
WIDGET_WORDS = ("Correct!", "Incorrect -- try again.", "Incorrect. Try again.", "Correct")


def _widget_words(script: str) -> str:
    import json

    from simulations.i18n import gettext

    for word in WIDGET_WORDS:
        translated = gettext(word, "exercises")
        if translated != word:
            script = script.replace(json.dumps(word), json.dumps(translated))
    return script


_REMOTE_SCRIPT = re.compile(r"script\.src\s*=\s*'https?://[^']*';.*?document\.head\.appendChild\(script\);", re.S)


def show_quiz(chapter, shuffle_answers: bool = True):
    """Show a chapter's quiz: interactive in Jupyter, and in the built HTML book with no kernel and no network.

    The questions and jupyterquiz's JavaScript are embedded in the cell's output (see `quiz_display_parts`).
    Outside Jupyter (a plain Python script) IPython's display prints a text stand-in.

    Args:
        chapter: 'ch02', 2, or a path to a bank file.
        shuffle_answers: show the answers of each question in a random order.

    Returns nothing (so a notebook cell shows only the quiz); use `load_quiz` to inspect a bank.
    """
    from IPython.display import HTML, Javascript, display

    html_part, script = quiz_display_parts(chapter, shuffle_answers)
    display(HTML(html_part))
    display(Javascript(script))


# jupyterquiz's default palette with calmer question colours that suit the book theme (white text on these).
QUIZ_COLOURS = {
    "--jq-multiple-choice-bg": "#2f4f7f",
    "--jq-mc-button-bg": "#fafafa",
    "--jq-mc-button-border": "#e0e0e0e0",
    "--jq-mc-button-inset-shadow": "#555555",
    "--jq-many-choice-bg": "#6a3d7a",
    "--jq-numeric-bg": "#392061ff",
    "--jq-numeric-input-bg": "#c0c0c0",
    "--jq-numeric-input-label": "#101010",
    "--jq-numeric-input-shadow": "#999999",
    "--jq-string-bg": "#4c1a57",
    "--jq-incorrect-color": "#b00020",
    "--jq-correct-color": "#00701a",
    "--jq-text-color": "#fafafa",
    "--jq-link-color": "#9abafa",
}
