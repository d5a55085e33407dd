"""Every chapter has the shape the course promises a reader (issue 4), and every glossary term is used.

Checked on the MyST sources, so it runs in a second: learning objectives at the top; `## Key points` with a
bulleted list, then `## Exercises`, then `## Quiz`; at least two gated exercises, each with a solution; a quiz
of at least six questions shown with `show_quiz`; at least two named figures, each cross-referenced.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from conftest import BOOK, ROOT, is_myst_notebook, toc_pages
from exercises import load_quiz

MIN_EXERCISES, MIN_QUESTIONS, MIN_FIGURES = 2, 6, 2
# Labels a reader never sees keep the prefix they were written with in the two chapters renumbered by issue 17 (the
# competition chapter was file ch08, the capstone ch07); book/AUTHORING.md says so. Every new label uses the chapter's id.
LABEL_PREFIX = {"ch07": "ch08", "ch08": "ch07"}
# Every chapter in reading order, as _toc.yml lists them: file chNN is chapter NN (the capstone, ch08, is last).
CHAPTERS = [page for page in toc_pages() if re.fullmatch(r"book/ch\d\d_\w+", page)]


def test_every_chapter_is_in_the_reading_order_and_the_capstone_is_last():
    assert [chapter_id(page) for page in CHAPTERS] == [f"ch{n:02d}" for n in range(1, 9)]  # file number = chapter number
    assert CHAPTERS[-1] == "book/ch08_capstone" and CHAPTERS[-2] == "book/ch07_competing_for_customers"


def source(page: str) -> str:
    return (ROOT / f"{page}.md").read_text(encoding="utf-8")


def chapter_id(page: str) -> str:
    return page.split("/")[-1][:4]


def headings(text: str) -> list[str]:
    """Level-two headings outside fenced blocks (code cells, directives), in order."""
    found, fence = [], None
    for line in text.splitlines():
        run = re.match(r"^(`{3,}|~{3,})", line.strip())
        if fence is None and run:
            fence = run.group(1)
        elif fence is not None and run and line.strip() == run.group(1) and run.group(1).startswith(fence):
            fence = None
        elif fence is None and line.startswith("## "):
            found.append(line[3:].strip())
    return found


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_is_a_myst_notebook(page):
    assert is_myst_notebook(ROOT / f"{page}.md"), f"{page}.md has no kernelspec in its front matter"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_opens_with_learning_objectives(page):
    text = source(page)
    match = re.search(r"```\{admonition\} Learning objectives\s*\n:class: tip\s*\n(.*?)\n```", text, re.S)
    assert match, f"{page}: no '{{admonition}} Learning objectives' block with ':class: tip'"
    assert re.search(r"^\s*[-*] \S", match.group(1), re.M), f"{page}: the learning objectives are not a list"
    first_section = text.find("\n## ")
    assert first_section == -1 or match.start() < first_section, f"{page}: objectives must come before the sections"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_ends_with_key_points_exercises_and_quiz(page):
    text, names = source(page), headings(source(page))
    for required in ("Key points", "Exercises", "Quiz"):
        assert required in names, f"{page}: no '## {required}' section (sections: {names})"
    assert names[-3:] == ["Key points", "Exercises", "Quiz"], f"{page}: the chapter must end with Key points, " \
                                                              f"Exercises, Quiz (sections: {names})"
    key_points = text.split("\n## Key points", 1)[1].split("\n## ", 1)[0]
    assert len(re.findall(r"^[-*] \S", key_points, re.M)) >= 3, f"{page}: Key points needs a bulleted list (3+ items)"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_has_gated_exercises_with_solutions(page):
    text, chapter = source(page), chapter_id(page)
    prefix = LABEL_PREFIX.get(chapter, chapter)
    labels = re.findall(r"```\{exercise-start\}\s*\n:label: (\S+)", text)
    assert len(labels) >= MIN_EXERCISES, f"{page}: {len(labels)} exercises, at least {MIN_EXERCISES} needed"
    for label in labels:
        assert re.fullmatch(rf"{prefix}_ex\d+", label), f"{page}: exercise label {label!r} must be {prefix}_ex<k>"
        assert re.search(rf"```\{{solution-start\}} {label}\s*\n:class: dropdown", text), \
            f"{page}: exercise {label} has no solution-start with ':class: dropdown'"
    assert text.count("{exercise-start}") == text.count("{exercise-end}")
    assert text.count("{solution-start}") == text.count("{solution-end}")


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_shows_its_quiz(page):
    text, chapter = source(page), chapter_id(page)
    assert f'show_quiz("{chapter}")' in text, f'{page}: no show_quiz("{chapter}") cell'
    quiz_section = text.split("\n## Quiz", 1)[-1]
    assert f'show_quiz("{chapter}")' in quiz_section, f"{page}: the quiz belongs in the '## Quiz' section"
    questions = load_quiz(chapter)["questions"]
    assert len(questions) >= MIN_QUESTIONS, f"{chapter}: {len(questions)} questions, at least {MIN_QUESTIONS} needed"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_has_named_figures_that_the_text_refers_to(page):
    text, chapter = source(page), chapter_id(page)
    prefix = LABEL_PREFIX.get(chapter, chapter)
    names = re.findall(r"^\s*name: (fig-\S+)", text, re.M)
    assert len(names) >= MIN_FIGURES, f"{page}: {len(names)} named figures, at least {MIN_FIGURES} needed"
    for name in names:
        assert name.startswith(f"fig-{prefix}-"), f"{page}: figure {name!r} must be named fig-{prefix}-..."
        assert f"{{numref}}`{name}`" in text, f"{page}: figure {name} is never referred to with {{numref}}"


def test_figure_names_are_unique_in_the_book():
    names = Counter(name for page in toc_pages() if (ROOT / f"{page}.md").exists()
                    for name in re.findall(r"^\s*name: (fig-\S+)", source(page), re.M))
    assert not [n for n, count in names.items() if count > 1], f"figure names used twice: {names}"


# ------------------------------------------------------------------------------------------ glossary
def glossary_entries() -> list[list[str]]:
    """The glossary's entries; each is the list of its names (an entry can have two, e.g. NPS)."""
    text = (BOOK / "appendix" / "glossary.md").read_text(encoding="utf-8")
    body = re.search(r"```\{glossary\}\n(.*?)\n```", text, re.S).group(1)
    entries, current = [], None
    for line in body.splitlines():
        if not line.strip() or line.startswith(":"):
            current = None if not line.strip() else current
            continue
        if line[0].isspace():
            current = None
            continue
        if current is None:
            current = []
            entries.append(current)
        current.append(line.strip())
    return entries


