"""Quiz banks in the reader's language, by question id: texts from the `quizzes` catalog (msgctxt = question id),
structure (ids, types, right answers) never translated; jupyterquiz's own words replaced by their translation."""

from __future__ import annotations

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from exercises import quizzes
from simulations import i18n


def _catalog_with(tmp_path, language, entries):
    folder = tmp_path / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale=language)
    for context, english, translated in entries:
        catalog.add(english, translated, context=context)
    with (folder / "quizzes.po").open("wb") as handle:
        write_po(handle, catalog)


def test_a_bank_is_translated_by_question_id_and_its_structure_is_kept(tmp_path, monkeypatch):
    english = quizzes.load_quiz("ch01", language="en")
    first = english["questions"][0]
    answer = first["answers"][0]
    _catalog_with(tmp_path, "it", [("ch01", english["title"], "Perché la fedeltà rende"),
                                   (first["id"], first["question"], "Quali tre parti? Scegline tre."),
                                   (first["id"], answer["text"].strip(), "Servizio clienti"),
                                   # the same English in another question's context must not be used here
                                   ("ch01_q2", answer["feedback"].strip(), "SBAGLIATO")])
    monkeypatch.setitem(i18n.DOMAINS, "quizzes", tmp_path)
    italian = quizzes.load_quiz("ch01", language="it")
    assert italian["title"] == "Perché la fedeltà rende"
    assert italian["questions"][0]["question"] == "Quali tre parti? Scegline tre."
    assert italian["questions"][0]["answers"][0]["text"] == "Servizio clienti"
    assert italian["questions"][0]["answers"][0]["feedback"] == answer["feedback"]  # untranslated: English
    structure = [(q["id"], q["type"], [a["correct"] for a in q["answers"]]) for q in italian["questions"]]
    assert structure == [(q["id"], q["type"], [a["correct"] for a in q["answers"]]) for q in english["questions"]]
    assert quizzes.load_quiz("ch01", language="en") == english  # English unchanged
    i18n.set_language("it")
    try:
        assert quizzes.load_quiz("ch01")["title"] == "Perché la fedeltà rende"  # the language in use by default
    finally:
        i18n.set_language(None)


def test_jupyterquiz_s_own_words_are_translated_in_its_script():
    _, english_script = quizzes.quiz_display_parts("ch01")
    assert '"Correct!"' in english_script
    i18n.set_language("it")
    try:
        _, script = quizzes.quiz_display_parts("ch01")
    finally:
        i18n.set_language(None)
    assert '"Correct!"' not in script and '"Corretto!"' in script
    assert '"Incorrect -- try again."' not in script


#: The chapters whose quiz bank is translated into every language (the others still show English).
TRANSLATED_CHAPTERS = ("ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08")


def test_the_translated_chapters_are_complete_in_every_language():
    for language in i18n.TRANSLATIONS:
        for chapter in TRANSLATED_CHAPTERS:
            english = quizzes.load_quiz(chapter, language="en")
            shown = quizzes.load_quiz(chapter, language=language)
            assert shown["title"] != english["title"]
            for mine, theirs in zip(shown["questions"], english["questions"]):
                assert mine["question"] != theirs["question"], (language, mine["id"])
                for answer, original in zip(mine["answers"], theirs["answers"]):
                    assert answer["text"] != str(original["text"]).strip(), (language, mine["id"], original["text"])
                    assert answer["feedback"] != original["feedback"].strip(), (language, mine["id"])
                    assert answer["correct"] == original["correct"]
