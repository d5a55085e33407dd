"""The chapter quiz banks for learning platforms: Moodle XML and IMS QTI 2.1 content packages.

    from exercises.quiz_export import export_quizzes
    export_quizzes(["ch01", "ch02"], "moodle", "out/")   # out/ch01_moodle.xml, out/ch02_moodle.xml
    export_quizzes(None, "qti", "out/")                  # out/ch01_qti.zip ... out/ch08_qti.zip

The banks are read by `exercises.quizzes.load_quiz`, the loader the book's quizzes use, so a platform's quiz and
the book's quiz cannot differ. Every file is written whole or not at all (a temporary file beside it, then a
rename), and every bank is read and converted before the first file is written: a bad chapter writes nothing.
"""

from __future__ import annotations

import html
import io
import os
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from simulations.errors import BadInput, OutputError

from .quizzes import list_quizzes, load_quiz, quiz_path

FORMATS = ("moodle", "qti")
QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI_SCHEMA = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
CP_SCHEMA = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# Moodle accepts only these grade fractions (question/format/xml imports match them against
# question_bank::fraction_options_full()); a 'many' question's shares must land on one of them.
MOODLE_FRACTIONS = (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667,
                    14.28571, 12.5, 11.11111, 10, 5, 0)


# ---------------------------------------------------------------------------------------------- fractions
def moodle_fraction(share: float) -> str:
    """A percentage as Moodle writes it ('33.33333'), checked against the fractions Moodle allows."""
    for allowed in MOODLE_FRACTIONS:
        if abs(abs(share) - allowed) < 1e-4:
            text = f"{allowed:.7g}"
            return text if share >= 0 or allowed == 0 else "-" + text
    raise ValueError(f"{share:.5f}% is not one of Moodle's grade fractions")


def answer_fractions(question: dict) -> list[str]:
    """Moodle fractions of a question's answers: single, 100 and 0; many, the correct answers share 100 and the
    wrong ones share -100, so ticking every box scores nothing (Moodle floors a question's grade at 0)."""
    answers = question["answers"]
    if question["type"] == "single":
        return ["100" if a["correct"] else "0" for a in answers]
    right = sum(a["correct"] for a in answers)
    wrong = len(answers) - right
    return [moodle_fraction(100 / right) if a["correct"] else moodle_fraction(-100 / wrong) for a in answers]


# ---------------------------------------------------------------------------------------------- Moodle XML
def _text_element(parent, tag: str, text: str, fmt: str = "html"):
    """<tag format="html"><text>&lt;p&gt;...&lt;/p&gt;</text></tag>: the bank's plain text as one HTML paragraph.
    The text is HTML-escaped once for the platform, and ElementTree escapes it again for the XML."""
    element = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(element, "text").text = f"<p>{html.escape(text, quote=False)}</p>" if fmt == "html" else text
    return element


def to_moodle_xml(banks: list[dict]) -> str:
    """Banks as one Moodle XML <quiz>: a category per chapter, then its multichoice questions."""
    quiz = ET.Element("quiz")
    for bank in banks:
        category = ET.SubElement(quiz, "question", {"type": "category"})
        _text_element(category, "category", f"$course$/Loyalty Lab/{bank['chapter']} {bank['title']}", fmt=None)
        for question in bank["questions"]:
            _moodle_question(quiz, question)
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"