def linked_terms() -> set[str]:
    """Every {term} target used on a page of the book other than the glossary, lower-cased."""
    targets = set()
    for page in toc_pages():
        path = ROOT / f"{page}.md"
        if page.endswith("appendix/glossary") or not path.exists():
            continue
        for role in re.findall(r"\{term\}`([^`]+)`", path.read_text(encoding="utf-8")):
            explicit = re.search(r"<([^>]+)>\s*$", role)
            targets.add(" ".join((explicit.group(1) if explicit else role).split()).lower())
    return targets


def test_glossary_has_the_course_terms():
    names = {name.lower() for entry in glossary_entries() for name in entry}
    for term in ("customer pyramid", "platinum", "wheel of loyalty", "loyalty ladder", "churn", "zone of affection"):
        assert term in names


def test_every_glossary_term_is_linked_from_some_page():
    used = linked_terms()
    unused = [" / ".join(entry) for entry in glossary_entries() if not any(n.lower() in used for n in entry)]
    assert not unused, f"{len(unused)} glossary terms are linked from no page: {unused}"


# ------------------------------------------------------------------------------------------ the instructor's commands
def instructor_commands() -> list[tuple[str, str]]:
    """Every `loyalty-lab ...` line in a text block of the instructor guide, with its page (comments after # dropped)."""
    found = []
    for path in sorted((BOOK / "instructor").glob("*.md")):
        blocks = re.findall(r"```text\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
        text = "\n".join(blocks).replace("\\\n", " ")
        found += [(path.stem, line.split(" #")[0].strip()) for line in text.splitlines() if line.startswith("loyalty-lab ")]
    return found


def test_the_instructor_guide_plans_the_game_with_commands_that_exist():
    """The session plans and the walk-through type only commands and options the command line accepts (parsed, not run)."""
    import shlex

    from simulations.cli import build_parser

    commands = instructor_commands()
    used = {command.split()[1] + (" " + command.split()[2] if command.split()[1] == "game" else "") for _, command in commands}
    assert {"game new", "game play", "game status", "check"} <= used
    parser = build_parser()
    for page, command in commands:
        try:
            parser.parse_args(shlex.split(command)[1:])
        except SystemExit:
            pytest.fail(f"{page}.md: {command!r} is not a valid loyalty-lab command")


# ------------------------------------------------------------------------------------------ reading order, figures
def test_each_lab_comes_right_after_its_chapter():
    pages = toc_pages()
    labs = sorted(path.stem for path in (BOOK / "labs").glob("lab*.md"))
    assert len(labs) == 7  # chapter 7 (competition) has no lab: the game of the instructor guide is its practice
    for lab in labs:
        chapter = next(page for page in CHAPTERS if chapter_id(page) == f"ch{lab[3:]}")
        assert f"book/labs/{lab}" in pages, f"{lab} is not in _toc.yml"
        assert pages.index(f"book/labs/{lab}") == pages.index(chapter) + 1, f"{lab} does not follow {chapter}: {pages}"


def figure_cells(text: str) -> list[str]:
    """The YAML header of every code cell that declares a myst-nb figure."""
    headers = re.findall(r"```\{code-cell\}[^\n]*\n---\n(.*?)\n---\n", text, re.S)
    return [header for header in headers if re.search(r"^\s*figure:", header, re.M)]


@pytest.mark.parametrize("page", [p for p in toc_pages() if (ROOT / f"{p}.md").exists()])
def test_figure_cells_hide_their_code_instead_of_removing_it(page):
    for header in figure_cells(source(page)):
        name = re.search(r"name: (\S+)", header)
        assert "hide-input" in header and "remove-input" not in header, \
            f"{page}: figure {name and name.group(1)} must be tagged hide-input (its code one click away)"


def test_the_numbers_a_page_writes_for_chapters_and_labs_are_the_reading_order():
    """'{doc}`7 Competing ... <ch07_...>`', 'chapter 8', 'Lab 8': the number written is the file's, which is the toc's."""
    pages = toc_pages()
    assert [chapter_id(page) for page in CHAPTERS] == [f"ch{n:02d}" for n in range(1, len(CHAPTERS) + 1)]
    for page in [p for p in pages if (ROOT / f"{p}.md").exists()]:
        text = source(page)
        for number, target in re.findall(r"\{doc\}`(?:[Cc]hapter )?(\d+)\b[^`<]*<(?:\.\./)?(ch\d\d)_\w+>`", text):
            assert f"ch{int(number):02d}" == target, f"{page}: chapter {number} links to {target}"
        for number, lab in re.findall(r"Lab (\d+)\b[^\n]{0,12}\{doc\}`(?:\.\./)?labs/lab(\d\d)`", text):
            assert int(number) == int(lab), f"{page}: Lab {number} links to lab{lab}"
    for lab in sorted((BOOK / "labs").glob("lab*.md")):
        title = re.search(r"^# Lab (\d+):", lab.read_text(encoding="utf-8"), re.M)
        assert title and int(title.group(1)) == int(lab.stem[3:]), f"{lab.name}: its title's number is not its file's"
    course_map = source("book/ch01_why_loyalty_pays").split("The chapters of this course follow the wheel:", 1)[1]
    listed = re.findall(r"<(ch\d\d_\w+)>", course_map.split("\n## ", 1)[0])
    assert [f"book/{name}" for name in listed] == CHAPTERS[1:], f"ch01's course map lists {listed}"
