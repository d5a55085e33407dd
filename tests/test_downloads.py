"""Downloaded notebooks run for a learner (issue 12, part 3).

The build's own checks live in code cells tagged `build-check` (book/AUTHORING.md). They run in the book build
and under nbval, are hidden from the pages, and are left out of the `.ipynb` a reader downloads
(book/_ext/loyalty_lab_html.py). The slow tests take each lab's downloadable notebook from the built HTML, change
its worked attempt to a strategy that passes (the reference strategies of tests/test_challenges.py), and run it
to the end with nbclient, in a folder of its own, as a learner would.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
from pathlib import Path

import pytest

from conftest import BOOK, BOOK_GROUP, BUILD, ROOT, book_notebooks
from test_challenges import REFERENCE

BUILD_CHECK = "build-check"
LABS = sorted((BOOK / "labs").glob("lab*.md"))
LAB_TIMEOUT = 600  # seconds per cell: a lab runs a dashboard and two challenge gradings


def page_of(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix("").as_posix()


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags") or []


def source(cell) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------- quick: the sources follow the convention
def _names(code: str, context) -> set[str]:
    """Names a cell binds (context ast.Store) or reads (ast.Load); IPython magics are skipped."""
    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, context):
            found.add(node.id)
        elif context is ast.Store and isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif context is ast.Store and isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return found


@pytest.mark.parametrize("path", book_notebooks(), ids=page_of)
def test_nothing_after_a_build_check_needs_it(path):
    """A download without its build checks still runs: no later cell reads a name that only a check defined."""
    import jupytext

    only_in_checks: set[str] = set()
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        bound = _names(cell.source, ast.Store)
        if BUILD_CHECK in tags(cell):
            only_in_checks |= bound
            continue
        needed = (_names(cell.source, ast.Load) & only_in_checks) - bound
        assert not needed, f"{page_of(path)}: a cell reads {sorted(needed)}, defined only in a build-check cell:\n" \
                           f"{cell.source[:300]}"
        only_in_checks -= bound


def test_every_lab_keeps_its_checks_in_build_check_cells():
    """The labs' assertions are the ones that broke learners: none may sit in a cell that ships."""
    import jupytext

    for path in LABS:
        for cell in jupytext.read(path).cells:
            if cell.cell_type == "code" and BUILD_CHECK not in tags(cell):
                assert not re.search(r"^\s*assert\b", cell.source, re.M), \
                    f"{page_of(path)}: an assert in a cell that ships in the download:\n{cell.source[:300]}"