def _moodle_question(quiz, question: dict) -> None:
    element = ET.SubElement(quiz, "question", {"type": "multichoice"})
    _text_element(element, "name", f"{question['id']}: {question['concept']}", fmt=None)
    _text_element(element, "questiontext", question["question"])
    # no <generalfeedback>: the bank explains each answer (<feedback> below), not the question as a whole
    ET.SubElement(element, "defaultgrade").text = "1"
    ET.SubElement(element, "penalty").text = "0"
    ET.SubElement(element, "hidden").text = "0"
    ET.SubElement(element, "idnumber").text = question["id"]
    ET.SubElement(element, "single").text = "true" if question["type"] == "single" else "false"
    ET.SubElement(element, "shuffleanswers").text = "true"
    ET.SubElement(element, "answernumbering").text = "abc"
    for answer, fraction in zip(question["answers"], answer_fractions(question)):
        option = _text_element(element, "answer", answer["text"])
        option.set("fraction", fraction)
        _text_element(option, "feedback", answer["feedback"])
    tag = ET.SubElement(ET.SubElement(element, "tags"), "tag")  # the concept, so a teacher can filter by it
    ET.SubElement(tag, "text").text = question["concept"]


# ---------------------------------------------------------------------------------------------- QTI 2.1
def choice_id(index: int) -> str:
    return f"choice_{chr(ord('A') + index)}"


def to_qti_item(question: dict) -> str:
    """One question as a QTI 2.1 assessmentItem: a choiceInteraction, its correct response, a score of 1 or 0
    (all right answers and no wrong one), and each choice's feedback shown inline when it was chosen."""
    many = question["type"] == "many"
    cardinality = "multiple" if many else "single"
    ET.register_namespace("", QTI_NS)
    q = lambda tag: f"{{{QTI_NS}}}{tag}"  # noqa: E731 - a qualified tag name
    item = ET.Element(q("assessmentItem"), {
        f"{{{XSI}}}schemaLocation": f"{QTI_NS} {QTI_SCHEMA}", "identifier": question["id"],
        "title": f"{question['id']}: {question['concept']}", "adaptive": "false", "timeDependent": "false"})
    declaration = ET.SubElement(item, q("responseDeclaration"),
                                {"identifier": "RESPONSE", "cardinality": cardinality, "baseType": "identifier"})
    correct = ET.SubElement(declaration, q("correctResponse"))
    for index, answer in enumerate(question["answers"]):
        if answer["correct"]:
            ET.SubElement(correct, q("value")).text = choice_id(index)
    score = ET.SubElement(item, q("outcomeDeclaration"), {"identifier": "SCORE", "cardinality": "single", "baseType": "float"})
    ET.SubElement(ET.SubElement(score, q("defaultValue")), q("value")).text = "0"
    ET.SubElement(item, q("outcomeDeclaration"), {"identifier": "FEEDBACK", "cardinality": cardinality, "baseType": "identifier"})
    body = ET.SubElement(item, q("itemBody"))
    interaction = ET.SubElement(body, q("choiceInteraction"), {
        "responseIdentifier": "RESPONSE", "shuffle": "true", "maxChoices": "0" if many else "1"})
    ET.SubElement(interaction, q("prompt")).text = question["question"]
    for index, answer in enumerate(question["answers"]):
        choice = ET.SubElement(interaction, q("simpleChoice"), {"identifier": choice_id(index)})
        choice.text = answer["text"] + " "
        ET.SubElement(choice, q("feedbackInline"), {"outcomeIdentifier": "FEEDBACK", "identifier": choice_id(index),
                                                   "showHide": "show"}).text = answer["feedback"]
    _qti_response_processing(ET.SubElement(item, q("responseProcessing")), q)
    ET.indent(item)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(item, encoding="unicode") + "\n"


def _qti_response_processing(processing, q) -> None:
    """SCORE = 1 when the response matches the correct one exactly, else 0; FEEDBACK = the choices made."""
    condition = ET.SubElement(processing, q("responseCondition"))
    when = ET.SubElement(condition, q("responseIf"))
    match = ET.SubElement(when, q("match"))
    ET.SubElement(match, q("variable"), {"identifier": "RESPONSE"})
    ET.SubElement(match, q("correct"), {"identifier": "RESPONSE"})
    ET.SubElement(ET.SubElement(when, q("setOutcomeValue"), {"identifier": "SCORE"}), q("baseValue"),
                  {"baseType": "float"}).text = "1"
    otherwise = ET.SubElement(condition, q("responseElse"))
    ET.SubElement(ET.SubElement(otherwise, q("setOutcomeValue"), {"identifier": "SCORE"}), q("baseValue"),
                  {"baseType": "float"}).text = "0"
    ET.SubElement(ET.SubElement(processing, q("setOutcomeValue"), {"identifier": "FEEDBACK"}), q("variable"),
                  {"identifier": "RESPONSE"})


