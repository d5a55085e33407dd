"""The quiz banks exported for learning platforms (`loyalty-lab quizzes export`): Moodle XML and QTI 2.1 packages.

No XSD validator is installed (no lxml, no xmlschema), so the files are parsed back with the standard library's
XML parser and read the way each importer reads them: Moodle's question/format/xml importer (a <quiz> of
<question type=...>, multichoice with <single>, answers with a `fraction` from Moodle's grade list) and a QTI 2.1
package (imsmanifest.xml resources of type imsqti_item_xmlv2p1, each an assessmentItem with a choiceInteraction
whose correctResponse names declared choices). Every count is compared with the YAML source.
"""

from __future__ import annotations

import html
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from exercises.quiz_export import (CP_NS, MOODLE_FRACTIONS, QTI_NS, answer_fractions, export_quizzes, moodle_fraction,
                                   to_moodle_xml, to_qti_item)
from exercises.quizzes import list_quizzes, load_quiz
from simulations.cli import main

CHAPTERS = list_quizzes()
QTI = f"{{{QTI_NS}}}"
CP = f"{{{CP_NS}}}"


def _plain(element) -> str:
    """The bank's text back from a Moodle <text> holding one escaped HTML paragraph."""
    text = element.find("text").text
    assert text.startswith("<p>") and text.endswith("</p>"), text
    return html.unescape(text[3:-4])