def test_the_extension_drops_exactly_the_build_check_cells():
    import sys

    sys.path.insert(0, str(BOOK / "_ext"))
    from loyalty_lab_html import without_build_checks

    hidden = "x = 1\nassert x == 2, (\n    'a claim')\nfor i in range(2):\n    assert i < 5\ny = x"
    notebook = {"cells": [{"cell_type": "code", "metadata": {"tags": ["build-check"]}, "source": "assert False"},
                          {"cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "source": hidden},
                          {"cell_type": "code", "metadata": {}, "source": "assert x == 1"},
                          {"cell_type": "markdown", "metadata": {}, "source": "text"}], "metadata": {}}
    kept = without_build_checks(notebook)
    assert [c["source"] for c in kept["cells"]][1:] == ["assert x == 1", "text"] and len(notebook["cells"]) == 4
    disarmed = kept["cells"][0]["source"]
    assert "assert" not in disarmed and disarmed.startswith("x = 1\npass") and disarmed.endswith("y = x")
    scope = {}
    exec(disarmed, scope)  # still valid Python: the glued values are computed, no claim can stop it
    assert scope["y"] == 1


# ------------------------------------------------------------------------- slow: the built book's downloads
def downloaded(built_book, page: str) -> dict:
    return read_notebook(built_book.html / "_sources" / f"{page}.ipynb")


def executed(page: str) -> dict:
    return read_notebook(BUILD / "jupyter_execute" / f"{page}.ipynb")


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
@pytest.mark.parametrize("path", book_notebooks(), ids=page_of)
def test_download_is_the_executed_notebook_without_its_build_checks(built_book, path):
    page = page_of(path)
    full, offered = executed(page), downloaded(built_book, page)
    checks = [cell for cell in full["cells"] if BUILD_CHECK in tags(cell)]
    assert not [cell for cell in offered["cells"] if BUILD_CHECK in tags(cell)], f"{page}: build checks shipped"
    sys.path.insert(0, str(BOOK / "_ext"))
    from loyalty_lab_html import without_claims

    expected = [without_claims(source(cell)) if "remove-cell" in tags(cell) and cell["cell_type"] == "code" else source(cell)
                for cell in full["cells"] if BUILD_CHECK not in tags(cell)]
    assert expected == [source(cell) for cell in offered["cells"]], f"{page}: the download is not the page's notebook"
    code = [cell for cell in offered["cells"] if cell["cell_type"] == "code"]
    assert not code or any(cell.get("outputs") for cell in code), f"{page}: the download has no outputs"
    mode = (built_book.html / "_sources" / f"{page}.ipynb").stat().st_mode
    assert mode & 0o044 == 0o044, f"{page}.ipynb is not readable by a web server (mode {oct(mode)})"
    html = (built_book.html / f"{page}.html").read_text(encoding="utf-8")
    assert "tag_build-check" not in html, f"{page}: a build-check cell is shown on the page"
    if path in LABS:
        assert checks, f"{page}: the lab has no build-check cell (its checks ship to learners?)"


def with_passing_attempt(notebook: dict) -> tuple[dict, str]:
    """The notebook with its worked attempt (`attempt = grade(...)`) changed to the challenge's reference strategy."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        code = source(cell)
        if cell["cell_type"] != "code" or "attempt = grade(" not in code:
            continue
        tree = ast.parse(code)
        assign = next(node for node in tree.body if isinstance(node, ast.Assign)
                      and getattr(node.targets[0], "id", None) == "attempt")
        challenge_id = ast.literal_eval(assign.value.args[0])
        lines = code.splitlines()
        edited = f"attempt = grade({challenge_id!r}, {REFERENCE[challenge_id]!r})"
        cell["source"] = "\n".join(lines[:assign.lineno - 1] + [edited] + lines[assign.end_lineno:])
        cell["outputs"], cell["execution_count"] = [], None
        return notebook, challenge_id
    raise AssertionError("no worked attempt (`attempt = grade(...)`) in the notebook")


def run_as_a_learner(notebook: dict, folder: Path):
    import nbformat
    from nbclient import NotebookClient

    node = nbformat.reads(json.dumps(notebook), as_version=4)  # as a file would be read: sources joined
    NotebookClient(node, timeout=LAB_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return node


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
@pytest.mark.parametrize("path", LABS, ids=page_of)
def test_downloaded_lab_runs_to_the_end_after_a_passing_edit(built_book, path, tmp_path):
    notebook, challenge_id = with_passing_attempt(downloaded(built_book, page_of(path)))
    done = run_as_a_learner(notebook, tmp_path)  # raises CellExecutionError on any failing cell
    attempt_cell = next(cell for cell in done.cells if "attempt = grade(" in cell.source)
    shown = json.dumps(attempt_cell.outputs)
    assert "Passed" in shown, f"{challenge_id}: the reference strategy did not pass: {shown[:500]}"
    assert done.cells[-1].outputs, "the last cell (the challenge form) showed nothing"


@pytest.mark.slow
@pytest.mark.xdist_group(BOOK_GROUP)
def test_with_the_build_checks_the_same_edit_would_fail(built_book, tmp_path):
    """The control: the build's own notebook, edited the same way, stops at a check (what learners used to hit)."""
    from nbclient.exceptions import CellExecutionError

    notebook, _ = with_passing_attempt(executed(page_of(LABS[0])))
    with pytest.raises(CellExecutionError, match="AssertionError"):
        run_as_a_learner(notebook, tmp_path)