def to_qti_manifest(bank: dict) -> str:
    """The IMS Content Packaging manifest listing one QTI 2.1 item resource per question."""
    ET.register_namespace("", CP_NS)
    c = lambda tag: f"{{{CP_NS}}}{tag}"  # noqa: E731
    manifest = ET.Element(c("manifest"), {"identifier": f"loyalty_lab_{bank['chapter']}",
                                          f"{{{XSI}}}schemaLocation": f"{CP_NS} {CP_SCHEMA}"})
    metadata = ET.SubElement(manifest, c("metadata"))
    ET.SubElement(metadata, c("schema")).text = "QTIv2.1 Package"
    ET.SubElement(metadata, c("schemaversion")).text = "1.0.0"
    ET.SubElement(manifest, c("organizations"))
    resources = ET.SubElement(manifest, c("resources"))
    for question in bank["questions"]:
        href = f"items/{question['id']}.xml"
        resource = ET.SubElement(resources, c("resource"), {"identifier": f"res_{question['id']}",
                                                            "type": "imsqti_item_xmlv2p1", "href": href})
        ET.SubElement(resource, c("file"), {"href": href})
    ET.indent(manifest)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(manifest, encoding="unicode") + "\n"


def to_qti_package(bank: dict) -> bytes:
    """A bank as a zipped QTI 2.1 content package: imsmanifest.xml and items/<id>.xml per question."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("imsmanifest.xml", to_qti_manifest(bank))
        for question in bank["questions"]:
            package.writestr(f"items/{question['id']}.xml", to_qti_item(question))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- files
def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Whole or not at all: a temporary file in the same folder, renamed into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _chapters(chapters) -> list[str]:
    """The chapters asked for, checked before anything is written; all of them when none is named."""
    if not chapters:
        return list_quizzes()
    known = list_quizzes()
    found = []
    for chapter in chapters:
        try:
            found.append(quiz_path(chapter).stem)
        except ValueError:
            raise BadInput("--chapter", chapter, "has no quiz bank", f"one of {', '.join(known)}") from None
    return list(dict.fromkeys(found))


def exported_files(chapters, fmt: str) -> dict[str, bytes]:
    """File name -> contents for the chapters in `fmt` ('moodle': chNN_moodle.xml, 'qti': chNN_qti.zip)."""
    if fmt not in FORMATS:
        raise BadInput("--format", fmt, "is not a quiz export format", " or ".join(FORMATS))
    banks = [load_quiz(chapter) for chapter in _chapters(chapters)]
    if fmt == "moodle":
        return {f"{b['chapter']}_moodle.xml": to_moodle_xml([b]).encode("utf-8") for b in banks}
    return {f"{b['chapter']}_qti.zip": to_qti_package(b) for b in banks}


def export_quizzes(chapters, fmt: str, out) -> list[Path]:
    """Write the chapters' banks in `fmt` to the folder `out` (created if need be); returns the files written.

    Every bank is converted first, so a bad chapter or format writes nothing; each file is then replaced whole,
    so a failure part-way leaves every file in `out` either as it was or complete."""
    files = exported_files(chapters, fmt)
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(folder, "is a file or lies under one", "a folder, or a path where one can be made") from None
    except OSError as err:
        raise OutputError(folder, f"cannot be created ({err.strerror or err})", "a place you can write to") from None
    if not os.access(folder, os.W_OK):
        raise OutputError(folder, "is not writable", "a folder you can write to")
    written = []
    for name, data in files.items():
        _atomic_write_bytes(folder / name, data)
        written.append(folder / name)
    return written