def _moodle_questions(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "quiz"
    kinds = [q.get("type") for q in root.findall("question")]
    assert kinds[0] == "category" and set(kinds[1:]) == {"multichoice"}
    return root.findall("question[@type='multichoice']")


# ---------------------------------------------------------------------------------------------- Moodle
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_moodle_export_matches_the_bank(chapter, tmp_path):
    bank = load_quiz(chapter)
    (path,) = export_quizzes([chapter], "moodle", tmp_path)
    questions = _moodle_questions(path)
    assert len(questions) == len(bank["questions"])
    for element, question in zip(questions, bank["questions"]):
        assert element.findtext("idnumber") == question["id"]
        assert element.find("questiontext").get("format") == "html"
        assert _plain(element.find("questiontext")) == question["question"]
        assert element.findtext("single") == ("true" if question["type"] == "single" else "false")
        answers = element.findall("answer")
        assert [_plain(a) for a in answers] == [a["text"] for a in question["answers"]]
        assert [_plain(a.find("feedback")) for a in answers] == [a["feedback"] for a in question["answers"]]
        fractions = [float(a.get("fraction")) for a in answers]
        # Moodle refuses a fraction that is not in its grade list (match_grade_options, 'error' mode)
        assert all(any(abs(abs(f) - allowed) < 1e-4 for allowed in MOODLE_FRACTIONS) for f in fractions)
        right = [f for f, a in zip(fractions, question["answers"]) if a["correct"]]
        wrong = [f for f, a in zip(fractions, question["answers"]) if not a["correct"]]
        assert len(right) == sum(a["correct"] for a in question["answers"])
        assert all(f > 0 for f in right) and abs(sum(right) - 100) < 1e-3
        if question["type"] == "single":
            assert wrong and all(f == 0 for f in wrong)
        else:  # ticking every box must not earn marks
            assert all(f < 0 for f in wrong) and abs(sum(wrong) + 100) < 1e-3


def test_moodle_text_is_escaped_and_survives_a_round_trip():
    question = {"id": "ch99_q1", "concept": "escaping", "type": "single",
                "question": 'Is "A < B & C" > D? It\'s <b>bold</b>?',
                "answers": [{"text": "x < y & z", "correct": True, "feedback": "</text> ]]> &amp;"},
                            {"text": "'quoted'", "correct": False, "feedback": "no"}]}
    xml = to_moodle_xml([{"chapter": "ch99", "title": "T & <t>", "questions": [question]}])
    element = ET.fromstring(xml).find("question[@type='multichoice']")
    assert _plain(element.find("questiontext")) == question["question"]
    assert "<b>" not in element.find("questiontext/text").text  # shown as text, not as HTML
    assert _plain(element.find("answer/feedback")) == "</text> ]]> &amp;"


def test_moodle_fractions_are_from_moodles_list():
    assert moodle_fraction(100 / 3) == "33.33333" and moodle_fraction(-25) == "-25"
    with pytest.raises(ValueError):
        moodle_fraction(100 / 13)
    many = {"type": "many", "answers": [{"correct": True}] * 3 + [{"correct": False}] * 2}
    assert answer_fractions(many) == ["33.33333"] * 3 + ["-50"] * 2


# ---------------------------------------------------------------------------------------------- QTI 2.1
def _qti_items(path: Path) -> dict[str, ET.Element]:
    with zipfile.ZipFile(path) as package:
        manifest = ET.fromstring(package.read("imsmanifest.xml"))
        assert manifest.tag == f"{CP}manifest"
        resources = manifest.findall(f"{CP}resources/{CP}resource")
        assert {r.get("type") for r in resources} == {"imsqti_item_xmlv2p1"}
        assert set(package.namelist()) == {"imsmanifest.xml", *(r.get("href") for r in resources)}
        return {r.get("identifier"): ET.fromstring(package.read(r.get("href"))) for r in resources}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_qti_package_matches_the_bank(chapter, tmp_path):
    bank = load_quiz(chapter)
    (path,) = export_quizzes([chapter], "qti", tmp_path)
    assert path.name == f"{chapter}_qti.zip"
    items = list(_qti_items(path).values())
    assert len(items) == len(bank["questions"])
    for item, question in zip(items, bank["questions"]):
        assert item.tag == f"{QTI}assessmentItem" and item.get("identifier") == question["id"]
        declaration = item.find(f"{QTI}responseDeclaration")
        many = question["type"] == "many"
        assert declaration.get("cardinality") == ("multiple" if many else "single")
        interaction = item.find(f"{QTI}itemBody/{QTI}choiceInteraction")
        assert interaction.get("responseIdentifier") == declaration.get("identifier")
        assert interaction.get("maxChoices") == ("0" if many else "1")
        assert interaction.findtext(f"{QTI}prompt") == question["question"]
        choices = interaction.findall(f"{QTI}simpleChoice")
        assert [c.text.strip() for c in choices] == [a["text"] for a in question["answers"]]
        assert [c.findtext(f"{QTI}feedbackInline") for c in choices] == [a["feedback"] for a in question["answers"]]
        correct = [v.text for v in declaration.findall(f"{QTI}correctResponse/{QTI}value")]
        expected = [c.get("identifier") for c, a in zip(choices, question["answers"]) if a["correct"]]
        assert correct == expected and len(correct) == sum(a["correct"] for a in question["answers"])
        outcomes = {o.get("identifier") for o in item.findall(f"{QTI}outcomeDeclaration")}
        assert {"SCORE", "FEEDBACK"} <= outcomes
        assert item.find(f"{QTI}responseProcessing/{QTI}responseCondition") is not None


def test_qti_text_is_escaped():
    question = {"id": "ch99_q1", "concept": "a & b", "type": "many", "question": 'Select all that apply: "<" & ">"',
                "answers": [{"text": "<a>", "correct": True, "feedback": "&lt;"},
                            {"text": "b & c", "correct": True, "feedback": "ok"}]}
    item = ET.fromstring(to_qti_item(question))
    assert item.findtext(f"{QTI}itemBody/{QTI}choiceInteraction/{QTI}prompt") == question["question"]
    assert item.get("title") == "ch99_q1: a & b"


# ---------------------------------------------------------------------------------------------- the command
def test_cli_exports_every_chapter_in_both_formats(tmp_path, capsys):
    assert main(["quizzes", "export", "--format", "moodle", "--out", str(tmp_path)]) == 0
    assert main(["quizzes", "export", "--format", "QTI", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([f"{c}_moodle.xml" for c in CHAPTERS] + [f"{c}_qti.zip" for c in CHAPTERS])
    assert "Wrote to" in capsys.readouterr().out


@pytest.mark.parametrize("argv, fragments", [
    (["--format", "pdf"], ["--format", "'pdf'", "moodle or qti"]),
    (["--format", "qti", "--chapter", "ch09"], ["--chapter", "'ch09'", "ch01"]),
    (["--format", "moodle", "--chapter", "ch01", "nonsense"], ["--chapter", "'nonsense'", "ch08"]),
])
def test_cli_bad_input_is_one_line_and_writes_nothing(argv, fragments, tmp_path, capsys):
    out = tmp_path / "lms"
    assert main(["quizzes", "export", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert all(fragment in err for fragment in fragments), err
    assert not out.exists()


def test_cli_unwritable_out_is_named(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    assert main(["quizzes", "export", "--format", "moodle", "--out", str(blocker / "lms")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err and str(blocker / "lms") in err
    assert blocker.read_text() == "keep me"


def test_a_failure_part_way_leaves_earlier_files_whole(tmp_path, monkeypatch):
    """An export that fails while writing the second chapter leaves the first chapter's earlier file as it was."""
    export_quizzes(["ch01", "ch02"], "moodle", tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    import exercises.quiz_export as quiz_export

    real_replace, calls = quiz_export.os.replace, []

    def failing_replace(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(target))
        real_replace(source, target)

    monkeypatch.setattr(quiz_export.os, "replace", failing_replace)
    with pytest.raises(OSError):
        export_quizzes(["ch01", "ch02"], "moodle", tmp_path)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # no temporary file left behind, and ch02's old file intact
    for data in after.values():
        ET.fromstring(data)
